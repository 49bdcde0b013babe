//! The trace-replay driver: reads a request source once, in bounded batches, gives each request
//! its time (from the trace, a fixed rate, or a real run's timeline) and feeds every batch to all
//! caches in parallel (one rayon task per cache, so results do not depend on the thread count),
//! counting hits, misses and bytes per cache. It owns no cache policy and writes nothing.

use super::timeline::{Timeline, TimelineError};
use super::{EndFigures, ReplayCache};
use crate::workload::trace::TraceRequest;
use rayon::prelude::*;
use std::fmt;

/// Requests read and fed per batch: bounds memory whatever the trace length.
pub const BATCH_REQUESTS: usize = 65_536;

/// The latest request time the replay accepts, in ms: simulated time is a `u64` count of
/// nanoseconds (about 584 years), and the Redis model runs on it.
pub const MAX_TIME_MS: u64 = u64::MAX / 1_000_000;

/// Which clock gave a request its time (for errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockKind {
    /// The trace's own times.
    Trace,
    /// `TimeSource::Rate`.
    Rate,
    /// `TimeSource::Timeline`.
    Timeline,
}

/// Error type a request source returns.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A stream of trace requests (the trace readers' `TraceSource` shape).
pub trait RequestSource: Send {
    /// Appends up to `max` requests to `buf` (which the driver clears first) and returns how many;
    /// `Ok(0)` means the end of the trace.
    fn next_batch(&mut self, buf: &mut Vec<TraceRequest>, max: usize)
        -> Result<usize, SourceError>;
}

/// An in-memory request source over a slice (tests, benchmarks, small generated traces).
pub struct SliceSource<'a> {
    requests: &'a [TraceRequest],
    next: usize,
}

impl<'a> SliceSource<'a> {
    /// A source serving `requests` in order.
    pub fn new(requests: &'a [TraceRequest]) -> SliceSource<'a> {
        SliceSource { requests, next: 0 }
    }
}

impl RequestSource for SliceSource<'_> {
    fn next_batch(
        &mut self,
        buf: &mut Vec<TraceRequest>,
        max: usize,
    ) -> Result<usize, SourceError> {
        let end = self.next.saturating_add(max).min(self.requests.len());
        buf.extend_from_slice(&self.requests[self.next..end]);
        let n = end - self.next;
        self.next = end;
        Ok(n)
    }
}

/// Where request times come from.
#[derive(Clone, Debug)]
pub enum TimeSource {
    /// Each request's own `time_ms`.
    Trace,
    /// A fixed rate: request `i` (0-based) at `floor(i * 1000 / requests_per_s)` ms.
    Rate {
        /// Requests per second (finite, > 0).
        requests_per_s: f64,
    },
    /// A real run's timeline: absolute unix ms, interpolated within each batch.
    Timeline(Timeline),
}

/// One cache to replay the trace through.
pub struct ReplayJob {
    /// Policy label for the output (for example `"lru"`).
    pub label_policy: String,
    /// The cache size as the user gave it (bytes, or objects), for the output.
    pub cache_size: u64,
    /// The cache, empty.
    pub cache: Box<dyn ReplayCache>,
}

/// What one cache scored over a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayResult {
    /// Policy label, from the job.
    pub policy: String,
    /// Cache size as the user gave it, from the job.
    pub cache_size: u64,
    /// Requests replayed.
    pub n_req: u64,
    /// Hits.
    pub n_hit: u64,
    /// Misses (`n_req - n_hit`).
    pub n_miss: u64,
    /// Sum of the requests' `obj_size` (the trace's own sizes, even when the cache ignores sizes).
    pub n_req_byte: u64,
    /// Sum of `obj_size` over the missed requests.
    pub n_miss_byte: u64,
    /// Hits from the split request index on; `None` without a split.
    pub hits_after_split: Option<u64>,
    /// Requests from the split request index on; `None` without a split.
    pub n_req_after_split: Option<u64>,
    /// The cache's own end-of-run figures.
    pub end: EndFigures,
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

