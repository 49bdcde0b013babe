//! Origins: the databases and services behind the cache. Each has a connection pool of
//! `concurrency` connections, a service-time distribution, a bounded FIFO wait queue and a
//! timeout for waiting loads. Pure state: the simulation asks it what to do and schedules the
//! completions and timeouts it reports; it never sees Redis or keys.
//!
//! Time only moves forward here: every call is handed the time of the event that makes it
//! (checked by a `MonotoneClock`), so a wait is never computed against a future enqueue. A
//! waiting load times out at its own time (`expire`, at the deadline `arrive` reported): with
//! one timeout per origin and a FIFO queue, the loads due to time out are always the oldest.

use crate::engine::{MonotoneClock, RngStream, SimTime};
use crate::metrics::{LatencyRecorder, OriginMetrics, LATENCY_HIGHEST_US, LATENCY_SIGFIG};
use crate::scenario::dist::DrawBuffer;
use crate::scenario::Origin;
use std::collections::VecDeque;

/// What happened to a load offered to the origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// It got a connection: it completes after `service`.
    Started {
        /// Service time.
        service: SimTime,
    },
    /// It waits for a connection, and gives up at `deadline` if it is still waiting then
    /// (`None`: the timeout lies past the end of simulated time).
    Queued {
        /// When the wait reaches the origin's timeout.
        deadline: Option<SimTime>,
    },
    /// The wait queue is full: rejected.
    Rejected,
}

/// A load that got a connection after waiting, or gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Request `req` starts now, completing after `service`; it waited since `enqueued`.
    Started {
        /// The request.
        req: u32,
        /// Its service time.
        service: SimTime,
    },
    /// Request `req` waited longer than the timeout and fails.
    TimedOut {
        /// The request.
        req: u32,
    },
}

/// One origin's state during a run.
pub struct OriginState {
    busy: u32,
    queue: VecDeque<(u32, SimTime)>,
    /// Service times, ms, from the origin's stream.
    service_ms: DrawBuffer,
    concurrency: u32,
    queue_limit: u32,
    timeout: SimTime,
    /// Figures (totals count only loads flagged `counted`).
    pub metrics: OriginMetrics,
    /// Loads started in the current window.
    pub window_loads: u64,
    /// Most connections in use at once during the current window.
    pub window_peak_busy: u32,
    /// Latency of the loads started in the current window (wait + service), µs.
    pub window_latency_us: LatencyRecorder,
    /// Queue waits of counted loads, µs (`metrics.queue_wait_us` once `finish`ed).
    queue_wait_us: LatencyRecorder,
    clock: MonotoneClock,
}

impl OriginState {
    /// A fresh origin from its scenario settings and its own random stream.
    pub fn new(cfg: &Origin, rng: RngStream) -> OriginState {
        OriginState {
            busy: 0,
            queue: VecDeque::new(),
            service_ms: DrawBuffer::new(cfg.service_time_ms.clone(), rng),
            concurrency: cfg.concurrency,
            queue_limit: cfg.queue_limit,
            timeout: cfg.timeout,
            metrics: OriginMetrics::default(),
            window_loads: 0,
            window_peak_busy: 0,
            window_latency_us: LatencyRecorder::new(LATENCY_HIGHEST_US, LATENCY_SIGFIG),
            queue_wait_us: LatencyRecorder::new(LATENCY_HIGHEST_US, LATENCY_SIGFIG),
            clock: MonotoneClock::default(),
        }
    }

    /// The figures, with the queue waits recorded so far.
    pub fn finish(mut self) -> OriginMetrics {
        self.metrics.queue_wait_us = self.queue_wait_us.histogram();
        self.metrics
    }

    fn start(&mut self, now: SimTime, enqueued: SimTime, counted: bool) -> SimTime {
        if counted {
            self.metrics.loads += 1;
            self.queue_wait_us
                .record(((now - enqueued).as_ns() / 1000).max(1));
        }
        self.window_loads += 1;
        self.window_peak_busy = self.window_peak_busy.max(self.busy);
        let ms = self.service_ms.sample();
        let service = SimTime::from_ns(crate::engine::time::f64_to_u64(ms * 1e6));
        let latency_us = (now - enqueued + service).as_ns() / 1000;
        self.window_latency_us.record(latency_us.max(1));
        service
    }

