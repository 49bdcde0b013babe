//! The checklist of section 29: each question's answer from the scenario (keys, TTLs,
//! invalidation, sources of truth) and, where a fault or a guard decides it, from the run.

use super::outcomes::{
    critical_evictions_answer, db_idempotency_answer, hot_key_answer, idempotency_answer,
    lock_answer, origins_answer, pubsub_answer,
};
use super::*;

/// Every question of the checklist, in the document's order, with its answer and source,
/// followed by three questions the report adds (critical evictions, origins are answered by
/// the run).
pub fn checklist_answers(scn: &Scenario, results: &[PlanResult]) -> Vec<Answer> {
    let mut out = Vec::new();
    let mut q = |question: &'static str, (answer, source): (String, Source)| {
        out.push(Answer {
            question,
            answer,
            source,
        });
    };
    q(
        "What is the source of truth if Redis is empty?",
        source_of_truth_answer(scn),
    );
    q(Q_DOWN, down_answer(scn, results));
    q(Q_STALE, stale_answer(scn, results));
    q("Does the key include tenant?", tenant_answer(scn, results));
    let no_version = keyspaces_where(scn, |k| {
        !k.key_has_version && k.operation == Operation::ReadThrough
    });
    q(
        "Does the key include version/publication/policy dimensions?",
        (
            if no_version.is_empty() {
                "Yes, in every read-through keyspace.".into()
            } else {
                format!(
                    "Not in the read-through keyspaces {}: their freshness rests on the TTL \
                     and on invalidation (Table A).",
                    names_list(scn, &no_version)
                )
            },
            Source::Scenario,
        ),
    );
    let no_ttl = keyspaces_where(scn, |k| k.ttl.as_ns() == 0);
    q(
        "What is the TTL?",
        (
            format!(
                "Table A. {}",
                if no_ttl.is_empty() {
                    "Every keyspace sets one.".into()
                } else {
                    format!("No TTL in {}.", names_list(scn, &no_ttl))
                }
            ),
            Source::Scenario,
        ),
    );
    let no_jitter = keyspaces_where(scn, |k| {
        matches!(k.jitter, crate::scenario::Jitter::None)
            && k.ttl.as_ns() > 0
            && k.operation == Operation::ReadThrough
    });
    q(
        "Is TTL jitter needed?",
        (
            if no_jitter.is_empty() {
                "Every read-through keyspace with a TTL jitters it.".into()
            } else {
                format!(
                    "Read-through keyspaces without jitter: {}. Keys loaded together (after a \
                     version change or a cold start) expire together; look for periodic spikes \
                     in the origin-load chart.",
                    names_list(scn, &no_jitter)
                )
            },
            Source::Scenario,
        ),
    );
    q(Q_INVALIDATION, invalidation_answer(scn));
    q(
        "Does cached value include schema version?",
        ("Values are modelled by size only.".into(), Source::Unknown),
    );
    q(
        "Does cached value include source version?",
        (
            "Values are modelled by size only; a version in the key (Table A) is the visible \
             part. The run stamps each value with its load time to find stale reads, which is \
             what a source version in the value lets the application do."
                .into(),
            Source::Unknown,
        ),
    );
    q(
        "Can this cache leak unauthorized fields?",
        (
            "Authorization is outside the model: check that sensitive fields are filtered \
             after the cache read, not before it is written."
                .into(),
            Source::Unknown,
        ),
    );
    let unbounded = keyspaces_where(scn, |k| value_bounded(k).1);
    q(
        "Is the value size bounded?",
        (
            if unbounded.is_empty() {
                "Yes: every value size distribution is bounded.".into()
            } else {
                format!(
                    "The scenario models long-tailed sizes for {}; the design should cap them.",
                    names_list(scn, &unbounded)
                )
            },
            Source::Scenario,
        ),
    );
    q(
        "Can this key become hot?",
        (hot_key_answer(scn, results), Source::Run),
    );
    q(
        "What metric proves hit/miss/latency/eviction?",
        (
            "This run measures them per keyspace (Table B, <code>summary.csv</code>, \
             <code>timeseries.csv</code>). In production Redis reports \
             <code>keyspace_hits</code>, <code>keyspace_misses</code> and \
             <code>evicted_keys</code> per instance only: per-keyspace figures need \
             client-side metrics tagged by keyspace."
                .into(),
            Source::Run,
        ),
    );
    q(
        "Does the command remain correct without Redis?",
        idempotency_answer(scn, results),
    );
    q(Q_LOCK, lock_answer(scn, results));
    q(Q_DB_IDEMPOTENCY, db_idempotency_answer(scn, results));
    q(Q_PUBSUB, pubsub_answer(scn, results));
    q(
        "Is Redis Stream local-scope only?",
        (
            "Streams are not modelled: the scenario format has no stream keyspace.".into(),
            Source::Unknown,
        ),
    );
    q(
        "Were critical keys evicted?",
        critical_evictions_answer(scn, results),
    );
    q(
        "What happened to the origins?",
        (origins_answer(scn, results), Source::Run),
    );
    out
}

