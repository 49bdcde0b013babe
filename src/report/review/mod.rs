//! The design review of the report, apart from its markup: how each timeline event and each
//! keyspace's invalidation are described, and the answers to the checklist of section 29 of
//! the CPQ/OMS Redis boundaries document. Every answer is derived from what the scenario
//! configures (keyspaces, timeline events by action, faults by kind, fallbacks and guards) and
//! what the run measured (fault outcomes, the invariant monitors' tallies, keyspace counters);
//! only what neither can know is marked [`Source::Unknown`]. Pure data, no markup: each
//! answer and finding is a [`Text`] of styled spans, from a resolved [`Scenario`] and its
//! [`PlanResult`]s; `html` renders them. Touches no file.

use super::html::{dist_text, duration, jitter_text, origin_name, plan_name, popularity_text};
use super::invariants::fault_target;
use super::run_charts::short_num;
use crate::metrics::summary::{measured_s, origin_peaks_per_s};
use crate::metrics::{Invariant, KeyspaceMetrics, PlanResult, Tally, STALENESS_THRESHOLD};
use crate::scenario::dist::Dist;
use crate::scenario::{
    Criticality, Event, EventAction, FaultKind, Jitter, Keyspace, LockWhenDown, Operation,
    Popularity, Scenario, SourceOfTruth,
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
    /// The answer.
    pub answer: Text,
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
pub fn event_text(scn: &Scenario, e: &Event) -> Text {
    let names = names_list(scn, &e.keyspaces);
    let head = |action: &str, what: &str| {
        Text::strong_only(e.name.as_str())
            .words(" (")
            .code(action)
            .words(format!("): {what} "))
    };
    match e.action {
        EventAction::NewVersion => head("new-version", "readers of").then(names).words(
            " move to a new version, new and cold keys; the old keys stay until they expire \
             or are evicted",
        ),
        EventAction::Delete => head("delete", "every resident key of").then(names).words(
            " is deleted and the invalidation is published over Pub/Sub to the instances' \
             local caches; readers refill the same keys",
        ),
        EventAction::Change => head("change", "the source of").then(names).words(
            " changes and nothing invalidates the cache; readers get the old values until \
             their TTL (without one, until they are evicted)",
        ),
    }
}

/// A fault on the timeline: its name, kind, target and interval.
pub fn fault_text(scn: &Scenario, fi: usize) -> Text {
    let f = &scn.faults[fi];
    fault_head(f).words(format!(
        ": {}) until {}",
        fault_target(scn, fi),
        duration(f.end)
    ))
}

/// A fault's name and, in parentheses, its kind: "**name** (`kind`" (the caller closes).
fn fault_head(f: &crate::scenario::Fault) -> Text {
    Text::strong_only(f.name.as_str())
        .words(" (")
        .code(f.kind.as_str())
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

/// Whether keyspace `ki`'s key carries a version dimension and, without one, what its
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

/// Keyspace `ki`'s invalidation as configured, and whether it needs attention (a
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
            .map(|e| format!("{} ({})", e.name, duration(e.at)))
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

/// Keyspace `k`'s source of truth when Redis is empty.
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
            origin_name(scn, k)
        ),
        Operation::Idempotency => format!(
            "{}: a retry without its fast-path key runs the command again there",
            origin_name(scn, k)
        ),
        Operation::ReadThrough | Operation::Session
            if k.fallback.source_of_truth == SourceOfTruth::Redis =>
        {
            "none: Redis is the only store of these records; an empty Redis loses them".into()
        }
        Operation::ReadThrough | Operation::Session => {
            format!("{}: every request loads from it", origin_name(scn, k))
        }
    }
}

/// Whether keyspace `k`'s value size is bounded, and whether it needs attention.
pub fn value_bounded(k: &Keyspace) -> (String, bool) {
    let text = dist_text(&k.value_size_bytes, "B");
    match k.value_size_bytes {
        Dist::Fixed(_) | Dist::Uniform { .. } | Dist::Empirical { .. } => {
            (format!("yes: {text}"), false)
        }
        Dist::Lognormal { .. } | Dist::Exponential(_) => {
            (format!("no cap modelled: {text} (long tail)"), true)
        }
    }
}

/// Whether a key of keyspace `k` can become hot, and whether it needs attention.
pub fn hot_key(k: &Keyspace) -> (String, bool) {
    if k.operation == Operation::Idempotency {
        return ("no: a new key per command (retries reuse it)".into(), false);
    }
    let text = popularity_text(&k.popularity);
    match k.popularity {
        Popularity::Zipf(a) if a >= 0.9 => (format!("yes: {text}, a few keys dominate"), true),
        Popularity::HotSet { .. } => (format!("yes: {text}"), true),
        Popularity::Zipf(_) => (format!("moderately: {text}"), false),
        Popularity::Uniform => ("no: uniform popularity".into(), false),
    }
}