impl ReplayResult {
    /// `n_hit / n_req`; `None` for an empty trace.
    pub fn hit_ratio(&self) -> Option<f64> {
        ratio(self.n_hit, self.n_req)
    }
    /// `n_miss / n_req`; `None` for an empty trace.
    pub fn miss_ratio(&self) -> Option<f64> {
        ratio(self.n_miss, self.n_req)
    }
    /// `n_miss_byte / n_req_byte`; `None` when no bytes were requested.
    pub fn byte_miss_ratio(&self) -> Option<f64> {
        ratio(self.n_miss_byte, self.n_req_byte)
    }
    /// Hit ratio from the split on; `None` without a split or with no request after it.
    pub fn hit_ratio_after_split(&self) -> Option<f64> {
        ratio(self.hits_after_split?, self.n_req_after_split?)
    }
}

/// Why a replay stopped.
#[derive(Debug)]
pub enum ReplayError {
    /// The request source failed.
    Source {
        /// Index of the first request of the batch that could not be read.
        request_index: u64,
        /// The source's error.
        source: SourceError,
    },
    /// The timeline has no time for a request (or other timeline trouble).
    Timeline(TimelineError),
    /// `TimeSource::Rate` with a rate that is not a finite number > 0.
    BadRate {
        /// The rate given.
        requests_per_s: f64,
    },
    /// A request's time lies past `MAX_TIME_MS`, where simulated time (u64 ns) would wrap.
    TimeOutOfRange {
        /// The 0-based request index.
        request_index: u64,
        /// The time the clock gave it in ms, as text (a rate's time can exceed any integer).
        time_ms: String,
        /// Which clock.
        clock: ClockKind,
        /// The rate, for `ClockKind::Rate`.
        requests_per_s: f64,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Source {
                request_index,
                source,
            } => {
                let _ = request_index; // the source's message names the record
                write!(f, "{source}")
            }
            ReplayError::Timeline(e) => write!(f, "{e}"),
            ReplayError::BadRate { requests_per_s } => write!(
                f,
                "request rate must be a finite number of requests/s above 0, got {requests_per_s}"
            ),
            ReplayError::TimeOutOfRange {
                request_index,
                time_ms,
                clock,
                requests_per_s,
            } => {
                let record = request_index + 1;
                match clock {
                    ClockKind::Trace => write!(f, "request {record} has trace time {time_ms} ms"),
                    ClockKind::Rate => write!(
                        f,
                        "--rate {requests_per_s}: request {record} would come at {time_ms} ms"
                    ),
                    ClockKind::Timeline => {
                        write!(f, "request {record} has timeline time {time_ms} ms")
                    }
                }?;
                write!(
                    f,
                    ", past the end of simulated time ({MAX_TIME_MS} ms, about 584 years: a \
                     u64 count of nanoseconds)"
                )
            }
        }
    }
}

impl std::error::Error for ReplayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReplayError::Source { source, .. } => Some(source.as_ref()),
            ReplayError::Timeline(e) => Some(e),
            ReplayError::BadRate { .. } | ReplayError::TimeOutOfRange { .. } => None,
        }
    }
}

impl From<TimelineError> for ReplayError {
    fn from(e: TimelineError) -> ReplayError {
        ReplayError::Timeline(e)
    }
}

/// Per-job counters during a replay.
struct JobState {
    job: ReplayJob,
    n_hit: u64,
    n_miss_byte: u64,
    hits_after_split: u64,
}

impl JobState {
    /// Feeds one batch; requests at batch offsets `>= split_offset` also count after the split.
    fn feed(&mut self, batch: &[TraceRequest], times_ms: &[u64], split_offset: usize) {
        let cache = self.job.cache.as_mut();
        for (k, (req, &now_ms)) in batch.iter().zip(times_ms).enumerate() {
            if cache.access(req, now_ms) {
                self.n_hit += 1;
                if k >= split_offset {
                    self.hits_after_split += 1;
                }
            } else {
                self.n_miss_byte += req.obj_size as u64;
            }
        }
    }
}