    /// Connections in use now.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Offers load `req` at `now`.
    pub fn arrive(&mut self, now: SimTime, req: u32, counted: bool) -> Admit {
        self.clock.advance(now, "an origin");
        if self.busy < self.concurrency {
            self.busy += 1;
            self.metrics.peak_concurrency = self.metrics.peak_concurrency.max(self.busy);
            Admit::Started {
                service: self.start(now, now, counted),
            }
        } else if (self.queue.len() as u32) < self.queue_limit {
            self.queue.push_back((req, now));
            self.metrics.peak_queue = self.metrics.peak_queue.max(self.queue.len() as u64);
            Admit::Queued {
                deadline: now.checked_add(self.timeout),
            }
        } else {
            if self.metrics.saturated_since.is_none() {
                self.metrics.saturated_since = Some(now);
            }
            if counted {
                self.metrics.rejected += 1;
            }
            Admit::Rejected
        }
    }

    /// A load finished at `now`: hands its connection to waiting loads. Returns, in order, the
    /// waiting loads that timed out and the one that starts (if any). `counted` tells whether a
    /// request counts in the totals.
    pub fn complete(&mut self, now: SimTime, mut counted: impl FnMut(u32) -> bool) -> Vec<Next> {
        self.clock.advance(now, "an origin");
        let mut out = Vec::new();
        loop {
            let Some((req, enqueued)) = self.queue.pop_front() else {
                self.busy -= 1;
                return out;
            };
            if now - enqueued >= self.timeout {
                // Its timeout event is due at this very time but runs after this completion.
                if counted(req) {
                    self.metrics.timed_out += 1;
                }
                out.push(Next::TimedOut { req });
                continue;
            }
            let service = self.start(now, enqueued, counted(req));
            out.push(Next::Started { req, service });
            return out;
        }
    }

    /// The loads that have waited the origin's timeout by `now` leave the queue: they are
    /// returned, oldest first, to fail. A timeout event whose load has since started finds
    /// nothing to do.
    pub fn expire(&mut self, now: SimTime, mut counted: impl FnMut(u32) -> bool) -> Vec<u32> {
        self.clock.advance(now, "an origin");
        let mut out = Vec::new();
        while let Some(&(req, enqueued)) = self.queue.front() {
            if now - enqueued < self.timeout {
                break;
            }
            self.queue.pop_front();
            if counted(req) {
                self.metrics.timed_out += 1;
            }
            out.push(req);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::dist::Dist;

    fn origin(concurrency: u32, queue_limit: u32) -> OriginState {
        let cfg = Origin {
            name: "db".into(),
            concurrency,
            service_time_ms: Dist::Fixed(10.0),
            queue_limit,
            timeout: SimTime::from_ms(25),
        };
        OriginState::new(&cfg, RngStream::new(1, 1))
    }

    #[test]
    fn pool_queue_timeout_and_rejection() {
        let mut o = origin(1, 1);
        let t0 = SimTime::ZERO;
        assert_eq!(
            o.arrive(t0, 1, true),
            Admit::Started {
                service: SimTime::from_ms(10)
            }
        );
        let deadline = Some(SimTime::from_ms(25));
        assert_eq!(o.arrive(t0, 2, true), Admit::Queued { deadline });
        assert_eq!(o.arrive(t0, 3, true), Admit::Rejected);
        assert_eq!(o.metrics.rejected, 1);
        // Request 2 waited 10 ms: starts.
        let next = o.complete(SimTime::from_ms(10), |_| true);
        assert_eq!(
            next,
            vec![Next::Started {
                req: 2,
                service: SimTime::from_ms(10)
            }]
        );
        let deadline = Some(SimTime::from_ms(35));
        assert_eq!(
            o.arrive(SimTime::from_ms(10), 4, true),
            Admit::Queued { deadline }
        );
        // Request 4 times out at its own deadline, 25 ms after it queued, while request 2
        // still holds the connection.
        assert_eq!(o.expire(SimTime::from_ms(35), |_| true), vec![4]);
        assert_eq!(o.metrics.timed_out, 1);
        // Nothing waits when request 2 finishes: the connection is free.
        assert_eq!(o.complete(SimTime::from_ms(40), |_| true), vec![]);
        assert_eq!(o.busy, 0);
        // A timeout whose load already started finds nothing.
        assert_eq!(o.expire(SimTime::from_ms(60), |_| true), Vec::<u32>::new());
    }

    #[test]
    #[should_panic(expected = "time went back")]
    fn an_origin_refuses_time_going_back() {
        let mut o = origin(1, 4);
        o.arrive(SimTime::from_ms(10), 1, true);
        o.arrive(SimTime::from_ms(9), 2, true);
    }
}
