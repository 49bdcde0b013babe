//! The checklist answers the run decides (idempotency, locks, database guards, pub/sub,
//! hot keys, critical evictions, origins) and the summary of what broke the business rules.

use super::*;

pub(super) fn idempotency_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
    let idem = keyspaces_where(scn, |k| k.operation == Operation::Idempotency);
    if idem.is_empty() {
        return (
            Text::plain("The scenario has no idempotency keyspace."),
            Source::Scenario,
        );
    }
    let parts: Vec<Text> = results
        .iter()
        .map(|r| {
            let retries = counter_sum(r, &idem, |m| m.retries);
            let rerun = counter_sum(r, &idem, |m| m.retries_reexecuted);
            let t = tally_sum(r, 0, &idem, Invariant::DuplicateExecution);
            Text::plain(format!(
                "{}: {rerun} of {retries} retries found no fast-path key; {} ran the command \
                 twice (",
                plan_name(scn, r),
                t.violations,
            ))
            .code("duplicate_execution")
            .words(format!("), {} stopped by the database", t.prevented))
        })
        .collect();
    (
        Text::plain("For ")
            .then(names_list(scn, &idem))
            .words(": ")
            .then(Text::join(parts, "; "))
            .words("."),
        Source::Run,
    )
}

pub(super) fn lock_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
    let locks = keyspaces_where(scn, |k| k.operation == Operation::Lock);
    if locks.is_empty() {
        return (
            Text::plain("The scenario has no lock keyspace."),
            Source::Scenario,
        );
    }
    let unguarded: Vec<usize> = locks
        .iter()
        .copied()
        .filter(|&ki| !scn.keyspaces[ki].fallback.db_constraint)
        .collect();
    let mut s = if unguarded.is_empty() {
        Text::plain("Yes: the work under ")
            .then(names_list(scn, &locks))
            .words(" is also guarded by a database constraint (")
            .code("fallback.db_constraint")
            .words(").")
    } else {
        Text::strong_only("No")
            .words(" for ")
            .then(names_list(scn, &unguarded))
            .words(": no database constraint guards the work, the Redis lock is the only guard.")
    };
    let config: Vec<Text> = locks
        .iter()
        .map(|&ki| {
            let f = &scn.keyspaces[ki].fallback;
            names_list(scn, &[ki]).words(format!(
                " releases with {} and, with Redis down, {}",
                if f.lock_owner_token {
                    "compare-and-delete of its token"
                } else {
                    "a plain DEL"
                },
                match f.lock {
                    LockWhenDown::Skip => "works without the lock",
                    LockWhenDown::GiveUp => "gives up",
                }
            ))
        })
        .collect();
    s.push(Text::plain(" ").then(Text::join(config, "; ")).words("."));
    let per_plan: Vec<Text> = results
        .iter()
        .map(|r| {
            let t = tally_sum(r, 0, &locks, Invariant::LockOverlap);
            Text::plain(format!(
                "{}: {} acquired, {} found held, {} overlapping holders (",
                plan_name(scn, r),
                counter_sum(r, &locks, |m| m.lock_acquired),
                counter_sum(r, &locks, |m| m.lock_contended),
                t.violations,
            ))
            .code("lock_overlap")
            .words(format!(
                "), {} stopped by the database, {} other holders' locks deleted, {} locks \
                 skipped",
                t.prevented,
                counter_sum(r, &locks, |m| m.foreign_lock_deletes),
                counter_sum(r, &locks, |m| m.lock_skipped)
            ))
        })
        .collect();
    s.push(
        Text::plain(" In this run: ")
            .then(Text::join(per_plan, "; "))
            .words("."),
    );
    (s, Source::Run)
}

