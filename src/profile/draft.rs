//! A profile written out: the draft scenario TOML (every value commented `measured`, `fitted`
//! or `placeholder`: the parts a server cannot tell, such as origins, strategies and SLOs, are
//! for the user to fill) and the profile report in markdown (the fits with their uncertainty).
//! Pure: text out; the caller writes the files.

use super::infer::{Profile, ServerFacts, TemplateProfile};
use super::stats::TtlFit;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Fallback maxmemory when the server has none set: twice its used_memory (a placeholder).
const MAXMEMORY_FALLBACK_FACTOR: f64 = 2.0;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// How a template is simulated: (operation, extra TOML lines, comment).
fn operation_of(t: &TemplateProfile) -> (&'static str, Option<&'static str>) {
    match (t.data_type.as_str(), t.encoding.as_str()) {
        ("hash", _) => ("rate-limit", Some("token-bucket")),
        ("zset", _) => ("rate-limit", Some("sliding-window")),
        ("string", "int") => ("rate-limit", Some("fixed-window")),
        ("string", _) if t.expires * 3 >= t.requests.max(1) && t.expires > 0 => ("session", None),
        _ => ("read-through", None),
    }
}

/// The draft scenario for `profile`, `source` naming the server (no password) and the time.
pub fn scenario_toml(facts: &ServerFacts, profile: &Profile, source: &str) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "# Drafted by `cacheplan profile` from {source}.");
    let _ = writeln!(
        w,
        "# Every value says where it comes from: measured (read from the server), fitted (a\n\
         # statistical fit of the sample or the monitor window; see profile.md for the\n\
         # uncertainty) or placeholder (the server cannot tell: you must fill it in)."
    );
    let _ = writeln!(w, "version = 1");
    let _ = writeln!(w, "name = \"profiled\"");
    let _ = writeln!(w, "description = {}", q(&format!("drafted from {source}")));
    let _ = writeln!(w, "\n[simulation]");
    let _ = writeln!(
        w,
        "duration_ms = \"2m\"   # placeholder: how long to simulate"
    );
    let _ = writeln!(w, "warmup_ms = \"10s\"    # placeholder");
    let _ = writeln!(
        w,
        "start = \"steady-state\"   # placeholder: the profiled server was running, so start warm"
    );

    // Tenants.
    let tenants: Vec<String> = if profile.tenants.is_empty() {
        vec!["default".into()]
    } else {
        profile.tenants.clone()
    };
    let keys_of = |tenant: &str| -> f64 {
        profile
            .templates
            .iter()
            .filter_map(|t| t.tenants.get(tenant))
            .sum::<usize>() as f64
    };
    let reqs_of = |tenant: &str| -> f64 {
        profile
            .templates
            .iter()
            .filter_map(|t| t.tenant_requests.get(tenant))
            .sum::<u64>() as f64
    };
    let mean_keys = tenants.iter().map(|t| keys_of(t)).sum::<f64>() / tenants.len() as f64;
    let mean_reqs = tenants.iter().map(|t| reqs_of(t)).sum::<f64>() / tenants.len() as f64;
    for tenant in &tenants {
        let _ = writeln!(w, "\n[[tenants]]");
        let _ = writeln!(
            w,
            "name = {}   # measured: a value of the tenant segment",
            q(tenant)
        );
        if mean_reqs > 0.0 {
            let _ = writeln!(
                w,
                "traffic_weight = {:.4}   # measured: its share of the monitored requests",
                (reqs_of(tenant) / mean_reqs).max(1e-4)
            );
        }
        if mean_keys > 0.0 && profile.tenants.len() > 1 {
            let _ = writeln!(
                w,
                "size = {:.4}   # measured: its share of the sampled keys",
                (keys_of(tenant) / mean_keys).max(1e-4)
            );
        }
    }

    // The origin the read-through templates load from.
    let _ = writeln!(w, "\n[[origins]]");
    let _ = writeln!(
        w,
        "name = \"origin\"   # placeholder: the database or service a miss loads from"
    );
    let _ = writeln!(w, "concurrency = 32   # placeholder: its connection pool");
    let _ = writeln!(
        w,
        "service_time_ms = {{ dist = \"lognormal\", median = 20, sigma = 0.5 }}   # placeholder"
    );

    // The cluster.
    let used = facts.info_f64("used_memory").unwrap_or(0.0);
    let _ = writeln!(w, "\n[[clusters]]");
    let _ = writeln!(w, "name = \"profiled\"");
    if facts.capture_only {
        let _ = writeln!(
            w,
            "shards = 1   # placeholder: no server read (a MONITOR capture only)\n\
             maxmemory_bytes = {}   # placeholder: no server read\n\
             maxmemory_policy = \"allkeys-lru\"   # placeholder: no server read",
            64u64 << 20
        );
    }
    let cluster_mode = facts
        .config
        .get("cluster-enabled")
        .is_some_and(|v| v == "yes");
    if facts.capture_only {
    } else if cluster_mode {
        let _ = writeln!(
            w,
            "shards = 3   # placeholder: the profiled node is one shard of a cluster; give their number"
        );
    } else {
        let _ = writeln!(
            w,
            "shards = 1   # measured: a single server (cluster mode off)"
        );
    }
    match facts.config_u64("maxmemory").filter(|&m| m > 0) {
        _ if facts.capture_only => {}
        Some(m) => {
            let _ = writeln!(
                w,
                "maxmemory_bytes = {m}   # measured: CONFIG GET maxmemory"
            );
        }
        None => {
            let m = ((used * MAXMEMORY_FALLBACK_FACTOR) as u64).max(64 << 20);
            let _ = writeln!(
                w,
                "maxmemory_bytes = {m}   # placeholder: the server has no maxmemory; twice its used_memory ({used:.0})"
            );
        }
    }
    for (field, config) in [
        ("maxmemory_policy", "maxmemory-policy"),
        ("maxmemory_samples", "maxmemory-samples"),
        ("maxmemory_eviction_tenacity", "maxmemory-eviction-tenacity"),
        ("hz", "hz"),
        ("lfu_log_factor", "lfu-log-factor"),
        ("lfu_decay_time", "lfu-decay-time"),
        ("active_expire_effort", "active-expire-effort"),
    ] {
        if let Some(v) = facts.config.get(config) {
            let value = if field == "maxmemory_policy" {
                q(v)
            } else {
                v.clone()
            };
            let _ = writeln!(w, "{field} = {value}   # measured: CONFIG GET {config}");
        }
    }
    if let Some(us) = facts.usec_per_call() {
        let _ = writeln!(
            w,
            "service_time_us = {{ dist = \"fixed\", value = {:.2} }}   # measured: INFO commandstats, mean usec per call",
            us.max(0.01)
        );
    }

    // Keyspaces.
    let mut names = BTreeSet::new();
    let mut placed = Vec::new();
    for t in &profile.templates {
        let mut name = t.name.clone();
        let mut i = 2;
        while !names.insert(name.clone()) {
            name = format!("{}-{i}", t.name);
            i += 1;
        }
        keyspace(
            w,
            t,
            &name,
            tenants.len(),
            profile.monitor_span_s.is_some(),
            facts.capture_only,
        );
        placed.push(name);
    }
    let _ = writeln!(w, "\n[[plans]]");
    let _ = writeln!(
        w,
        "name = \"as-profiled\"   # measured: every keyspace on the profiled server"
    );
    let placement: Vec<String> = placed
        .iter()
        .map(|n| format!("{} = \"profiled\"", q(n)))
        .collect();
    let _ = writeln!(w, "placement = {{ {} }}", placement.join(", "));
    let _ = writeln!(
        w,
        "\n# placeholder: add an [slo] table (hit ratio, p99, origin peak) for verdicts; see workloads/README.md"
    );
    s
}

