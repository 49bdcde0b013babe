//! In-process coalescing: concurrent misses of one key in one application instance share one
//! fetch; the loads in flight per (instance, key), with the requests waiting for each.

use crate::engine::IdMap;

/// The fetches in flight per (instance, key) and their waiters.
#[derive(Default)]
pub struct Coalescer {
    in_flight: IdMap<(u32, u64), Vec<u32>>,
}

impl Coalescer {
    /// Registers `req` for `key_id` in `instance`: true when it leads (no load in flight);
    /// false when it joined one and must wait.
    pub fn join(&mut self, instance: u32, key_id: u64, req: u32) -> bool {
        match self.in_flight.get_mut(&(instance, key_id)) {
            Some(waiters) => {
                waiters.push(req);
                false
            }
            None => {
                self.in_flight.insert((instance, key_id), Vec::new());
                true
            }
        }
    }

    /// The leader's fetch finished: returns the requests that waited for it.
    pub fn finish(&mut self, instance: u32, key_id: u64) -> Vec<u32> {
        self.in_flight
            .remove(&(instance, key_id))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_leader_per_instance_and_key() {
        let mut c = Coalescer::default();
        assert!(c.join(0, 7, 1));
        assert!(!c.join(0, 7, 2));
        assert!(c.join(1, 7, 3));
        assert_eq!(c.finish(0, 7), vec![2]);
        assert!(c.join(0, 7, 4));
    }
}
