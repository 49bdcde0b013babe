//! The resource limit a command checks before it does any work: how much memory a run may
//! plan to use. Every command that simulates, replays or generates estimates its own peak
//! memory from its resolved inputs and refuses (exit 2) when the estimate exceeds this limit,
//! naming the inputs that drive it. The default is a fraction of the machine's memory, read
//! here at the edge (`/proc/meminfo`); `--memory-limit` raises or lowers it.

use super::CliError;
use crate::scenario::units::parse_bytes;

/// The share of the machine's memory a command may plan to use when no flag says otherwise.
pub const DEFAULT_MEMORY_FRACTION: f64 = 0.5;

/// Used when the machine's memory cannot be read (not Linux, no `/proc`).
pub const FALLBACK_MEMORY_LIMIT_BYTES: u64 = 4 << 30;

/// The `--memory-limit` flag, shared by every command that checks a budget.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MemoryLimitArg {
    /// The most memory the command may plan to use (e.g. "8gb", "512mb"); the command refuses,
    /// before doing any work, inputs whose estimated peak is larger. Default: half of the
    /// machine's memory.
    #[arg(long = "memory-limit", value_name = "SIZE")]
    pub memory_limit: Option<String>,
}

impl MemoryLimitArg {
    /// The limit in bytes: the flag's value, or the default.
    pub fn bytes(&self) -> Result<u64, CliError> {
        match &self.memory_limit {
            Some(s) => match parse_bytes(s) {
                Ok(0) => Err(CliError::input(
                    "--memory-limit: must be above zero (e.g. \"8gb\")",
                )),
                Ok(b) => Ok(b),
                Err(e) => Err(CliError::input(format!(
                    "--memory-limit: {e} (e.g. \"8gb\", \"512mb\")"
                ))),
            },
            None => Ok(default_memory_limit_bytes()),
        }
    }
}

/// `DEFAULT_MEMORY_FRACTION` of the machine's total memory (`MemTotal` in `/proc/meminfo`).
pub fn default_memory_limit_bytes() -> u64 {
    match machine_memory_bytes() {
        Some(total) => (total as f64 * DEFAULT_MEMORY_FRACTION) as u64,
        None => FALLBACK_MEMORY_LIMIT_BYTES,
    }
}

/// The machine's total memory, when the OS tells.
fn machine_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_total(&text)
}

/// `MemTotal:  24576000 kB` → bytes.
fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}

/// The refusal of a command whose estimate exceeds the limit: the estimate, the limit, what
/// drives the estimate (largest first) and how to go on.
pub fn over_budget(
    what: &str,
    estimate_bytes: u64,
    limit_bytes: u64,
    drivers: &[(String, u64)],
) -> CliError {
    let mut msg = format!(
        "{what} would need about {} of memory, above the limit of {}",
        human_bytes(estimate_bytes),
        human_bytes(limit_bytes)
    );
    let mut sorted: Vec<&(String, u64)> = drivers.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (field, bytes) in sorted.into_iter().take(5) {
        msg.push_str(&format!("\n  {field}: about {}", human_bytes(*bytes)));
    }
    msg.push_str("\nhint: reduce the fields above, or raise the limit with --memory-limit");
    CliError::input(msg)
}

/// Bytes with a binary unit, three significant figures.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.3} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_total_is_read_in_kib() {
        let text = "MemTotal:       24576000 kB\nMemFree:        1000 kB\n";
        assert_eq!(parse_mem_total(text), Some(24_576_000 * 1024));
        assert_eq!(parse_mem_total("nothing here"), None);
    }

    #[test]
    fn flag_parses_sizes_and_refuses_zero() {
        let arg = MemoryLimitArg {
            memory_limit: Some("512mb".into()),
        };
        assert_eq!(arg.bytes().unwrap(), 512 << 20);
        let zero = MemoryLimitArg {
            memory_limit: Some("0".into()),
        };
        assert_eq!(zero.bytes().unwrap_err().code, 2);
        let junk = MemoryLimitArg {
            memory_limit: Some("lots".into()),
        };
        assert_eq!(junk.bytes().unwrap_err().code, 2);
    }

    #[test]
    fn refusal_names_the_largest_drivers_first() {
        let e = over_budget(
            "the run",
            3 << 30,
            1 << 30,
            &[("a".into(), 1 << 20), ("b".into(), 2 << 30)],
        );
        assert_eq!(e.code, 2);
        let b = e.message.find("\n  b:").unwrap();
        let a = e.message.find("\n  a:").unwrap();
        assert!(b < a, "{}", e.message);
        assert!(e.message.contains("3.000 GiB"), "{}", e.message);
    }
}
