//! Windows and recording: the per-window figures, the shard counters snapshotted at the end of
//! the warm-up, and the plan's result at the end of the run. Past `metrics::series::MAX_WINDOWS`
//! windows, pairs merge and the width doubles (the rule is `metrics::series`'s).

use super::{Event, Sim};
use crate::engine::SimTime;
use crate::metrics::hotkeys::{biggest, BigKey, ShardHotKeys, TOP_KEYS};
use crate::metrics::{series, Invariant, LatencySketch, PlanResult, Window, N_INVARIANTS};
use crate::redis::db::Db;

/// The `n` largest keys resident in `db`, by the bytes the model charges them.
fn biggest_keys(db: &Db, n: usize) -> Vec<BigKey> {
    biggest(
        db.positions(false).map(|pos| {
            let e = db.entry(pos);
            BigKey {
                key_id: e.key_id,
                bytes: e.bytes as u64,
            }
        }),
        n,
    )
}

impl Sim<'_> {
    /// Per keyspace (evicted, evicted before TTL, expired) and per shard (evicted, expired,
    /// OOM), as the shards count them now.
    pub(super) fn shard_counters(&self) -> (Vec<[u64; 3]>, Vec<[u64; 3]>) {
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

    pub(super) fn empty_window(&self, start: SimTime) -> Window {
        let n_ks = self.scn.keyspaces.len();
        Window {
            start,
            keyspace_requests: vec![0; n_ks],
            keyspace_hits: vec![0; n_ks],
            keyspace_evictions: vec![0; n_ks],
            keyspace_p99_us: vec![0; n_ks],
            keyspace_latency_us: vec![LatencySketch::default(); n_ks],
            origin_loads: vec![0; self.scn.origins.len()],
            origin_peak_concurrency: vec![0; self.scn.origins.len()],
            origin_latency_p99_us: vec![0; self.scn.origins.len()],
            origin_latency_us: vec![LatencySketch::default(); self.scn.origins.len()],
            shard_used_memory: vec![0; self.nodes.len()],
            shard_commands: vec![0; self.nodes.len()],
            shard_busy_ns: vec![0; self.nodes.len()],
            shard_bytes_in: vec![0; self.nodes.len()],
            shard_bytes_out: vec![0; self.nodes.len()],
            invariant_violations: vec![0; n_ks * N_INVARIANTS],
            invariant_max_staleness_ns: vec![0; n_ks * N_INVARIANTS],
        }
    }

    pub(super) fn on_window_end(&mut self, now: SimTime) {
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
            w.shard_bytes_in[i] = std::mem::take(&mut n.window_bytes_in);
            w.shard_bytes_out[i] = std::mem::take(&mut n.window_bytes_out);
            for (ks, e) in ev_by_ks.iter_mut().enumerate() {
                *e += n.shard.tag_counters().evicted[ks];
            }
        }
        for (ks, &total) in ev_by_ks.iter().enumerate() {
            w.keyspace_evictions[ks] = total - self.last_evictions[ks];
            self.last_evictions[ks] = total;
            let h = &mut self.cur_p99[ks];
            w.keyspace_p99_us[ks] = h.value_at_quantile(0.99);
            w.keyspace_latency_us[ks] = LatencySketch::of(h);
            h.reset();
        }
        for (oi, o) in self.origins.iter_mut().enumerate() {
            w.origin_loads[oi] = o.window_loads;
            o.window_loads = 0;
            // Connections held across the boundary count in the new window too.
            w.origin_peak_concurrency[oi] = o.window_peak_busy.max(o.busy());
            o.window_peak_busy = o.busy();
            w.origin_latency_p99_us[oi] = o.window_latency_us.value_at_quantile(0.99);
            w.origin_latency_us[oi] = LatencySketch::of(&o.window_latency_us);
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
        self.maybe_attribute_evictions();
        if self.windows.len() == series::MAX_WINDOWS {
            // The window in progress starts at MAX_WINDOWS × width, a boundary of the
            // doubled width too (MAX_WINDOWS is even).
            series::merge_pairs(&mut self.windows);
            self.window_width = self.window_width + self.window_width;
        }
        if let Some(p) = self.progress {
            p.store(now.as_ns(), std::sync::atomic::Ordering::Relaxed);
        }
        if now < self.scn.duration {
            let next = (now + self.window_width).min(self.scn.duration);
            self.queue.push(next, Event::WindowEnd);
        }
    }

    pub(super) fn finish(mut self, plan: usize) -> PlanResult {
        for n in 0..self.nodes.len() {
            self.catch_up_cron(n, self.scn.duration);
        }
        let (ks_now, shard_now) = self.shard_counters();
        let after = |k: usize, i: usize| ks_now[k][i] - self.warmup_keyspace[k][i];
        let n_ks = self.scn.keyspaces.len();
        let evictions = (0..n_ks).map(|k| after(k, 0)).collect();
        let before_ttl: Vec<u64> = (0..n_ks).map(|k| after(k, 1)).collect();
        let expirations = (0..n_ks).map(|k| after(k, 2)).collect();
        let tenants = self.tenant_result();
        let mut shards = Vec::new();
        for (i, n) in self.nodes.iter_mut().enumerate() {
            n.metrics.hot = ShardHotKeys {
                by_ops: n.hot_ops.top(TOP_KEYS),
                by_bytes: n.hot_bytes.top(TOP_KEYS),
                ops_unlisted_max: n.hot_ops.threshold(),
                bytes_unlisted_max: n.hot_bytes.threshold(),
                biggest: biggest_keys(n.shard.db(), TOP_KEYS),
            };
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
        PlanResult {
            plan,
            keyspaces: self.counters.finish(),
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
            tenants,
        }
    }
}
