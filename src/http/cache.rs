//! The render cache: renderings by key, bounded by the bytes they hold.
//!
//! See the module above for why bytes and not entries. A rendering is made
//! at most once per key whichever thread asks first (a `OnceLock` per
//! slot); it reserves its estimated size before it is made, so that older
//! renderings are evicted (and freed) before the new one's megabytes exist;
//! once made, its real size replaces the reservation. Eviction draws its
//! victim at random, and a rendering served since it was last drawn gets a
//! second chance (see [`Cache::evict`] for why not oldest-first).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use crate::render::feed;

use super::response::Rendered;
use super::{Resource, Snapshot};

/// What an entry costs besides its rendering (key, slot, queue place), so
/// that even renderings of nothing (unknown ids) are bounded in number.
const ENTRY_OVERHEAD: usize = 256;

/// The cache's key: a resource, in one catalog version and time bucket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub(super) version: crate::model::deadline::Fingerprint,
    pub(super) bucket: i64,
    pub(super) resource: Resource,
}

pub(super) type Slot = Arc<OnceLock<Option<Arc<Rendered>>>>;

/// Renderings by key, bounded by the bytes they hold — and by those that
/// renderings under way will hold: a rendering reserves its estimated
/// size before it starts, so that older ones are evicted (and freed) before
/// the new one's megabytes exist, not after.
#[derive(Default)]
pub(super) struct Cache {
    slots: HashMap<Key, Slot>,
    /// Made renderings, with the bytes each was counted for. Slots still
    /// being rendered are not in here.
    order: VecDeque<(Key, usize)>,
    /// Reservations of renderings under way.
    pending: HashMap<Key, usize>,
    /// Made renderings plus reservations.
    bytes: usize,
    /// The state of the draws of [`Cache::evict`].
    seed: u64,
}

impl Cache {
    /// The slot under `key`, if any.
    pub(super) fn get(&self, key: &Key) -> Option<Slot> {
        self.slots.get(key).cloned()
    }

    /// How many renderings are cached (or under way).
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The bytes counted against the budget.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn slot(&mut self, key: Key) -> Slot {
        self.slots.entry(key).or_default().clone()
    }

    /// Whether `slot` is the one this cache holds under `key` (it is not
    /// when the cache was emptied since).
    fn holds(&self, key: &Key, slot: &Slot) -> bool {
        self.slots.get(key).is_some_and(|s| Arc::ptr_eq(s, slot))
    }

    /// Reserves `bytes` for the rendering about to be made in `slot`.
    pub(super) fn reserve(&mut self, key: &Key, slot: &Slot, bytes: usize, budget: usize) {
        if self.holds(key, slot) {
            self.bytes += bytes;
            self.pending.insert(key.clone(), bytes);
            self.evict(budget);
        }
    }

    /// Counts the rendering just made in `slot` (in place of its
    /// reservation) and evicts until the cache holds at most `budget` bytes.
    pub(super) fn made(&mut self, key: Key, slot: &Slot, budget: usize) {
        if !self.holds(&key, slot) {
            return;
        }
        if let Some(reserved) = self.pending.remove(&key) {
            self.bytes -= reserved;
        }
        let size = ENTRY_OVERHEAD + slot.get().and_then(Option::as_ref).map_or(0, |r| r.size());
        self.bytes += size;
        self.order.push_back((key, size));
        self.evict(budget);
    }

    /// Evicts made renderings until at most `budget` bytes are held (or
    /// nothing made is left: reservations cannot be evicted). The victim is
    /// drawn at random; one served since it was last drawn gets a second
    /// chance. Random, not oldest-first: clients that cycle through more
    /// URLs than fit (a mirror, a crawler, `benches/soak.sh`) would find
    /// nothing under FIFO or LRU, which evict each rendering just before it
    /// is asked for again; at random, about budget ÷ working set of their
    /// requests still hit.
    fn evict(&mut self, budget: usize) {
        // Second chances are bounded, so this ends even if all were used.
        let mut chances = 2 * self.order.len();
        while self.bytes > budget && !self.order.is_empty() {
            let i = (self.random() % self.order.len() as u64) as usize;
            let used = chances > 0
                && self
                    .slots
                    .get(&self.order[i].0)
                    .and_then(|s| s.get())
                    .and_then(Option::as_ref)
                    .is_some_and(|r| r.used.swap(false, std::sync::atomic::Ordering::Relaxed));
            if used {
                chances -= 1;
                continue;
            }
            if let Some((old, size)) = self.order.swap_remove_back(i) {
                self.slots.remove(&old);
                self.bytes -= size;
            }
        }
    }

    /// xorshift64: cheap, and deterministic (tests see the same draws).
    fn random(&mut self) -> u64 {
        if self.seed == 0 {
            self.seed = 0x9e37_79b9_7f4a_7c15;
        }
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }
}