fn keyspace(
    w: &mut String,
    t: &TemplateProfile,
    name: &str,
    n_tenants: usize,
    monitored: bool,
    capture_only: bool,
) {
    let (op, algorithm) = operation_of(t);
    let _ = writeln!(w, "\n[[keyspaces]]");
    let _ = writeln!(w, "name = {}", q(name));
    if capture_only {
        let _ = writeln!(
            w,
            "key_template = {}   # fitted: {} keys named in the capture, type {} implied by their commands",
            q(&t.template),
            t.n_sampled,
            t.data_type
        );
    } else {
        let _ = writeln!(
            w,
            "key_template = {}   # fitted: {} sampled keys of TYPE {} ({})",
            q(&t.template),
            t.n_sampled,
            t.data_type,
            t.encoding
        );
    }
    let _ = writeln!(
        w,
        "operation = {}   # fitted from the type and commands: check it",
        q(op)
    );
    if let Some(a) = algorithm {
        let _ = writeln!(
            w,
            "rate_limit_algorithm = {}   # fitted from the type",
            q(a)
        );
        let _ = writeln!(
            w,
            "window_ms = \"60s\"   # placeholder: the limiter's window"
        );
    }
    let _ = writeln!(w, "criticality = \"medium\"   # placeholder");
    match t.rate_per_s {
        Some((r, se)) if t.requests > 0 => {
            let _ = writeln!(
                w,
                "rate_per_s = {r:.3}   # measured: {} requests in the monitor window (± {se:.3}/s)",
                t.requests
            );
        }
        _ => {
            let why = if monitored {
                "no request in the monitor window"
            } else {
                "no monitor window"
            };
            let _ = writeln!(w, "rate_per_s = 1.0   # placeholder: {why}");
        }
    }
    let per_tenant = if t.tenants.is_empty() {
        t.est_keys / n_tenants as f64
    } else {
        t.est_keys / t.tenants.len().max(1) as f64
    };
    if capture_only {
        let _ = writeln!(
            w,
            "keys_per_tenant = {}   # placeholder: at least the {:.0} keys the capture named (no server read)",
            (per_tenant.round() as u64).max(1),
            t.est_keys
        );
    } else {
        let _ = writeln!(
            w,
            "keys_per_tenant = {}   # fitted: {:.0} ± {:.0} keys (sample fraction × DBSIZE){}",
            (per_tenant.round() as u64).max(1),
            t.est_keys,
            t.est_keys_se,
            if t.tenants.is_empty() {
                ", spread over the tenants (no tenant segment)"
            } else {
                ""
            }
        );
    }
    match t.zipf {
        Some(z) => {
            let _ = writeln!(
                w,
                "popularity = {{ dist = \"zipf\", alpha = {:.3} }}   # fitted: MLE on per-key counts, ± {:.3}",
                z.alpha.clamp(0.0, 5.0),
                z.alpha_se
            );
        }
        None => {
            let _ = writeln!(
                w,
                "popularity = {{ dist = \"zipf\", alpha = 0.9 }}   # placeholder: too few monitored requests to fit"
            );
        }
    }
    match t.size_fit {
        Some(f) if f.sigma > 1e-3 => {
            let _ = writeln!(
                w,
                "value_size_bytes = {{ dist = \"lognormal\", median = {:.1}, sigma = {:.3} }}   # fitted: {} of {} keys, median 95% CI {:.1}–{:.1}",
                f.median.max(1.0),
                f.sigma,
                t.size_basis,
                f.n,
                f.median_ci95.0,
                f.median_ci95.1
            );
        }
        Some(f) => {
            let _ = writeln!(
                w,
                "value_size_bytes = {{ dist = \"fixed\", value = {:.0} }}   # measured: {} of {} keys, all equal",
                f.median.max(1.0),
                t.size_basis,
                f.n
            );
        }
        None => {
            let _ = writeln!(
                w,
                "value_size_bytes = {{ dist = \"fixed\", value = 100 }}   # placeholder: no size read"
            );
        }
    }
    let needs_ttl = op != "read-through";
    let pct_with = t.ttl.with_ttl_fraction * 100.0;
    match t.ttl.fit {
        TtlFit::None if needs_ttl => {
            let _ = writeln!(
                w,
                "ttl_ms = \"60s\"   # placeholder: no TTL read, and a {op} needs one"
            );
        }
        TtlFit::None if capture_only => {
            let _ = writeln!(
                w,
                "# ttl_ms: placeholder: none (the capture has too few writes with a TTL to fit one)"
            );
        }
        TtlFit::None => {
            let _ = writeln!(w, "# ttl_ms: none (measured: no sampled key has a TTL)");
        }
        TtlFit::Fixed { ttl_ms } => {
            let _ = writeln!(
                w,
                "ttl_ms = {:.0}   # fitted ({}): one TTL, {pct_with:.0}% of keys have one, ± {:.1}%",
                ttl_ms.max(1.0),
                t.ttl.basis,
                t.ttl.mean_rel_se * 100.0
            );
        }
        TtlFit::UniformPct { ttl_ms, pct } => {
            let _ = writeln!(
                w,
                "ttl_ms = {:.0}   # fitted ({}): mean TTL, {pct_with:.0}% of keys have one, ± {:.1}%",
                ttl_ms.max(1.0),
                t.ttl.basis,
                t.ttl.mean_rel_se * 100.0
            );
            let _ = writeln!(
                w,
                "ttl_jitter = {{ kind = \"uniform-pct\", pct = {:.2} }}   # fitted: the TTLs' spread",
                pct.min(99.0)
            );
        }
    }
    if op != "rate-limit" {
        let _ = writeln!(
            w,
            "origin = \"origin\"   # placeholder: where a miss loads from"
        );
        let _ = writeln!(
            w,
            "strategy = {{ kind = \"cache-aside\" }}   # placeholder: the client's strategy"
        );
    }
}