/// Replays `source` through every job's cache; results come in the order of `jobs`.
/// `split_index`: also count hits and requests from that request index (0-based) on.
pub fn replay(
    source: &mut dyn RequestSource,
    jobs: Vec<ReplayJob>,
    time: &TimeSource,
    split_index: Option<u64>,
) -> Result<Vec<ReplayResult>, ReplayError> {
    if let TimeSource::Rate { requests_per_s } = *time {
        if !(requests_per_s.is_finite() && requests_per_s > 0.0) {
            return Err(ReplayError::BadRate { requests_per_s });
        }
    }
    let mut states: Vec<JobState> = jobs
        .into_iter()
        .map(|job| JobState {
            job,
            n_hit: 0,
            n_miss_byte: 0,
            hits_after_split: 0,
        })
        .collect();
    let mut cursor = match time {
        TimeSource::Timeline(t) => Some(t.cursor()),
        _ => None,
    };
    let mut batch: Vec<TraceRequest> = Vec::with_capacity(BATCH_REQUESTS);
    let mut times_ms: Vec<u64> = Vec::with_capacity(BATCH_REQUESTS);
    let mut n_req: u64 = 0;
    let mut n_req_byte: u64 = 0;
    let mut n_req_after_split: u64 = 0;
    loop {
        batch.clear();
        let n = source
            .next_batch(&mut batch, BATCH_REQUESTS)
            .map_err(|source| ReplayError::Source {
                request_index: n_req,
                source,
            })?;
        if n == 0 || batch.is_empty() {
            break;
        }
        let first_index = n_req;
        times_ms.clear();
        let out_of_range = |offset: usize, time_ms: String, clock: ClockKind| {
            let requests_per_s = match time {
                TimeSource::Rate { requests_per_s } => *requests_per_s,
                _ => 0.0,
            };
            ReplayError::TimeOutOfRange {
                request_index: first_index + offset as u64,
                time_ms,
                clock,
                requests_per_s,
            }
        };
        match time {
            TimeSource::Trace => times_ms.extend(batch.iter().map(|r| r.time_ms)),
            TimeSource::Rate { requests_per_s } => {
                // `i * 1000` is exact in f64 below 2^53, so one correctly rounded division
                // lands exactly on whole milliseconds when the true value is whole.
                for i in first_index..first_index + batch.len() as u64 {
                    let t = ((i as f64 * 1000.0) / requests_per_s).floor();
                    if !(t <= MAX_TIME_MS as f64) {
                        let offset = (i - first_index) as usize;
                        return Err(out_of_range(offset, format!("{t:e}"), ClockKind::Rate));
                    }
                    times_ms.push(t as u64);
                }
            }
            TimeSource::Timeline(_) => {
                let cursor = cursor.as_mut().expect("cursor exists for a timeline");
                for i in first_index..first_index + batch.len() as u64 {
                    times_ms.push(cursor.time_ms(i)?);
                }
            }
        }
        if let Some(offset) = times_ms.iter().position(|&t| t > MAX_TIME_MS) {
            let clock = match time {
                TimeSource::Timeline(_) => ClockKind::Timeline,
                _ => ClockKind::Trace,
            };
            return Err(out_of_range(offset, times_ms[offset].to_string(), clock));
        }
        let split_offset = match split_index {
            Some(split) => split.saturating_sub(first_index).min(batch.len() as u64) as usize,
            None => batch.len(),
        };
        if states.len() == 1 {
            states[0].feed(&batch, &times_ms, split_offset);
        } else {
            states
                .par_iter_mut()
                .for_each(|s| s.feed(&batch, &times_ms, split_offset));
        }
        n_req += batch.len() as u64;
        n_req_byte += batch.iter().map(|r| r.obj_size as u64).sum::<u64>();
        n_req_after_split += (batch.len() - split_offset) as u64;
    }
    Ok(states
        .into_iter()
        .map(|s| ReplayResult {
            policy: s.job.label_policy,
            cache_size: s.job.cache_size,
            n_req,
            n_hit: s.n_hit,
            n_miss: n_req - s.n_hit,
            n_req_byte,
            n_miss_byte: s.n_miss_byte,
            hits_after_split: split_index.map(|_| s.hits_after_split),
            n_req_after_split: split_index.map(|_| n_req_after_split),
            end: s.job.cache.end_figures(),
        })
        .collect())
}

/// Adapts a trace reader to the driver's `RequestSource`.
pub struct TraceSourceAdapter(pub Box<dyn crate::workload::trace::TraceSource>);

