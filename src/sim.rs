//! One plan's simulation: wires traffic, application requests, Redis shards and origins on the
//! event engine, and owns the closed `enum Event` and its dispatch.
//!
//! Request path: a keyspace's arrival picks a tenant and a key, sends the command to the shard
//! owning the key's slot (half a round trip), the shard's single thread serves commands in
//! arrival order (Lindley recursion over `busy_until`: queueing, eviction and expiry work all
//! delay later commands), the reply comes back (the other half), and on a miss the load goes to
//! the origin's connection pool, then the value is written back.
//!
//! Traffic uses streams named by keyspace, never by plan, so every plan sees the same requests
//! (common random numbers).

use crate::engine::{EventQueue, RngStream, SimTime};
use crate::metrics::{KeyspaceMetrics, OriginMetrics, PlanResult, ShardMetrics, Window};
use crate::redis::db::KeyRef;
use crate::redis::shard::{Command, Reply, Shard};
use crate::redis::slots::{key_hash_slot, CLUSTER_SLOTS};
use crate::scenario::dist::Dist;
use crate::scenario::{EventAction, Jitter, Operation, Popularity, Scenario};
use crate::workload::popularity::{HotSet, Uniform, Zipf};
use std::collections::VecDeque;
use std::sync::Arc;

/// Key popularity sampler of one (keyspace, tenant).
#[derive(Debug)]
enum Sampler {
    Zipf(Zipf),
    Uniform(Uniform),
    HotSet(HotSet),
}

impl Sampler {
    fn sample(&self, rng: &mut RngStream) -> u64 {
        match self {
            Sampler::Zipf(z) => z.sample(rng),
            Sampler::Uniform(u) => u.sample(rng),
            Sampler::HotSet(h) => h.sample(rng),
        }
    }
}

/// Plan-independent traffic tables, built once per scenario and shared by every plan.
#[derive(Debug)]
pub struct Traffic {
    samplers: Vec<Vec<Sampler>>,
    /// Per keyspace: the maximum rate multiplier (for thinning).
    max_multiplier: Vec<f64>,
    /// Per keyspace and tenant: a fixed slot when the template hashes a tag (`{{tenant}}`).
    tag_slot: Vec<Vec<Option<u16>>>,
}

impl Traffic {
    /// Builds the samplers of every keyspace and tenant.
    pub fn new(scn: &Scenario) -> Traffic {
        let mut samplers = Vec::new();
        let mut max_multiplier = Vec::new();
        let mut tag_slot = Vec::new();
        for ks in &scn.keyspaces {
            let mut per_tenant = Vec::new();
            let mut slots = Vec::new();
            for t in &scn.tenants {
                let n = ((ks.keys_per_tenant as f64 * t.size).round() as u64).max(1);
                per_tenant.push(match ks.popularity {
                    Popularity::Zipf(a) => Sampler::Zipf(Zipf::new(n, a)),
                    Popularity::Uniform => Sampler::Uniform(Uniform::new(n)),
                    Popularity::HotSet {
                        hot_keys_fraction,
                        hot_requests_fraction,
                    } => Sampler::HotSet(HotSet::new(n, hot_keys_fraction, hot_requests_fraction)),
                });
                let tagged = ks.key_template.contains("{{tenant}}");
                slots.push(tagged.then(|| key_hash_slot(t.name.as_bytes())));
            }
            samplers.push(per_tenant);
            tag_slot.push(slots);
            let hourly = ks.hourly_profile.iter().cloned().fold(0.0, f64::max);
            let bursts: f64 = ks.bursts.iter().map(|b| b.multiplier.max(1.0)).product();
            max_multiplier.push((hourly * bursts).max(1e-9));
        }
        Traffic {
            samplers,
            max_multiplier,
            tag_slot,
        }
    }
}