pub(super) fn db_idempotency_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
    let idem = keyspaces_where(scn, |k| k.operation == Operation::Idempotency);
    if idem.is_empty() {
        return (
            Text::plain("The scenario has no idempotency keyspace."),
            Source::Scenario,
        );
    }
    let (with, without): (Vec<usize>, Vec<usize>) = idem
        .iter()
        .partition(|&&ki| scn.keyspaces[ki].fallback.db_idempotency);
    let mut s = Text::new();
    if !with.is_empty() {
        s.push(
            Text::plain("Yes for ")
                .then(names_list(scn, &with))
                .words(" (")
                .code("fallback.db_idempotency")
                .words("): a retry that finds no fast-path key is stopped by the database record."),
        );
    }
    if !without.is_empty() {
        if !s.is_empty() {
            s.push_str(" ");
        }
        s.push(
            Text::strong_only("No")
                .words(" for ")
                .then(names_list(scn, &without))
                .words(": the Redis fast-path key is the only record of a command."),
        );
    }
    let per_plan: Vec<String> = results
        .iter()
        .map(|r| {
            let t = tally_sum(r, 0, &idem, Invariant::DuplicateExecution);
            format!(
                "{}: {} duplicate executions, {} stopped by the database",
                plan_name(scn, r),
                t.violations,
                t.prevented
            )
        })
        .collect();
    if !per_plan.is_empty() {
        s.push_str(&format!(" In this run: {}.", per_plan.join("; ")));
    }
    (s, Source::Run)
}

pub(super) fn pubsub_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
    let published: Vec<usize> = (0..scn.keyspaces.len())
        .filter(|&ki| !events_of(scn, ki, EventAction::Delete).is_empty())
        .collect();
    let disconnects: Vec<usize> = (0..scn.faults.len())
        .filter(|&fi| scn.faults[fi].kind == FaultKind::SubscriberDisconnect)
        .collect();
    if published.is_empty() {
        let mut s = Text::plain("Nothing goes over Pub/Sub in this scenario: no ")
            .code("delete")
            .words(" event publishes an invalidation.");
        if !disconnects.is_empty() {
            s.push_str(" The subscriber disconnects on the timeline lose no message.");
        }
        return (s, Source::Scenario);
    }
    let with_l1: Vec<usize> = published
        .iter()
        .copied()
        .filter(|&ki| scn.keyspaces[ki].strategy.local_cache.is_some())
        .collect();
    let mut s = Text::plain("Invalidations of ")
        .then(names_list(scn, &published))
        .words(" are published over Pub/Sub at each ")
        .code("delete")
        .words(" event");
    if !with_l1.is_empty() {
        s.push(
            Text::plain("; the instances drop their local copies of ")
                .then(names_list(scn, &with_l1))
                .words(" when a message arrives"),
        );
    }
    s.push_str(".");
    if disconnects.is_empty() {
        s.push(
            Text::plain(
                " No subscriber disconnects in this run, so every message arrives; Pub/Sub is \
                 at-most-once, and a ",
            )
            .code("subscriber-disconnect")
            .words(" fault shows what a lost message costs."),
        );
        return (s, Source::Scenario);
    }
    for &fi in &disconnects {
        let f = &scn.faults[fi];
        let per_plan: Vec<String> = results
            .iter()
            .map(|r| {
                let lost = r.faults.get(fi).map(|o| o.invalidations_lost).unwrap_or(0);
                let t = tally_sum(r, 1 + fi, &published, Invariant::StaleRead);
                let mut text = format!(
                    "{}: {lost} messages lost, {} stale reads in its window",
                    plan_name(scn, r),
                    t.violations
                );
                if t.violations > 0 {
                    text.push_str(&format!(" (max staleness {})", secs(t.max_staleness)));
                }
                text
            })
            .collect();
        s.push(Text::plain(" ").then(fault_head(f)).words(format!(
            ", {}, {} to {}): {}.",
            fault_target(scn, fi),
            secs(f.start),
            secs(f.end),
            per_plan.join("; ")
        )));
    }
    let backstops: Vec<Text> = with_l1
        .iter()
        .filter_map(|&ki| {
            let l1 = scn.keyspaces[ki].strategy.local_cache.as_ref()?;
            Some(names_list(scn, &[ki]).words(format!(" {}", duration(l1.ttl))))
        })
        .collect();
    if !backstops.is_empty() {
        s.push(
            Text::plain(" A lost message is backstopped only by the local copies' TTL (")
                .then(Text::join(backstops, ", "))
                .words(")."),
        );
    }
    s.push_str(
        " Pub/Sub is best-effort here only if that staleness is acceptable; versioned keys do \
         not depend on delivery.",
    );
    (s, Source::Run)
}

