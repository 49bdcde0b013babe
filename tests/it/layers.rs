//! The module dependency rules of ARCHITECTURE.md ("Code map"), checked on the source: every
//! `crate::…` and `super::…` path in `src/**` (comments, strings and `#[cfg(test)]` items
//! left out) must point down the layers
//!
//! ```text
//! cli → scenario / sweep / report / replay / profile → sim → client / origin / redis / workload / metrics → engine
//! ```
//!
//! with the exceptions the code map states (the resolved scenario model is the vocabulary every
//! layer reads; `sweep` writes through `report::files` and draws with `report::charts`; the
//! recorders of `metrics` are filled by their peers), and each row's "must not" that a path
//! or a name can show (listed in [`MUST_NOT`] and [`MUST_NOT_TEXT`]). Rules about behaviour
//! (`cli` simulates nothing itself, `sweep` lets no thread count reach the output) are tested
//! by what the program does, elsewhere.

use std::path::{Path, PathBuf};

/// Layer of each top module: a module may use modules of a larger number. `test_data` is a
/// leaf every test may read.
const LAYERS: &[(&str, u8)] = &[
    ("cli", 0),
    ("scenario", 1),
    ("sweep", 1),
    ("report", 1),
    ("replay", 1),
    ("profile", 1),
    ("sim", 2),
    ("calibrate", 2),
    ("cost", 2),
    ("client", 3),
    ("origin", 3),
    ("redis", 3),
    ("workload", 3),
    ("metrics", 3),
    ("engine", 4),
    ("test_data", 5),
];

/// Edges allowed although they do not point down: (from module or `*`, path prefix).
const ALLOWED: &[(&str, &str)] = &[
    // The resolved model is what every layer reads (never the raw format: see MUST_NOT).
    ("*", "scenario"),
    // A sweep's folder is staged like every output folder, and its charts are drawn by the
    // same renderer and its CSVs by the same table writer; its analysis comes from
    // metrics::summary, never from report.
    ("sweep", "report::files"),
    ("sweep", "report::charts"),
    ("sweep", "report::csv_table"),
    // The recorders (histograms, counters) are filled where the figures happen.
    ("client", "metrics"),
    ("origin", "metrics"),
    ("redis", "metrics"),
    ("workload", "metrics"),
];

/// The code map's "must not" rules a path shows: (from module, path prefix, the rule).
const MUST_NOT: &[(&str, &str, &str)] = &[
    (
        "redis",
        "scenario",
        "redis must not know keyspaces, tenants or plans",
    ),
    (
        "redis",
        "workload",
        "redis must not know keyspaces, tenants or plans",
    ),
    ("client", "redis", "client must not touch shards"),
    ("client", "engine::queue", "client must not schedule events"),
    ("origin", "redis", "origin must not know about caches"),
    ("origin", "client", "origin must not know about caches"),
    ("origin", "replay", "origin must not know about caches"),
    ("workload", "redis", "workload must not simulate"),
    ("workload", "origin", "workload must not simulate"),
    ("workload", "client", "workload must not simulate"),
    ("replay", "origin", "replay must not model latency"),
    ("replay", "client", "replay must not model latency"),
    (
        "metrics",
        "report",
        "metrics must not format or write anything",
    ),
    ("report", "sim::run", "report must not run simulations"),
    (
        "sweep",
        "report::run_charts",
        "sweep takes no analysis from report",
    ),
    (
        "sweep",
        "report::tables",
        "sweep takes no analysis from report",
    ),
    (
        "sweep",
        "report::verdict",
        "sweep takes no analysis from report",
    ),
    (
        "sweep",
        "report::horizon",
        "sweep takes no analysis from report",
    ),
];

/// Modules of the core, which read the scenario only in resolved form.
const CORE: &[&str] = &[
    "sim", "client", "origin", "redis", "workload", "metrics", "engine",
];

