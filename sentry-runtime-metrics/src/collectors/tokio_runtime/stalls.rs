//! Stall detection: workers of a multi-thread runtime stuck inside one poll (a sync lock, a
//! blocking call, a loop without `.await`), told from idle and from saturated workers with
//! stable metrics only.
//!
//! Why it holds, read in tokio 1.54.1 (`runtime/scheduler/multi_thread/worker.rs`,
//! `runtime/metrics/batch.rs`): a worker counts its metrics in a batch of its own and publishes
//! them to the atomics `RuntimeMetrics` reads (`MetricsBatch::submit`) only
//! - in `Context::park`, just before it parks (`about_to_park` makes `park_unpark_count` odd),
//! - in `Core::maintenance` right after it unparks (`unparked` makes the count even again),
//! - in `Context::maintenance`, every `event_interval` ticks (61 by default, set with
//!   `Builder::event_interval`; a tick is one pass of the worker's loop: one task polled, up to
//!   three when a task wakes another into the LIFO slot, or one empty pass), where
//!   `end_processing_scheduled_tasks` also adds the busy time up to then,
//! - at shutdown.
//!
//! Its busy time grows only at those points (`end_processing_scheduled_tasks`). So a worker whose
//! published `park_unpark_count` is even (not parked) and whose published count and busy time
//! both stayed the same over a window has neither parked nor finished `event_interval` polls in
//! it: it is inside one poll, or its polls are so long that `event_interval` of them do not fit
//! in the window (the same bug, reported too; a runtime built with a very large
//! `event_interval` and polls of some milliseconds is reported by this rule as well). A worker
//! that never published (count 0: its thread has not reached its first park yet) is not judged. An idle worker is parked (odd count). A saturated worker whose
//! tasks yield keeps ticking, so it publishes its busy time every 61 polls, and a worker that
//! runs out of work parks: neither counts. A worker the OS did not run for the whole window
//! (CPU throttling under a cgroup quota) counts too: the runtime is stalled all the same.
//!
//! With `tokio_unstable` the poll count is compared as well. It cannot tell one stuck poll
//! from many long ones while the stall lasts: in 1.54.1 it is a batch count like the others
//! (`MetricsBatch::poll_count`), published at the same points, so in both cases it does not
//! move. When the worker publishes again, the episode's log line gives the polls it made in
//! between (those after the long one up to the next publish included), which tells a worker
//! that made a handful of polls in seconds from one that made `event_interval` of them.
//!
//! A current-thread runtime is not judged: its one worker runs only while a thread is inside
//! `block_on`, and a runtime nobody drives at the moment looks like a stuck one.

use std::time::{Duration, Instant};

use tokio::runtime::RuntimeMetrics;

use crate::debug_log;

/// The shortest time without progress for a worker to count as blocked; shorter intervals
/// between samples accumulate until it is reached.
pub(super) const MIN_WINDOW: Duration = Duration::from_millis(250);

/// What a worker last published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Published {
    park_unpark: u64,
    busy: Duration,
    #[cfg(tokio_unstable)]
    polls: u64,
}

impl Published {
    fn read(metrics: &RuntimeMetrics, worker: usize, busy: Duration) -> Self {
        Published {
            park_unpark: metrics.worker_park_unpark_count(worker),
            busy,
            #[cfg(tokio_unstable)]
            polls: metrics.worker_poll_count(worker),
        }
    }

    /// An odd count: the worker is parked.
    fn parked(self) -> bool {
        self.park_unpark % 2 == 1
    }
}

#[derive(Clone, Debug)]
struct Worker {
    published: Published,
    /// The first sample that saw `published` as it is.
    since: Instant,
    /// Whether this episode was reported (once per episode).
    reported: bool,
}

/// Per worker of one runtime, from one sample to the next.
#[derive(Clone, Debug, Default)]
pub(super) struct Stalls {
    workers: Vec<Worker>,
}

/// One sample's reading.
#[derive(Debug, Default)]
pub(super) struct Blocked {
    /// Whether each worker is blocked.
    pub(super) workers: Vec<bool>,
    /// How long the longest-blocked worker has shown no progress (zero when none is blocked).
    pub(super) longest: Duration,
    /// Workers seen blocked for the first time in this episode.
    pub(super) started: Vec<Started>,
    /// Workers that moved again after a reported episode.
    pub(super) ended: Vec<Ended>,
}

impl Blocked {
    /// Writes the episodes that started or ended to the debug log, naming the runtime with
    /// `runtime()`.
    pub(super) fn log(&self, runtime: impl Fn() -> String) {
        for started in &self.started {
            debug_log::write_from_collector(format_args!(
                "{}: worker {} blocked: inside one poll (no park, no busy time published) for \
                 {:.3} s at least",
                runtime(),
                started.worker,
                started.for_at_least.as_secs_f64()
            ));
        }
        for ended in &self.ended {
            let polls = ended
                .polls
                .map(|polls| format!(", {polls} polls in between"))
                .unwrap_or_default();
            debug_log::write_from_collector(format_args!(
                "{}: worker {} moving again after {:.3} s{polls}",
                runtime(),
                ended.worker,
                ended.lasted.as_secs_f64()
            ));
        }
    }
}

