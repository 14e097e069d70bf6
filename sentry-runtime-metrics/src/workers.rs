//! Threads that run the application's own collectors, so that one that is slow (blocked on a
//! lock, a slow file system, a sleep) cannot hold up the round: the sampler thread hands each
//! custom collector to a worker and goes on; a collector whose previous run has not finished is
//! skipped, never run twice at once.
//!
//! The pool has one worker per custom collector (each has at most one run in flight, so each
//! finds a free worker), up to a limit. Idle workers exit after [`Workers::new`]'s idle time
//! (with long intervals, between rounds); all exit when the pool is dropped (a worker inside a
//! slow collector exits when that collector returns: a thread cannot be interrupted). Like the
//! sampler, nothing here ever joins or waits for a worker.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use crate::sync::lock;

/// Name of the worker threads (the kernel keeps 15 bytes: `sentry-rtm-coll`).
pub(crate) const THREAD_NAME: &str = "sentry-rtm-collector";

/// Most threads that run the application's collectors (one per collector up to this); beyond
/// it, collectors share threads, and a slow one can delay those queued behind it.
pub(crate) const MAX_THREADS: usize = 8;

/// One collector run.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// A small pool of worker threads, stopped when dropped.
pub(crate) struct Workers {
    shared: Arc<Shared>,
    /// Most threads the pool may start.
    max_threads: usize,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    idle_exit: Duration,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    stopped: bool,
}

impl Workers {
    /// A pool of at most `max_threads` threads (at least one); idle ones exit after `idle_exit`.
    pub(crate) fn new(max_threads: usize, idle_exit: Duration) -> Self {
        Workers {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                idle_exit,
            }),
            max_threads: max_threads.max(1),
        }
    }

    /// Starts workers until there are `wanted` (at most the pool's limit). The sampler asks for
    /// one per custom collector, so every collector that is not still running finds a free
    /// worker at once, and the thread count does not depend on timing.
    pub(crate) fn ensure(&self, wanted: usize) {
        let wanted = wanted.min(self.max_threads);
        while lock(&self.shared.state).threads < wanted {
            if !self.spawn() {
                break;
            }
        }
    }

    /// Runs `job` on a worker. If no worker can be started at all, runs it on the calling
    /// thread (degraded, but nothing is lost).
    pub(crate) fn submit(&self, job: Job) {
        let mut state = lock(&self.shared.state);
        state.jobs.push_back(job);
        if state.threads > 0 {
            self.shared.wake.notify_one();
            return;
        }
        drop(state);
        if !self.spawn() {
            let jobs: Vec<Job> = lock(&self.shared.state).jobs.drain(..).collect();
            jobs.into_iter().for_each(run);
        }
    }

    /// Starts one worker; false if the OS refused.
    fn spawn(&self) -> bool {
        lock(&self.shared.state).threads += 1;
        let shared = Arc::clone(&self.shared);
        let started = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || work(&shared));
        if started.is_err() {
            lock(&self.shared.state).threads -= 1;
        }
        started.is_ok()
    }

    /// Threads currently started (for tests).
    #[cfg(test)]
    fn threads(&self) -> usize {
        lock(&self.shared.state).threads
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.stopped = true;
        // Queued runs are not started: whoever submitted them is gone. They are dropped after
        // unlocking, since dropping one can run arbitrary `Drop` code (collectors, the engine).
        let queued = std::mem::take(&mut state.jobs);
        self.shared.wake.notify_all();
        drop(state);
        drop(queued);
    }
}

fn work(shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        if state.stopped {
            break;
        }
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            run(job);
            state = lock(&shared.state);
            continue;
        }
        let (next, timeout) = shared
            .wake
            .wait_timeout(state, shared.idle_exit)
            .unwrap_or_else(PoisonError::into_inner);
        state = next;
        if timeout.timed_out() && state.jobs.is_empty() {
            break;
        }
    }
    state.threads -= 1;
}

/// Runs one job; a panic (the engine already contains collector panics) ends only the job.
fn run(job: Job) {
    let _ = catch_unwind(AssertUnwindSafe(job));
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_busy_worker_does_not_delay_the_next_job() {
        let workers = Workers::new(2, Duration::from_secs(10));
        workers.ensure(2);
        let (release, blocked) = mpsc::channel::<()>();
        workers.submit(Box::new(move || {
            let _ = blocked.recv();
        }));
        let (done, finished) = mpsc::channel();
        workers.submit(Box::new(move || done.send(()).unwrap()));
        finished
            .recv_timeout(Duration::from_secs(30))
            .expect("second job ran while the first is blocked");
        assert_eq!(workers.threads(), 2);
        release.send(()).unwrap();
    }

    #[test]
    fn never_more_threads_than_allowed() {
        let workers = Workers::new(1, Duration::from_secs(10));
        workers.ensure(5);
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let ran = Arc::clone(&ran);
            workers.submit(Box::new(move || {
                ran.fetch_add(1, Ordering::SeqCst);
            }));
        }
        assert_eq!(workers.threads(), 1);
        let start = Instant::now();
        while ran.load(Ordering::SeqCst) < 10 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "jobs did not run"
            );
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_panicking_job_leaves_the_worker_running() {
        let workers = Workers::new(1, Duration::from_secs(10));
        workers.submit(Box::new(|| panic!("job panics")));
        let (done, finished) = mpsc::channel();
        workers.submit(Box::new(move || done.send(()).unwrap()));
        finished
            .recv_timeout(Duration::from_secs(30))
            .expect("the worker survived the panic");
        assert_eq!(workers.threads(), 1);
    }

    #[test]
    fn workers_exit_when_idle_and_when_dropped() {
        let workers = Workers::new(1, Duration::from_millis(1));
        workers.submit(Box::new(|| {}));
        let start = Instant::now();
        while workers.threads() > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "idle worker stayed"
            );
            thread::sleep(Duration::from_millis(1));
        }

        let workers = Workers::new(1, Duration::from_secs(3600));
        workers.submit(Box::new(|| {}));
        let shared = Arc::clone(&workers.shared);
        drop(workers);
        let start = Instant::now();
        while lock(&shared.state).threads > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "worker outlived the pool"
            );
            thread::sleep(Duration::from_millis(1));
        }
    }
}
