//! One plan's simulation: wires traffic, application instances and their strategies, Redis
//! shards and origins on the event engine, and owns the closed `enum Event` and its dispatch.
//!
//! Request path: a keyspace's arrival picks a tenant, a key and an application instance; the
//! instance may answer from its local L1 cache or join a load already in flight (coalescing);
//! otherwise the command goes to the shard owning the key's slot (half a round trip), the
//! shard's single thread serves commands in arrival order (Lindley recursion over
//! `busy_until`: queueing, eviction and expiry work all delay later commands), the reply comes
//! back (the other half), and the keyspace's read strategy (`client::Strategy`) turns what
//! happened into the next step, which `sim` carries out without knowing the strategy: load
//! from the origin's connection pool and write back, take a Redis lock first and poll while
//! another holds it, or answer and refresh in the background.
//!
//! Traffic uses streams named by keyspace, never by plan, so every plan sees the same requests
//! (common random numbers).
//!
//! Faults (`faults`) change shards, the network and pub/sub delivery on the timeline; when a
//! Redis call fails the keyspace's fallback policy decides (retry, origin behind a bulkhead,
//! fail open or closed, skip the lock). The business-invariant monitors (`invariants`) watch
//! every read, lock and critical command and count violations with their time.

mod arrivals;
mod counters;
mod fallback;
mod faults;
mod invariants;
mod load;
mod node;
mod projection;
mod read;
mod replica;
mod request;
mod stationary;
mod tenants;
mod traffic;
mod values;
mod warm;
mod warm_client;
mod windows;
mod wire;

pub use invariants::monitored;

use crate::client::{
    Breaker, Coalescer, Leases, LocalCache, RateLimiters, StampedeTracker, Strategy, ValueMeta,
};
use crate::engine::IdMap;
use crate::engine::{EventQueue, MonotoneClock, RngStream, SimTime};
use crate::metrics::hotkeys::{SpaceSaving, HOT_KEY_COUNTERS};
use crate::metrics::{
    FaultOutcome, LatencyRecorder, PlanResult, ShardMetrics, Window, LATENCY_HIGHEST_US,
};
use crate::origin::OriginState;
use crate::redis::shard::Shard;
use crate::scenario::dist::DrawBuffer;
use crate::scenario::{EventAction, Operation, Scenario, Start};
use arrivals::{Arrivals, Lookahead};
use counters::Counters;
use invariants::Monitor;
use node::Node;
use replica::Replica;
use request::{Request, Stage, DELETE_JOB};
use std::collections::VecDeque;
use traffic::Placement;
pub use traffic::Traffic;

/// The arrival source's read-only view of plan `$sim` (a macro, so that the borrow of each
/// field stays apart from `arrivals` and `queue`).
macro_rules! lookahead {
    ($sim:ident) => {
        Lookahead {
            place: Placement {
                scn: $sim.scn,
                traffic: $sim.traffic,
                version: &$sim.version,
                cluster_of_ks: &$sim.cluster_of_ks,
                cluster_first_node: &$sim.cluster_first_node,
            },
            nodes: &$sim.nodes,
            clients: &$sim.clients,
        }
    };
}

/// The closed set of events of a plan's simulation.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// A retry of an idempotent command arrives (same key as request `req`'s).
    Retry { req: u32 },
    /// A command reaches its shard.
    AtShard { req: u32 },
    /// A GET reaches a replica (`Sim::replicas` index).
    AtReplica { req: u32, replica: u32 },
    /// A replica's thread is free again and GETs wait for it.
    ReplicaFree { replica: u32 },
    /// An origin finished a load.
    OriginDone { req: u32 },
    /// A request waiting for a lock holder polls again.
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

/// Per-keyspace client state of a plan.
struct KsClient {
    /// The read strategy.
    strategy: Strategy,
    /// Local caches per instance (when the strategy has one).
    local: Vec<LocalCache>,
    /// Value envelopes (soft expiry, delta) for strategies that read them.
    meta: IdMap<u64, ValueMeta>,
    stampede: StampedeTracker,
    /// The leases granted and the token each holds (the `lease` strategy).
    leases: Leases,
    /// Rate-limit state per actor (rate-limit keyspaces).
    rate: RateLimiters,
    rng: RngStream,
}

