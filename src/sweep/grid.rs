//! The grid file of `cacheplan sweep` (format documented in `workloads/README.md`, "Sweeps"):
//! parameters addressed by path into the scenario, each `[grid]` entry one axis of a cartesian
//! product, each `[[zip]]` table one axis whose lists advance together, and the replications
//! (`seeds = [...]` or `replications = n`) as the innermost axis. Owns parsing the grid and
//! expanding it into cells in grid order; it does not know what a path means (that is `apply`)
//! and runs nothing.

use super::SweepError;
use toml_edit::{ImDocument, Item, Value};

/// One axis of the grid: one or more parameters (several = zipped) with one value each per
/// position.
#[derive(Clone, Debug)]
pub struct Axis {
    /// Parameter paths, e.g. `keyspaces.price-preview.ttl_ms`.
    pub params: Vec<String>,
    /// `values[position][param]`.
    pub values: Vec<Vec<Value>>,
}

/// A parsed grid.
#[derive(Clone, Debug)]
pub struct Grid {
    /// Axes in file order: `[grid]` entries first, then `[[zip]]` tables.
    pub axes: Vec<Axis>,
    /// Replication seeds (the innermost axis), at least one.
    pub seeds: Vec<u64>,
}

/// One cell of the grid: a point (one value per parameter) and a seed.
#[derive(Clone, Debug)]
pub struct CellSpec {
    /// Position in grid order (row-major over the axes, seeds innermost).
    pub index: usize,
    /// Index of the point (the cell without its seed).
    pub point: usize,
    /// `(path, value)` per parameter, in parameter order.
    pub assignments: Vec<(String, Value)>,
    /// The run seed.
    pub seed: u64,
}

impl Grid {
    /// Every parameter path, in axis order.
    pub fn params(&self) -> Vec<String> {
        self.axes.iter().flat_map(|a| a.params.clone()).collect()
    }

    /// Number of points (cells without their seeds).
    pub fn n_points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Every cell, in grid order: the first axis varies slowest, the seed fastest.
    pub fn cells(&self) -> Vec<CellSpec> {
        let mut out = Vec::new();
        for point in 0..self.n_points() {
            let mut rest = point;
            let mut positions = vec![0; self.axes.len()];
            for (ai, axis) in self.axes.iter().enumerate().rev() {
                positions[ai] = rest % axis.values.len();
                rest /= axis.values.len();
            }
            let mut assignments = Vec::new();
            for (axis, &pos) in self.axes.iter().zip(&positions) {
                for (param, value) in axis.params.iter().zip(&axis.values[pos]) {
                    assignments.push((param.clone(), value.clone()));
                }
            }
            for &seed in &self.seeds {
                out.push(CellSpec {
                    index: out.len(),
                    point,
                    assignments: assignments.clone(),
                    seed,
                });
            }
        }
        out
    }

    /// A canonical text of the grid (axes, values, seeds) for the sweep hash.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        for axis in &self.axes {
            s.push_str("axis");
            for p in &axis.params {
                s.push(' ');
                s.push_str(p);
            }
            s.push('\n');
            for row in &axis.values {
                let texts: Vec<String> = row.iter().map(value_text).collect();
                s.push_str(&texts.join("\u{1f}"));
                s.push('\n');
            }
        }
        let seeds: Vec<String> = self.seeds.iter().map(|s| s.to_string()).collect();
        s.push_str(&format!("seeds {}\n", seeds.join(",")));
        s
    }
}

/// How a value is printed in CSV cells and messages: strings bare, anything else as TOML.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.value().clone(),
        other => other.to_string().trim().to_string(),
    }
}

fn line_of(src: &str, item_span: Option<std::ops::Range<usize>>) -> String {
    match item_span {
        Some(span) => {
            let line = src[..span.start.min(src.len())].matches('\n').count() + 1;
            format!(":{line}")
        }
        None => String::new(),
    }
}

