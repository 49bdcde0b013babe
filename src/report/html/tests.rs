use super::*;
use crate::report::run_charts::{render_run_charts, run_chart_specs};

/// A small scenario: two plans (one with a single cluster), a keyspace without traffic, a
/// critical keyspace and markup in names and descriptions.
const TOML: &str = r#"
version = 1
name = "tiny"
description = "R&D <script>alert(1)</script> \"quoted\""

[simulation]
seed = 7
duration_ms = "20s"
warmup_ms = "5s"
window_ms = "5s"
app_instances = 2

[[tenants]]
name = "t<1>"
traffic_weight = 1
size = 1.0

[[origins]]
name = "db&co"
concurrency = 4
service_time_ms = { dist = "fixed", value = 5 }

[[clusters]]
name = "small"
shards = 2
maxmemory_bytes = "1mb"
maxmemory_policy = "allkeys-lru"

[[clusters]]
name = "safe"
shards = 1
maxmemory_bytes = "4mb"
maxmemory_policy = "noeviction"

[[keyspaces]]
name = "cat<alog>"
key_template = "catalog:{tenant}:publication:{publicationId}:offering:{offeringId}"
operation = "read-through"
rate_per_s = 200
keys_per_tenant = 5000
popularity = { dist = "zipf", alpha = 0.9 }
value_size_bytes = { dist = "fixed", value = 500 }
ttl_ms = "60s"
origin = "db&co"

[[keyspaces]]
name = "idle"
key_template = "idle:{tenant}:{id}"
operation = "read-through"
rate_per_s = 0.0001
keys_per_tenant = 10
value_size_bytes = { dist = "fixed", value = 10 }
ttl_ms = "60s"
origin = "db&co"

[[keyspaces]]
name = "session"
key_template = "session:{tenant}:user:{userId}"
operation = "session"
criticality = "critical"
rate_per_s = 50
keys_per_tenant = 500
value_size_bytes = { dist = "fixed", value = 300 }
ttl_ms = "30m"
origin = "db&co"

[[plans]]
name = "one"
description = "all on <small>"
placement = { "cat<alog>" = "small", idle = "small", session = "small" }

[[plans]]
name = "split"
description = "session apart"
placement = { "cat<alog>" = "small", idle = "small", session = "safe" }

[[events]]
at_ms = "10s"
name = "new <version>"
action = "new-version"
keyspaces = ["cat<alog>"]

[slo]
hit_ratio_min = { "cat<alog>" = 0.5, idle = 0.9 }
latency_p99_ms_max = { session = 20 }
origin_peak_per_s_max = { "db&co" = 1000 }
critical_evictions_max = 0
shard_utilization_max = 0.7
"#;

fn info() -> ReportInfo<'static> {
    ReportInfo {
        version: "0.1.0",
        commit: Some("abc<def>"),
        seed: 7,
        scenario_source: "tests/<tiny>.toml",
    }
}

#[test]
fn report_has_verdict_charts_escapes_and_is_deterministic() {
    let scn = crate::scenario::parse(TOML, "tiny.toml").expect("test scenario parses");
    let results = crate::sim::run_all_plans(&scn, 7);
    let charts = render_run_charts(&scn, &results).expect("charts render");
    assert_eq!(charts.len(), run_chart_specs(&scn, &results).len());
    let page = report_html(&scn, &results, &charts, &info());

    assert!(page.contains(&format!("<table id=\"{VERDICT_TABLE_ID}\">")));
    // One row per objective: 2 hit ratios, 1 p99, 1 origin, critical evictions, utilization,
    // and the two that always apply: errors + OOM rejections of the critical keyspace and the
    // projected fill.
    assert_eq!(verdict::checks(&scn, &results).len(), 8);
    assert!(
        page.contains("no hit ratio"),
        "the idle keyspace has no data"
    );
    assert_eq!(page.matches("<svg").count(), charts.len());
    for c in &charts {
        assert!(page.contains(&format!("id=\"chart-{}\"", c.name)));
    }
    assert!(
        !page.contains("<script"),
        "no scripts, scenario text escaped"
    );
    assert!(page.contains("R&amp;D &lt;script&gt;"));
    assert!(page.contains("cat&lt;alog&gt;"));
    assert!(page.contains("db&amp;co"));
    assert!(page.contains("abc&lt;def&gt;"));
    assert!(!page.contains("<alog>") && !page.contains("<version>"));
    assert!(page.contains("the run cannot answer"));
    // Events are described by their action; the stale-read rule is stated.
    assert!(page.contains("<b>new &lt;version&gt;</b> (<code>new-version</code>)"));
    assert!(!page.contains("new version of"));
    assert!(page.contains("id=\"staleness-rule\""));
    // Every table scrolls in its own box (the page never scrolls sideways).
    let tables = page.matches("<table").count();
    assert!(tables > 5);
    assert_eq!(page.matches("<div class=\"scroll\"><table").count(), tables);
    assert_eq!(page.matches("</table></div>").count(), tables);

    let again = report_html(
        &scn,
        &results,
        &render_run_charts(&scn, &results).unwrap(),
        &info(),
    );
    assert_eq!(page, again, "same input, same bytes");
}

#[test]
fn report_survives_empty_results() {
    let scn = crate::scenario::parse(TOML, "tiny.toml").expect("test scenario parses");
    let charts = render_run_charts(&scn, &[]).expect("charts render without results");
    let page = report_html(&scn, &[], &charts, &info());
    assert!(page.contains(&format!("<table id=\"{VERDICT_TABLE_ID}\">")));
    assert_eq!(page.matches("<svg").count(), charts.len());
}

/// The report's markup is built with maud alone: no section writes HTML text by hand, and
/// only the style sheet and the rendered charts go in unescaped.
#[test]
fn markup_is_built_by_maud_only() {
    let sources = [
        ("html/mod.rs", include_str!("mod.rs")),
        ("html/scenario.rs", include_str!("scenario.rs")),
        ("invariants.rs", include_str!("../invariants.rs")),
        ("review/mod.rs", include_str!("../review/mod.rs")),
        (
            "review/checklist.rs",
            include_str!("../review/checklist.rs"),
        ),
        ("review/outcomes.rs", include_str!("../review/outcomes.rs")),
    ];
    let raw = ["PreEscaped", "("].concat();
    let writes = ["write", "!("].concat();
    let escapes = ["escape", "("].concat();
    let tags = ["<", "b>"].concat();
    let mut unescaped = 0;
    for (name, text) in sources {
        unescaped += text.matches(&raw).count();
        assert!(!text.contains(&writes), "{name} writes HTML text");
        assert!(!text.contains(&escapes), "{name} escapes by hand");
        assert!(!text.contains(&tags), "{name} writes a tag in a string");
    }
    assert_eq!(unescaped, 2, "the style sheet and the charts' SVG only");
}