/// The raw format and its readers, which the core must not use.
const RAW_SCENARIO: &[&str] = &[
    "scenario::raw",
    "scenario::resolve",
    "scenario::units",
    "scenario::budget",
    "scenario::parse",
    "scenario::load",
];

/// The code map's "must not" rules a name shows: (file prefix under `src/`, files exempt,
/// forbidden text, the rule).
const MUST_NOT_TEXT: &[(&str, &[&str], &str, &str)] = &[
    ("sim/", &[], "std::fs", "sim must not do IO"),
    ("sim/", &[], "std::net", "sim must not do IO"),
    ("client/", &[], "std::fs", "client must not do IO"),
    ("origin/", &[], "std::fs", "origin must not do IO"),
    ("redis/", &[], "std::fs", "redis must not do IO"),
    ("engine/", &[], "std::fs", "engine must not do IO"),
    (
        "metrics/",
        &[],
        "std::fs",
        "metrics must not write anything",
    ),
    (
        "metrics/",
        &[],
        "std::io",
        "metrics must not write anything",
    ),
    (
        "sweep/",
        &["sweep/folder.rs"],
        "std::fs",
        "sweep's only IO is sweep::folder",
    ),
    (
        "profile/",
        &[],
        "redis_client",
        "profile must not talk to a server itself",
    ),
];

/// Back-edges that exist today outside the checker's owner's area, each to be removed by the
/// change that owns it (issue #13 item 4: `client` depends on the core's own types, not on
/// the replay engine or the trace reader). A listed edge that no longer exists fails the test,
/// so the list shrinks with the code: (from module, path prefix).
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[];

/// The checker's own tests: two exceptions as the code once had.
const SAMPLE_EXCEPTIONS: &[(&str, &str)] =
    &[("client", "replay::exact"), ("client", "workload::trace")];

/// A broken rule: the file, the path it uses and why that is not allowed.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    path: String,
    rule: String,
}

/// The result of checking a source tree.
#[derive(Debug, Default)]
struct Report {
    violations: Vec<Violation>,
    /// Known exceptions no file needed any more.
    stale_exceptions: Vec<String>,
}

/// Checks `files`: (path relative to `src/`, text).
fn check(files: &[(String, String)], exceptions: &[(&str, &str)]) -> Report {
    let test_only = test_only_files(files);
    let mut report = Report::default();
    let mut used_exceptions = vec![false; exceptions.len()];
    for (file, text) in files {
        if test_only.contains(file) {
            continue;
        }
        let module = module_path(file);
        let Some(from) = module.first().cloned() else {
            continue; // lib.rs and main.rs: the crate's root wires everything
        };
        let code = without_test_items(&strip_comments_and_strings(text));
        for (needle_file, exempt, needle, rule) in MUST_NOT_TEXT {
            if file.starts_with(needle_file)
                && !exempt.contains(&file.as_str())
                && code.contains(needle)
            {
                report.violations.push(Violation {
                    file: file.clone(),
                    path: needle.to_string(),
                    rule: rule.to_string(),
                });
            }
        }
        for path in crate_paths(&code, &module) {
            let to = path.split("::").next().unwrap_or("").to_string();
            if to == from || to.is_empty() {
                continue;
            }
            if let Some(i) = exceptions
                .iter()
                .position(|&(f, p)| f == from && has_prefix(&path, p))
            {
                used_exceptions[i] = true;
                continue;
            }
            if let Some(rule) = rule_broken(&from, &to, &path) {
                report.violations.push(Violation {
                    file: file.clone(),
                    path: format!("crate::{path}"),
                    rule,
                });
            }
        }
    }
    for (i, used) in used_exceptions.into_iter().enumerate() {
        if !used {
            let (f, p) = exceptions[i];
            report.stale_exceptions.push(format!("{f} -> {p}"));
        }
    }
    report
}