/// Parses a grid file. `default_seed` is the first seed of `replications = n` (the scenario's
/// seed, or 1) and the only seed when the grid names none.
pub fn parse(src: &str, file: &str, default_seed: u64) -> Result<Grid, SweepError> {
    let doc = ImDocument::parse(src.to_string()).map_err(|e| {
        SweepError::input(format!(
            "{file}: not a valid TOML grid: {}",
            e.to_string().trim()
        ))
    })?;
    let root = doc.as_table();
    let mut axes: Vec<Axis> = Vec::new();
    let mut seeds: Option<Vec<u64>> = None;
    let bad = |key: &str, item: &Item, what: &str| {
        SweepError::input(format!(
            "{file}{}: `{key}` {what}\n  hint: see workloads/README.md, section \"Sweeps\"",
            line_of(src, item.span())
        ))
    };
    for (key, item) in root.iter() {
        match key {
            "version" => {
                if item.as_integer() != Some(1) {
                    return Err(bad(key, item, "must be 1 (the grid format's version)"));
                }
            }
            "seeds" => {
                let arr = item
                    .as_array()
                    .ok_or_else(|| bad(key, item, "must be a list of seeds, e.g. [1, 2, 3]"))?;
                let mut list = Vec::new();
                for v in arr.iter() {
                    match v.as_integer() {
                        Some(n) if n >= 0 => list.push(n as u64),
                        _ => {
                            return Err(bad(
                                key,
                                item,
                                &format!("must hold non-negative integers, got {}", value_text(v)),
                            ))
                        }
                    }
                }
                if list.is_empty() {
                    return Err(bad(
                        key,
                        item,
                        "is empty (empty grid): give at least one seed",
                    ));
                }
                if seeds.replace(list).is_some() {
                    return Err(bad(key, item, "and `replications` cannot both be given"));
                }
            }
            "replications" => {
                let n = match item.as_integer() {
                    Some(n) if (1..=10_000).contains(&n) => n as u64,
                    _ => return Err(bad(key, item, "must be an integer from 1 to 10000")),
                };
                let list = (0..n).map(|i| default_seed.wrapping_add(i)).collect();
                if seeds.replace(list).is_some() {
                    return Err(bad(key, item, "and `seeds` cannot both be given"));
                }
            }
            "grid" => {
                let table = item.as_table_like().ok_or_else(|| {
                    bad(key, item, "must be a table of `path = [values]` entries")
                })?;
                let mut leaves = Vec::new();
                flatten(src, file, "", table, &mut leaves)?;
                if leaves.is_empty() {
                    return Err(bad(
                        key,
                        item,
                        "is empty (empty grid): add `path = [values]`",
                    ));
                }
                for (path, values) in leaves {
                    axes.push(Axis {
                        params: vec![path],
                        values: values.into_iter().map(|v| vec![v]).collect(),
                    });
                }
            }
            "zip" => {
                let arr = item
                    .as_array_of_tables()
                    .ok_or_else(|| bad(key, item, "must be an array of tables, [[zip]]"))?;
                for table in arr.iter() {
                    let mut leaves = Vec::new();
                    flatten(src, file, "", table, &mut leaves)?;
                    if leaves.is_empty() {
                        return Err(bad(key, item, "holds an empty table (empty grid)"));
                    }
                    let n = leaves[0].1.len();
                    if let Some((p, v)) = leaves.iter().find(|(_, v)| v.len() != n) {
                        return Err(SweepError::input(format!(
                            "{file}: zipped lists must have the same length: `{}` has {n} values, `{p}` has {}",
                            leaves[0].0,
                            v.len()
                        )));
                    }
                    axes.push(Axis {
                        params: leaves.iter().map(|(p, _)| p.clone()).collect(),
                        values: (0..n)
                            .map(|i| leaves.iter().map(|(_, v)| v[i].clone()).collect())
                            .collect(),
                    });
                }
            }
            other => {
                return Err(bad(
                    other,
                    item,
                    "is not a grid field (known: version, seeds, replications, [grid], [[zip]])",
                ))
            }
        }
    }
    let mut seen: Vec<&String> = Vec::new();
    for p in axes.iter().flat_map(|a| &a.params) {
        if seen.contains(&p) {
            return Err(SweepError::input(format!(
                "{file}: parameter `{p}` appears twice in the grid"
            )));
        }
        seen.push(p);
    }
    for axis in &axes {
        check_distinct(file, axis)?;
    }
    if let Some(list) = &seeds {
        for (j, s) in list.iter().enumerate() {
            if let Some(i) = list[..j].iter().position(|x| x == s) {
                return Err(SweepError::input(format!(
                    "{file}{}: `seeds` lists seed {s} twice (positions {i} and {j})\n  hint: \
                     list each seed once: a repeated seed would run the same cells twice",
                    line_of(src, root.get("seeds").and_then(|i| i.span()))
                )));
            }
        }
    }
    if axes.is_empty() && seeds.is_none() {
        return Err(SweepError::input(format!(
            "{file}: empty grid: no parameter and no seeds\n  hint: add a [grid] table such as \
             `\"keyspaces.catalog.ttl_ms\" = [\"30s\", \"1m\"]`, or `seeds = [1, 2, 3]`"
        )));
    }
    Ok(Grid {
        axes,
        seeds: seeds.unwrap_or_else(|| vec![default_seed]),
    })
}

