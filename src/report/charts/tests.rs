//! Tests for the chart renderers: small specs, checked for valid SVG/PNG output, the title
//! text, determinism and graceful handling of degenerate input. `write_previews` (only with
//! `CACHEPLAN_SLOW_TESTS=1`) renders realistic full-size charts into the temp directory for
//! eyeballing.

use super::*;

const KEYSPACES: [&str; 11] = [
    "catalog",
    "eligibility",
    "eligibility-negative",
    "price-preview",
    "quote-summary",
    "order-summary",
    "workflow-summary",
    "idem-fast",
    "rate-limit",
    "lock",
    "session",
];
const PLANS: [&str; 2] = ["one-giant-cluster", "separated"];

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A tiny deterministic pseudo-random sequence for sample data.
fn noise(i: usize) -> f64 {
    let mut state = i as u64;
    let x = crate::engine::rng::splitmix64(&mut state) >> 11;
    (x as f64 / (1u64 << 53) as f64) - 0.5
}

fn bars_spec(categories: &[&str]) -> BarChart {
    let n = categories.len();
    BarChart {
        title: "Hit ratio by keyspace".into(),
        categories: names(categories),
        groups: PLANS
            .iter()
            .enumerate()
            .map(|(g, p)| BarGroup {
                name: p.to_string(),
                values: (0..n)
                    .map(|i| 0.55 + 0.4 * (0.5 + noise(i * 7 + g)))
                    .collect(),
                errors: Some(
                    (0..n)
                        .map(|i| {
                            let v = 0.55 + 0.4 * (0.5 + noise(i * 7 + g));
                            Some(ErrorBar {
                                low: v - 0.02,
                                high: (v + 0.02).min(1.0),
                            })
                        })
                        .collect(),
                ),
            })
            .collect(),
        x_label: "keyspace".into(),
        y_label: "hit ratio".into(),
        y_scale: Scale::Linear,
        ref_lines: vec![RefLine::new(0.9, "target 0.90")],
        size: Size::default(),
    }
}

fn quantile_spec(categories: &[&str]) -> QuantileChart {
    let n = categories.len();
    QuantileChart {
        title: "Read latency quantiles by keyspace".into(),
        categories: names(categories),
        quantiles: names(&["p50", "p90", "p99", "p99.9", "max"]),
        groups: PLANS
            .iter()
            .enumerate()
            .map(|(g, p)| QuantileGroup {
                name: p.to_string(),
                values: (0..n)
                    .map(|i| {
                        let base = 0.15 + 0.3 * (0.5 + noise(i * 3 + g)) + g as f64 * 0.05;
                        [1.0, 2.5, 9.0, 40.0, 400.0]
                            .iter()
                            .map(|m| base * m * (1.0 + g as f64 * 0.6))
                            .collect()
                    })
                    .collect(),
            })
            .collect(),
        x_label: "keyspace".into(),
        y_label: "latency (ms)".into(),
        y_scale: Scale::Log,
        ref_lines: vec![RefLine::new(50.0, "p99 SLO 50 ms")],
        size: Size::default(),
    }
}

fn lines_spec(points: usize, facets: usize) -> LineChart {
    let origins = ["catalog", "eligibility", "price-preview", "quote-summary"];
    LineChart {
        title: "Origin load over simulated time".into(),
        x_label: "simulated time (s)".into(),
        y_label: "origin load (req/s)".into(),
        y_scale: Scale::Linear,
        facets: PLANS
            .iter()
            .take(facets)
            .enumerate()
            .map(|(pi, plan)| Panel {
                title: plan.to_string(),
                series: origins
                    .iter()
                    .enumerate()
                    .map(|(oi, o)| Series {
                        name: o.to_string(),
                        points: (0..points)
                            .map(|t| {
                                let ts = t as f64 * 600.0 / points.max(1) as f64;
                                let spike = if (300.0..360.0).contains(&ts) {
                                    4.0
                                } else {
                                    1.0
                                };
                                let level = (800.0 + 600.0 * oi as f64) * (1.0 + 0.5 * pi as f64);
                                (ts, level * spike * (1.0 + 0.15 * noise(t * 13 + oi)))
                            })
                            .collect(),
                        highlight: *o == "price-preview",
                        ..Series::default()
                    })
                    .collect(),
                h_lines: if pi == 1 {
                    vec![RefLine::new(9000.0, "origin capacity 9k req/s")]
                } else {
                    Vec::new()
                },
                markers: Vec::new(),
            })
            .collect(),
        columns: 1,
        shared_y: true,
        markers: vec![
            EventMarker::Instant {
                at: 300.0,
                label: "price-book update".into(),
            },
            EventMarker::Interval {
                from: 420.0,
                to: 480.0,
                label: "shard 2 down".into(),
            },
            EventMarker::Instant {
                at: 310.0,
                label: "cache flush".into(),
            },
        ],
        size: Size::default(),
    }
}

