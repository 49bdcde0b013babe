//! The scenario format (TOML, `version = 1`): serde types that mirror the file (`raw`),
//! validation into a resolved `Scenario` (`resolve`, `model`), human units (`units`) and
//! distributions (`dist`). Every user mistake becomes a `ScenarioError` naming the file, the
//! line and column, the field path and a hint. The default CPQ scenario is embedded here.

pub mod budget;
pub mod dist;
pub mod model;
pub mod raw;
pub mod resolve;
pub mod units;

pub use model::*;

use std::fmt;
use std::path::Path;

/// The embedded default scenario (`workloads/cpq.toml`).
pub const DEFAULT_SCENARIO_TOML: &str = include_str!("../../workloads/cpq.toml");
/// How the embedded default is named in messages.
pub const DEFAULT_SCENARIO_NAME: &str = "<embedded workloads/cpq.toml>";

/// One step of a field path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    /// A table key.
    Key(String),
    /// An array index (0-based).
    Index(usize),
}

/// A field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Where in the document.
    pub path: Vec<PathSeg>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// A scenario that could not be loaded: names the file, position, field and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or the embedded default's name).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted field path (`keyspaces[2].ttl_ms`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Renders a field path as `keyspaces[2].ttl_ms`.
pub fn path_to_string(path: &[PathSeg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            PathSeg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

enum Node<'a> {
    Item(&'a toml_edit::Item),
    Table(&'a toml_edit::Table),
    Value(&'a toml_edit::Value),
}

impl<'a> Node<'a> {
    fn span(&self) -> Option<std::ops::Range<usize>> {
        match self {
            Node::Item(i) => i.span().or_else(|| i.as_table().and_then(|t| t.span())),
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
        }
    }

    fn child(&self, seg: &PathSeg) -> Option<Node<'a>> {
        match (self, seg) {
            (Node::Item(i), PathSeg::Key(k)) => match i {
                toml_edit::Item::Table(t) => t.get(k).map(Node::Item),
                toml_edit::Item::Value(v) => Node::Value(v).child(seg),
                _ => None,
            },
            (Node::Item(i), PathSeg::Index(n)) => match i {
                toml_edit::Item::ArrayOfTables(a) => a.get(*n).map(Node::Table),
                toml_edit::Item::Value(v) => Node::Value(v).child(seg),
                _ => None,
            },
            (Node::Table(t), PathSeg::Key(k)) => t.get(k).map(Node::Item),
            (Node::Value(toml_edit::Value::InlineTable(t)), PathSeg::Key(k)) => {
                t.get(k).map(Node::Value)
            }
            (Node::Value(toml_edit::Value::Array(a)), PathSeg::Index(n)) => {
                a.get(*n).map(Node::Value)
            }
            _ => None,
        }
    }
}

/// Finds the byte span of the deepest item of `path` present in the document.
fn locate(src: &str, path: &[PathSeg]) -> Option<std::ops::Range<usize>> {
    let doc = toml_edit::ImDocument::parse(src.to_string()).ok()?;
    let mut node = Node::Item(doc.as_item());
    let mut best = None;
    for seg in path {
        match node.child(seg) {
            Some(n) => {
                best = n.span().or(best);
                node = n;
            }
            None => break,
        }
    }
    best
}

/// Whether `span` holds byte `offset` (an empty span holds its start).
fn covers(span: Option<std::ops::Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.start <= offset && offset < s.end.max(s.start + 1))
}

/// The field path of the deepest key or value whose text holds byte `offset`: how a serde
/// error (unknown field, wrong type), which knows only a position, names its field.
fn path_at(src: &str, offset: usize) -> Option<Vec<PathSeg>> {
    let doc = toml_edit::ImDocument::parse(src.to_string()).ok()?;
    let mut path = Vec::new();
    path_in_table(doc.as_table(), offset, &mut path).then_some(path)
}

fn path_in_table(t: &toml_edit::Table, offset: usize, path: &mut Vec<PathSeg>) -> bool {
    for (k, item) in t.iter() {
        path.push(PathSeg::Key(k.to_string()));
        if covers(t.key(k).and_then(|k| k.span()), offset) || path_in_item(item, offset, path) {
            return true;
        }
        path.pop();
    }
    false
}

fn path_in_item(item: &toml_edit::Item, offset: usize, path: &mut Vec<PathSeg>) -> bool {
    match item {
        toml_edit::Item::None => false,
        toml_edit::Item::Value(v) => path_in_value(v, offset, path),
        toml_edit::Item::Table(t) => path_in_table(t, offset, path) || covers(t.span(), offset),
        toml_edit::Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                path.push(PathSeg::Index(i));
                if path_in_table(t, offset, path) || covers(t.span(), offset) {
                    return true;
                }
                path.pop();
            }
            false
        }
    }
}