/// The profile report in markdown.
pub fn report_markdown(facts: &ServerFacts, profile: &Profile, source: &str) -> String {
    let mut s = String::new();
    let w = &mut s;
    let info = |k: &str| facts.info.get(k).map_or("?", String::as_str);
    let cfg = |k: &str| facts.config.get(k).map_or("?", String::as_str);
    let _ = writeln!(w, "# Profile of {source}\n");
    let _ = writeln!(
        w,
        "Redis {}, used_memory {} B, maxmemory {} B, maxmemory-policy {}, DBSIZE {}; {} keys sampled{}.\n",
        info("redis_version"),
        info("used_memory"),
        cfg("maxmemory"),
        cfg("maxmemory-policy"),
        facts.dbsize,
        profile.n_sampled,
        match profile.monitor_span_s {
            Some(span) => format!(", monitor window {span:.1} s"),
            None => ", no monitor window".into(),
        }
    );
    let _ = writeln!(w, "## Templates\n");
    let _ = writeln!(
        w,
        "| template | type | sampled | est. keys (± s.e.) | tenants | size median (95% CI), σ | p50 / p90 / p99 | memory/key | TTL | rate/s (± s.e.) | reads | Zipf α (± s.e.) |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for t in &profile.templates {
        let size = t.size_fit.map_or("-".into(), |f| {
            format!(
                "{:.1} ({:.1}–{:.1}), {:.3} [{}]",
                f.median, f.median_ci95.0, f.median_ci95.1, f.sigma, t.size_basis
            )
        });
        let ttl = match t.ttl.fit {
            TtlFit::None => "none".into(),
            TtlFit::Fixed { ttl_ms } => format!("{ttl_ms:.0} ms fixed"),
            TtlFit::UniformPct { ttl_ms, pct } => format!("{ttl_ms:.0} ms ± {pct:.1}%"),
        };
        let _ = writeln!(
            w,
            "| `{}` | {} ({}) | {} | {:.0} (± {:.0}) | {} | {} | {:.0} / {:.0} / {:.0} | {:.0} B | {} ({}, ± {:.1}%, {:.0}% with TTL) | {} | {} | {} |",
            t.template,
            t.data_type,
            t.encoding,
            t.n_sampled,
            t.est_keys,
            t.est_keys_se,
            t.tenants.len(),
            size,
            t.size_quantiles.0,
            t.size_quantiles.1,
            t.size_quantiles.2,
            t.memory_bytes_mean,
            ttl,
            t.ttl.basis,
            t.ttl.mean_rel_se * 100.0,
            t.ttl.with_ttl_fraction * 100.0,
            t.rate_per_s
                .map_or("-".into(), |(r, se)| format!("{r:.2} (± {se:.2})")),
            if t.requests > 0 {
                format!("{:.0}%", t.reads as f64 * 100.0 / t.requests as f64)
            } else {
                "-".into()
            },
            t.zipf
                .map_or("-".into(), |z| format!("{:.3} (± {:.3})", z.alpha, z.alpha_se)),
        );
    }
    if profile.monitor_span_s.is_some() {
        let _ = writeln!(w, "\n## Hottest keys\n");
        let _ = writeln!(w, "| key | requests | hash slot |");
        let _ = writeln!(w, "|---|---|---|");
        for (k, c, slot) in &profile.hottest {
            let _ = writeln!(w, "| `{k}` | {c} | {slot} |");
        }
        let _ = writeln!(
            w,
            "\nBusiest shard's share of the keyed requests with the slots split evenly: {}.",
            profile
                .busiest_shard_share
                .iter()
                .map(|(s, share)| format!(
                    "{s} shards {:.1}% (even: {:.1}%)",
                    share * 100.0,
                    100.0 / *s as f64
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if profile.unmatched_requests > 0 {
            let _ = writeln!(
                w,
                "\n{} requests named keys of no sampled template (sample more keys to see them).",
                profile.unmatched_requests
            );
        }
    }
    let _ = writeln!(
        w,
        "\nKey counts: sample fraction × DBSIZE, binomial standard error. Sizes: lognormal by maximum likelihood on log sizes (STRLEN for strings, MEMORY USAGE otherwise). TTLs: from the monitored SET commands when there are 20 or more, else from the sampled PTTLs (written-recently or steady-state reading, whichever is likelier). Zipf α: maximum likelihood on the per-key request counts (a key of the tenant's N is a random rank with a Poisson count; unrequested keys included), per tenant with one α."
    );
    s
}
