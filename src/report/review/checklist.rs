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
    let mut q = |question: &'static str, (answer, source): (Text, Source)| {
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
                Text::plain("Not in the read-through keyspaces ")
                    .then(names_list(scn, &no_version))
                    .words(": their freshness rests on the TTL and on invalidation (Table A).")
            },
            Source::Scenario,
        ),
    );
    let no_ttl = keyspaces_where(scn, |k| k.ttl.as_ns() == 0);
    q(
        "What is the TTL?",
        (
            if no_ttl.is_empty() {
                "Table A. Every keyspace sets one.".into()
            } else {
                Text::plain("Table A. No TTL in ")
                    .then(names_list(scn, &no_ttl))
                    .words(".")
            },
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
                Text::plain("Read-through keyspaces without jitter: ")
                    .then(names_list(scn, &no_jitter))
                    .words(
                        ". Keys loaded together (after a version change or a cold start) expire \
                         together; look for periodic spikes in the origin-load chart.",
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
                Text::plain("The scenario models long-tailed sizes for ")
                    .then(names_list(scn, &unbounded))
                    .words("; the design should cap them.")
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
            Text::plain("This run measures them per keyspace (Table B, ")
                .code("summary.csv")
                .words(", ")
                .code("timeseries.csv")
                .words("). In production Redis reports ")
                .code("keyspace_hits")
                .words(", ")
                .code("keyspace_misses")
                .words(" and ")
                .code("evicted_keys")
                .words(
                    " per instance only: per-keyspace figures need client-side metrics tagged \
                     by keyspace.",
                ),
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

pub(super) fn source_of_truth_answer(scn: &Scenario) -> (Text, Source) {
    let no_origin = keyspaces_where(scn, |k| {
        matches!(k.operation, Operation::RateLimit | Operation::Lock)
    });
    let redis_only = keyspaces_where(scn, |k| {
        reads(k) && k.fallback.source_of_truth == SourceOfTruth::Redis
    });
    let mut s = Text::plain("Table A, first column.");
    if no_origin.is_empty() && redis_only.is_empty() {
        s.push_str(" Every keyspace has an origin.");
    }
    if !no_origin.is_empty() {
        s.push(
            Text::plain(" No origin behind ")
                .then(names_list(scn, &no_origin))
                .words(": Redis is their only store (counters and locks)."),
        );
    }
    if !redis_only.is_empty() {
        s.push(
            Text::plain(" ")
                .strong("Redis is the source of truth")
                .words(" of ")
                .then(names_list(scn, &redis_only))
                .words(" (")
                .code("fallback.source_of_truth = \"redis\"")
                .words("): an empty Redis loses these records."),
        );
    }
    (s, Source::Scenario)
}

pub(super) fn down_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
    let outages: Vec<usize> = (0..scn.faults.len())
        .filter(|&fi| is_outage(&scn.faults[fi].kind))
        .collect();
    let slow: Vec<Text> = scn
        .faults
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FaultKind::ShardSlow { .. } | FaultKind::LatencySpike { .. }
            )
        })
        .map(|f| Text::strong_only(f.name.as_str()).words(format!(" ({})", f.kind.as_str())))
        .collect();
    let slow_text = if slow.is_empty() {
        Text::new()
    } else {
        Text::plain(" Redis is slowed, not down, by ")
            .then(Text::join(slow, ", "))
            .words(".")
    };
    if outages.is_empty() {
        return (
            Text::plain("This run does not take Redis down (no ")
                .code("shard-down")
                .words(", ")
                .code("failover")
                .words(" or ")
                .code("cluster-restart")
                .words(" fault); the origin load with a cold cache during the warm-up (chart ")
                .em("origin load")
                .words(") is the nearest evidence.")
                .then(slow_text),
            Source::Unknown,
        );
    }
    let all: Vec<usize> = (0..scn.keyspaces.len()).collect();
    let mut parts = Vec::new();
    for &fi in &outages {
        let f = &scn.faults[fi];
        let per_plan: Vec<Text> = results
            .iter()
            .map(|r| {
                let name = plan_name(scn, r);
                let Some(o) = r.faults.get(fi) else {
                    return Text::plain(format!("{name}: no figures"));
                };
                if !o.applied {
                    return Text::plain(format!(
                        "{name}: not applied (the plan does not use the cluster)"
                    ));
                }
                let mut what = vec![Text::plain(format!("down until {}", secs(o.end)))];
                if o.commands_failed > 0 {
                    what.push(Text::plain(format!(
                        "{} commands refused or timed out",
                        o.commands_failed
                    )));
                }
                if o.writes_lost > 0 {
                    what.push(Text::plain(format!(
                        "{} unreplicated writes lost",
                        o.writes_lost
                    )));
                }
                if o.keys_flushed > 0 {
                    what.push(Text::plain(format!(
                        "{} keys gone at restart",
                        o.keys_flushed
                    )));
                }
                let broken: Vec<Text> = Invariant::ALL
                    .into_iter()
                    .filter(|inv| *inv != Invariant::CriticalEvictedBeforeTtl)
                    .filter_map(|inv| {
                        let n = tally_sum(r, 1 + fi, &all, inv).violations;
                        (n > 0).then(|| Text::code_only(inv.as_str()).words(format!(" {n}")))
                    })
                    .collect();
                what.push(if broken.is_empty() {
                    "no invariant broken in its window".into()
                } else {
                    Text::plain("in its window ").then(Text::join(broken, ", "))
                });
                Text::plain(format!("{name}: ")).then(Text::join(what, ", "))
            })
            .collect();
        parts.push(
            fault_head(f)
                .words(format!(
                    ", {}, from {}): ",
                    fault_target(scn, fi),
                    secs(f.start)
                ))
                .then(Text::join(per_plan, "; "))
                .words("."),
        );
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
                plan_name(scn, r),
                if moved.is_empty() {
                    "none".into()
                } else {
                    moved.join(", ")
                }
            )
        })
        .collect();
    (
        Text::join(parts, " ")
            .words(format!(
                " Fallbacks after the warm-up: {} (details in the business-invariants section).",
                fallbacks.join("; ")
            ))
            .then(slow_text),
        Source::Run,
    )
}