/// Why `from` may not use `path` (whose top module is `to`), or `None` when it may.
fn rule_broken(from: &str, to: &str, path: &str) -> Option<String> {
    if let Some((_, _, rule)) = MUST_NOT
        .iter()
        .find(|&&(f, p, _)| f == from && has_prefix(path, p))
    {
        return Some(rule.to_string());
    }
    if CORE.contains(&from) {
        if let Some(raw) = RAW_SCENARIO.iter().find(|p| has_prefix(path, p)) {
            return Some(format!("the core reads the resolved scenario, not `{raw}`"));
        }
    }
    let (Some(rank_from), Some(rank_to)) = (layer(from), layer(to)) else {
        return Some(format!(
            "`{from}` or `{to}` has no layer: add it to LAYERS in tests/it/layers.rs and \
             to ARCHITECTURE.md"
        ));
    };
    let allowed = ALLOWED
        .iter()
        .any(|&(f, p)| (f == "*" || f == from) && has_prefix(path, p));
    (rank_to <= rank_from && !allowed)
        .then(|| format!("dependencies point down: `{from}` may not use `{to}`"))
}

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, l)| l)
}

/// Whether `path` is `prefix` or starts with `prefix::`.
fn has_prefix(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// The module path of a file: `report/charts/mod.rs` → `[report, charts]`.
fn module_path(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") || parts == ["lib"] || parts == ["main"] {
        parts.pop();
    }
    parts
}

/// Files declared as `#[cfg(test)] mod name;`: test code, free to use anything.
fn test_only_files(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, text) in files {
        let code = strip_comments_and_strings(text);
        // A child module's file sits in the directory named by the declaring module's path.
        let module = module_path(file);
        let dir = if module.is_empty() {
            String::new()
        } else {
            format!("{}/", module.join("/"))
        };
        let mut rest = code.as_str();
        while let Some(i) = rest.find("#[cfg(test)]") {
            rest = &rest[i + "#[cfg(test)]".len()..];
            let item = rest.trim_start();
            if let Some(decl) = item.strip_prefix("mod ") {
                let name: String = decl
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if decl[name.len()..].trim_start().starts_with(';') {
                    out.push(format!("{dir}{name}.rs"));
                    out.push(format!("{dir}{name}/mod.rs"));
                }
            }
        }
    }
    out
}

