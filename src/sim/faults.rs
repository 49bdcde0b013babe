//! Faults on one plan's timeline: which shards and instances each `[[faults]]` entry hits in
//! this plan, the start and end events that change the nodes (down, slow, network spike),
//! failover (a replica promoted, the writes of the replication lag lost, unavailable slots for node timeout + election delay), cluster
//! restart (cold cache) and pub/sub subscriber windows, and what a command meets at a shard
//! that is down.
//!
//! Owns only fault state on `Sim` (`fault_nodes`, `fault_outcomes`, `fault_lag`,
//! `active_spikes`, `disconnected`) and the node fields `down`, `slow`; a failover's lost
//! writes come from the node's `replica::History`. Traffic bursts are
//! resolved into keyspace bursts by `scenario::resolve`, so they need nothing here. The
//! failover's election delay is drawn from a stream named by the fault, never by plan.

use super::replica::{lag_cap, revert_window, History};
use super::request::{Stage, DELETE_JOB, FLAG_BACKGROUND, FLAG_ORPHAN, FLAG_QUEUED};
use super::{ns, Event, Sim};
use crate::engine::{IdMap, RngStream, SimTime};
use crate::metrics::FaultOutcome;
use crate::redis::db::KeyRef;
use crate::scenario::{DownMode, FaultKind};

