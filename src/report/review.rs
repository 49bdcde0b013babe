//! The design review of the report, apart from its markup: how each timeline event and each
//! keyspace's invalidation are described, and the answers to the checklist of section 29 of
//! the CPQ/OMS Redis boundaries document. Every answer is derived from what the scenario
//! configures (keyspaces, timeline events by action, faults by kind, fallbacks and guards) and
//! what the run measured (fault outcomes, the invariant monitors' tallies, keyspace counters);
//! only what neither can know is marked [`Source::Unknown`]. Pure: HTML fragments, every
//! scenario-provided text escaped, from a resolved [`Scenario`] and its [`PlanResult`]s;
//! `html` lays them out. Touches no file.

use super::html::{dist_text, duration, escape, origin_name, plan_name, popularity_text};
use super::invariants::fault_target;
use super::run_charts::short_num;
use crate::metrics::summary::{measured_s, origin_peaks_per_s};
use crate::metrics::{Invariant, KeyspaceMetrics, PlanResult, Tally, STALENESS_THRESHOLD};
use crate::scenario::dist::Dist;
use crate::scenario::{
    Criticality, Event, EventAction, FaultKind, Keyspace, LockWhenDown, Operation, Popularity,
    Scenario, SourceOfTruth,
};

/// Where a checklist answer comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The scenario's configuration answers it.
    Scenario,
    /// The run's figures answer it (with the scenario's configuration).
    Run,
    /// Neither can: the design review must.
    Unknown,
}

/// One question of the checklist and its answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The question, as section 29 asks it.
    pub question: &'static str,
    /// The answer (HTML).
    pub answer: String,
    /// Where the answer comes from.
    pub source: Source,
}

/// The checklist's questions about Redis being down, stale values, invalidation, locks,
/// PostgreSQL idempotency and Pub/Sub (the tests look answers up by them).
pub const Q_DOWN: &str = "What happens if Redis is down?";
/// See [`Q_DOWN`].
pub const Q_STALE: &str = "What happens if Redis has a stale value?";
/// See [`Q_DOWN`].
pub const Q_INVALIDATION: &str = "Is invalidation event-driven, versioned, or TTL-only?";
/// See [`Q_DOWN`].
pub const Q_LOCK: &str = "Is Redis lock only an optimization?";
/// See [`Q_DOWN`].
pub const Q_DB_IDEMPOTENCY: &str = "Is critical idempotency also stored in PostgreSQL?";
/// See [`Q_DOWN`].
pub const Q_PUBSUB: &str = "Is Pub/Sub only best-effort?";

/// A timeline event described by its action (`new-version`, `delete`, `change`; see
/// `workloads/README.md`, Events).
pub fn event_text(scn: &Scenario, e: &Event) -> String {
    let names = names_list(scn, &e.keyspaces);
    let name = escape(&e.name);
    match e.action {
        EventAction::NewVersion => format!(
            "<b>{name}</b> (<code>new-version</code>): readers of {names} move to a new \
             version, new and cold keys; the old keys stay until they expire or are evicted"
        ),
        EventAction::Delete => format!(
            "<b>{name}</b> (<code>delete</code>): every resident key of {names} is deleted and \
             the invalidation is published over Pub/Sub to the instances' local caches; \
             readers refill the same keys"
        ),
        EventAction::Change => format!(
            "<b>{name}</b> (<code>change</code>): the source of {names} changes and nothing \
             invalidates the cache; readers get the old values until their TTL (without one, \
             until they are evicted)"
        ),
    }
}

/// A fault on the timeline: its name, kind, target and interval.
pub fn fault_text(scn: &Scenario, fi: usize) -> String {
    let f = &scn.faults[fi];
    format!(
        "<b>{}</b> (<code>{}</code>: {}) until {}",
        escape(&f.name),
        f.kind.as_str(),
        escape(&fault_target(scn, fi)),
        duration(f.end)
    )
}

/// How a keyspace's cached values follow their source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invalidation {
    /// `delete` events delete the keys and publish the invalidation (event-driven).
    DeleteOnEvent,
    /// The key carries a version; `new-version` events move readers to new keys.
    Versioned,
    /// Nothing invalidates; a TTL bounds the staleness.
    TtlOnly,
    /// Nothing invalidates and no TTL: an old value stays until it is evicted.
    None,
    /// The keys are no copy of a source (rate limits, locks, idempotency records, records
    /// whose source of truth is Redis).
    NotApplicable,
}

impl Invalidation {
    /// How the checklist names it.
    pub fn label(self) -> &'static str {
        match self {
            Invalidation::DeleteOnEvent => "event-driven (delete + Pub/Sub)",
            Invalidation::Versioned => "versioned",
            Invalidation::TtlOnly => "TTL-only",
            Invalidation::None => "none (no TTL, no version)",
            Invalidation::NotApplicable => "not applicable",
        }
    }
}

/// Whether keyspace `k` serves cached copies of a source (the reads staleness applies to).
fn reads(k: &Keyspace) -> bool {
    matches!(k.operation, Operation::ReadThrough | Operation::Session)
}

