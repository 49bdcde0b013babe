//! From sampled keys and a monitor window to per-template profiles. Pure: the server's facts,
//! the key sample and the monitor tally are data handed in by the IO edge (`cli::profile`).
//!
//! Templates: each key's `template::template_of`, then a tenant segment is named: the first
//! literal segment after the leading one that takes two or more values among keys otherwise of
//! one template becomes `{tenant}` (`{{tenant}}` inside a hash tag), and its values are the
//! tenants.

use super::monitor::MonitoredCommand;
use super::stats::{self, LognormalFit, TtlEstimate, ZipfFit};
use super::template::template_of;
use std::collections::{BTreeMap, BTreeSet};

/// What the server said about itself.
#[derive(Clone, Debug, Default)]
pub struct ServerFacts {
    /// INFO fields of every section read (server, memory, stats, keyspace, commandstats).
    pub info: BTreeMap<String, String>,
    /// CONFIG GET results (maxmemory, maxmemory-policy, ...).
    pub config: BTreeMap<String, String>,
    /// DBSIZE of the profiled db (with `capture_only`, the keys the capture named).
    pub dbsize: u64,
    /// True when no server was read (`profile --monitor-file` alone): `info` and `config` are
    /// empty, and the draft marks every value but the capture's rates, mix, Zipf α and written
    /// TTLs a placeholder.
    pub capture_only: bool,
}

impl ServerFacts {
    /// An INFO field as a number.
    pub fn info_f64(&self, field: &str) -> Option<f64> {
        self.info.get(field).and_then(|v| v.parse().ok())
    }
    /// A CONFIG value as a number.
    pub fn config_u64(&self, field: &str) -> Option<u64> {
        self.config.get(field).and_then(|v| v.parse().ok())
    }
    /// Mean main-thread µs per call over all commands (INFO commandstats), if any were run.
    pub fn usec_per_call(&self) -> Option<f64> {
        let (mut calls, mut usec) = (0.0, 0.0);
        for (k, v) in &self.info {
            if !k.starts_with("cmdstat_") {
                continue;
            }
            let field = |name: &str| {
                v.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| *k == name)
                    .and_then(|(_, v)| v.parse::<f64>().ok())
            };
            // Our own INFO/SCAN/... calls are not the application's load.
            if [
                "cmdstat_info",
                "cmdstat_scan",
                "cmdstat_monitor",
                "cmdstat_config",
            ]
            .contains(&k.as_str())
            {
                continue;
            }
            if let (Some(c), Some(u)) = (field("calls"), field("usec")) {
                calls += c;
                usec += u;
            }
        }
        (calls > 0.0).then(|| usec / calls)
    }
}

/// One sampled key as the server described it.
#[derive(Clone, Debug, Default)]
pub struct KeySample {
    /// The key name.
    pub key: String,
    /// TYPE.
    pub data_type: String,
    /// OBJECT ENCODING.
    pub encoding: String,
    /// MEMORY USAGE, bytes.
    pub memory_bytes: Option<u64>,
    /// PTTL, ms (None: no TTL).
    pub pttl_ms: Option<u64>,
    /// STRLEN of a string, HLEN / ZCARD / LLEN / SCARD of a collection.
    pub length: Option<u64>,
    /// OBJECT FREQ (LFU policies) or None.
    pub lfu_freq: Option<u64>,
    /// OBJECT IDLETIME, seconds (other policies) or None.
    pub idle_s: Option<u64>,
}

/// Request counts of one key in the monitor window.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyCounts {
    /// Commands that read it.
    pub reads: u64,
    /// Commands that wrote it (EXPIRE/PEXPIRE included).
    pub writes: u64,
    /// EXPIRE / PEXPIRE on it (a session's refresh).
    pub expires: u64,
    /// The data type and encoding its commands imply (`monitor::implied_type`), the first seen.
    pub implied_type: Option<(&'static str, &'static str)>,
}

