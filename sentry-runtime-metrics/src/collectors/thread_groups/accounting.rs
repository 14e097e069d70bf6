//! The accounting of thread groups between rounds: each thread's totals, what each group grew
//! by, what is carried below 1 ms, the bound on groups sent by name, and the CPU time of the
//! threads that exited.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{EXITED_GROUP, OTHER_GROUP};
use crate::running_totals::{Began, RunningTotals};
use crate::sys::ThreadTable;

/// Smallest increase sent, in milliseconds: below it, a group's time is carried to the next
/// round (nothing is lost), so threads that barely run (the SDK's, this library's own, a timer)
/// do not add a metric to every round.
const MIN_SENT_MS: f64 = 1.0;

/// What is kept between rounds.
#[derive(Clone, Debug)]
pub(super) struct State {
    table: ThreadTable,
    /// Each thread's last totals, by thread id.
    totals: RunningTotals<(u32, Kind), u64>,
    /// This round's increases by group (the map is kept from round to round, so that a
    /// settled process allocates no name per thread).
    groups: HashMap<String, Group>,
    /// Time not sent yet, below [`MIN_SENT_MS`], by group and kind (ms).
    carried: HashMap<(String, Kind), f64>,
    /// Threads per group last sent.
    threads_sent: BTreeMap<String, u64>,
    /// The CPU time of exited threads already sent (ns): the most `getrusage` minus the threads
    /// alive ever came to.
    exited_sent_ns: Option<u64>,
    /// Groups sent by name (shared with the integration, whose `max_thread_groups` sets it);
    /// 0: none, nothing is read.
    pub(super) max_groups: Arc<AtomicUsize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Cpu,
    Wait,
}

impl State {
    /// Nothing read yet; at most `max_groups` groups sent by name.
    pub(super) fn new(max_groups: Arc<AtomicUsize>) -> Self {
        State {
            table: ThreadTable::new(),
            totals: RunningTotals::new(),
            groups: HashMap::new(),
            carried: HashMap::new(),
            threads_sent: BTreeMap::new(),
            exited_sent_ns: None,
            max_groups,
        }
    }
}

/// One round's increases (ms) and threads, of a group.
#[derive(Clone, Debug, Default)]
struct Group {
    cpu_ms: f64,
    wait_ms: f64,
    threads: u64,
}

/// What a round sends.
pub(super) struct Sent {
    pub(super) cpu: BTreeMap<String, f64>,
    pub(super) wait: BTreeMap<String, f64>,
    pub(super) threads: BTreeMap<String, u64>,
}

impl State {
    /// Reads every thread: what each grew by since the previous round, summed by group into
    /// `groups`; returns the CPU time of every thread alive, since it started (ns).
    pub(super) fn read(&mut self) -> Option<u64> {
        let mut alive_cpu_ns = 0u64;
        let State {
            table,
            totals,
            groups,
            ..
        } = self;
        groups
            .values_mut()
            .for_each(|group| *group = Group::default());
        let mut totals = totals.sample();
        let read = table.read(|tid, name, times| {
            alive_cpu_ns = alive_cpu_ns.saturating_add(times.cpu_ns);
            let name = group_of(name);
            let group = match groups.get_mut(name) {
                Some(group) => group,
                None => groups.entry(name.to_owned()).or_default(),
            };
            group.threads += 1;
            // A thread's own totals, from its start: all of it the first time it is seen.
            if let Some(grew) = totals.increase((tid, Kind::Cpu), times.cpu_ns, Began::AtZero) {
                group.cpu_ms += ns_to_ms(grew);
            }
            if let Some(wait_ns) = times.wait_ns
                && let Some(grew) = totals.increase((tid, Kind::Wait), wait_ns, Began::AtZero)
            {
                group.wait_ms += ns_to_ms(grew);
            }
        });
        drop(totals);
        // Groups without threads any more are not kept.
        groups.retain(|_, group| group.threads > 0);
        read.then_some(alive_cpu_ns)
    }

    /// The CPU time of threads that exited since the last time it was sent (ms): what
    /// `getrusage` counts (every thread, alive or not) beyond the threads alive. The two are
    /// read moments apart, so this moves back and forth by the time spent in between; only
    /// what passes the most it ever came to is sent, so nothing is sent twice.
    pub(super) fn exited(&mut self, process_cpu_ns: u64, alive_cpu_ns: u64) -> Option<f64> {
        let exited_ns = process_cpu_ns.saturating_sub(alive_cpu_ns);
        let Some(sent) = self.exited_sent_ns else {
            // The first round: the threads that exited before it, all of their time.
            self.exited_sent_ns = Some(exited_ns);
            return Some(ns_to_ms(exited_ns));
        };
        if exited_ns <= sent {
            return None;
        }
        self.exited_sent_ns = Some(exited_ns);
        Some(ns_to_ms(exited_ns - sent))
    }