/// The text with comments and the contents of string and character literals blanked.
fn strip_comments_and_strings(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = j + close.len();
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' => {
                // A character literal ('x', '\n', '"'), or a lifetime ('a), kept as is.
                if b.get(i + 1) == Some(&b'\\') {
                    let mut j = i + 2;
                    while j < b.len() && b[j] != b'\'' {
                        j += 1;
                    }
                    i = j + 1;
                    out.push_str("' '");
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                    out.push_str("' '");
                } else {
                    out.push('\'');
                    i += 1;
                }
            }
            _ => {
                // Copy one UTF-8 character.
                let len = utf8_len(b[i]);
                out.push_str(&text[i..i + len]);
                i += len;
            }
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The code without the items marked `#[cfg(test)]` (an inline `mod tests { … }`, a test
/// helper function, a `use` for tests).
fn without_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let b = after.as_bytes();
        let mut j = 0;
        // Up to the item's end: a `;` before any brace, or its balanced braces.
        while j < b.len() && b[j] != b'{' && b[j] != b';' {
            j += 1;
        }
        if j < b.len() && b[j] == b'{' {
            let mut depth = 0;
            while j < b.len() {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        rest = &after[(j + 1).min(after.len())..];
    }
    out.push_str(rest);
    out
}

/// Every path into the crate the code names, as seen from `module`: `crate::a::b`,
/// `use crate::{a::b, c::{d, e}}`, `super::…` climbing out of a top module. Returned without
/// the leading `crate::`.
fn crate_paths(code: &str, module: &[String]) -> Vec<String> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let preceded = i > 0 && (is_ident(b[i - 1]) || b[i - 1] == b'$' || b[i - 1] == b':');
        if !preceded && code[i..].starts_with("crate::") {
            let (paths, end) = parse_tree(code, i + "crate::".len());
            out.extend(paths);
            i = end;
        } else if !preceded && code[i..].starts_with("super::") {
            let mut j = i;
            let mut ups = 0;
            while code[j..].starts_with("super::") {
                ups += 1;
                j += "super::".len();
            }
            let (paths, end) = parse_tree(code, j);
            // A file's `super` is its parent module (mod.rs files are their directory).
            let base = module.len().saturating_sub(ups);
            for p in paths {
                let mut full: Vec<&str> = module[..base].iter().map(String::as_str).collect();
                full.push(&p);
                out.push(full.join("::"));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Parses a use tree at `start` (`a::b`, `a::{b, c::d}`, `{a, b}`); returns its paths and the
/// position after it.
fn parse_tree(code: &str, start: usize) -> (Vec<String>, usize) {
    let b = code.as_bytes();
    let mut i = start;
    let mut prefix: Vec<String> = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'{' {
            i += 1;
            let mut paths = Vec::new();
            loop {
                while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    break;
                }
                let (sub, end) = parse_tree(code, i);
                for s in sub {
                    if s == "self" || s.is_empty() {
                        paths.push(prefix.join("::"));
                    } else if prefix.is_empty() {
                        paths.push(s);
                    } else {
                        paths.push(format!("{}::{s}", prefix.join("::")));
                    }
                }
                i = end.max(i + 1);
            }
            return (paths, i + 1);
        }
        let seg_start = i;
        while i < b.len() && (is_ident(b[i]) || b[i] == b'*') {
            i += 1;
        }
        if i > seg_start {
            prefix.push(code[seg_start..i].to_string());
        }
        if i > seg_start && code[i..].starts_with("::") {
            i += 2;
            continue;
        }
        // The path ends here; a renaming (`as name`) belongs to it.
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if code[j..].starts_with("as") && b.get(j + 2).is_some_and(|c| c.is_ascii_whitespace()) {
            i = j + 2;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
        }
        return (vec![prefix.join("::")], i);
    }
}

fn source_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            source_files(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(root).expect("under src").to_string_lossy();
            let text = std::fs::read_to_string(&p).expect("a readable source file");
            out.push((rel.replace('\\', "/"), text));
        }
    }
}

#[test]
fn the_source_follows_the_code_maps_dependency_rules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &src, &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let report = check(&files, KNOWN_EXCEPTIONS);
    let lines: Vec<String> = report
        .violations
        .iter()
        .map(|v| format!("{}: {}: {}", v.file, v.path, v.rule))
        .collect();
    assert!(lines.is_empty(), "back-edges:\n{}", lines.join("\n"));
    assert!(
        report.stale_exceptions.is_empty(),
        "known exceptions no longer needed (remove them from KNOWN_EXCEPTIONS): {:?}",
        report.stale_exceptions
    );
}

/// A synthetic crate: (path under src, text).
fn synthetic(files: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    // The known exceptions' edges, so they are not reported stale.
    v.push((
        "client/known.rs".into(),
        "use crate::replay::exact::LruCache;\nuse crate::workload::trace::TraceRequest;\n".into(),
    ));
    v
}

fn rules_broken(files: &[(&str, &str)]) -> Vec<(String, String)> {
    let report = check(&synthetic(files), SAMPLE_EXCEPTIONS);
    assert!(report.stale_exceptions.is_empty());
    report
        .violations
        .into_iter()
        .map(|v| (v.file, v.path))
        .collect()
}

#[test]
fn a_back_edge_fails_the_check() {
    // engine (the bottom layer) using redis, and metrics using report.
    assert_eq!(
        rules_broken(&[
            ("engine/queue.rs", "use crate::redis::db::Db;\n"),
            ("metrics/mod.rs", "fn f() { crate::report::tables::x(); }\n"),
            (
                "sim/mod.rs",
                "use crate::engine::SimTime;\nuse crate::metrics::PlanResult;\n"
            ),
        ]),
        vec![
            ("engine/queue.rs".into(), "crate::redis::db::Db".into()),
            ("metrics/mod.rs".into(), "crate::report::tables::x".into()),
        ]
    );
}

