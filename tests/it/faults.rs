//! Faults, fallbacks and business invariants: the invariant monitors count what they should
//! (duplicates, lock overlaps, stale reads, cross-tenant reads) and nothing when the guard of
//! the document is in place; every anti-pattern scenario of `workloads/anti-patterns/` and its
//! fix run and their reports show the difference; bad `[[faults]]` and `fallback` input is
//! rejected with the field path. Small scenarios, tens of simulated seconds each.

use crate::{arg, cacheplan, cacheplan_env, check_no_panic, TempDir};
use std::path::{Path, PathBuf};

/// One row of `invariants.csv`.
#[derive(Debug, Clone)]
struct Row {
    plan: String,
    scope: String,
    fault: String,
    keyspace: String,
    invariant: String,
    violations: u64,
    prevented: Option<u64>,
    max_staleness_ms: Option<f64>,
    /// Reads of an older value counted apart (in flight at the change, under 1 ms after it).
    in_flight_reads: Option<u64>,
    below_threshold_reads: Option<u64>,
}

/// Runs `toml` into a fresh folder of `dir` and returns the run folder.
fn run(dir: &TempDir, name: &str, toml: &str) -> PathBuf {
    let scenario = dir.write(&format!("{name}.toml"), toml);
    run_file(dir, name, &scenario)
}

fn run_file(dir: &TempDir, name: &str, scenario: &Path) -> PathBuf {
    let out = dir.join(&format!("{name}-run"));
    let res = cacheplan(&["run", arg(scenario), "--out", arg(&out), "--quiet"]);
    assert_eq!(res.code, 0, "run of {name} failed: {res:#?}");
    check_no_panic(&res);
    out
}

fn invariants(run: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(run.join("invariants.csv")).expect("invariants.csv");
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| h.iter().position(|c| c == name).expect(name);
    let (in_flight, below) = (col("in_flight_reads"), col("below_threshold_reads"));
    let (plan, scope, fault, ks, inv, viol, prev, stale) = (
        col("plan"),
        col("scope"),
        col("fault"),
        col("keyspace"),
        col("invariant"),
        col("violations"),
        col("prevented"),
        col("max_staleness_ms"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.expect("a row");
            Row {
                plan: rec[plan].into(),
                scope: rec[scope].into(),
                fault: rec[fault].into(),
                keyspace: rec[ks].into(),
                invariant: rec[inv].into(),
                violations: rec[viol].parse().expect("violations"),
                prevented: rec[prev].parse().ok(),
                max_staleness_ms: rec[stale].parse().ok(),
                in_flight_reads: rec[in_flight].parse().ok(),
                below_threshold_reads: rec[below].parse().ok(),
            }
        })
        .collect()
}

/// The run-scope row of (plan, keyspace, invariant).
fn run_row<'a>(rows: &'a [Row], plan: &str, ks: &str, inv: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.plan == plan && r.scope == "run" && r.keyspace == ks && r.invariant == inv)
        .unwrap_or_else(|| panic!("no run row for {plan}/{ks}/{inv} in {rows:#?}"))
}

/// Violations of `inv` in the run scope, all plans and keyspaces.
fn total(rows: &[Row], inv: &str) -> u64 {
    rows.iter()
        .filter(|r| r.scope == "run" && r.invariant == inv)
        .map(|r| r.violations)
        .sum()
}

