//! The threads that run background rounds, owned by the engine; the sampler thread only keeps
//! time. A collector that is slow (blocked on a lock,
//! a slow file system, a sleep) holds up only the worker it runs on.
//!
//! A job goes to an idle worker; with none idle, a new worker is started, up to
//! [`MAX_THREADS`]; past that, jobs wait in order. A job no thread can run (none is running and
//! none can be started) is handed back, for the caller to count as lost: nothing here falls back
//! to running it on the caller's thread. Idle workers exit after an idle time (between rounds of
//! a long interval) or when released (their client closed). Like the sampler, nothing here ever
//! joins a worker: one inside a slow collector exits when that collector returns.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// Name of the worker threads (the kernel keeps 15 bytes: `sentry-rtm-coll`).
pub(crate) const THREAD_NAME: &str = "sentry-rtm-collector";

/// Most worker threads: one per custom collector up to this (and one for the built-in ones);
/// beyond it, collectors share threads and a slow one can delay those queued behind it.
pub(crate) const MAX_THREADS: usize = 8;

/// How long an idle worker waits for a job before it exits, until the engine sets it from the
/// collection interval.
const DEFAULT_IDLE_EXIT: Duration = Duration::from_secs(1);

/// One piece of work: collectors run, checked and sent.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// The pool; stopped when dropped.
pub(crate) struct Workers {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Signalled when the last unfinished job is done.
    settled: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    /// Jobs submitted and not done yet (queued or running).
    unfinished: usize,
    threads: usize,
    /// Workers waiting for a job.
    idle: usize,
    idle_exit: Duration,
    /// Set by [`Workers::release`] until the next job: a worker with nothing to do exits
    /// instead of waiting (one busy when released exits once its job is done).
    released: bool,
    stopped: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Workers {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    jobs: VecDeque::new(),
                    unfinished: 0,
                    threads: 0,
                    idle: 0,
                    idle_exit: DEFAULT_IDLE_EXIT,
                    released: false,
                    stopped: false,
                }),
                wake: Condvar::new(),
                settled: Condvar::new(),
            }),
        }
    }
}

impl Workers {
    /// Runs `job` on a worker, starting one if none is idle and fewer than `threads` (at most
    /// [`MAX_THREADS`]) run; hands the job back if no thread can run it.
    ///
    /// `threads` is how many jobs can be in flight at once: one per collector claim, which a
    /// job holds until it is done. A worker still finishing its previous job then takes the
    /// next one, so the thread count does not depend on timing.
    pub(crate) fn submit(&self, job: Job, threads: usize) -> Result<(), Job> {
        let mut state = lock(&self.shared.state);
        state.released = false;
        state.unfinished += 1;
        // An idle worker not yet promised one of the queued jobs takes it.
        let limit = threads.clamp(1, MAX_THREADS);
        if state.idle > state.jobs.len() || state.threads >= limit {
            state.jobs.push_back(job);
            drop(state);
            self.shared.wake.notify_one();
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        // A new worker starts with this job, so it never waits for one it was not started for.
        let first = Arc::new(Mutex::new(Some(job)));
        let (shared, handed) = (Arc::clone(&self.shared), Arc::clone(&first));
        let started = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                let first = lock(&handed).take();
                work(&shared, first);
            });
        if started.is_ok() {
            return Ok(());
        }
        let mut state = lock(&self.shared.state);
        state.threads -= 1;
        let Some(job) = lock(&first).take() else {
            return Ok(());
        };
        if state.threads == 0 {
            state.unfinished -= 1;
            return Err(job);
        }
        // Another worker will get to it.
        state.jobs.push_back(job);
        drop(state);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Sets how long idle workers stay (twice the collection interval, within limits).
    pub(crate) fn set_idle_exit(&self, idle_exit: Duration) {
        lock(&self.shared.state).idle_exit = idle_exit;
    }