impl Sim<'_> {
    /// Works out which nodes each fault hits in this plan, draws failover delays and
    /// schedules the start and end events.
    pub(super) fn schedule_faults(&mut self, seed: u64) {
        for (fi, f) in self.scn.faults.iter().enumerate() {
            let mut nodes = Vec::new();
            let mut applied = true;
            if let Some(ci) = f.cluster {
                let first = self.cluster_first_node[ci];
                if first == usize::MAX {
                    applied = false; // the plan does not use this cluster
                } else {
                    match f.shard {
                        Some(sh) => nodes.push(first + sh as usize),
                        None => nodes.extend(first..first + self.scn.clusters[ci].shards as usize),
                    }
                }
            }
            let mut end = f.end;
            let mut lag = SimTime::ZERO;
            if let FaultKind::Failover {
                replication_lag,
                node_timeout,
                replica_rank,
                ..
            } = f.kind
            {
                let cluster = &self.scn.clusters[f.cluster.expect("a failover names its cluster")];
                lag = replication_lag.unwrap_or_else(|| {
                    // One draw per run, from a stream named by the fault.
                    let lag_ms = &cluster.replication_lag_ms;
                    let mut rng = RngStream::named(seed, &format!("fault/{fi}/replication-lag"));
                    SimTime(ns(lag_ms.sample(&mut rng) * 1000.0)).min(lag_cap(lag_ms))
                });
                // cluster.c clusterHandleSlaveFailover: node timeout, then 500 ms + random
                // 0-500 ms + rank x 1 s before the election (REDIS-MODEL.md section 11).
                let mut rng = RngStream::named(seed, &format!("fault/{fi}/election"));
                let delay_ms = 500 + rng.below(501) + 1_000 * replica_rank as u64;
                end = f.start + node_timeout + SimTime::from_ms(delay_ms);
                self.monitor.set_fault_end(fi, end, f.attribution);
                for &n in &nodes {
                    self.nodes[n]
                        .history
                        .get_or_insert_with(|| History::new(lag))
                        .retain_at_least(lag);
                }
            }
            self.fault_lag.push(lag);
            if applied {
                self.queue
                    .push(f.start, Event::FaultStart { index: fi as u16 });
                if !matches!(f.kind, FaultKind::TrafficBurst { .. }) {
                    self.queue.push(end, Event::FaultEnd { index: fi as u16 });
                }
            }
            self.fault_outcomes.push(FaultOutcome {
                applied,
                shards: nodes.len() as u32,
                end,
                ..FaultOutcome::default()
            });
            self.fault_nodes.push(nodes);
        }
    }

    pub(super) fn on_fault_start(&mut self, now: SimTime, fi: usize) {
        let f = &self.scn.faults[fi];
        match &f.kind {
            FaultKind::ShardDown { mode } => {
                let mode = *mode;
                for i in 0..self.fault_nodes[fi].len() {
                    let n = self.fault_nodes[fi][i];
                    self.nodes[n].down = Some((mode, fi as u16));
                    self.drop_shard_queue(now, n, mode, fi);
                }
            }
            FaultKind::ShardSlow { multiplier } => {
                for &n in &self.fault_nodes[fi] {
                    self.nodes[n].slow = *multiplier;
                }
            }
            FaultKind::LatencySpike { .. } => self.active_spikes.push(fi),
            FaultKind::Failover { mode, .. } => {
                let mode = *mode;
                for i in 0..self.fault_nodes[fi].len() {
                    let n = self.fault_nodes[fi][i];
                    self.catch_up_cron(n, now);
                    // The promoted replica never received the changes of the last lag: their
                    // keys go back to what it had; the history starts again from it.
                    let lag = self.fault_lag[fi];
                    let history = self.nodes[n].history.take().expect("kept from the start");
                    let sizes: IdMap<u64, Option<u32>> = history
                        .changed_since(now.saturating_sub(lag))
                        .0
                        .iter()
                        .map(|&(key, _)| (key.id, self.restored_value_size(key)))
                        .collect();
                    let restore = |key: KeyRef| sizes[&key.id];
                    let lost = revert_window(&mut self.nodes[n].shard, &history, now, lag, restore);
                    self.fault_outcomes[fi].writes_lost += lost;
                    let node = &mut self.nodes[n];
                    node.history = Some(History::new(history.retain()));
                    node.down = Some((mode, fi as u16));
                    self.drop_shard_queue(now, n, mode, fi);
                }
            }
            FaultKind::ClusterRestart => {
                for i in 0..self.fault_nodes[fi].len() {
                    let n = self.fault_nodes[fi][i];
                    self.catch_up_cron(n, now);
                    let node = &mut self.nodes[n];
                    self.fault_outcomes[fi].keys_flushed += node.shard.flush_all();
                    node.down = Some((DownMode::Refused, fi as u16));
                    self.drop_shard_queue(now, n, DownMode::Refused, fi);
                }
            }
            FaultKind::TrafficBurst { .. } => {}
            FaultKind::SubscriberDisconnect => {
                for i in 0..self.disconnected.len() {
                    if f.instances.is_empty() || f.instances.contains(&(i as u32)) {
                        self.disconnected[i] += 1;
                    }
                }
            }
        }
    }

    pub(super) fn on_fault_end(&mut self, _now: SimTime, fi: usize) {
        let f = &self.scn.faults[fi];
        match &f.kind {
            FaultKind::ShardDown { .. }
            | FaultKind::Failover { .. }
            | FaultKind::ClusterRestart => {
                for &n in &self.fault_nodes[fi] {
                    if self.nodes[n].down.is_some_and(|(_, by)| by as usize == fi) {
                        self.nodes[n].down = None;
                    }
                }
            }
            FaultKind::ShardSlow { .. } => {
                for &n in &self.fault_nodes[fi] {
                    self.nodes[n].slow = 1.0;
                }
            }
            FaultKind::LatencySpike { .. } => self.active_spikes.retain(|&s| s != fi),
            FaultKind::TrafficBurst { .. } => {}
            FaultKind::SubscriberDisconnect => {
                for i in 0..self.disconnected.len() {
                    if f.instances.is_empty() || f.instances.contains(&(i as u32)) {
                        self.disconnected[i] -= 1;
                    }
                }
            }
        }
    }

    /// The round-trip multiplier of the latency spikes in progress for `instance` on `node`.
    pub(super) fn spike_multiplier(&self, node: usize, instance: u16) -> f64 {
        let mut m = 1.0;
        for &fi in &self.active_spikes {
            let f = &self.scn.faults[fi];
            let FaultKind::LatencySpike { multiplier } = f.kind else {
                continue;
            };
            let hits_instance = f.instances.is_empty() || f.instances.contains(&(instance as u32));
            if hits_instance && self.fault_nodes[fi].contains(&node) {
                m *= multiplier;
            }
        }
        m
    }

    /// A command reached a shard that a fault keeps down, or waited in the queue of a shard
    /// that went down (`queued`: its client's timer already runs): a background command is
    /// lost; a command someone waits for fails once the error travels back (refused) or when
    /// the client gives up (timeout), whichever the client sees first.
    pub(super) fn shard_down(
        &mut self,
        now: SimTime,
        req: u32,
        mode: DownMode,
        fault: usize,
        queued: bool,
    ) {
        let r = self.requests[req as usize];
        self.fault_outcomes[fault].commands_failed += 1;
        if r.has(FLAG_ORPHAN) || (r.has(FLAG_BACKGROUND) && r.stage != Stage::RefreshLock) {
            self.release(req); // a write-back, refresh or release that never happened
            return;
        }
        let k = &self.scn.keyspaces[r.ks as usize];
        let deadline = r.sent + k.client_timeout;
        let refused_at = now + (r.arrived - r.sent);
        match mode {
            DownMode::Refused if r.has(FLAG_BACKGROUND) || refused_at < deadline => {
                self.queue.push(refused_at, Event::RedisFailed { req });
            }
            _ if r.has(FLAG_BACKGROUND) => {
                // A background lock call has no client timer: it gives up at the timeout.
                self.queue
                    .push(deadline.max(now), Event::RedisFailed { req });
            }
            _ if !queued => self.start_client_timer(req, deadline),
            _ => {} // the client's timer, running since the command queued, decides
        }
    }

    /// Node `n` went down at `now`: the commands waiting for its thread are lost with it.
    pub(super) fn drop_shard_queue(
        &mut self,
        now: SimTime,
        n: usize,
        mode: DownMode,
        fault: usize,
    ) {
        let waiting = std::mem::take(&mut self.nodes[n].pending);
        for entry in waiting {
            if entry >= DELETE_JOB {
                continue; // the DELs of a delete-on-event never ran
            }
            self.requests[entry as usize].flags &= !FLAG_QUEUED;
            self.shard_down(now, entry, mode, fault, true);
        }
    }

    /// A delete-on-event invalidation of keyspace `ks` is published over pub/sub: connected
    /// instances drop their local copies; disconnected ones lose the message (at-most-once).
    pub(super) fn publish_invalidation(&mut self, now: SimTime, ks: usize) {
        for i in 0..self.disconnected.len() {
            if self.disconnected[i] == 0 {
                self.monitor.invalidate(now, ks, i);
                continue;
            }
            for (fi, f) in self.scn.faults.iter().enumerate() {
                let active = now >= f.start && now < f.end;
                let hits = f.instances.is_empty() || f.instances.contains(&(i as u32));
                if active && hits && matches!(f.kind, FaultKind::SubscriberDisconnect) {
                    self.fault_outcomes[fi].invalidations_lost += 1;
                }
            }
        }
    }
}