/// A worker seen blocked for the first time in an episode.
#[derive(Debug)]
pub(super) struct Started {
    pub(super) worker: usize,
    /// How long before this sample the worker stopped publishing progress (at least).
    pub(super) for_at_least: Duration,
}

/// A worker moving again after a reported episode.
#[derive(Debug)]
pub(super) struct Ended {
    pub(super) worker: usize,
    /// From the first sample that saw it stopped to the first that saw it move.
    pub(super) lasted: Duration,
    /// Polls it made from the last publish before the episode to the first after it
    /// (`tokio_unstable`).
    pub(super) polls: Option<u64>,
}

impl Stalls {
    /// Reads the workers' published progress (`busy`: each worker's total busy time, read by
    /// the caller) at `now`. `None` on the first sample, or when the worker count changed:
    /// nothing to compare with yet.
    pub(super) fn observe(
        &mut self,
        metrics: &RuntimeMetrics,
        busy: &[Duration],
        now: Instant,
    ) -> Option<Blocked> {
        let published = busy
            .iter()
            .enumerate()
            .map(|(worker, busy)| Published::read(metrics, worker, *busy));
        if self.workers.len() != busy.len() {
            self.workers = published
                .map(|published| Worker {
                    published,
                    since: now,
                    reported: false,
                })
                .collect();
            return None;
        }
        let mut blocked = Blocked::default();
        for (index, (worker, published)) in self.workers.iter_mut().zip(published).enumerate() {
            if worker.published != published {
                if worker.reported {
                    blocked.ended.push(Ended {
                        worker: index,
                        lasted: now.saturating_duration_since(worker.since),
                        polls: polls_between(worker.published, published),
                    });
                }
                *worker = Worker {
                    published,
                    since: now,
                    reported: false,
                };
                blocked.workers.push(false);
                continue;
            }
            let still = now.saturating_duration_since(worker.since);
            let is_blocked =
                published.park_unpark != 0 && !published.parked() && still >= MIN_WINDOW;
            if is_blocked {
                blocked.longest = blocked.longest.max(still);
                if !worker.reported {
                    worker.reported = true;
                    blocked.started.push(Started {
                        worker: index,
                        for_at_least: still,
                    });
                }
            }
            blocked.workers.push(is_blocked);
        }
        Some(blocked)
    }

    /// Forgets every worker (the runtime is gone).
    pub(super) fn clear(&mut self) {
        self.workers.clear();
    }
}

#[cfg(tokio_unstable)]
fn polls_between(before: Published, after: Published) -> Option<u64> {
    after.polls.checked_sub(before.polls)
}

#[cfg(not(tokio_unstable))]
fn polls_between(_: Published, _: Published) -> Option<u64> {
    None
}

impl super::TokioMetrics {
    /// The blocked workers of this sample, and the debug log of episodes that start or end.
    pub(super) fn blocked(&mut self, blocked: Blocked) {
        blocked.log(|| match self.labels.get("runtime") {
            Some(name) => format!("tokio runtime {name:?}"),
            None => self.runtime_key(),
        });
        self.blocked_workers = Some(blocked.workers.iter().filter(|b| **b).count() as u64);
        self.longest_blocked = Some(blocked.longest);
        self.worker_blocked = blocked.workers.iter().map(|b| u64::from(*b)).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observe(stalls: &mut Stalls, handle: &tokio::runtime::Handle) -> Option<Blocked> {
        let metrics = handle.metrics();
        let busy: Vec<Duration> = (0..metrics.num_workers())
            .map(|w| metrics.worker_total_busy_duration(w))
            .collect();
        stalls.observe(&metrics, &busy, Instant::now())
    }

    #[test]
    fn an_episode_is_reported_once_when_it_starts_and_once_when_it_ends() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        // Both workers started and parked once (a worker that never published is not judged).
        let metrics = runtime.metrics();
        while (0..2).any(|w| metrics.worker_park_count(w) == 0) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut stalls = Stalls::default();
        assert!(observe(&mut stalls, runtime.handle()).is_none(), "first");
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let sleeper = runtime.spawn(async move {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(700));
        });
        started_rx.recv().unwrap();
        let (mut started, mut ended) = (Vec::new(), Vec::new());
        let mut samples = 0;
        while !sleeper.is_finished() {
            std::thread::sleep(Duration::from_millis(50));
            let blocked = observe(&mut stalls, runtime.handle()).unwrap();
            started.extend(blocked.started);
            ended.extend(blocked.ended);
            samples += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
        let last = observe(&mut stalls, runtime.handle()).unwrap();
        ended.extend(last.ended);
        assert!(samples >= 10, "{samples} samples");
        assert_eq!(started.len(), 1, "once per episode: {started:?}");
        assert!(started[0].for_at_least >= MIN_WINDOW, "{started:?}");
        assert_eq!(ended.len(), 1, "{ended:?}");
        assert_eq!(ended[0].worker, started[0].worker);
        assert!(ended[0].lasted >= Duration::from_millis(400), "{ended:?}");
        assert_eq!(ended[0].polls.is_some(), cfg!(tokio_unstable));
        assert_eq!(
            (last.workers, last.longest),
            (vec![false, false], Duration::ZERO)
        );
    }
}
