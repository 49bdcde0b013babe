use super::checklist::invalidation_answer;
use super::*;

/// A scenario of the `catalog` keyspace, `events` and `faults` (TOML fragments).
fn scenario(keyspaces: &str, events: &str, faults: &str) -> Scenario {
    scenario_of(keyspaces, &["catalog"], events, faults)
}

/// A scenario of `keyspaces` (named `names`), `events` and `faults` on one cluster.
fn scenario_of(keyspaces: &str, names: &[&str], events: &str, faults: &str) -> Scenario {
    let placement: Vec<String> = names.iter().map(|n| format!("{n} = \"cache\"")).collect();
    let placement = placement.join(", ");
    let toml = format!(
        r#"version = 1
name = "review"
[simulation]
seed = 5
duration_ms = "20s"
warmup_ms = "1s"
window_ms = "1s"
app_instances = 2
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 16
service_time_ms = {{ dist = "fixed", value = 5 }}
[[clusters]]
name = "cache"
shards = 2
maxmemory_bytes = "16mb"
maxmemory_policy = "allkeys-lru"
{keyspaces}
[[plans]]
name = "p"
placement = {{ {placement} }}
{events}
{faults}"#
    );
    crate::scenario::parse(&toml, "review.toml").expect("test scenario parses")
}

/// A catalog keyspace with `template`, `ttl` (a TOML line or nothing) and a local cache.
fn catalog(template: &str, ttl: &str) -> String {
    format!(
        r#"[[keyspaces]]
name = "catalog"
key_template = "{template}"
operation = "read-through"
rate_per_s = 300
keys_per_tenant = 200
value_size_bytes = {{ dist = "fixed", value = 500 }}
{ttl}
origin = "db"
strategy = {{ kind = "cache-aside", local_cache_keys = 500, local_cache_ttl_ms = "4s" }}"#
    )
}

const PLAIN: &str = "catalog:{tenant}:offering:{id}";
const VERSIONED: &str = "catalog:{tenant}:publication:{publicationId}:offering:{id}";

fn event(action: &str) -> String {
    format!(
        "[[events]]\nat_ms = \"6s\"\nname = \"edit\"\naction = \"{action}\"\n\
         keyspaces = [\"catalog\"]\n"
    )
}

const DISCONNECT: &str = r#"[[faults]]
kind = "subscriber-disconnect"
name = "lost subscribers"
instances = [1]
start_ms = "5s"
end_ms = "9s""#;

const RESTART: &str = r#"[[faults]]
kind = "cluster-restart"
name = "cold restart"
cluster = "cache"
start_ms = "8s"
end_ms = "9s""#;

/// A text as the report renders it.
fn markup(t: &Text) -> String {
    maud::Render::render(t).into_string()
}

/// An answer as the report shows it: its rendered text and its source.
#[derive(Clone, Debug)]
struct Shown {
    answer: String,
    source: Source,
}

fn answer(answers: &[Answer], question: &str) -> Shown {
    let a = answers
        .iter()
        .find(|a| a.question == question)
        .unwrap_or_else(|| panic!("no answer to {question}"));
    Shown {
        answer: markup(&a.answer),
        source: a.source,
    }
}

#[test]
fn events_are_described_by_their_action() {
    for (action, says, never) in [
        ("new-version", "move to a new version", "is deleted"),
        (
            "delete",
            "is deleted and the invalidation is published",
            "new version",
        ),
        ("change", "nothing invalidates the cache", "new version"),
    ] {
        let template = if action == "new-version" {
            VERSIONED
        } else {
            PLAIN
        };
        let scn = scenario(&catalog(template, "ttl_ms = \"5m\""), &event(action), "");
        let text = markup(&event_text(&scn, &scn.events[0]));
        assert!(text.contains(says), "{action}: {text}");
        assert!(text.contains(&format!("<code>{action}</code>")), "{text}");
        assert!(!text.contains(never), "{action}: {text}");
    }
}