/// The report's invariant cells: (invariant, violations) of every table.
fn report_cells(run: &Path) -> Vec<(String, u64)> {
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(html.contains("Does the business invariant hold?"));
    let mut out = Vec::new();
    for part in html.split("data-invariant=\"").skip(1) {
        let inv = part.split('"').next().unwrap().to_string();
        let n = part
            .split("data-violations=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .expect("data-violations");
        out.push((inv, n));
    }
    out
}

/// Idempotency keys and price previews on one allkeys-lru shard, a preview burst, and every
/// Redis fault that can lose a fast-path key or make Redis unavailable, none overlapping
/// another on the shard.
fn idempotency_under_faults(db_idempotency: bool) -> String {
    format!(
        r#"version = 1
name = "idem-faults"
[simulation]
seed = 5
duration_ms = "40s"
warmup_ms = "1s"
window_ms = "2s"
[[tenants]]
name = "t1"
[[origins]]
name = "pricing"
concurrency = 400
service_time_ms = {{ dist = "fixed", value = 10 }}
[[origins]]
name = "order-db"
concurrency = 64
service_time_ms = {{ dist = "fixed", value = 4 }}
[[clusters]]
name = "shared"
shards = 2
maxmemory_bytes = "3mb"
replicas_per_shard = 1
maxmemory_policy = "allkeys-lru"
[[keyspaces]]
name = "preview"
key_template = "price-preview:{{tenant}}:pb:{{priceBookId}}:cfg:{{configHash}}"
operation = "read-through"
rate_per_s = 200
keys_per_tenant = 100000
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 2000 }}
ttl_ms = "2m"
origin = "pricing"
[[keyspaces]]
name = "idem"
key_template = "idem-fast:{{tenant}}:route:create-order:key:{{idempotencyKey}}"
operation = "idempotency"
criticality = "critical"
rate_per_s = 40
value_size_bytes = {{ dist = "fixed", value = 200 }}
ttl_ms = "30m"
origin = "order-db"
retry_probability = 0.5
retry_delay_ms = "1s"
fallback = {{ db_idempotency = {db_idempotency}, redis_retries = 1, redis_retry_delay_ms = {{ dist = "uniform", min = 5, max = 20 }} }}
[[plans]]
name = "shared"
placement = {{ preview = "shared", idem = "shared" }}
[[faults]]
kind = "traffic-burst"
keyspaces = ["preview"]
multiplier = 10
start_ms = "3s"
end_ms = "8s"
[[faults]]
kind = "failover"
cluster = "shared"
shard = 0
start_ms = "10s"
replication_lag_ms = "1s"
node_timeout_ms = "2s"
[[faults]]
kind = "shard-down"
cluster = "shared"
shard = 1
mode = "refused"
start_ms = "12s"
end_ms = "15s"
[[faults]]
kind = "shard-slow"
cluster = "shared"
multiplier = 20
start_ms = "16s"
end_ms = "20s"
[[faults]]
kind = "latency-spike"
cluster = "shared"
multiplier = 400
start_ms = "21s"
end_ms = "24s"
[[faults]]
kind = "cluster-restart"
cluster = "shared"
start_ms = "26s"
end_ms = "28s"
[[faults]]
kind = "shard-down"
cluster = "shared"
mode = "timeout"
start_ms = "30s"
end_ms = "33s"
"#
    )
}

#[test]
fn with_the_database_idempotency_record_no_command_runs_twice_under_any_fault() {
    let dir = TempDir::new("idem-db");
    let guarded = invariants(&run(&dir, "on", &idempotency_under_faults(true)));
    let dup: Vec<&Row> = guarded
        .iter()
        .filter(|r| r.invariant == "duplicate_execution")
        .collect();
    assert_eq!(dup.len(), 8, "the run and 7 fault scopes: {dup:#?}");
    for r in &dup {
        assert_eq!(r.violations, 0, "{r:?}");
    }
    let stopped = run_row(&guarded, "shared", "idem", "duplicate_execution").prevented;
    assert!(stopped.unwrap() > 0, "the database stopped re-executions");
    // The same faults without the database record: commands do run twice, in the burst and
    // in the Redis faults.
    let unguarded = invariants(&run(&dir, "off", &idempotency_under_faults(false)));
    assert_eq!(
        run_row(&unguarded, "shared", "idem", "duplicate_execution").violations,
        stopped.unwrap()
    );
    let in_faults = unguarded
        .iter()
        .filter(|r| r.scope == "fault" && r.invariant == "duplicate_execution" && r.violations > 0)
        .count();
    assert!(
        in_faults >= 4,
        "duplicates in several fault windows: {unguarded:#?}"
    );
}

#[test]
fn a_preview_burst_on_a_shared_cluster_duplicates_commands_and_the_report_says_so() {
    let dir = TempDir::new("giant");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("workloads/anti-patterns/one-giant-cluster.toml");
    let out = run_file(&dir, "giant", &scenario);
    let rows = invariants(&out);
    let giant = run_row(&rows, "giant", "create-order-idem", "duplicate_execution");
    let separated = run_row(
        &rows,
        "separated",
        "create-order-idem",
        "duplicate_execution",
    );
    assert!(
        giant.violations > 0 && separated.violations == 0,
        "{rows:#?}"
    );
    // Duplicates follow from evicted idempotency keys: also counted as critical evictions.
    assert!(
        run_row(
            &rows,
            "giant",
            "create-order-idem",
            "critical_evicted_before_ttl"
        )
        .violations
            > 0
    );
    let cells = report_cells(&out);
    assert!(cells
        .iter()
        .any(|(inv, n)| inv == "duplicate_execution" && *n == giant.violations));
    // Attributed to the burst fault, and the series in timeseries.csv adds up.
    let burst = rows
        .iter()
        .find(|r| r.plan == "giant" && r.scope == "fault" && r.invariant == "duplicate_execution")
        .expect("the burst's row");
    assert!(burst.fault.contains("x30") && burst.violations > 0);
    let series = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let sum: f64 = series
        .lines()
        .filter(|l| {
            l.starts_with("giant,")
                && l.contains(",invariant,create-order-idem/duplicate_execution,violations,")
        })
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(
        sum >= giant.violations as f64,
        "{sum} vs {}",
        giant.violations
    );
}