impl RequestSource for TraceSourceAdapter {
    fn next_batch(
        &mut self,
        buf: &mut Vec<TraceRequest>,
        max: usize,
    ) -> Result<usize, SourceError> {
        self.0
            .next_batch(buf, max)
            .map_err(|e| Box::new(e) as SourceError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::exact::ExactPolicy;
    use crate::replay::timeline::TimelineRow;

    /// Records the times it is given; hits every second request.
    struct TimeRecorder {
        times_ms: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
    }

    impl ReplayCache for TimeRecorder {
        fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
            self.times_ms.lock().unwrap().push(now_ms);
            req.obj_id.is_multiple_of(2)
        }
        fn end_figures(&self) -> EndFigures {
            EndFigures::default()
        }
    }

    fn trace(n: u64) -> Vec<TraceRequest> {
        (0..n)
            .map(|i| TraceRequest {
                time_ms: i * 7,
                obj_id: i,
                obj_size: 10,
                value_size: 10,
                ..Default::default()
            })
            .collect()
    }

    fn times_with(time: &TimeSource, n: u64) -> Result<Vec<u64>, ReplayError> {
        let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let requests = trace(n);
        let jobs = vec![ReplayJob {
            label_policy: "rec".into(),
            cache_size: 1,
            cache: Box::new(TimeRecorder {
                times_ms: times.clone(),
            }),
        }];
        replay(&mut SliceSource::new(&requests), jobs, time, None)?;
        let v = times.lock().unwrap().clone();
        Ok(v)
    }

    #[test]
    fn time_sources() {
        assert_eq!(
            times_with(&TimeSource::Trace, 4).unwrap(),
            vec![0, 7, 14, 21]
        );
        let rate = TimeSource::Rate {
            requests_per_s: 3.0,
        };
        assert_eq!(times_with(&rate, 4).unwrap(), vec![0, 333, 666, 1000]);
        let timeline = Timeline::from_rows(vec![
            TimelineRow {
                req_index: 0,
                unix_ms_send: 100,
                unix_ms_recv: 104,
            },
            TimelineRow {
                req_index: 2,
                unix_ms_send: 200,
                unix_ms_recv: 210,
            },
        ])
        .unwrap();
        let tl = TimeSource::Timeline(timeline);
        assert_eq!(times_with(&tl, 4).unwrap(), vec![100, 102, 200, 205]);
        match times_with(&tl, 5) {
            Err(ReplayError::Timeline(TimelineError::TooShort { request_index, .. })) => {
                assert_eq!(request_index, 4)
            }
            other => panic!("expected a too-short timeline error, got {other:?}"),
        }
        let bad = TimeSource::Rate {
            requests_per_s: 0.0,
        };
        assert!(matches!(
            times_with(&bad, 1),
            Err(ReplayError::BadRate { .. })
        ));
    }

    #[test]
    fn times_past_the_u64_ns_range_are_errors_not_wraps() {
        let rate = TimeSource::Rate {
            requests_per_s: 1e-9,
        };
        // Request i comes at i * 1e12 ms: request 19 (0-based) is the first past 1.8e13 ms.
        assert_eq!(times_with(&rate, 19).unwrap()[18], 18_000_000_000_000);
        let err = times_with(&rate, 20).unwrap_err();
        assert!(matches!(
            err,
            ReplayError::TimeOutOfRange {
                request_index: 19,
                clock: ClockKind::Rate,
                ..
            }
        ));
        let text = err.to_string();
        assert!(text.contains("--rate 0.000000001: request 20 would come at 1.9e13 ms, past the end of simulated time"), "{text}");
        let tiny = TimeSource::Rate {
            requests_per_s: 1e-300,
        };
        assert!(times_with(&tiny, 2).is_err());
        // The trace's own clock.
        let mut requests = trace(3);
        requests[2].time_ms = MAX_TIME_MS + 1;
        let jobs = vec![ReplayJob {
            label_policy: "lru".into(),
            cache_size: 1,
            cache: ExactPolicy::Lru.build(1, true),
        }];
        let err = replay(
            &mut SliceSource::new(&requests),
            jobs,
            &TimeSource::Trace,
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "request 3 has trace time {} ms, past the end of simulated time \
                 (18446744073709 ms, about 584 years: a u64 count of nanoseconds)",
                MAX_TIME_MS + 1
            )
        );
    }

