//! `[[plans]]` and `[[events]]`: where each keyspace lives in each plan (names into indices,
//! every keyspace placed once), and the timeline events (new versions, deletes, changes) in
//! time order.

use super::checks::{bounded_name, find, non_negative_ms, unique_names};
use super::keyspaces::VERSION_PLACEHOLDERS;
use super::{Path, MAX_TIMELINE_ENTRIES, R};
use crate::engine::SimTime;
use crate::scenario::model::*;
use crate::scenario::raw::{RawEvent, RawPlan};

/// Resolves `[[plans]]` against the keyspace and cluster names.
pub(super) fn plans(
    raw: &[RawPlan],
    keyspace_names: &[&str],
    cluster_names: &[&str],
) -> R<Vec<Plan>> {
    let pp = Path::root().key("plans");
    if raw.is_empty() {
        return Err(pp.err(
            "no plans",
            "add at least one [[plans]] table placing keyspaces on clusters",
        ));
    }
    unique_names(&pp, raw.iter().map(|p| p.name.as_str()))?;
    let mut plans = Vec::new();
    for (i, pl) in raw.iter().enumerate() {
        let p = pp.idx(i).key("placement");
        let mut cluster_of_keyspace = vec![usize::MAX; keyspace_names.len()];
        for (ks, cl) in &pl.placement {
            let q = p.key(ks);
            let ki = find(&q, keyspace_names, ks, "keyspace")?;
            cluster_of_keyspace[ki] = find(&q, cluster_names, cl, "cluster")?;
        }
        if let Some(missing) = cluster_of_keyspace.iter().position(|c| *c == usize::MAX) {
            return Err(p.err(
                format!(
                    "keyspace \"{}\" is placed on no cluster",
                    keyspace_names[missing]
                ),
                format!(
                    "add {} = \"<cluster>\" to this placement",
                    keyspace_names[missing]
                ),
            ));
        }
        plans.push(Plan {
            name: pl.name.clone(),
            description: pl.description.clone(),
            cluster_of_keyspace,
        });
    }
    Ok(plans)
}

/// Resolves `[[events]]` (sorted by time) against the keyspaces.
pub(super) fn events(raw: &[RawEvent], keyspaces: &[Keyspace], duration: SimTime) -> R<Vec<Event>> {
    let keyspace_names: Vec<&str> = keyspaces.iter().map(|k| k.name.as_str()).collect();
    let ep = Path::root().key("events");
    if raw.len() > MAX_TIMELINE_ENTRIES {
        return Err(ep.err(
            format!("{} events", raw.len()),
            format!("allowed: up to {MAX_TIMELINE_ENTRIES} timeline events"),
        ));
    }
    let mut events = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let p = ep.idx(i);
        bounded_name(&p.key("name"), &e.name)?;
        let at = non_negative_ms(&p.key("at_ms"), e.at_ms)?;
        if at >= duration {
            return Err(p
                .key("at_ms")
                .err("is after the end of the run", "move it before duration_ms"));
        }
        let action = match e.action.as_str() {
            "new-version" => EventAction::NewVersion,
            "delete" => EventAction::Delete,
            "change" => EventAction::Change,
            other => {
                return Err(p.key("action").err(
                    format!("unknown action \"{other}\""),
                    "use new-version, delete or change",
                ))
            }
        };
        let mut ks = Vec::new();
        for (j, name) in e.keyspaces.iter().enumerate() {
            let q = p.key("keyspaces").idx(j);
            let ki = find(&q, &keyspace_names, name, "keyspace")?;
            if action == EventAction::NewVersion && !keyspaces[ki].key_has_version {
                return Err(q.err(
                    format!("keyspace \"{name}\" has no version dimension in its key template"),
                    format!(
                        "add one of {} to its key_template, or use action = \"delete\"",
                        VERSION_PLACEHOLDERS.join(", ")
                    ),
                ));
            }
            ks.push(ki);
        }
        if ks.is_empty() {
            return Err(p
                .key("keyspaces")
                .err("is empty", "list the keyspaces the event affects"));
        }
        events.push(Event {
            at,
            name: e.name.clone(),
            action,
            keyspaces: ks,
        });
    }
    events.sort_by_key(|e| e.at);
    Ok(events)
}