fn path_in_value(v: &toml_edit::Value, offset: usize, path: &mut Vec<PathSeg>) -> bool {
    match v {
        toml_edit::Value::InlineTable(t) => {
            for (k, inner) in t.iter() {
                path.push(PathSeg::Key(k.to_string()));
                if covers(t.key(k).and_then(|k| k.span()), offset)
                    || path_in_value(inner, offset, path)
                {
                    return true;
                }
                path.pop();
            }
            covers(t.span(), offset)
        }
        toml_edit::Value::Array(a) => {
            for (i, inner) in a.iter().enumerate() {
                path.push(PathSeg::Index(i));
                if path_in_value(inner, offset, path) {
                    return true;
                }
                path.pop();
            }
            covers(a.span(), offset)
        }
        _ => covers(v.span(), offset),
    }
}

/// Whether `path` leads to a table (a `[table]`, an entry of `[[tables]]`, an inline table).
fn is_table_at(src: &str, path: &[PathSeg]) -> bool {
    let Ok(doc) = toml_edit::ImDocument::parse(src.to_string()) else {
        return false;
    };
    let mut node = Node::Item(doc.as_item());
    for seg in path {
        match node.child(seg) {
            Some(n) => node = n,
            None => return false,
        }
    }
    matches!(
        node,
        Node::Table(_)
            | Node::Item(toml_edit::Item::Table(_))
            | Node::Item(toml_edit::Item::Value(toml_edit::Value::InlineTable(_)))
            | Node::Value(toml_edit::Value::InlineTable(_))
    )
}

/// The field a serde "missing field `x`" message names.
fn missing_field_name(message: &str) -> Option<&str> {
    let rest = &message[message.find("missing field `")? + "missing field `".len()..];
    Some(&rest[..rest.find('`')?])
}

/// Parses and validates a scenario from TOML text; `file` names it in errors.
#[allow(clippy::result_large_err)] // a cold path; the error carries file, position and hint
pub fn parse(src: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let raw: raw::RawScenario = toml::from_str(src).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_col(src, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let message = e.message().trim().to_string();
        let field = match (missing_field_name(&message), e.span()) {
            // A missing field's span is the table that lacks it: name the table plus the field.
            (Some(name), Some(span)) => {
                let mut path = path_at(src, span.start).unwrap_or_default();
                // The root table has no header: its span starts at its first key.
                if !is_table_at(src, &path) {
                    path.clear();
                }
                path.push(PathSeg::Key(name.to_string()));
                Some(path_to_string(&path))
            }
            (Some(name), None) => Some(name.to_string()),
            (None, span) => span
                .and_then(|span| path_at(src, span.start))
                .filter(|p| !p.is_empty())
                .map(|p| path_to_string(&p)),
        };
        let hint = if message.contains("unknown field") {
            Some(
                "check the spelling against workloads/README.md (unknown fields are errors)"
                    .to_string(),
            )
        } else if message.contains("missing field") {
            Some("add the field; workloads/README.md lists the required ones".to_string())
        } else if message.contains("invalid type") {
            Some("check the value's type against workloads/README.md".to_string())
        } else if toml_edit::ImDocument::parse(src).is_err() {
            Some(
                "fix the TOML syntax here: strings in quotes, tables as [name], arrays of tables as [[name]]"
                    .to_string(),
            )
        } else {
            Some("see workloads/README.md for the allowed values".to_string())
        };
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            field,
            message,
            hint,
        }
    })?;
    let mut raw = raw;
    load_calibrations(&mut raw, src, file)?;
    resolve::resolve(&raw).map_err(|fe| field_error(src, file, &fe.path, fe.message, fe.hint))
}

