//! `report.html`: the architecture-review report of one run, as one self-contained page (inline
//! CSS and SVG, no scripts, no external assets). It owns the page's layout: the run facts, the
//! verdict table (from [`super::verdict`]), the scenario in brief (its timeline's events and
//! faults described by [`super::review`]), the charts (from [`super::run_charts`], rendered by
//! the caller) and the design-review checklist of the CPQ/OMS Redis boundaries document
//! (section 29), whose answers [`super::review`] derives from the scenario and the run. Every
//! table scrolls sideways in its own box and charts scale, so the page reads at 800 px without
//! sideways page scroll (`tests/browser/check_report.sh` checks it). Every section is built
//! with maud, so every text is escaped by construction; the review's findings arrive as data
//! (`review::Text`, plain cells) and are only rendered here. Pure: returns a `String`,
//! touches no file, reads no clock; the same inputs give the same bytes.

use super::horizon::{self, PlanHorizon};
use super::review::{self, Source};
use super::run_charts::{short_num, RunChart};
use super::verdict::{self, Check, Outcome};
use crate::engine::SimTime;
use crate::metrics::summary::{hit_ratio, origin_peaks_per_s, quantile_ms};
use crate::metrics::PlanResult;
use crate::scenario::dist::Dist;
use crate::scenario::{Criticality, Jitter, Keyspace, Popularity, Scenario};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// How the run was made: the manifest facts the report prints. Nothing here may vary between
/// two runs of the same scenario and seed (no wall-clock time), so reports compare byte for byte.
#[derive(Clone, Debug)]
pub struct ReportInfo<'a> {
    /// `cacheplan` version.
    pub version: &'a str,
    /// Git commit, when known.
    pub commit: Option<&'a str>,
    /// Run seed.
    pub seed: u64,
    /// Where the scenario came from.
    pub scenario_source: &'a str,
}

/// Id of the verdict table (the browser check looks for it).
pub const VERDICT_TABLE_ID: &str = "verdict";

/// The whole report page. `charts` are shown inline in the given order.
pub fn report_html(
    scn: &Scenario,
    results: &[PlanResult],
    charts: &[RunChart],
    info: &ReportInfo,
) -> String {
    let title = format!("cacheplan report: {}", scn.name);
    let horizons = horizon::judge_all(scn, results);
    // One section per call: a new section is one more line here.
    let sections = [
        run_facts(scn, results, info),
        nav(),
        verdict_section(scn, results, &horizons),
        steady_state_section(scn, results, &horizons),
        super::invariants::invariants_section(scn, results),
        scenario::scenario_section(scn),
        charts_section(charts),
        origins_section(scn, results),
        checklist_section(scn, results),
    ];
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (title) }
                @if !scn.description.is_empty() {
                    p.lead { (scn.description) }
                }
                @for section in &sections {
                    (section)
                }
            }
        }
    };
    // Every table scrolls sideways in its own box, so a narrow window never scrolls the page
    // (maud escapes every text and charts hold no table: only the report's own tags match).
    page.into_string()
        .replace("<table", "<div class=\"scroll\"><table")
        .replace("</table>", "</table></div>")
}