pub(super) fn source_of_truth_answer(scn: &Scenario) -> (String, Source) {
    let no_origin = keyspaces_where(scn, |k| {
        matches!(k.operation, Operation::RateLimit | Operation::Lock)
    });
    let redis_only = keyspaces_where(scn, |k| {
        reads(k) && k.fallback.source_of_truth == SourceOfTruth::Redis
    });
    let mut s = "Table A, first column.".to_string();
    if no_origin.is_empty() && redis_only.is_empty() {
        s.push_str(" Every keyspace has an origin.");
    }
    if !no_origin.is_empty() {
        s.push_str(&format!(
            " No origin behind {}: Redis is their only store (counters and locks).",
            names_list(scn, &no_origin)
        ));
    }
    if !redis_only.is_empty() {
        s.push_str(&format!(
            " <b>Redis is the source of truth</b> of {} (<code>fallback.source_of_truth = \
             \"redis\"</code>): an empty Redis loses these records.",
            names_list(scn, &redis_only)
        ));
    }
    (s, Source::Scenario)
}

pub(super) fn down_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let outages: Vec<usize> = (0..scn.faults.len())
        .filter(|&fi| is_outage(&scn.faults[fi].kind))
        .collect();
    let slow: Vec<String> = scn
        .faults
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FaultKind::ShardSlow { .. } | FaultKind::LatencySpike { .. }
            )
        })
        .map(|f| format!("<b>{}</b> ({})", escape(&f.name), f.kind.as_str()))
        .collect();
    let slow_text = if slow.is_empty() {
        String::new()
    } else {
        format!(" Redis is slowed, not down, by {}.", slow.join(", "))
    };
    if outages.is_empty() {
        return (
            format!(
                "This run does not take Redis down (no <code>shard-down</code>, \
                 <code>failover</code> or <code>cluster-restart</code> fault); the origin load \
                 with a cold cache during the warm-up (chart <i>origin load</i>) is the \
                 nearest evidence.{slow_text}"
            ),
            Source::Unknown,
        );
    }
    let all: Vec<usize> = (0..scn.keyspaces.len()).collect();
    let mut parts = Vec::new();
    for &fi in &outages {
        let f = &scn.faults[fi];
        let per_plan: Vec<String> = results
            .iter()
            .map(|r| {
                let name = escape(&plan_name(scn, r));
                let Some(o) = r.faults.get(fi) else {
                    return format!("{name}: no figures");
                };
                if !o.applied {
                    return format!("{name}: not applied (the plan does not use the cluster)");
                }
                let mut what = vec![format!("down until {}", secs(o.end))];
                if o.commands_failed > 0 {
                    what.push(format!(
                        "{} commands refused or timed out",
                        o.commands_failed
                    ));
                }
                if o.writes_lost > 0 {
                    what.push(format!("{} unreplicated writes lost", o.writes_lost));
                }
                if o.keys_flushed > 0 {
                    what.push(format!("{} keys gone at restart", o.keys_flushed));
                }
                let broken: Vec<String> = Invariant::ALL
                    .into_iter()
                    .filter(|inv| *inv != Invariant::CriticalEvictedBeforeTtl)
                    .filter_map(|inv| {
                        let n = tally_sum(r, 1 + fi, &all, inv).violations;
                        (n > 0).then(|| format!("<code>{}</code> {n}", inv.as_str()))
                    })
                    .collect();
                what.push(if broken.is_empty() {
                    "no invariant broken in its window".into()
                } else {
                    format!("in its window {}", broken.join(", "))
                });
                format!("{name}: {}", what.join(", "))
            })
            .collect();
        parts.push(format!(
            "<b>{}</b> (<code>{}</code>, {}, from {}): {}.",
            escape(&f.name),
            f.kind.as_str(),
            escape(&fault_target(scn, fi)),
            secs(f.start),
            per_plan.join("; ")
        ));
    }
    let fallbacks: Vec<String> = results
        .iter()
        .map(|r| {
            let figures = [
                ("to the origin", counter_sum(r, &all, |m| m.fallbacks)),
                ("failed fast", counter_sum(r, &all, |m| m.fallback_rejected)),
                (
                    "refused by a closed rate limit",
                    counter_sum(r, &all, |m| m.rate_limit_rejected),
                ),
                ("locks skipped", counter_sum(r, &all, |m| m.lock_skipped)),
            ];
            let moved: Vec<String> = figures
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(what, n)| format!("{n} {what}"))
                .collect();
            format!(
                "{}: {}",
                escape(&plan_name(scn, r)),
                if moved.is_empty() {
                    "none".into()
                } else {
                    moved.join(", ")
                }
            )
        })
        .collect();
    (
        format!(
            "{} Fallbacks after the warm-up: {} (details in the business-invariants \
             section).{slow_text}",
            parts.join(" "),
            fallbacks.join("; ")
        ),
        Source::Run,
    )
}

