//! The report section "Does the business invariant hold?": per plan and per scope (the whole
//! run after the warm-up, each fault's window) the violations of every monitored invariant,
//! when the first happened and the largest staleness (and, apart, the reads of an older value
//! that are not violations, with the reason); the faults and what they did in each
//! plan; and the fallbacks and guards that acted. Pure: returns HTML text from a resolved
//! [`Scenario`] and its [`PlanResult`]s, escapes every scenario-provided text, touches no file.
//! The figures are those of `invariants.csv` (`super::tables::invariants_csv`).

use super::html::escape;
use super::run_charts::short_num;
use super::tables::{has_guard, invariant_scopes};
use crate::metrics::{Invariant, PlanResult, STALENESS_THRESHOLD};
use crate::scenario::{FaultKind, Scenario};
use std::fmt::Write;

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
pub fn staleness_rule() -> String {
    format!(
        "A read served a value older than the source's last change is a violation only when \
         its request started after the change and was served {t} or more after it. Reads \
         whose request started before the change and got the value that was current when it \
         started (<i>in flight at the change</i>), and reads less than {t} after the change \
         (the <i>staleness threshold</i>: a real invalidation takes at least a network round \
         trip, so a read this close cannot be told apart from that race) are counted apart, \
         with their reason, in the cells below and in <code>invariants.csv</code> \
         (<code>in_flight_reads</code>, <code>below_threshold_reads</code>).",
        t = threshold_text()
    )
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
pub fn invariants_section(h: &mut String, scn: &Scenario, results: &[PlanResult]) {
    let _ = writeln!(
        h,
        "<h2 id=\"{INVARIANTS_SECTION_ID}\">Does the business invariant hold?</h2>"
    );
    let monitored: Vec<Invariant> = Invariant::ALL
        .into_iter()
        .filter(|inv| {
            results
                .iter()
                .any(|r| r.invariants.monitored.iter().any(|m| m[inv.index()]))
        })
        .collect();
    if monitored.is_empty() {
        h.push_str(
            "<p>No keyspace of this scenario carries a monitored invariant (idempotency, lock, \
             invalidated or tenant-shared reads, Redis-only records, critical keys).</p>\n",
        );
        return;
    }
    h.push_str(
        "<p>The simulation watches the business invariants of the CPQ/OMS Redis boundaries \
         document as the requests run, and counts each violation with its time. A count of 0 \
         means the invariant held in this run; <i>stopped</i> counts the would-be violations a \
         database guard caught. The same figures are in <code>invariants.csv</code>; the time \
         series in <code>timeseries.csv</code> (entity kind <code>invariant</code>).</p>\n<dl>\n",
    );
    for inv in &monitored {
        let _ = writeln!(
            h,
            "<dt><code>{}</code></dt><dd>{}</dd>",
            inv.as_str(),
            escape(meaning(*inv))
        );
    }
    h.push_str("</dl>\n");
    if monitored.iter().any(|inv| inv.has_staleness()) {
        let _ = writeln!(h, "<p id=\"staleness-rule\">{}</p>", staleness_rule());
    }
    h.push_str("<ul>\n");
    for res in results {
        let broken: Vec<String> = Invariant::ALL
            .iter()
            .filter_map(|inv| {
                let n: u64 = res.invariants.tallies[0]
                    .iter()
                    .map(|t| t[inv.index()].violations)
                    .sum();
                (n > 0).then(|| format!("{} ({n})", inv.as_str()))
            })
            .collect();
        let verdict = if broken.is_empty() {
            "<span class=\"badge b-pass\">every monitored invariant holds</span>".to_string()
        } else {
            format!(
                "<span class=\"badge b-fail\">broken</span> {}",
                escape(&broken.join(", "))
            )
        };
        let _ = writeln!(
            h,
            "<li><b>{}</b>: {verdict}</li>",
            escape(&plan_name(scn, res))
        );
    }
    h.push_str("</ul>\n");
    faults_table(h, scn, results);
    let Some(first) = results.first() else {
        return;
    };
    for (si, (scope, fault, from, to)) in invariant_scopes(scn, first).into_iter().enumerate() {
        if scope == "run" {
            let _ = writeln!(
                h,
                "<h3>Whole run, after the warm-up ({} to {})</h3>",
                secs(from),
                secs(to)
            );
        } else {
            let f = &scn.faults[si - 1];
            let _ = writeln!(
                h,
                "<h3>Fault \"{}\" ({}): violations from {} to its end + {}</h3>",
                escape(fault),
                f.kind.as_str(),
                secs(from),
                secs(f.attribution)
            );
        }
        let _ = write!(
            h,
            "<table class=\"invariants\" data-scope=\"{}\">\n<thead><tr><th>keyspace</th>\
             <th>invariant</th>",
            if scope == "run" {
                "run".to_string()
            } else {
                format!("fault-{}", si - 1)
            }
        );
        for res in results {
            let _ = write!(h, "<th>{}</th>", escape(&plan_name(scn, res)));
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            for inv in Invariant::ALL {
                let i = inv.index();
                if si > 0 && inv == Invariant::CriticalEvictedBeforeTtl {
                    continue;
                }
                if !results
                    .iter()
                    .any(|r| r.invariants.monitored.get(ki).is_some_and(|m| m[i]))
                {
                    continue;
                }
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td><code>{}</code></td>",
                    escape(&k.name),
                    inv.as_str()
                );
                for res in results {
                    let monitored = res.invariants.monitored.get(ki).is_some_and(|m| m[i]);
                    let Some(t) = res
                        .invariants
                        .tallies
                        .get(si)
                        .and_then(|s| s.get(ki))
                        .map(|x| x[i])
                        .filter(|_| monitored)
                    else {
                        h.push_str("<td class=\"nodata\">not monitored</td>");
                        continue;
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
                    let _ = write!(
                        h,
                        "<td class=\"num {}\" data-invariant=\"{}\" data-violations=\"{}\">{}{}</td>",
                        if t.violations > 0 { "fail" } else { "pass" },
                        inv.as_str(),
                        t.violations,
                        t.violations,
                        if detail.is_empty() {
                            String::new()
                        } else {
                            format!("<br><span class=\"muted\">{}</span>", detail.join("; "))
                        }
                    );
                }
                h.push_str("</tr>\n");
            }
        }
        h.push_str("</tbody>\n</table>\n");
    }
    guards_table(h, scn, results);
}

fn plan_name(scn: &Scenario, res: &PlanResult) -> String {
    scn.plans
        .get(res.plan)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| format!("plan {}", res.plan))
}