const CSS: &str = "\
body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;color:#222;margin:24px auto;max-width:1240px;padding:0 16px;line-height:1.4;overflow-wrap:break-word}
h1{font-size:1.7em;margin-bottom:.2em}
h2{border-bottom:2px solid #0072B2;padding-bottom:.15em;margin-top:1.8em}
h3{margin-top:1.3em}
.lead{font-size:1.1em;color:#444}
nav{margin:1em 0;padding:.5em 0;border-top:1px solid #ddd;border-bottom:1px solid #ddd}
nav a{color:#0072B2}
.scroll{overflow-x:auto;max-width:100%;margin:.6em 0 1em}
table{border-collapse:collapse;font-size:.9em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.pass{background:#dcecf7}
td.fail{background:#fbdcc0;font-weight:bold}
td.nodata{background:#eee;color:#666}
td.warn{background:#fff1c9}
td.unknown{background:#eee;color:#555;font-style:italic}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-size:.85em;white-space:nowrap}
.b-pass{background:#0072B2;color:#fff}
.b-fail{background:#D55E00;color:#fff}
.b-scenario{background:#dcecf7}
.b-run{background:#d5efe6}
.b-unknown{background:#ddd}
.b-warn{background:#E69F00;color:#000}
code{font-size:.92em;background:#f6f6f6;padding:0 2px}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:.5em 0}
dl.facts dt{font-weight:bold}
dl.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
figure{margin:1.5em 0;border:1px solid #ddd;padding:8px}
figure svg,figure img{width:100%;max-width:100%;height:auto;display:block}
figcaption{margin-bottom:6px}
figcaption .files{color:#666;font-size:.85em}
.muted{color:#666}
";

fn run_facts(scn: &Scenario, results: &[PlanResult], info: &ReportInfo) -> Markup {
    let requests: u64 = results.iter().map(|r| r.requests_total).sum();
    let events: u64 = results.iter().map(|r| r.events).sum();
    let plans: Vec<String> = results.iter().map(|r| plan_name(scn, r)).collect();
    html! {
        dl.facts {
            dt { "scenario" }
            dd { (scn.name) " " span.muted { "from " (info.scenario_source) } }
            dt { "seed" }
            dd { (info.seed) }
            dt { "cacheplan" }
            dd { (info.version) " (commit " (info.commit.unwrap_or("unknown")) ")" }
            dt { "simulated time" }
            dd {
                (duration(scn.duration)) " (" (duration(scn.warmup))
                " warm-up not counted in totals; " (duration(scn.window)) " windows)"
            }
            dt { "plans" }
            dd { (plans.join(", ")) }
            dt { "simulated" }
            dd { (requests) " requests, " (events) " events (all plans, warm-up included)" }
        }
    }
}

fn nav() -> Markup {
    let links = [
        ("verdict-section", "Verdict"),
        ("steady-state", "Steady state"),
        ("invariants", "Business invariants"),
        ("scenario", "Scenario"),
        ("charts", "Charts"),
        ("origins", "Origins"),
        ("checklist", "Design-review checklist"),
    ];
    html! {
        nav {
            @for (i, (id, label)) in links.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(format!("#{id}")) { (label) }
            }
        }
    }
}

/// A plan's name (or "plan N" for a result without one).
pub(super) fn plan_name(scn: &Scenario, res: &PlanResult) -> String {
    scn.plans
        .get(res.plan)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| format!("plan {}", res.plan))
}

/// A duration as the scenario would write it: "1h", "2m", "30s", "1.5s", "250ms".
pub(super) fn duration(t: SimTime) -> String {
    let ms = t.as_ms();
    if ms == 0 {
        return "0".into();
    }
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms > 1000 {
        format!("{}s", short_num(ms as f64 / 1000.0))
    } else {
        format!("{ms}ms")
    }
}

fn mb(bytes: u64) -> String {
    format!("{} MB", short_num(bytes as f64 / (1024.0 * 1024.0)))
}

/// Plan × keyspaces and shards of one plan that were not at steady state.
fn not_steady_counts(p: &PlanHorizon) -> (usize, usize) {
    (
        p.keyspaces.iter().filter(|j| !j.steady()).count(),
        p.shards.iter().filter(|j| !j.steady()).count(),
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A "not at steady state" badge's text for a plan with `k` keyspaces and `s` shards not
/// at steady state.
fn not_steady_text(k: usize, s: usize) -> String {
    format!("{}, {}", plural(k, "keyspace"), plural(s, "shard"))
}

fn verdict_section(scn: &Scenario, results: &[PlanResult], horizons: &[PlanHorizon]) -> Markup {
    let checks = verdict::checks(scn, results);
    let unsteady: Vec<(String, (usize, usize))> = results
        .iter()
        .zip(horizons)
        .map(|(res, p)| (plan_name(scn, res), not_steady_counts(p)))
        .filter(|(_, counts)| *counts != (0, 0))
        .collect();
    html! {
        h2 id="verdict-section" { "Verdict against the scenario's SLOs" }
        @if checks.is_empty() {
            p { "The scenario sets no service-level objective (" code { "[slo]" } ")." }
        } @else {
            ul {
                @for (pos, res) in results.iter().enumerate() {
                    @let (pass, fail) = verdict::tally(&checks, pos);
                    li {
                        b { (plan_name(scn, res)) } ": "
                        @if fail == 0 {
                            span.badge.b-pass { "meets every SLO" }
                        } @else {
                            span.badge.b-fail { "fails " (fail) }
                        }
                        " — " (pass) " of " (checks.len()) " objectives met"
                        @if let Some((k, s)) = horizons.get(pos).map(not_steady_counts).filter(|c| *c != (0, 0)) {
                            " "
                            a href="#steady-state" {
                                span.badge.b-warn { "not at steady state: " (not_steady_text(k, s)) }
                            }
                        }
                    }
                }
            }
        }
        @if unsteady.is_empty() {
            p { "Every plan × keyspace and shard was at steady state by the end of the run." }
        } @else {
            p {
                span.badge.b-warn { "⚠ not at steady state" } " "
                @for (i, (plan, (k, s))) in unsteady.iter().enumerate() {
                    @if i > 0 { ", " }
                    b { (plan) } " (" (not_steady_text(*k, *s)) ")"
                }
                ": these verdicts describe a cache still changing at the end of the run (see "
                a href="#steady-state" { "Was the run at steady state?" } ")."
            }
        }
        table id=(VERDICT_TABLE_ID) {
            thead { tr {
                th { "objective" } th { "on" } th { "target" }
                @for res in results { th { (plan_name(scn, res)) } }
            } }
            tbody {
                (cost_rows(scn, results))
                @for c in &checks { (verdict_row(c)) }
            }
        }
        @let comparison = crate::cost::comparison_text(scn, &crate::cost::plan_costs(scn));
        @if !comparison.is_empty() {
            p id="cost-comparison" { "Cost: " (comparison) "." }
        }
        p.muted {
            "Hit ratio = Redis hits / requests after the warm-up. p99 from the end-to-end \
             HdrHistogram. Origin peak = the highest loads per second in one window after the \
             warm-up. Evictions before TTL count keys of critical keyspaces evicted while their \
             TTL had not passed. Utilization = main-thread busy time / measured seconds."
        }
    }
}

/// One row of the steady-state table: plan, what, why not.
struct NotSteady {
    plan: String,
    what: String,
    why: String,
}

fn steady_state_section(
    scn: &Scenario,
    results: &[PlanResult],
    horizons: &[PlanHorizon],
) -> Markup {
    let mut rows = Vec::new();
    for (res, p) in results.iter().zip(horizons) {
        let plan = plan_name(scn, res);
        for (k, j) in scn.keyspaces.iter().zip(&p.keyspaces) {
            if !j.steady() {
                rows.push(NotSteady {
                    plan: plan.clone(),
                    what: format!("keyspace {}", k.name),
                    why: j.reason_text(),
                });
            }
        }
        for (s, j) in res.shards.iter().zip(&p.shards) {
            if !j.steady() {
                let cluster = scn
                    .clusters
                    .get(s.cluster)
                    .map(|c| c.name.as_str())
                    .unwrap_or("?");
                rows.push(NotSteady {
                    plan: plan.clone(),
                    what: format!("shard {cluster}/{}", s.shard),
                    why: j.reason_text(),
                });
            }
        }
    }
    html! {
        h2 id="steady-state" { "Was the run at steady state?" }
        @if rows.is_empty() {
            p {
                "Yes: every plan × keyspace and every shard was at steady state by the end of \
                 the run (no material used_memory or hit-ratio trend over the last third of the \
                 counted horizon, and every TTL shorter than the horizon)."
            }
        } @else {
            p {
                "Not everywhere. A capacity plan speaks of steady state; these figures were \
                 still changing when the run ended (" code { "steady_state" } " in "
                code { "summary.csv" } " and " code { "shards.csv" } "):"
            }
            table id="steady-state-table" {
                thead { tr { th { "plan" } th { "what" } th { "why not" } } }
                tbody {
                    @for r in &rows {
                        tr { td { (r.plan) } td { (r.what) } td { (r.why) } }
                    }
                }
            }
        }
        p.muted {
            "Judged over the last third of the counted horizon (from "
            (duration(horizon::trend_start(scn)))
            "): a least-squares trend of each shard's used_memory and each keyspace's hit \
             ratio counts when it is at least " (short_num(horizon::TREND_T_MIN))
            " standard errors from zero and would move used_memory by more than "
            (short_num(horizon::MEMORY_DRIFT_MAX_FRACTION * 100.0))
            "% of its mean, or the hit ratio by more than "
            (short_num(horizon::HIT_RATIO_DRIFT_MAX * 100.0))
            " point, over that third. A full shard that is evicting is at steady state. On a \
             cold start a keyspace whose TTL is longer than the run has not turned over. \
             Timeline events and bursts in that third are transients. Details in \
             output/README.md, \"Steady state\"."
        }
    }
}

/// The verdict table's first rows: each plan's nodes and monthly cost (`crate::cost`).
fn cost_rows(scn: &Scenario, results: &[PlanResult]) -> Markup {
    let currency = crate::cost::currency(scn);
    let costs: Vec<crate::cost::PlanCost> = results
        .iter()
        .map(|r| crate::cost::plan_cost(scn, r.plan))
        .collect();
    html! {
        tr {
            td { "nodes" } td { "the plan's clusters" } td { "shards × (1 + replicas)" }
            @for c in &costs { td.num { (c.nodes) } }
        }
        tr {
            td { "monthly cost" } td { "the plan's clusters" } td { (currency) " per month (730 h)" }
            @for c in &costs { td.num { (format!("{:.2}", c.monthly_cost)) } }
        }
    }
}

fn verdict_row(c: &Check) -> Markup {
    html! {
        tr {
            td { (c.metric) } td { (c.subject) } td { (c.target) }
            @for cell in &c.cells {
                @let (class, mark) = match cell.outcome {
                    Outcome::Pass => ("pass", "✓ pass"),
                    Outcome::Fail => ("fail", "✗ FAIL"),
                    Outcome::NoData => ("nodata", "– no data"),
                };
                td class=(class) { (mark) ": " (cell.measured) }
            }
        }
    }
}

/// A distribution in words, values in `unit`.
pub(super) fn dist_text(d: &Dist, unit: &str) -> String {
    match d {
        Dist::Fixed(v) => format!("{} {unit}", short_num(*v)),
        Dist::Exponential(m) => format!("exponential, mean {} {unit}", short_num(*m)),
        Dist::Lognormal { mu, sigma } => format!(
            "lognormal, median {} {unit}, σ {}",
            short_num(mu.exp()),
            short_num(*sigma)
        ),
        Dist::Uniform { min, max } => {
            format!("uniform {}–{} {unit}", short_num(*min), short_num(*max))
        }
        Dist::Empirical { values, .. } => {
            let max = values.iter().copied().fold(f64::NAN, f64::max);
            format!(
                "empirical, {} values, max {} {unit}",
                values.len(),
                short_num(max)
            )
        }
    }
}

/// A popularity in words.
pub(super) fn popularity_text(p: &Popularity) -> String {
    match p {
        Popularity::Zipf(a) => format!("zipf α {}", short_num(*a)),
        Popularity::Uniform => "uniform".into(),
        Popularity::HotSet {
            hot_keys_fraction,
            hot_requests_fraction,
        } => format!(
            "hot set: {}% of keys get {}% of requests",
            short_num(hot_keys_fraction * 100.0),
            short_num(hot_requests_fraction * 100.0)
        ),
    }
}

/// The name of keyspace `k`'s origin ("—" without one).
pub(super) fn origin_name(scn: &Scenario, k: &Keyspace) -> String {
    k.origin
        .and_then(|o| scn.origins.get(o))
        .map(|o| o.name.clone())
        .unwrap_or_else(|| "—".into())
}

fn charts_section(charts: &[RunChart]) -> Markup {
    html! {
        h2 id="charts" { "Charts" }
        @for c in charts {
            figure id=(format!("chart-{}", c.name)) {
                figcaption {
                    b { (c.title) } ". " (c.caption) " "
                    span.files {
                        "(" a href=(format!("charts/{}.png", c.name)) { "PNG" } ", "
                        a href=(format!("charts/{}.svg", c.name)) { "SVG" } ")"
                    }
                }
                // The renderer escapes its text; its document is a bare <svg> element, valid
                // inline.
                (PreEscaped(c.rendered.svg.trim()))
            }
        }
    }
}

fn origins_section(scn: &Scenario, results: &[PlanResult]) -> Markup {
    html! {
        h2 id="origins" { "What happened to the origins" }
        table {
            thead { tr {
                th { "plan" } th { "origin" } th { "loads" } th { "peak loads/s" }
                th { "rejected" } th { "timed out" } th { "peak concurrency / pool" }
                th { "peak queue / limit" } th { "saturated since" }
            } }
            tbody {
                @for res in results {
                    @let peaks = origin_peaks_per_s(scn, res);
                    @for (oi, o) in scn.origins.iter().enumerate() {
                        @if let Some(m) = res.origins.get(oi) {
                            tr {
                                td { (plan_name(scn, res)) }
                                td { (o.name) }
                                td.num { (m.loads) }
                                td.num { (format!("{:.1}", peaks.get(oi).copied().unwrap_or(0.0))) }
                                td.num.warn[m.rejected > 0] { (m.rejected) }
                                td.num.warn[m.timed_out > 0] { (m.timed_out) }
                                td.num { (m.peak_concurrency) " / " (o.concurrency) }
                                td.num { (m.peak_queue) " / " (o.queue_limit) }
                                td class=[m.saturated_since.map(|_| "fail")] {
                                    @if let Some(t) = m.saturated_since {
                                        (short_num(t.as_secs_f64())) " s"
                                    } @else {
                                        "never"
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn source_badge(s: Source) -> Markup {
    html! {
        @match s {
            Source::Scenario => span.badge.b-scenario { "from the scenario" },
            Source::Run => span.badge.b-run { "from the run" },
            Source::Unknown => span.badge.b-unknown { "the run cannot answer" },
        }
    }
}

/// A cell of table A: its text, highlighted when it needs attention.
fn finding_td(text: &str, warn: bool) -> Markup {
    html! { td class=[warn.then_some("warn")] { (text) } }
}

fn checklist_section(scn: &Scenario, results: &[PlanResult]) -> Markup {
    let rows = review::keyspace_findings(scn);
    html! {
        h2 id="checklist" { "Design-review checklist" }
        p {
            "The questions of section 29 of the CPQ/OMS Redis boundaries document, for every \
             Redis usage, answered from the scenario and this run wherever they can be. Answers \
             marked " i { "the run cannot answer" } " need the design review itself. \
             Highlighted cells need attention."
        }
        h3 { "A. Per keyspace, from the scenario" }
        table id="checklist-keyspaces" {
            thead { tr {
                th { "keyspace" } th { "source of truth if Redis is empty" }
                th { "key includes tenant?" } th { "key includes version / publication / policy?" }
                th { "TTL" } th { "TTL jitter" } th { "invalidation" } th { "value size bounded?" }
                th { "can a key become hot?" }
            } }
            tbody {
                @for (k, row) in scn.keyspaces.iter().zip(&rows) {
                    tr {
                        td { (k.name) }
                        @for (text, warn) in row.cells() {
                            (finding_td(text, warn))
                        }
                    }
                }
            }
        }
        h3 { "B. Per keyspace and plan, from the run" }
        table id="checklist-run" {
            thead {
                tr {
                    th rowspan="2" { "keyspace" } th rowspan="2" { "criticality" }
                    @for res in results { th colspan="4" { (plan_name(scn, res)) } }
                }
                tr {
                    @for _ in results {
                        th { "hit ratio" } th { "p99 (ms)" } th { "evicted" } th { "evicted before TTL" }
                    }
                }
            }
            tbody {
                @for (ki, k) in scn.keyspaces.iter().enumerate() {
                    @let critical = k.criticality == Criticality::Critical;
                    tr {
                        td { (k.name) } td { (k.criticality.as_str()) }
                        @for res in results {
                            @let hr = hit_ratio(scn, res, ki)
                                .map(|v| format!("{v:.3}"))
                                .unwrap_or_else(|| "—".into());
                            @let p99 = res
                                .keyspaces
                                .get(ki)
                                .and_then(|m| quantile_ms(&m.latency_us, 0.99))
                                .map(|v| format!("{v:.2}"))
                                .unwrap_or_else(|| "—".into());
                            @let ev = res.keyspace_evictions.get(ki).copied().unwrap_or(0);
                            @let before = res.keyspace_evictions_before_ttl.get(ki).copied().unwrap_or(0);
                            td.num { (hr) } td.num { (p99) } td.num { (ev) }
                            td.num.fail[critical && before > 0] { (before) }
                        }
                    }
                }
            }
        }
        h3 { "C. The questions" }
        table id="checklist-questions" {
            thead { tr { th { "question" } th { "answer" } th { "source" } } }
            tbody {
                @for a in review::checklist_answers(scn, results) {
                    tr {
                        td { (a.question) }
                        td class=[(a.source == Source::Unknown).then_some("unknown")] { (a.answer) }
                        td { (source_badge(a.source)) }
                    }
                }
            }
        }
        p {
            b {
                "If the answer to “what happens if Redis is empty?” is “business breaks”, \
                 review the design."
            }
            " " (review::business_breaks(scn, results))
        }
    }
}

mod scenario;
pub(in crate::report) use scenario::jitter_text;
#[cfg(test)]
mod tests;