pub(super) fn hot_key_answer(scn: &Scenario, results: &[PlanResult]) -> Text {
    let hot = keyspaces_where(scn, |k| hot_key(k).1);
    let mut s = if hot.is_empty() {
        Text::plain("No keyspace has a strongly skewed popularity.")
    } else {
        Text::plain("Skewed popularity in ")
            .then(names_list(scn, &hot))
            .words(".")
    };
    // The busiest shard against the mean of its cluster, per plan.
    let measured = measured_s(scn);
    if measured > 0.0 {
        let parts: Vec<String> = results
            .iter()
            .filter_map(|r| {
                let busiest = r
                    .shards
                    .iter()
                    .max_by_key(|sh| (sh.commands, std::cmp::Reverse(sh.shard)))?;
                let siblings: Vec<u64> = r
                    .shards
                    .iter()
                    .filter(|sh| sh.cluster == busiest.cluster)
                    .map(|sh| sh.commands)
                    .collect();
                let mean = siblings.iter().sum::<u64>() as f64 / siblings.len() as f64;
                let cluster = scn
                    .clusters
                    .get(busiest.cluster)
                    .map(|c| c.name.as_str())
                    .unwrap_or("?");
                let ratio = if mean > 0.0 {
                    busiest.commands as f64 / mean
                } else {
                    1.0
                };
                Some(format!(
                    "{}: busiest shard {}/{} at {:.0} ops/s, {:.2}× its cluster's mean",
                    plan_name(scn, r),
                    cluster,
                    busiest.shard,
                    busiest.commands as f64 / measured,
                    ratio
                ))
            })
            .collect();
        if !parts.is_empty() {
            s.push(
                Text::plain(" Shards in the run (chart ")
                    .em("shard load")
                    .words(format!("): {}.", parts.join("; "))),
            );
        }
    }
    s
}

pub(super) fn critical_evictions_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
    let critical = keyspaces_where(scn, |k| k.criticality == Criticality::Critical);
    if critical.is_empty() {
        return (
            Text::plain("The scenario marks no keyspace critical."),
            Source::Scenario,
        );
    }
    let parts: Vec<Text> = results
        .iter()
        .map(|r| {
            let lost: Vec<String> = critical
                .iter()
                .filter_map(|ki| {
                    let n = r.keyspace_evictions_before_ttl.get(*ki).copied()?;
                    (n > 0).then(|| format!("{} {n}", scn.keyspaces[*ki].name))
                })
                .collect();
            if lost.is_empty() {
                Text::plain(format!("{}: none", plan_name(scn, r)))
            } else {
                Text::plain(format!("{}: ", plan_name(scn, r)))
                    .strong("yes")
                    .words(format!(", before their TTL ({})", lost.join(", ")))
            }
        })
        .collect();
    (
        Text::plain("Critical keyspaces ")
            .then(names_list(scn, &critical))
            .words(". ")
            .then(Text::join(parts, "; "))
            .words("."),
        Source::Run,
    )
}