struct Sim<'a> {
    scn: &'a Scenario,
    progress: Option<&'a std::sync::atomic::AtomicU64>,
    traffic: &'a Traffic,
    queue: EventQueue<Event>,
    /// The pending arrivals (a third of all events, one per keyspace), beside the queue:
    /// `run` takes the earlier by (time, sequence number), so equal times run in the order
    /// they were scheduled, arrivals and queued events alike.
    arrivals: Arrivals,
    nodes: Vec<Node>,
    /// The replicas of the nodes, each node's together (`Node::replicas`).
    replicas: Vec<Replica>,
    /// Per cluster: index of its first node in `nodes` (usize::MAX when unused by the plan).
    cluster_first_node: Vec<usize>,
    /// Per keyspace: cluster index.
    cluster_of_ks: Vec<usize>,
    origins: Vec<OriginState>,
    requests: Vec<Request>,
    free: Vec<u32>,
    op_rng: Vec<RngStream>,
    clients: Vec<KsClient>,
    coalescer: Coalescer,
    /// Per instance and cluster.
    breakers: Vec<Breaker>,
    version: Vec<u64>,
    idem_counter: Vec<u64>,
    /// What is counted after the warm-up.
    counters: Counters,
    windows: Vec<Window>,
    /// The width of the window in progress: `window_ms`, doubled at each merge of the
    /// recorded windows (`metrics::series`).
    window_width: SimTime,
    cur: Window,
    cur_p99: Vec<LatencyRecorder>,
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
    /// Per fault: a failover's replication lag in this run (zero for other kinds).
    fault_lag: Vec<SimTime>,
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
    /// Figures per keyspace and tenant.
    tenant_counters: tenants::TenantCounters,
}

