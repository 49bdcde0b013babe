//! The instance catalogue: node types (memory, vCPUs, network baseline, hourly price with its
//! region, currency, date and public source, the memory the service reserves), read from
//! TOML files (`workloads/instances/*.toml`, embedded in the binary; a scenario adds its own
//! with `[simulation] instance_catalogue = [...]` and inline `[[instances]]`), and the
//! `maxmemory` a cluster declared by instance gets (`derive_maxmemory`). Owns no simulation
//! state; every bad entry is a `ScenarioError` naming the file, line, column and field.

use super::locate::{line_col, path_at};
use super::raw::RawInstance;
use super::{path_to_string, FieldError, PathSeg, ScenarioError};
use serde::Deserialize;

/// The built-in catalogue files: (name as shown in messages, text).
pub const BUILTIN_CATALOGUES: [(&str, &str); 4] = [
    (
        "<embedded workloads/instances/aws-elasticache.toml>",
        include_str!("../../workloads/instances/aws-elasticache.toml"),
    ),
    (
        "<embedded workloads/instances/azure-cache.toml>",
        include_str!("../../workloads/instances/azure-cache.toml"),
    ),
    (
        "<embedded workloads/instances/gcp-memorystore.toml>",
        include_str!("../../workloads/instances/gcp-memorystore.toml"),
    ),
    (
        "<embedded workloads/instances/self-managed.toml>",
        include_str!("../../workloads/instances/self-managed.toml"),
    ),
];

/// Hours in a month for monthly costs: 8,760 hours a year / 12 (the convention of the AWS,
/// Azure and Google pricing calculators).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// `repl-backlog-size` default in redis.conf (1 MiB): every node of a shard with replicas keeps
/// one, and Redis 7 counts it in `used_memory` against `maxmemory` (evict.c,
/// `freeMemoryGetNotCountedMemory` leaves out only replica buffers beyond the backlog).
pub const REPL_BACKLOG_BYTES: u64 = 1 << 20;

/// Client buffers per connection: the 16 KiB query buffer (`PROTO_IOBUF_LEN`) and the 16 KiB
/// reply buffer (`PROTO_REPLY_CHUNK_BYTES`) of Redis's server.h. Normal clients have no output
/// buffer limit (`client-output-buffer-limit normal 0 0 0`) and are counted in `used_memory`.
pub const CLIENT_BUFFER_BYTES_PER_CONNECTION: u64 = 32 << 10;

/// The most entries a catalogue (built-in, files and inline together) may hold.
pub const MAX_INSTANCES: usize = 10_000;

/// One node type.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// Name as a cluster's `instance` gives it (`cache.r7g.large`).
    pub name: String,
    /// Provider or family (`aws-elasticache`, `self-managed`).
    pub provider: String,
    /// Memory of one node, bytes (`memory_gib` × 2³⁰, rounded).
    pub memory_bytes: u64,
    /// vCPUs, when published.
    pub vcpus: Option<u32>,
    /// Network baseline, bytes per second (`network_baseline_gbps` × 10⁹ / 8), when published.
    pub network_baseline_bytes_per_s: Option<u64>,
    /// On-demand price of one node for one hour, in `currency`.
    pub hourly_price: f64,
    /// ISO 4217 code (`USD`).
    pub currency: String,
    /// Region the price holds in.
    pub region: String,
    /// Share of the memory the service keeps back from data, percent.
    pub reserved_memory_percent: f64,
    /// Date of the figures (`YYYY-MM-DD`).
    pub as_of: String,
    /// Public source of the figures, and what it does not confirm.
    pub source: String,
    /// Where the entry was read (a catalogue file, or the scenario for inline entries).
    pub defined_in: String,
}

impl Instance {
    /// Monthly price of one node (`hourly_price` × 730 h).
    pub fn monthly_price(&self) -> f64 {
        self.hourly_price * HOURS_PER_MONTH
    }
}