pub(super) fn origins_answer(scn: &Scenario, results: &[PlanResult]) -> Text {
    let mut parts = Vec::new();
    for r in results {
        let peaks = origin_peaks_per_s(scn, r);
        let mut notes = Vec::new();
        for (oi, o) in scn.origins.iter().enumerate() {
            let Some(m) = r.origins.get(oi) else {
                continue;
            };
            if let Some(t) = m.saturated_since {
                notes.push(Text::strong_only(o.name.as_str()).words(format!(
                    " saturated from {} s ({} rejected, {} timed out)",
                    short_num(t.as_secs_f64()),
                    m.rejected,
                    m.timed_out
                )));
            } else if m.rejected > 0 || m.timed_out > 0 {
                notes.push(Text::strong_only(o.name.as_str()).words(format!(
                    " {} rejected, {} timed out",
                    m.rejected, m.timed_out
                )));
            }
        }
        let top = peaks
            .iter()
            .enumerate()
            .fold(None, |best: Option<(usize, f64)>, (i, v)| match best {
                Some((_, b)) if b >= *v => best,
                _ => Some((i, *v)),
            });
        let top_text = top
            .and_then(|(oi, v)| {
                scn.origins
                    .get(oi)
                    .map(|o| format!("highest peak {} at {v:.1} loads/s", o.name))
            })
            .unwrap_or_default();
        let state = if notes.is_empty() {
            Text::plain("no origin saturated, rejected or timed out")
        } else {
            Text::join(notes, "; ")
        };
        parts.push(
            Text::plain(format!("{}: ", plan_name(scn, r)))
                .then(state)
                .words(format!("; {top_text}")),
        );
    }
    Text::join(parts, ". ").words(". Details in the origins table.")
}

/// The closing line's evidence: whether Redis lost or refused what the business needs in this
/// run (critical keys evicted or refused with OOM, records whose only copy was in Redis lost,
/// commands run twice and lock holders overlapping because a Redis key was missing).
pub fn business_breaks(scn: &Scenario, results: &[PlanResult]) -> Text {
    let mut flagged = Vec::new();
    for r in results {
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let before = if k.criticality == Criticality::Critical {
                r.keyspace_evictions_before_ttl
                    .get(ki)
                    .copied()
                    .unwrap_or(0)
            } else {
                0
            };
            let oom = if k.criticality == Criticality::Critical {
                r.keyspaces.get(ki).map(|m| m.oom_errors).unwrap_or(0)
            } else {
                0
            };
            let lost = tally_sum(r, 0, &[ki], Invariant::LostRecord).violations;
            let twice = tally_sum(r, 0, &[ki], Invariant::DuplicateExecution).violations;
            let overlaps = tally_sum(r, 0, &[ki], Invariant::LockOverlap).violations;
            if before == 0 && oom == 0 && lost == 0 && twice == 0 && overlaps == 0 {
                continue;
            }
            let mut what = Vec::new();
            if before > 0 || oom > 0 {
                what.push(format!("{before} evicted before TTL, {oom} OOM errors"));
            }
            if lost > 0 {
                what.push(format!(
                    "{lost} records lost (their only copy was in Redis)"
                ));
            }
            if twice > 0 {
                what.push(format!("{twice} commands ran twice"));
            }
            if overlaps > 0 {
                what.push(format!("{overlaps} overlapping lock holders"));
            }
            flagged.push(format!(
                "{} in plan {} ({})",
                k.name,
                plan_name(scn, r),
                what.join(", ")
            ));
        }
    }
    let redis_only = keyspaces_where(scn, |k| {
        reads(k) && k.fallback.source_of_truth == SourceOfTruth::Redis
    });
    if flagged.is_empty() {
        let mut s = Text::plain(
            "In this run no critical key was lost to eviction, no critical write failed with \
             OOM, no record whose only copy was in Redis was lost, no command ran twice and no \
             lock holders overlapped.",
        );
        if !redis_only.is_empty() {
            s.push(
                Text::plain(" Still, Redis is the only store of ")
                    .then(names_list(scn, &redis_only))
                    .words(": an empty Redis loses them."),
            );
        }
        s
    } else {
        Text::plain(format!(
            "In this run Redis lost or refused what the business needs: {}.",
            flagged.join("; ")
        ))
    }
}
