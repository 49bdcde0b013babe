//! The arrival source: each keyspace's next arrival (a Poisson process whose rate is piecewise
//! constant by hour of day and bursts) and the tenant and key draws that run ahead of it.
//! `sim` sees only `peek` (the earliest pending arrival's time and sequence number) and `next`
//! (take it and schedule its keyspace's following one); how the draws run ahead is kept here.
//!
//! Speed without changing the model: draws run two arrivals ahead in three steps so that each
//! step's memory is fetched while other work goes on. Two arrivals ahead the popularity
//! table's line is fetched; one ahead the draw is resolved, its key computed and its dict
//! bucket (or rate-limit state) fetched; for the arrival just scheduled, the bucket is read
//! and the chain's first entry (or the sliding window's ends) fetched. A key resolved ahead
//! carries the keyspace's version it was computed under, so a new version between the two
//! recomputes it. Prefetches are hints through `Lookahead`, which reads and never changes.

use super::node::Node;
use super::traffic::{Pending, Placement};
use super::{Event, KsClient};
use crate::engine::{EventQueue, RngStream, SimTime};
use crate::scenario::dist::{Dist, DrawBuffer};
use crate::scenario::{Operation, RateLimitAlgorithm, Scenario};
use std::collections::VecDeque;

/// One arrival, as `next` hands it to `sim`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Arrival {
    /// Its keyspace.
    pub(super) ks: usize,
    /// When it happens.
    pub(super) at: SimTime,
    /// Its tenant.
    pub(super) tenant: usize,
    /// Its key draw (resolved by the keyspace's sampler; possibly keyed ahead).
    pub(super) pending: Pending,
    /// The application instance it reaches.
    pub(super) instance: u16,
}

/// What the draws running ahead may read to prefetch: where keys live, the shards and the
/// rate limiters. Reading never changes a result.
pub(super) struct Lookahead<'s> {
    pub(super) place: Placement<'s>,
    pub(super) nodes: &'s [Node],
    pub(super) clients: &'s [KsClient],
}

/// Every keyspace's pending arrival and its draws ahead.
pub(super) struct Arrivals {
    /// Per keyspace: the time of its next arrival in ns (`u64::MAX`: none before the end)
    /// and its sequence number from the event queue's counter. Each keyspace has exactly one
    /// pending, so they wait here rather than in the queue; `sim` takes the earlier by (time,
    /// sequence number), so equal times run in the order they were scheduled.
    at: Vec<(u64, u64)>,
    /// The keyspace whose entry of `at` is earliest (kept up to date by every change of `at`,
    /// so a peek is one read).
    first: usize,
    /// Per keyspace: unit exponentials spent by the arrival process.
    work: Vec<DrawBuffer>,
    /// Per keyspace: tenant, key and instance draws.
    key_rng: Vec<RngStream>,
    /// Per keyspace: tenant and key draws of the next two arrivals, oldest first.
    draws: Vec<VecDeque<(usize, Pending)>>,
    /// Per keyspace: the rate segment last worked out (`rate_segment` of its first time):
    /// every time from its start to its end has the same multiplier and end.
    segment: Vec<Segment>,
}

/// A span of time over which a keyspace's rate multiplier does not change.
#[derive(Clone, Copy, Debug)]
struct Segment {
    start: SimTime,
    end: SimTime,
    multiplier: f64,
}

impl Arrivals {
    /// The arrival streams of `scn`'s keyspaces under run seed `seed` (named by keyspace,
    /// never by plan: every plan sees the same traffic). Nothing is scheduled yet (`start`).
    pub(super) fn new(scn: &Scenario, seed: u64) -> Arrivals {
        let named = |what: &str| -> Vec<RngStream> {
            scn.keyspaces
                .iter()
                .map(|k| RngStream::named(seed, &format!("keyspace/{}/{what}", k.name)))
                .collect()
        };
        let n_ks = scn.keyspaces.len();
        Arrivals {
            at: vec![(u64::MAX, u64::MAX); n_ks],
            first: 0,
            work: named("arrivals")
                .into_iter()
                .map(|rng| DrawBuffer::new(Dist::Exponential(1.0), rng))
                .collect(),
            key_rng: named("keys"),
            draws: vec![VecDeque::with_capacity(3); n_ks],
            segment: vec![
                Segment {
                    start: SimTime::ZERO,
                    end: SimTime::ZERO,
                    multiplier: 0.0,
                };
                n_ks
            ],
        }
    }

