//! Grid parameters applied to the scenario's TOML document (toml_edit, so untouched lines keep
//! their text and a bad value is reported at its scenario line by the normal
//! `scenario::parse`). Owns what a parameter path means:
//!
//! - `table.field...` walks tables (`simulation.duration_ms`, `slo.shard_utilization_max`);
//! - `list.<name>.field...` picks the element of an array of tables by its `name`
//!   (`keyspaces.price-preview.ttl_ms`, `clusters.giant.shards`);
//! - missing tables on the way are created inline; a string given to `strategy` or
//!   `ttl_jitter` is shorthand for `{ kind = "..." }` (the whole table is replaced);
//! - `traffic.scale` multiplies every keyspace's `rate_per_s` by the value.
//!
//! It must not validate values itself: the scenario's serde types and `resolve` do.

use super::grid::value_text;
use super::SweepError;
use crate::scenario::raw::RawScenario;
use toml_edit::{DocumentMut, InlineTable, Item, Value};

/// The path of the traffic scale factor.
pub const TRAFFIC_SCALE: &str = "traffic.scale";

/// Applies `path = value` to `doc`. The error says why the path cannot be followed.
pub fn apply(doc: &mut DocumentMut, path: &str, value: &Value) -> Result<(), String> {
    if path == TRAFFIC_SCALE {
        return scale_traffic(doc, value);
    }
    let segs: Vec<&str> = path.split('.').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(format!("`{path}` has an empty path segment"));
    }
    let root = doc.as_table_mut();
    let first = segs[0];
    let is_list = matches!(
        first,
        "tenants" | "origins" | "clusters" | "keyspaces" | "plans"
    );
    if is_list {
        let Some(name) = segs.get(1) else {
            return Err(format!(
                "`{path}` must name an element and a field: `{first}.<name>.<field>`"
            ));
        };
        let Some(arr) = root.get_mut(first).and_then(|i| i.as_array_of_tables_mut()) else {
            return Err(format!("the scenario has no [[{first}]]"));
        };
        let known: Vec<String> = arr
            .iter()
            .filter_map(|t| t.get("name").and_then(|n| n.as_str()).map(String::from))
            .collect();
        let Some(table) = arr
            .iter_mut()
            .find(|t| t.get("name").and_then(|n| n.as_str()) == Some(*name))
        else {
            return Err(format!(
                "no {first} named `{name}` (known: {})",
                known.join(", ")
            ));
        };
        return set_in(table, &segs[2..], value, path);
    }
    set_in(root, &segs, value, path)
}

fn shorthand(key: &str, value: &Value) -> Value {
    match (key, value) {
        ("strategy" | "ttl_jitter", Value::String(s)) => {
            let mut t = InlineTable::new();
            t.insert("kind", Value::from(s.value().as_str()));
            Value::InlineTable(t)
        }
        _ => value.clone(),
    }
}

