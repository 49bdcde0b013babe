//! Where in the scenario file a mistake is: byte offsets to 1-based lines and columns, field
//! paths to the spans of their keys and values (`toml_edit` spans), positions back to field
//! paths (how a serde error, which knows only a position, names its field), and serde errors
//! inside a tagged table (reported on the whole table) placed on the field they mean. Pure
//! functions of the source text; `parse` builds the `ScenarioError` from them.

use super::{raw, PathSeg};

pub(super) fn line_col(src: &str, offset: usize) -> (usize, usize) {
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
pub(super) fn locate(src: &str, path: &[PathSeg]) -> Option<std::ops::Range<usize>> {
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
pub(super) fn path_at(src: &str, offset: usize) -> Option<Vec<PathSeg>> {
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
pub(super) fn is_table_at(src: &str, path: &[PathSeg]) -> bool {
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
pub(super) fn missing_field_name(message: &str) -> Option<&str> {
    let rest = &message[message.find("missing field `")? + "missing field `".len()..];
    Some(&rest[..rest.find('`')?])
}

/// A serde error placed on the field it is about.
pub(super) struct Refined {
    pub path: Vec<PathSeg>,
    pub offset: usize,
    pub message: String,
    pub hint: Option<String>,
}

/// A key or scalar value inside a table, with where it is.
struct Entry {
    path: Vec<PathSeg>,
    key: String,
    key_start: Option<usize>,
    value_start: Option<usize>,
    /// A scalar as serde quotes it in messages: `"text"` for strings, `` `3` `` otherwise.
    quoted: Vec<String>,
    /// The string, for a string value.
    text: Option<String>,
}

fn entries_of_value(v: &toml_edit::Value, path: &mut Vec<PathSeg>, out: &mut Vec<Entry>) {
    match v {
        toml_edit::Value::InlineTable(t) => {
            for (k, inner) in t.iter() {
                path.push(PathSeg::Key(k.to_string()));
                push_entry(k, t.key(k).and_then(|k| k.span()), inner, path, out);
                entries_of_value(inner, path, out);
                path.pop();
            }
        }
        toml_edit::Value::Array(a) => {
            for (i, inner) in a.iter().enumerate() {
                path.push(PathSeg::Index(i));
                entries_of_value(inner, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn push_entry(
    key: &str,
    key_span: Option<std::ops::Range<usize>>,
    v: &toml_edit::Value,
    path: &[PathSeg],
    out: &mut Vec<Entry>,
) {
    let (quoted, text) = match v {
        toml_edit::Value::String(s) => {
            let s = s.value();
            (
                vec![format!("\"{s}\""), format!("'{s}'"), format!("`{s}`")],
                Some(s.clone()),
            )
        }
        toml_edit::Value::Integer(i) => (vec![format!("`{}`", i.value())], None),
        toml_edit::Value::Float(f) => (vec![format!("`{}`", f.value())], None),
        toml_edit::Value::Boolean(b) => (vec![format!("`{}`", b.value())], None),
        _ => (Vec::new(), None),
    };
    out.push(Entry {
        path: path.to_vec(),
        key: key.to_string(),
        key_start: key_span.map(|s| s.start),
        value_start: v.span().map(|s| s.start),
        quoted,
        text,
    });
}

fn entries_of_table(t: &toml_edit::Table, path: &mut Vec<PathSeg>, out: &mut Vec<Entry>) {
    for (k, item) in t.iter() {
        path.push(PathSeg::Key(k.to_string()));
        let key_span = t.key(k).and_then(|k| k.span());
        match item {
            toml_edit::Item::Value(v) => {
                push_entry(k, key_span, v, path, out);
                entries_of_value(v, path, out);
            }
            toml_edit::Item::Table(inner) => entries_of_table(inner, path, out),
            toml_edit::Item::ArrayOfTables(a) => {
                for (i, inner) in a.iter().enumerate() {
                    path.push(PathSeg::Index(i));
                    entries_of_table(inner, path, out);
                    path.pop();
                }
            }
            toml_edit::Item::None => {}
        }
        path.pop();
    }
}

/// Every key and value inside the table at `table` (depth first, outer keys first).
fn entries_under(src: &str, table: &[PathSeg]) -> Vec<Entry> {
    let Ok(doc) = toml_edit::ImDocument::parse(src.to_string()) else {
        return Vec::new();
    };
    let mut node = Node::Item(doc.as_item());
    for seg in table {
        match node.child(seg) {
            Some(n) => node = n,
            None => return Vec::new(),
        }
    }
    let mut out = Vec::new();
    let mut path = table.to_vec();
    match node {
        Node::Table(t) | Node::Item(toml_edit::Item::Table(t)) => {
            entries_of_table(t, &mut path, &mut out)
        }
        Node::Item(toml_edit::Item::Value(v)) | Node::Value(v) => {
            entries_of_value(v, &mut path, &mut out)
        }
        _ => {}
    }
    // Shallow entries first: a field of the table itself before one of a table inside it.
    out.sort_by_key(|e| e.path.len());
    out
}

/// The tag and kind of the tagged table at `table` (`("kind", "failover")`), if it is one.
pub(super) fn kind_of_table(src: &str, table: &[PathSeg]) -> Option<(&'static str, String)> {
    let PathSeg::Key(at) = table.iter().rev().find(|s| matches!(s, PathSeg::Key(_)))? else {
        return None;
    };
    let t = raw::tagged_tables().into_iter().find(|t| t.at == at)?;
    let kind = entries_under(src, table)
        .into_iter()
        .find(|e| e.path.len() == table.len() + 1 && e.key == t.tag)?
        .text?;
    Some((t.tag, kind))
}

/// The text between the first pair of backticks after `prefix`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    Some(&rest[..rest.find('`')?])
}

/// A serde error that names no position inside a table (the table is a tagged enum's, which
/// serde reads as a whole): the field it is about, and for a field of another kind, which
/// kind it belongs to (from `raw::tagged_tables`).
pub(super) fn refine_in_tagged_table(
    src: &str,
    table: &[PathSeg],
    message: &str,
) -> Option<Refined> {
    let entries = entries_under(src, table);
    let direct = |e: &&Entry| e.path.len() == table.len() + 1;
    let tagged = match table.iter().rev().find(|s| matches!(s, PathSeg::Key(_))) {
        Some(PathSeg::Key(at)) => raw::tagged_tables().into_iter().find(|t| t.at == at),
        _ => None,
    };
    if let Some(name) = quoted_after(message, "unknown field `") {
        let entry = entries.iter().find(|e| e.key == name)?;
        let mut refined = Refined {
            path: entry.path.clone(),
            offset: entry.key_start?,
            message: message.to_string(),
            hint: None,
        };
        let Some(t) = tagged.filter(|_| entry.path.len() == table.len() + 1) else {
            return Some(refined);
        };
        let kind = entries
            .iter()
            .filter(direct)
            .find(|e| e.key == t.tag)
            .and_then(|e| e.text.clone())?;
        let owners: Vec<String> = t
            .kinds
            .iter()
            .filter(|(k, fields)| *k != kind && fields.contains(&name))
            .map(|(k, _)| format!("\"{k}\""))
            .collect();
        if let Some((last, first)) = owners.split_last() {
            refined.message = format!("`{name}` does not apply to {} = \"{kind}\"", t.tag);
            let owners = match first {
                [] => last.clone(),
                _ => format!("{} or {last}", first.join(", ")),
            };
            refined.hint = Some(format!("remove it (it belongs to {} = {owners})", t.tag));
        } else if t.flattened {
            // serde's list names only the kind's own fields, not the table's others.
            refined.message = format!("unknown field `{name}`");
        }
        return Some(refined);
    }
    if let Some(variant) = quoted_after(message, "unknown variant `") {
        let entry = entries
            .iter()
            .find(|e| e.text.as_deref() == Some(variant))?;
        return Some(Refined {
            path: entry.path.clone(),
            offset: entry.value_start?,
            message: message.to_string(),
            hint: None,
        });
    }
    // A wrong type or value: the entry whose value the message quotes.
    let entry = entries
        .iter()
        .find(|e| e.quoted.iter().any(|q| message.contains(q.as_str())))?;
    Some(Refined {
        path: entry.path.clone(),
        offset: entry.value_start?,
        message: message.to_string(),
        hint: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::path_to_string;

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