#[test]
fn invalidation_follows_the_keyspace_settings_and_its_events() {
    let case = |template: &str, ttl: &str, events: &str| {
        let scn = scenario(&catalog(template, ttl), events, "");
        (invalidation_kinds(&scn, 0), invalidation(&scn, 0))
    };
    // The hostile tester's case: no TTL, no version, the source changes.
    let (kinds, (text, warn)) = case(PLAIN, "", &event("change"));
    assert_eq!(kinds, vec![Invalidation::None]);
    assert!(warn && !text.contains("versioned"), "{text}");
    assert!(
        text.contains("nothing invalidates") && text.contains("no TTL"),
        "{text}"
    );
    let (kinds, (text, warn)) = case(PLAIN, "ttl_ms = \"5m\"", &event("change"));
    assert_eq!(kinds, vec![Invalidation::TtlOnly]);
    assert!(warn && text.contains("the TTL (5m) bounds"), "{text}");
    let (kinds, (text, warn)) = case(PLAIN, "ttl_ms = \"5m\"", &event("delete"));
    let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("delete"), "");
    assert!(key_version(&scn, 0).0.contains("delete-on-event"));
    let scn = scenario(&catalog(PLAIN, ""), &event("change"), "");
    assert!(key_version(&scn, 0).0.contains("no TTL, no invalidation"));
    let scn = scenario(&catalog(VERSIONED, ""), "", "");
    assert_eq!(key_version(&scn, 0), ("yes".into(), false));
    assert_eq!(kinds, vec![Invalidation::DeleteOnEvent]);
    assert!(
        !warn && text.contains("delete-on-event at edit (6s)"),
        "{text}"
    );
    assert!(text.contains("local copies live 4s"), "{text}");
    let (kinds, (text, warn)) = case(VERSIONED, "ttl_ms = \"5m\"", &event("new-version"));
    assert_eq!(kinds, vec![Invalidation::Versioned]);
    assert!(
        !warn && text.contains("a new version at edit (6s)"),
        "{text}"
    );
    let (kinds, (text, _)) = case(VERSIONED, "ttl_ms = \"5m\"", "");
    assert_eq!(kinds, vec![Invalidation::Versioned]);
    assert!(text.contains("no version change in this run"), "{text}");
    let (kinds, (text, warn)) = case(PLAIN, "ttl_ms = \"5m\"", "");
    assert_eq!(kinds, vec![Invalidation::TtlOnly]);
    assert!(warn && text.starts_with("TTL-only (5m)"), "{text}");
    let (kinds, (text, warn)) = case(PLAIN, "", "");
    assert_eq!(kinds, vec![Invalidation::None]);
    assert!(warn && text.contains("never refreshes"), "{text}");
    // Two actions on one keyspace: both are said.
    let both = format!(
        "{}\n{}",
        event("delete"),
        event("change").replace("6s", "9s")
    );
    let (kinds, (text, _)) = case(PLAIN, "ttl_ms = \"5m\"", &both);
    assert_eq!(
        kinds,
        vec![Invalidation::DeleteOnEvent, Invalidation::TtlOnly]
    );
    assert!(
        text.contains("delete-on-event") && text.contains("changes at"),
        "{text}"
    );
    let scn = scenario(&catalog(PLAIN, ""), &event("change"), "");
    let q = markup(&invalidation_answer(&scn).0);
    assert!(
        q.contains("none (no TTL, no version): <b>catalog</b>"),
        "{q}"
    );
}

#[test]
fn the_pubsub_answer_names_the_disconnect_and_what_it_cost() {
    let scn = scenario(
        &catalog(PLAIN, "ttl_ms = \"5m\""),
        &event("delete"),
        DISCONNECT,
    );
    let results = crate::sim::run_all_plans(&scn, 5);
    let answers = checklist_answers(&scn, &results);
    let a = answer(&answers, Q_PUBSUB);
    assert_eq!(a.source, Source::Run);
    assert!(!a.answer.contains("not modelled"), "{}", a.answer);
    assert!(a.answer.contains("lost subscribers"), "{}", a.answer);
    let lost = results[0].faults[0].invalidations_lost;
    assert!(lost > 0, "the disconnected instance lost the message");
    assert!(
        a.answer.contains(&format!("p: {lost} messages lost")),
        "{}",
        a.answer
    );
    let stale = results[0].invariants.tallies[1][0][Invariant::StaleRead.index()];
    assert!(stale.violations > 0);
    assert!(
        a.answer
            .contains(&format!("{} stale reads in its window", stale.violations)),
        "{}",
        a.answer
    );
    assert!(a.answer.contains("local copies' TTL (<b>catalog</b> 4s)"));

    // The same delete without a disconnect, and a change that publishes nothing.
    let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("delete"), "");
    let a = answer(&checklist_answers(&scn, &[]), Q_PUBSUB).clone();
    assert_eq!(a.source, Source::Scenario);
    assert!(
        a.answer.contains("No subscriber disconnects"),
        "{}",
        a.answer
    );
    let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("change"), "");
    let a = answer(&checklist_answers(&scn, &[]), Q_PUBSUB).clone();
    assert!(
        a.answer.contains("Nothing goes over Pub/Sub"),
        "{}",
        a.answer
    );
}

#[test]
fn the_outage_answer_names_a_cluster_restart_and_what_it_cost() {
    let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), "", RESTART);
    let results = crate::sim::run_all_plans(&scn, 5);
    let a = answer(&checklist_answers(&scn, &results), Q_DOWN).clone();
    assert_eq!(a.source, Source::Run);
    assert!(!a.answer.contains("no outage"), "{}", a.answer);
    assert!(
        !a.answer.contains("does not take Redis down"),
        "{}",
        a.answer
    );
    assert!(
        a.answer
            .contains("<b>cold restart</b> (<code>cluster-restart</code>"),
        "{}",
        a.answer
    );
    let o = &results[0].faults[0];
    assert!(o.keys_flushed > 0 && o.commands_failed > 0, "{o:?}");
    assert!(
        a.answer
            .contains(&format!("{} keys gone at restart", o.keys_flushed)),
        "{}",
        a.answer
    );
    assert!(
        a.answer
            .contains(&format!("{} commands refused", o.commands_failed)),
        "{}",
        a.answer
    );

    // Without an outage fault the run cannot answer, and says so.
    let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), "", DISCONNECT);
    let a = answer(&checklist_answers(&scn, &[]), Q_DOWN).clone();
    assert_eq!(a.source, Source::Unknown);
    assert!(
        a.answer.contains("does not take Redis down"),
        "{}",
        a.answer
    );
}