fn cdf_spec(samples: usize) -> CdfChart {
    CdfChart {
        title: "price-preview read latency CDF".into(),
        x_label: "latency (ms)".into(),
        x_scale: Scale::Log,
        curves: PLANS
            .iter()
            .enumerate()
            .map(|(g, p)| {
                let s: Vec<f64> = (0..samples)
                    .map(|i| {
                        let u = (i as f64 + 0.5) / samples as f64;
                        // Mostly sub-millisecond hits, a tail of misses going to the origin.
                        if u < 0.85 - 0.1 * g as f64 {
                            0.2 + 0.6 * u + 0.05 * noise(i)
                        } else {
                            8.0 * (1.0 + g as f64) / (1.0 - u + 0.002)
                        }
                    })
                    .collect();
                CdfCurve::from_samples(p.to_string(), &s)
            })
            .collect(),
        quantile_guides: vec![0.5, 0.9, 0.99],
        ref_lines: vec![RefLine::new(50.0, "SLO 50 ms")],
        size: Size::default(),
    }
}

fn heatmap_spec() -> Heatmap {
    let xs = [2, 3, 4, 6, 8, 12, 16];
    let ys = [4, 8, 16, 25, 32, 48];
    Heatmap {
        title: "Hit ratio over shards × maxmemory".into(),
        x_label: "shards".into(),
        y_label: "maxmemory per shard (GB)".into(),
        x_values: xs.iter().map(|x| x.to_string()).collect(),
        y_values: ys.iter().map(|y| y.to_string()).collect(),
        values: ys
            .iter()
            .map(|y| {
                xs.iter()
                    .map(|x| {
                        if *x == 16 && *y == 48 {
                            f64::NAN
                        } else {
                            let total = (*x * *y) as f64;
                            1.0 - 0.6 * (-total / 120.0).exp()
                        }
                    })
                    .collect()
            })
            .collect(),
        value_label: "hit ratio".into(),
        decimals: 3,
        reverse: false,
        size: Size::default(),
    }
}

fn scatter_spec() -> PassFailScatter {
    let mut points = Vec::new();
    for x in [2, 3, 4, 6, 8, 12, 16] {
        for y in [4.0, 8.0, 16.0, 25.0, 32.0, 48.0] {
            let total = x as f64 * y;
            points.push(ScatterPoint {
                x: x as f64,
                y,
                pass: total >= 150.0 && x >= 3,
            });
        }
    }
    let chosen = points.iter().position(|p| p.x == 6.0 && p.y == 25.0);
    PassFailScatter {
        title: "Capacity frontier: shards × memory per shard".into(),
        pareto: false,
        x_label: "shards".into(),
        y_label: "memory per shard (GB)".into(),
        points,
        chosen,
        frontier: true,
        integer_x: true,
        size: Size::default(),
    }
}