/// What the monitor window saw, with bounded memory: at most `max_keys` distinct keys are
/// counted one by one (later new keys only in `n_untracked`), at most `max_ttls` written TTLs
/// kept per template.
#[derive(Clone, Debug)]
pub struct MonitorTally {
    /// First and last command time, unix seconds.
    pub span_unix_s: Option<(f64, f64)>,
    /// Commands seen.
    pub n_commands: u64,
    /// Commands with no key (PING, INFO, MULTI, ...).
    pub n_keyless: u64,
    /// Key references not counted one by one (the key table was full).
    pub n_untracked: u64,
    /// Per key.
    pub per_key: BTreeMap<String, KeyCounts>,
    /// TTLs written, ms, per raw template.
    pub ttls_ms: BTreeMap<String, Vec<u64>>,
    max_keys: usize,
    max_ttls: usize,
}

impl MonitorTally {
    /// An empty tally with its bounds.
    pub fn new(max_keys: usize, max_ttls: usize) -> MonitorTally {
        MonitorTally {
            span_unix_s: None,
            n_commands: 0,
            n_keyless: 0,
            n_untracked: 0,
            per_key: BTreeMap::new(),
            ttls_ms: BTreeMap::new(),
            max_keys,
            max_ttls,
        }
    }

    /// Counts one command.
    pub fn add(&mut self, c: &MonitoredCommand) {
        self.n_commands += 1;
        self.span_unix_s = Some(match self.span_unix_s {
            None => (c.unix_s, c.unix_s),
            Some((lo, hi)) => (lo.min(c.unix_s), hi.max(c.unix_s)),
        });
        if c.keys.is_empty() {
            self.n_keyless += 1;
        }
        for key in &c.keys {
            if !self.per_key.contains_key(key) && self.per_key.len() >= self.max_keys {
                self.n_untracked += 1;
                continue;
            }
            let counts = self.per_key.entry(key.clone()).or_default();
            if c.is_write {
                counts.writes += 1;
            } else {
                counts.reads += 1;
            }
            if c.name == "EXPIRE" || c.name == "PEXPIRE" {
                counts.expires += 1;
            }
            if counts.implied_type.is_none() {
                counts.implied_type = super::monitor::implied_type(&c.name);
            }
            if let (Some(ttl), "SET" | "SETEX" | "PSETEX") = (c.ttl_ms, c.name.as_str()) {
                let list = self.ttls_ms.entry(template_of(key)).or_default();
                if list.len() < self.max_ttls {
                    list.push(ttl);
                }
            }
        }
    }

    /// Seconds between the first and the last command (0 with fewer than two).
    pub fn span_s(&self) -> f64 {
        self.span_unix_s.map_or(0.0, |(lo, hi)| hi - lo)
    }
}

/// Maps key names to their templates and tenants, learnt from the sample.
#[derive(Clone, Debug, Default)]
pub struct Templater {
    /// Raw template → (template with `{tenant}`, tenant position).
    merged: BTreeMap<String, (String, Option<usize>)>,
    /// Templates with a tenant: (segments with the tenant position blanked, position) → template.
    by_mask: BTreeMap<(String, usize), String>,
}