/// The closed set of events of a plan's simulation.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// The next arrival of a keyspace.
    Arrival { ks: u16 },
    /// A command reaches its shard.
    AtShard { req: u32 },
    /// A load reaches its origin.
    AtOrigin { req: u32 },
    /// An origin finished a load.
    OriginDone { req: u32 },
    /// A timeline event.
    Timeline { index: u16 },
    /// A time-window boundary.
    WindowEnd,
}

/// Where a request is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The first Redis command (GET, INCR, SET NX).
    First,
    /// A write-back after an origin load (SET), nobody waits for it.
    WriteBack,
    /// A TTL refresh on a session hit.
    Refresh,
    /// Releasing a lock (compare-and-delete).
    Release,
}

#[derive(Clone, Copy, Debug)]
struct Request {
    ks: u16,
    stage: Stage,
    is_retry: bool,
    counted: bool,
    key: KeyRef,
    shard: u32,
    value_size: u32,
    started: SimTime,
    sent: SimTime,
    origin_enqueued: SimTime,
}

struct Node {
    shard: Shard,
    cluster: usize,
    index: usize,
    busy_until: SimTime,
    service_us: Dist,
    rtt_us: Dist,
    rng: RngStream,
    in_flight: VecDeque<SimTime>,
    metrics: ShardMetrics,
    window_commands: u64,
    window_busy_ns: u64,
}

struct OriginState {
    busy: u32,
    queue: VecDeque<u32>,
    service_ms: Dist,
    concurrency: u32,
    queue_limit: u32,
    timeout: SimTime,
    rng: RngStream,
    metrics: OriginMetrics,
    window_loads: u64,
}

struct Sim<'a> {
    scn: &'a Scenario,
    traffic: &'a Traffic,
    queue: EventQueue<Event>,
    nodes: Vec<Node>,
    /// Per cluster: index of its first node in `nodes` (usize::MAX when unused by the plan).
    cluster_first_node: Vec<usize>,
    /// Per keyspace: cluster index.
    cluster_of_ks: Vec<usize>,
    origins: Vec<OriginState>,
    requests: Vec<Request>,
    free: Vec<u32>,
    arrival_rng: Vec<RngStream>,
    key_rng: Vec<RngStream>,
    op_rng: Vec<RngStream>,
    version: Vec<u64>,
    idem_counter: Vec<u64>,
    ks_metrics: Vec<KeyspaceMetrics>,
    windows: Vec<Window>,
    cur: Window,
    cur_p99: Vec<hdrhistogram::Histogram<u64>>,
    last_evictions: Vec<u64>,
    events: u64,
    requests_total: u64,
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

/// Simulates plan `plan` of `scn` with run seed `seed`.
pub fn run_plan(scn: &Scenario, traffic: &Traffic, plan: usize, seed: u64) -> PlanResult {
    let mut sim = Sim::new(scn, traffic, plan, seed);
    sim.run();
    sim.finish(plan)
}