    /// This round's groups as sent: the busiest by CPU by name, the rest as `other`, exited
    /// threads as `exited`; small increases carried.
    pub(super) fn send(&mut self, exited_ms: Option<f64>) -> Sent {
        let max_groups = self.max_groups.load(Ordering::Relaxed);
        let mut groups: Vec<(String, Group)> = self
            .groups
            .iter()
            .map(|(name, group)| (name.clone(), group.clone()))
            .collect();
        // The busiest first (with what they carried), then by name for a stable order.
        let carried = |name: &str, kind: Kind| self.carried.get(&(name.to_owned(), kind)).copied();
        let busy =
            |name: &str, group: &Group| group.cpu_ms + carried(name, Kind::Cpu).unwrap_or(0.0);
        groups.sort_by(|(a_name, a), (b_name, b)| {
            busy(b_name, b)
                .total_cmp(&busy(a_name, a))
                .then_with(|| a_name.cmp(b_name))
        });
        let mut named: BTreeMap<String, Group> = BTreeMap::new();
        for (index, (name, group)) in groups.into_iter().enumerate() {
            let name = if index < max_groups {
                name
            } else {
                OTHER_GROUP.to_owned()
            };
            let into = named.entry(name).or_default();
            into.cpu_ms += group.cpu_ms;
            into.wait_ms += group.wait_ms;
            into.threads += group.threads;
        }
        if let Some(exited_ms) = exited_ms {
            named.entry(EXITED_GROUP.to_owned()).or_default().cpu_ms += exited_ms;
        }
        let mut sent = Sent {
            cpu: BTreeMap::new(),
            wait: BTreeMap::new(),
            threads: BTreeMap::new(),
        };
        for (name, group) in &named {
            if let Some(ms) = self.carry(name, Kind::Cpu, group.cpu_ms) {
                sent.cpu.insert(name.clone(), ms);
            }
            if let Some(ms) = self.carry(name, Kind::Wait, group.wait_ms) {
                sent.wait.insert(name.clone(), ms);
            }
            if name != EXITED_GROUP && self.threads_sent.get(name) != Some(&group.threads) {
                sent.threads.insert(name.clone(), group.threads);
            }
        }
        // Groups gone send their last count once: 0 threads.
        for (name, _) in self
            .threads_sent
            .iter()
            .filter(|(name, threads)| **threads > 0 && !named.contains_key(*name))
        {
            sent.threads.insert(name.clone(), 0);
        }
        self.threads_sent = named
            .into_iter()
            .filter(|(name, _)| name != EXITED_GROUP)
            .map(|(name, group)| (name, group.threads))
            .collect();
        // What a group carried and did not reach the minimum with stays only while it exists.
        self.carried
            .retain(|(name, _), _| self.threads_sent.contains_key(name) || name == EXITED_GROUP);
        sent
    }

    /// `ms` of `group` with what it carried: sent when it reaches [`MIN_SENT_MS`], carried
    /// otherwise.
    fn carry(&mut self, group: &str, kind: Kind, ms: f64) -> Option<f64> {
        let key = (group.to_owned(), kind);
        let total = ms + self.carried.remove(&key).unwrap_or(0.0);
        if total >= MIN_SENT_MS {
            Some(round_ns(total))
        } else {
            if total > 0.0 {
                self.carried.insert(key, total);
            }
            None
        }
    }
}

/// The group of a thread named `name`: without its trailing digits and separators, so that the
/// threads of a pool are one group (`rayon-3` → `rayon`); a name of only those is `unnamed`.
pub(crate) fn group_of(name: &str) -> &str {
    let group = name.trim_end_matches(|c: char| {
        c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | ':' | '#' | ' ' | '/')
    });
    if group.is_empty() { "unnamed" } else { group }
}

#[allow(clippy::cast_precision_loss)] // Nanoseconds far below 2^53.
fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Milliseconds to whole nanoseconds, so sums of increases print without float noise.
fn round_ns(ms: f64) -> f64 {
    (ms * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests;