fn set_in(
    table: &mut dyn toml_edit::TableLike,
    segs: &[&str],
    value: &Value,
    path: &str,
) -> Result<(), String> {
    let Some((&key, rest)) = segs.split_first() else {
        return Err(format!("`{path}` names a table; name one of its fields"));
    };
    if rest.is_empty() {
        let mut new = shorthand(key, value);
        match table.get_mut(key) {
            Some(Item::Value(old)) => {
                *new.decor_mut() = old.decor().clone();
                *old = new;
            }
            Some(item) => *item = Item::Value(new),
            None => {
                table.insert(key, Item::Value(new));
            }
        }
        return Ok(());
    }
    if table.get(key).is_none() {
        table.insert(key, Item::Value(Value::InlineTable(InlineTable::new())));
    }
    let item = table.get_mut(key).expect("inserted above");
    match item.as_table_like_mut() {
        Some(inner) => set_in(inner, rest, value, path),
        None => Err(format!(
            "`{path}`: `{key}` holds a value, not a table, so `{}` cannot be set in it",
            rest.join(".")
        )),
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

fn scale_traffic(doc: &mut DocumentMut, value: &Value) -> Result<(), String> {
    let factor = number(value)
        .ok_or_else(|| format!("invalid type: `{TRAFFIC_SCALE}` takes a number, got {value}"))?;
    if !(factor > 0.0) || !factor.is_finite() {
        return Err(format!(
            "`{TRAFFIC_SCALE}` must be a positive number, got {factor}"
        ));
    }
    if let Some(arr) = doc
        .get_mut("keyspaces")
        .and_then(|i| i.as_array_of_tables_mut())
    {
        for t in arr.iter_mut() {
            if let Some(Item::Value(v)) = t.get_mut("rate_per_s") {
                if let Some(rate) = number(v) {
                    let mut new = Value::from(rate * factor);
                    *new.decor_mut() = v.decor().clone();
                    *v = new;
                }
            }
        }
    }
    Ok(())
}

/// Checks one parameter value against the scenario format alone (path followed, field
/// declared, value of the right type), before any cell is built: a path naming no field or a
/// value of the wrong type is a grid error naming the parameter.
pub fn check_value(base: &DocumentMut, path: &str, value: &Value) -> Result<(), SweepError> {
    let mut doc = base.clone();
    let shown = value_text(value);
    apply(&mut doc, path, value).map_err(|m| {
        if m.starts_with("invalid type") {
            SweepError::input(format!(
                "grid parameter `{path}` = {shown}: wrong type: {m}"
            ))
        } else {
            SweepError::input(format!(
                "grid parameter `{path}` names no field of the scenario: {m}"
            ))
        }
    })?;
    if let Err(e) = toml::from_str::<RawScenario>(&doc.to_string()) {
        let m = e.message().trim().to_string();
        let hint =
            "\n  hint: parameters are paths into the scenario (workloads/README.md, \"Sweeps\")";
        return Err(if m.contains("unknown field") {
            SweepError::input(format!(
                "grid parameter `{path}` names no field of the scenario: {m}{hint}"
            ))
        } else {
            SweepError::input(format!(
                "grid parameter `{path}` = {shown}: wrong type: {m}{hint}"
            ))
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "version = 1\n[simulation]\nduration_ms = \"10s\"\n\n[[keyspaces]]\n\
                       name = \"a\"\nrate_per_s = 10\nttl_ms = \"1m\"   # comment kept\n\n\
                       [[keyspaces]]\nname = \"b\"\nrate_per_s = 2.5\n";

    fn doc() -> DocumentMut {
        SRC.parse().unwrap()
    }

    #[test]
    fn paths_reach_fields_and_keep_lines() {
        let mut d = doc();
        apply(&mut d, "keyspaces.a.ttl_ms", &Value::from("2m")).unwrap();
        apply(&mut d, "simulation.duration_ms", &Value::from(5000)).unwrap();
        apply(
            &mut d,
            "keyspaces.b.strategy",
            &Value::from("single-flight"),
        )
        .unwrap();
        apply(&mut d, "traffic.scale", &Value::from(2)).unwrap();
        let text = d.to_string();
        assert!(text.contains("ttl_ms = \"2m\"   # comment kept"), "{text}");
        assert!(text.contains("duration_ms = 5000"), "{text}");
        assert!(
            text.contains("strategy = { kind = \"single-flight\" }"),
            "{text}"
        );
        assert!(text.contains("rate_per_s = 20.0"), "{text}");
        assert!(text.contains("rate_per_s = 5.0"), "{text}");
        assert_eq!(
            text.lines().position(|l| l.contains("ttl_ms")),
            SRC.lines().position(|l| l.contains("ttl_ms"))
        );
    }

    #[test]
    fn bad_paths_say_why() {
        let mut d = doc();
        let e = apply(&mut d, "keyspaces.zz.ttl_ms", &Value::from(1)).unwrap_err();
        assert!(e.contains("known: a, b"), "{e}");
        let e = apply(&mut d, "keyspaces.a.ttl_ms.x", &Value::from(1)).unwrap_err();
        assert!(e.contains("not a table"), "{e}");
        let e = apply(&mut d, "traffic.scale", &Value::from("x")).unwrap_err();
        assert!(e.starts_with("invalid type"), "{e}");
    }
}