impl Templater {
    /// Learns the templates of the sampled key names.
    pub fn learn<'a>(keys: impl IntoIterator<Item = &'a str>) -> Templater {
        let raws: BTreeSet<String> = keys.into_iter().map(template_of).collect();
        let mut values: BTreeMap<(String, usize), BTreeSet<String>> = BTreeMap::new();
        for raw in &raws {
            let segs: Vec<&str> = raw.split(':').collect();
            for i in 1..segs.len() {
                if is_literal(segs[i]) {
                    values
                        .entry((mask(&segs, i), i))
                        .or_default()
                        .insert(segs[i].to_string());
                }
            }
        }
        let mut t = Templater::default();
        for raw in &raws {
            let segs: Vec<&str> = raw.split(':').collect();
            let pos = (1..segs.len()).find(|&i| {
                is_literal(segs[i])
                    && values
                        .get(&(mask(&segs, i), i))
                        .is_some_and(|v| v.len() >= 2)
            });
            let merged = match pos {
                Some(i) => {
                    let mut s: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
                    s[i] = if segs[i].starts_with('{') {
                        "{{tenant}}".into()
                    } else {
                        "{tenant}".into()
                    };
                    t.by_mask.insert((mask(&segs, i), i), s.join(":"));
                    s.join(":")
                }
                None => raw.clone(),
            };
            t.merged.insert(raw.clone(), (merged, pos));
        }
        t
    }

    /// The template and tenant of a key, None for a key of no learnt template.
    pub fn classify(&self, key: &str) -> Option<(String, Option<String>)> {
        let raw = template_of(key);
        let segs: Vec<&str> = raw.split(':').collect();
        let tenant_at = |i: usize| Some(strip_tag(segs[i]).to_string());
        if let Some((merged, pos)) = self.merged.get(&raw) {
            return Some((merged.clone(), pos.and_then(tenant_at)));
        }
        (1..segs.len()).find_map(|i| {
            self.by_mask
                .get(&(mask(&segs, i), i))
                .map(|m| (m.clone(), tenant_at(i)))
        })
    }
}

fn is_literal(seg: &str) -> bool {
    let inner = strip_tag(seg);
    !inner.is_empty() && !inner.contains('{')
}

fn strip_tag(seg: &str) -> &str {
    seg.strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(seg)
}

fn mask(segs: &[&str], i: usize) -> String {
    let tag = if segs[i].starts_with('{') { "{*}" } else { "*" };
    segs.iter()
        .enumerate()
        .map(|(j, s)| if j == i { tag } else { s })
        .collect::<Vec<_>>()
        .join(":")
}

/// Everything `profile` learnt about one template.
#[derive(Clone, Debug)]
pub struct TemplateProfile {
    /// The template (`quote:{tenant}:{id}`).
    pub template: String,
    /// A keyspace name made of its literal segments.
    pub name: String,
    /// The most common TYPE.
    pub data_type: String,
    /// The most common OBJECT ENCODING.
    pub encoding: String,
    /// Sampled keys.
    pub n_sampled: usize,
    /// Estimated keys on the server (sample fraction × DBSIZE) and its standard error.
    pub est_keys: f64,
    /// Standard error of `est_keys` (binomial, with the finite-population correction).
    pub est_keys_se: f64,
    /// Sampled keys per tenant (empty: no tenant segment).
    pub tenants: BTreeMap<String, usize>,
    /// Value sizes: what was measured (`"strlen"`, `"memory-usage"`).
    pub size_basis: &'static str,
    /// The lognormal fit of the sizes.
    pub size_fit: Option<LognormalFit>,
    /// Empirical p50, p90, p99 of the sizes.
    pub size_quantiles: (f64, f64, f64),
    /// Mean MEMORY USAGE per key, bytes.
    pub memory_bytes_mean: f64,
    /// The TTL fit.
    pub ttl: TtlEstimate,
    /// Requests in the monitor window (0 without one).
    pub requests: u64,
    /// Reads among them.
    pub reads: u64,
    /// EXPIRE/PEXPIRE among the writes.
    pub expires: u64,
    /// Requests per second and its standard error (Poisson), when monitored.
    pub rate_per_s: Option<(f64, f64)>,
    /// Requests per tenant in the window.
    pub tenant_requests: BTreeMap<String, u64>,
    /// Zipf's α fitted on the window's per-key counts, jointly over tenants.
    pub zipf: Option<ZipfFit>,
}