    #[test]
    fn counts_and_split_across_batches() {
        let n = BATCH_REQUESTS as u64 * 2 + 10;
        let requests = trace(n);
        let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let jobs = vec![ReplayJob {
            label_policy: "rec".into(),
            cache_size: 1,
            cache: Box::new(TimeRecorder { times_ms: times }),
        }];
        let split = BATCH_REQUESTS as u64 + 5;
        let r = replay(
            &mut SliceSource::new(&requests),
            jobs,
            &TimeSource::Trace,
            Some(split),
        )
        .unwrap();
        let r = &r[0];
        assert_eq!(r.n_req, n);
        assert_eq!(r.n_hit, n / 2);
        assert_eq!(r.n_miss, n - n / 2);
        assert_eq!(r.n_req_byte, 10 * n);
        assert_eq!(r.n_miss_byte, 10 * (n - n / 2));
        assert_eq!(r.n_req_after_split, Some(n - split));
        // Even ids hit; from an odd split index on, half of an even count are even.
        assert_eq!(r.hits_after_split, Some((n - split) / 2));
        assert_eq!(
            r.hit_ratio_after_split(),
            Some(((n - split) / 2) as f64 / (n - split) as f64)
        );
    }

    #[test]
    fn parallel_jobs_give_the_same_results_as_single_runs_in_order() {
        let Some(requests) = crate::replay::exact::tests::read_cloud_physics_oracle_general(
            "parallel_jobs_give_the_same_results_as_single_runs_in_order",
        ) else {
            return;
        };
        let sizes = [500u64, 5_000, 20_000];
        let make_jobs = |policies: &[ExactPolicy]| -> Vec<ReplayJob> {
            policies
                .iter()
                .flat_map(|&p| {
                    sizes.iter().map(move |&s| ReplayJob {
                        label_policy: p.name().to_string(),
                        cache_size: s,
                        cache: p.build(s, true),
                    })
                })
                .collect()
        };
        let all = replay(
            &mut SliceSource::new(&requests),
            make_jobs(&ExactPolicy::ALL),
            &TimeSource::Trace,
            Some(50_000),
        )
        .unwrap();
        assert_eq!(all.len(), ExactPolicy::ALL.len() * sizes.len());
        for (k, result) in all.iter().enumerate() {
            let policy = ExactPolicy::ALL[k / sizes.len()];
            let size = sizes[k % sizes.len()];
            assert_eq!(
                (result.policy.as_str(), result.cache_size),
                (policy.name(), size)
            );
            let alone = replay(
                &mut SliceSource::new(&requests),
                make_jobs(&[policy])
                    .into_iter()
                    .filter(|j| j.cache_size == size)
                    .collect(),
                &TimeSource::Trace,
                Some(50_000),
            )
            .unwrap();
            assert_eq!(&alone[0], result);
        }
        // The same on a one-thread pool.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let one_thread = pool
            .install(|| {
                replay(
                    &mut SliceSource::new(&requests),
                    make_jobs(&ExactPolicy::ALL),
                    &TimeSource::Trace,
                    Some(50_000),
                )
            })
            .unwrap();
        assert_eq!(one_thread, all);
        assert_eq!(all[0].n_miss, 95_398);
        assert_eq!(all[5].n_miss, 72_229);
    }

    #[test]
    fn source_errors_name_the_request_index() {
        struct Failing(u64);
        impl RequestSource for Failing {
            fn next_batch(
                &mut self,
                buf: &mut Vec<TraceRequest>,
                max: usize,
            ) -> Result<usize, SourceError> {
                if self.0 == 0 {
                    return Err("truncated record".into());
                }
                let n = (self.0 as usize).min(max);
                buf.extend((0..n).map(|_| TraceRequest::default()));
                self.0 -= n as u64;
                Ok(n)
            }
        }
        let jobs = vec![ReplayJob {
            label_policy: "lru".into(),
            cache_size: 1,
            cache: ExactPolicy::Lru.build(1, true),
        }];
        let err = replay(&mut Failing(70_000), jobs, &TimeSource::Trace, None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("truncated"), "{text}");
        match err {
            ReplayError::Source { request_index, .. } => assert_eq!(request_index, 70_000),
            other => panic!("{other}"),
        }
    }
}