#[test]
fn grouped_and_super_paths_are_seen() {
    assert_eq!(
        rules_broken(&[
            (
                "client/coalesce.rs",
                "use crate::{\n    engine::SimTime,\n    sim::{Event, Sim as S},\n};\n"
            ),
            ("redis/mod.rs", "use super::scenario::Keyspace;\n"),
            (
                "redis/evict/pool.rs",
                "use super::super::super::sim::Sim;\n"
            ),
            ("redis/shard.rs", "use super::db::Db;\n"),
        ]),
        vec![
            ("client/coalesce.rs".into(), "crate::sim::Event".into()),
            ("client/coalesce.rs".into(), "crate::sim::Sim".into()),
            ("redis/mod.rs".into(), "crate::scenario::Keyspace".into()),
            ("redis/evict/pool.rs".into(), "crate::sim::Sim".into()),
        ]
    );
}

#[test]
fn must_not_rules_apply_beside_the_layers() {
    assert_eq!(
        rules_broken(&[
            // Layers allow both; the rows forbid them.
            ("client/l1.rs", "use crate::redis::shard::Shard;\n"),
            (
                "sweep/cell.rs",
                "use crate::report::run_charts::hit_ratio;\n"
            ),
            ("sim/mod.rs", "use crate::scenario::raw::RawScenario;\n"),
            (
                "sweep/tables.rs",
                "fn f() { std::fs::write(\"x\", \"\"); }\n"
            ),
            // Allowed: the model, the staging, and IO in sweep's folder module.
            ("sim/warm.rs", "use crate::scenario::{Jitter, Keyspace};\n"),
            (
                "sweep/folder.rs",
                "use crate::report::files::Staging;\nuse std::fs;\n"
            ),
        ]),
        vec![
            ("client/l1.rs".into(), "crate::redis::shard::Shard".into()),
            (
                "sweep/cell.rs".into(),
                "crate::report::run_charts::hit_ratio".into()
            ),
            (
                "sim/mod.rs".into(),
                "crate::scenario::raw::RawScenario".into()
            ),
            ("sweep/tables.rs".into(), "std::fs".into()),
        ]
    );
}

#[test]
fn comments_strings_and_test_code_are_not_dependencies() {
    assert_eq!(
        rules_broken(&[
            (
                "engine/time.rs",
                "//! See [`crate::sim`].\n/* crate::report */\nconst S: &str = \"crate::cli\";\n\
                 const R: &str = r#\"crate::sim\"#;\nconst C: char = '\"';\nfn f<'a>(x: &'a u8) {}\n\
                 #[cfg(test)]\nmod tests {\n    use crate::sim::run_all_plans;\n    fn g() { if true { } }\n}\n\
                 #[cfg(test)]\nmod more;\n"
            ),
            ("engine/time/more.rs", "use crate::cli::run;\n"),
            ("engine/rng.rs", "fn f() {}\n#[cfg(test)]\nuse crate::sim::X;\nuse crate::report::Y;\n"),
        ]),
        vec![("engine/rng.rs".into(), "crate::report::Y".into())]
    );
}

#[test]
fn an_exception_no_longer_needed_is_reported() {
    let report = check(
        &[(
            "client/mod.rs".to_string(),
            "use crate::engine::SimTime;\n".to_string(),
        )],
        SAMPLE_EXCEPTIONS,
    );
    assert!(report.violations.is_empty());
    assert_eq!(
        report.stale_exceptions,
        vec!["client -> replay::exact", "client -> workload::trace"]
    );
}

#[test]
fn an_unknown_module_must_be_given_a_layer() {
    let broken = rules_broken(&[("sim/mod.rs", "use crate::newthing::X;\n")]);
    assert_eq!(
        broken,
        vec![("sim/mod.rs".into(), "crate::newthing::X".into())]
    );
}
