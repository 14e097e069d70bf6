//! [`ThreadGroupMetrics`]: where the CPU goes and waits, by group of threads.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sentry_runtime_metrics_derive::MetricCollector;

use super::DEFAULT_MAX_THREAD_GROUPS;
use super::built_in::SharesReadings;
use crate::running_totals::{Began, RunningTotals};
use crate::sys::{Needs, Platform, Shared, Sources, ThreadTable};

/// The group of threads that exited: the process's CPU time (`getrusage`) that no thread alive
/// accounts for.
pub const EXITED_GROUP: &str = "exited";
/// The groups past the bound, summed.
pub const OTHER_GROUP: &str = "other";

/// Smallest increase sent, in milliseconds: below it, a group's time is carried to the next
/// round (nothing is lost), so threads that barely run (the SDK's, this library's own, a timer)
/// do not add a metric to every round.
const MIN_SENT_MS: f64 = 1.0;

/// CPU time and run-queue wait of the process's threads, by group (Linux).
///
/// A group is a thread name without its trailing digits and separators: `tokio-runtime-worker`,
/// `rayon-3` and `rayon-12` → `rayon`, `sentry-rtm-collector`. Threads that were not named
/// carry the process's name (Linux gives a new thread its creator's name, and the main thread
/// is named after the program), so they are one group with the main thread: name your pools
/// (`tokio::runtime::Builder::thread_name`, rayon's `ThreadPoolBuilder::thread_name`,
/// `std::thread::Builder::name`). Linux keeps the first 15 bytes of a name.
///
/// Per group and round: the CPU time and the run-queue wait (time ready to run and waiting for
/// a CPU, from the kernel's `schedstat`: latency that a busy quota or a noisy neighbour adds),
/// as counters in milliseconds, and the threads in it, sent when that number changes. A group
/// that did not run sends nothing; time under 1 ms is carried to a later round. The
/// busiest groups by CPU are sent by name, at most [`DEFAULT_MAX_THREAD_GROUPS`] (see
/// [`max_groups`](Self::max_groups)); the rest are summed as `other`. The CPU time of threads
/// that exited since the previous round is the group `exited`: every group together adds up to
/// the process's CPU time (`getrusage`).
///
/// Counters sent the first round hold everything since each thread started, like the process's
/// own CPU time. Without `schedstat` (a kernel built without `CONFIG_SCHED_INFO`), the CPU time
/// comes from each thread's `stat` and no wait is sent. Other platforms send nothing.
#[derive(Clone, Debug, MetricCollector)]
#[collector(name = "thread-groups")]
pub struct ThreadGroupMetrics {
    /// CPU time of the threads of each group, in milliseconds, by `thread.group`.
    #[counter(
        name = "process.thread_group.cpu_time",
        attribute = "thread.group",
        delta
    )]
    cpu_time: BTreeMap<String, f64>,
    /// Time the threads of each group were ready to run and waited for a CPU (run-queue wait,
    /// `schedstat`), in milliseconds, by `thread.group`.
    #[counter(
        name = "process.thread_group.wait_time",
        attribute = "thread.group",
        delta
    )]
    wait_time: BTreeMap<String, f64>,
    /// Threads in each group, by `thread.group`: sent when it changes.
    #[gauge(name = "process.thread_group.threads", attribute = "thread.group")]
    threads: BTreeMap<String, u64>,
    state: State,
    /// This round's `getrusage`, when the built-in group handed it over.
    shared: Option<Shared>,
    sources: Arc<Sources>,
}

/// What is kept between rounds.
#[derive(Clone, Debug)]
struct State {
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
    max_groups: Arc<AtomicUsize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Cpu,
    Wait,
}

impl ThreadGroupMetrics {
    /// A thread-group collector.
    pub fn new() -> Self {
        Self::with_sources(
            Arc::new(Sources::open()),
            Arc::new(AtomicUsize::new(DEFAULT_MAX_THREAD_GROUPS)),
        )
    }

    /// A collector reading `sources`, shared with the other built-in collectors.
    pub(crate) fn with_sources(sources: Arc<Sources>, max_groups: Arc<AtomicUsize>) -> Self {
        ThreadGroupMetrics {
            cpu_time: BTreeMap::new(),
            wait_time: BTreeMap::new(),
            threads: BTreeMap::new(),
            state: State {
                table: ThreadTable::new(),
                totals: RunningTotals::new(),
                groups: HashMap::new(),
                carried: HashMap::new(),
                threads_sent: BTreeMap::new(),
                exited_sent_ns: None,
                max_groups,
            },
            shared: None,
            sources,
        }
    }

    /// Sends at most `max` groups by name (the busiest by CPU each round), the rest summed as
    /// `other` (default [`DEFAULT_MAX_THREAD_GROUPS`]); 0 sends nothing and reads nothing.
    #[must_use]
    pub fn max_groups(mut self, max: usize) -> Self {
        self.state.max_groups = Arc::new(AtomicUsize::new(max));
        self
    }