/// The SVG is a document of `size` with the title; the PNG decodes to an RGB image of `size`
/// with some ink on it (not blank white).
fn assert_valid_size(r: &Rendered, title: &str, size: Size) {
    let header = format!("<svg width=\"{}\" height=\"{}\"", size.width, size.height);
    assert!(
        r.svg.starts_with(&header),
        "SVG document of the stated size"
    );
    assert!(r.svg.contains(title), "SVG has the title text");
    let mut reader = png::Decoder::new(std::io::Cursor::new(&r.png))
        .read_info()
        .expect("PNG header");
    let info = reader.info();
    assert_eq!((info.width, info.height), (size.width, size.height));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let mut pixels = vec![0u8; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).expect("PNG data");
    let ink = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    assert!(ink > 1000, "only {ink} non-white pixels");
}

fn assert_valid(r: &Rendered, title: &str) {
    assert_valid_size(r, title, small());
}

fn small() -> Size {
    Size {
        width: 400,
        height: 300,
    }
}

#[test]
fn grouped_bars_render_and_are_deterministic() {
    let mut spec = bars_spec(&KEYSPACES[..4]);
    spec.size = small();
    let a = grouped_bars(&spec).unwrap();
    assert_valid(&a, "Hit ratio by keyspace");
    assert!(a.svg.contains("target 0.90"));
    assert!(a.svg.contains("separated"));
    // At the default size every plan and keyspace name is printed whole (long keyspace names
    // wrap after their hyphen).
    let full = grouped_bars(&bars_spec(&KEYSPACES)).unwrap();
    assert_valid_size(&full, "Hit ratio by keyspace", Size::default());
    for name in PLANS
        .iter()
        .chain(&["catalog", "eligibility-", "negative", "rate-limit"])
    {
        assert!(
            full.svg.contains(name),
            "{name} in the legend or category labels"
        );
    }
    assert_eq!(a, grouped_bars(&spec).unwrap());
}

#[test]
fn quantile_markers_render_on_log_axis() {
    let mut spec = quantile_spec(&KEYSPACES[..3]);
    spec.size = small();
    let a = quantile_markers(&spec).unwrap();
    assert_valid(&a, "Read latency quantiles");
    assert!(a.svg.contains("p99.9"));
    assert_eq!(a, quantile_markers(&spec).unwrap());
}

#[test]
fn time_lines_render_facets_and_markers() {
    let mut spec = lines_spec(30, 2);
    // Two facets beside a legend of four origins need more room than `small()` for the event
    // labels to be printed whole.
    spec.size = Size {
        width: 600,
        height: 400,
    };
    let a = time_lines(&spec).unwrap();
    assert_valid_size(&a, "Origin load over simulated time", spec.size);
    for name in [
        "catalog",
        "price-preview",
        "one-giant-cluster",
        "origin capacity 9k req/s",
    ] {
        assert!(
            a.svg.contains(name),
            "{name} in the legend, a facet title or a label"
        );
    }
    assert!(a.svg.contains("shard 2"));
    assert_eq!(a, time_lines(&spec).unwrap());
}

#[test]
fn cdf_renders() {
    let mut spec = cdf_spec(200);
    spec.size = small();
    let a = cdf(&spec).unwrap();
    assert_valid(&a, "price-preview read latency CDF");
    assert_eq!(a, cdf(&spec).unwrap());
}

#[test]
fn heatmap_renders_values_and_na() {
    let mut spec = heatmap_spec();
    spec.size = small();
    let a = heatmap(&spec).unwrap();
    assert_valid(&a, "Hit ratio over shards");
    assert!(a.svg.contains("n/a"));
    assert_eq!(a, heatmap(&spec).unwrap());
}

#[test]
fn scatter_renders_and_highlights_choice() {
    let mut spec = scatter_spec();
    spec.size = small();
    let a = scatter_pass_fail(&spec).unwrap();
    assert_valid(&a, "Capacity frontier");
    assert!(a.svg.contains("chosen"));
    assert_eq!(a, scatter_pass_fail(&spec).unwrap());
}

#[test]
fn svg_escapes_markup_in_labels() {
    let mut spec = bars_spec(&["a&b", "<lock>"]);
    spec.title = "R&D <test>".into();
    spec.size = small();
    let a = grouped_bars(&spec).unwrap();
    assert!(a.svg.contains("R&amp;D &lt;test&gt;"));
    assert!(!a.svg.contains("<lock>"));
}