pub(super) fn threshold_ms() -> String {
    short_num(STALENESS_THRESHOLD.as_ns() as f64 / 1e6)
}

pub(super) fn stale_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
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
            Text::plain("No source changes on the timeline (no ")
                .code("[[events]]")
                .words(
                    "): this run does not exercise stale values. Versioned keys (Table A) \
                     avoid them by construction.",
                )
        } else {
            Text::plain(
                "The timeline changes no keyspace whose reads are monitored: this run does not \
                 exercise stale values.",
            )
        };
        return (text, Source::Unknown);
    }
    let per_plan: Vec<Text> = results
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
                    Text::code_only(inv.as_str()).words(format!(
                        " {} (max staleness {})",
                        t.violations,
                        secs(t.max_staleness)
                    ))
                } else {
                    Text::code_only(inv.as_str()).words(" 0")
                });
            }
            if apart != (0, 0) {
                what.push(Text::plain(format!(
                    "reads not counted: {} in flight at a change, {} under {} ms after it",
                    apart.0,
                    apart.1,
                    threshold_ms()
                )));
            }
            Text::plain(format!("{}: ", plan_name(scn, r))).then(Text::join(what, ", "))
        })
        .collect();
    let mut s = Text::plain("The source of ")
        .then(names_list(scn, &watched))
        .words(" changes on the timeline and the run counts the reads served an older value: ")
        .then(Text::join(per_plan, "; "))
        .words(".");
    let final_use = keyspaces_where(scn, |k| k.fallback.final_use_fraction > 0.0);
    let unchecked: Vec<usize> = final_use
        .iter()
        .copied()
        .filter(|&ki| !scn.keyspaces[ki].fallback.revalidate_before_final)
        .collect();
    if !final_use.is_empty() {
        s.push(if unchecked.is_empty() {
            Text::plain(" Final uses of ")
                .then(names_list(scn, &final_use))
                .words(" are revalidated at the origin.")
        } else {
            Text::plain(" Final uses of ")
                .then(names_list(scn, &unchecked))
                .words(" trust the cache without revalidation.")
        });
    }
    (s, Source::Run)
}

pub(super) fn tenant_answer(scn: &Scenario, results: &[PlanResult]) -> (Text, Source) {
    let no_tenant = keyspaces_where(scn, |k| !k.key_has_tenant);
    if no_tenant.is_empty() {
        return (
            Text::plain(format!("Yes, in every keyspace ({}).", scn.keyspaces.len())),
            Source::Scenario,
        );
    }
    let mut s = Text::plain("No in ")
        .then(names_list(scn, &no_tenant))
        .words(".");
    if !monitored_any(results, &no_tenant, Invariant::CrossTenantRead) {
        return (s, Source::Scenario);
    }
    let per_plan: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                plan_name(scn, r),
                tally_sum(r, 0, &no_tenant, Invariant::CrossTenantRead).violations
            )
        })
        .collect();
    s.push(
        Text::plain(" Reads served another tenant's value (")
            .code("cross_tenant_read")
            .words(format!("): {}.", per_plan.join("; "))),
    );
    (s, Source::Run)
}

pub(super) fn invalidation_answer(scn: &Scenario) -> (Text, Source) {
    let kinds = [
        Invalidation::DeleteOnEvent,
        Invalidation::Versioned,
        Invalidation::TtlOnly,
        Invalidation::None,
    ];
    let parts: Vec<Text> = kinds
        .iter()
        .filter_map(|kind| {
            let kss: Vec<usize> = (0..scn.keyspaces.len())
                .filter(|&ki| invalidation_kinds(scn, ki).contains(kind))
                .collect();
            (!kss.is_empty())
                .then(|| Text::plain(format!("{}: ", kind.label())).then(names_list(scn, &kss)))
        })
        .collect();
    let text = if parts.is_empty() {
        Text::plain(
            "No keyspace holds copies of a source (only counters, locks and idempotency \
             records).",
        )
    } else {
        Text::join(parts, "; ")
            .words(". Per keyspace in Table A, column ")
            .em("invalidation")
            .words(", from the keyspaces' templates and TTLs and the timeline's events.")
    };
    (text, Source::Scenario)
}