fn lock_scenario(fallback: &str) -> String {
    format!(
        r#"version = 1
name = "locks"
[simulation]
seed = 9
duration_ms = "10s"
window_ms = "1s"
[[tenants]]
name = "t1"
[[clusters]]
name = "locks"
shards = 1
maxmemory_bytes = "8mb"
[[keyspaces]]
name = "lock"
key_template = "lock:{{tenant}}:quote:{{quoteId}}"
operation = "lock"
rate_per_s = 200
keys_per_tenant = 20
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 36 }}
ttl_ms = "20ms"
hold_ms = {{ dist = "fixed", value = 50 }}
fallback = {fallback}
[[plans]]
name = "p"
placement = {{ lock = "locks" }}
"#
    )
}

#[test]
fn a_lock_shorter_than_the_work_overlaps_unless_the_database_guards_it() {
    let dir = TempDir::new("locks");
    let plain = invariants(&run(
        &dir,
        "plain",
        &lock_scenario("{ lock_owner_token = false }"),
    ));
    let overlaps = run_row(&plain, "p", "lock", "lock_overlap");
    assert!(overlaps.violations > 100, "{overlaps:?}");
    let guarded = invariants(&run(
        &dir,
        "guarded",
        &lock_scenario("{ lock_owner_token = true, db_constraint = true }"),
    ));
    let held = run_row(&guarded, "p", "lock", "lock_overlap");
    assert_eq!(held.violations, 0);
    assert!(
        held.prevented.unwrap() > 0,
        "the overlaps still happen in Redis: {held:?}"
    );
    // A TTL longer than work + pause: no overlap at all.
    let long = lock_scenario("{ lock_owner_token = true }")
        .replace("ttl_ms = \"20ms\"", "ttl_ms = \"5s\"");
    let rows = invariants(&run(&dir, "long", &long));
    assert_eq!(run_row(&rows, "p", "lock", "lock_overlap").violations, 0);
}

fn pubsub_scenario(template: &str, action: &str) -> String {
    format!(
        r#"version = 1
name = "pubsub"
[simulation]
seed = 3
duration_ms = "20s"
warmup_ms = "1s"
window_ms = "1s"
app_instances = 4
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 32
service_time_ms = {{ dist = "fixed", value = 5 }}
[[clusters]]
name = "cache"
shards = 1
maxmemory_bytes = "16mb"
maxmemory_policy = "allkeys-lru"
[[keyspaces]]
name = "catalog"
key_template = "{template}"
operation = "read-through"
rate_per_s = 300
keys_per_tenant = 200
value_size_bytes = {{ dist = "fixed", value = 500 }}
ttl_ms = "5m"
origin = "db"
strategy = {{ kind = "cache-aside", local_cache_keys = 500, local_cache_ttl_ms = "4s" }}
[[plans]]
name = "p"
placement = {{ catalog = "cache" }}
[[events]]
at_ms = "6s"
name = "edit"
action = "{action}"
keyspaces = ["catalog"]
[[faults]]
kind = "subscriber-disconnect"
instances = [1, 3]
start_ms = "5s"
end_ms = "9s"
"#
    )
}

#[test]
fn lost_invalidations_leave_stale_reads_bounded_by_the_ttl_and_versioned_keys_none() {
    let dir = TempDir::new("pubsub");
    let rows = invariants(&run(
        &dir,
        "delete",
        &pubsub_scenario("catalog:{tenant}:offering:{id}", "delete"),
    ));
    let stale = run_row(&rows, "p", "catalog", "stale_read");
    assert!(stale.violations > 0, "{stale:?}");
    // The local copy's TTL (4 s, in whole seconds) is the backstop.
    let max = stale.max_staleness_ms.expect("a staleness");
    assert!(max > 0.0 && max <= 4_000.0, "max staleness {max} ms");
    // Without the disconnect the pub/sub message reaches everyone: the reads stay fresh (a
    // read racing the delete itself is counted apart, not as a violation).
    let connected = pubsub_scenario("catalog:{tenant}:offering:{id}", "delete")
        .replace("instances = [1, 3]", "instances = [0]")
        .replace("start_ms = \"5s\"", "start_ms = \"10s\"")
        .replace("end_ms = \"9s\"", "end_ms = \"12s\"");
    let fresh = invariants(&run(&dir, "connected", &connected));
    let fresh_stale = run_row(&fresh, "p", "catalog", "stale_read");
    assert_eq!(fresh_stale.violations, 0, "{fresh_stale:?}");
    assert!(fresh_stale.in_flight_reads.is_some() && fresh_stale.below_threshold_reads.is_some());
    let versioned = invariants(&run(
        &dir,
        "versioned",
        &pubsub_scenario(
            "catalog:{tenant}:publication:{publicationId}:offering:{id}",
            "new-version",
        ),
    ));
    assert_eq!(
        run_row(&versioned, "p", "catalog", "stale_read").violations,
        0
    );
}

