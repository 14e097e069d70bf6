//! Every series recorded through the facade, found by its key, and what bounds them: the limit
//! on series and the descriptions given with `describe_*`. Shared by the recorder (the
//! application's threads, which find and create series) and the collector (which takes the new
//! ones each round and keeps its own list, so a round never locks the maps).
//!
//! The facade's macros look a series up on every call (`counter!("x").increment(1)` registers
//! each time), so finding one is a read lock of one of [`SHARDS`] maps and a lookup by the hash
//! the key carries (computed once, at compile time for literal keys), never a write or an
//! allocation.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use metrics::Key;

use crate::metric::MetricType;
use crate::metrics_rs::descriptions::Descriptions;
use crate::metrics_rs::reservoir::Reservoir;
use crate::metrics_rs::series::{CounterCell, GaugeCell, Refused, Series};
use crate::sync::{lock, read, write};

/// Maps per kind of series: threads recording different series rarely share a lock's cache line.
const SHARDS: usize = 16;

/// The limits the [builder](super::Builder) set.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub(super) max_series: usize,
    pub(super) histogram_samples: usize,
    pub(super) max_histogram_values: usize,
    /// How long a series nobody holds or records into is kept; `None`: for ever.
    pub(super) idle_timeout: Option<Duration>,
}

/// All series and what bounds them.
#[derive(Debug)]
pub(super) struct Registry {
    pub(super) limits: Limits,
    pub(super) counters: Kind<CounterCell>,
    pub(super) gauges: Kind<GaugeCell>,
    pub(super) histograms: Kind<Reservoir>,
    /// Series of all kinds created so far (never more than `limits.max_series`).
    series: AtomicUsize,
    /// The handle of every series refused by the limit.
    pub(super) refused: Arc<Refused>,
    descriptions: Mutex<Descriptions>,
    /// Changes with every description, so the collector knows when to look again.
    descriptions_changed: AtomicU64,
}

impl Registry {
    pub(super) fn new(limits: Limits) -> Self {
        Registry {
            limits,
            counters: Kind::default(),
            gauges: Kind::default(),
            histograms: Kind::default(),
            series: AtomicUsize::new(0),
            refused: Arc::default(),
            descriptions: Mutex::default(),
            descriptions_changed: AtomicU64::new(0),
        }
    }

    /// The counter of `key`, created if there is room; `None` past the series limit.
    pub(super) fn counter(&self, key: &Key) -> Option<Arc<Series<CounterCell>>> {
        self.counters.find(
            key,
            &self.series,
            self.limits.max_series,
            CounterCell::default,
        )
    }

    pub(super) fn gauge(&self, key: &Key) -> Option<Arc<Series<GaugeCell>>> {
        self.gauges.find(
            key,
            &self.series,
            self.limits.max_series,
            GaugeCell::default,
        )
    }

    pub(super) fn histogram(&self, key: &Key) -> Option<Arc<Series<Reservoir>>> {
        let capacity = self.limits.histogram_samples;
        self.histograms
            .find(key, &self.series, self.limits.max_series, || {
                Reservoir::new(capacity, key.get_hash())
            })
    }

    /// Records what `describe_*` said of the metrics named `name` of type `kind`. At most as
    /// many names are described as there may be series; later ones are ignored (a description
    /// only adds a unit and a text), and so are names and texts past [`MAX_KEY_BYTES`] (before
    /// they are copied).
    pub(super) fn describe(
        &self,
        kind: MetricType,
        name: &str,
        unit: Option<&'static str>,
        text: &str,
    ) {
        if name.len() > MAX_KEY_BYTES || text.len() > MAX_KEY_BYTES {
            return;
        }
        let max = self.limits.max_series;
        if lock(&self.descriptions).describe(kind, name, unit, text, max) {
            self.descriptions_changed.fetch_add(1, Ordering::Release);
        }
    }

    /// Forgets `series` of `kind`, if nothing holds or records into it ([`Kind::forget`]).
    pub(super) fn forget<C>(
        &self,
        kind: &Kind<C>,
        series: &Arc<Series<C>>,
        still_idle: impl FnOnce(&C) -> bool,
    ) -> bool {
        kind.forget(series, &self.series, still_idle)
    }

    /// A number that changes whenever a description is added.
    pub(super) fn descriptions_changed(&self) -> u64 {
        self.descriptions_changed.load(Ordering::Acquire)
    }

