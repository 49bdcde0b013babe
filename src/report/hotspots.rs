//! Where a plan breaks first: the verdict rows on network bandwidth and client connections,
//! `hotkeys.csv` (each shard's hottest keys by commands and by bytes, and its largest keys),
//! `tenants.csv` (hit ratio, memory and evictions per plan, keyspace and tenant), the tenants'
//! memory chart and the report section that shows them. Pure: the figures come from
//! `metrics::network`, `metrics::hotkeys` and `metrics::tenants`; the run folder writer
//! stores the bytes.

use super::charts::{BarChart, BarGroup, Scale, Size};
use super::csv_table::to_csv;
use super::run_charts::{short_num, ChartSpec, NamedSpec};
use super::verdict::{Cell, Check, Outcome};
use crate::metrics::hotkeys::HotKey;
use crate::metrics::network::{shard_network, ShardNetwork};
use crate::metrics::summary::{keyspace_hit_ratio, measured_s};
use crate::metrics::PlanResult;
use crate::redis::shard::key_tag;
use crate::scenario::Scenario;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};

/// One row of `hotkeys.csv`: one key of one shard's ranking.
#[derive(Serialize, Deserialize)]
pub struct HotKeyRow<'a> {
    pub plan: &'a str,
    pub cluster: &'a str,
    pub shard: usize,
    pub ranking: &'static str,
    pub rank: usize,
    pub keyspace: &'a str,
    pub tenant: &'a str,
    pub key_id: String,
    pub value: u64,
    pub value_error_max: Option<u64>,
    pub unlisted_max: Option<u64>,
    pub value_per_s: Option<f64>,
    pub share_of_shard: Option<f64>,
}

/// One row of `tenants.csv`: one plan x keyspace x tenant (or its shared keys).
#[derive(Serialize, Deserialize)]
pub struct TenantRow<'a> {
    pub plan: &'a str,
    pub keyspace: &'a str,
    pub tenant: &'a str,
    pub requests: u64,
    pub redis_hits: u64,
    pub hit_ratio: Option<f64>,
    pub memory_end_bytes: u64,
    pub keys_end: u64,
    pub evicted_keys: u64,
}

/// The tenant column of row `row` of a keyspace's tenant figures.
fn tenant_label(scn: &Scenario, row: usize) -> &str {
    match scn.tenants.get(row) {
        Some(t) => &t.name,
        None => "(shared)",
    }
}

/// The tenant of a hot key's label (1 + tenant index; 0: the keyspace's keys are shared).
fn label_tenant(scn: &Scenario, label: u16) -> &str {
    match label {
        0 => "(shared)",
        l => scn
            .tenants
            .get(l as usize - 1)
            .map(|t| t.name.as_str())
            .unwrap_or("?"),
    }
}

fn keyspace_of(scn: &Scenario, key_id: u64) -> &str {
    scn.keyspaces
        .get(key_tag(key_id))
        .map(|k| k.name.as_str())
        .unwrap_or("?")
}

/// `hotkeys.csv`.
pub fn hotkeys_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let measured = measured_s(scn);
    let per_s = |v: u64| (measured > 0.0).then(|| v as f64 / measured);
    let mut rows = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan].name;
        for s in &res.shards {
            let cluster = &scn.clusters[s.cluster].name;
            let shard_bytes = s.bytes_in + s.bytes_out;
            let ranked = |ranking, keys: &[HotKey], total: u64, unlisted: u64| {
                keys.iter()
                    .enumerate()
                    .map(|(i, h)| HotKeyRow {
                        plan,
                        cluster,
                        shard: s.shard,
                        ranking,
                        rank: i + 1,
                        keyspace: keyspace_of(scn, h.key_id),
                        tenant: label_tenant(scn, h.label),
                        key_id: format!("{:016x}", h.key_id),
                        value: h.count,
                        value_error_max: Some(h.error),
                        unlisted_max: Some(unlisted),
                        value_per_s: per_s(h.count),
                        share_of_shard: (total > 0).then(|| h.count as f64 / total as f64),
                    })
                    .collect::<Vec<_>>()
            };
            rows.extend(ranked(
                "ops",
                &s.hot.by_ops,
                s.commands,
                s.hot.ops_unlisted_max,
            ));
            rows.extend(ranked(
                "bytes",
                &s.hot.by_bytes,
                shard_bytes,
                s.hot.bytes_unlisted_max,
            ));
            for (i, b) in s.hot.biggest.iter().enumerate() {
                rows.push(HotKeyRow {
                    plan,
                    cluster,
                    shard: s.shard,
                    ranking: "size",
                    rank: i + 1,
                    keyspace: keyspace_of(scn, b.key_id),
                    tenant: "",
                    key_id: format!("{:016x}", b.key_id),
                    value: b.bytes,
                    value_error_max: None,
                    unlisted_max: None,
                    value_per_s: None,
                    share_of_shard: (s.used_memory_end_bytes > 0)
                        .then(|| b.bytes as f64 / s.used_memory_end_bytes as f64),
                });
            }
        }
    }
    to_csv(&rows)
}