fn faults_table(h: &mut String, scn: &Scenario, results: &[PlanResult]) {
    if scn.faults.is_empty() {
        h.push_str("<p>The scenario injects no fault (<code>[[faults]]</code>).</p>\n");
        return;
    }
    h.push_str(
        "<h3>Faults</h3>\n<table id=\"faults\">\n<thead><tr><th>fault</th><th>kind</th>\
         <th>target</th><th>from</th>",
    );
    for res in results {
        let _ = write!(h, "<th>{}</th>", escape(&plan_name(scn, res)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (fi, f) in scn.faults.iter().enumerate() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>",
            escape(&f.name),
            f.kind.as_str(),
            escape(&fault_target(scn, fi)),
            secs(f.start)
        );
        for res in results {
            let Some(o) = res.faults.get(fi) else {
                h.push_str("<td class=\"nodata\">-</td>");
                continue;
            };
            if !o.applied {
                h.push_str(
                    "<td class=\"nodata\">not applied (the plan does not use the cluster)</td>",
                );
                continue;
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
            let _ = write!(h, "<td>{}</td>", parts.join("; "));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

/// Fallback and guard counters that moved, per plan and keyspace.
fn guards_table(h: &mut String, scn: &Scenario, results: &[PlanResult]) {
    let mut rows = String::new();
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
            if moved.is_empty() {
                continue;
            }
            let _ = writeln!(
                rows,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&plan_name(scn, res)),
                escape(&k.name),
                escape(&moved.join("; "))
            );
        }
    }
    if rows.is_empty() {
        return;
    }
    h.push_str(
        "<h3>Fallbacks and guards at work</h3>\n<table id=\"guards\">\n<thead><tr><th>plan</th>\
         <th>keyspace</th><th>after the warm-up</th></tr></thead>\n<tbody>\n",
    );
    h.push_str(&rows);
    h.push_str("</tbody>\n</table>\n");
}