pub(super) fn threshold_ms() -> String {
    short_num(STALENESS_THRESHOLD.as_ns() as f64 / 1e6)
}

pub(super) fn stale_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let all: Vec<usize> = (0..scn.keyspaces.len()).collect();
    let watched: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&ki| {
            monitored_any(results, &[ki], Invariant::StaleRead)
                || monitored_any(results, &[ki], Invariant::StaleFinalPrice)
        })
        .collect();
    if watched.is_empty() {
        let text = if scn.events.is_empty() {
            "No source changes on the timeline (no <code>[[events]]</code>): this run does not \
             exercise stale values. Versioned keys (Table A) avoid them by construction."
        } else {
            "The timeline changes no keyspace whose reads are monitored: this run does not \
             exercise stale values."
        };
        return (text.into(), Source::Unknown);
    }
    let per_plan: Vec<String> = results
        .iter()
        .map(|r| {
            let mut what = Vec::new();
            let mut apart = (0, 0);
            for inv in [Invariant::StaleRead, Invariant::StaleFinalPrice] {
                if !monitored_any(std::slice::from_ref(r), &watched, inv) {
                    continue;
                }
                let t = tally_sum(r, 0, &watched, inv);
                apart.0 += t.in_flight;
                apart.1 += t.below_threshold;
                what.push(if t.violations > 0 {
                    format!(
                        "<code>{}</code> {} (max staleness {})",
                        inv.as_str(),
                        t.violations,
                        secs(t.max_staleness)
                    )
                } else {
                    format!("<code>{}</code> 0", inv.as_str())
                });
            }
            if apart != (0, 0) {
                what.push(format!(
                    "reads not counted: {} in flight at a change, {} under {} ms after it",
                    apart.0,
                    apart.1,
                    threshold_ms()
                ));
            }
            format!("{}: {}", escape(&plan_name(scn, r)), what.join(", "))
        })
        .collect();
    let mut s = format!(
        "The source of {} changes on the timeline and the run counts the reads served an older \
         value: {}.",
        names_list(scn, &watched),
        per_plan.join("; ")
    );
    let final_use = keyspaces_where(scn, |k| k.fallback.final_use_fraction > 0.0);
    let unchecked: Vec<usize> = final_use
        .iter()
        .copied()
        .filter(|&ki| !scn.keyspaces[ki].fallback.revalidate_before_final)
        .collect();
    if !final_use.is_empty() {
        s.push_str(&if unchecked.is_empty() {
            format!(
                " Final uses of {} are revalidated at the origin.",
                names_list(scn, &final_use)
            )
        } else {
            format!(
                " Final uses of {} trust the cache without revalidation.",
                names_list(scn, &unchecked)
            )
        });
    }
    (s, Source::Run)
}

pub(super) fn tenant_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let no_tenant = keyspaces_where(scn, |k| !k.key_has_tenant);
    if no_tenant.is_empty() {
        return (
            format!("Yes, in every keyspace ({}).", scn.keyspaces.len()),
            Source::Scenario,
        );
    }
    let mut s = format!("No in {}.", names_list(scn, &no_tenant));
    if !monitored_any(results, &no_tenant, Invariant::CrossTenantRead) {
        return (s, Source::Scenario);
    }
    let per_plan: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                escape(&plan_name(scn, r)),
                tally_sum(r, 0, &no_tenant, Invariant::CrossTenantRead).violations
            )
        })
        .collect();
    s.push_str(&format!(
        " Reads served another tenant's value (<code>cross_tenant_read</code>): {}.",
        per_plan.join("; ")
    ));
    (s, Source::Run)
}

pub(super) fn invalidation_answer(scn: &Scenario) -> (String, Source) {
    let kinds = [
        Invalidation::DeleteOnEvent,
        Invalidation::Versioned,
        Invalidation::TtlOnly,
        Invalidation::None,
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter_map(|kind| {
            let kss: Vec<usize> = (0..scn.keyspaces.len())
                .filter(|&ki| invalidation_kinds(scn, ki).contains(kind))
                .collect();
            (!kss.is_empty()).then(|| format!("{}: {}", kind.label(), names_list(scn, &kss)))
        })
        .collect();
    let text = if parts.is_empty() {
        "No keyspace holds copies of a source (only counters, locks and idempotency records)."
            .to_string()
    } else {
        format!(
            "{}. Per keyspace in Table A, column <i>invalidation</i>, from the keyspaces' \
             templates and TTLs and the timeline's events.",
            parts.join("; ")
        )
    };
    (text, Source::Scenario)
}
