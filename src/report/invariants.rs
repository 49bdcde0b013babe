//! The report section "Does the business invariant hold?": per plan and per scope (the whole
//! run after the warm-up, each fault's window) the violations of every monitored invariant,
//! when the first happened and the largest staleness (and, apart, the reads of an older value
//! that are not violations, with the reason); the faults and what they did in each
//! plan; and the fallbacks and guards that acted. Pure: returns markup built with maud (every
//! text escaped by construction) from a resolved [`Scenario`] and its [`PlanResult`]s,
//! touches no file.
//! The figures are those of `invariants.csv` (`super::tables::invariants_csv`).

use super::html::plan_name;
use super::review::{monitored_tally, Text};
use super::run_charts::short_num;
use super::tables::{has_guard, invariant_scopes};
use crate::metrics::{Invariant, PlanResult, STALENESS_THRESHOLD};
use crate::scenario::{FaultKind, Scenario};
use maud::{html, Markup};

/// Id of the section (the tests and the browser check look for it).
pub const INVARIANTS_SECTION_ID: &str = "invariants";

/// What each invariant means, as the report explains it.
pub fn meaning(inv: Invariant) -> &'static str {
    match inv {
        Invariant::DuplicateExecution => {
            "a critical command ran twice: its retry found no fast-path key (evicted, expired, \
             lost in a failover, Redis down) and no database idempotency record stopped it \
             (section 10)"
        }
        Invariant::LockOverlap => {
            "two holders worked under one lock at once (TTL shorter than the work, a blind DEL \
             of another holder's lock, a lock lost in a failover, a skipped lock) with no \
             database constraint guarding the work (section 11)"
        }
        Invariant::StaleRead => {
            "a read served a value older than the source's last change (an invalidation lost \
             while a subscriber was disconnected, or none at all) until a TTL backstopped it \
             (sections 8, 13, 22.2)"
        }
        Invariant::StaleFinalPrice => {
            "a cached price preview was used as the final price after the price book changed, \
             without revalidation (section 4)"
        }
        Invariant::CrossTenantRead => {
            "a read returned a value written for another tenant: the key template lacks the \
             tenant (section 16)"
        }
        Invariant::LostRecord => {
            "a record whose only copy was in Redis was gone (evicted, expired, lost in a \
             failover or a restart; anti-patterns 28.1, 28.3)"
        }
        Invariant::CriticalEvictedBeforeTtl => {
            "a critical key (idempotency, session) was evicted before its TTL (section 21); \
             counted by the shards, for the whole run only"
        }
    }
}

/// The staleness threshold as the report writes it ("1 ms").
fn threshold_text() -> String {
    format!("{} ms", short_num(STALENESS_THRESHOLD.as_ns() as f64 / 1e6))
}

/// How reads of an older value are counted, as the report explains it (the rule of
/// `output/README.md`, `invariants.csv`).
pub fn staleness_rule() -> Text {
    let t = threshold_text();
    Text::plain(format!(
        "A read served a value older than the source's last change is a violation only when \
         its request started after the change and was served {t} or more after it. Reads \
         whose request started before the change and got the value that was current when it \
         started ("
    ))
    .em("in flight at the change")
    .words(format!("), and reads less than {t} after the change (the "))
    .em("staleness threshold")
    .words(
        ": a real invalidation takes at least a network round trip, so a read this close \
         cannot be told apart from that race) are counted apart, with their reason, in the \
         cells below and in ",
    )
    .code("invariants.csv")
    .words(" (")
    .code("in_flight_reads")
    .words(", ")
    .code("below_threshold_reads")
    .words(").")
}

fn secs(t: crate::engine::SimTime) -> String {
    format!("{} s", short_num(t.as_secs_f64()))
}

/// What fault `fi` hits (cluster/shard, instances, keyspaces) and how hard.
pub fn fault_target(scn: &Scenario, fi: usize) -> String {
    let f = &scn.faults[fi];
    let mut t = match (f.cluster, f.shard) {
        (Some(c), Some(s)) => format!("{}/{s}", scn.clusters[c].name),
        (Some(c), None) => format!("{} (every shard)", scn.clusters[c].name),
        _ => String::new(),
    };
    if let FaultKind::TrafficBurst {
        multiplier,
        keyspaces,
    } = &f.kind
    {
        let names: Vec<&str> = keyspaces
            .iter()
            .map(|k| scn.keyspaces[*k].name.as_str())
            .collect();
        t = format!("{} ×{}", names.join(", "), short_num(*multiplier));
    }
    if !f.instances.is_empty() {
        let list: Vec<String> = f.instances.iter().map(|i| i.to_string()).collect();
        if !t.is_empty() {
            t.push_str("; ");
        }
        t.push_str(&format!("instances {}", list.join(", ")));
    }
    if t.is_empty() {
        t = "every instance".into();
    }
    match &f.kind {
        FaultKind::ShardSlow { multiplier } => format!("{t}, service ×{}", short_num(*multiplier)),
        FaultKind::LatencySpike { multiplier } => format!("{t}, RTT ×{}", short_num(*multiplier)),
        FaultKind::ShardDown { mode } => format!("{t}, {}", mode.as_str()),
        FaultKind::Failover {
            replication_lag, ..
        } => match replication_lag {
            Some(lag) => format!("{t}, replication lag {}", secs(*lag)),
            None => format!("{t}, the cluster's replication lag"),
        },
        _ => t,
    }
}