/// `tenants.csv`.
pub fn tenants_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let mut rows = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan].name;
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let Some(figures) = res.tenants.keyspaces.get(ki) else {
                continue;
            };
            for (row, f) in figures.iter().enumerate() {
                rows.push(TenantRow {
                    plan,
                    keyspace: &k.name,
                    tenant: tenant_label(scn, row),
                    requests: f.requests,
                    redis_hits: f.redis_hits,
                    hit_ratio: keyspace_hit_ratio(k, f.redis_hits, f.requests),
                    memory_end_bytes: f.memory_end_bytes,
                    keys_end: f.keys_end,
                    evicted_keys: f.evicted_keys,
                });
            }
        }
    }
    to_csv(&rows)
}

/// The verdict rows: the busiest shard's peak network use against its node's baseline (when
/// a used cluster has one) and the shard with the most client connections against its
/// `maxclients`.
pub fn checks(scn: &Scenario, results: &[PlanResult]) -> Vec<Check> {
    let networks: Vec<Vec<ShardNetwork>> = results.iter().map(|r| shard_network(scn, r)).collect();
    let mut out = Vec::new();
    let max = scn.slo.network_utilization_max;
    let any_baseline = networks
        .iter()
        .flatten()
        .any(|n| n.baseline_bytes_per_s.is_some());
    if any_baseline {
        out.push(Check {
            metric: "peak network / baseline".into(),
            subject: "busiest shard".into(),
            target: format!("≤ {}%", short_num(max * 100.0)),
            cells: results
                .iter()
                .zip(&networks)
                .map(|(res, nets)| {
                    let worst = nets
                        .iter()
                        .enumerate()
                        .filter_map(|(si, n)| n.utilization_peak.map(|u| (si, u)))
                        .fold(None, |best: Option<(usize, f64)>, (si, u)| match best {
                            Some((_, b)) if b >= u => best,
                            _ => Some((si, u)),
                        });
                    match worst {
                        Some((si, u)) if measured_s(scn) > 0.0 => {
                            let s = &res.shards[si];
                            cell(
                                u <= max,
                                format!(
                                    "{:.1}% ({}/{})",
                                    u * 100.0,
                                    scn.clusters[s.cluster].name,
                                    s.shard
                                ),
                            )
                        }
                        _ => Cell {
                            outcome: Outcome::NoData,
                            measured: "no baseline or no measured time".into(),
                        },
                    }
                })
                .collect(),
        });
    }
    out.push(Check {
        metric: "client connections / maxclients".into(),
        subject: "busiest shard".into(),
        target: "≤ maxclients".into(),
        cells: results
            .iter()
            .zip(&networks)
            .map(|(res, nets)| {
                let worst =
                    nets.iter()
                        .enumerate()
                        .fold(None, |best: Option<(usize, f64)>, (si, n)| {
                            let u = n.connections as f64 / n.maxclients as f64;
                            match best {
                                Some((_, b)) if b >= u => best,
                                _ => Some((si, u)),
                            }
                        });
                match worst {
                    Some((si, _)) => {
                        let (s, n) = (&res.shards[si], &nets[si]);
                        cell(
                            n.connections <= n.maxclients as u64,
                            format!(
                                "{} / {} ({}/{})",
                                n.connections, n.maxclients, scn.clusters[s.cluster].name, s.shard
                            ),
                        )
                    }
                    None => Cell {
                        outcome: Outcome::NoData,
                        measured: "no shard".into(),
                    },
                }
            })
            .collect(),
    });
    out
}

fn cell(pass: bool, measured: String) -> Cell {
    Cell {
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        measured,
    }
}