#[test]
fn degenerate_inputs_render_without_panicking() {
    let s = small();
    let empty_bars = BarChart {
        categories: Vec::new(),
        groups: Vec::new(),
        size: s,
        ..bars_spec(&[])
    };
    assert_valid(&grouped_bars(&empty_bars).unwrap(), "Hit ratio");
    let zeros = BarChart {
        groups: vec![BarGroup {
            name: "x".into(),
            values: vec![0.0, 0.0],
            errors: None,
        }],
        y_scale: Scale::Linear,
        size: s,
        ..bars_spec(&["a", "b"])
    };
    grouped_bars(&zeros).unwrap();
    let log_zeros = BarChart {
        y_scale: Scale::Log,
        ..zeros.clone()
    };
    grouped_bars(&log_zeros).unwrap();
    let nan = BarChart {
        groups: vec![BarGroup {
            name: "x".into(),
            values: vec![f64::NAN, 1.0],
            errors: Some(vec![
                None,
                Some(ErrorBar {
                    low: f64::NAN,
                    high: 2.0,
                }),
            ]),
        }],
        size: s,
        ..bars_spec(&["a", "b"])
    };
    grouped_bars(&nan).unwrap();

    let mut lines = lines_spec(1, 1);
    lines.size = s;
    time_lines(&lines).unwrap();
    lines.facets.clear();
    assert_valid(&time_lines(&lines).unwrap(), "Origin load");
    let nan_lines = LineChart {
        facets: vec![Panel {
            series: vec![Series {
                name: "a".into(),
                points: vec![(0.0, f64::NAN), (1.0, 2.0), (f64::NAN, 1.0)],
                ..Series::default()
            }],
            ..Panel::default()
        }],
        y_scale: Scale::Log,
        size: s,
        ..lines_spec(0, 0)
    };
    time_lines(&nan_lines).unwrap();

    let mut c = cdf_spec(1);
    c.size = s;
    cdf(&c).unwrap();
    c.curves = vec![CdfCurve::from_samples("none", &[f64::NAN])];
    cdf(&c).unwrap();

    let mut hm = heatmap_spec();
    hm.size = s;
    hm.values = vec![vec![f64::NAN; 7]; 6];
    assert!(heatmap(&hm).unwrap().svg.contains("n/a"));
    hm.values = vec![vec![0.5; 7]; 6];
    heatmap(&hm).unwrap();
    hm.x_values.clear();
    hm.values = vec![Vec::new(); 6];
    heatmap(&hm).unwrap();

    let mut sc = scatter_spec();
    sc.size = s;
    sc.points.truncate(1);
    sc.chosen = Some(0);
    scatter_pass_fail(&sc).unwrap();
    sc.points.clear();
    sc.chosen = None;
    scatter_pass_fail(&sc).unwrap();
}

#[test]
fn inconsistent_specs_are_errors() {
    let mut spec = bars_spec(&["a", "b"]);
    spec.size = small();
    spec.groups[0].values.pop();
    assert!(matches!(
        grouped_bars(&spec),
        Err(ChartError::InvalidSpec(_))
    ));
    let mut hm = heatmap_spec();
    hm.values.pop();
    assert!(matches!(heatmap(&hm), Err(ChartError::InvalidSpec(_))));
    let mut sc = scatter_spec();
    sc.chosen = Some(999);
    assert!(matches!(
        scatter_pass_fail(&sc),
        Err(ChartError::InvalidSpec(_))
    ));
    let mut tiny = scatter_spec();
    tiny.size = Size {
        width: 10,
        height: 10,
    };
    assert!(matches!(
        scatter_pass_fail(&tiny),
        Err(ChartError::InvalidSpec(_))
    ));
}

