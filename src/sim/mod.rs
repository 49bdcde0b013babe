//! One plan's simulation: wires traffic, application instances and their strategies, Redis
//! shards and origins on the event engine, and owns the closed `enum Event` and its dispatch.
//!
//! Request path: a keyspace's arrival picks a tenant, a key and an application instance; the
//! instance may answer from its local L1 cache or join a load already in flight (coalescing);
//! otherwise the command goes to the shard owning the key's slot (half a round trip), the
//! shard's single thread serves commands in arrival order (Lindley recursion over
//! `busy_until`: queueing, eviction and expiry work all delay later commands), the reply comes
//! back (the other half), and on a miss the strategy decides: load from the origin's connection
//! pool and write back (cache-aside), take a Redis lock first (single-flight), serve stale and
//! refresh in the background (stale-while-revalidate), or recompute early (XFetch).
//!
//! Traffic uses streams named by keyspace, never by plan, so every plan sees the same requests
//! (common random numbers).
//!
//! Faults (`faults`) change shards, the network and pub/sub delivery on the timeline; when a
//! Redis call fails the keyspace's fallback policy decides (retry, origin behind a bulkhead,
//! fail open or closed, skip the lock). The business-invariant monitors (`invariants`) watch
//! every read, lock and critical command and count violations with their time.

mod faults;
mod invariants;
mod projection;
mod stationary;
mod warm;

pub use invariants::monitored;

use crate::client::{
    xfetch_recompute, Breaker, Coalescer, LocalCache, RateLimiters, StampedeTracker, ValueMeta,
};
use crate::engine::IdMap;
use crate::engine::{EventQueue, MonotoneClock, RngStream, SimTime};
use crate::metrics::{
    FaultOutcome, Invariant, KeyspaceMetrics, LatencyRecorder, PlanResult, ShardMetrics, Window,
    LATENCY_HIGHEST_US, LATENCY_SIGFIG, N_INVARIANTS,
};
use crate::origin::{Admit, Next, OriginState};
use crate::redis::db::KeyRef;
use crate::redis::objects;
use crate::redis::shard::{Command, Reply, Shard};
use crate::redis::slots::{key_hash_slot, CLUSTER_SLOTS};
use crate::scenario::dist::{Dist, DrawBuffer};
use crate::scenario::{
    DownMode, EventAction, Jitter, LockWhenDown, Operation, Popularity, RateLimitAlgorithm,
    RateLimitWhenDown, Scenario, Start, StrategyKind,
};
use crate::workload::popularity::{HotSet, PendingDraw, Uniform, Zipf};
use invariants::{Monitor, ValueInfo};
use std::collections::VecDeque;

/// Key popularity sampler of one (keyspace, tenant).
#[derive(Debug)]
enum Sampler {
    Zipf(Zipf),
    Uniform(Uniform),
    HotSet(HotSet),
}

/// A key draw made when the arrival is scheduled and finished when it happens, so the
/// popularity table's cache line can be fetched in between.
#[derive(Clone, Copy, Debug)]
enum Pending {
    Zipf(PendingDraw),
    Ready(u64),
    /// Resolved one arrival ahead, with the key and shard it had then (valid while the
    /// keyspace's version is still `version`).
    Keyed {
        item: u64,
        key: KeyRef,
        shard: u32,
        version: u64,
    },
}

impl Sampler {
    fn draw(&self, rng: &mut RngStream) -> Pending {
        match self {
            Sampler::Zipf(z) => {
                let d = z.draw(rng);
                z.prefetch(d);
                Pending::Zipf(d)
            }
            Sampler::Uniform(u) => Pending::Ready(u.sample(rng)),
            Sampler::HotSet(h) => Pending::Ready(h.sample(rng)),
        }
    }

    /// The number of items (ranks) it draws from.
    fn n(&self) -> u64 {
        match self {
            Sampler::Zipf(z) => z.n(),
            Sampler::Uniform(u) => u.n(),
            Sampler::HotSet(h) => h.n(),
        }
    }

    /// The probability that a draw is item `k`.
    fn probability(&self, k: u64) -> f64 {
        match self {
            Sampler::Zipf(z) => z.probability(k),
            Sampler::Uniform(u) => u.probability(k),
            Sampler::HotSet(h) => h.probability(k),
        }
    }

    fn resolve(&self, p: Pending) -> u64 {
        match (self, p) {
            (Sampler::Zipf(z), Pending::Zipf(d)) => z.resolve(d),
            (_, Pending::Ready(item) | Pending::Keyed { item, .. }) => item,
            _ => unreachable!("a pending draw is resolved by the sampler that made it"),
        }
    }
}

/// Plan-independent traffic tables, built once per scenario and shared by every plan.
#[derive(Debug)]
pub struct Traffic {
    samplers: Vec<Vec<Sampler>>,
    /// Per keyspace and tenant: a fixed slot when the template hashes a tag (`{{tenant}}`).
    tag_slot: Vec<Vec<Option<u16>>>,
    /// Per keyspace and tenant: the number of the tenant's first item among the keyspace's
    /// items of all tenants (the last entry is the total), for dense per-item state.
    item_offset: Vec<Vec<u64>>,
}

impl Traffic {
    /// Builds the samplers of every keyspace and tenant.
    pub fn new(scn: &Scenario) -> Traffic {
        let mut samplers = Vec::new();
        let mut tag_slot = Vec::new();
        let mut item_offset = Vec::new();
        for ks in &scn.keyspaces {
            let mut per_tenant = Vec::new();
            let mut slots = Vec::new();
            let mut offsets = vec![0];
            let ns: Vec<u64> = scn
                .tenants
                .iter()
                .map(|t| ((ks.keys_per_tenant as f64 * t.size).round() as u64).max(1))
                .collect();
            let mut zipfs = match ks.popularity {
                Popularity::Zipf(a) => Zipf::family(&ns, a)
                    .unwrap_or_else(|e| panic!("validated popularity: {e}"))
                    .into_iter()
                    .map(Some)
                    .collect(),
                _ => vec![None; ns.len()],
            };
            for (ti, t) in scn.tenants.iter().enumerate() {
                let n = ns[ti];
                offsets.push(offsets[offsets.len() - 1] + n);
                per_tenant.push(match ks.popularity {
                    Popularity::Zipf(_) => {
                        Sampler::Zipf(zipfs[ti].take().expect("one table per tenant"))
                    }
                    Popularity::Uniform => Sampler::Uniform(Uniform::new(n)),
                    Popularity::HotSet {
                        hot_keys_fraction,
                        hot_requests_fraction,
                    } => Sampler::HotSet(HotSet::new(n, hot_keys_fraction, hot_requests_fraction)),
                });
                let tagged = ks.key_template.contains("{{tenant}}")
                    || ks.key_template.contains("{{tenantId}}");
                slots.push(tagged.then(|| key_hash_slot(t.name.as_bytes())));
            }
            samplers.push(per_tenant);
            tag_slot.push(slots);
            item_offset.push(offsets);
        }
        Traffic {
            samplers,
            tag_slot,
            item_offset,
        }
    }
}

/// The closed set of events of a plan's simulation.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// A retry of an idempotent command arrives (same key as request `req`'s).
    Retry { req: u32 },
    /// A command reaches its shard.
    AtShard { req: u32 },
    /// An origin finished a load.
    OriginDone { req: u32 },
    /// A single-flight waiter polls again.
    Poll { req: u32 },
    /// A timeline event.
    Timeline { index: u16 },
    /// A time-window boundary.
    WindowEnd,
    /// The end of the warm-up: counters that shards keep are snapshotted here.
    WarmupEnd,
    /// Fault `index` starts.
    FaultStart { index: u16 },
    /// Fault `index` ends.
    FaultEnd { index: u16 },
    /// A failed first Redis call is sent again (`fallback.redis_retries`).
    Resend { req: u32 },
    /// A Redis call was refused (its shard is down): the error reaches the client.
    RedisFailed { req: u32 },
    /// A shard's main thread is free again and commands wait for it.
    ShardFree { node: u32 },
    /// A command's reply reaches its client.
    Reply { req: u32 },
    /// A client's timeout for its Redis call expires (ignored when the reply came first).
    ClientTimeout { req: u32 },
    /// The oldest load waiting at an origin may have waited its timeout.
    OriginTimeout { origin: u16 },
}

/// Where a request is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The first Redis command of a user request (GET, INCR, SET NX of a lock keyspace).
    First,
    /// Single-flight: `SET lock NX PX` after a miss (the user waits).
    SfLock,
    /// Single-flight: GET after waiting for the lock holder (the user waits).
    SfPoll,
    /// Stale-while-revalidate: `SET lock NX PX` of a background refresh.
    BgLock,
    /// A write-back after a load (SET); nobody waits for it.
    WriteBack,
    /// A TTL refresh on a session hit (PEXPIRE); nobody waits.
    Refresh,
    /// Releasing a lock (DEL); nobody waits.
    Release,
}

const FLAG_COUNTED: u16 = 1;
const FLAG_RETRY: u16 = 2;
const FLAG_BACKGROUND: u16 = 4;
const FLAG_HOLDS_LOCK: u16 = 8;
const FLAG_LEADER: u16 = 16;
/// An idempotent command whose client will retry it (its executions are counted).
const FLAG_WILL_RETRY: u16 = 32;
/// A load sent to the origin because Redis failed (holds a bulkhead slot).
const FLAG_FALLBACK_LOAD: u16 = 64;
/// A read whose value is used as a final price.
const FLAG_FINAL: u16 = 128;
/// A Redis call was sent and neither its reply nor its failure has reached the client yet.
const FLAG_AWAITING: u16 = 512;
/// The command waits in its shard's queue for the main thread.
const FLAG_QUEUED: u16 = 1024;
/// The client gave up on this command before the shard ran it: the shard runs it (its
/// effects on Redis are real) and nobody sees the reply.
const FLAG_ORPHAN: u16 = 2048;
/// Released while a client timeout was still pending: freed when the last one fires.
const FLAG_RELEASED: u16 = 4096;

/// A node's queue entry that is not a request: the DELs of a delete-on-event for keyspace
/// `entry & 0xFFFF` (request ids stay below this).
const DELETE_JOB: u32 = 0xFFFF_0000;