    /// Waits until every job submitted so far is done, or `deadline` passes.
    pub(crate) fn wait_idle(&self, deadline: Instant) {
        let mut state = lock(&self.shared.state);
        while state.unfinished > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            state = self
                .shared
                .settled
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Lets the idle workers exit now (their client closed); later jobs start new ones.
    pub(crate) fn release(&self) {
        lock(&self.shared.state).released = true;
        self.shared.wake.notify_all();
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
        // Queued jobs are not started: whoever submitted them is gone. They are dropped after
        // unlocking, since dropping one can run arbitrary `Drop` code (collectors, the engine).
        let queued = std::mem::take(&mut state.jobs);
        state.unfinished -= queued.len();
        drop(state);
        self.shared.settled.notify_all();
        self.shared.wake.notify_all();
        drop(queued);
    }
}

fn work(shared: &Shared, first: Option<Job>) {
    let mut next = first;
    let mut state = loop {
        if let Some(job) = next.take() {
            // A panic (the engine already contains collector panics) ends only the job.
            let _ = catch_unwind(AssertUnwindSafe(job));
            let mut state = lock(&shared.state);
            state.unfinished -= 1;
            if state.unfinished == 0 {
                shared.settled.notify_all();
            }
            drop(state);
        }
        let mut state = lock(&shared.state);
        if let Some(job) = state.jobs.pop_front() {
            next = Some(job);
            continue;
        }
        if state.stopped || state.released {
            break state;
        }
        let idle_exit = state.idle_exit;
        state.idle += 1;
        let (mut state, timeout) = shared
            .wake
            .wait_timeout(state, idle_exit)
            .unwrap_or_else(PoisonError::into_inner);
        state.idle -= 1;
        next = state.jobs.pop_front();
        if next.is_none() && (state.stopped || state.released || timeout.timed_out()) {
            break state;
        }
    };
    state.threads -= 1;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Instant;

    use super::*;

    fn wait_until(what: &str, condition: impl Fn() -> bool) {
        let start = Instant::now();
        while !condition() {
            assert!(start.elapsed() < Duration::from_secs(30), "{what}");
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn submit(workers: &Workers, job: Job) {
        assert!(workers.submit(job, MAX_THREADS).is_ok());
    }

    /// Submits a job that says when it ran, and waits for that.
    fn runs(workers: &Workers, what: &str) {
        let (done, finished) = mpsc::channel();
        submit(workers, Box::new(move || done.send(()).unwrap()));
        finished.recv_timeout(Duration::from_secs(30)).expect(what);
    }

    /// A job that waits until the returned sender is used or dropped.
    fn blocking() -> (Job, mpsc::Sender<()>) {
        let (release, blocked) = mpsc::channel::<()>();
        (
            Box::new(move || {
                let _ = blocked.recv();
            }),
            release,
        )
    }

    fn idle(workers: &Workers) -> usize {
        lock(&workers.shared.state).idle
    }

    #[test]
    fn a_busy_worker_does_not_delay_the_next_job() {
        let workers = Workers::default();
        let (job, release) = blocking();
        submit(&workers, job);
        runs(&workers, "the second job ran while the first is blocked");
        assert_eq!(workers.threads(), 2);
        drop(release);
    }

    #[test]
    fn an_idle_worker_is_reused_and_never_more_threads_than_allowed() {
        let workers = Workers::default();
        runs(&workers, "the first job ran");
        wait_until("the worker to wait for work", || idle(&workers) == 1);
        runs(&workers, "the second job ran");
        assert_eq!(workers.threads(), 1, "the idle worker took the job");

        let ran = Arc::new(AtomicUsize::new(0));
        let (release, blocked) = mpsc::channel::<()>();
        let blocked = Arc::new(Mutex::new(blocked));
        for _ in 0..20 {
            let (ran, blocked) = (ran.clone(), blocked.clone());
            submit(
                &workers,
                Box::new(move || {
                    let _ = lock(&blocked).recv();
                    ran.fetch_add(1, Ordering::SeqCst);
                }),
            );
        }
        assert_eq!(workers.threads(), MAX_THREADS);
        for _ in 0..20 {
            release.send(()).unwrap();
        }
        wait_until("every job to run", || ran.load(Ordering::SeqCst) == 20);
    }

    #[test]
    fn a_panicking_job_leaves_the_worker_running() {
        let workers = Workers::default();
        submit(&workers, Box::new(|| panic!("job panics")));
        runs(&workers, "the worker survived the panic");
    }

    #[test]
    fn waiting_for_idle_returns_when_the_jobs_are_done_or_at_the_deadline() {
        let workers = Workers::default();
        let (job, release) = blocking();
        submit(&workers, job);
        let start = Instant::now();
        workers.wait_idle(start + Duration::from_millis(20));
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "a job still runs"
        );
        drop(release);
        workers.wait_idle(Instant::now() + Duration::from_secs(30));
        assert_eq!(lock(&workers.shared.state).unfinished, 0);
    }

    #[test]
    fn workers_exit_when_idle_released_or_dropped() {
        let workers = Workers::default();
        workers.set_idle_exit(Duration::from_millis(1));
        runs(&workers, "the job ran");
        wait_until("the idle worker to exit", || workers.threads() == 0);

        workers.set_idle_exit(Duration::from_secs(3600));
        runs(&workers, "a new worker ran the job");
        wait_until("the worker to wait for work", || idle(&workers) == 1);
        workers.release();
        wait_until("the released worker to exit", || workers.threads() == 0);

        // One busy when released exits when its job is done, not after the idle time.
        let (job, release) = blocking();
        submit(&workers, job);
        workers.release();
        drop(release);
        wait_until("the busy worker to exit after its job", || {
            workers.threads() == 0
        });

        runs(&workers, "a worker after the release");
        let shared = Arc::clone(&workers.shared);
        drop(workers);
        wait_until("the worker to exit with the pool", || {
            lock(&shared.state).threads == 0
        });
    }
}