#[test]
fn a_key_without_the_tenant_is_read_across_tenants() {
    let dir = TempDir::new("tenant");
    let bad = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("workloads/anti-patterns/key-without-tenant.toml");
    let good = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("workloads/anti-patterns/key-without-tenant-fixed.toml");
    assert!(
        total(
            &invariants(&run_file(&dir, "bad", &bad)),
            "cross_tenant_read"
        ) > 0
    );
    assert_eq!(
        total(
            &invariants(&run_file(&dir, "good", &good)),
            "cross_tenant_read"
        ),
        0
    );
}

/// Every anti-pattern of section 28 and its fix: (file, invariant the anti-pattern breaks).
const ANTI_PATTERNS: [(&str, &str); 7] = [
    ("redis-as-order-database", "lost_record"),
    ("key-without-tenant", "cross_tenant_read"),
    ("final-price-only-in-cache", "stale_final_price"),
    ("infinite-ttl-mutable-catalog", "stale_read"),
    ("lock-as-correctness", "lock_overlap"),
    ("pubsub-instead-of-event-log", "stale_read"),
    ("one-giant-cluster", "duplicate_execution"),
];

#[test]
fn every_anti_pattern_breaks_its_invariant_and_its_fix_holds_it() {
    let dir = TempDir::new("anti");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/anti-patterns");
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for (name, inv) in ANTI_PATTERNS {
        let bad = run_file(&dir, name, &folder.join(format!("{name}.toml")));
        let bad_rows = invariants(&bad);
        let n = total(&bad_rows, inv);
        assert!(n > 0, "{name}: no {inv} in {bad_rows:#?}");
        assert!(
            report_cells(&bad).iter().any(|(i, v)| i == inv && *v > 0),
            "{name}: the report shows no {inv} violation"
        );
        // The fix: its own file, or (placement only) the second plan of the same file.
        let fixed_file = format!("{name}-fixed.toml");
        let fixed_rows = if files.contains(&fixed_file) {
            let fixed = run_file(&dir, &format!("{name}-fixed"), &folder.join(&fixed_file));
            let cells = report_cells(&fixed);
            assert!(
                cells.iter().any(|(i, v)| i == inv && *v == 0)
                    && !cells.iter().any(|(i, v)| i == inv && *v > 0),
                "{name}: the fix's report shows {inv} != 0"
            );
            invariants(&fixed)
        } else {
            let last_plan = bad_rows.last().unwrap().plan.clone();
            bad_rows
                .into_iter()
                .filter(|r| r.plan == last_plan)
                .collect()
        };
        assert!(
            fixed_rows.iter().any(|r| r.invariant == inv),
            "{name}: the fix does not monitor {inv}"
        );
        for r in fixed_rows
            .iter()
            .filter(|r| r.invariant != "critical_evicted_before_ttl")
        {
            assert_eq!(r.violations, 0, "{name} fixed: {r:?}");
        }
    }
    // Every file of the folder is an anti-pattern or its fix.
    for f in &files {
        let stem = f.trim_end_matches(".toml").trim_end_matches("-fixed");
        assert!(
            ANTI_PATTERNS.iter().any(|(n, _)| *n == stem),
            "{f} is not covered by this test"
        );
    }
}

#[test]
fn a_fault_run_is_deterministic_whatever_the_thread_count() {
    let dir = TempDir::new("fault-det");
    let scenario = dir.write("s.toml", idempotency_under_faults(false));
    let mut outputs = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.join(&format!("run-{threads}"));
        let res = cacheplan_env(
            &[
                "run",
                arg(&scenario),
                "--out",
                arg(&out),
                "--quiet",
                "--seed",
                "11",
            ],
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert_eq!(res.code, 0, "{res:#?}");
        outputs.push((
            std::fs::read(out.join("invariants.csv")).unwrap(),
            std::fs::read(out.join("timeseries.csv")).unwrap(),
        ));
    }
    assert!(outputs[0] == outputs[1], "same seed, different bytes");
}