#[derive(Clone, Copy, Debug)]
struct Request {
    ks: u16,
    instance: u16,
    stage: Stage,
    flags: u16,
    tenant: u16,
    /// Redis retries made for the current call.
    attempt: u8,
    /// Lock owner token (lock keyspaces); for rate-limit keyspaces, the entries the actor's
    /// window holds after this request.
    token: u64,
    /// The key of the current command (the lock key while a lock is being taken).
    key: KeyRef,
    /// The value key the request is about.
    value_key: KeyRef,
    /// The stamp of the value the last GET hit returned (`ValueInfo::stamp`; 0 = none).
    stamp: u64,
    shard: u32,
    started: SimTime,
    sent: SimTime,
    /// When the current command reached its shard (the way back takes as long).
    arrived: SimTime,
    waited_since: SimTime,
    load_started: SimTime,
    /// The reply of the current command, held until it reaches the client.
    reply: Reply,
    /// Client-timeout events pending for this slot (it is not reused while any is).
    timers: u8,
}

impl Request {
    fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
}

struct Node {
    shard: Shard,
    busy_until: SimTime,
    /// The main thread's time per command and the client round trip, µs, each drawn from a
    /// stream of its own.
    service_us: DrawBuffer,
    rtt_us: DrawBuffer,
    /// Commands (request ids, or `DELETE_JOB | ks`) waiting for the main thread, in arrival
    /// order; a `ShardFree` event is pending while any wait.
    pending: VecDeque<u32>,
    /// The times handed to this shard never go back.
    clock: MonotoneClock,
    metrics: ShardMetrics,
    window_commands: u64,
    window_busy_ns: u64,
    /// Down by a fault: how clients see it, and the fault's index.
    down: Option<(DownMode, u16)>,
    /// Service-time multiplier (shard-slow faults).
    slow: f64,
    /// Recent writes (time, key) within the replication lag, kept only on a shard that fails
    /// over in this plan.
    recent_writes: Option<VecDeque<(SimTime, KeyRef)>>,
    replication_lag: SimTime,
}

/// Per-keyspace client state of a plan.
struct KsClient {
    /// Local caches per instance (when the strategy has one).
    local: Vec<LocalCache>,
    /// Value envelopes (soft expiry, delta) for strategies that read them.
    meta: IdMap<u64, ValueMeta>,
    stampede: StampedeTracker,
    /// Rate-limit state per actor (rate-limit keyspaces).
    rate: RateLimiters,
    rng: RngStream,
}

struct Sim<'a> {
    scn: &'a Scenario,
    progress: Option<&'a std::sync::atomic::AtomicU64>,
    traffic: &'a Traffic,
    queue: EventQueue<Event>,
    /// Per keyspace: the time of its next arrival in ns (`u64::MAX`: none before the end) and
    /// its sequence number from the queue's counter. Arrivals are a third of all events and
    /// each keyspace has exactly one pending, so they wait here rather than in the queue;
    /// `run` takes the earlier by (time, sequence number), so equal times run in the order
    /// they were scheduled, arrivals and queued events alike.
    next_arrival: Vec<(u64, u64)>,
    nodes: Vec<Node>,
    /// Per cluster: index of its first node in `nodes` (usize::MAX when unused by the plan).
    cluster_first_node: Vec<usize>,
    /// Per keyspace: cluster index.
    cluster_of_ks: Vec<usize>,
    origins: Vec<OriginState>,
    requests: Vec<Request>,
    free: Vec<u32>,
    /// Per keyspace: unit exponentials spent by the arrival process.
    arrival_work: Vec<DrawBuffer>,
    key_rng: Vec<RngStream>,
    /// Per keyspace: tenant and key draws of the next two arrivals, oldest first, in the
    /// stages of the prefetch pipeline (see `schedule_arrival`).
    next_key: Vec<VecDeque<(usize, Pending)>>,
    op_rng: Vec<RngStream>,
    clients: Vec<KsClient>,
    coalescer: Coalescer,
    /// Per instance and cluster.
    breakers: Vec<Breaker>,
    version: Vec<u64>,
    idem_counter: Vec<u64>,
    ks_metrics: Vec<KeyspaceMetrics>,
    windows: Vec<Window>,
    cur: Window,
    cur_p99: Vec<LatencyRecorder>,
    /// Per keyspace: end-to-end and Redis latencies after the warm-up (µs), turned into the
    /// metrics' HdrHistograms at the end.
    latency_us: Vec<LatencyRecorder>,
    redis_latency_us: Vec<LatencyRecorder>,
    /// Per keyspace: recomputations per expiry of a key (stampede sizes).
    stampede_size: Vec<LatencyRecorder>,
    last_evictions: Vec<u64>,
    /// Shard-kept counters at the end of the warm-up: per keyspace (evicted, evicted before
    /// TTL, expired) and per shard (evicted, expired, OOM).
    warmup_keyspace: Vec<[u64; 3]>,
    warmup_shard: Vec<[u64; 3]>,
    events: u64,
    requests_total: u64,
    monitor: Monitor,
    /// Per fault: the global indices of the nodes it hits in this plan.
    fault_nodes: Vec<Vec<usize>>,
    fault_outcomes: Vec<FaultOutcome>,
    /// Latency-spike faults in progress.
    active_spikes: Vec<usize>,
    /// Per instance: subscriber-disconnect faults in progress.
    disconnected: Vec<u32>,
    /// Per keyspace x instance: fallback loads in flight (the bulkhead).
    fallback_in_flight: Vec<u32>,
    /// Per keyspace: draws of final uses and of Redis retry delays.
    final_rng: Vec<RngStream>,
    retry_rng: Vec<RngStream>,
    /// Per keyspace: salts from the run's seed for the per-key value size and the per-write
    /// TTL jitter (drawn from the key, so every plan sees the same values).
    value_salt: Vec<u64>,
    jitter_salt: Vec<u64>,
    /// Per keyspace: the times its client state (L1, breaker, envelopes, monitors) and its
    /// recorders are handed never go back.
    ks_clock: Vec<MonotoneClock>,
    /// Per keyspace: warm-start writes the clusters refused (OOM).
    warm_refused: Vec<u64>,
}

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn ns(us: f64) -> u64 {
    (us * 1000.0).max(0.0) as u64
}

/// How far each plan's simulation has got, in simulated ns: written by the simulations at
/// every time-window boundary, read by whoever draws a progress bar. Reading it never changes
/// a result.
pub struct Progress {
    /// Simulated ns reached, per plan.
    pub reached_ns: Vec<std::sync::atomic::AtomicU64>,
}

impl Progress {
    /// Progress of `plans` plans, all at zero.
    pub fn new(plans: usize) -> Progress {
        Progress {
            reached_ns: (0..plans)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
        }
    }

    /// Simulated ns reached, summed over the plans.
    pub fn total_ns(&self) -> u64 {
        self.reached_ns
            .iter()
            .map(|a| a.load(std::sync::atomic::Ordering::Relaxed))
            .sum()
    }
}

/// Simulates plan `plan` of `scn` with run seed `seed`.
pub fn run_plan(scn: &Scenario, traffic: &Traffic, plan: usize, seed: u64) -> PlanResult {
    run_plan_observed(scn, traffic, plan, seed, None)
}

fn run_plan_observed(
    scn: &Scenario,
    traffic: &Traffic,
    plan: usize,
    seed: u64,
    progress: Option<&Progress>,
) -> PlanResult {
    let mut sim = Sim::new(scn, traffic, plan, seed);
    sim.progress = progress.map(|p| &p.reached_ns[plan]);
    sim.run();
    sim.finish(plan)
}

/// Simulates every plan (in parallel with rayon); results in plan order, identical whatever
/// the thread count.
pub fn run_all_plans(scn: &Scenario, seed: u64) -> Vec<PlanResult> {
    run_all_plans_observed(scn, seed, None)
}

/// `run_all_plans`, reporting each plan's simulated time to `progress` as it goes.
pub fn run_all_plans_observed(
    scn: &Scenario,
    seed: u64,
    progress: Option<&Progress>,
) -> Vec<PlanResult> {
    use rayon::prelude::*;
    let traffic = Traffic::new(scn);
    (0..scn.plans.len())
        .into_par_iter()
        .map(|p| run_plan_observed(scn, &traffic, p, seed, progress))
        .collect()
}