/// About the bytes the rendering of `res` will hold (body and gzip copy),
/// to reserve before making it. Estimates from the texts of the deadlines
/// it shows; within a few tens of percent is enough.
pub(super) fn size_estimate(snap: &Snapshot, res: &Resource, now: DateTime<Utc>) -> usize {
    let cutoff = snap.cutoff(now);
    // A gzip copy of calendar text is about a tenth of it.
    let with_gzip = |n: usize| n + n / 8;
    match res {
        Resource::Feed { filter, .. } => {
            with_gzip(feed::size_estimate(&snap.catalog, filter, cutoff))
        }
        Resource::Json { filter, .. } => {
            with_gzip(feed::size_estimate(&snap.catalog, filter, cutoff))
        }
        Resource::Page { filter, .. } => {
            with_gzip(8192 + 700 * snap.catalog.select(filter).count())
        }
        Resource::One { .. } | Resource::Detail { .. } => 8192,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn key(i: usize) -> Key {
        Key {
            version: crate::testing::catalog(&[]).version(),
            bucket: 0,
            resource: Resource::Detail {
                id: format!("d{i}"),
                lang: Lang::EN,
            },
        }
    }

    fn fill(cache: &mut Cache, k: Key, bytes: usize, budget: usize) -> Slot {
        let slot = cache.slot(k.clone());
        let _ = slot.set(Some(Arc::new(Rendered::new(
            "text/plain",
            vec![b'x'; bytes],
            DateTime::UNIX_EPOCH,
            "no-cache",
        ))));
        cache.made(k, &slot, budget);
        slot
    }

    #[test]
    fn the_cache_is_bounded_in_bytes_and_keeps_what_is_served() {
        let budget = 100_000;
        let mut cache = Cache::default();
        // One rendering is served between every two one-off ones; when it
        // was evicted, the next request makes it again (a miss).
        let mut hot = fill(&mut cache, key(0), 10_000, budget);
        let mut misses = 0;
        for i in 1..1_000 {
            if cache.holds(&key(0), &hot) {
                if let Some(Some(r)) = hot.get() {
                    r.touch();
                }
            } else {
                misses += 1;
                hot = fill(&mut cache, key(0), 10_000, budget);
            }
            fill(&mut cache, key(i), 10_000, budget);
            assert!(cache.bytes <= budget, "{} bytes after {i}", cache.bytes);
            let counted: usize = cache.order.iter().map(|(_, s)| s).sum();
            assert_eq!(counted, cache.bytes);
        }
        // Without the second chance, a random draw among ~9 would evict it
        // about one round in nine (110 of 999).
        assert!(
            misses < 40,
            "the served rendering missed {misses} times in 999"
        );
        assert!(cache.slots.len() < 11, "{}", cache.slots.len());
        // A rendering larger than the whole budget is not kept.
        fill(&mut cache, key(5_000), 2 * budget, budget);
        assert!(!cache.slots.contains_key(&key(5_000)));
        assert!(cache.bytes <= budget);
        // Renderings of nothing (unknown ids) count too.
        for i in 10_000..20_000 {
            let k = key(i);
            let slot = cache.slot(k.clone());
            let _ = slot.set(None);
            cache.made(k, &slot, budget);
        }
        assert!(cache.slots.len() <= budget / ENTRY_OVERHEAD + 1);
    }

    /// Clients cycling through twice as many URLs as fit: oldest-first
    /// eviction would miss every time (0 hits); random eviction hits about
    /// a quarter of the requests here (84 of 360).
    #[test]
    fn a_cycle_larger_than_the_cache_still_hits() {
        let budget = 100_000;
        let mut cache = Cache::default();
        let (mut hits, mut requests) = (0, 0);
        for round in 0..20 {
            for i in 0..18 {
                let k = key(i);
                match cache.get(&k) {
                    Some(slot) if round > 0 => {
                        hits += 1;
                        if let Some(Some(r)) = slot.get() {
                            r.touch();
                        }
                    }
                    _ => {
                        fill(&mut cache, k, 10_000, budget);
                    }
                }
                requests += 1;
            }
        }
        assert!(hits * 6 > requests, "{hits} hits in {requests} requests");
    }

    #[test]
    fn a_reservation_makes_room_before_the_rendering_exists() {
        let budget = 100_000;
        let mut cache = Cache::default();
        for i in 0..9 {
            fill(&mut cache, key(i), 10_000, budget);
        }
        let k = key(100);
        let slot = cache.slot(k.clone());
        cache.reserve(&k, &slot, 50_000, budget);
        assert!(cache.bytes <= budget, "{}", cache.bytes);
        assert!(cache.slots.len() <= 6, "{}", cache.slots.len());
        let _ = slot.set(Some(Arc::new(Rendered::new(
            "text/plain",
            vec![b'x'; 40_000],
            DateTime::UNIX_EPOCH,
            "no-cache",
        ))));
        cache.made(k.clone(), &slot, budget);
        assert!(cache.pending.is_empty());
        let counted: usize = cache.order.iter().map(|(_, s)| s).sum();
        assert_eq!(counted, cache.bytes);
        assert!(cache.slots.contains_key(&k));
    }

    #[test]
    fn a_slot_from_before_a_swap_is_not_counted() {
        let mut cache = Cache::default();
        let old = cache.slot(key(1));
        let _ = old.set(None);
        let mut emptied = Cache::default();
        emptied.reserve(&key(1), &old, 1_000, 1 << 20);
        emptied.made(key(1), &old, 1 << 20);
        assert_eq!((emptied.bytes, emptied.order.len()), (0, 0));
    }
}