    /// Schedules keyspace `ks`'s first arrival after time 0.
    pub(super) fn start<E>(&mut self, ks: usize, look: &Lookahead, queue: &mut EventQueue<E>) {
        self.draw_next_key(ks, look);
        self.draw_next_key(ks, look);
        self.schedule(ks, SimTime::ZERO, look, queue);
        self.first = self.earliest();
    }

    /// The earliest pending arrival's (time in ns, sequence number): `u64::MAX` when none is
    /// left before the end.
    #[inline]
    pub(super) fn peek(&self) -> (u64, u64) {
        self.at[self.first]
    }

    /// Takes the earliest pending arrival and schedules its keyspace's next one.
    pub(super) fn next(&mut self, look: &Lookahead, queue: &mut EventQueue<Event>) -> Arrival {
        let ks = self.first;
        let at = SimTime(self.at[ks].0);
        self.at[ks] = (u64::MAX, u64::MAX);
        let (tenant, pending) = self.draws[ks]
            .pop_front()
            .expect("a draw is made for every scheduled arrival");
        self.schedule(ks, at, look, queue);
        self.first = self.earliest();
        let instance = self.key_rng[ks].below(look.place.scn.app_instances as u64) as u16;
        Arrival {
            ks,
            at,
            tenant,
            pending,
            instance,
        }
    }

    /// The keyspace whose pending arrival is earliest by (time, sequence number).
    #[inline]
    fn earliest(&self) -> usize {
        let (mut ks, mut first) = (0, (u64::MAX, u64::MAX));
        for (k, &at) in self.at.iter().enumerate() {
            if at < first {
                (ks, first) = (k, at);
            }
        }
        ks
    }

    /// Schedules the next arrival of `ks` after `from`: a Poisson process whose rate is
    /// piecewise constant (`rate_segment`), drawn exactly by spending one unit exponential
    /// across the segments (the time-change construction), without thinning; then moves the
    /// draws ahead one step.
    fn schedule<E>(
        &mut self,
        ks: usize,
        from: SimTime,
        look: &Lookahead,
        queue: &mut EventQueue<E>,
    ) {
        let scn = look.place.scn;
        let base_per_s = scn.keyspaces[ks].rate_per_s;
        let mut work = self.work[ks].sample();
        let mut t = from;
        loop {
            let (m, end) = self.rate_segment(scn, ks, t);
            let rate = base_per_s * m;
            if rate > 0.0 {
                let at = SimTime(t.0.saturating_add(SimTime::from_secs_f64(work / rate).0));
                if at < end {
                    t = at;
                    break;
                }
                work = (work - rate * (end - t).as_secs_f64()).max(0.0);
            }
            t = end;
            if t >= scn.duration {
                return;
            }
        }
        if t >= scn.duration {
            return;
        }
        self.at[ks] = (t.0, queue.take_seq());
        self.prefetch_ahead(ks, t, look);
        self.draw_next_key(ks, look);
    }

    /// `rate_segment(scn, ks, t)`, from the keyspace's last segment while `t` lies in it
    /// (two divisions and a walk over the bursts saved on nearly every arrival).
    #[inline]
    fn rate_segment(&mut self, scn: &Scenario, ks: usize, t: SimTime) -> (f64, SimTime) {
        let seg = &mut self.segment[ks];
        if t < seg.start || t >= seg.end {
            let (multiplier, end) = rate_segment(scn, ks, t);
            *seg = Segment {
                start: t,
                end,
                multiplier,
            };
        }
        (seg.multiplier, seg.end)
    }