/// The whole section.
pub fn invariants_section(scn: &Scenario, results: &[PlanResult]) -> Markup {
    let monitored: Vec<Invariant> = Invariant::ALL
        .into_iter()
        .filter(|inv| {
            results
                .iter()
                .any(|r| r.invariants.monitored.iter().any(|m| m[inv.index()]))
        })
        .collect();
    html! {
        h2 id=(INVARIANTS_SECTION_ID) { "Does the business invariant hold?" }
        @if monitored.is_empty() {
            p {
                "No keyspace of this scenario carries a monitored invariant (idempotency, lock, \
                 invalidated or tenant-shared reads, Redis-only records, critical keys)."
            }
        } @else {
            p {
                "The simulation watches the business invariants of the CPQ/OMS Redis boundaries \
                 document as the requests run, and counts each violation with its time. A count \
                 of 0 means the invariant held in this run; " i { "stopped" } " counts the \
                 would-be violations a database guard caught. The same figures are in "
                code { "invariants.csv" } "; the time series in " code { "timeseries.csv" }
                " (entity kind " code { "invariant" } ")."
            }
            dl {
                @for inv in &monitored {
                    dt { code { (inv.as_str()) } }
                    dd { (meaning(*inv)) }
                }
            }
            @if monitored.iter().any(|inv| inv.has_staleness()) {
                p id="staleness-rule" { (staleness_rule()) }
            }
            ul {
                @for res in results {
                    @let broken = broken_invariants(res);
                    li {
                        b { (plan_name(scn, res)) } ": "
                        @if broken.is_empty() {
                            span.badge.b-pass { "every monitored invariant holds" }
                        } @else {
                            span.badge.b-fail { "broken" } " " (broken.join(", "))
                        }
                    }
                }
            }
            (faults_table(scn, results))
            @if let Some(first) = results.first() {
                @for (si, (scope, fault, from, to)) in invariant_scopes(scn, first).into_iter().enumerate() {
                    @if scope == "run" {
                        h3 { "Whole run, after the warm-up (" (secs(from)) " to " (secs(to)) ")" }
                    } @else {
                        @let f = &scn.faults[si - 1];
                        h3 {
                            "Fault \"" (fault) "\" (" (f.kind.as_str()) "): violations from "
                            (secs(from)) " to its end + " (secs(f.attribution))
                        }
                    }
                    (scope_table(scn, results, si))
                }
            }
            (guards_table(scn, results))
        }
    }
}

/// The invariants `res` broke in the whole run, with their counts ("name (n)").
fn broken_invariants(res: &PlanResult) -> Vec<String> {
    Invariant::ALL
        .iter()
        .filter_map(|inv| {
            let n: u64 = res.invariants.tallies[0]
                .iter()
                .map(|t| t[inv.index()].violations)
                .sum();
            (n > 0).then(|| format!("{} ({n})", inv.as_str()))
        })
        .collect()
}

