//! The report's "The scenario in brief" section: keyspaces, clusters, plans and their
//! placements, the timeline, as the scenario configures them. Markup through maud: every
//! text is escaped by construction; the timeline's event and fault descriptions come from
//! `review` as typed text.

use super::*;
use maud::{html, Markup};
use review::Text;

pub(in crate::report) fn jitter_text(j: &Jitter) -> String {
    match j {
        Jitter::None => "none".into(),
        Jitter::UniformPct(p) => format!("±{}%", short_num(*p)),
        Jitter::UpTo(m) => format!("+0–{}", duration(*m)),
    }
}

/// The timeline in time order: bursts, timeline events and faults.
fn timeline(scn: &Scenario) -> Vec<(SimTime, Text)> {
    let mut timeline: Vec<(SimTime, Text)> = Vec::new();
    for k in &scn.keyspaces {
        for b in &k.bursts {
            timeline.push((
                b.start,
                Text::plain(format!("burst ×{} on ", short_num(b.multiplier)))
                    .strong(k.name.as_str())
                    .words(format!(" until {}", duration(b.end))),
            ));
        }
    }
    for e in &scn.events {
        timeline.push((e.at, review::event_text(scn, e)));
    }
    for (fi, f) in scn.faults.iter().enumerate() {
        timeline.push((
            f.start,
            Text::plain("fault ").then(review::fault_text(scn, fi)),
        ));
    }
    // Stable: equal times keep bursts, then events, then faults, each in file order.
    timeline.sort_by_key(|t| t.0);
    timeline
}

pub(super) fn scenario_section(scn: &Scenario) -> Markup {
    let total: f64 = scn.keyspaces.iter().map(|k| k.rate_per_s).sum();
    let timeline = timeline(scn);
    html! {
        h2 id="scenario" { "The scenario in brief" }
        h3 { "Keyspaces" }
        table {
            thead { tr {
                th { "keyspace" } th { "key template" } th { "operation" } th { "criticality" }
                th { "rate (req/s)" } th { "keys per tenant" } th { "popularity" }
                th { "value size" } th { "TTL" } th { "TTL jitter" } th { "origin" }
            } }
            tbody {
                @for k in &scn.keyspaces {
                    tr {
                        td { (k.name) }
                        td { code { (k.key_template) } }
                        td { (k.operation.as_str()) }
                        td class=[(k.criticality == Criticality::Critical).then_some("warn")] {
                            (k.criticality.as_str())
                        }
                        td.num { (short_num(k.rate_per_s)) }
                        td.num { (k.keys_per_tenant) }
                        td { (popularity_text(&k.popularity)) }
                        td { (dist_text(&k.value_size_bytes, "B")) }
                        td { @if k.ttl.as_ns() == 0 { "none" } @else { (duration(k.ttl)) } }
                        td { (jitter_text(&k.jitter)) }
                        td { (origin_name(scn, k)) }
                    }
                }
            }
        }
        h3 { "Traffic" }
        p {
            (scn.app_instances) " application instances; " (short_num(total))
            " requests/s at profile multiplier 1 over all keyspaces."
        }
        table {
            thead { tr { th { "tenant" } th { "traffic share" } th { "size (× keys per tenant)" } } }
            tbody {
                @for t in &scn.tenants {
                    tr {
                        td { (t.name) }
                        td.num { (format!("{:.1}%", t.traffic_share * 100.0)) }
                        td.num { (short_num(t.size)) }
                    }
                }
            }
        }
        @if !timeline.is_empty() {
            p { "Timeline (simulated time):" }
            ul {
                @for (at, text) in &timeline {
                    li { (duration(*at)) ": " (text) }
                }
            }
        }
        h3 { "Origins" }
        table {
            thead { tr {
                th { "origin" } th { "concurrency" } th { "queue limit" } th { "timeout" }
                th { "service time" }
            } }
            tbody {
                @for o in &scn.origins {
                    tr {
                        td { (o.name) }
                        td.num { (o.concurrency) }
                        td.num { (o.queue_limit) }
                        td { (duration(o.timeout)) }
                        td { (dist_text(&o.service_time_ms, "ms")) }
                    }
                }
            }
        }
        h3 { "Redis clusters" }
        table {
            thead { tr {
                th { "cluster" } th { "shards" } th { "maxmemory per shard" }
                th { "maxmemory_policy" } th { "maxmemory_samples" } th { "hz" }
                th { "cluster_enabled" }
            } }
            tbody {
                @for c in &scn.clusters {
                    tr {
                        td { (c.name) }
                        td.num { (c.shards) }
                        td.num { (mb(c.redis.maxmemory_bytes)) }
                        td { (c.redis.maxmemory_policy.as_str()) }
                        td.num { (c.redis.maxmemory_samples) }
                        td.num { (c.redis.hz) }
                        td { @if c.redis.cluster_enabled { "yes" } @else { "no" } }
                    }
                }
            }
        }
        @let instance_lines = crate::cost::describe_instance_clusters(scn);
        @if !instance_lines.is_empty() {
            p { "Clusters declared by instance (maxmemory derived, price from the catalogue):" }
            ul { @for l in &instance_lines { li { (l) } } }
        }
        h3 { "Plans: placement of each keyspace" }
        ul {
            @for p in &scn.plans {
                li { b { (p.name) } ": " (p.description) }
            }
        }
        table {
            thead { tr {
                th { "keyspace" }
                @for p in &scn.plans { th { (p.name) } }
            } }
            tbody {
                @for (ki, k) in scn.keyspaces.iter().enumerate() {
                    tr {
                        td { (k.name) }
                        @for p in &scn.plans {
                            @let cluster = p
                                .cluster_of_keyspace
                                .get(ki)
                                .and_then(|ci| scn.clusters.get(*ci));
                            td {
                                @if let Some(c) = cluster {
                                    (c.name) " " span.muted { "(" (c.redis.maxmemory_policy.as_str()) ")" }
                                } @else {
                                    "—"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
