//! The scenario format (TOML, `version = 1`): serde types that mirror the file (`raw`),
//! validation into a resolved `Scenario` (`resolve`, `model`), human units (`units`) and
//! distributions (`dist`), every default (`defaults`). Every user mistake becomes a
//! `ScenarioError` naming the file, the line and column (`locate`), the field path and a
//! hint. The default CPQ scenario is embedded here.

pub mod budget;
pub mod defaults;
pub mod dist;
pub mod instances;
mod locate;
pub mod model;
pub mod raw;
pub mod resolve;
pub mod units;

pub use model::*;

use locate::{
    is_table_at, kind_of_table, line_col, locate, missing_field_name, path_at,
    refine_in_tagged_table,
};
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
        let mut message = e.message().trim().to_string();
        let mut line_column = (line, column);
        let mut refined_field = None;
        let mut refined_hint = None;
        // Inside a tagged table serde reports the whole table: find the field it means.
        if let (None, Some(span)) = (missing_field_name(&message), e.span()) {
            if let Some(table) = path_at(src, span.start).filter(|p| is_table_at(src, p)) {
                if let Some(r) = refine_in_tagged_table(src, &table, &message) {
                    let (l, c) = line_col(src, r.offset);
                    line_column = (Some(l), Some(c));
                    refined_field = Some(path_to_string(&r.path));
                    message = r.message;
                    refined_hint = r.hint;
                }
            }
        }
        let (line, column) = line_column;
        let field = match (missing_field_name(&message).map(str::to_string), e.span()) {
            _ if refined_field.is_some() => refined_field,
            // A missing field's span is the table that lacks it: name the table plus the field.
            (Some(name), Some(span)) => {
                let mut path = path_at(src, span.start).unwrap_or_default();
                // The root table has no header: its span starts at its first key.
                if !is_table_at(src, &path) {
                    path.clear();
                }
                if let Some((tag, kind)) = kind_of_table(src, &path) {
                    message = format!("{message} ({tag} = \"{kind}\" needs it)");
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
        let hint = if refined_hint.is_some() {
            refined_hint
        } else if message.contains("unknown field") {
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
    load_catalogue(&mut raw, src, file)?;
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

/// Builds the scenario's instance catalogue into `raw.catalogue`: the built-in one, then each
/// `simulation.instance_catalogue` file (relative to the scenario's folder), then the inline
/// `[[instances]]`; a later entry replaces an earlier one of the same name.
#[allow(clippy::result_large_err)]
fn load_catalogue(raw: &mut raw::RawScenario, src: &str, file: &str) -> Result<(), ScenarioError> {
    let mut catalogue = instances::builtin();
    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
    for (i, name) in raw
        .simulation
        .instance_catalogue
        .iter()
        .flatten()
        .enumerate()
    {
        let field = [
            PathSeg::Key("simulation".into()),
            PathSeg::Key("instance_catalogue".into()),
            PathSeg::Index(i),
        ];
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            field_error(
                src,
                file,
                &field,
                format!("cannot read the instance catalogue {}: {e}", path.display()),
                "give a catalogue file relative to the scenario's folder".into(),
            )
        })?;
        let extra = instances::parse_catalogue(&text, &path.display().to_string())?;
        instances::overlay(&mut catalogue, extra);
    }
    let mut inline = Vec::new();
    for (i, r) in raw.instances.iter().enumerate() {
        let path = [PathSeg::Key("instances".into()), PathSeg::Index(i)];
        let inst = instances::validate(r, &path, file)
            .map_err(|fe| field_error(src, file, &fe.path, fe.message, fe.hint))?;
        if inline
            .iter()
            .any(|o: &instances::Instance| o.name == inst.name)
        {
            let mut p = path.to_vec();
            p.push(PathSeg::Key("name".into()));
            return Err(field_error(
                src,
                file,
                &p,
                format!(
                    "instance \"{}\" is defined twice in [[instances]]",
                    inst.name
                ),
                "give every entry its own name".into(),
            ));
        }
        inline.push(inst);
    }
    instances::overlay(&mut catalogue, inline);
    if catalogue.len() > instances::MAX_INSTANCES {
        return Err(field_error(
            src,
            file,
            &[
                PathSeg::Key("simulation".into()),
                PathSeg::Key("instance_catalogue".into()),
            ],
            format!(
                "{} catalogue entries is more than {}",
                catalogue.len(),
                instances::MAX_INSTANCES
            ),
            "keep only the node types you compare".into(),
        ));
    }
    raw.catalogue = catalogue;
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