/// The whole profile.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Templates, in template order.
    pub templates: Vec<TemplateProfile>,
    /// All tenants seen, sorted.
    pub tenants: Vec<String>,
    /// Keys sampled.
    pub n_sampled: usize,
    /// Monitor window length, seconds (None: no monitor).
    pub monitor_span_s: Option<f64>,
    /// Commands of the window on keys of no learnt template.
    pub unmatched_requests: u64,
    /// The hottest keys: (key, requests, hash slot).
    pub hottest: Vec<(String, u64, u16)>,
    /// Per shard count (2, 4, 8): the busiest shard's share of the keyed requests (even split).
    pub busiest_shard_share: Vec<(usize, f64)>,
}

/// The keys of a saved MONITOR capture standing in for a SCAN sample, for a user who cannot
/// connect: each monitored key once, its type implied by its commands (a key no command typed
/// is a string), nothing else known (no size, memory or TTL). With `ServerFacts::dbsize` set
/// to their number, `build` then estimates each template's keys as those the capture saw (a
/// lower bound; the draft marks it a placeholder).
pub fn sample_from_monitor(tally: &MonitorTally) -> Vec<KeySample> {
    tally
        .per_key
        .iter()
        .map(|(key, counts)| {
            let (data_type, encoding) = counts.implied_type.unwrap_or(("string", "raw"));
            KeySample {
                key: key.clone(),
                data_type: data_type.to_string(),
                encoding: encoding.to_string(),
                ..KeySample::default()
            }
        })
        .collect()
}