    fn sample(&mut self) {
        self.cpu_time.clear();
        self.wait_time.clear();
        self.threads.clear();
        let shared = self.shared.take();
        if self.state.max_groups.load(Ordering::Relaxed) == 0 {
            return;
        }
        let shared = shared.unwrap_or_else(|| Shared::read(&self.sources, self.needs()));
        let state = &mut self.state;
        let Some(alive_cpu_ns) = state.read() else {
            return;
        };
        let process_cpu_ns = shared
            .usage
            .and_then(|usage| usage.user_us.checked_add(usage.system_us))
            .and_then(|us| us.checked_mul(1000));
        let exited_ms = process_cpu_ns.and_then(|ns| state.exited(ns, alive_cpu_ns));
        let sent = state.send(exited_ms);
        self.cpu_time = sent.cpu;
        self.wait_time = sent.wait;
        self.threads = sent.threads;
    }
}

impl Default for ThreadGroupMetrics {
    fn default() -> Self {
        Self::new()
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
struct Sent {
    cpu: BTreeMap<String, f64>,
    wait: BTreeMap<String, f64>,
    threads: BTreeMap<String, u64>,
}

impl State {
    /// Reads every thread: what each grew by since the previous round, summed by group into
    /// `groups`; returns the CPU time of every thread alive, since it started (ns).
    fn read(&mut self) -> Option<u64> {
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
    fn exited(&mut self, process_cpu_ns: u64, alive_cpu_ns: u64) -> Option<f64> {
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
    fn send(&mut self, exited_ms: Option<f64>) -> Sent {
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

impl SharesReadings for ThreadGroupMetrics {
    /// `getrusage`, for the CPU time of the threads that exited.
    fn needs(&self) -> Needs {
        Needs {
            usage: true,
            memory_limit: false,
            cpu_quota: false,
        }
    }

    fn hand(&mut self, shared: Shared) {
        self.shared = Some(shared);
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
mod tests {
    use super::*;

    #[test]
    fn groups_are_names_without_their_numbers() {
        assert_eq!(group_of("tokio-runtime-worker"), "tokio-runtime-worker");
        assert_eq!(group_of("rayon-3"), "rayon");
        assert_eq!(group_of("rayon-12"), "rayon");
        assert_eq!(group_of("pool_7"), "pool");
        assert_eq!(group_of("worker 2"), "worker");
        assert_eq!(group_of("sentry-runtime-"), "sentry-runtime");
        assert_eq!(group_of("42"), "unnamed");
        assert_eq!(group_of("h2o"), "h2o");
    }

    fn state(max_groups: usize) -> State {
        State {
            table: ThreadTable::new(),
            totals: RunningTotals::new(),
            groups: HashMap::new(),
            carried: HashMap::new(),
            threads_sent: BTreeMap::new(),
            exited_sent_ns: None,
            max_groups: Arc::new(AtomicUsize::new(max_groups)),
        }
    }

    /// `state` with this round's groups.
    fn round<'a>(state: &'a mut State, groups: &[(&str, f64, f64, u64)]) -> &'a mut State {
        state.groups = groups
            .iter()
            .map(|(name, cpu_ms, wait_ms, threads)| {
                let group = Group {
                    cpu_ms: *cpu_ms,
                    wait_ms: *wait_ms,
                    threads: *threads,
                };
                ((*name).to_owned(), group)
            })
            .collect();
        state
    }

    #[test]
    fn the_busiest_groups_by_name_the_rest_as_other() {
        let mut state = state(2);
        let groups = [
            ("a", 5.0, 1.0, 1),
            ("b", 50.0, 0.0, 2),
            ("c", 2.0, 3.0, 1),
            ("d", 1.0, 0.0, 1),
        ];
        let sent = round(&mut state, &groups).send(None);
        assert_eq!(
            sent.cpu,
            BTreeMap::from([("a".into(), 5.0), ("b".into(), 50.0), ("other".into(), 3.0)])
        );
        assert_eq!(
            sent.wait,
            BTreeMap::from([("a".into(), 1.0), ("other".into(), 3.0)])
        );
        assert_eq!(
            sent.threads,
            BTreeMap::from([("a".into(), 1), ("b".into(), 2), ("other".into(), 2)])
        );
    }

    #[test]
    fn small_increases_are_carried_and_counts_sent_when_they_change() {
        let mut state = state(16);
        let first = round(&mut state, &[("timer", 0.4, 0.2, 1)]).send(Some(0.0));
        assert!(first.cpu.is_empty() && first.wait.is_empty());
        assert_eq!(first.threads, BTreeMap::from([("timer".into(), 1)]));
        let second = round(&mut state, &[("timer", 0.7, 0.0, 1)]).send(None);
        // 0.4 + 0.7: sent, whole; the count did not change.
        assert_eq!(second.cpu, BTreeMap::from([("timer".into(), 1.1)]));
        assert!(second.threads.is_empty());
        // The group is gone: its count goes to 0 once, and its carried wait is dropped.
        let third = round(&mut state, &[]).send(None);
        assert_eq!(third.threads, BTreeMap::from([("timer".into(), 0)]));
        assert!(round(&mut state, &[]).send(None).threads.is_empty());
    }

    #[test]
    fn exited_threads_send_what_getrusage_counts_beyond_the_threads_alive() {
        let mut state = state(16);
        // First round: what exited before, all of it.
        assert_eq!(state.exited(10_000_000, 7_000_000), Some(3.0));
        // Readings moments apart: a little back and forth sends nothing, and nothing twice.
        assert_eq!(state.exited(12_000_000, 9_100_000), None);
        assert_eq!(state.exited(14_000_000, 11_000_000), None);
        // A thread that ran 5 ms exited.
        assert_eq!(state.exited(20_000_000, 12_000_000), Some(5.0));
    }
}