fn ns(us: f64) -> u64 {
    crate::engine::time::f64_to_u64(us * 1000.0)
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

/// Sets every plan of `scn` up, its warm start included, one after another, and simulates
/// nothing (the `warm` benchmark): per plan, the keys resident at time 0, ghosts included.
pub fn warm_start_plans(scn: &Scenario, seed: u64) -> Vec<u64> {
    let traffic = Traffic::new(scn);
    (0..scn.plans.len())
        .map(|p| {
            let sim = Sim::new(scn, &traffic, p, seed);
            sim.nodes.iter().map(|n| n.shard.keys()).sum()
        })
        .collect()
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
        let mut replicas = Vec::new();
        let mut cluster_first_node = vec![usize::MAX; scn.clusters.len()];
        for (ci, c) in scn.clusters.iter().enumerate() {
            if !cluster_of_ks.contains(&ci) {
                continue;
            }
            cluster_first_node[ci] = nodes.len();
            for si in 0..c.shards as usize {
                let rng = RngStream::named(seed, &format!("cluster/{}/shard/{si}", c.name));
                let first_replica = replicas.len();
                for ri in 0..c.replicas_per_shard {
                    let name = format!("cluster/{}/shard/{si}/replica/{ri}", c.name);
                    let rng = RngStream::named(seed, &name);
                    replicas.push(Replica::new(
                        nodes.len(),
                        DrawBuffer::new(c.service_time_us.clone(), rng.child(4)),
                        DrawBuffer::new(c.network_rtt_us.clone(), rng.child(5)),
                        DrawBuffer::new(c.replication_lag_ms.clone(), rng.child(6)),
                    ));
                }
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
                    window_bytes_in: 0,
                    window_bytes_out: 0,
                    hot_ops: SpaceSaving::new(HOT_KEY_COUNTERS),
                    hot_bytes: SpaceSaving::new(HOT_KEY_COUNTERS),
                    down: None,
                    slow: 1.0,
                    history: None,
                    replicas: (first_replica, c.replicas_per_shard),
                    next_replica: 0,
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
                strategy: Strategy::of(&k.strategy.kind),
                local: match &k.strategy.local_cache {
                    Some(l) => (0..scn.app_instances)
                        .map(|_| LocalCache::new(l.capacity_keys, l.ttl))
                        .collect(),
                    None => Vec::new(),
                },
                meta: IdMap::default(),
                stampede: StampedeTracker::default(),
                leases: Leases::default(),
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
            arrivals: Arrivals::new(scn, seed),
            nodes,
            replicas,
            cluster_first_node,
            cluster_of_ks,
            origins,
            requests: Vec::new(),
            free: Vec::new(),
            op_rng: named("operations"),
            clients,
            coalescer: Coalescer::default(),
            breakers: vec![Breaker::default(); scn.app_instances as usize * scn.clusters.len()],
            version: vec![0; n_ks],
            idem_counter: vec![0; n_ks],
            counters: Counters::new(n_ks),
            windows: Vec::new(),
            window_width: scn.window,
            cur: Window::default(),
            // Per-window p99s need 2 significant digits (1 %), not the totals' 3: an 8x smaller
            // counts array keeps the per-request record in cache.
            cur_p99: (0..n_ks)
                .map(|_| LatencyRecorder::new(LATENCY_HIGHEST_US, 2))
                .collect(),
            last_evictions: vec![0; n_ks],
            warmup_keyspace: vec![[0; 3]; n_ks],
            warmup_shard: Vec::new(),
            events: 0,
            requests_total: 0,
            monitor: Monitor::new(scn),
            fault_nodes: Vec::new(),
            fault_outcomes: Vec::new(),
            fault_lag: Vec::new(),
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
            tenant_counters: tenants::TenantCounters::new(n_ks, scn.tenants.len()),
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
        sim.start_histories();
        sim.project_memory();
        if scn.start == Start::SteadyState {
            sim.warm_refused = sim.warm_start(seed);
        }
        for ks in 0..n_ks {
            let look = lookahead!(sim);
            sim.arrivals.start(ks, &look, &mut sim.queue);
        }
        for (i, e) in scn.events.iter().enumerate() {
            sim.queue.push(e.at, Event::Timeline { index: i as u16 });
        }
        sim.queue
            .push(scn.window.min(scn.duration), Event::WindowEnd);
        sim.warmup_shard = vec![[0; 3]; sim.nodes.len()];
        sim.enable_eviction_logs();
        sim.schedule_faults(seed);
        if scn.warmup > SimTime::ZERO {
            sim.queue.push(scn.warmup, Event::WarmupEnd);
        }
        sim
    }

    /// Handles every event up to the end of the horizon, in (time, sequence number) order:
    /// the queue's and the pending arrivals' alike.
    fn run(&mut self) {
        // Only taking an arrival changes the pending arrivals.
        let mut arrival = self.arrivals.peek();
        loop {
            let queued = self.queue.peek().map(|(t, seq)| (t.0, seq));
            if queued.is_none_or(|q| arrival < q) {
                let arrival_ns = arrival.0;
                if arrival_ns == u64::MAX || SimTime(arrival_ns) > self.scn.duration {
                    break;
                }
                self.events += 1;
                let look = lookahead!(self);
                let next = self.arrivals.next(&look, &mut self.queue);
                self.on_arrival(next);
                arrival = self.arrivals.peek();
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
                Event::AtReplica { req, replica } => self.on_replica(now, req, replica as usize),
                Event::ReplicaFree { replica } => self.on_replica_free(now, replica as usize),
                Event::OriginDone { req } => self.on_origin_done(now, req),
                Event::Poll { req } => self.send(now, req, Stage::Poll),
                Event::Timeline { index } => self.on_timeline(now, index as usize),
                Event::WindowEnd => self.on_window_end(now),
                Event::WarmupEnd => {
                    for n in 0..self.nodes.len() {
                        self.catch_up_cron(n, now);
                    }
                    (self.warmup_keyspace, self.warmup_shard) = self.shard_counters();
                    self.drop_eviction_logs();
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
}