/// A finding of table A: its text and whether it needs attention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What the scenario says.
    pub text: String,
    /// Whether it needs attention (highlighted).
    pub warn: bool,
}

impl Finding {
    fn new((text, warn): (String, bool)) -> Finding {
        Finding { text, warn }
    }
}

/// Table A's findings for one keyspace, from the scenario, in the table's column order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyspaceFindings {
    /// Its source of truth when Redis is empty.
    pub source_of_truth: Finding,
    /// Whether its key includes the tenant.
    pub tenant: Finding,
    /// Whether its key includes a version dimension.
    pub version: Finding,
    /// Its TTL.
    pub ttl: Finding,
    /// Its TTL jitter.
    pub jitter: Finding,
    /// Its invalidation.
    pub invalidation: Finding,
    /// Whether its value size is bounded.
    pub value_size: Finding,
    /// Whether a key can become hot.
    pub hot_key: Finding,
}

impl KeyspaceFindings {
    /// The findings in the table's column order, as (text, needs attention).
    pub fn cells(&self) -> [(&str, bool); 8] {
        [
            &self.source_of_truth,
            &self.tenant,
            &self.version,
            &self.ttl,
            &self.jitter,
            &self.invalidation,
            &self.value_size,
            &self.hot_key,
        ]
        .map(|f| (f.text.as_str(), f.warn))
    }
}

/// Table A: every keyspace's findings, in scenario order.
pub fn keyspace_findings(scn: &Scenario) -> Vec<KeyspaceFindings> {
    scn.keyspaces
        .iter()
        .enumerate()
        .map(|(ki, k)| {
            let no_ttl = k.ttl.as_ns() == 0;
            let jitter_warn = matches!(k.jitter, Jitter::None)
                && !no_ttl
                && k.operation == Operation::ReadThrough;
            KeyspaceFindings {
                source_of_truth: Finding::new((source_of_truth(scn, k), false)),
                tenant: Finding::new(if k.key_has_tenant {
                    ("yes".into(), false)
                } else {
                    ("no: keys of tenants can collide".into(), true)
                }),
                version: Finding::new(key_version(scn, ki)),
                ttl: Finding::new(if no_ttl {
                    ("none".into(), true)
                } else {
                    (duration(k.ttl), false)
                }),
                jitter: Finding::new(if jitter_warn {
                    ("none: keys written together expire together".into(), true)
                } else {
                    (jitter_text(&k.jitter), false)
                }),
                invalidation: Finding::new(invalidation(scn, ki)),
                value_size: Finding::new(value_bounded(k)),
                hot_key: Finding::new(hot_key(k)),
            }
        })
        .collect()
}

/// The keyspaces of `scn` for which `f` holds, in scenario order.
pub fn keyspaces_where(scn: &Scenario, f: impl Fn(&Keyspace) -> bool) -> Vec<usize> {
    (0..scn.keyspaces.len())
        .filter(|&ki| f(&scn.keyspaces[ki]))
        .collect()
}

/// Keyspace names, strong, comma-separated.
pub fn names_list(scn: &Scenario, kss: &[usize]) -> Text {
    Text::join(
        kss.iter()
            .filter_map(|ki| scn.keyspaces.get(*ki))
            .map(|k| Text::strong_only(k.name.as_str())),
        ", ",
    )
}

/// The tally of `inv` for keyspace `ki` in scope `scope` of `res` (0: the run after the
/// warm-up, 1 + f: fault f's window); None when the keyspace is not monitored for it.
pub fn monitored_tally(res: &PlanResult, scope: usize, ki: usize, inv: Invariant) -> Option<Tally> {
    let i = inv.index();
    if !res.invariants.monitored.get(ki).is_some_and(|m| m[i]) {
        return None;
    }
    res.invariants
        .tallies
        .get(scope)
        .and_then(|s| s.get(ki))
        .map(|x| x[i])
}

/// The tallies of `inv` over keyspaces `kss` in scope `scope` of `res`, added up (only the
/// keyspaces monitored for it).
fn tally_sum(res: &PlanResult, scope: usize, kss: &[usize], inv: Invariant) -> Tally {
    let mut sum = Tally::default();
    for &ki in kss {
        let Some(t) = monitored_tally(res, scope, ki, inv) else {
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

mod checklist;
mod outcomes;
#[cfg(test)]
mod tests;
mod text;

pub use checklist::checklist_answers;
pub use outcomes::business_breaks;
pub use text::{Style, Text};