    /// Runs `read` over the descriptions (for the collector: one lock for many lookups).
    pub(super) fn with_descriptions<R>(&self, read: impl FnOnce(&Descriptions) -> R) -> R {
        read(&lock(&self.descriptions))
    }
}

/// One shard of the series of one kind, by key.
type Shard<C> = RwLock<HashMap<Key, Arc<Series<C>>, KeyHash>>;

/// The series of one kind.
#[derive(Debug)]
pub(super) struct Kind<C> {
    shards: [Shard<C>; SHARDS],
    /// Created since the collector last took them.
    added: Mutex<Vec<Arc<Series<C>>>>,
}

impl<C> Default for Kind<C> {
    fn default() -> Self {
        Kind {
            shards: std::array::from_fn(|_| RwLock::default()),
            added: Mutex::default(),
        }
    }
}

impl<C> Kind<C> {
    /// The series of `key`; created with `cell()` when `series` (of all kinds) is below `max`.
    fn find(
        &self,
        key: &Key,
        series: &AtomicUsize,
        max: usize,
        cell: impl FnOnce() -> C,
    ) -> Option<Arc<Series<C>>> {
        let shard = self.shard(key.get_hash());
        if let Some(found) = read(shard).get(key) {
            return Some(Arc::clone(found));
        }
        // Past the limit the count never goes down: no write lock for a series refused anyway.
        // Counts grow under a shard's write lock, so a second look (which waits for one that is
        // being created) finds a series created since the first.
        if series.load(Ordering::Relaxed) >= max || !fits(key) {
            return read(shard).get(key).map(Arc::clone);
        }
        let mut map = write(shard);
        if let Some(found) = map.get(key) {
            return Some(Arc::clone(found));
        }
        series
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        let created = Arc::new(Series::new(key, cell()));
        map.insert(key.clone(), Arc::clone(&created));
        drop(map);
        lock(&self.added).push(Arc::clone(&created));
        Some(created)
    }

    /// The shard of the key hashed `hash`. (The map's buckets use the hash's low bits and its
    /// control bytes the top ones.)
    fn shard(&self, hash: u64) -> &Shard<C> {
        &self.shards[(hash >> 32) as usize % SHARDS]
    }

    /// Forgets `series` if no handle but the map's and the caller's holds it and `still_idle`
    /// says nothing was recorded into it, under its shard's write lock (where no new handle can
    /// be taken); its place under the series limit, counted in `count`, is freed. Returns
    /// whether it was forgotten.
    pub(super) fn forget(
        &self,
        series: &Arc<Series<C>>,
        count: &AtomicUsize,
        still_idle: impl FnOnce(&C) -> bool,
    ) -> bool {
        let mut map = write(self.shard(series.hash));
        if Arc::strong_count(series) > 2 {
            return false;
        }
        // A handle dropped just now released its updates (`Arc`'s count falls with `Release`):
        // they are seen below.
        fence(Ordering::Acquire);
        if !still_idle(&series.cell) {
            return false;
        }
        let before = map.len();
        map.retain(|_, kept| !Arc::ptr_eq(kept, series));
        let forgotten = map.len() < before;
        if forgotten {
            count.fetch_sub(1, Ordering::Relaxed);
        }
        forgotten
    }

    /// The series created since the last call.
    pub(super) fn take_added(&self) -> Vec<Arc<Series<C>>> {
        std::mem::take(&mut *lock(&self.added))
    }

    /// Every series created so far, without taking them (for a snapshot).
    pub(super) fn peek_added(&self) -> Vec<Arc<Series<C>>> {
        lock(&self.added).clone()
    }
}

/// Most bytes of a key's name and labels together: a key past it is refused like a series past
/// the limit, so that the memory a series holds is bounded too. (Sentry drops names over 256
/// bytes and cuts attribute values at 200.)
pub(super) const MAX_KEY_BYTES: usize = 4096;

/// Whether `key` is within [`MAX_KEY_BYTES`].
fn fits(key: &Key) -> bool {
    let labels: usize = key
        .labels()
        .map(|label| label.key().len() + label.value().len())
        .sum();
    key.name().len() + labels <= MAX_KEY_BYTES
}

/// Hashes a [`Key`] by the hash it carries: `Key`'s `Hash` writes exactly that one `u64`.
#[derive(Clone, Copy, Debug, Default)]
struct KeyHash;

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

#[derive(Debug)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    /// Not called for a `Key`; any other bytes are still spread (FNV-1a).
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests;