/// How a cluster declared by instance gets its `maxmemory` per shard, term by term.
#[derive(Clone, Debug, PartialEq)]
pub struct DerivedMaxmemory {
    /// The instance's memory.
    pub instance_memory_bytes: u64,
    /// What the service reserves: memory × `reserved_memory_percent` / 100, rounded down.
    pub reserved_bytes: u64,
    /// The replication backlog, when the shard has replicas (`REPL_BACKLOG_BYTES`).
    pub repl_backlog_bytes: u64,
    /// Client buffers: connections × `CLIENT_BUFFER_BYTES_PER_CONNECTION`.
    pub client_buffers_bytes: u64,
    /// Connections per shard assumed: one per application instance (a cluster client keeps
    /// one connection to every node).
    pub connections: u32,
    /// What is left for the model's `used_memory` (data, dictionaries and the empty server,
    /// which the model already counts): the memory less the three terms above.
    pub maxmemory_bytes: u64,
}

impl DerivedMaxmemory {
    /// One line: `13.07 GiB − 25 % reserve (3.27 GiB) − ... = maxmemory N B`.
    pub fn explain(&self, inst: &Instance) -> String {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        format!(
            "{:.2} GiB − {} % reserve ({:.2} GiB) − replication backlog {} B − client buffers {} B \
             ({} connections × {} B) = maxmemory {} B per shard",
            gib(self.instance_memory_bytes),
            inst.reserved_memory_percent,
            gib(self.reserved_bytes),
            self.repl_backlog_bytes,
            self.client_buffers_bytes,
            self.connections,
            CLIENT_BUFFER_BYTES_PER_CONNECTION,
            self.maxmemory_bytes
        )
    }
}

/// The `maxmemory` per shard of a cluster of `inst` nodes with `replicas_per_shard` replicas,
/// reached by `connections` clients per shard. Saturates at 0 when the overheads exceed the
/// memory (the caller refuses that).
pub fn derive_maxmemory(
    inst: &Instance,
    replicas_per_shard: u32,
    connections: u32,
) -> DerivedMaxmemory {
    let reserved_bytes =
        (inst.memory_bytes as f64 * inst.reserved_memory_percent / 100.0).floor() as u64;
    let repl_backlog_bytes = if replicas_per_shard > 0 {
        REPL_BACKLOG_BYTES
    } else {
        0
    };
    let client_buffers_bytes = u64::from(connections) * CLIENT_BUFFER_BYTES_PER_CONNECTION;
    DerivedMaxmemory {
        instance_memory_bytes: inst.memory_bytes,
        reserved_bytes,
        repl_backlog_bytes,
        client_buffers_bytes,
        connections,
        maxmemory_bytes: inst
            .memory_bytes
            .saturating_sub(reserved_bytes)
            .saturating_sub(repl_backlog_bytes)
            .saturating_sub(client_buffers_bytes),
    }
}

/// A catalogue file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    version: i64,
    #[serde(default)]
    instances: Vec<RawInstance>,
}

