//! [`ThreadGroupMetrics`]: where the CPU goes and waits, by group of threads.

mod accounting;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sentry_runtime_metrics_derive::MetricCollector;

use super::DEFAULT_MAX_THREAD_GROUPS;
use super::built_in::SharesReadings;
use crate::sys::{Needs, Platform, Shared, Sources};
use accounting::State;

/// The group of threads that exited: the process's CPU time (`getrusage`) that no thread alive
/// accounts for.
pub const EXITED_GROUP: &str = "exited";
/// The groups past the bound, summed.
pub const OTHER_GROUP: &str = "other";

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
            state: State::new(max_groups),
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