/// Builds the profile from the sample and the optional monitor tally.
pub fn build(facts: &ServerFacts, sample: &[KeySample], tally: Option<&MonitorTally>) -> Profile {
    let templater = Templater::learn(sample.iter().map(|k| k.key.as_str()));
    let mut groups: BTreeMap<String, Vec<(&KeySample, Option<String>)>> = BTreeMap::new();
    for k in sample {
        if let Some((t, tenant)) = templater.classify(&k.key) {
            groups.entry(t).or_default().push((k, tenant));
        }
    }
    let n = sample.len();
    let mut tenants_all = BTreeSet::new();
    // Monitor counts per template: per tenant, per key.
    let mut monitored: BTreeMap<String, BTreeMap<String, Vec<(u64, KeyCounts)>>> = BTreeMap::new();
    let mut unmatched = 0;
    let mut written_ttls: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    if let Some(tally) = tally {
        for (key, counts) in &tally.per_key {
            match templater.classify(key) {
                Some((t, tenant)) => monitored
                    .entry(t)
                    .or_default()
                    .entry(tenant.unwrap_or_default())
                    .or_default()
                    .push((counts.reads + counts.writes, *counts)),
                None => unmatched += counts.reads + counts.writes,
            }
        }
        for (raw, ttls) in &tally.ttls_ms {
            if let Some((t, _)) = templater.merged.get(raw) {
                written_ttls
                    .entry(t.clone())
                    .or_default()
                    .extend(ttls.iter().map(|&v| v as f64));
            }
        }
    }
    let span_s = tally.map(MonitorTally::span_s).filter(|s| *s > 0.0);
    let mut templates = Vec::new();
    for (template, keys) in &groups {
        let mut tenants = BTreeMap::new();
        for (_, tenant) in keys {
            if let Some(t) = tenant {
                *tenants.entry(t.clone()).or_insert(0) += 1;
                tenants_all.insert(t.clone());
            }
        }
        let p = keys.len() as f64 / n as f64;
        let fpc = if facts.dbsize > 1 {
            ((facts.dbsize as f64 - n as f64).max(0.0) / (facts.dbsize as f64 - 1.0)).sqrt()
        } else {
            0.0
        };
        let data_type = most_common(keys.iter().map(|(k, _)| k.data_type.as_str()));
        let encoding = most_common(keys.iter().map(|(k, _)| k.encoding.as_str()));
        let size_basis = if data_type == "string" {
            "strlen"
        } else {
            "memory-usage"
        };
        let sizes: Vec<f64> = keys
            .iter()
            .filter_map(|(k, _)| match size_basis {
                "strlen" => k.length,
                _ => k.memory_bytes,
            })
            .map(|v| v as f64)
            .collect();
        let mems: Vec<f64> = keys
            .iter()
            .filter_map(|(k, _)| k.memory_bytes.map(|v| v as f64))
            .collect();
        let residuals: Vec<f64> = keys
            .iter()
            .filter_map(|(k, _)| k.pttl_ms.map(|v| v as f64))
            .collect();
        let without_ttl = keys.len() - residuals.len();
        let ttl = match written_ttls.get(template) {
            Some(w) if w.len() >= 20 => {
                stats::fit_ttl_written(w, residuals.len() as f64 / keys.len() as f64)
            }
            _ => stats::fit_ttl_residuals(&residuals, without_ttl),
        };
        let mon = monitored.get(template);
        let all_counts = || mon.into_iter().flat_map(|m| m.values()).flatten();
        let requests: u64 = all_counts().map(|(c, _)| c).sum();
        let reads: u64 = all_counts().map(|(_, c)| c.reads).sum();
        let expires: u64 = all_counts().map(|(_, c)| c.expires).sum();
        // Each tenant's keys are its share of the template's estimated keys.
        let est_keys = p * facts.dbsize as f64;
        let zipf_groups: Vec<(Vec<u64>, u64)> = mon
            .map(|m| {
                m.iter()
                    .map(|(tenant, v)| {
                        let share = match tenants.get(tenant) {
                            Some(&k) => k as f64 / keys.len() as f64,
                            None if tenants.is_empty() => 1.0,
                            None => 0.0,
                        };
                        // One request can be several commands on its key (GET then
                        // PEXPIRE; GET then SET after a miss): counting them all
                        // overdisperses the counts the fit takes as Poisson. The reads alone
                        // are one per request (the writes where the template has no reads).
                        let counts = v
                            .iter()
                            .map(|(all, c)| if reads > 0 { c.reads } else { *all })
                            .collect();
                        (counts, (est_keys * share).round() as u64)
                    })
                    .collect()
            })
            .unwrap_or_default();
        templates.push(TemplateProfile {
            template: template.clone(),
            name: keyspace_name(template),
            data_type: data_type.to_string(),
            encoding: encoding.to_string(),
            n_sampled: keys.len(),
            est_keys,
            est_keys_se: (p * (1.0 - p) / n as f64).sqrt() * fpc * facts.dbsize as f64,
            tenants,
            size_basis,
            size_fit: stats::fit_lognormal(&sizes),
            size_quantiles: (
                stats::quantile(&sizes, 0.5),
                stats::quantile(&sizes, 0.9),
                stats::quantile(&sizes, 0.99),
            ),
            memory_bytes_mean: if mems.is_empty() {
                0.0
            } else {
                mems.iter().sum::<f64>() / mems.len() as f64
            },
            ttl,
            requests,
            reads,
            expires,
            rate_per_s: span_s.map(|s| (requests as f64 / s, (requests as f64).sqrt() / s)),
            tenant_requests: mon
                .map(|m| {
                    m.iter()
                        .map(|(t, v)| (t.clone(), v.iter().map(|(c, _)| c).sum()))
                        .collect()
                })
                .unwrap_or_default(),
            zipf: stats::fit_zipf(&zipf_groups),
        });
    }
    let (hottest, busiest_shard_share) = tally.map(hot_keys).unwrap_or_default();
    Profile {
        templates,
        tenants: tenants_all.into_iter().collect(),
        n_sampled: n,
        monitor_span_s: span_s,
        unmatched_requests: unmatched,
        hottest,
        busiest_shard_share,
    }
}

type HotKeys = (Vec<(String, u64, u16)>, Vec<(usize, f64)>);

