//! `report.html`: the architecture-review report of one run, as one self-contained page (inline
//! CSS and SVG, no scripts, no external assets). It owns the page's layout: the run facts, the
//! verdict table (from [`super::verdict`]), the scenario in brief (its timeline's events and
//! faults described by [`super::review`]), the charts (from [`super::run_charts`], rendered by
//! the caller) and the design-review checklist of the CPQ/OMS Redis boundaries document
//! (section 29), whose answers [`super::review`] derives from the scenario and the run. Every
//! table scrolls sideways in its own box and charts scale, so the page reads at 800 px without
//! sideways page scroll (`tests/browser/check_report.sh` checks it). Pure: returns a `String`,
//! touches no file, reads no clock; the same inputs give the same bytes. Every
//! scenario-provided text is HTML-escaped.

use super::horizon::{self, PlanHorizon};
use super::review::{self, hot_key, invalidation, source_of_truth, value_bounded, Source};
use super::run_charts::{short_num, RunChart};
use super::verdict::{self, Check, Outcome};
use crate::engine::SimTime;
use crate::metrics::summary::{hit_ratio, origin_peaks_per_s, quantile_ms};
use crate::metrics::PlanResult;
use crate::scenario::dist::Dist;
use crate::scenario::{Criticality, Jitter, Keyspace, Operation, Popularity, Scenario};
use maud::{html, Markup, PreEscaped};
use std::fmt::Write;

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

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole report page. `charts` are shown inline in the given order.
pub fn report_html(
    scn: &Scenario,
    results: &[PlanResult],
    charts: &[RunChart],
    info: &ReportInfo,
) -> String {
    let mut h = String::new();
    let title = format!("cacheplan report: {}", scn.name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape(&title));
    if !scn.description.is_empty() {
        let _ = writeln!(h, "<p class=\"lead\">{}</p>", escape(&scn.description));
    }
    run_facts(&mut h, scn, results, info);
    let _ = writeln!(
        h,
        "<nav><a href=\"#verdict-section\">Verdict</a> · \
         <a href=\"#steady-state\">Steady state</a> · \
         <a href=\"#invariants\">Business invariants</a> · <a href=\"#scenario\">Scenario</a> · \
         <a href=\"#charts\">Charts</a> · <a href=\"#origins\">Origins</a> · \
         <a href=\"#hotspots\">Where it breaks first</a> · \
         <a href=\"#checklist\">Design-review checklist</a></nav>"
    );
    let horizons = horizon::judge_all(scn, results);
    verdict_section(&mut h, scn, results, &horizons);
    steady_state_section(&mut h, scn, results, &horizons);
    super::invariants::invariants_section(&mut h, scn, results);
    h.push_str(&scenario::scenario_section(scn).into_string());
    h.push('\n');
    h.push_str(&charts_section(charts).into_string());
    h.push('\n');
    h.push_str(&origins_section(scn, results).into_string());
    h.push('\n');
    h.push_str(&super::hotspots::section(scn, results).into_string());
    h.push('\n');
    checklist_section(&mut h, scn, results);
    h.push_str("</body>\n</html>\n");
    // Every table scrolls sideways in its own box, so a narrow window never scrolls the page
    // (scenario text is escaped and charts hold no table: only the report's own tags match).
    h.replace("<table", "<div class=\"scroll\"><table")
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

fn run_facts(h: &mut String, scn: &Scenario, results: &[PlanResult], info: &ReportInfo) {
    let requests: u64 = results.iter().map(|r| r.requests_total).sum();
    let events: u64 = results.iter().map(|r| r.events).sum();
    h.push_str("<dl class=\"facts\">\n");
    let mut fact = |k: &str, v: String| {
        let _ = writeln!(h, "<dt>{}</dt><dd>{v}</dd>", escape(k));
    };
    fact(
        "scenario",
        format!(
            "{} <span class=\"muted\">from {}</span>",
            escape(&scn.name),
            escape(info.scenario_source)
        ),
    );
    fact("seed", info.seed.to_string());
    fact(
        "cacheplan",
        format!(
            "{} (commit {})",
            escape(info.version),
            escape(info.commit.unwrap_or("unknown"))
        ),
    );
    fact(
        "simulated time",
        format!(
            "{} ({} warm-up not counted in totals; {} windows)",
            duration(scn.duration),
            duration(scn.warmup),
            duration(scn.window)
        ),
    );
    fact(
        "plans",
        results
            .iter()
            .map(|r| escape(&plan_name(scn, r)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    fact(
        "simulated",
        format!("{requests} requests, {events} events (all plans, warm-up included)"),
    );
    h.push_str("</dl>\n");
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

fn verdict_section(
    h: &mut String,
    scn: &Scenario,
    results: &[PlanResult],
    horizons: &[PlanHorizon],
) {
    let checks = verdict::checks(scn, results);
    h.push_str("<h2 id=\"verdict-section\">Verdict against the scenario's SLOs</h2>\n");
    if checks.is_empty() {
        h.push_str("<p>The scenario sets no service-level objective (<code>[slo]</code>).</p>\n");
    } else {
        h.push_str("<ul>\n");
        for (pos, res) in results.iter().enumerate() {
            let (pass, fail) = verdict::tally(&checks, pos);
            let badge = if fail == 0 {
                "<span class=\"badge b-pass\">meets every SLO</span>".to_string()
            } else {
                format!("<span class=\"badge b-fail\">fails {fail}</span>")
            };
            let steady = match horizons.get(pos).map(not_steady_counts) {
                Some((0, 0)) | None => String::new(),
                Some((k, s)) => format!(
                    " <a href=\"#steady-state\"><span class=\"badge b-warn\">not at steady \
                     state: {}, {}</span></a>",
                    plural(k, "keyspace"),
                    plural(s, "shard")
                ),
            };
            let _ = writeln!(
                h,
                "<li><b>{}</b>: {badge} — {pass} of {} objectives met{steady}</li>",
                escape(&plan_name(scn, res)),
                checks.len()
            );
        }
        h.push_str("</ul>\n");
    }
    let unsteady: Vec<String> = results
        .iter()
        .zip(horizons)
        .filter_map(|(res, p)| match not_steady_counts(p) {
            (0, 0) => None,
            (k, s) => Some(format!(
                "<b>{}</b> ({}, {})",
                escape(&plan_name(scn, res)),
                plural(k, "keyspace"),
                plural(s, "shard")
            )),
        })
        .collect();
    if unsteady.is_empty() {
        h.push_str(
            "<p>Every plan × keyspace and shard was at steady state by the end of the run.</p>\n",
        );
    } else {
        let _ = writeln!(
            h,
            "<p><span class=\"badge b-warn\">⚠ not at steady state</span> {}: these verdicts \
             describe a cache still changing at the end of the run (see \
             <a href=\"#steady-state\">Was the run at steady state?</a>).</p>",
            unsteady.join(", ")
        );
    }
    let _ = writeln!(h, "<table id=\"{VERDICT_TABLE_ID}\">");
    h.push_str("<thead><tr><th>objective</th><th>on</th><th>target</th>");
    for res in results {
        let _ = write!(h, "<th>{}</th>", escape(&plan_name(scn, res)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for c in &checks {
        verdict_row(h, c);
    }
    h.push_str("</tbody>\n</table>\n");
    h.push_str(
        "<p class=\"muted\">Hit ratio = Redis hits / requests after the warm-up. p99 from the \
         end-to-end HdrHistogram. Origin peak = the highest loads per second in one window after \
         the warm-up. Evictions before TTL count keys of critical keyspaces evicted while their \
         TTL had not passed. Utilization = main-thread busy time / measured seconds.</p>\n",
    );
}

fn steady_state_section(
    h: &mut String,
    scn: &Scenario,
    results: &[PlanResult],
    horizons: &[PlanHorizon],
) {
    h.push_str("<h2 id=\"steady-state\">Was the run at steady state?</h2>\n");
    let mut rows = String::new();
    for (res, p) in results.iter().zip(horizons) {
        let plan = escape(&plan_name(scn, res));
        for (k, j) in scn.keyspaces.iter().zip(&p.keyspaces) {
            if !j.steady() {
                let _ = writeln!(
                    rows,
                    "<tr><td>{plan}</td><td>keyspace {}</td><td>{}</td></tr>",
                    escape(&k.name),
                    escape(&j.reason_text())
                );
            }
        }
        for (s, j) in res.shards.iter().zip(&p.shards) {
            if !j.steady() {
                let cluster = scn
                    .clusters
                    .get(s.cluster)
                    .map(|c| c.name.as_str())
                    .unwrap_or("?");
                let _ = writeln!(
                    rows,
                    "<tr><td>{plan}</td><td>shard {}/{}</td><td>{}</td></tr>",
                    escape(cluster),
                    s.shard,
                    escape(&j.reason_text())
                );
            }
        }
    }
    if rows.is_empty() {
        h.push_str(
            "<p>Yes: every plan × keyspace and every shard was at steady state by the end of the \
             run (no material used_memory or hit-ratio trend over the last third of the counted \
             horizon, and every TTL shorter than the horizon).</p>\n",
        );
    } else {
        h.push_str(
            "<p>Not everywhere. A capacity plan speaks of steady state; these figures were still \
             changing when the run ended (<code>steady_state</code> in <code>summary.csv</code> \
             and <code>shards.csv</code>):</p>\n",
        );
        h.push_str(
            "<table id=\"steady-state-table\">\n<thead><tr><th>plan</th><th>what</th>\
                    <th>why not</th></tr></thead>\n<tbody>\n",
        );
        h.push_str(&rows);
        h.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(
        h,
        "<p class=\"muted\">Judged over the last third of the counted horizon (from {}): a \
         least-squares trend of each shard's used_memory and each keyspace's hit ratio counts when \
         it is at least {} standard errors from zero and would move used_memory by more than {}% \
         of its mean, or the hit ratio by more than {} point, over that third. A full shard that \
         is evicting is at steady state. On a cold start a keyspace whose TTL is longer than the \
         run has not turned over. Timeline events and bursts in that third are transients. \
         Details in output/README.md, \"Steady state\".</p>",
        duration(horizon::trend_start(scn)),
        short_num(horizon::TREND_T_MIN),
        short_num(horizon::MEMORY_DRIFT_MAX_FRACTION * 100.0),
        short_num(horizon::HIT_RATIO_DRIFT_MAX * 100.0)
    );
}

fn verdict_row(h: &mut String, c: &Check) {
    let _ = write!(
        h,
        "<tr><td>{}</td><td>{}</td><td>{}</td>",
        escape(&c.metric),
        escape(&c.subject),
        escape(&c.target)
    );
    for cell in &c.cells {
        let (class, mark) = match cell.outcome {
            Outcome::Pass => ("pass", "✓ pass"),
            Outcome::Fail => ("fail", "✗ FAIL"),
            Outcome::NoData => ("nodata", "– no data"),
        };
        let _ = write!(
            h,
            "<td class=\"{class}\">{mark}: {}</td>",
            escape(&cell.measured)
        );
    }
    h.push_str("</tr>\n");
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

fn source_badge(s: Source) -> &'static str {
    match s {
        Source::Scenario => "<span class=\"badge b-scenario\">from the scenario</span>",
        Source::Run => "<span class=\"badge b-run\">from the run</span>",
        Source::Unknown => "<span class=\"badge b-unknown\">the run cannot answer</span>",
    }
}

fn td(text: &str, warn: bool) -> String {
    if warn {
        format!("<td class=\"warn\">{text}</td>")
    } else {
        format!("<td>{text}</td>")
    }
}

fn checklist_section(h: &mut String, scn: &Scenario, results: &[PlanResult]) {
    h.push_str(
        "<h2 id=\"checklist\">Design-review checklist</h2>\n<p>The questions of section 29 of \
         the CPQ/OMS Redis boundaries document, for every Redis usage, answered from the \
         scenario and this run wherever they can be. Answers marked <i>the run cannot \
         answer</i> need the design review itself. Highlighted cells need attention.</p>\n",
    );
    // A. Per keyspace, from the scenario.
    h.push_str(
        "<h3>A. Per keyspace, from the scenario</h3>\n<table id=\"checklist-keyspaces\">\n\
         <thead><tr><th>keyspace</th><th>source of truth if Redis is empty</th>\
         <th>key includes tenant?</th><th>key includes version / publication / policy?</th>\
         <th>TTL</th><th>TTL jitter</th><th>invalidation</th><th>value size bounded?</th>\
         <th>can a key become hot?</th></tr></thead>\n<tbody>\n",
    );
    for (ki, k) in scn.keyspaces.iter().enumerate() {
        let (version, version_warn) = review::key_version(scn, ki);
        let (inval, inval_warn) = invalidation(scn, ki);
        let (bounded, bounded_warn) = value_bounded(k);
        let (hot, hot_warn) = hot_key(k);
        let ttl_none = k.ttl.as_ns() == 0;
        let jitter_warn = matches!(k.jitter, Jitter::None)
            && !ttl_none
            && matches!(k.operation, Operation::ReadThrough);
        let _ = writeln!(
            h,
            "<tr><td>{}</td>{}{}{}{}{}{}{}{}</tr>",
            escape(&k.name),
            td(&source_of_truth(scn, k), false),
            td(
                if k.key_has_tenant {
                    "yes"
                } else {
                    "no: keys of tenants can collide"
                },
                !k.key_has_tenant
            ),
            td(&version, version_warn),
            td(
                &if ttl_none {
                    "none".to_string()
                } else {
                    duration(k.ttl)
                },
                ttl_none
            ),
            td(
                &if jitter_warn {
                    "none: keys written together expire together".to_string()
                } else {
                    escape(&jitter_text(&k.jitter))
                },
                jitter_warn
            ),
            td(&inval, inval_warn),
            td(&bounded, bounded_warn),
            td(&hot, hot_warn),
        );
    }
    h.push_str("</tbody>\n</table>\n");

    // B. Per keyspace and plan, from the run.
    h.push_str(
        "<h3>B. Per keyspace and plan, from the run</h3>\n<table id=\"checklist-run\">\n\
         <thead><tr><th rowspan=\"2\">keyspace</th><th rowspan=\"2\">criticality</th>",
    );
    for res in results {
        let _ = write!(h, "<th colspan=\"4\">{}</th>", escape(&plan_name(scn, res)));
    }
    h.push_str("</tr>\n<tr>");
    for _ in results {
        h.push_str(
            "<th>hit ratio</th><th>p99 (ms)</th><th>evicted</th><th>evicted before TTL</th>",
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (ki, k) in scn.keyspaces.iter().enumerate() {
        let critical = k.criticality == Criticality::Critical;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td>",
            escape(&k.name),
            k.criticality.as_str()
        );
        for res in results {
            let hr = hit_ratio(scn, res, ki)
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "—".into());
            let p99 = res
                .keyspaces
                .get(ki)
                .and_then(|m| quantile_ms(&m.latency_us, 0.99))
                .map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "—".into());
            let ev = res.keyspace_evictions.get(ki).copied().unwrap_or(0);
            let before = res
                .keyspace_evictions_before_ttl
                .get(ki)
                .copied()
                .unwrap_or(0);
            let _ = write!(
                h,
                "<td class=\"num\">{hr}</td><td class=\"num\">{p99}</td><td class=\"num\">{ev}</td>\
                 <td class=\"num{}\">{before}</td>",
                if critical && before > 0 { " fail" } else { "" }
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");

    // C. Every question, answered or marked.
    h.push_str(
        "<h3>C. The questions</h3>\n<table id=\"checklist-questions\">\n\
         <thead><tr><th>question</th><th>answer</th><th>source</th></tr></thead>\n<tbody>\n",
    );
    for a in review::checklist_answers(scn, results) {
        let class = match a.source {
            Source::Unknown => " class=\"unknown\"",
            _ => "",
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td{class}>{}</td><td>{}</td></tr>",
            escape(a.question),
            a.answer,
            source_badge(a.source)
        );
    }
    h.push_str("</tbody>\n</table>\n");
    let _ = writeln!(
        h,
        "<p><b>If the answer to “what happens if Redis is empty?” is “business breaks”, review \
         the design.</b> {}</p>",
        review::business_breaks(scn, results)
    );
}

mod scenario;
use scenario::jitter_text;
#[cfg(test)]
mod tests;
