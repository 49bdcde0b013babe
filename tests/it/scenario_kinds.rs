//! The scenario format's tagged kinds (strategies, faults, operations, popularity) are serde
//! enums whose variants take exactly their own fields. For each, serde itself must refuse an
//! unknown field, a field of another kind, a missing required field and an unknown kind (listing
//! the valid ones), and the message must still name the file, line, column and field, with a
//! hint: exit code 2, no panic, through both `validate` and `run`.

use crate::{arg, check_exit, check_no_panic, TempDir, TINY_SCENARIO};

/// One bad scenario: an edit of `TINY_SCENARIO`, and what the rejection must say.
struct Case {
    label: &'static str,
    edit: Edit,
    /// The text the position must point at: its first occurrence from the edited line on, or
    /// with a leading `^`, from the top of the file.
    at: &'static str,
    field: &'static str,
    message: &'static str,
    hint: &'static str,
}

enum Edit {
    /// Replace the first line that starts with this prefix by these lines.
    Replace(&'static str, &'static str),
    /// Insert these lines after the first line that starts with the prefix.
    InsertAfter(&'static str, &'static str),
    /// Append these lines.
    Append(&'static str),
}

/// The edited scenario and the 1-based line and column of `at` in it.
fn apply(case: &Case) -> (String, usize, usize) {
    let mut lines: Vec<String> = TINY_SCENARIO.lines().map(str::to_string).collect();
    let edited = match case.edit {
        Edit::Replace(prefix, text) => {
            let i = lines
                .iter()
                .position(|l| l.starts_with(prefix))
                .expect(prefix);
            lines.splice(i..=i, text.lines().map(str::to_string));
            i
        }
        Edit::InsertAfter(prefix, text) => {
            let i = lines
                .iter()
                .position(|l| l.starts_with(prefix))
                .expect(prefix);
            lines.splice(i + 1..i + 1, text.lines().map(str::to_string));
            i + 1
        }
        Edit::Append(text) => {
            let first = lines.len();
            lines.extend(text.lines().map(str::to_string));
            first
        }
    };
    let (from, at) = match case.at.strip_prefix('^') {
        Some(at) => (0, at),
        None => (edited, case.at),
    };
    let (line, column) = lines[from..]
        .iter()
        .enumerate()
        .find_map(|(i, l)| l.find(at).map(|c| (from + i + 1, c + 1)))
        .unwrap_or_else(|| panic!("{}: `{}` not in the edit", case.label, case.at));
    (lines.join("\n") + "\n", line, column)
}

fn check(case: &Case) {
    let dir = TempDir::new(case.label);
    let (toml, line, column) = apply(case);
    let file = dir.write("scenario.toml", &toml);
    for args in [
        vec!["validate", arg(&file)],
        vec!["run", arg(&file), "--out", arg(&dir.join("run")), "--quiet"],
    ] {
        let out = check_exit(&args, 2);
        check_no_panic(&out);
        let want = [
            format!("{}:{line}:{column}: ", file.display()),
            format!("field `{}`: ", case.field),
            case.message.to_string(),
            format!("hint: {}", case.hint),
        ];
        for w in want {
            assert!(
                out.stderr.contains(&w),
                "{}: want `{w}` in:\n{}",
                case.label,
                out.stderr
            );
        }
    }
    assert!(!dir.join("run").exists(), "{}: a run folder", case.label);
}

const SPELLING: &str = "check the spelling against workloads/README.md";
const REQUIRED: &str = "add the field; workloads/README.md lists the required ones";
const ALLOWED: &str = "see workloads/README.md for the allowed values";

#[test]
fn strategies_take_exactly_their_own_fields() {
    let origin = "origin = \"db\"";
    for case in [
        Case {
            label: "strategy-unknown-field",
            edit: Edit::InsertAfter(origin, "strategy = { kind = \"xfetch\", betta = 2 }"),
            at: "betta",
            field: "keyspaces[0].strategy.betta",
            message: "unknown field `betta`, expected one of `beta`, `coalesce`",
            hint: SPELLING,
        },
        Case {
            label: "strategy-other-kind",
            edit: Edit::InsertAfter(
                origin,
                "strategy = { kind = \"stale-while-revalidate\", soft_ttl_ms = \"5s\", lock_poll_ms = \"5ms\" }",
            ),
            at: "lock_poll_ms",
            field: "keyspaces[0].strategy.lock_poll_ms",
            message: "`lock_poll_ms` does not apply to kind = \"stale-while-revalidate\"",
            hint: "remove it (it belongs to kind = \"single-flight\")",
        },
        Case {
            label: "strategy-cache-aside-beta",
            edit: Edit::InsertAfter(origin, "strategy = { kind = \"cache-aside\", beta = 2 }"),
            at: "beta",
            field: "keyspaces[0].strategy.beta",
            message: "`beta` does not apply to kind = \"cache-aside\"",
            hint: "remove it (it belongs to kind = \"xfetch\")",
        },
        Case {
            label: "strategy-missing",
            edit: Edit::InsertAfter(origin, "strategy = { kind = \"stale-while-revalidate\" }"),
            at: "{",
            field: "keyspaces[0].strategy.soft_ttl_ms",
            message: "missing field `soft_ttl_ms` (kind = \"stale-while-revalidate\" needs it)",
            hint: REQUIRED,
        },
        Case {
            label: "strategy-unknown-kind",
            edit: Edit::InsertAfter(origin, "strategy = { kind = \"write-behind\" }"),
            at: "\"write-behind\"",
            field: "keyspaces[0].strategy.kind",
            message: "unknown variant `write-behind`, expected one of `cache-aside`, \
                      `single-flight`, `stale-while-revalidate`, `xfetch`",
            hint: ALLOWED,
        },
        Case {
            label: "strategy-bad-duration",
            edit: Edit::InsertAfter(
                origin,
                "strategy = { kind = \"single-flight\", lock_ttl_ms = \"soon\" }",
            ),
            at: "\"soon\"",
            field: "keyspaces[0].strategy.lock_ttl_ms",
            message: "'soon' is not a duration",
            hint: ALLOWED,
        },
    ] {
        check(&case);
    }
}

#[test]
fn operations_take_exactly_their_own_fields() {
    let op = "operation = \"read-through\"";
    for case in [
        Case {
            label: "operation-unknown-field",
            edit: Edit::InsertAfter(op, "rate_per_sec = 3"),
            at: "rate_per_sec",
            field: "keyspaces[0].rate_per_sec",
            message: "unknown field `rate_per_sec`",
            hint: SPELLING,
        },
        Case {
            label: "operation-other-kind",
            edit: Edit::InsertAfter(op, "hold_ms = { dist = \"fixed\", value = 5 }"),
            at: "hold_ms",
            field: "keyspaces[0].hold_ms",
            message: "`hold_ms` does not apply to operation = \"read-through\"",
            hint: "remove it (it belongs to operation = \"lock\")",
        },
        Case {
            label: "operation-window-on-idempotency",
            edit: Edit::Replace(op, "operation = \"idempotency\"\nwindow_ms = \"1m\""),
            at: "window_ms",
            field: "keyspaces[0].window_ms",
            message: "`window_ms` does not apply to operation = \"idempotency\"",
            hint: "remove it (it belongs to operation = \"rate-limit\")",
        },
        Case {
            label: "operation-missing",
            edit: Edit::Replace(op, "# no operation"),
            at: "^[[keyspaces]]",
            field: "keyspaces[0].operation",
            message: "missing field `operation`",
            hint: REQUIRED,
        },
        Case {
            label: "operation-unknown-kind",
            edit: Edit::Replace(op, "operation = \"queue\""),
            at: "\"queue\"",
            field: "keyspaces[0].operation",
            message: "unknown variant `queue`, expected one of `read-through`, `session`, \
                      `rate-limit`, `lock`, `idempotency`",
            hint: ALLOWED,
        },
        Case {
            label: "operation-field-wrong-type",
            edit: Edit::Replace(
                op,
                "operation = \"lock\"\nhold_ms = { dist = \"fixed\", value = \"long\" }",
            ),
            at: "\"long\"",
            field: "keyspaces[0].hold_ms.value",
            message: "invalid type: string \"long\", expected f64",
            hint: "check the value's type",
        },
    ] {
        check(&case);
    }
}

#[test]
fn popularity_takes_exactly_its_own_fields() {
    let origin = "origin = \"db\"";
    for case in [
        Case {
            label: "popularity-unknown-field",
            edit: Edit::InsertAfter(
                origin,
                "popularity = { dist = \"zipf\", alpha = 1, skew = 2 }",
            ),
            at: "skew",
            field: "keyspaces[0].popularity.skew",
            message: "unknown field `skew`, expected `alpha`",
            hint: SPELLING,
        },
        Case {
            label: "popularity-other-kind",
            edit: Edit::InsertAfter(origin, "popularity = { dist = \"uniform\", alpha = 1 }"),
            at: "alpha",
            field: "keyspaces[0].popularity.alpha",
            message: "`alpha` does not apply to dist = \"uniform\"",
            hint: "remove it (it belongs to dist = \"zipf\")",
        },
        Case {
            label: "popularity-missing",
            edit: Edit::InsertAfter(origin, "popularity = { dist = \"zipf\" }"),
            at: "{",
            field: "keyspaces[0].popularity.alpha",
            message: "missing field `alpha` (dist = \"zipf\" needs it)",
            hint: REQUIRED,
        },
        Case {
            label: "popularity-unknown-kind",
            edit: Edit::InsertAfter(origin, "popularity = { dist = \"pareto\" }"),
            at: "\"pareto\"",
            field: "keyspaces[0].popularity.dist",
            message: "unknown variant `pareto`, expected one of `zipf`, `uniform`, `hot-set`",
            hint: ALLOWED,
        },
    ] {
        check(&case);
    }
}

#[test]
fn faults_take_exactly_their_own_fields() {
    for case in [
        Case {
            label: "fault-unknown-field",
            edit: Edit::Append(
                "[[faults]]\nkind = \"shard-down\"\ncluster = \"main\"\nstart_ms = \"5s\"\nend_ms = \"8s\"\nmodus = \"timeout\"",
            ),
            at: "modus",
            field: "faults[0].modus",
            message: "unknown field `modus`, expected one of `cluster`, `shard`, `end_ms`, `mode`",
            hint: SPELLING,
        },
        Case {
            label: "fault-other-kind",
            edit: Edit::Append(
                "[[faults]]\nkind = \"shard-down\"\ncluster = \"main\"\nstart_ms = \"5s\"\nend_ms = \"8s\"\nmultiplier = 3",
            ),
            at: "multiplier",
            field: "faults[0].multiplier",
            message: "`multiplier` does not apply to kind = \"shard-down\"",
            hint: "remove it (it belongs to kind = \"shard-slow\", \"latency-spike\" or \
                   \"traffic-burst\")",
        },
        Case {
            label: "fault-failover-end",
            edit: Edit::Append(
                "[[faults]]\nkind = \"failover\"\ncluster = \"main\"\nshard = 0\nstart_ms = \"5s\"\nend_ms = \"8s\"",
            ),
            at: "end_ms",
            field: "faults[0].end_ms",
            message: "`end_ms` does not apply to kind = \"failover\"",
            hint: "remove it (it belongs to kind = \"shard-down\"",
        },
        Case {
            label: "fault-missing",
            edit: Edit::Append(
                "[[faults]]\nkind = \"shard-slow\"\ncluster = \"main\"\nstart_ms = \"5s\"\nend_ms = \"8s\"",
            ),
            at: "[[faults]]",
            field: "faults[0].multiplier",
            message: "missing field `multiplier` (kind = \"shard-slow\" needs it)",
            hint: REQUIRED,
        },
        Case {
            label: "fault-missing-cluster",
            edit: Edit::Append(
                "[[faults]]\nkind = \"cluster-restart\"\nstart_ms = \"5s\"\nend_ms = \"8s\"",
            ),
            at: "[[faults]]",
            field: "faults[0].cluster",
            message: "missing field `cluster` (kind = \"cluster-restart\" needs it)",
            hint: REQUIRED,
        },
        Case {
            label: "fault-unknown-kind",
            edit: Edit::Append(
                "[[faults]]\nkind = \"meteor\"\ncluster = \"main\"\nstart_ms = \"5s\"\nend_ms = \"8s\"",
            ),
            at: "\"meteor\"",
            field: "faults[0].kind",
            message: "unknown variant `meteor`, expected one of `shard-down`, `shard-slow`, \
                      `latency-spike`, `failover`, `cluster-restart`, `traffic-burst`, \
                      `subscriber-disconnect`",
            hint: ALLOWED,
        },
        Case {
            label: "fault-wrong-type",
            edit: Edit::Append(
                "[[faults]]\nkind = \"shard-down\"\ncluster = \"main\"\nstart_ms = \"5s\"\nend_ms = true",
            ),
            at: "true",
            field: "faults[0].end_ms",
            message: "invalid type: boolean `true`",
            hint: "check the value's type",
        },
    ] {
        check(&case);
    }
}