/// The ten hottest keys with their slots, and the busiest shard's share per shard count.
fn hot_keys(tally: &MonitorTally) -> HotKeys {
    use crate::redis::slots::{key_hash_slot, SlotMap};
    let mut all: Vec<(&String, u64)> = tally
        .per_key
        .iter()
        .map(|(k, c)| (k, c.reads + c.writes))
        .collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let hottest = all
        .iter()
        .take(10)
        .map(|(k, c)| (k.to_string(), *c, key_hash_slot(k.as_bytes())))
        .collect();
    let total: u64 = all.iter().map(|(_, c)| c).sum();
    let shares = [2usize, 4, 8]
        .iter()
        .map(|&s| {
            let map = SlotMap::even(s);
            let mut load = vec![0u64; s];
            for (k, c) in &all {
                load[map.shard_of_key(k.as_bytes())] += c;
            }
            let max = load.iter().copied().max().unwrap_or(0);
            (
                s,
                if total == 0 {
                    0.0
                } else {
                    max as f64 / total as f64
                },
            )
        })
        .collect();
    (hottest, shares)
}

fn most_common<'a>(items: impl Iterator<Item = &'a str>) -> &'a str {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map_or("", |(k, _)| k)
}

/// A keyspace name from a template's literal segments: `quote:{tenant}:rev:{id}` → `quote-rev`.
pub fn keyspace_name(template: &str) -> String {
    let words: Vec<&str> = template
        .split(':')
        .filter(|s| !s.contains('{') && !s.is_empty())
        .collect();
    let name: String = words
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        "keys".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_are_named_and_keys_classified() {
        let keys = [
            "quote:t01:item:1",
            "quote:t02:item:2",
            "quote:t03:item:3",
            "session:{t01}:user:7",
            "session:{t02}:user:8",
            "config:global",
        ];
        let t = Templater::learn(keys.iter().copied());
        assert_eq!(
            t.classify("quote:t02:item:99"),
            Some(("quote:{tenant}:item:{id}".into(), Some("t02".into())))
        );
        assert_eq!(
            t.classify("session:{t09}:user:1"),
            Some(("session:{{tenant}}:user:{id}".into(), Some("t09".into())))
        );
        assert_eq!(
            t.classify("config:global"),
            Some(("config:global".into(), None))
        );
        assert_eq!(t.classify("other:1"), None);
        assert_eq!(
            keyspace_name("session:{{tenant}}:user:{id}"),
            "session-user"
        );
    }

    #[test]
    fn build_counts_sizes_and_rates() {
        let facts = ServerFacts {
            dbsize: 400,
            ..ServerFacts::default()
        };
        let sample: Vec<KeySample> = (0..200)
            .map(|i| KeySample {
                key: format!("q:t{}:{i}", i % 2),
                data_type: "string".into(),
                encoding: "raw".into(),
                memory_bytes: Some(100),
                pttl_ms: Some(60_000 - i),
                length: Some(50 + i % 3),
                ..KeySample::default()
            })
            .collect();
        let mut tally = MonitorTally::new(1000, 1000);
        for i in 0..100 {
            let cmd = super::super::monitor::parse_line(&format!(
                r#"{}.0 [0 x] "GET" "q:t{}:{}""#,
                1000 + i / 10,
                i % 2,
                i % 7
            ))
            .unwrap();
            tally.add(&cmd);
        }
        let p = build(&facts, &sample, Some(&tally));
        assert_eq!(p.templates.len(), 1);
        let t = &p.templates[0];
        assert_eq!(t.template, "q:{tenant}:{id}");
        assert_eq!(t.est_keys, 400.0);
        assert_eq!(t.tenants.len(), 2);
        assert_eq!(t.requests, 100);
        assert_eq!(t.reads, 100);
        assert!((t.rate_per_s.unwrap().0 - 100.0 / 9.0).abs() < 1e-9);
        assert_eq!(t.size_quantiles.0, 51.0);
        assert_eq!(p.hottest.len(), 10);
    }
}