/// A validation error at the field `path`, located in `src`.
fn field_error(
    src: &str,
    file: &str,
    path: &[PathSeg],
    message: String,
    hint: String,
) -> ScenarioError {
    let (line, column) = match locate(src, path) {
        Some(span) => {
            let (l, c) = line_col(src, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    ScenarioError {
        file: file.to_string(),
        line,
        column,
        field: Some(path_to_string(path)),
        message,
        hint: Some(hint),
    }
}

/// Reads the `calibration` file of every cluster that names one (relative to the scenario's
/// folder) into `calibration_loaded`, for `resolve` to apply.
#[allow(clippy::result_large_err)]
fn load_calibrations(
    raw: &mut raw::RawScenario,
    src: &str,
    file: &str,
) -> Result<(), ScenarioError> {
    let dir = std::path::Path::new(file)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    for (i, c) in raw.clusters.iter_mut().enumerate() {
        let Some(name) = &c.calibration else {
            continue;
        };
        let path = dir.join(name);
        let field = [
            PathSeg::Key("clusters".into()),
            PathSeg::Index(i),
            PathSeg::Key("calibration".into()),
        ];
        let fail = |message: String| {
            field_error(
                src,
                file,
                &field,
                message,
                "give a file written by `cacheplan calibrate`, relative to the scenario's folder"
                    .into(),
            )
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        let calibration = toml::from_str(&text)
            .map_err(|e| fail(format!("{}: {}", path.display(), e.message().trim())))?;
        c.calibration_loaded = Some(calibration);
    }
    Ok(())
}

/// Reads, parses and validates a scenario file.
#[allow(clippy::result_large_err)]
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let src = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.display().to_string(),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read the scenario: {e}"),
        hint: Some(
            "check the path; run `cacheplan run` with no file for the embedded default".into(),
        ),
    })?;
    parse(&src, &path.display().to_string())
}

/// The embedded default scenario, parsed.
pub fn default_scenario() -> Scenario {
    parse(DEFAULT_SCENARIO_TOML, DEFAULT_SCENARIO_NAME)
        .expect("the embedded default scenario is valid (checked by tests)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(src: &str, needle: &str) -> Option<String> {
        let offset = src.find(needle).expect("needle in source");
        path_at(src, offset).map(|p| path_to_string(&p))
    }

    #[test]
    fn positions_name_their_field() {
        let src = "version = 1\n[simulation]\nseed = -1\n[[keyspaces]]\nname = \"a\"\n\
                   [[keyspaces]]\nbursts = [ { start_ms = 1, multiplier = \"x\" } ]\n\
                   hold_ms = { dist = \"fixed\", value = \"y\" }\n";
        assert_eq!(path_of(src, "-1").as_deref(), Some("simulation.seed"));
        assert_eq!(
            path_of(src, "\"x\"").as_deref(),
            Some("keyspaces[1].bursts[0].multiplier")
        );
        assert_eq!(
            path_of(src, "\"y\"").as_deref(),
            Some("keyspaces[1].hold_ms.value")
        );
        assert_eq!(path_of(src, "name").as_deref(), Some("keyspaces[0].name"));
        assert_eq!(path_of(src, "version").as_deref(), Some("version"));
    }
}