/// A valid scenario with a fault, to break one line at a time.
const BASE: &str = r#"version = 1
name = "bad-faults"
[simulation]
duration_ms = "20s"
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 4
service_time_ms = { dist = "fixed", value = 5 }
[[clusters]]
name = "main"
shards = 2
maxmemory_bytes = "8mb"
replicas_per_shard = 2
[[keyspaces]]
name = "catalog"
key_template = "catalog:{tenant}:item:{id}"
operation = "read-through"
rate_per_s = 10
value_size_bytes = { dist = "fixed", value = 100 }
origin = "db"
[[plans]]
name = "p"
placement = { catalog = "main" }
[[faults]]
kind = "shard-down"
cluster = "main"
shard = 1
start_ms = "5s"
end_ms = "8s"
"#;

fn check_bad(dir: &TempDir, label: &str, toml: &str, field: &str, words: &str) {
    let path = dir.write(&format!("{label}.toml"), toml);
    let out = cacheplan(&["validate", arg(&path)]);
    assert_eq!(out.code, 2, "{label}: {out:#?}");
    check_no_panic(&out);
    assert!(
        out.stderr.contains(&format!("field `{field}`")) && out.stderr.contains(words),
        "{label}: wanted `{field}` and \"{words}\" in {}",
        out.stderr
    );
}

#[test]
fn bad_faults_and_fallbacks_are_rejected_with_the_field_path() {
    let dir = TempDir::new("bad-faults");
    let ok = dir.write("ok.toml", BASE);
    assert_eq!(cacheplan(&["validate", arg(&ok)]).code, 0);
    let cases: [(&str, String, &str, &str); 10] = [
        (
            "no-cluster",
            BASE.replace("cluster = \"main\"", "cluster = \"nope\""),
            "faults[0].cluster",
            "no cluster named \"nope\"",
        ),
        (
            "no-shard",
            BASE.replace("shard = 1", "shard = 2"),
            "faults[0].shard",
            "has no shard 2",
        ),
        (
            "ends-before",
            BASE.replace("end_ms = \"8s\"", "end_ms = \"4s\""),
            "faults[0].end_ms",
            "ends before it starts",
        ),
        (
            "starts-after",
            BASE.replace("start_ms = \"5s\"", "start_ms = \"25s\""),
            "faults[0].start_ms",
            "after the end of the run",
        ),
        (
            "ends-after",
            BASE.replace("end_ms = \"8s\"", "end_ms = \"21s\""),
            "faults[0].end_ms",
            "ends after the end of the run",
        ),
        (
            "overlap",
            format!(
                "{BASE}[[faults]]\nkind = \"failover\"\ncluster = \"main\"\nshard = 1\nstart_ms = \"6s\"\nnode_timeout_ms = \"1s\"\n"
            ),
            "faults[1].start_ms",
            "overlaps faults[0]",
        ),
        (
            "unknown-kind",
            BASE.replace("kind = \"shard-down\"", "kind = \"meteor\""),
            "faults[0].kind",
            "unknown variant `meteor`, expected one of `shard-down`",
        ),
        (
            "stray-field",
            BASE.replace("shard = 1", "shard = 1\nmultiplier = 3"),
            "faults[0].multiplier",
            "does not apply",
        ),
        (
            "fallback-op",
            BASE.replace(
                "origin = \"db\"",
                "origin = \"db\"\nfallback = { db_idempotency = true }",
            ),
            "keyspaces[0].fallback.db_idempotency",
            "does not apply to operation",
        ),
        (
            "fallback-value",
            BASE.replace(
                "origin = \"db\"",
                "origin = \"db\"\nfallback = { source_of_truth = \"memcached\" }",
            ),
            "keyspaces[0].fallback.source_of_truth",
            "unknown source of truth",
        ),
    ];
    for (label, toml, field, words) in cases {
        check_bad(&dir, label, &toml, field, words);
    }
    // Two slow-downs of different shards may overlap; a down shard and a slow one too.
    let fine = format!(
        "{BASE}[[faults]]\nkind = \"shard-slow\"\ncluster = \"main\"\nshard = 1\nmultiplier = 3\nstart_ms = \"6s\"\nend_ms = \"7s\"\n"
    );
    let p = dir.write("fine.toml", fine);
    let out = cacheplan(&["validate", arg(&p)]);
    assert_eq!(out.code, 0, "{out:#?}");
}