/// The chart of resident memory per tenant and plan at the end (all keyspaces).
pub fn tenant_chart(scn: &Scenario, results: &[PlanResult]) -> NamedSpec {
    let rows = scn.tenants.len() + 1;
    let categories = (0..rows)
        .map(|r| tenant_label(scn, r).to_string())
        .collect();
    let groups = results
        .iter()
        .map(|res| BarGroup {
            name: scn.plans[res.plan].name.clone(),
            values: (0..rows)
                .map(|r| res.tenants.total_of(r).memory_end_bytes as f64 / (1u64 << 20) as f64)
                .collect(),
            errors: None,
        })
        .collect();
    NamedSpec {
        name: "tenant_memory".into(),
        caption: "Memory the model charges to each tenant's keys at the end of the run, all \
                  keyspaces, per plan (MiB). \"(shared)\" holds keys of templates without the \
                  tenant; tenants.csv has the figures per keyspace with hit ratios and \
                  evictions."
            .into(),
        spec: ChartSpec::Bars(
            BarChart {
                title: "Memory per tenant at the end".into(),
                categories,
                groups,
                x_label: "tenant".into(),
                y_label: "resident keys (MiB)".into(),
                y_scale: Scale::Linear,
                ref_lines: Vec::new(),
                size: Size::default(),
            },
            None,
        ),
    }
}

/// Requests and Redis hits of tenant row `row` over the keyspaces that have a hit ratio.
fn hit_ratio_counts(scn: &Scenario, res: &PlanResult, row: usize) -> (u64, u64) {
    let mut out = (0, 0);
    for (ki, f) in res.tenants.keyspaces.iter().enumerate() {
        if crate::metrics::summary::has_hit_ratio(&scn.keyspaces[ki]) {
            out.0 += f[row].requests;
            out.1 += f[row].redis_hits;
        }
    }
    out
}

fn mib(bytes: f64) -> String {
    format!("{:.2}", bytes / (1u64 << 20) as f64)
}

/// The report section: per shard network and connections, the top hot keys, per tenant.
pub fn section(scn: &Scenario, results: &[PlanResult]) -> Markup {
    html! {
        h2 id="hotspots" { "Where it breaks first" }
        p { "Network bytes per second per shard (RESP requests in, replies out; mean and the \
             busiest window after the warm-up) against the node's baseline, and the client \
             connections of the application instances against maxclients. Full rankings in \
             hotkeys.csv, tenants in tenants.csv." }
        table {
            thead { tr {
                th { "plan" } th { "shard" } th { "in MiB/s mean / peak" }
                th { "out MiB/s mean / peak" } th { "peak / baseline" }
                th { "connections / maxclients" } th { "hottest key (commands)" }
                th { "largest key" }
            } }
            tbody {
                @for res in results {
                    @let nets = shard_network(scn, res);
                    @for (s, n) in res.shards.iter().zip(&nets) {
                        tr {
                            td { (scn.plans[res.plan].name) }
                            td { (scn.clusters[s.cluster].name) "/" (s.shard) }
                            td.num { (mib(n.bytes_in_per_s_mean)) " / " (mib(n.bytes_in_per_s_peak)) }
                            td.num { (mib(n.bytes_out_per_s_mean)) " / " (mib(n.bytes_out_per_s_peak)) }
                            td.num.warn[n.utilization_peak.is_some_and(|u| u > scn.slo.network_utilization_max)] {
                                @match n.utilization_peak {
                                    Some(u) => (format!("{:.1}%", u * 100.0)),
                                    None => "no baseline",
                                }
                            }
                            td.num.warn[n.connections > n.maxclients as u64] {
                                (n.connections) " / " (n.maxclients)
                            }
                            td {
                                @if let Some(h) = s.hot.by_ops.first() {
                                    (keyspace_of(scn, h.key_id)) " " (label_tenant(scn, h.label))
                                    " " (format!("{:016x}", h.key_id)) ": " (h.count)
                                    @if s.commands > 0 {
                                        (format!(" ({:.2}% of the shard)", h.count as f64 * 100.0 / s.commands as f64))
                                    }
                                }
                            }
                            td {
                                @if let Some(b) = s.hot.biggest.first() {
                                    (keyspace_of(scn, b.key_id)) " " (b.bytes) " B"
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { "Per tenant" }
        table {
            thead { tr {
                th { "plan" } th { "tenant" } th { "requests" }
                th { "hit ratio (keyspaces with one)" }
                th { "memory at the end (MiB)" } th { "evicted keys" }
            } }
            tbody {
                @for res in results {
                    @for row in 0..scn.tenants.len() + 1 {
                        @let t = res.tenants.total_of(row);
                        @let (requests, hits) = hit_ratio_counts(scn, res, row);
                        tr {
                            td { (scn.plans[res.plan].name) }
                            td { (tenant_label(scn, row)) }
                            td.num { (t.requests) }
                            td.num {
                                @if requests > 0 {
                                    (format!("{:.3}", hits as f64 / requests as f64))
                                }
                            }
                            td.num { (mib(t.memory_end_bytes as f64)) }
                            td.num { (t.evicted_keys) }
                        }
                    }
                }
            }
        }
    }
}