/// Whether keyspace `k` holds copies of a source kept elsewhere (what invalidation is about).
fn copies_a_source(k: &Keyspace) -> bool {
    reads(k) && k.fallback.source_of_truth == SourceOfTruth::Origin
}

/// The events of the timeline that touch keyspace `ki` with `action`.
fn events_of(scn: &Scenario, ki: usize, action: EventAction) -> Vec<&Event> {
    scn.events
        .iter()
        .filter(|e| e.action == action && e.keyspaces.contains(&ki))
        .collect()
}

/// The kinds of invalidation keyspace `ki` has, as configured: by the timeline events that
/// touch it and, without any, by its key template and TTL. Sorted, without repeats.
pub fn invalidation_kinds(scn: &Scenario, ki: usize) -> Vec<Invalidation> {
    let k = &scn.keyspaces[ki];
    if !copies_a_source(k) {
        return vec![Invalidation::NotApplicable];
    }
    let ttl_backstop = if k.ttl > crate::engine::SimTime::ZERO {
        Invalidation::TtlOnly
    } else {
        Invalidation::None
    };
    let mut kinds = Vec::new();
    for e in scn.events.iter().filter(|e| e.keyspaces.contains(&ki)) {
        kinds.push(match e.action {
            EventAction::NewVersion => Invalidation::Versioned,
            EventAction::Delete => Invalidation::DeleteOnEvent,
            EventAction::Change => ttl_backstop,
        });
    }
    if kinds.is_empty() {
        kinds.push(if k.key_has_version {
            Invalidation::Versioned
        } else {
            ttl_backstop
        });
    }
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Whether keyspace `ki`'s key carries a version dimension (HTML) and, without one, what its
/// freshness rests on; whether it needs attention (read-through copies without a version).
pub fn key_version(scn: &Scenario, ki: usize) -> (String, bool) {
    let k = &scn.keyspaces[ki];
    if k.key_has_version {
        return ("yes".into(), false);
    }
    if !copies_a_source(k) || k.operation != Operation::ReadThrough {
        return ("no (not needed for this operation)".into(), false);
    }
    let kinds = invalidation_kinds(scn, ki);
    let rests_on = if kinds.contains(&Invalidation::DeleteOnEvent) {
        "on delete-on-event invalidation and its Pub/Sub delivery"
    } else if kinds.contains(&Invalidation::None) {
        "on nothing: no TTL, no invalidation"
    } else {
        "on the TTL alone"
    };
    (format!("no: freshness rests {rests_on}"), true)
}

/// Keyspace `ki`'s invalidation as configured (HTML), and whether it needs attention (a
/// source change nothing invalidates, no TTL and no version, TTL-only read-through data).
pub fn invalidation(scn: &Scenario, ki: usize) -> (String, bool) {
    let k = &scn.keyspaces[ki];
    if !copies_a_source(k) {
        let why = if reads(k) {
            "Redis is the source of truth of these records".to_string()
        } else {
            format!("{} keys are no copy of a source", k.operation.as_str())
        };
        return (format!("not applicable: {why}"), false);
    }
    let when = |action: EventAction| -> Vec<String> {
        events_of(scn, ki, action)
            .iter()
            .map(|e| format!("{} ({})", escape(&e.name), duration(e.at)))
            .collect()
    };
    let ttl_text = if k.ttl.as_ns() == 0 {
        "no TTL: old values stay until evicted".to_string()
    } else {
        format!("the TTL ({}) bounds the staleness", duration(k.ttl))
    };
    let mut parts = Vec::new();
    let mut warn = false;
    let versions = when(EventAction::NewVersion);
    if !versions.is_empty() {
        parts.push(format!(
            "versioned keys: a new version at {}",
            versions.join(", ")
        ));
    }
    let deletes = when(EventAction::Delete);
    if !deletes.is_empty() {
        parts.push(format!(
            "delete-on-event at {}: the keys are deleted and the invalidation published over \
             Pub/Sub",
            deletes.join(", ")
        ));
    }
    let changes = when(EventAction::Change);
    if !changes.is_empty() {
        warn = true;
        parts.push(format!(
            "none: the source changes at {} and nothing invalidates the cache; {ttl_text}",
            changes.join(", ")
        ));
    }
    if parts.is_empty() {
        if k.key_has_version {
            parts.push("versioned keys (no version change in this run)".into());
        } else if k.ttl.as_ns() > 0 {
            parts.push(format!("TTL-only ({})", duration(k.ttl)));
            warn = k.operation == Operation::ReadThrough;
        } else {
            parts.push("none: no TTL and no version in the key, a value never refreshes".into());
            warn = true;
        }
    }
    if let Some(l1) = &k.strategy.local_cache {
        parts.push(format!("local copies live {}", duration(l1.ttl)));
    }
    (parts.join("; "), warn)
}

/// Keyspace `k`'s source of truth when Redis is empty (HTML).
pub fn source_of_truth(scn: &Scenario, k: &Keyspace) -> String {
    match k.operation {
        Operation::RateLimit => {
            "none: Redis holds the counters; an empty Redis resets every window (limits fail open)"
                .into()
        }
        Operation::Lock => {
            "none: an empty Redis frees every lock; correctness must not rely on it".into()
        }
        Operation::Idempotency if k.fallback.db_idempotency => format!(
            "{} and its idempotency table: a retry without its fast-path key is stopped there",
            escape(&origin_name(scn, k))
        ),
        Operation::Idempotency => format!(
            "{}: a retry without its fast-path key runs the command again there",
            escape(&origin_name(scn, k))
        ),
        Operation::ReadThrough | Operation::Session
            if k.fallback.source_of_truth == SourceOfTruth::Redis =>
        {
            "none: Redis is the only store of these records; an empty Redis loses them".into()
        }
        Operation::ReadThrough | Operation::Session => format!(
            "{}: every request loads from it",
            escape(&origin_name(scn, k))
        ),
    }
}

/// Whether keyspace `k`'s value size is bounded (HTML), and whether it needs attention.
pub fn value_bounded(k: &Keyspace) -> (String, bool) {
    let text = escape(&dist_text(&k.value_size_bytes, "B"));
    match k.value_size_bytes {
        Dist::Fixed(_) | Dist::Uniform { .. } | Dist::Empirical { .. } => {
            (format!("yes: {text}"), false)
        }
        Dist::Lognormal { .. } | Dist::Exponential(_) => {
            (format!("no cap modelled: {text} (long tail)"), true)
        }
    }
}

/// Whether a key of keyspace `k` can become hot (HTML), and whether it needs attention.
pub fn hot_key(k: &Keyspace) -> (String, bool) {
    if k.operation == Operation::Idempotency {
        return ("no: a new key per command (retries reuse it)".into(), false);
    }
    let text = escape(&popularity_text(&k.popularity));
    match k.popularity {
        Popularity::Zipf(a) if a >= 0.9 => (format!("yes: {text}, a few keys dominate"), true),
        Popularity::HotSet { .. } => (format!("yes: {text}"), true),
        Popularity::Zipf(_) => (format!("moderately: {text}"), false),
        Popularity::Uniform => ("no: uniform popularity".into(), false),
    }
}

/// The keyspaces of `scn` for which `f` holds, in scenario order.
pub fn keyspaces_where(scn: &Scenario, f: impl Fn(&Keyspace) -> bool) -> Vec<usize> {
    (0..scn.keyspaces.len())
        .filter(|&ki| f(&scn.keyspaces[ki]))
        .collect()
}

/// Keyspace names in bold, comma-separated.
pub fn names_list(scn: &Scenario, kss: &[usize]) -> String {
    kss.iter()
        .filter_map(|ki| scn.keyspaces.get(*ki))
        .map(|k| format!("<b>{}</b>", escape(&k.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tallies of `inv` over keyspaces `kss` in scope `scope` of `res`, added up (only the
/// keyspaces monitored for it).
fn tally_sum(res: &PlanResult, scope: usize, kss: &[usize], inv: Invariant) -> Tally {
    let i = inv.index();
    let mut sum = Tally::default();
    for &ki in kss {
        if !res.invariants.monitored.get(ki).is_some_and(|m| m[i]) {
            continue;
        }
        let Some(t) = res
            .invariants
            .tallies
            .get(scope)
            .and_then(|s| s.get(ki))
            .map(|x| x[i])
        else {
            continue;
        };
        sum.violations += t.violations;
        sum.prevented += t.prevented;
        sum.in_flight += t.in_flight;
        sum.below_threshold += t.below_threshold;
        sum.max_staleness = sum.max_staleness.max(t.max_staleness);
        sum.first = match (sum.first, t.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        sum.last = sum.last.max(t.last);
    }
    sum
}

/// Whether any plan monitors `inv` for any of `kss`.
fn monitored_any(results: &[PlanResult], kss: &[usize], inv: Invariant) -> bool {
    results.iter().any(|r| {
        kss.iter().any(|&ki| {
            r.invariants
                .monitored
                .get(ki)
                .is_some_and(|m| m[inv.index()])
        })
    })
}

/// A keyspace counter added up over `kss`.
fn counter_sum(res: &PlanResult, kss: &[usize], f: impl Fn(&KeyspaceMetrics) -> u64) -> u64 {
    kss.iter()
        .filter_map(|&ki| res.keyspaces.get(ki))
        .map(f)
        .sum()
}

fn secs(t: crate::engine::SimTime) -> String {
    format!("{} s", short_num(t.as_secs_f64()))
}

/// Whether a fault kind takes Redis (or part of it) down.
pub fn is_outage(kind: &FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::ShardDown { .. } | FaultKind::Failover { .. } | FaultKind::ClusterRestart
    )
}

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

fn source_of_truth_answer(scn: &Scenario) -> (String, Source) {
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

fn down_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
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

fn threshold_ms() -> String {
    short_num(STALENESS_THRESHOLD.as_ns() as f64 / 1e6)
}

fn stale_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
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

fn tenant_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
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

fn invalidation_answer(scn: &Scenario) -> (String, Source) {
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

fn idempotency_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let idem = keyspaces_where(scn, |k| k.operation == Operation::Idempotency);
    if idem.is_empty() {
        return (
            "The scenario has no idempotency keyspace.".into(),
            Source::Scenario,
        );
    }
    let parts: Vec<String> = results
        .iter()
        .map(|r| {
            let retries = counter_sum(r, &idem, |m| m.retries);
            let rerun = counter_sum(r, &idem, |m| m.retries_reexecuted);
            let t = tally_sum(r, 0, &idem, Invariant::DuplicateExecution);
            format!(
                "{}: {rerun} of {retries} retries found no fast-path key; {} ran the command \
                 twice (<code>duplicate_execution</code>), {} stopped by the database",
                escape(&plan_name(scn, r)),
                t.violations,
                t.prevented
            )
        })
        .collect();
    (
        format!("For {}: {}.", names_list(scn, &idem), parts.join("; ")),
        Source::Run,
    )
}

fn lock_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let locks = keyspaces_where(scn, |k| k.operation == Operation::Lock);
    if locks.is_empty() {
        return (
            "The scenario has no lock keyspace.".into(),
            Source::Scenario,
        );
    }
    let unguarded: Vec<usize> = locks
        .iter()
        .copied()
        .filter(|&ki| !scn.keyspaces[ki].fallback.db_constraint)
        .collect();
    let mut s = if unguarded.is_empty() {
        format!(
            "Yes: the work under {} is also guarded by a database constraint \
             (<code>fallback.db_constraint</code>).",
            names_list(scn, &locks)
        )
    } else {
        format!(
            "<b>No</b> for {}: no database constraint guards the work, the Redis lock is the \
             only guard.",
            names_list(scn, &unguarded)
        )
    };
    let config: Vec<String> = locks
        .iter()
        .map(|&ki| {
            let f = &scn.keyspaces[ki].fallback;
            format!(
                "{} releases with {} and, with Redis down, {}",
                names_list(scn, &[ki]),
                if f.lock_owner_token {
                    "compare-and-delete of its token"
                } else {
                    "a plain DEL"
                },
                match f.lock {
                    LockWhenDown::Skip => "works without the lock",
                    LockWhenDown::GiveUp => "gives up",
                }
            )
        })
        .collect();
    s.push_str(&format!(" {}.", config.join("; ")));
    let per_plan: Vec<String> = results
        .iter()
        .map(|r| {
            let t = tally_sum(r, 0, &locks, Invariant::LockOverlap);
            format!(
                "{}: {} acquired, {} found held, {} overlapping holders \
                 (<code>lock_overlap</code>), {} stopped by the database, {} other holders' \
                 locks deleted, {} locks skipped",
                escape(&plan_name(scn, r)),
                counter_sum(r, &locks, |m| m.lock_acquired),
                counter_sum(r, &locks, |m| m.lock_contended),
                t.violations,
                t.prevented,
                counter_sum(r, &locks, |m| m.foreign_lock_deletes),
                counter_sum(r, &locks, |m| m.lock_skipped)
            )
        })
        .collect();
    s.push_str(&format!(" In this run: {}.", per_plan.join("; ")));
    (s, Source::Run)
}

fn db_idempotency_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let idem = keyspaces_where(scn, |k| k.operation == Operation::Idempotency);
    if idem.is_empty() {
        return (
            "The scenario has no idempotency keyspace.".into(),
            Source::Scenario,
        );
    }
    let (with, without): (Vec<usize>, Vec<usize>) = idem
        .iter()
        .partition(|&&ki| scn.keyspaces[ki].fallback.db_idempotency);
    let mut s = String::new();
    if !with.is_empty() {
        s.push_str(&format!(
            "Yes for {} (<code>fallback.db_idempotency</code>): a retry that finds no \
             fast-path key is stopped by the database record.",
            names_list(scn, &with)
        ));
    }
    if !without.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!(
            "<b>No</b> for {}: the Redis fast-path key is the only record of a command.",
            names_list(scn, &without)
        ));
    }
    let per_plan: Vec<String> = results
        .iter()
        .map(|r| {
            let t = tally_sum(r, 0, &idem, Invariant::DuplicateExecution);
            format!(
                "{}: {} duplicate executions, {} stopped by the database",
                escape(&plan_name(scn, r)),
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

fn pubsub_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let published: Vec<usize> = (0..scn.keyspaces.len())
        .filter(|&ki| !events_of(scn, ki, EventAction::Delete).is_empty())
        .collect();
    let disconnects: Vec<usize> = (0..scn.faults.len())
        .filter(|&fi| scn.faults[fi].kind == FaultKind::SubscriberDisconnect)
        .collect();
    if published.is_empty() {
        let mut s = "Nothing goes over Pub/Sub in this scenario: no <code>delete</code> event \
                     publishes an invalidation."
            .to_string();
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
    let mut s = format!(
        "Invalidations of {} are published over Pub/Sub at each <code>delete</code> event{}.",
        names_list(scn, &published),
        if with_l1.is_empty() {
            String::new()
        } else {
            format!(
                "; the instances drop their local copies of {} when a message arrives",
                names_list(scn, &with_l1)
            )
        }
    );
    if disconnects.is_empty() {
        s.push_str(
            " No subscriber disconnects in this run, so every message arrives; Pub/Sub is \
             at-most-once, and a <code>subscriber-disconnect</code> fault shows what a lost \
             message costs.",
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
                    escape(&plan_name(scn, r)),
                    t.violations
                );
                if t.violations > 0 {
                    text.push_str(&format!(" (max staleness {})", secs(t.max_staleness)));
                }
                text
            })
            .collect();
        s.push_str(&format!(
            " <b>{}</b> (<code>subscriber-disconnect</code>, {}, {} to {}): {}.",
            escape(&f.name),
            escape(&fault_target(scn, fi)),
            secs(f.start),
            secs(f.end),
            per_plan.join("; ")
        ));
    }
    let backstops: Vec<String> = with_l1
        .iter()
        .filter_map(|&ki| {
            let l1 = scn.keyspaces[ki].strategy.local_cache.as_ref()?;
            Some(format!("{} {}", names_list(scn, &[ki]), duration(l1.ttl)))
        })
        .collect();
    if !backstops.is_empty() {
        s.push_str(&format!(
            " A lost message is backstopped only by the local copies' TTL ({}).",
            backstops.join(", ")
        ));
    }
    s.push_str(
        " Pub/Sub is best-effort here only if that staleness is acceptable; versioned keys do \
         not depend on delivery.",
    );
    (s, Source::Run)
}

fn hot_key_answer(scn: &Scenario, results: &[PlanResult]) -> String {
    let hot = keyspaces_where(scn, |k| hot_key(k).1);
    let mut s = if hot.is_empty() {
        "No keyspace has a strongly skewed popularity.".to_string()
    } else {
        format!("Skewed popularity in {}.", names_list(scn, &hot))
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
                    escape(&plan_name(scn, r)),
                    escape(cluster),
                    busiest.shard,
                    busiest.commands as f64 / measured,
                    ratio
                ))
            })
            .collect();
        if !parts.is_empty() {
            s.push_str(&format!(
                " Shards in the run (chart <i>shard load</i>): {}.",
                parts.join("; ")
            ));
        }
    }
    s
}

fn critical_evictions_answer(scn: &Scenario, results: &[PlanResult]) -> (String, Source) {
    let critical = keyspaces_where(scn, |k| k.criticality == Criticality::Critical);
    if critical.is_empty() {
        return (
            "The scenario marks no keyspace critical.".into(),
            Source::Scenario,
        );
    }
    let parts: Vec<String> = results
        .iter()
        .map(|r| {
            let lost: Vec<String> = critical
                .iter()
                .filter_map(|ki| {
                    let n = r.keyspace_evictions_before_ttl.get(*ki).copied()?;
                    (n > 0).then(|| format!("{} {n}", escape(&scn.keyspaces[*ki].name)))
                })
                .collect();
            if lost.is_empty() {
                format!("{}: none", escape(&plan_name(scn, r)))
            } else {
                format!(
                    "{}: <b>yes</b>, before their TTL ({})",
                    escape(&plan_name(scn, r)),
                    lost.join(", ")
                )
            }
        })
        .collect();
    (
        format!(
            "Critical keyspaces {}. {}.",
            names_list(scn, &critical),
            parts.join("; ")
        ),
        Source::Run,
    )
}

fn origins_answer(scn: &Scenario, results: &[PlanResult]) -> String {
    let mut parts = Vec::new();
    for r in results {
        let peaks = origin_peaks_per_s(scn, r);
        let mut notes = Vec::new();
        for (oi, o) in scn.origins.iter().enumerate() {
            let Some(m) = r.origins.get(oi) else {
                continue;
            };
            if let Some(t) = m.saturated_since {
                notes.push(format!(
                    "<b>{}</b> saturated from {} s ({} rejected, {} timed out)",
                    escape(&o.name),
                    short_num(t.as_secs_f64()),
                    m.rejected,
                    m.timed_out
                ));
            } else if m.rejected > 0 || m.timed_out > 0 {
                notes.push(format!(
                    "<b>{}</b> {} rejected, {} timed out",
                    escape(&o.name),
                    m.rejected,
                    m.timed_out
                ));
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
                    .map(|o| format!("highest peak {} at {v:.1} loads/s", escape(&o.name)))
            })
            .unwrap_or_default();
        let state = if notes.is_empty() {
            "no origin saturated, rejected or timed out".to_string()
        } else {
            notes.join("; ")
        };
        parts.push(format!(
            "{}: {state}; {top_text}",
            escape(&plan_name(scn, r))
        ));
    }
    format!("{}. Details in the origins table.", parts.join(". "))
}

/// The closing line's evidence: whether Redis lost or refused what the business needs in this
/// run (critical keys evicted or refused with OOM, records whose only copy was in Redis lost,
/// commands run twice and lock holders overlapping because a Redis key was missing).
pub fn business_breaks(scn: &Scenario, results: &[PlanResult]) -> String {
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
                escape(&k.name),
                escape(&plan_name(scn, r)),
                what.join(", ")
            ));
        }
    }
    let redis_only = keyspaces_where(scn, |k| {
        reads(k) && k.fallback.source_of_truth == SourceOfTruth::Redis
    });
    if flagged.is_empty() {
        let mut s = "In this run no critical key was lost to eviction, no critical write failed \
                     with OOM, no record whose only copy was in Redis was lost, no command ran \
                     twice and no lock holders overlapped."
            .to_string();
        if !redis_only.is_empty() {
            s.push_str(&format!(
                " Still, Redis is the only store of {}: an empty Redis loses them.",
                names_list(scn, &redis_only)
            ));
        }
        s
    } else {
        format!(
            "In this run Redis lost or refused what the business needs: {}.",
            flagged.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario of the `catalog` keyspace, `events` and `faults` (TOML fragments).
    fn scenario(keyspaces: &str, events: &str, faults: &str) -> Scenario {
        scenario_of(keyspaces, &["catalog"], events, faults)
    }

    /// A scenario of `keyspaces` (named `names`), `events` and `faults` on one cluster.
    fn scenario_of(keyspaces: &str, names: &[&str], events: &str, faults: &str) -> Scenario {
        let placement: Vec<String> = names.iter().map(|n| format!("{n} = \"cache\"")).collect();
        let placement = placement.join(", ");
        let toml = format!(
            r#"version = 1
name = "review"
[simulation]
seed = 5
duration_ms = "20s"
warmup_ms = "1s"
window_ms = "1s"
app_instances = 2
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 16
service_time_ms = {{ dist = "fixed", value = 5 }}
[[clusters]]
name = "cache"
shards = 2
maxmemory_bytes = "16mb"
maxmemory_policy = "allkeys-lru"
{keyspaces}
[[plans]]
name = "p"
placement = {{ {placement} }}
{events}
{faults}"#
        );
        crate::scenario::parse(&toml, "review.toml").expect("test scenario parses")
    }

    /// A catalog keyspace with `template`, `ttl` (a TOML line or nothing) and a local cache.
    fn catalog(template: &str, ttl: &str) -> String {
        format!(
            r#"[[keyspaces]]
name = "catalog"
key_template = "{template}"
operation = "read-through"
rate_per_s = 300
keys_per_tenant = 200
value_size_bytes = {{ dist = "fixed", value = 500 }}
{ttl}
origin = "db"
strategy = {{ kind = "cache-aside", local_cache_keys = 500, local_cache_ttl_ms = "4s" }}"#
        )
    }

    const PLAIN: &str = "catalog:{tenant}:offering:{id}";
    const VERSIONED: &str = "catalog:{tenant}:publication:{publicationId}:offering:{id}";

    fn event(action: &str) -> String {
        format!(
            "[[events]]\nat_ms = \"6s\"\nname = \"edit\"\naction = \"{action}\"\n\
             keyspaces = [\"catalog\"]\n"
        )
    }

    const DISCONNECT: &str = r#"[[faults]]
kind = "subscriber-disconnect"
name = "lost subscribers"
instances = [1]
start_ms = "5s"
end_ms = "9s""#;

    const RESTART: &str = r#"[[faults]]
kind = "cluster-restart"
name = "cold restart"
cluster = "cache"
start_ms = "8s"
end_ms = "9s""#;

    fn answer<'a>(answers: &'a [Answer], question: &str) -> &'a Answer {
        answers
            .iter()
            .find(|a| a.question == question)
            .unwrap_or_else(|| panic!("no answer to {question}"))
    }

    #[test]
    fn events_are_described_by_their_action() {
        for (action, says, never) in [
            ("new-version", "move to a new version", "is deleted"),
            (
                "delete",
                "is deleted and the invalidation is published",
                "new version",
            ),
            ("change", "nothing invalidates the cache", "new version"),
        ] {
            let template = if action == "new-version" {
                VERSIONED
            } else {
                PLAIN
            };
            let scn = scenario(&catalog(template, "ttl_ms = \"5m\""), &event(action), "");
            let text = event_text(&scn, &scn.events[0]);
            assert!(text.contains(says), "{action}: {text}");
            assert!(text.contains(&format!("<code>{action}</code>")), "{text}");
            assert!(!text.contains(never), "{action}: {text}");
        }
    }

    #[test]
    fn invalidation_follows_the_keyspace_settings_and_its_events() {
        let case = |template: &str, ttl: &str, events: &str| {
            let scn = scenario(&catalog(template, ttl), events, "");
            (invalidation_kinds(&scn, 0), invalidation(&scn, 0))
        };
        // The hostile tester's case: no TTL, no version, the source changes.
        let (kinds, (text, warn)) = case(PLAIN, "", &event("change"));
        assert_eq!(kinds, vec![Invalidation::None]);
        assert!(warn && !text.contains("versioned"), "{text}");
        assert!(
            text.contains("nothing invalidates") && text.contains("no TTL"),
            "{text}"
        );
        let (kinds, (text, warn)) = case(PLAIN, "ttl_ms = \"5m\"", &event("change"));
        assert_eq!(kinds, vec![Invalidation::TtlOnly]);
        assert!(warn && text.contains("the TTL (5m) bounds"), "{text}");
        let (kinds, (text, warn)) = case(PLAIN, "ttl_ms = \"5m\"", &event("delete"));
        let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("delete"), "");
        assert!(key_version(&scn, 0).0.contains("delete-on-event"));
        let scn = scenario(&catalog(PLAIN, ""), &event("change"), "");
        assert!(key_version(&scn, 0).0.contains("no TTL, no invalidation"));
        let scn = scenario(&catalog(VERSIONED, ""), "", "");
        assert_eq!(key_version(&scn, 0), ("yes".into(), false));
        assert_eq!(kinds, vec![Invalidation::DeleteOnEvent]);
        assert!(
            !warn && text.contains("delete-on-event at edit (6s)"),
            "{text}"
        );
        assert!(text.contains("local copies live 4s"), "{text}");
        let (kinds, (text, warn)) = case(VERSIONED, "ttl_ms = \"5m\"", &event("new-version"));
        assert_eq!(kinds, vec![Invalidation::Versioned]);
        assert!(
            !warn && text.contains("a new version at edit (6s)"),
            "{text}"
        );
        let (kinds, (text, _)) = case(VERSIONED, "ttl_ms = \"5m\"", "");
        assert_eq!(kinds, vec![Invalidation::Versioned]);
        assert!(text.contains("no version change in this run"), "{text}");
        let (kinds, (text, warn)) = case(PLAIN, "ttl_ms = \"5m\"", "");
        assert_eq!(kinds, vec![Invalidation::TtlOnly]);
        assert!(warn && text.starts_with("TTL-only (5m)"), "{text}");
        let (kinds, (text, warn)) = case(PLAIN, "", "");
        assert_eq!(kinds, vec![Invalidation::None]);
        assert!(warn && text.contains("never refreshes"), "{text}");
        // Two actions on one keyspace: both are said.
        let both = format!(
            "{}\n{}",
            event("delete"),
            event("change").replace("6s", "9s")
        );
        let (kinds, (text, _)) = case(PLAIN, "ttl_ms = \"5m\"", &both);
        assert_eq!(
            kinds,
            vec![Invalidation::DeleteOnEvent, Invalidation::TtlOnly]
        );
        assert!(
            text.contains("delete-on-event") && text.contains("changes at"),
            "{text}"
        );
        let scn = scenario(&catalog(PLAIN, ""), &event("change"), "");
        let (q, _) = invalidation_answer(&scn);
        assert!(
            q.contains("none (no TTL, no version): <b>catalog</b>"),
            "{q}"
        );
    }

    #[test]
    fn the_pubsub_answer_names_the_disconnect_and_what_it_cost() {
        let scn = scenario(
            &catalog(PLAIN, "ttl_ms = \"5m\""),
            &event("delete"),
            DISCONNECT,
        );
        let results = crate::sim::run_all_plans(&scn, 5);
        let answers = checklist_answers(&scn, &results);
        let a = answer(&answers, Q_PUBSUB);
        assert_eq!(a.source, Source::Run);
        assert!(!a.answer.contains("not modelled"), "{}", a.answer);
        assert!(a.answer.contains("lost subscribers"), "{}", a.answer);
        let lost = results[0].faults[0].invalidations_lost;
        assert!(lost > 0, "the disconnected instance lost the message");
        assert!(
            a.answer.contains(&format!("p: {lost} messages lost")),
            "{}",
            a.answer
        );
        let stale = results[0].invariants.tallies[1][0][Invariant::StaleRead.index()];
        assert!(stale.violations > 0);
        assert!(
            a.answer
                .contains(&format!("{} stale reads in its window", stale.violations)),
            "{}",
            a.answer
        );
        assert!(a.answer.contains("local copies' TTL (<b>catalog</b> 4s)"));

        // The same delete without a disconnect, and a change that publishes nothing.
        let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("delete"), "");
        let a = answer(&checklist_answers(&scn, &[]), Q_PUBSUB).clone();
        assert_eq!(a.source, Source::Scenario);
        assert!(
            a.answer.contains("No subscriber disconnects"),
            "{}",
            a.answer
        );
        let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("change"), "");
        let a = answer(&checklist_answers(&scn, &[]), Q_PUBSUB).clone();
        assert!(
            a.answer.contains("Nothing goes over Pub/Sub"),
            "{}",
            a.answer
        );
    }

    #[test]
    fn the_outage_answer_names_a_cluster_restart_and_what_it_cost() {
        let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), "", RESTART);
        let results = crate::sim::run_all_plans(&scn, 5);
        let a = answer(&checklist_answers(&scn, &results), Q_DOWN).clone();
        assert_eq!(a.source, Source::Run);
        assert!(!a.answer.contains("no outage"), "{}", a.answer);
        assert!(
            !a.answer.contains("does not take Redis down"),
            "{}",
            a.answer
        );
        assert!(
            a.answer
                .contains("<b>cold restart</b> (<code>cluster-restart</code>"),
            "{}",
            a.answer
        );
        let o = &results[0].faults[0];
        assert!(o.keys_flushed > 0 && o.commands_failed > 0, "{o:?}");
        assert!(
            a.answer
                .contains(&format!("{} keys gone at restart", o.keys_flushed)),
            "{}",
            a.answer
        );
        assert!(
            a.answer
                .contains(&format!("{} commands refused", o.commands_failed)),
            "{}",
            a.answer
        );

        // Without an outage fault the run cannot answer, and says so.
        let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), "", DISCONNECT);
        let a = answer(&checklist_answers(&scn, &[]), Q_DOWN).clone();
        assert_eq!(a.source, Source::Unknown);
        assert!(
            a.answer.contains("does not take Redis down"),
            "{}",
            a.answer
        );
    }

    #[test]
    fn the_stale_answer_counts_what_the_monitors_counted() {
        let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("change"), "");
        let results = crate::sim::run_all_plans(&scn, 5);
        let a = answer(&checklist_answers(&scn, &results), Q_STALE).clone();
        assert_eq!(a.source, Source::Run);
        let t = results[0].invariants.tallies[0][0][Invariant::StaleRead.index()];
        assert!(t.violations > 0, "nothing invalidates a change: {t:?}");
        assert!(
            a.answer
                .contains(&format!("<code>stale_read</code> {}", t.violations)),
            "{}",
            a.answer
        );
        assert!(!a.answer.contains("not measured"), "{}", a.answer);
        // No event: the run does not exercise staleness.
        let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), "", "");
        let a = answer(&checklist_answers(&scn, &[]), Q_STALE).clone();
        assert_eq!(a.source, Source::Unknown);
        assert!(
            a.answer.contains("no <code>[[events]]</code>"),
            "{}",
            a.answer
        );
    }

    #[test]
    fn records_only_in_redis_lost_in_a_restart_break_the_business() {
        let records = r#"[[keyspaces]]
name = "catalog"
key_template = "accepted:{tenant}:quote:{quoteId}"
operation = "read-through"
criticality = "critical"
rate_per_s = 300
keys_per_tenant = 200
value_size_bytes = { dist = "fixed", value = 200 }
origin = "db"
fallback = { source_of_truth = "redis" }"#;
        let scn = scenario(records, "", RESTART);
        let results = crate::sim::run_all_plans(&scn, 5);
        let lost = results[0].invariants.tallies[0][0][Invariant::LostRecord.index()];
        assert!(lost.violations > 0, "the restart loses records: {lost:?}");
        let text = business_breaks(&scn, &results);
        assert!(
            text.contains(&format!(
                "{} records lost (their only copy was in Redis)",
                lost.violations
            )),
            "{text}"
        );
        let answers = checklist_answers(&scn, &results);
        let truth = &answers[0];
        assert!(truth
            .answer
            .contains("<b>Redis is the source of truth</b> of <b>catalog</b>"));
        let (inval, warn) = invalidation(&scn, 0);
        assert!(inval.starts_with("not applicable: Redis is the source of truth") && !warn);
        // Without the restart nothing is lost, but the line still names the Redis-only records.
        let scn = scenario(records, "", "");
        let text = business_breaks(&scn, &crate::sim::run_all_plans(&scn, 5));
        assert!(
            text.contains("Still, Redis is the only store of <b>catalog</b>"),
            "{text}"
        );
    }

    #[test]
    fn lock_and_idempotency_answers_follow_the_guards() {
        let keyspaces = |db: bool| {
            format!(
                r#"{}
[[keyspaces]]
name = "lock"
key_template = "lock:{{tenant}}:quote:{{quoteId}}"
operation = "lock"
rate_per_s = 50
keys_per_tenant = 100
value_size_bytes = {{ dist = "fixed", value = 40 }}
ttl_ms = "2s"
hold_ms = {{ dist = "fixed", value = 20 }}
fallback = {{ db_constraint = {db} }}
[[keyspaces]]
name = "idem"
key_template = "idem:{{tenant}}:{{key}}"
operation = "idempotency"
rate_per_s = 50
keys_per_tenant = 100
value_size_bytes = {{ dist = "fixed", value = 100 }}
ttl_ms = "1h"
origin = "db"
retry_probability = 0.1
retry_delay_ms = 100
fallback = {{ db_idempotency = {db} }}"#,
                catalog(PLAIN, "ttl_ms = \"5m\"")
            )
        };
        let with = |db: bool| {
            let scn = scenario_of(&keyspaces(db), &["catalog", "lock", "idem"], "", "");
            checklist_answers(&scn, &[])
        };
        let guarded = with(true);
        assert!(answer(&guarded, Q_LOCK).answer.starts_with("Yes"));
        assert!(answer(&guarded, Q_DB_IDEMPOTENCY)
            .answer
            .starts_with("Yes for <b>idem</b>"));
        let bare = with(false);
        assert!(answer(&bare, Q_LOCK)
            .answer
            .starts_with("<b>No</b> for <b>lock</b>"));
        assert!(answer(&bare, Q_LOCK).answer.contains("a plain DEL"));
        assert!(answer(&bare, Q_DB_IDEMPOTENCY)
            .answer
            .starts_with("<b>No</b> for <b>idem</b>"));
    }
}