/// The table of scope `si` (0: the run, 1 + f: fault f's window): per keyspace and monitored
/// invariant, each plan's violations and their details.
fn scope_table(scn: &Scenario, results: &[PlanResult], si: usize) -> Markup {
    let data_scope = if si == 0 {
        "run".to_string()
    } else {
        format!("fault-{}", si - 1)
    };
    html! {
        table.invariants data-scope=(data_scope) {
            thead { tr {
                th { "keyspace" } th { "invariant" }
                @for res in results { th { (plan_name(scn, res)) } }
            } }
            tbody {
                @for (ki, k) in scn.keyspaces.iter().enumerate() {
                    @for inv in Invariant::ALL {
                        @let i = inv.index();
                        @if !(si > 0 && inv == Invariant::CriticalEvictedBeforeTtl)
                            && results.iter().any(|r| r.invariants.monitored.get(ki).is_some_and(|m| m[i]))
                        {
                            tr {
                                td { (k.name) } td { code { (inv.as_str()) } }
                                @for res in results { (tally_cell(res, si, ki, inv)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One plan's cell of a scope table: the violations and their details.
fn tally_cell(res: &PlanResult, si: usize, ki: usize, inv: Invariant) -> Markup {
    let Some(t) = monitored_tally(res, si, ki, inv) else {
        return html! { td.nodata { "not monitored" } };
    };
    let mut detail = Vec::new();
    if let Some(first) = t.first {
        detail.push(format!("first at {}", secs(first)));
    }
    if inv.has_staleness() && t.violations > 0 {
        detail.push(format!("max staleness {}", secs(t.max_staleness)));
    }
    if inv.has_staleness() && t.in_flight > 0 {
        detail.push(format!(
            "not counted: {} in flight at the change",
            t.in_flight
        ));
    }
    if inv.has_staleness() && t.below_threshold > 0 {
        detail.push(format!(
            "not counted: {} under {} after the change",
            t.below_threshold,
            threshold_text()
        ));
    }
    if has_guard(inv) && t.prevented > 0 {
        detail.push(format!("{} stopped by the database", t.prevented));
    }
    let class = if t.violations > 0 {
        "num fail"
    } else {
        "num pass"
    };
    html! {
        td class=(class) data-invariant=(inv.as_str()) data-violations=(t.violations) {
            (t.violations)
            @if !detail.is_empty() {
                br;
                span.muted { (detail.join("; ")) }
            }
        }
    }
}

/// What fault `fi` did in `res` (None: no figures; Some(Err): not applied).
fn fault_outcome_text(res: &PlanResult, fi: usize) -> Option<Result<String, ()>> {
    let o = res.faults.get(fi)?;
    if !o.applied {
        return Some(Err(()));
    }
    let mut parts = vec![format!("until {}", secs(o.end))];
    if o.commands_failed > 0 {
        parts.push(format!(
            "{} commands refused or timed out",
            o.commands_failed
        ));
    }
    if o.writes_lost > 0 {
        parts.push(format!("{} unreplicated writes lost", o.writes_lost));
    }
    if o.keys_flushed > 0 {
        parts.push(format!("{} keys gone at restart", o.keys_flushed));
    }
    if o.invalidations_lost > 0 {
        parts.push(format!(
            "{} invalidation messages lost",
            o.invalidations_lost
        ));
    }
    Some(Ok(parts.join("; ")))
}

fn faults_table(scn: &Scenario, results: &[PlanResult]) -> Markup {
    html! {
        @if scn.faults.is_empty() {
            p { "The scenario injects no fault (" code { "[[faults]]" } ")." }
        } @else {
            h3 { "Faults" }
            table id="faults" {
                thead { tr {
                    th { "fault" } th { "kind" } th { "target" } th { "from" }
                    @for res in results { th { (plan_name(scn, res)) } }
                } }
                tbody {
                    @for (fi, f) in scn.faults.iter().enumerate() {
                        tr {
                            td { (f.name) } td { (f.kind.as_str()) } td { (fault_target(scn, fi)) }
                            td.num { (secs(f.start)) }
                            @for res in results {
                                @match fault_outcome_text(res, fi) {
                                    None => td.nodata { "-" },
                                    Some(Err(())) => td.nodata { "not applied (the plan does not use the cluster)" },
                                    Some(Ok(text)) => td { (text) },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Fallback and guard counters that moved, per plan and keyspace.
fn guards_table(scn: &Scenario, results: &[PlanResult]) -> Markup {
    let mut rows = Vec::new();
    for res in results {
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let Some(m) = res.keyspaces.get(ki) else {
                continue;
            };
            let figures = [
                ("fallbacks", m.fallbacks),
                ("Redis retries", m.redis_retries),
                ("failed fast (bulkhead full)", m.fallback_rejected),
                ("refused (rate limit closed)", m.rate_limit_rejected),
                ("lock skipped", m.lock_skipped),
                ("another holder's lock deleted", m.foreign_lock_deletes),
                ("final uses revalidated", m.final_revalidations),
            ];
            let moved: Vec<String> = figures
                .iter()
                .filter(|(_, v)| *v > 0)
                .map(|(n, v)| format!("{n}: {v}"))
                .collect();
            if !moved.is_empty() {
                rows.push((plan_name(scn, res), k.name.as_str(), moved.join("; ")));
            }
        }
    }
    html! {
        @if !rows.is_empty() {
            h3 { "Fallbacks and guards at work" }
            table id="guards" {
                thead { tr { th { "plan" } th { "keyspace" } th { "after the warm-up" } } }
                tbody {
                    @for (plan, keyspace, moved) in &rows {
                        tr { td { (plan) } td { (keyspace) } td { (moved) } }
                    }
                }
            }
        }
    }
}
