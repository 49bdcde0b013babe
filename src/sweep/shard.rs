//! Splitting a sweep across machines: which shard this process is (from `--shard-index` /
//! `--shard-count`, else Slurm job arrays, else a Kubernetes Indexed Job) and which cells it
//! runs (cell `i` goes to shard `i mod count`). Pure: the environment is passed in as a lookup.

use super::SweepError;

/// This process's part of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Number of shards (1 = the whole sweep).
    pub count: usize,
}

impl Shard {
    /// The whole sweep on one machine.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether this shard runs grid cell `cell`.
    pub fn owns(&self, cell: usize) -> bool {
        cell % self.count == self.index
    }
}

/// Where the shard came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSource {
    /// No split.
    None,
    /// `--shard-index` / `--shard-count`.
    Flags,
    /// `SLURM_ARRAY_TASK_ID` / `SLURM_ARRAY_TASK_COUNT` (minus `SLURM_ARRAY_TASK_MIN`).
    Slurm,
    /// `JOB_COMPLETION_INDEX` / `CACHEPLAN_SHARD_COUNT`.
    Kubernetes,
}

fn parse_env(name: &str, v: &str) -> Result<usize, SweepError> {
    v.trim().parse::<usize>().map_err(|_| {
        SweepError::input(format!(
            "environment variable {name}={v:?} is not a non-negative integer"
        ))
    })
}

/// Resolves the shard from flags, then Slurm, then Kubernetes; none gives the whole sweep.
/// An index out of range, or one of a pair without the other, is an error.
pub fn resolve(
    index: Option<usize>,
    count: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Shard, ShardSource), SweepError> {
    let (index, count, source) = match (index, count) {
        (Some(i), Some(n)) => (i, n, ShardSource::Flags),
        (Some(_), None) | (None, Some(_)) => {
            return Err(SweepError::input(
                "--shard-index and --shard-count go together",
            ))
        }
        (None, None) => {
            if let (Some(id), Some(n)) = (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT"))
            {
                let id = parse_env("SLURM_ARRAY_TASK_ID", &id)?;
                let min = match env("SLURM_ARRAY_TASK_MIN") {
                    Some(m) => parse_env("SLURM_ARRAY_TASK_MIN", &m)?,
                    None => 0,
                };
                let n = parse_env("SLURM_ARRAY_TASK_COUNT", &n)?;
                if id < min {
                    return Err(SweepError::input(format!(
                        "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                    )));
                }
                (id - min, n, ShardSource::Slurm)
            } else if let Some(id) = env("JOB_COMPLETION_INDEX") {
                let id = parse_env("JOB_COMPLETION_INDEX", &id)?;
                let n = env("CACHEPLAN_SHARD_COUNT").ok_or_else(|| {
                    SweepError::input(
                        "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but \
                         CACHEPLAN_SHARD_COUNT is not\n  hint: set it to the Job's completions",
                    )
                })?;
                (
                    id,
                    parse_env("CACHEPLAN_SHARD_COUNT", &n)?,
                    ShardSource::Kubernetes,
                )
            } else {
                return Ok((Shard::WHOLE, ShardSource::None));
            }
        }
    };
    if count == 0 {
        return Err(SweepError::input("the shard count must be at least 1"));
    }
    if index >= count {
        return Err(SweepError::input(format!(
            "shard index {index} is out of range for {count} shard(s) (indices 0..{})",
            count - 1
        )));
    }
    Ok((Shard { index, count }, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shards_come_from_flags_slurm_or_kubernetes() {
        let none = env_of(&[]);
        assert_eq!(resolve(None, None, &none).unwrap().0, Shard::WHOLE);
        assert_eq!(
            resolve(Some(1), Some(3), &none).unwrap(),
            (Shard { index: 1, count: 3 }, ShardSource::Flags)
        );
        let slurm = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            resolve(None, None, &slurm).unwrap(),
            (Shard { index: 1, count: 4 }, ShardSource::Slurm)
        );
        let k8s = env_of(&[
            ("JOB_COMPLETION_INDEX", "2"),
            ("CACHEPLAN_SHARD_COUNT", "3"),
        ]);
        assert_eq!(
            resolve(None, None, &k8s).unwrap(),
            (Shard { index: 2, count: 3 }, ShardSource::Kubernetes)
        );
        assert!(resolve(Some(3), Some(3), &none).is_err());
        assert!(resolve(Some(0), None, &none).is_err());
        assert!(resolve(None, None, &env_of(&[("JOB_COMPLETION_INDEX", "0")])).is_err());
        let s = Shard { index: 1, count: 3 };
        assert_eq!((0..7).filter(|&i| s.owns(i)).collect::<Vec<_>>(), [1, 4]);
    }
}