    /// The pipeline's later two steps for keyspace `ks`, whose arrival at `t` was just
    /// scheduled (see the module's doc).
    #[inline]
    fn prefetch_ahead(&mut self, ks: usize, t: SimTime, look: &Lookahead) {
        let place = &look.place;
        let k = &place.scn.keyspaces[ks];
        let samplers = &place.traffic.samplers[ks];
        if let Some(&(tenant, pending)) = self.draws[ks].front() {
            let rate_limit = k.operation == Operation::RateLimit;
            if rate_limit && !matches!(pending, Pending::Zipf(_)) {
                let item = samplers[tenant].resolve(pending);
                let actor = place.actor_number(ks, tenant, item);
                look.clients[ks].rate.prefetch_window(actor);
            }
            match pending {
                Pending::Keyed { key, shard, .. } => {
                    look.nodes[shard as usize].shard.db().prefetch_entry(key.id);
                }
                Pending::Ready(item)
                    if rate_limit && k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow =>
                {
                    // A fixed window's key names the arrival's window, known only now.
                    let window = (t.as_ns() / k.window.as_ns()) << 32;
                    let (key, shard) = place.key_for(ks, tenant, item ^ window);
                    look.nodes[shard as usize].shard.db().prefetch(key.id);
                }
                _ => {}
            }
        }
        if let Some(&(tenant, pending)) = self.draws[ks].get(1) {
            let item = samplers[tenant].resolve(pending);
            let resolved = match k.operation {
                Operation::Idempotency => Pending::Ready(item),
                Operation::RateLimit
                    if k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow =>
                {
                    let actor = place.actor_number(ks, tenant, item);
                    look.clients[ks].rate.prefetch(actor);
                    Pending::Ready(item)
                }
                op => {
                    if op == Operation::RateLimit {
                        let actor = place.actor_number(ks, tenant, item);
                        look.clients[ks].rate.prefetch(actor);
                    }
                    let (key, shard) = place.key_for(ks, tenant, item);
                    look.nodes[shard as usize].shard.db().prefetch(key.id);
                    Pending::Keyed {
                        item,
                        key,
                        shard,
                        version: place.version[ks],
                    }
                }
            };
            self.draws[ks][1] = (tenant, resolved);
        }
    }

    /// Draws the tenant and key of a future arrival of `ks` (prefetching the popularity
    /// table's line).
    fn draw_next_key(&mut self, ks: usize, look: &Lookahead) {
        let scn = look.place.scn;
        let u = self.key_rng[ks].next_f64();
        let mut tenant = scn.tenants.len() - 1;
        let mut acc = 0.0;
        for (i, tn) in scn.tenants.iter().enumerate() {
            acc += tn.traffic_share;
            if u < acc {
                tenant = i;
                break;
            }
        }
        let item = match scn.keyspaces[ks].operation {
            Operation::Idempotency => Pending::Ready(0),
            _ => look.place.traffic.samplers[ks][tenant].draw(&mut self.key_rng[ks]),
        };
        self.draws[ks].push_back((tenant, item));
    }
}

/// The rate multiplier of keyspace `ks` at `t` (hourly profile times active bursts) and the
/// time it next may change (the next hour boundary or burst start or end): the same for every
/// time from `t` to that end, since the hour and the set of active bursts hold until then.
fn rate_segment(scn: &Scenario, ks: usize, t: SimTime) -> (f64, SimTime) {
    const HOUR_MS: u64 = 3_600_000;
    let k = &scn.keyspaces[ks];
    let unix_ms = scn.start_unix_ms + t.as_ms();
    let mut m = k.hourly_profile[(unix_ms / HOUR_MS % 24) as usize];
    let next_hour_ms = (unix_ms / HOUR_MS + 1) * HOUR_MS - scn.start_unix_ms;
    let mut end = SimTime::from_ms(next_hour_ms);
    for b in &k.bursts {
        if t >= b.start && t < b.end {
            m *= b.multiplier;
            end = end.min(b.end);
        } else if b.start > t {
            end = end.min(b.start);
        }
    }
    (m, end)
}