#[test]
fn the_stale_answer_counts_what_the_monitors_counted() {
    let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), &event("change"), "");
    let results = crate::sim::run_all_plans(&scn, 5);
    let a = answer(&checklist_answers(&scn, &results), Q_STALE).clone();
    assert_eq!(a.source, Source::Run);
    let t = results[0].invariants.tallies[0][0][Invariant::StaleRead.index()];
    assert!(t.violations > 0, "nothing invalidates a change: {t:?}");
    assert!(
        a.answer
            .contains(&format!("<code>stale_read</code> {}", t.violations)),
        "{}",
        a.answer
    );
    assert!(!a.answer.contains("not measured"), "{}", a.answer);
    // No event: the run does not exercise staleness.
    let scn = scenario(&catalog(PLAIN, "ttl_ms = \"5m\""), "", "");
    let a = answer(&checklist_answers(&scn, &[]), Q_STALE).clone();
    assert_eq!(a.source, Source::Unknown);
    assert!(
        a.answer.contains("no <code>[[events]]</code>"),
        "{}",
        a.answer
    );
}

#[test]
fn records_only_in_redis_lost_in_a_restart_break_the_business() {
    let records = r#"[[keyspaces]]
name = "catalog"
key_template = "accepted:{tenant}:quote:{quoteId}"
operation = "read-through"
criticality = "critical"
rate_per_s = 300
keys_per_tenant = 200
value_size_bytes = { dist = "fixed", value = 200 }
origin = "db"
fallback = { source_of_truth = "redis" }"#;
    let scn = scenario(records, "", RESTART);
    let results = crate::sim::run_all_plans(&scn, 5);
    let lost = results[0].invariants.tallies[0][0][Invariant::LostRecord.index()];
    assert!(lost.violations > 0, "the restart loses records: {lost:?}");
    let text = markup(&business_breaks(&scn, &results));
    assert!(
        text.contains(&format!(
            "{} records lost (their only copy was in Redis)",
            lost.violations
        )),
        "{text}"
    );
    let answers = checklist_answers(&scn, &results);
    let truth = &answers[0];
    assert!(markup(&truth.answer).contains("<b>Redis is the source of truth</b> of <b>catalog</b>"));
    let (inval, warn) = invalidation(&scn, 0);
    assert!(inval.starts_with("not applicable: Redis is the source of truth") && !warn);
    // Without the restart nothing is lost, but the line still names the Redis-only records.
    let scn = scenario(records, "", "");
    let text = markup(&business_breaks(&scn, &crate::sim::run_all_plans(&scn, 5)));
    assert!(
        text.contains("Still, Redis is the only store of <b>catalog</b>"),
        "{text}"
    );
}

#[test]
fn lock_and_idempotency_answers_follow_the_guards() {
    let keyspaces = |db: bool| {
        format!(
            r#"{}
[[keyspaces]]
name = "lock"
key_template = "lock:{{tenant}}:quote:{{quoteId}}"
operation = "lock"
rate_per_s = 50
keys_per_tenant = 100
value_size_bytes = {{ dist = "fixed", value = 40 }}
ttl_ms = "2s"
hold_ms = {{ dist = "fixed", value = 20 }}
fallback = {{ db_constraint = {db} }}
[[keyspaces]]
name = "idem"
key_template = "idem:{{tenant}}:{{key}}"
operation = "idempotency"
rate_per_s = 50
keys_per_tenant = 100
value_size_bytes = {{ dist = "fixed", value = 100 }}
ttl_ms = "1h"
origin = "db"
retry_probability = 0.1
retry_delay_ms = 100
fallback = {{ db_idempotency = {db} }}"#,
            catalog(PLAIN, "ttl_ms = \"5m\"")
        )
    };
    let with = |db: bool| {
        let scn = scenario_of(&keyspaces(db), &["catalog", "lock", "idem"], "", "");
        checklist_answers(&scn, &[])
    };
    let guarded = with(true);
    assert!(answer(&guarded, Q_LOCK).answer.starts_with("Yes"));
    assert!(answer(&guarded, Q_DB_IDEMPOTENCY)
        .answer
        .starts_with("Yes for <b>idem</b>"));
    let bare = with(false);
    assert!(answer(&bare, Q_LOCK)
        .answer
        .starts_with("<b>No</b> for <b>lock</b>"));
    assert!(answer(&bare, Q_LOCK).answer.contains("a plain DEL"));
    assert!(answer(&bare, Q_DB_IDEMPOTENCY)
        .answer
        .starts_with("<b>No</b> for <b>idem</b>"));
}