impl<'a> Sim<'a> {
    fn new(scn: &'a Scenario, traffic: &'a Traffic, plan: usize, seed: u64) -> Sim<'a> {
        let cluster_of_ks = scn.plans[plan].cluster_of_keyspace.clone();
        let mut nodes = Vec::new();
        let mut cluster_first_node = vec![usize::MAX; scn.clusters.len()];
        for (ci, c) in scn.clusters.iter().enumerate() {
            if !cluster_of_ks.contains(&ci) {
                continue;
            }
            cluster_first_node[ci] = nodes.len();
            for si in 0..c.shards as usize {
                let rng = RngStream::named(seed, &format!("cluster/{}/shard/{si}", c.name));
                let mut cfg = c.redis.clone();
                cfg.cron_phase_ms = rng.child(9).below(1000 / cfg.hz as u64);
                nodes.push(Node {
                    shard: Shard::new(cfg, &rng),
                    busy_until: SimTime::ZERO,
                    service_us: DrawBuffer::new(c.service_time_us.clone(), rng.child(4)),
                    rtt_us: DrawBuffer::new(c.network_rtt_us.clone(), rng.child(5)),
                    pending: VecDeque::new(),
                    clock: MonotoneClock::default(),
                    metrics: ShardMetrics {
                        cluster: ci,
                        shard: si,
                        ..ShardMetrics::default()
                    },
                    window_commands: 0,
                    window_busy_ns: 0,
                    down: None,
                    slow: 1.0,
                    recent_writes: None,
                    replication_lag: SimTime::ZERO,
                });
            }
        }
        let origins = scn
            .origins
            .iter()
            .map(|o| OriginState::new(o, RngStream::named(seed, &format!("origin/{}", o.name))))
            .collect();
        let n_ks = scn.keyspaces.len();
        let named = |what: &str| -> Vec<RngStream> {
            scn.keyspaces
                .iter()
                .map(|k| RngStream::named(seed, &format!("keyspace/{}/{what}", k.name)))
                .collect()
        };
        let clients = scn
            .keyspaces
            .iter()
            .enumerate()
            .map(|(ki, k)| KsClient {
                local: match &k.strategy.local_cache {
                    Some(l) => (0..scn.app_instances)
                        .map(|_| LocalCache::new(l.capacity_keys, l.ttl))
                        .collect(),
                    None => Vec::new(),
                },
                meta: IdMap::default(),
                stampede: StampedeTracker::default(),
                rate: RateLimiters::new(if k.operation == Operation::RateLimit {
                    *traffic.item_offset[ki]
                        .last()
                        .expect("one entry per tenant and more") as usize
                } else {
                    0
                }),
                rng: RngStream::named(seed, &format!("keyspace/{}/client", k.name)),
            })
            .collect();
        let mut sim = Sim {
            scn,
            progress: None,
            traffic,
            queue: EventQueue::new(),
            next_arrival: vec![(u64::MAX, u64::MAX); n_ks],
            nodes,
            cluster_first_node,
            cluster_of_ks,
            origins,
            requests: Vec::new(),
            free: Vec::new(),
            arrival_work: named("arrivals")
                .into_iter()
                .map(|rng| DrawBuffer::new(Dist::Exponential(1.0), rng))
                .collect(),
            key_rng: named("keys"),
            next_key: vec![VecDeque::with_capacity(3); n_ks],
            op_rng: named("operations"),
            clients,
            coalescer: Coalescer::default(),
            breakers: vec![Breaker::default(); scn.app_instances as usize * scn.clusters.len()],
            version: vec![0; n_ks],
            idem_counter: vec![0; n_ks],
            ks_metrics: (0..n_ks).map(|_| KeyspaceMetrics::default()).collect(),
            windows: Vec::new(),
            cur: Window::default(),
            // Per-window p99s need 2 significant digits (1 %), not the totals' 3: an 8x smaller
            // counts array keeps the per-request record in cache.
            cur_p99: (0..n_ks)
                .map(|_| LatencyRecorder::new(LATENCY_HIGHEST_US, 2))
                .collect(),
            latency_us: (0..n_ks)
                .map(|_| LatencyRecorder::new(LATENCY_HIGHEST_US, LATENCY_SIGFIG))
                .collect(),
            redis_latency_us: (0..n_ks)
                .map(|_| LatencyRecorder::new(LATENCY_HIGHEST_US, LATENCY_SIGFIG))
                .collect(),
            stampede_size: (0..n_ks)
                .map(|_| LatencyRecorder::new(1 << 40, 3))
                .collect(),
            last_evictions: vec![0; n_ks],
            warmup_keyspace: vec![[0; 3]; n_ks],
            warmup_shard: Vec::new(),
            events: 0,
            requests_total: 0,
            monitor: Monitor::new(scn),
            fault_nodes: Vec::new(),
            fault_outcomes: Vec::new(),
            active_spikes: Vec::new(),
            disconnected: vec![0; scn.app_instances as usize],
            fallback_in_flight: vec![0; n_ks * scn.app_instances as usize],
            final_rng: named("final-use"),
            retry_rng: named("redis-retries"),
            value_salt: named("value-sizes")
                .iter_mut()
                .map(|r| r.next_u64())
                .collect(),
            jitter_salt: named("ttl-jitter")
                .iter_mut()
                .map(|r| r.next_u64())
                .collect(),
            ks_clock: vec![MonotoneClock::default(); n_ks],
            warm_refused: vec![0; n_ks],
        };
        sim.cur = sim.empty_window(SimTime::ZERO);
        for ks in 0..n_ks {
            if sim.monitor.tracks_values(ks) {
                let c = sim.cluster_of_ks[ks];
                let first = sim.cluster_first_node[c];
                for node in &mut sim.nodes[first..first + scn.clusters[c].shards as usize] {
                    node.shard.enable_value_stamps();
                }
            }
        }
        sim.project_memory();
        if scn.start == Start::SteadyState {
            sim.warm_refused = sim.warm_start(seed);
        }
        for ks in 0..n_ks {
            sim.draw_next_key(ks);
            sim.draw_next_key(ks);
            sim.schedule_arrival(ks, SimTime::ZERO);
        }
        for (i, e) in scn.events.iter().enumerate() {
            sim.queue.push(e.at, Event::Timeline { index: i as u16 });
        }
        sim.queue
            .push(scn.window.min(scn.duration), Event::WindowEnd);
        sim.warmup_shard = vec![[0; 3]; sim.nodes.len()];
        sim.schedule_faults(seed);
        if scn.warmup > SimTime::ZERO {
            sim.queue.push(scn.warmup, Event::WarmupEnd);
        }
        sim
    }

    /// Per keyspace (evicted, evicted before TTL, expired) and per shard (evicted, expired,
    /// OOM), as the shards count them now.
    fn shard_counters(&self) -> (Vec<[u64; 3]>, Vec<[u64; 3]>) {
        let mut ks = vec![[0u64; 3]; self.scn.keyspaces.len()];
        let mut shards = Vec::new();
        for n in &self.nodes {
            let tc = n.shard.tag_counters();
            for (k, c) in ks.iter_mut().enumerate() {
                c[0] += tc.evicted[k];
                c[1] += tc.evicted_before_ttl[k];
                c[2] += tc.expired[k];
            }
            let st = n.shard.stats();
            shards.push([st.evicted_keys, st.expired_keys, st.oom_errors]);
        }
        (ks, shards)
    }

    fn empty_window(&self, start: SimTime) -> Window {
        let n_ks = self.scn.keyspaces.len();
        Window {
            start,
            keyspace_requests: vec![0; n_ks],
            keyspace_hits: vec![0; n_ks],
            keyspace_evictions: vec![0; n_ks],
            keyspace_p99_us: vec![0; n_ks],
            origin_loads: vec![0; self.scn.origins.len()],
            origin_peak_concurrency: vec![0; self.scn.origins.len()],
            origin_latency_p99_us: vec![0; self.scn.origins.len()],
            shard_used_memory: vec![0; self.nodes.len()],
            shard_commands: vec![0; self.nodes.len()],
            shard_busy_ns: vec![0; self.nodes.len()],
            invariant_violations: vec![0; n_ks * N_INVARIANTS],
            invariant_max_staleness_ns: vec![0; n_ks * N_INVARIANTS],
        }
    }

    /// The rate multiplier of keyspace `ks` at `t` (hourly profile times active bursts) and
    /// the time it next may change (the next hour boundary or burst start or end).
    fn rate_segment(&self, ks: usize, t: SimTime) -> (f64, SimTime) {
        const HOUR_MS: u64 = 3_600_000;
        let k = &self.scn.keyspaces[ks];
        let unix_ms = self.scn.start_unix_ms + t.as_ms();
        let mut m = k.hourly_profile[(unix_ms / HOUR_MS % 24) as usize];
        let next_hour_ms = (unix_ms / HOUR_MS + 1) * HOUR_MS - self.scn.start_unix_ms;
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

    /// Schedules the next arrival of `ks` after `from`: a Poisson process whose rate is
    /// piecewise constant (`rate_segment`), drawn exactly by spending one unit exponential
    /// across the segments (the time-change construction), without thinning.
    fn schedule_arrival(&mut self, ks: usize, from: SimTime) {
        let base_per_s = self.scn.keyspaces[ks].rate_per_s;
        let mut work = self.arrival_work[ks].sample();
        let mut t = from;
        loop {
            let (m, end) = self.rate_segment(ks, t);
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
            if t >= self.scn.duration {
                return;
            }
        }
        if t >= self.scn.duration {
            return;
        }
        self.next_arrival[ks] = (t.0, self.queue.take_seq());
        // Draws run ahead of their arrivals in three steps so each step's memory is fetched
        // while other work goes on: two arrivals ahead the popularity table's line is fetched
        // (`draw_next_key`); one ahead the draw is resolved, its key computed and its dict
        // bucket (or rate-limit state) fetched; now, for the arrival just scheduled, the bucket
        // is read and the chain's first entry (or the window's ends) fetched. Prefetches are
        // hints: they never change a result.
        if let Some(&(tenant, pending)) = self.next_key[ks].front() {
            let k = &self.scn.keyspaces[ks];
            let rate_limit = k.operation == Operation::RateLimit;
            if rate_limit && !matches!(pending, Pending::Zipf(_)) {
                let item = self.traffic.samplers[ks][tenant].resolve(pending);
                let actor = self.actor_number(ks, tenant, item);
                self.clients[ks].rate.prefetch_window(actor);
            }
            match pending {
                Pending::Keyed { key, shard, .. } => {
                    self.nodes[shard as usize].shard.db().prefetch_entry(key.id);
                }
                Pending::Ready(item)
                    if rate_limit && k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow =>
                {
                    // A fixed window's key names the arrival's window, known only now.
                    let window = (t.as_ns() / k.window.as_ns()) << 32;
                    let (key, shard) = self.key_for(ks, tenant, item ^ window);
                    self.nodes[shard as usize].shard.db().prefetch(key.id);
                }
                _ => {}
            }
        }
        if let Some(&(tenant, pending)) = self.next_key[ks].get(1) {
            let item = self.traffic.samplers[ks][tenant].resolve(pending);
            let resolved = match self.scn.keyspaces[ks].operation {
                Operation::Idempotency => Pending::Ready(item),
                Operation::RateLimit
                    if self.scn.keyspaces[ks].rate_limit_algorithm
                        == RateLimitAlgorithm::FixedWindow =>
                {
                    let actor = self.actor_number(ks, tenant, item);
                    self.clients[ks].rate.prefetch(actor);
                    Pending::Ready(item)
                }
                op => {
                    if op == Operation::RateLimit {
                        let actor = self.actor_number(ks, tenant, item);
                        self.clients[ks].rate.prefetch(actor);
                    }
                    let (key, shard) = self.key_for(ks, tenant, item);
                    self.nodes[shard as usize].shard.db().prefetch(key.id);
                    Pending::Keyed {
                        item,
                        key,
                        shard,
                        version: self.version[ks],
                    }
                }
            };
            self.next_key[ks][1] = (tenant, resolved);
        }
        self.draw_next_key(ks);
    }

    /// The dense number of item `rank` of `tenant` in keyspace `ks`, for per-actor state:
    /// without the tenant in the key template every tenant's item `rank` is the same key, so
    /// the same actor.
    fn actor_number(&self, ks: usize, tenant: usize, rank: u64) -> usize {
        if self.scn.keyspaces[ks].key_has_tenant {
            (self.traffic.item_offset[ks][tenant] + rank) as usize
        } else {
            rank as usize
        }
    }

    /// Draws the tenant and key of a future arrival of `ks` (prefetching the popularity
    /// table's line).
    fn draw_next_key(&mut self, ks: usize) {
        let u = self.key_rng[ks].next_f64();
        let mut tenant = self.scn.tenants.len() - 1;
        let mut acc = 0.0;
        for (i, tn) in self.scn.tenants.iter().enumerate() {
            acc += tn.traffic_share;
            if u < acc {
                tenant = i;
                break;
            }
        }
        let item = match self.scn.keyspaces[ks].operation {
            Operation::Idempotency => Pending::Ready(0),
            _ => self.traffic.samplers[ks][tenant].draw(&mut self.key_rng[ks]),
        };
        self.next_key[ks].push_back((tenant, item));
    }

    /// The earliest pending arrival by (time, sequence number) and its keyspace.
    fn earliest_arrival(&self) -> (usize, (u64, u64)) {
        let (mut ks, mut first) = (0, (u64::MAX, u64::MAX));
        for (k, &at) in self.next_arrival.iter().enumerate() {
            if at < first {
                (ks, first) = (k, at);
            }
        }
        (ks, first)
    }

    /// Handles every event up to the end of the horizon, in (time, sequence number) order:
    /// the queue's and the pending arrivals' alike.
    fn run(&mut self) {
        // Only handling an arrival changes the pending arrivals.
        let (mut ks, mut arrival) = self.earliest_arrival();
        loop {
            let queued = self.queue.peek().map(|(t, seq)| (t.0, seq));
            if queued.is_none_or(|q| arrival < q) {
                let arrival_ns = arrival.0;
                if arrival_ns == u64::MAX || SimTime(arrival_ns) > self.scn.duration {
                    break;
                }
                self.events += 1;
                self.next_arrival[ks] = (u64::MAX, u64::MAX);
                self.on_arrival(SimTime(arrival_ns), ks);
                (ks, arrival) = self.earliest_arrival();
                continue;
            }
            let Some((now, ev)) = self.queue.pop() else {
                break;
            };
            if now > self.scn.duration {
                break;
            }
            self.events += 1;
            match ev {
                Event::Retry { req } => self.on_retry(now, req),
                Event::AtShard { req } => self.on_shard(now, req),
                Event::OriginDone { req } => self.on_origin_done(now, req),
                Event::Poll { req } => self.send(now, req, Stage::SfPoll),
                Event::Timeline { index } => self.on_timeline(now, index as usize),
                Event::WindowEnd => self.on_window_end(now),
                Event::WarmupEnd => {
                    for n in 0..self.nodes.len() {
                        self.catch_up_cron(n, now);
                    }
                    (self.warmup_keyspace, self.warmup_shard) = self.shard_counters();
                }
                Event::FaultStart { index } => self.on_fault_start(now, index as usize),
                Event::FaultEnd { index } => self.on_fault_end(now, index as usize),
                Event::Resend { req } => self.send(now, req, Stage::First),
                Event::RedisFailed { req } => self.on_redis_refused(now, req),
                Event::ShardFree { node } => self.on_shard_free(now, node as usize),
                Event::Reply { req } => self.on_reply_event(now, req),
                Event::ClientTimeout { req } => self.on_client_timeout(now, req),
                Event::OriginTimeout { origin } => self.on_origin_timeout(now, origin as usize),
            }
        }
    }

    fn on_timeline(&mut self, now: SimTime, index: usize) {
        let e = &self.scn.events[index];
        match e.action {
            EventAction::NewVersion => {
                for &ks in &e.keyspaces {
                    self.version[ks] += 1;
                }
            }
            EventAction::Change => {}
            EventAction::Delete => {
                for &ks in &e.keyspaces {
                    self.publish_invalidation(now, ks);
                    let cluster = self.cluster_of_ks[ks];
                    let first = self.cluster_first_node[cluster];
                    for n in first..first + self.scn.clusters[cluster].shards as usize {
                        // The DELs queue on the shard's thread behind the commands already
                        // waiting, and run at their own time.
                        if self.nodes[n].pending.is_empty() {
                            self.catch_up_cron(n, now);
                        }
                        let node = &self.nodes[n];
                        if node.pending.is_empty() && node.busy_until <= now {
                            self.run_delete_job(now, n, ks);
                        } else {
                            self.enqueue_at_node(n, DELETE_JOB + ks as u32);
                        }
                    }
                }
            }
        }
    }

    /// The key of `item` in keyspace `ks` for `tenant`, and the global index of its shard.
    fn key_for(&self, ks: usize, tenant: usize, item: u64) -> (KeyRef, u32) {
        let k = &self.scn.keyspaces[ks];
        // A template without the tenant makes every tenant's item i the same key.
        let tenant_bits = if k.key_has_tenant {
            (tenant as u64) << 40
        } else {
            0
        };
        let h = mix64(
            mix64(item.wrapping_add(0x9E37_79B9_7F4A_7C15))
                ^ tenant_bits
                ^ (self.version[ks] << 20),
        );
        // The top byte names the keyspace (per-keyspace eviction and expiry counts).
        let id = ((ks as u64) << 56) | (h & ((1u64 << 56) - 1));
        (
            KeyRef {
                id,
                len: k.key_len_bytes,
            },
            self.shard_of(ks, tenant, id),
        )
    }

    /// Keys without a hash tag get a uniform slot from their id, which is what CRC16 of
    /// distinct key strings amounts to; tagged keys share their tag's slot.
    fn shard_of(&self, ks: usize, tenant: usize, id: u64) -> u32 {
        let slot = self.traffic.tag_slot[ks][tenant]
            .unwrap_or((mix64(id ^ 0xC0FF_EE00) % CLUSTER_SLOTS as u64) as u16);
        let cluster = self.cluster_of_ks[ks];
        (self.cluster_first_node[cluster] + self.scn.clusters[cluster].slot_map.shard_of_slot(slot))
            as u32
    }

    /// The lock key guarding the refill of `key` (same slot: lock keys carry the value key's
    /// hash tag in practice).
    fn lock_key(&self, key: KeyRef) -> KeyRef {
        KeyRef {
            id: (key.id & (0xFF << 56)) | (mix64(key.id ^ 0x10C4) & ((1 << 56) - 1)),
            len: key.len + 5,
        }
    }

    fn alloc(&mut self, r: Request) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.requests[i as usize] = r;
                i
            }
            None => {
                self.requests.push(r);
                (self.requests.len() - 1) as u32
            }
        }
    }

    /// Frees request slot `req` (kept until its pending client timers have fired).
    fn release(&mut self, req: u32) {
        let slot = &mut self.requests[req as usize];
        if slot.timers > 0 {
            slot.flags |= FLAG_RELEASED;
        } else {
            self.free.push(req);
        }
    }

    fn net_half(&mut self, node: usize, instance: u16) -> SimTime {
        let spike = self.spike_multiplier(node, instance);
        let n = &mut self.nodes[node];
        let rtt = ns(n.rtt_us.sample());
        if spike == 1.0 {
            SimTime(rtt / 2)
        } else {
            SimTime((rtt as f64 * spike) as u64 / 2)
        }
    }

    /// Sends request `req`'s next Redis command (`stage`) at `now`.
    fn send(&mut self, now: SimTime, req: u32, stage: Stage) {
        let r = &mut self.requests[req as usize];
        r.stage = stage;
        r.sent = now;
        r.flags |= FLAG_AWAITING;
        let shard = r.shard as usize;
        let instance = r.instance;
        let db = self.nodes[shard].shard.db();
        if stage == Stage::First {
            // The entry was prefetched when the arrival was scheduled; asking again is cheap
            // and covers a line evicted since (dropping it measured slower).
            db.prefetch_entry(r.key.id);
        } else {
            db.prefetch_write(r.key.id);
        }
        let d = self.net_half(shard, instance);
        let r = self.requests[req as usize];
        let timeout = self.scn.keyspaces[r.ks as usize].client_timeout;
        if !r.has(FLAG_BACKGROUND) && d >= timeout {
            // The client gives up before the command even reaches the shard (a latency
            // spike): the command still runs there, as an orphan nobody waits for.
            let orphan = self.alloc(Request {
                flags: (r.flags & !FLAG_AWAITING) | FLAG_BACKGROUND | FLAG_ORPHAN,
                timers: 0,
                ..r
            });
            self.queue.push(now + d, Event::AtShard { req: orphan });
            self.start_client_timer(req, now + timeout);
            return;
        }
        self.queue.push(now + d, Event::AtShard { req });
    }

    /// Sends a background command on behalf of `of` (a write-back, a release, a refresh lock).
    fn send_background(&mut self, now: SimTime, of: &Request, key: KeyRef, stage: Stage) {
        let r = Request {
            key,
            stage,
            flags: (of.flags & FLAG_COUNTED) | FLAG_BACKGROUND,
            started: now,
            ..*of
        };
        let id = self.alloc(r);
        self.send(now, id, stage);
    }

    fn on_arrival(&mut self, now: SimTime, ks: usize) {
        let (tenant, pending) = self.next_key[ks]
            .pop_front()
            .expect("a draw is made for every scheduled arrival");
        self.schedule_arrival(ks, now);
        self.requests_total += 1;
        let k = &self.scn.keyspaces[ks];
        let mut actor = 0;
        let item = match k.operation {
            Operation::Idempotency => {
                self.idem_counter[ks] += 1;
                self.idem_counter[ks]
            }
            Operation::RateLimit => {
                let rank = self.traffic.samplers[ks][tenant].resolve(pending);
                actor = self.actor_number(ks, tenant, rank);
                match k.rate_limit_algorithm {
                    // A fixed window's counter key names the window.
                    RateLimitAlgorithm::FixedWindow => {
                        rank ^ ((now.as_ns() / k.window.as_ns()) << 32)
                    }
                    _ => rank,
                }
            }
            _ => self.traffic.samplers[ks][tenant].resolve(pending),
        };
        let instance = self.key_rng[ks].below(self.scn.app_instances as u64) as u16;
        let (key, shard) = match pending {
            Pending::Keyed {
                key,
                shard,
                version,
                ..
            } if version == self.version[ks] => (key, shard),
            _ => self.key_for(ks, tenant, item),
        };
        let counted = now >= self.scn.warmup;
        let mut flags = if counted { FLAG_COUNTED } else { 0 };
        let fb = &k.fallback;
        if fb.final_use_fraction > 0.0 && self.final_rng[ks].next_f64() < fb.final_use_fraction {
            flags |= FLAG_FINAL;
        }
        let token = match k.operation {
            Operation::Lock => self.monitor.token(),
            // A fixed window without a limit needs no client-side count.
            Operation::RateLimit
                if k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow
                    && k.rate_limit_per_window.is_none() =>
            {
                0
            }
            Operation::RateLimit => {
                let a = self.clients[ks].rate.admit(
                    actor,
                    key.id,
                    now.as_ms(),
                    k.window.as_ms().max(1),
                    k.rate_limit_per_window,
                    k.rate_limit_algorithm,
                );
                if !a.allowed && counted {
                    self.ks_metrics[ks].rate_limited += 1;
                }
                a.entries
            }
            _ => 0,
        };
        let r = Request {
            ks: ks as u16,
            instance,
            stage: Stage::First,
            flags,
            tenant: tenant as u16,
            attempt: 0,
            token,
            key,
            value_key: key,
            stamp: 0,
            shard,
            started: now,
            sent: now,
            arrived: now,
            waited_since: now,
            load_started: now,
            reply: Reply::Nil,
            timers: 0,
        };
        let id = self.alloc(r);
        if k.operation == Operation::Idempotency
            && k.retry_probability > 0.0
            && self.op_rng[ks].next_f64() < k.retry_probability
        {
            // The client retries the same command later (same idempotency key).
            let at = now + k.retry_delay;
            if at < self.scn.duration {
                let retry = Request {
                    flags: (if at >= self.scn.warmup {
                        FLAG_COUNTED
                    } else {
                        0
                    }) | FLAG_RETRY,
                    started: at,
                    ..r
                };
                let rid = self.alloc(retry);
                self.queue.push(at, Event::Retry { req: rid });
                self.requests[id as usize].flags |= FLAG_WILL_RETRY;
            }
        }
        self.begin(now, id);
    }

    fn on_retry(&mut self, now: SimTime, req: u32) {
        self.requests_total += 1;
        self.begin(now, req);
    }

    /// A user request starts at its instance: L1, coalescing, breaker, then Redis.
    fn begin(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        if r.has(FLAG_COUNTED) {
            self.ks_metrics[ks].requests += 1;
        }
        self.cur.keyspace_requests[ks] += 1;
        let k = &self.scn.keyspaces[ks];
        let reads = matches!(k.operation, Operation::ReadThrough | Operation::Session);
        if r.has(FLAG_FINAL) && k.fallback.revalidate_before_final {
            // A final use does not trust the cache: recompute at the origin, then write back.
            if r.has(FLAG_COUNTED) {
                self.ks_metrics[ks].final_revalidations += 1;
            }
            self.load(now, req);
            return;
        }
        if reads && !self.clients[ks].local.is_empty() {
            let l1 = &mut self.clients[ks].local[r.instance as usize];
            let held = l1.get(r.key.id, now);
            // A copy an invalidation message dropped is gone (the LRU slot is reused later).
            if held && !self.monitor.copy_invalidated(ks, r.instance, r.key.id) {
                if r.has(FLAG_COUNTED) {
                    self.ks_metrics[ks].l1_hits += 1;
                }
                if let Some(v) = self.monitor.copy(ks, r.instance, r.key.id) {
                    let final_use = r.has(FLAG_FINAL);
                    self.monitor
                        .read(now, ks, r.tenant, v, final_use, r.started);
                }
                self.cur.keyspace_hits[ks] += 1;
                self.answer(ks, req, now, false);
                self.release(req);
                return;
            }
        }
        if reads && k.strategy.coalesce {
            if !self.coalescer.join(r.instance as u32, r.key.id, req) {
                if r.has(FLAG_COUNTED) {
                    self.ks_metrics[ks].coalesced += 1;
                }
                return; // answered when the leader's fetch finishes
            }
            self.requests[req as usize].flags |= FLAG_LEADER;
        }
        if k.strategy.breaker.is_some() && !self.breaker(r.instance, ks).allows(now) {
            self.fallback(now, req);
            return;
        }
        self.send(now, req, Stage::First);
    }

    fn breaker(&mut self, instance: u16, ks: usize) -> &mut Breaker {
        let i = instance as usize * self.scn.clusters.len() + self.cluster_of_ks[ks];
        &mut self.breakers[i]
    }

    /// Skips Redis (open circuit breaker): the keyspace's fallback policy decides.
    fn fallback(&mut self, now: SimTime, req: u32) {
        self.redis_unavailable(now, req, false);
    }

    /// A first Redis call failed (refused, timed out): retry it after a drawn delay while
    /// `fallback.redis_retries` allows, then apply the fallback policy. Later steps (lock
    /// polls, background locks) see a nil reply, as before.
    fn on_redis_failed(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        if r.stage != Stage::First {
            self.on_reply(now, req, Reply::Nil);
            return;
        }
        let fb = &self.scn.keyspaces[ks].fallback;
        if (r.attempt as u32) < fb.redis_retries {
            self.requests[req as usize].attempt += 1;
            if r.has(FLAG_COUNTED) {
                self.ks_metrics[ks].redis_retries += 1;
            }
            let delay_ms = fb.redis_retry_delay_ms.sample(&mut self.retry_rng[ks]);
            self.queue
                .push(now + SimTime(ns(delay_ms * 1000.0)), Event::Resend { req });
            return;
        }
        self.redis_unavailable(now, req, true);
    }

    /// Redis is unavailable for request `req` (`asked`: a call was made and failed, rather
    /// than skipped by an open breaker): rate limits fail open or closed, locks are skipped or
    /// given up, reads and critical commands go to the origin behind the instance's bulkhead.
    fn redis_unavailable(&mut self, now: SimTime, req: u32, asked: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let counted = r.has(FLAG_COUNTED);
        if counted {
            self.ks_metrics[ks].fallbacks += 1;
        }
        match k.operation {
            Operation::RateLimit => match k.fallback.rate_limit {
                RateLimitWhenDown::Open => {
                    self.answer(ks, req, now, false);
                    self.release(req);
                }
                RateLimitWhenDown::Closed => {
                    if counted {
                        self.ks_metrics[ks].rate_limit_rejected += 1;
                    }
                    self.fail(ks, req);
                }
            },
            Operation::Lock => {
                match k.fallback.lock {
                    LockWhenDown::Skip => {
                        if counted {
                            self.ks_metrics[ks].lock_skipped += 1;
                        }
                        self.lock_work(now, req, false);
                    }
                    LockWhenDown::GiveUp => {
                        if counted {
                            self.ks_metrics[ks].lock_contended += 1;
                        }
                    }
                }
                self.answer(ks, req, now, false);
                self.release(req);
            }
            Operation::ReadThrough | Operation::Session | Operation::Idempotency => {
                if asked && counted {
                    let m = &mut self.ks_metrics[ks];
                    m.misses += 1;
                    if r.has(FLAG_RETRY) {
                        m.retries += 1;
                        m.retries_reexecuted += 1;
                    }
                }
                let slot = ks * self.scn.app_instances as usize + r.instance as usize;
                if self.fallback_in_flight[slot] >= k.fallback.origin_max_in_flight {
                    if counted {
                        self.ks_metrics[ks].fallback_rejected += 1;
                    }
                    self.load_failed(now, req);
                } else {
                    self.fallback_in_flight[slot] += 1;
                    self.requests[req as usize].flags |= FLAG_FALLBACK_LOAD;
                    self.load(now, req);
                }
            }
        }
    }

    /// A lock holder (or, with `acquired` false, a request that skipped the lock) starts its
    /// work at `now`: hold time plus a drawn pause. Counts an overlap with another holder's
    /// work (stopped by the database constraint when there is one) and, when the lock was
    /// acquired, schedules its release at the end of the work.
    fn lock_work(&mut self, now: SimTime, req: u32, acquired: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let mut work_ms = k.hold_ms.sample(&mut self.op_rng[ks]);
        if let Some(p) = &k.fallback.pause_ms {
            work_ms += p.sample(&mut self.op_rng[ks]);
        }
        let work = SimTime(ns(work_ms * 1000.0));
        if self.monitor.lock_work(now, r.value_key.id, work) {
            if k.fallback.db_constraint {
                self.monitor.prevented(now, ks, Invariant::LockOverlap);
            } else {
                self.monitor
                    .violation(now, ks, Invariant::LockOverlap, SimTime::ZERO);
            }
        }
        if acquired {
            self.send_background(now + work, &r, r.value_key, Stage::Release);
        }
    }

    fn command_of(&self, r: &Request) -> Command {
        let k = &self.scn.keyspaces[r.ks as usize];
        match (r.stage, k.operation) {
            (Stage::First, Operation::RateLimit) => match k.rate_limit_algorithm {
                RateLimitAlgorithm::FixedWindow => Command::IncrExpire {
                    key: r.key,
                    ttl_ms: k.ttl.as_ms(),
                },
                RateLimitAlgorithm::SlidingWindow => Command::WriteObject {
                    key: r.key,
                    // Members are request ids of 16 bytes, scores the ms timestamps.
                    object_bytes: objects::zset_bytes(r.token, 16) as u32,
                    ttl_ms: k.ttl.as_ms(),
                },
                RateLimitAlgorithm::TokenBucket => Command::WriteObject {
                    key: r.key,
                    object_bytes: objects::token_bucket_bytes() as u32,
                    ttl_ms: k.ttl.as_ms(),
                },
            },
            (Stage::First, Operation::Lock) => Command::Set {
                key: r.key,
                value_size: 36,
                ttl_ms: k.ttl.as_ms().max(1),
                nx: true,
                stamp: 0,
            },
            (Stage::First | Stage::SfPoll, _) => Command::Get(r.key),
            (Stage::SfLock | Stage::BgLock, _) => Command::Set {
                key: r.key,
                value_size: 36,
                ttl_ms: match k.strategy.kind {
                    StrategyKind::SingleFlight { lock_ttl, .. }
                    | StrategyKind::StaleWhileRevalidate { lock_ttl, .. } => lock_ttl.as_ms(),
                    _ => 5_000,
                },
                nx: true,
                stamp: 0,
            },
            (Stage::WriteBack, _) => {
                let negative = self.is_negative(r.ks as usize, r.key.id);
                let (value_size, ttl_ms) = match (&k.strategy.negative, negative) {
                    (Some(n), true) => (16, n.ttl.as_ms()),
                    _ => (self.value_size(r.ks as usize, r.key.id), self.ttl_ms(r)),
                };
                let stamp = if self.monitor.tracks_values(r.ks as usize) {
                    ValueInfo {
                        loaded_at: r.load_started,
                        tenant: r.tenant,
                    }
                    .stamp()
                } else {
                    0
                };
                Command::Set {
                    key: r.key,
                    value_size,
                    ttl_ms,
                    nx: false,
                    stamp,
                }
            }
            (Stage::Refresh, _) => Command::Expire {
                key: r.key,
                ttl_ms: k.ttl.as_ms(),
            },
            (Stage::Release, _) => Command::Del(r.key),
        }
    }

    /// Whether the origin has nothing for this key (negative caching).
    fn is_negative(&self, ks: usize, key_id: u64) -> bool {
        match &self.scn.keyspaces[ks].strategy.negative {
            Some(n) => {
                let u = (mix64(key_id ^ 0x4E45_4741) >> 11) as f64 / (1u64 << 53) as f64;
                u < n.fraction
            }
            None => false,
        }
    }

    /// A key's value size: fixed per key (drawn from the key and the run's seed), so every
    /// plan sees the same.
    fn value_size(&self, ks: usize, key_id: u64) -> u32 {
        let mut r = RngStream::new(key_id ^ self.value_salt[ks], 7);
        self.scn.keyspaces[ks]
            .value_size_bytes
            .sample(&mut r)
            .round()
            .clamp(1.0, u32::MAX as f64) as u32
    }

    /// The TTL of a write-back, jitter included (drawn from the key and the write's time so
    /// every plan sees the same values).
    fn ttl_ms(&self, r: &Request) -> u64 {
        let k = &self.scn.keyspaces[r.ks as usize];
        let base = k.ttl.as_ms();
        if base == 0 {
            return 0;
        }
        let salt = self.jitter_salt[r.ks as usize];
        let mut rng = RngStream::new(r.key.id ^ r.load_started.as_ns() ^ salt, 11);
        match k.jitter {
            Jitter::None => base,
            Jitter::UniformPct(p) => {
                let f = 1.0 + (rng.next_f64() * 2.0 - 1.0) * p / 100.0;
                ((base as f64 * f).round() as u64).max(1)
            }
            Jitter::UpTo(max) => base + rng.below(max.as_ms() + 1),
        }
    }

    /// Runs the serverCron ticks of `node` that start by `now`: a tick due while the main
    /// thread is busy starts when it is free. Nothing observes a shard between its own
    /// events, so ticks run here, before the shard is next used or read, at their own times.
    fn catch_up_cron(&mut self, node_idx: usize, now: SimTime) {
        let warm = now >= self.scn.warmup;
        let node = &mut self.nodes[node_idx];
        while node.busy_until <= now {
            let Some(tick) = node.shard.cron_due(now) else {
                break;
            };
            let start = tick.max(node.busy_until);
            node.clock.advance(start, "a shard's serverCron");
            let cpu = node.shard.cron(start);
            node.busy_until = start + SimTime(cpu);
            if warm {
                node.metrics.busy_ns += cpu;
            }
            node.window_busy_ns += cpu;
        }
    }

    /// A command reaches its shard. The shard's single thread runs commands in arrival order:
    /// at once when it is idle, else the command waits in the node's queue until a
    /// `ShardFree` event runs it at its own time.
    fn on_shard(&mut self, now: SimTime, req: u32) {
        self.requests[req as usize].arrived = now;
        let r = self.requests[req as usize];
        let node_idx = r.shard as usize;
        if let Some((mode, fault)) = self.nodes[node_idx].down {
            self.shard_down(now, req, mode, fault as usize, false);
            return;
        }
        if self.nodes[node_idx].pending.is_empty() {
            self.catch_up_cron(node_idx, now);
        }
        let node = &mut self.nodes[node_idx];
        let in_service = (node.busy_until > now) as usize;
        let at_shard = (node.pending.len() + in_service + 1) as u64;
        node.metrics.max_queue_len = node.metrics.max_queue_len.max(at_shard);
        if node.pending.is_empty() && node.busy_until <= now {
            self.execute(now, req, false);
            return;
        }
        self.enqueue_at_node(node_idx, req);
        self.requests[req as usize].flags |= FLAG_QUEUED;
        if !r.has(FLAG_BACKGROUND) {
            // The client's timeout runs while the command waits.
            let k = &self.scn.keyspaces[r.ks as usize];
            self.start_client_timer(req, r.sent + k.client_timeout);
        }
    }

    /// Puts `entry` at the end of `node_idx`'s queue, scheduling the `ShardFree` event that
    /// will serve it when it is the first to wait.
    fn enqueue_at_node(&mut self, node_idx: usize, entry: u32) {
        let node = &mut self.nodes[node_idx];
        if node.pending.is_empty() {
            let free_at = node.busy_until;
            self.queue.push(
                free_at,
                Event::ShardFree {
                    node: node_idx as u32,
                },
            );
        }
        self.nodes[node_idx].pending.push_back(entry);
    }

    /// `node_idx`'s main thread is free at `now`: run the commands waiting for it while it
    /// stays free (serverCron ticks due first), then wait for it again.
    fn on_shard_free(&mut self, now: SimTime, node_idx: usize) {
        loop {
            if self.nodes[node_idx].pending.is_empty() {
                return;
            }
            self.catch_up_cron(node_idx, now);
            let busy_until = self.nodes[node_idx].busy_until;
            if busy_until > now {
                self.queue.push(
                    busy_until,
                    Event::ShardFree {
                        node: node_idx as u32,
                    },
                );
                return;
            }
            let entry = self.nodes[node_idx]
                .pending
                .pop_front()
                .expect("checked non-empty");
            if entry >= DELETE_JOB {
                self.run_delete_job(now, node_idx, (entry - DELETE_JOB) as usize);
            } else {
                self.requests[entry as usize].flags &= !FLAG_QUEUED;
                self.execute(now, entry, true);
            }
        }
    }

    /// The DELs of a delete-on-event for keyspace `ks` run on `node_idx`'s thread at `now`.
    fn run_delete_job(&mut self, now: SimTime, node_idx: usize, ks: usize) {
        let warm = now >= self.scn.warmup;
        let node = &mut self.nodes[node_idx];
        node.clock.advance(now, "a shard");
        let (deleted, cpu) = node.shard.delete_tag(ks);
        // Each DEL is a command of its own on the shard's thread.
        let per_cmd = ns(node.service_us.dist().mean());
        let busy = cpu + deleted * per_cmd;
        node.busy_until = now + SimTime(busy);
        node.window_busy_ns += busy;
        node.window_commands += deleted;
        if warm {
            node.metrics.busy_ns += busy;
            node.metrics.commands += deleted;
        }
    }

    /// Runs request `req`'s command on its shard's thread, which is free at `now`, and sends
    /// the reply on its way (`queued`: it waited in the node's queue, so a client timer runs).
    fn execute(&mut self, now: SimTime, req: u32, queued: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let lock_release = k.operation == Operation::Lock && r.stage == Stage::Release;
        let mut cmd = self.command_of(&r);
        if lock_release
            && k.fallback.lock_owner_token
            && !self.monitor.lock_owned_by(r.key.id, r.token)
        {
            // Compare-and-delete: the value is another holder's token, so nothing is deleted
            // (the script still reads the key).
            cmd = Command::Get(r.key);
        }
        let warm = now >= self.scn.warmup;
        let node = &mut self.nodes[r.shard as usize];
        node.clock.advance(now, "a shard");
        debug_assert!(node.busy_until <= now, "the thread is free");
        let done = node.shard.execute(now, cmd);
        if let Some(ring) = &mut node.recent_writes {
            let wrote = match cmd {
                Command::Set { .. } => done.reply == Reply::Ok,
                Command::IncrExpire { .. } => done.reply == Reply::Integer(1),
                _ => false,
            };
            if wrote {
                if let Command::Set { key, .. }
                | Command::IncrExpire { key, .. }
                | Command::WriteObject { key, .. } = cmd
                {
                    ring.push_back((now, key));
                }
                while ring
                    .front()
                    .is_some_and(|&(t, _)| t + node.replication_lag < now)
                {
                    ring.pop_front();
                }
            }
        }
        let mut service = ns(node.service_us.sample());
        if let Command::WriteObject { .. } = cmd {
            // One round trip carrying several commands: MULTI, ZREMRANGEBYSCORE, ZADD, ZCARD,
            // PEXPIRE, EXEC for a sliding window, EVALSHA (HMGET, HSET, PEXPIRE) for a token
            // bucket: taken as 2x and 1.5x a single command's service time (an assumption:
            // parsing and executing the extra commands, not the socket round trip).
            let factor = match k.rate_limit_algorithm {
                RateLimitAlgorithm::SlidingWindow => 2.0,
                _ => 1.5,
            };
            service = (service as f64 * factor) as u64;
        }
        if node.slow != 1.0 {
            service = (service as f64 * node.slow) as u64;
        }
        let service = service + done.extra_cpu_ns;
        let finish = now + SimTime(service);
        node.busy_until = finish;
        if warm {
            node.metrics.commands += 1;
            node.metrics.busy_ns += service;
        }
        node.window_commands += 1;
        node.window_busy_ns += service;
        // The way back takes as long as the way there.
        let reply_at = finish + (r.arrived - r.sent);
        if done.reply == Reply::Oom && r.has(FLAG_COUNTED) {
            self.ks_metrics[ks].oom_errors += 1;
        }
        if r.stage == Stage::First && k.operation == Operation::Lock && done.reply == Reply::Ok {
            self.monitor.lock_set(r.key.id, r.token);
        }
        if lock_release {
            if let Command::Del(_) = cmd {
                if done.reply == Reply::Integer(1) {
                    if !self.monitor.lock_owned_by(r.key.id, r.token) && r.has(FLAG_COUNTED) {
                        self.ks_metrics[ks].foreign_lock_deletes += 1;
                    }
                    self.monitor.lock_deleted(r.key.id);
                }
            }
        }
        if r.has(FLAG_ORPHAN) {
            self.release(req); // the client gave up: nobody reads this reply
            return;
        }
        if r.has(FLAG_BACKGROUND) && r.stage != Stage::BgLock {
            if r.stage == Stage::WriteBack && done.reply == Reply::Ok {
                self.written(now, &r);
            }
            self.release(req);
            return;
        }
        let slot = &mut self.requests[req as usize];
        slot.stamp = done.stamp;
        slot.reply = done.reply;
        let deadline = r.sent + self.scn.keyspaces[ks].client_timeout;
        if r.has(FLAG_BACKGROUND) || reply_at <= deadline {
            self.queue.push(reply_at, Event::Reply { req });
        } else if !queued {
            // Too late: the client gives up at its timeout (a queued command's timer runs
            // already).
            self.start_client_timer(req, deadline);
        }
    }

    /// Schedules a client timeout for `req`'s current call at `at`; the slot is kept until
    /// it fires.
    fn start_client_timer(&mut self, req: u32, at: SimTime) {
        let slot = &mut self.requests[req as usize];
        slot.timers = slot
            .timers
            .checked_add(1)
            .expect("at most a few timers per request");
        self.queue.push(at, Event::ClientTimeout { req });
    }

    /// A reply reaches its client at `now`.
    fn on_reply_event(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        self.requests[req as usize].flags &= !FLAG_AWAITING;
        let ks = r.ks as usize;
        if !r.has(FLAG_BACKGROUND) {
            if r.has(FLAG_COUNTED) {
                let us = (now - r.sent).as_ns() / 1000;
                self.redis_latency_us[ks].record(us.max(1));
            }
            self.breaker_outcome(now, &r, true);
        }
        self.on_reply(now, req, r.reply);
    }

    /// Tells the instance's circuit breaker (if the keyspace has one) how a call ended.
    fn breaker_outcome(&mut self, now: SimTime, r: &Request, ok: bool) {
        let ks = r.ks as usize;
        if let Some(b) = &self.scn.keyspaces[ks].strategy.breaker {
            let (threshold, open_for) = (b.failures, b.open_for);
            self.breaker(r.instance, ks)
                .record(now, ok, threshold, open_for);
        }
    }

    /// A client timer fires: when the call it guards is still unanswered, the client gives
    /// up (a command still waiting at its shard runs later as an orphan, its effects real).
    fn on_client_timeout(&mut self, now: SimTime, req: u32) {
        let slot = &mut self.requests[req as usize];
        slot.timers -= 1;
        let r = *slot;
        let k = &self.scn.keyspaces[r.ks as usize];
        let current = r.has(FLAG_AWAITING) && r.sent + k.client_timeout == now;
        if !current {
            if r.timers == 0 && r.has(FLAG_RELEASED) {
                self.requests[req as usize].flags &= !FLAG_RELEASED;
                self.free.push(req);
            }
            return;
        }
        let client = if r.has(FLAG_QUEUED) {
            // The shard still holds the command: it keeps this slot as an orphan, and the
            // client goes on in a slot of its own.
            self.requests[req as usize].flags = (r.flags & !FLAG_AWAITING) | FLAG_ORPHAN;
            self.alloc(Request {
                flags: r.flags & !(FLAG_QUEUED | FLAG_AWAITING),
                timers: 0,
                ..r
            })
        } else {
            self.requests[req as usize].flags &= !FLAG_AWAITING;
            req
        };
        if r.has(FLAG_COUNTED) {
            let us = (now - r.sent).as_ns() / 1000;
            self.redis_latency_us[r.ks as usize].record(us.max(1));
            self.ks_metrics[r.ks as usize].redis_timeouts += 1;
        }
        self.breaker_outcome(now, &r, false);
        self.on_redis_failed(now, client);
    }

    /// A refusal from a down shard reaches the client at `now`.
    fn on_redis_refused(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        self.requests[req as usize].flags &= !FLAG_AWAITING;
        if !r.has(FLAG_BACKGROUND) {
            self.breaker_outcome(now, &r, false);
        }
        self.on_redis_failed(now, req);
    }

    /// A write-back landed: close the key's stampede episode, record the value's envelope.
    fn written(&mut self, now: SimTime, r: &Request) {
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        let k = &self.scn.keyspaces[ks];
        self.monitor.written(ks, r.key.id);
        if let Some(size) = self.clients[ks].stampede.written(r.key.id) {
            if r.has(FLAG_COUNTED) {
                self.stampede_size[ks].record(size as u64);
            }
        }
        let soft = match k.strategy.kind {
            StrategyKind::StaleWhileRevalidate { soft_ttl, .. } => Some(soft_ttl),
            StrategyKind::XFetch { .. } => Some(k.ttl),
            _ => None,
        };
        if let Some(soft_ttl) = soft {
            let ttl = SimTime::from_ms(self.ttl_ms(r));
            self.clients[ks].meta.insert(
                r.key.id,
                ValueMeta {
                    soft_expiry: now + soft_ttl,
                    expiry: now + ttl,
                    delta: r.sent.saturating_sub(r.load_started),
                },
            );
        }
    }

    fn on_reply(&mut self, now: SimTime, req: u32, reply: Reply) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        let k = &self.scn.keyspaces[ks];
        let counted = r.has(FLAG_COUNTED);
        // Back to the value key after a lock step.
        self.requests[req as usize].key = r.value_key;
        match (r.stage, k.operation) {
            (Stage::First, Operation::RateLimit) => match reply {
                Reply::Integer(_) | Reply::Ok => {
                    self.answer(ks, req, now, false);
                    self.release(req);
                }
                _ => self.fail(ks, req),
            },
            (Stage::First, Operation::Lock) => match reply {
                Reply::Ok | Reply::Nil => {
                    if reply == Reply::Ok {
                        if counted {
                            self.ks_metrics[ks].lock_acquired += 1;
                        }
                        self.lock_work(now, req, true);
                    } else if counted {
                        self.ks_metrics[ks].lock_contended += 1;
                    }
                    self.answer(ks, req, now, false);
                    self.release(req);
                }
                _ => self.fail(ks, req),
            },
            (Stage::First | Stage::SfPoll, _) if reply == Reply::Value => self.on_hit(now, req),
            (Stage::First, _) => {
                self.monitor.missed(now, ks, r.value_key.id);
                if counted {
                    let m = &mut self.ks_metrics[ks];
                    m.misses += 1;
                    if r.has(FLAG_RETRY) {
                        m.retries += 1;
                        m.retries_reexecuted += 1;
                    }
                }
                match k.strategy.kind {
                    StrategyKind::SingleFlight { .. } if reply == Reply::Nil => {
                        self.requests[req as usize].key = self.lock_key(r.value_key);
                        self.requests[req as usize].waited_since = now;
                        self.send(now, req, Stage::SfLock);
                    }
                    _ => self.load(now, req),
                }
            }
            (Stage::SfLock, _) => {
                if reply == Reply::Ok {
                    self.requests[req as usize].flags |= FLAG_HOLDS_LOCK;
                    self.load(now, req);
                } else {
                    if counted {
                        self.ks_metrics[ks].lock_waits += 1;
                    }
                    self.wait_or_fallback(now, req);
                }
            }
            (Stage::SfPoll, _) => self.wait_or_fallback(now, req),
            (Stage::BgLock, _) => {
                if reply == Reply::Ok {
                    self.requests[req as usize].flags |= FLAG_HOLDS_LOCK;
                    self.load(now, req);
                } else {
                    self.release(req); // another instance is refreshing
                }
            }
            (Stage::WriteBack | Stage::Refresh | Stage::Release, _) => {
                unreachable!("background stages end at the shard")
            }
        }
    }

    /// Single-flight waiter: poll again after `poll`, or give up after `max_wait` and load.
    fn wait_or_fallback(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let StrategyKind::SingleFlight { poll, max_wait, .. } =
            self.scn.keyspaces[ks].strategy.kind
        else {
            unreachable!("only single-flight waits for a lock")
        };
        if now + poll - r.waited_since > max_wait {
            if r.has(FLAG_COUNTED) {
                self.ks_metrics[ks].lock_wait_timeouts += 1;
            }
            self.load(now, req);
        } else {
            self.queue.push(now + poll, Event::Poll { req });
        }
    }

    /// A Redis hit of a user request (first GET or a single-flight poll).
    fn on_hit(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let counted = r.has(FLAG_COUNTED);
        if r.has(FLAG_RETRY) && counted {
            self.ks_metrics[ks].retries += 1;
        }
        if r.has(FLAG_RETRY) {
            self.monitor.retry_answered(r.value_key.id);
        }
        if let Some(v) = ValueInfo::from_stamp(r.stamp) {
            let final_use = r.has(FLAG_FINAL);
            self.monitor
                .read(now, ks, r.tenant, v, final_use, r.started);
        }
        if k.operation == Operation::Session {
            self.send_background(now, &r, r.value_key, Stage::Refresh);
        }
        let meta = self.clients[ks].meta.get(&r.value_key.id).copied();
        match (&k.strategy.kind, meta) {
            (StrategyKind::StaleWhileRevalidate { .. }, Some(m)) if now > m.soft_expiry => {
                if counted {
                    let km = &mut self.ks_metrics[ks];
                    km.stale_serves += 1;
                    km.background_loads += 1;
                }
                let lock = self.lock_key(r.value_key);
                self.send_background(now, &r, lock, Stage::BgLock);
            }
            (StrategyKind::XFetch { beta }, Some(m)) => {
                let beta = *beta;
                let rng = &mut self.clients[ks].rng;
                if xfetch_recompute(now, m.delta, beta, m.expiry, rng) {
                    if counted {
                        self.ks_metrics[ks].background_loads += 1;
                    }
                    let bg = Request {
                        flags: (r.flags & FLAG_COUNTED) | FLAG_BACKGROUND,
                        started: now,
                        ..r
                    };
                    let id = self.alloc(bg);
                    self.load(now, id);
                }
            }
            _ => {}
        }
        self.answer(ks, req, now, true);
        self.finish_fetch(now, req, true);
        self.release(req);
    }

    /// Sends request `req` to its keyspace's origin.
    fn load(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        self.requests[req as usize].load_started = now;
        self.clients[ks].stampede.load_started(r.value_key.id);
        if r.has(FLAG_COUNTED) {
            self.ks_metrics[ks].origin_loads += 1;
        }
        // The load reaches the origin now (no network delay is modelled on this side).
        self.on_origin(now, req);
    }

    fn on_origin(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let oi = self.scn.keyspaces[r.ks as usize]
            .origin
            .expect("validated: operations that load have an origin");
        match self.origins[oi].arrive(now, req, r.has(FLAG_COUNTED)) {
            Admit::Started { service } => self.queue.push(now + service, Event::OriginDone { req }),
            Admit::Queued { deadline } => {
                if let Some(at) = deadline {
                    self.queue
                        .push(at, Event::OriginTimeout { origin: oi as u16 });
                }
            }
            Admit::Rejected => self.load_failed(now, req),
        }
    }

    /// Loads that have waited their origin's timeout by `now` give up, at their own time.
    fn on_origin_timeout(&mut self, now: SimTime, oi: usize) {
        let requests = &self.requests;
        let expired = self.origins[oi].expire(now, |id| requests[id as usize].has(FLAG_COUNTED));
        for id in expired {
            self.load_failed(now, id);
        }
    }

    fn on_origin_done(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let oi = self.scn.keyspaces[ks].origin.expect("validated");
        let counted_of = |reqs: &Vec<Request>, id: u32| reqs[id as usize].has(FLAG_COUNTED);
        let requests = &self.requests;
        for next in self.origins[oi].complete(now, |id| counted_of(requests, id)) {
            match next {
                Next::Started { req: id, service } => self
                    .queue
                    .push(now + service, Event::OriginDone { req: id }),
                Next::TimedOut { req: id } => self.load_failed(now, id),
            }
        }
        self.end_fallback_load(&r);
        if self.scn.keyspaces[ks].operation == Operation::Idempotency
            && r.flags & (FLAG_WILL_RETRY | FLAG_RETRY) != 0
            && self.monitor.executed(r.value_key.id)
        {
            // The command ran twice: only a database idempotency record notices.
            if self.scn.keyspaces[ks].fallback.db_idempotency {
                self.monitor
                    .prevented(now, ks, Invariant::DuplicateExecution);
            } else {
                self.monitor
                    .violation(now, ks, Invariant::DuplicateExecution, SimTime::ZERO);
            }
        }
        if !r.has(FLAG_BACKGROUND) {
            self.answer(ks, req, now, false);
            self.finish_fetch(now, req, false);
        }
        // Write the value back (nobody waits), then release the lock if one was taken.
        self.send_background(now, &r, r.value_key, Stage::WriteBack);
        if r.has(FLAG_HOLDS_LOCK) {
            let lock = self.lock_key(r.value_key);
            self.send_background(now, &r, lock, Stage::Release);
        }
        self.release(req);
    }

    /// The origin rejected or timed out a load.
    fn load_failed(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.end_fallback_load(&r);
        if !r.has(FLAG_BACKGROUND) {
            self.finish_fetch(now, req, false);
        }
        self.fail(ks, req);
    }

    /// A fallback load ended: free its bulkhead slot.
    fn end_fallback_load(&mut self, r: &Request) {
        if r.has(FLAG_FALLBACK_LOAD) {
            let slot = r.ks as usize * self.scn.app_instances as usize + r.instance as usize;
            self.fallback_in_flight[slot] -= 1;
        }
    }

    /// The leader of a coalesced fetch finished: answer the requests that waited for it.
    fn finish_fetch(&mut self, now: SimTime, req: u32, hit: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        if !self.clients[ks].local.is_empty() {
            self.clients[ks].local[r.instance as usize].put(r.value_key.id, now);
            if self.monitor.tracks_copies(ks) {
                let loaded = ValueInfo {
                    loaded_at: r.load_started,
                    tenant: r.tenant,
                };
                let value = if hit {
                    ValueInfo::from_stamp(r.stamp).unwrap_or(loaded)
                } else {
                    loaded
                };
                self.monitor
                    .copy_put(now, ks, r.instance, r.value_key.id, value);
            }
        }
        if r.has(FLAG_LEADER) {
            for w in self.coalescer.finish(r.instance as u32, r.value_key.id) {
                if hit {
                    self.cur.keyspace_hits[ks] += 1;
                }
                self.answer(ks, w, now, false);
                self.release(w);
            }
        }
    }

    /// Records a user-visible answer at `at` (`hit`: answered by a Redis hit).
    fn answer(&mut self, ks: usize, req: u32, at: SimTime, hit: bool) {
        self.ks_clock[ks].advance(at, "a keyspace's recorders");
        let r = self.requests[req as usize];
        let lat = ((at - r.started).as_ns() / 1000).max(1);
        self.cur_p99[ks].record(lat);
        if hit {
            self.cur.keyspace_hits[ks] += 1;
        }
        if r.has(FLAG_COUNTED) {
            if hit {
                self.ks_metrics[ks].redis_hits += 1;
            }
            self.latency_us[ks].record(lat);
        }
    }

    fn fail(&mut self, ks: usize, req: u32) {
        if self.requests[req as usize].has(FLAG_COUNTED) {
            self.ks_metrics[ks].errors += 1;
        }
        self.release(req);
    }

    fn on_window_end(&mut self, now: SimTime) {
        // Memory is read as the shards hold it now: serverCron ticks due by now first.
        for n in 0..self.nodes.len() {
            self.catch_up_cron(n, now);
        }
        let fresh = self.empty_window(now);
        let mut w = std::mem::replace(&mut self.cur, fresh);
        let mut ev_by_ks = vec![0u64; self.scn.keyspaces.len()];
        for (i, n) in self.nodes.iter_mut().enumerate() {
            let used = n.shard.used_memory();
            w.shard_used_memory[i] = used;
            n.metrics.used_memory_peak_bytes = n.metrics.used_memory_peak_bytes.max(used);
            w.shard_commands[i] = n.window_commands;
            w.shard_busy_ns[i] = n.window_busy_ns;
            n.window_commands = 0;
            n.window_busy_ns = 0;
            for (ks, e) in ev_by_ks.iter_mut().enumerate() {
                *e += n.shard.tag_counters().evicted[ks];
            }
        }
        for (ks, &total) in ev_by_ks.iter().enumerate() {
            w.keyspace_evictions[ks] = total - self.last_evictions[ks];
            self.last_evictions[ks] = total;
            let h = &mut self.cur_p99[ks];
            w.keyspace_p99_us[ks] = h.value_at_quantile(0.99);
            h.reset();
        }
        for (oi, o) in self.origins.iter_mut().enumerate() {
            w.origin_loads[oi] = o.window_loads;
            o.window_loads = 0;
            // Connections held across the boundary count in the new window too.
            w.origin_peak_concurrency[oi] = o.window_peak_busy.max(o.busy());
            o.window_peak_busy = o.busy();
            w.origin_latency_p99_us[oi] = o.window_latency_us.value_at_quantile(0.99);
            o.window_latency_us.reset();
        }
        std::mem::swap(
            &mut w.invariant_violations,
            &mut self.monitor.window_violations,
        );
        std::mem::swap(
            &mut w.invariant_max_staleness_ns,
            &mut self.monitor.window_staleness_ns,
        );
        self.windows.push(w);
        if let Some(p) = self.progress {
            p.store(now.as_ns(), std::sync::atomic::Ordering::Relaxed);
        }
        if now < self.scn.duration {
            let next = (now + self.scn.window).min(self.scn.duration);
            self.queue.push(next, Event::WindowEnd);
        }
    }

    fn finish(mut self, plan: usize) -> PlanResult {
        for n in 0..self.nodes.len() {
            self.catch_up_cron(n, self.scn.duration);
        }
        let (ks_now, shard_now) = self.shard_counters();
        let after = |k: usize, i: usize| ks_now[k][i] - self.warmup_keyspace[k][i];
        let n_ks = self.scn.keyspaces.len();
        let evictions = (0..n_ks).map(|k| after(k, 0)).collect();
        let before_ttl: Vec<u64> = (0..n_ks).map(|k| after(k, 1)).collect();
        let expirations = (0..n_ks).map(|k| after(k, 2)).collect();
        let mut shards = Vec::new();
        for (i, n) in self.nodes.iter_mut().enumerate() {
            n.metrics.used_memory_end_bytes = n.shard.used_memory();
            n.metrics.keys_end = n.shard.keys();
            n.metrics.evicted_keys = shard_now[i][0] - self.warmup_shard[i][0];
            n.metrics.expired_keys = shard_now[i][1] - self.warmup_shard[i][1];
            n.metrics.oom_errors = shard_now[i][2] - self.warmup_shard[i][2];
            shards.push(n.metrics.clone());
        }
        let mut invariants = self.monitor.finish();
        // Counted by the shards, not timed: the run scope only.
        let i = Invariant::CriticalEvictedBeforeTtl.index();
        for (ki, &n) in before_ttl.iter().enumerate() {
            if invariants.monitored[ki][i] {
                invariants.tallies[0][ki][i].violations = n;
            }
        }
        for (k, m) in self.ks_metrics.iter_mut().enumerate() {
            m.latency_us = self.latency_us[k].histogram();
            m.redis_latency_us = self.redis_latency_us[k].histogram();
            m.stampede_size = self.stampede_size[k].histogram();
        }
        PlanResult {
            plan,
            keyspaces: self.ks_metrics,
            keyspace_evictions: evictions,
            keyspace_evictions_before_ttl: before_ttl,
            keyspace_expirations: expirations,
            shards,
            origins: self.origins.into_iter().map(|o| o.finish()).collect(),
            windows: self.windows,
            events: self.events,
            requests_total: self.requests_total,
            invariants,
            faults: self.fault_outcomes,
            warm_start_refused: self.warm_refused,
        }
    }
}