/// Validates one entry; `path` is where it sits (`instances[3]`).
pub(super) fn validate(
    raw: &RawInstance,
    path: &[PathSeg],
    defined_in: &str,
) -> Result<Instance, FieldError> {
    let at = |field: &str| {
        let mut p = path.to_vec();
        p.push(PathSeg::Key(field.into()));
        p
    };
    let err = |field: &str, message: String, hint: &str| FieldError {
        path: at(field),
        message,
        hint: hint.into(),
    };
    let text = |field: &str, v: &str, max: usize| {
        if v.trim().is_empty() || v.chars().count() > max {
            Err(err(
                field,
                format!("\"{v}\" is empty or longer than {max} characters"),
                "give a short text",
            ))
        } else {
            Ok(v.to_string())
        }
    };
    let name = text("name", &raw.name, 200)?;
    if !raw.memory_gib.is_finite() || raw.memory_gib <= 0.0 || raw.memory_gib > 1024.0 {
        return Err(err(
            "memory_gib",
            format!("{} GiB is not a node's memory", raw.memory_gib),
            "give the memory of one node in GiB, above 0 and at most 1024",
        ));
    }
    let memory_bytes = (raw.memory_gib * (1u64 << 30) as f64).round() as u64;
    let vcpus = match raw.vcpus {
        None => None,
        Some(v) if (1..=1024).contains(&v) => Some(v as u32),
        Some(v) => {
            return Err(err(
                "vcpus",
                format!("{v} vCPUs is out of range"),
                "give 1 to 1024, or leave it out when the provider does not publish it",
            ))
        }
    };
    let network_baseline_bytes_per_s = match raw.network_baseline_gbps {
        None => None,
        Some(g) if g.is_finite() && g > 0.0 && g <= 10_000.0 => {
            Some((g * 1e9 / 8.0).round() as u64)
        }
        Some(g) => {
            return Err(err(
                "network_baseline_gbps",
                format!("{g} Gbit/s is not a network baseline"),
                "give the baseline in Gbit/s, above 0 and at most 10000, or leave it out",
            ))
        }
    };
    if !raw.hourly_price.is_finite() || raw.hourly_price < 0.0 || raw.hourly_price > 1e6 {
        return Err(err(
            "hourly_price",
            format!("{} is not a price per node-hour", raw.hourly_price),
            "give the price of one node for one hour, from 0 to 1,000,000",
        ));
    }
    let currency = raw.currency.trim().to_string();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(err(
            "currency",
            format!("\"{}\" is not a currency code", raw.currency),
            "give an ISO 4217 code such as \"USD\" or \"EUR\"",
        ));
    }
    let region = text("region", &raw.region, 100)?;
    let reserved_memory_percent = raw.reserved_memory_percent.unwrap_or(0.0);
    if !(0.0..100.0).contains(&reserved_memory_percent) {
        return Err(err(
            "reserved_memory_percent",
            format!("{reserved_memory_percent} % is out of range"),
            "give 0 (nothing reserved) up to below 100 (ElastiCache's default is 25)",
        ));
    }
    let as_of = raw.as_of.trim();
    let date_ok = as_of.len() == 10
        && as_of.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        });
    if !date_ok {
        return Err(err(
            "as_of",
            format!("\"{as_of}\" is not a date"),
            "give the date of the figures as YYYY-MM-DD",
        ));
    }
    Ok(Instance {
        name,
        provider: text("provider", &raw.provider, 100)?,
        memory_bytes,
        vcpus,
        network_baseline_bytes_per_s,
        hourly_price: raw.hourly_price,
        currency,
        region,
        reserved_memory_percent,
        as_of: as_of.to_string(),
        source: text("source", &raw.source, 2000)?,
        defined_in: defined_in.to_string(),
    })
}

/// Parses and validates one catalogue file; `file` names it in errors and in
/// `Instance::defined_in`. Names must be unique within the file.
#[allow(clippy::result_large_err)] // a cold path; the error carries file, position and hint
pub fn parse_catalogue(src: &str, file: &str) -> Result<Vec<Instance>, ScenarioError> {
    let raw: RawCatalogue = toml::from_str(src).map_err(|e| {
        let (line, column, field) = match e.span() {
            Some(span) => {
                let (l, c) = line_col(src, span.start);
                let field = path_at(src, span.start)
                    .filter(|p| !p.is_empty())
                    .map(|p| path_to_string(&p));
                (Some(l), Some(c), field)
            }
            None => (None, None, None),
        };
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            field,
            message: e.message().trim().to_string(),
            hint: Some(
                "an instance catalogue has `version = 1` and [[instances]] tables with name, \
                 provider, memory_gib, hourly_price, currency, region, as_of and source \
                 (workloads/README.md, \"Instance catalogue\")"
                    .into(),
            ),
        }
    })?;
    if raw.version != 1 {
        return Err(super::field_error(
            src,
            file,
            &[PathSeg::Key("version".into())],
            format!("unsupported catalogue version {}", raw.version),
            "this cacheplan reads version = 1".into(),
        ));
    }
    let mut out: Vec<Instance> = Vec::new();
    for (i, r) in raw.instances.iter().enumerate() {
        let path = [PathSeg::Key("instances".into()), PathSeg::Index(i)];
        let inst = validate(r, &path, file)
            .map_err(|fe| super::field_error(src, file, &fe.path, fe.message, fe.hint))?;
        if out.iter().any(|o| o.name == inst.name) {
            let mut p = path.to_vec();
            p.push(PathSeg::Key("name".into()));
            return Err(super::field_error(
                src,
                file,
                &p,
                format!("instance \"{}\" is defined twice in this file", inst.name),
                "give every entry its own name".into(),
            ));
        }
        out.push(inst);
    }
    if out.len() > MAX_INSTANCES {
        return Err(super::field_error(
            src,
            file,
            &[PathSeg::Key("instances".into())],
            format!("{} entries is more than {MAX_INSTANCES}", out.len()),
            "split the catalogue or keep only the node types you compare".into(),
        ));
    }
    Ok(out)
}

