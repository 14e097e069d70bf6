//! Scheduling-delay probes: tiny tasks spawned each round, whose wait before their first poll
//! is the delay a task entering the runtime sees.
//!
//! A probe must enter the runtime the way outside work does, through the injection queue, which
//! every worker takes from. Spawned from a thread that is itself a worker of the runtime (a
//! `collect_mut()` inside a task), `Handle::spawn` puts it in that worker's LIFO slot (or local
//! queue), where it waits for its caller to yield: it would measure the caller, not the
//! scheduler. From inside a task the round's probes are handed to the runtime's blocking pool
//! first (one job for all of them), whose thread is no worker, and their wait is counted from
//! when that thread spawned them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::AbortHandle;

/// Probe tasks spawned per round.
const PROBES_PER_ROUND: usize = 3;
/// Probes waiting at most; a blocked runtime must not make the collector hoard them.
const MAX_PENDING: usize = 4 * PROBES_PER_ROUND;

/// The probes spawned and not yet harvested.
#[derive(Clone, Debug, Default)]
pub(super) struct Probes {
    pending: Vec<Probe>,
}

#[derive(Clone, Debug)]
struct Probe {
    /// When it was handed to the runtime (the wait is counted from `entered` once set).
    created: Instant,
    /// When it entered the runtime's queue.
    entered: Arc<OnceLock<Instant>>,
    polled: Arc<OnceLock<Instant>>,
    task: ProbeTask,
}

#[derive(Clone, Debug)]
enum ProbeTask {
    /// Spawned from outside the runtime's workers: the probe itself.
    Direct(AbortHandle),
    /// Spawned by a blocking-pool thread: that job, and the probe once it is spawned.
    Handed {
        spawner: AbortHandle,
        probe: Arc<OnceLock<AbortHandle>>,
    },
}

impl ProbeTask {
    /// Whether the probe can no longer run: it finished, or was never spawned and will not be.
    fn finished(&self) -> bool {
        match self {
            ProbeTask::Direct(task) => task.is_finished(),
            ProbeTask::Handed { spawner, probe } => {
                // The spawner sets the probe before it finishes: read in this order, a spawner
                // seen finished with no probe ended without spawning one (cancelled).
                let spawner_done = spawner.is_finished();
                match probe.get() {
                    Some(probe) => probe.is_finished(),
                    None => spawner_done,
                }
            }
        }
    }

    fn abort(&self) {
        match self {
            ProbeTask::Direct(task) => task.abort(),
            ProbeTask::Handed { spawner, probe } => {
                spawner.abort();
                if let Some(probe) = probe.get() {
                    probe.abort();
                }
            }
        }
    }
}

impl Probes {
    /// Delays of the probes that ran (or waited `timeout`) since the last harvest; `true` when
    /// a probe was dropped unpolled, which happens when its runtime shut down.
    pub(super) fn harvest(&mut self, now: Instant, timeout: Duration) -> (Vec<Duration>, bool) {
        let mut delays = Vec::new();
        let mut gone = false;
        self.pending.retain(|probe| {
            // Finished is read first: a probe that runs between the two reads must count as
            // polled, not as cancelled.
            let finished = probe.task.finished();
            let entered = probe.entered.get().copied();
            if let (Some(polled), Some(entered)) = (probe.polled.get(), entered) {
                delays.push(polled.saturating_duration_since(entered).min(timeout));
                return false;
            }
            if finished {
                gone = true;
                return false;
            }
            match entered {
                Some(entered) if now.saturating_duration_since(entered) >= timeout => {
                    delays.push(timeout);
                }
                // Not even in the runtime's queue yet: the blocking pool is the one that is
                // late, which is not the workers' delay.
                None if now.saturating_duration_since(probe.created) >= timeout => {}
                _ => return true,
            }
            probe.task.abort();
            false
        });
        (delays, gone)
    }

    /// Spawns this round's probes; never waits for them. `false` if the runtime cancelled them
    /// at once, i.e. it has shut down.
    pub(super) fn spawn(&mut self, handle: &Handle, now: Instant) -> bool {
        let room = MAX_PENDING.saturating_sub(self.pending.len());
        let count = PROBES_PER_ROUND.min(room);
        if count == 0 {
            return true;
        }
        if inside_a_task_of_a_multi_thread(handle) {
            self.hand_over(handle, now, count);
            return true;
        }
        for _ in 0..count {
            let (entered, polled) = (Arc::new(OnceLock::new()), Arc::new(OnceLock::new()));
            let _ = entered.set(Instant::now());
            let task = handle.spawn(probe(Arc::clone(&polled)));
            if task.is_finished() && polled.get().is_none() {
                return false;
            }
            self.pending.push(Probe {
                created: now,
                entered,
                polled,
                task: ProbeTask::Direct(task.abort_handle()),
            });
        }
        true
    }

    /// Spawns `count` probes from one blocking-pool job of the runtime, so they enter through
    /// the injection queue. If the pool cannot take the job (tokio panics when the OS refuses a
    /// thread), this round has no probes.
    fn hand_over(&mut self, handle: &Handle, now: Instant, count: usize) {
        type Slots = (
            Arc<OnceLock<Instant>>,
            Arc<OnceLock<Instant>>,
            Arc<OnceLock<AbortHandle>>,
        );
        let slots: Vec<Slots> = (0..count)
            .map(|_| (Arc::default(), Arc::default(), Arc::default()))
            .collect();
        let (runtime, theirs) = (handle.clone(), slots.clone());
        let spawned = catch_unwind(AssertUnwindSafe(|| {
            handle.spawn_blocking(move || {
                for (entered, polled, task) in theirs {
                    let _ = entered.set(Instant::now());
                    let _ = task.set(runtime.spawn(probe(polled)).abort_handle());
                }
            })
        }));
        let Ok(spawner) = spawned else {
            return;
        };
        let spawner = spawner.abort_handle();
        for (entered, polled, probe) in slots {
            self.pending.push(Probe {
                created: now,
                entered,
                polled,
                task: ProbeTask::Handed {
                    spawner: spawner.clone(),
                    probe,
                },
            });
        }
    }

    /// Forgets every pending probe (the runtime is gone).
    pub(super) fn clear(&mut self) {
        self.pending.clear();
    }
}

/// The probe: marks when it is first polled.
async fn probe(polled: Arc<OnceLock<Instant>>) {
    let _ = polled.set(Instant::now());
}

/// Whether this thread runs a task (`tokio::task::try_id`) and the probes go to a multi-thread
/// runtime: a worker thread's `Handle::spawn` schedules locally (tokio's
/// `multi_thread::Handle::schedule_task` takes the local path when the thread's scheduler
/// context is the runtime's and holds a core), whatever runtime's handle the task entered since.
/// Any task is enough, so that case is covered too; a task on a blocking-pool thread, in a
/// `LocalSet` or in another runtime passes as well, and pays one blocking-pool job for a hand-over
/// it did not need (the probes still enter through the injection queue). In a current-thread
/// runtime outside work waits for its one thread as well: no hand-over.
fn inside_a_task_of_a_multi_thread(handle: &Handle) -> bool {
    tokio::task::try_id().is_some() && handle.runtime_flavor() == RuntimeFlavor::MultiThread
}