/// Refuses an axis listing the same value (a zipped axis: the same row) twice: both positions
/// would be the same cells.
fn check_distinct(file: &str, axis: &Axis) -> Result<(), SweepError> {
    let key = |row: &[Value]| row.iter().map(|v| v.to_string()).collect::<Vec<_>>();
    for (j, row) in axis.values.iter().enumerate() {
        let Some(i) = axis.values[..j].iter().position(|r| key(r) == key(row)) else {
            continue;
        };
        let texts: Vec<String> = row.iter().map(value_text).collect();
        let (what, value) = if axis.params.len() == 1 {
            (
                format!("grid parameter `{}`", axis.params[0]),
                texts[0].clone(),
            )
        } else {
            (
                format!("the [[zip]] axis of `{}`", axis.params.join("`, `")),
                format!("({})", texts.join(", ")),
            )
        };
        return Err(SweepError::input(format!(
            "{file}: {what} lists {value} twice (positions {i} and {j})\n  hint: list each \
             value once: a repeated value would run the same cells twice"
        )));
    }
    Ok(())
}

/// Collects `path = [values]` leaves of a table; dotted keys (nested tables) and quoted dotted
/// keys both name paths.
fn flatten(
    src: &str,
    file: &str,
    prefix: &str,
    table: &dyn toml_edit::TableLike,
    out: &mut Vec<(String, Vec<Value>)>,
) -> Result<(), SweepError> {
    for (key, item) in table.iter() {
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        if let Some(arr) = item.as_array() {
            if arr.is_empty() {
                return Err(SweepError::input(format!(
                    "{file}{}: grid parameter `{path}` has no values (empty grid)",
                    line_of(src, item.span())
                )));
            }
            let values = arr
                .iter()
                .map(|v| {
                    let mut v = v.clone();
                    v.decor_mut().clear();
                    v
                })
                .collect();
            out.push((path, values));
        } else if let Some(inner) = item.as_table_like() {
            flatten(src, file, &path, inner, out)?;
        } else {
            return Err(SweepError::input(format!(
                "{file}{}: grid parameter `{path}` must be a list of values, e.g. `\"{path}\" = [...]`",
                line_of(src, item.span())
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_row_major_with_seeds_innermost() {
        let src = "seeds = [7, 8]\n[grid]\n\"a.x.b\" = [1, 2]\nc.y.d = [\"p\", \"q\", \"r\"]\n\
                   [[zip]]\n\"e.z.f\" = [10, 20]\n\"e.z.g\" = [true, false]\n";
        let g = parse(src, "g.toml", 1).unwrap();
        assert_eq!(g.params(), ["a.x.b", "c.y.d", "e.z.f", "e.z.g"]);
        let cells = g.cells();
        assert_eq!(cells.len(), 2 * 3 * 2 * 2);
        let text = |c: &CellSpec| {
            c.assignments
                .iter()
                .map(|(_, v)| value_text(v))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(text(&cells[0]), "1 p 10 true");
        assert_eq!((cells[0].seed, cells[1].seed), (7, 8));
        assert_eq!(text(&cells[2]), "1 p 20 false");
        assert_eq!(text(&cells[4]), "1 q 10 true");
        assert_eq!(text(&cells[23]), "2 r 20 false");
        assert_eq!(cells[23].point, 11);
    }

    #[test]
    fn bad_grids_are_refused() {
        for (src, needle) in [
            ("", "empty grid"),
            ("[grid]\n", "empty"),
            ("[grid]\n\"a.b\" = []\n", "no values"),
            ("[grid]\n\"a.b\" = 3\n", "list of values"),
            ("[[zip]]\n\"a.b\" = [1]\n\"a.c\" = [1, 2]\n", "same length"),
            ("seeds = []\n", "empty"),
            ("seeds = [1]\nreplications = 2\n", "both"),
            ("colour = 1\n", "not a grid field"),
            (
                "seeds = [1, 2, 1]\n",
                "`seeds` lists seed 1 twice (positions 0 and 2)",
            ),
            (
                "[grid]\n\"a.b\" = [\"1m\", \"2m\", \"1m\"]\n",
                "grid parameter `a.b` lists 1m twice (positions 0 and 2)",
            ),
            (
                "[[zip]]\n\"a.b\" = [1, 2, 1]\n\"a.c\" = [3, 4, 3]\n",
                "the [[zip]] axis of `a.b`, `a.c` lists (1, 3) twice",
            ),
        ] {
            let e = parse(src, "g.toml", 1).unwrap_err().to_string();
            assert!(e.contains(needle), "{src:?}: {e}");
        }
        let g = parse("replications = 3\n", "g.toml", 5).unwrap();
        assert_eq!(g.seeds, [5, 6, 7]);
        assert_eq!(g.cells().len(), 3);
    }
}