/// Simulates every plan (in parallel with rayon); results in plan order, identical whatever
/// the thread count.
pub fn run_all_plans(scn: &Scenario, seed: u64) -> Vec<PlanResult> {
    use rayon::prelude::*;
    let traffic = Arc::new(Traffic::new(scn));
    (0..scn.plans.len())
        .into_par_iter()
        .map(|p| run_plan(scn, &traffic, p, seed))
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
                let name = format!("cluster/{}/shard/{si}", c.name);
                let rng = RngStream::named(seed, &name);
                let mut cfg = c.redis.clone();
                cfg.cron_phase_ms = rng.child(9).below(1000 / cfg.hz as u64);
                nodes.push(Node {
                    shard: Shard::new(cfg, &rng),
                    cluster: ci,
                    index: si,
                    busy_until: SimTime::ZERO,
                    service_us: c.service_time_us.clone(),
                    rtt_us: c.network_rtt_us.clone(),
                    rng: rng.child(3),
                    in_flight: VecDeque::new(),
                    metrics: ShardMetrics {
                        cluster: ci,
                        shard: si,
                        ..ShardMetrics::default()
                    },
                    window_commands: 0,
                    window_busy_ns: 0,
                });
            }
        }
        let origins = scn
            .origins
            .iter()
            .map(|o| OriginState {
                busy: 0,
                queue: VecDeque::new(),
                service_ms: o.service_time_ms.clone(),
                concurrency: o.concurrency,
                queue_limit: o.queue_limit,
                timeout: o.timeout,
                rng: RngStream::named(seed, &format!("origin/{}", o.name)),
                metrics: OriginMetrics::default(),
                window_loads: 0,
            })
            .collect();
        let n_ks = scn.keyspaces.len();
        let named = |what: &str| -> Vec<RngStream> {
            scn.keyspaces
                .iter()
                .map(|k| RngStream::named(seed, &format!("keyspace/{}/{what}", k.name)))
                .collect()
        };
        let mut sim = Sim {
            scn,
            traffic,
            queue: EventQueue::new(),
            nodes,
            cluster_first_node,
            cluster_of_ks,
            origins,
            requests: Vec::new(),
            free: Vec::new(),
            arrival_rng: named("arrivals"),
            key_rng: named("keys"),
            op_rng: named("operations"),
            version: vec![0; n_ks],
            idem_counter: vec![0; n_ks],
            ks_metrics: (0..n_ks).map(|_| KeyspaceMetrics::default()).collect(),
            windows: Vec::new(),
            cur: Window::default(),
            cur_p99: Vec::new(),
            last_evictions: vec![0; n_ks],
            events: 0,
            requests_total: 0,
        };
        sim.cur = sim.empty_window(SimTime::ZERO);
        sim.cur_p99 = (0..n_ks)
            .map(|_| crate::metrics::new_latency_histogram())
            .collect();
        for ks in 0..n_ks {
            sim.schedule_arrival(ks, SimTime::ZERO);
        }
        for (i, e) in scn.events.iter().enumerate() {
            sim.queue.push(e.at, Event::Timeline { index: i as u16 });
        }
        sim.queue
            .push(scn.window.min(scn.duration), Event::WindowEnd);
        sim
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
            shard_used_memory: vec![0; self.nodes.len()],
            shard_commands: vec![0; self.nodes.len()],
            shard_busy_ns: vec![0; self.nodes.len()],
        }
    }

    fn rate_multiplier(&self, ks: usize, t: SimTime) -> f64 {
        let k = &self.scn.keyspaces[ks];
        let hour_ms = (self.scn.start_unix_ms + t.as_ms()) / 3_600_000 % 24;
        let mut m = k.hourly_profile[hour_ms as usize];
        for b in &k.bursts {
            if t >= b.start && t < b.end {
                m *= b.multiplier;
            }
        }
        m
    }

    /// Poisson arrivals with a time-varying rate, by thinning.
    fn schedule_arrival(&mut self, ks: usize, from: SimTime) {
        let lambda_max = self.scn.keyspaces[ks].rate_per_s * self.traffic.max_multiplier[ks];
        let mut t = from;
        loop {
            let gap = self.arrival_rng[ks].exp(1.0 / lambda_max);
            t += SimTime::from_secs_f64(gap);
            if t >= self.scn.duration {
                return;
            }
            let accept = self.rate_multiplier(ks, t) / self.traffic.max_multiplier[ks];
            if accept >= 1.0 || self.arrival_rng[ks].next_f64() < accept {
                break;
            }
        }
        self.queue.push(t, Event::Arrival { ks: ks as u16 });
    }

    fn run(&mut self) {
        while let Some((now, ev)) = self.queue.pop() {
            if now > self.scn.duration {
                break;
            }
            self.events += 1;
            match ev {
                Event::Arrival { ks } => self.on_arrival(now, ks as usize),
                Event::AtShard { req } => self.on_shard(now, req),
                Event::AtOrigin { req } => self.on_origin(now, req),
                Event::OriginDone { req } => self.on_origin_done(now, req),
                Event::Timeline { index } => {
                    let e = &self.scn.events[index as usize];
                    match e.action {
                        EventAction::NewVersion => {
                            for &ks in &e.keyspaces {
                                self.version[ks] += 1;
                            }
                        }
                    }
                }
                Event::WindowEnd => self.on_window_end(now),
            }
        }
    }

    fn key_for(&self, ks: usize, tenant: usize, item: u64) -> (KeyRef, u32) {
        let k = &self.scn.keyspaces[ks];
        let h = mix64(
            mix64(item.wrapping_add(0x9E37_79B9_7F4A_7C15))
                ^ ((tenant as u64) << 40)
                ^ (self.version[ks] << 20),
        );
        let id = ((ks as u64) << 56) | (h & ((1u64 << 56) - 1));
        let slot = self.traffic.tag_slot[ks][tenant]
            .unwrap_or((mix64(id ^ 0xC0FF_EE00) % CLUSTER_SLOTS as u64) as u16);
        let cluster = self.cluster_of_ks[ks];
        let node = self.cluster_first_node[cluster]
            + self.scn.clusters[cluster].slot_map.shard_of_slot(slot);
        (
            KeyRef {
                id,
                len: k.key_len_bytes,
            },
            node as u32,
        )
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

    fn release(&mut self, req: u32) {
        self.free.push(req);
    }

    fn on_arrival(&mut self, now: SimTime, ks: usize) {
        self.schedule_arrival(ks, now);
        self.requests_total += 1;
        let k = &self.scn.keyspaces[ks];
        let u = self.key_rng[ks].next_f64();
        let mut acc = 0.0;
        let mut tenant = self.scn.tenants.len() - 1;
        for (i, t) in self.scn.tenants.iter().enumerate() {
            acc += t.traffic_share;
            if u < acc {
                tenant = i;
                break;
            }
        }
        let item = match k.operation {
            Operation::Idempotency => {
                self.idem_counter[ks] += 1;
                self.idem_counter[ks]
            }
            Operation::RateLimit => {
                let actor = self.traffic.samplers[ks][tenant].sample(&mut self.key_rng[ks]);
                let window_id = now.as_ns() / k.window.as_ns();
                actor ^ (window_id << 32)
            }
            _ => self.traffic.samplers[ks][tenant].sample(&mut self.key_rng[ks]),
        };
        self.start_request(now, ks, tenant, item, false);
        if k.operation == Operation::Idempotency
            && k.retry_probability > 0.0
            && self.op_rng[ks].next_f64() < k.retry_probability
        {
            // The client retries the same command later (same idempotency key).
            let at = now + k.retry_delay;
            if at < self.scn.duration {
                let (key, shard) = self.key_for(ks, tenant, item);
                let r = self.new_request(at, ks, tenant, key, shard, true);
                let id = self.alloc(r);
                let send = self.send_delay(shard as usize);
                self.requests[id as usize].sent = at;
                self.queue.push(at + send, Event::AtShard { req: id });
            }
        }
    }

    fn new_request(
        &mut self,
        now: SimTime,
        ks: usize,
        tenant: usize,
        key: KeyRef,
        shard: u32,
        is_retry: bool,
    ) -> Request {
        let _ = tenant;
        let value_size = {
            let mut r = RngStream::new(key.id, 7);
            self.scn.keyspaces[ks]
                .value_size_bytes
                .sample(&mut r)
                .round()
                .clamp(1.0, u32::MAX as f64) as u32
        };
        Request {
            ks: ks as u16,
            stage: Stage::First,
            is_retry,
            counted: now >= self.scn.warmup,
            key,
            shard,
            value_size,
            started: now,
            sent: now,
            origin_enqueued: now,
        }
    }

    fn send_delay(&mut self, node: usize) -> SimTime {
        let n = &mut self.nodes[node];
        let rtt = n.rtt_us.sample(&mut n.rng);
        SimTime(ns(rtt) / 2)
    }

    fn start_request(&mut self, now: SimTime, ks: usize, tenant: usize, item: u64, retry: bool) {
        let (key, shard) = self.key_for(ks, tenant, item);
        let r = self.new_request(now, ks, tenant, key, shard, retry);
        if r.counted {
            self.ks_metrics[ks].requests += 1;
        }
        self.cur.keyspace_requests[ks] += 1;
        let id = self.alloc(r);
        let d = self.send_delay(shard as usize);
        self.queue.push(now + d, Event::AtShard { req: id });
    }

    fn command_of(&self, r: &Request) -> Command {
        let k = &self.scn.keyspaces[r.ks as usize];
        let ttl_ms = self.ttl_ms_for(r);
        match (r.stage, k.operation) {
            (Stage::First, Operation::RateLimit) => Command::IncrExpire { key: r.key, ttl_ms },
            (Stage::First, Operation::Lock) => Command::Set {
                key: r.key,
                value_size: r.value_size,
                ttl_ms,
                nx: true,
            },
            (Stage::First, _) => Command::Get(r.key),
            (Stage::WriteBack, _) => Command::Set {
                key: r.key,
                value_size: r.value_size,
                ttl_ms,
                nx: false,
            },
            (Stage::Refresh, _) => Command::Expire { key: r.key, ttl_ms },
            (Stage::Release, _) => Command::Del(r.key),
        }
    }

    fn ttl_ms_for(&self, r: &Request) -> u64 {
        let k = &self.scn.keyspaces[r.ks as usize];
        let base = k.ttl.as_ms();
        if base == 0 {
            return 0;
        }
        // Jitter is drawn from the key and the write's time so plans see the same values.
        let mut rng = RngStream::new(r.key.id ^ r.started.as_ns(), 11);
        match k.jitter {
            Jitter::None => base,
            Jitter::UniformPct(p) => {
                let f = 1.0 + (rng.next_f64() * 2.0 - 1.0) * p / 100.0;
                ((base as f64 * f).round() as u64).max(1)
            }
            Jitter::UpTo(max) => base + rng.below(max.as_ms() + 1),
        }
    }

    fn on_shard(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let cmd = self.command_of(&r);
        let warm = now >= self.scn.warmup;
        let node = &mut self.nodes[r.shard as usize];
        // serverCron ticks due before this command occupy the thread first.
        while let Some(tick) = node.shard.cron_due(now.max(node.busy_until)) {
            let start = tick.max(node.busy_until);
            let cpu = node.shard.cron(tick);
            node.busy_until = start + SimTime(cpu);
            if warm {
                node.metrics.busy_ns += cpu;
            }
            node.window_busy_ns += cpu;
        }
        while node.in_flight.front().is_some_and(|&f| f <= now) {
            node.in_flight.pop_front();
        }
        let start = now.max(node.busy_until);
        let done = node.shard.execute(start, cmd);
        let service = ns(node.service_us.sample(&mut node.rng)) + done.extra_cpu_ns;
        let finish = start + SimTime(service);
        node.busy_until = finish;
        node.in_flight.push_back(finish);
        node.metrics.max_queue_len = node.metrics.max_queue_len.max(node.in_flight.len() as u64);
        if warm {
            node.metrics.commands += 1;
            node.metrics.busy_ns += service;
        }
        node.window_commands += 1;
        node.window_busy_ns += service;
        let back = node.rtt_us.sample(&mut node.rng);
        let reply_at = finish + SimTime(ns(back) / 2);
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let counted = r.counted;
        if done.reply == Reply::Oom && counted {
            self.ks_metrics[ks].oom_errors += 1;
        }
        match r.stage {
            Stage::WriteBack | Stage::Refresh | Stage::Release => {
                self.release(req);
            }
            Stage::First => {
                let redis_us = (reply_at - r.sent).as_ns() / 1000;
                let timed_out = reply_at - r.sent > k.client_timeout;
                if counted {
                    let m = &mut self.ks_metrics[ks];
                    m.redis_latency_us.saturating_record(redis_us.max(1));
                    if timed_out {
                        m.redis_timeouts += 1;
                    }
                }
                let reply = if timed_out { Reply::Nil } else { done.reply };
                let answer_at = if timed_out {
                    r.sent + k.client_timeout
                } else {
                    reply_at
                };
                match (k.operation, reply) {
                    (Operation::RateLimit, Reply::Integer(v)) => {
                        if counted && v > 1 {
                            self.ks_metrics[ks].rate_limit_increments += 1;
                        }
                        self.hit(ks, req, answer_at);
                    }
                    (Operation::RateLimit, _) => self.fail(ks, req, answer_at),
                    (Operation::Lock, Reply::Ok) => {
                        if counted {
                            self.ks_metrics[ks].lock_acquired += 1;
                        }
                        self.hit(ks, req, answer_at);
                        let hold = self.scn.keyspaces[ks].hold_ms.sample(&mut self.op_rng[ks]);
                        let mut rel = self.requests[req as usize];
                        rel.stage = Stage::Release;
                        let id = self.alloc(rel);
                        let d = self.send_delay(rel.shard as usize);
                        self.queue.push(
                            answer_at + SimTime(ns(hold * 1000.0)) + d,
                            Event::AtShard { req: id },
                        );
                    }
                    (Operation::Lock, Reply::Nil) => {
                        if counted {
                            self.ks_metrics[ks].lock_contended += 1;
                        }
                        self.hit(ks, req, answer_at);
                    }
                    (Operation::Lock, _) => self.fail(ks, req, answer_at),
                    (Operation::Session, Reply::Value) => {
                        let mut refresh = self.requests[req as usize];
                        refresh.stage = Stage::Refresh;
                        let id = self.alloc(refresh);
                        let d = self.send_delay(refresh.shard as usize);
                        self.queue.push(answer_at + d, Event::AtShard { req: id });
                        self.hit(ks, req, answer_at);
                    }
                    (_, Reply::Value) => {
                        if r.is_retry && counted {
                            self.ks_metrics[ks].retries += 1;
                        }
                        self.hit(ks, req, answer_at)
                    }
                    _ => {
                        // A miss: load from the origin.
                        if counted {
                            let m = &mut self.ks_metrics[ks];
                            m.misses += 1;
                            if r.is_retry {
                                m.retries += 1;
                                m.retries_reexecuted += 1;
                            }
                        }
                        self.queue.push(answer_at, Event::AtOrigin { req });
                    }
                }
            }
        }
    }

    fn hit(&mut self, ks: usize, req: u32, at: SimTime) {
        let r = self.requests[req as usize];
        let stage_first_hit = !matches!(
            self.scn.keyspaces[ks].operation,
            Operation::RateLimit | Operation::Lock
        );
        if stage_first_hit {
            self.cur.keyspace_hits[ks] += 1;
        }
        let lat = (at - r.started).as_ns() / 1000;
        self.cur_p99[ks].saturating_record(lat.max(1));
        if r.counted {
            let m = &mut self.ks_metrics[ks];
            if stage_first_hit {
                m.redis_hits += 1;
            }
            m.latency_us.saturating_record(lat.max(1));
        }
        self.release(req);
    }

    fn fail(&mut self, ks: usize, req: u32, _at: SimTime) {
        if self.requests[req as usize].counted {
            self.ks_metrics[ks].errors += 1;
        }
        self.release(req);
    }

    fn on_origin(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let oi = self.scn.keyspaces[r.ks as usize]
            .origin
            .expect("validated: operations that miss have an origin");
        let o = &mut self.origins[oi];
        if o.busy < o.concurrency {
            o.busy += 1;
            o.metrics.peak_concurrency = o.metrics.peak_concurrency.max(o.busy);
            self.start_load(now, oi, req, now);
        } else if (o.queue.len() as u32) < o.queue_limit {
            o.queue.push_back(req);
            o.metrics.peak_queue = o.metrics.peak_queue.max(o.queue.len() as u64);
            self.requests[req as usize].origin_enqueued = now;
        } else {
            if o.metrics.saturated_since.is_none() {
                o.metrics.saturated_since = Some(now);
            }
            if r.counted {
                o.metrics.rejected += 1;
            }
            self.fail(r.ks as usize, req, now);
        }
    }

    fn start_load(&mut self, now: SimTime, oi: usize, req: u32, enqueued: SimTime) {
        let counted = self.requests[req as usize].counted;
        let ks = self.requests[req as usize].ks as usize;
        let o = &mut self.origins[oi];
        if counted {
            o.metrics.loads += 1;
            o.metrics
                .queue_wait_us
                .saturating_record(((now - enqueued).as_ns() / 1000).max(1));
            self.ks_metrics[ks].origin_loads += 1;
        }
        o.window_loads += 1;
        let svc = o.service_ms.sample(&mut o.rng);
        self.queue
            .push(now + SimTime(ns(svc * 1000.0)), Event::OriginDone { req });
    }

    fn on_origin_done(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let oi = self.scn.keyspaces[ks].origin.expect("validated");
        // The user has the value now; the write-back goes out without waiting.
        let lat = (now - r.started).as_ns() / 1000;
        self.cur_p99[ks].saturating_record(lat.max(1));
        if r.counted {
            self.ks_metrics[ks].latency_us.saturating_record(lat.max(1));
        }
        self.requests[req as usize].stage = Stage::WriteBack;
        let d = self.send_delay(r.shard as usize);
        self.requests[req as usize].sent = now;
        self.queue.push(now + d, Event::AtShard { req });
        // Hand the connection to the next waiting load that has not timed out.
        loop {
            let o = &mut self.origins[oi];
            let Some(next) = o.queue.pop_front() else {
                o.busy -= 1;
                break;
            };
            let enq = self.requests[next as usize].origin_enqueued;
            if now - enq > o.timeout {
                if self.requests[next as usize].counted {
                    o.metrics.timed_out += 1;
                }
                let nks = self.requests[next as usize].ks as usize;
                self.fail(nks, next, now);
                continue;
            }
            self.start_load(now, oi, next, enq);
            break;
        }
    }

    fn on_window_end(&mut self, now: SimTime) {
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
            w.keyspace_p99_us[ks] = if h.is_empty() {
                0
            } else {
                h.value_at_quantile(0.99)
            };
            h.reset();
        }
        for (oi, o) in self.origins.iter_mut().enumerate() {
            w.origin_loads[oi] = o.window_loads;
            o.window_loads = 0;
        }
        self.windows.push(w);
        if now < self.scn.duration {
            let next = (now + self.scn.window).min(self.scn.duration);
            self.queue.push(next, Event::WindowEnd);
        }
    }

    fn finish(mut self, plan: usize) -> PlanResult {
        let n_ks = self.scn.keyspaces.len();
        let mut evictions = vec![0; n_ks];
        let mut before_ttl = vec![0; n_ks];
        let mut expirations = vec![0; n_ks];
        let mut shards = Vec::new();
        for n in &mut self.nodes {
            let tc = n.shard.tag_counters();
            for ks in 0..n_ks {
                evictions[ks] += tc.evicted[ks];
                before_ttl[ks] += tc.evicted_before_ttl[ks];
                expirations[ks] += tc.expired[ks];
            }
            let st = n.shard.stats();
            n.metrics.used_memory_end_bytes = n.shard.used_memory();
            n.metrics.keys_end = n.shard.keys();
            n.metrics.evicted_keys = st.evicted_keys;
            n.metrics.expired_keys = st.expired_keys;
            n.metrics.oom_errors = st.oom_errors;
            let _ = (n.cluster, n.index);
            shards.push(n.metrics.clone());
        }
        PlanResult {
            plan,
            keyspaces: self.ks_metrics,
            keyspace_evictions: evictions,
            keyspace_evictions_before_ttl: before_ttl,
            keyspace_expirations: expirations,
            shards,
            origins: self.origins.into_iter().map(|o| o.metrics).collect(),
            windows: self.windows,
            events: self.events,
            requests_total: self.requests_total,
        }
    }
}