/// The built-in catalogue (every embedded file, in `BUILTIN_CATALOGUES` order).
pub fn builtin() -> Vec<Instance> {
    BUILTIN_CATALOGUES
        .iter()
        .flat_map(|(file, text)| {
            parse_catalogue(text, file).expect("the built-in catalogue is valid (checked by tests)")
        })
        .collect()
}

/// Adds `extra` to `catalogue`: an entry whose name is already there replaces it (so a user
/// file can reprice a built-in node type, e.g. with a reserved-instance discount).
pub fn overlay(catalogue: &mut Vec<Instance>, extra: Vec<Instance>) {
    for inst in extra {
        match catalogue.iter_mut().find(|c| c.name == inst.name) {
            Some(slot) => *slot = inst,
            None => catalogue.push(inst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_is_valid_and_names_are_unique() {
        let all = builtin();
        assert!(all.len() >= 20, "{}", all.len());
        let mut names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a built-in name is defined in two files");
        for i in &all {
            assert!(
                i.source.contains("https://"),
                "{}: no public source",
                i.name
            );
        }
        let r7g = all.iter().find(|i| i.name == "cache.r7g.large").unwrap();
        assert_eq!(
            r7g.memory_bytes,
            (13.07 * (1u64 << 30) as f64).round() as u64
        );
        assert_eq!(r7g.reserved_memory_percent, 25.0);
        assert_eq!(r7g.network_baseline_bytes_per_s, Some(117_125_000));
    }

    #[test]
    fn maxmemory_is_memory_less_reserve_backlog_and_buffers() {
        let inst = builtin()
            .into_iter()
            .find(|i| i.name == "cache.t4g.micro")
            .unwrap();
        // 0.5 GiB = 536,870,912 B; 25 % = 134,217,728 B.
        let d = derive_maxmemory(&inst, 1, 4);
        assert_eq!(d.reserved_bytes, 134_217_728);
        assert_eq!(d.repl_backlog_bytes, 1_048_576);
        assert_eq!(d.client_buffers_bytes, 4 * 32_768);
        assert_eq!(
            d.maxmemory_bytes,
            536_870_912 - 134_217_728 - 1_048_576 - 131_072
        );
        assert_eq!(derive_maxmemory(&inst, 0, 4).repl_backlog_bytes, 0);
    }

    #[test]
    fn a_bad_entry_names_file_line_and_field() {
        let src = "version = 1\n\n[[instances]]\nname = \"x\"\nprovider = \"p\"\nmemory_gib = -1\n\
                   hourly_price = 1\ncurrency = \"USD\"\nregion = \"r\"\nas_of = \"2025-01-01\"\n\
                   source = \"mine\"\n";
        let e = parse_catalogue(src, "mine.toml").unwrap_err();
        assert_eq!(e.file, "mine.toml");
        assert_eq!(e.line, Some(6));
        assert_eq!(e.field.as_deref(), Some("instances[0].memory_gib"));
        let e = parse_catalogue(
            &src.replace("USD", "dollars").replace("= -1", "= 1"),
            "mine.toml",
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("instances[0].currency"));
        let e = parse_catalogue(&src.replace("memory_gib", "memory_gb"), "m.toml").unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
        assert_eq!(e.line, Some(6));
    }

    #[test]
    fn overlay_replaces_by_name_and_appends_new_ones() {
        let mut all = builtin();
        let n = all.len();
        let mut cheap = all[0].clone();
        cheap.hourly_price = 0.001;
        let mut new = all[0].clone();
        new.name = "on-prem".into();
        overlay(&mut all, vec![cheap, new]);
        assert_eq!(all.len(), n + 1);
        assert_eq!(all[0].hourly_price, 0.001);
    }
}
