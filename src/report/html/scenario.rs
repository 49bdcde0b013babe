//! The report's "The scenario in brief" section: keyspaces, clusters, plans and their
//! placements, the timeline, as the scenario configures them.

use super::*;

pub(super) fn jitter_text(j: &Jitter) -> String {
    match j {
        Jitter::None => "none".into(),
        Jitter::UniformPct(p) => format!("±{}%", short_num(*p)),
        Jitter::UpTo(m) => format!("+0–{}", duration(*m)),
    }
}

pub(super) fn scenario_section(h: &mut String, scn: &Scenario) {
    h.push_str("<h2 id=\"scenario\">The scenario in brief</h2>\n");
    h.push_str(
        "<h3>Keyspaces</h3>\n<table>\n<thead><tr><th>keyspace</th><th>key template</th>\
        <th>operation</th><th>criticality</th><th>rate (req/s)</th><th>keys per tenant</th>\
        <th>popularity</th><th>value size</th><th>TTL</th><th>TTL jitter</th><th>origin</th>\
        </tr></thead>\n<tbody>\n",
    );
    for k in &scn.keyspaces {
        let crit_class = if k.criticality == Criticality::Critical {
            " class=\"warn\""
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td{crit_class}>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            escape(&k.name),
            escape(&k.key_template),
            k.operation.as_str(),
            k.criticality.as_str(),
            short_num(k.rate_per_s),
            k.keys_per_tenant,
            escape(&popularity_text(&k.popularity)),
            escape(&dist_text(&k.value_size_bytes, "B")),
            if k.ttl.as_ns() == 0 {
                "none".into()
            } else {
                duration(k.ttl)
            },
            escape(&jitter_text(&k.jitter)),
            escape(&origin_name(scn, k)),
        );
    }
    h.push_str("</tbody>\n</table>\n");

    h.push_str("<h3>Traffic</h3>\n");
    let total: f64 = scn.keyspaces.iter().map(|k| k.rate_per_s).sum();
    let _ = writeln!(
        h,
        "<p>{} application instances; {} requests/s at profile multiplier 1 over all keyspaces.</p>",
        scn.app_instances,
        short_num(total)
    );
    h.push_str(
        "<table>\n<thead><tr><th>tenant</th><th>traffic share</th><th>size (× keys per \
         tenant)</th></tr></thead>\n<tbody>\n",
    );
    for t in &scn.tenants {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{:.1}%</td><td class=\"num\">{}</td></tr>",
            escape(&t.name),
            t.traffic_share * 100.0,
            short_num(t.size)
        );
    }
    h.push_str("</tbody>\n</table>\n");
    let mut timeline: Vec<(SimTime, String)> = Vec::new();
    for k in &scn.keyspaces {
        for b in &k.bursts {
            timeline.push((
                b.start,
                format!(
                    "burst ×{} on <b>{}</b> until {}",
                    short_num(b.multiplier),
                    escape(&k.name),
                    duration(b.end)
                ),
            ));
        }
    }
    for e in &scn.events {
        timeline.push((e.at, review::event_text(scn, e)));
    }
    for (fi, f) in scn.faults.iter().enumerate() {
        timeline.push((f.start, format!("fault {}", review::fault_text(scn, fi))));
    }
    // Stable: equal times keep bursts, then events, then faults, each in file order.
    timeline.sort_by_key(|t| t.0);
    if !timeline.is_empty() {
        h.push_str("<p>Timeline (simulated time):</p>\n<ul>\n");
        for (at, text) in &timeline {
            let _ = writeln!(h, "<li>{}: {text}</li>", duration(*at));
        }
        h.push_str("</ul>\n");
    }

    h.push_str(
        "<h3>Origins</h3>\n<table>\n<thead><tr><th>origin</th><th>concurrency</th>\
         <th>queue limit</th><th>timeout</th><th>service time</th></tr></thead>\n<tbody>\n",
    );
    for o in &scn.origins {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>\
             <td>{}</td></tr>",
            escape(&o.name),
            o.concurrency,
            o.queue_limit,
            duration(o.timeout),
            escape(&dist_text(&o.service_time_ms, "ms"))
        );
    }
    h.push_str("</tbody>\n</table>\n");

    h.push_str(
        "<h3>Redis clusters</h3>\n<table>\n<thead><tr><th>cluster</th><th>shards</th>\
         <th>maxmemory per shard</th><th>maxmemory_policy</th><th>maxmemory_samples</th>\
         <th>hz</th><th>cluster_enabled</th></tr></thead>\n<tbody>\n",
    );
    for c in &scn.clusters {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&c.name),
            c.shards,
            mb(c.redis.maxmemory_bytes),
            c.redis.maxmemory_policy.as_str(),
            c.redis.maxmemory_samples,
            c.redis.hz,
            if c.redis.cluster_enabled { "yes" } else { "no" }
        );
    }
    h.push_str("</tbody>\n</table>\n");

    h.push_str("<h3>Plans: placement of each keyspace</h3>\n<ul>\n");
    for p in &scn.plans {
        let _ = writeln!(
            h,
            "<li><b>{}</b>: {}</li>",
            escape(&p.name),
            escape(&p.description)
        );
    }
    h.push_str("</ul>\n<table>\n<thead><tr><th>keyspace</th>");
    for p in &scn.plans {
        let _ = write!(h, "<th>{}</th>", escape(&p.name));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (ki, k) in scn.keyspaces.iter().enumerate() {
        let _ = write!(h, "<tr><td>{}</td>", escape(&k.name));
        for p in &scn.plans {
            let cluster = p
                .cluster_of_keyspace
                .get(ki)
                .and_then(|ci| scn.clusters.get(*ci));
            let text = cluster
                .map(|c| {
                    format!(
                        "{} <span class=\"muted\">({})</span>",
                        escape(&c.name),
                        c.redis.maxmemory_policy.as_str()
                    )
                })
                .unwrap_or_else(|| "—".into());
            let _ = write!(h, "<td>{text}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}