/// Renders every chart at full size with realistic data into `<tmp>/cacheplan-charts/` so a
/// person can look at them: `CACHEPLAN_SLOW_TESTS=1 cargo test --lib write_previews`.
#[test]
fn write_previews() {
    // Slow and only useful to a human looking at the files: off unless asked for (STYLE.md 8).
    if std::env::var_os("CACHEPLAN_SLOW_TESTS").is_none_or(|v| v != "1") {
        return;
    }
    let dir = std::env::temp_dir().join("cacheplan-charts");
    std::fs::create_dir_all(&dir).unwrap();
    let save = |name: &str, r: Rendered| {
        std::fs::write(dir.join(format!("{name}.png")), &r.png).unwrap();
        std::fs::write(dir.join(format!("{name}.svg")), &r.svg).unwrap();
    };
    save("bars", grouped_bars(&bars_spec(&KEYSPACES)).unwrap());
    // The small sizes the unit tests above use.
    let mut small_bars = bars_spec(&KEYSPACES[..4]);
    small_bars.size = small();
    save("small-bars", grouped_bars(&small_bars).unwrap());
    let mut small_quantiles = quantile_spec(&KEYSPACES[..3]);
    small_quantiles.size = small();
    save(
        "small-quantiles",
        quantile_markers(&small_quantiles).unwrap(),
    );
    let mut small_heatmap = heatmap_spec();
    small_heatmap.size = small();
    save("small-heatmap", heatmap(&small_heatmap).unwrap());
    let mut small_lines = lines_spec(30, 2);
    small_lines.size = small();
    save("small-lines", time_lines(&small_lines).unwrap());
    let mut six = bars_spec(&KEYSPACES[..5]);
    six.groups = (0..6)
        .map(|g| BarGroup {
            name: format!("plan-{g}"),
            values: (0..5)
                .map(|i| 0.5 + 0.4 * (0.5 + noise(i + 31 * g)))
                .collect(),
            errors: None,
        })
        .collect();
    save("bars-six-groups", grouped_bars(&six).unwrap());
    let mut lat = quantile_spec(&KEYSPACES);
    lat.title = "p99 read latency by keyspace".into();
    let bars_log = BarChart {
        title: "p99 read latency by keyspace".into(),
        categories: lat.categories.clone(),
        groups: lat
            .groups
            .iter()
            .map(|g| BarGroup {
                name: g.name.clone(),
                values: g.values.iter().map(|q| q[2]).collect(),
                errors: None,
            })
            .collect(),
        x_label: "keyspace".into(),
        y_label: "p99 latency (ms)".into(),
        y_scale: Scale::Log,
        ref_lines: vec![RefLine::new(50.0, "SLO 50 ms")],
        size: Size::default(),
    };
    save("bars-log", grouped_bars(&bars_log).unwrap());
    save(
        "quantiles",
        quantile_markers(&quantile_spec(&KEYSPACES)).unwrap(),
    );
    save("lines", time_lines(&lines_spec(600, 2)).unwrap());
    let mut single = lines_spec(600, 1);
    single.facets[0].title.clear();
    single.y_scale = Scale::Log;
    save("lines-single-log", time_lines(&single).unwrap());
    let mut grid = lines_spec(300, 2);
    grid.facets.extend(grid.facets.clone());
    grid.facets[2].title = "shard 3".into();
    grid.facets[3].title = "shard 4".into();
    grid.columns = 2;
    grid.shared_y = false;
    save("lines-grid", time_lines(&grid).unwrap());
    save("cdf", cdf(&cdf_spec(20_000)).unwrap());
    save("heatmap", heatmap(&heatmap_spec()).unwrap());
    save("scatter", scatter_pass_fail(&scatter_spec()).unwrap());
    let mut one = lines_spec(1, 2);
    one.markers.truncate(1);
    save("degenerate-lines-one-point", time_lines(&one).unwrap());
    let zeros = BarChart {
        groups: vec![BarGroup {
            name: "separated".into(),
            values: vec![0.0, f64::NAN, 0.0],
            errors: None,
        }],
        ref_lines: Vec::new(),
        ..bars_spec(&KEYSPACES[..3])
    };
    save("degenerate-bars-zeros", grouped_bars(&zeros).unwrap());
    save(
        "no-data",
        grouped_bars(&BarChart {
            groups: Vec::new(),
            ..bars_spec(&KEYSPACES)
        })
        .unwrap(),
    );
}
