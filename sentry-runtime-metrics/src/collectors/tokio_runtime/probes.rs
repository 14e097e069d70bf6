//! Scheduling-delay probes: tiny tasks spawned each round, whose wait before their first poll
//! is the delay a task entering the runtime sees.
//!
//! A probe must enter the runtime the way outside work does, through the injection queue, which
//! every worker takes from. Spawned from a thread that is itself a worker of the runtime (a
//! `collect_mut()` inside a task), `Handle::spawn` puts it in that worker's LIFO slot (or local
//! queue), where it waits for its caller to yield: it would measure the caller, not the
//! scheduler. From there the probe is handed to the runtime's blocking pool first, whose thread
//! is no worker, and its wait is counted from when that thread spawned it.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::AbortHandle;

/// Probe tasks spawned per round.
pub(super) const PROBES_PER_ROUND: usize = 3;
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
        let from_a_worker = on_a_worker_of(handle);
        for _ in 0..PROBES_PER_ROUND {
            if self.pending.len() >= MAX_PENDING {
                break;
            }
            let (entered, polled) = (Arc::new(OnceLock::new()), Arc::new(OnceLock::new()));
            let task = if from_a_worker {
                hand_over(handle, &entered, &polled)
            } else {
                let _ = entered.set(Instant::now());
                let task = handle.spawn(probe(Arc::clone(&polled)));
                if task.is_finished() && polled.get().is_none() {
                    return false;
                }
                ProbeTask::Direct(task.abort_handle())
            };
            self.pending.push(Probe {
                created: now,
                entered,
                polled,
                task,
            });
        }
        true
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

/// Spawns the probe from a blocking-pool thread of the runtime, so it enters through the
/// injection queue.
fn hand_over(
    handle: &Handle,
    entered: &Arc<OnceLock<Instant>>,
    polled: &Arc<OnceLock<Instant>>,
) -> ProbeTask {
    let probe_task = Arc::new(OnceLock::new());
    let (runtime, entered, polled, spawned) = (
        handle.clone(),
        Arc::clone(entered),
        Arc::clone(polled),
        Arc::clone(&probe_task),
    );
    let spawner = handle.spawn_blocking(move || {
        let _ = entered.set(Instant::now());
        let _ = spawned.set(runtime.spawn(probe(polled)).abort_handle());
    });
    ProbeTask::Handed {
        spawner: spawner.abort_handle(),
        probe: probe_task,
    }
}

/// Whether this thread is a worker of `handle`'s multi-thread runtime, running one of its
/// tasks: where `Handle::spawn` schedules locally (tokio's `multi_thread::Handle::schedule_task`
/// takes the local path when the thread's scheduler context is this runtime's and holds a
/// core). A blocking-pool thread or `block_on` passes too where it runs a task in the runtime's
/// context; the hand-over costs it one blocking-pool job, and the probe still enters through
/// the injection queue. In a current-thread runtime, outside work waits for its one thread as
/// well: no hand-over.
fn on_a_worker_of(handle: &Handle) -> bool {
    tokio::task::try_id().is_some()
        && handle.runtime_flavor() == RuntimeFlavor::MultiThread
        && Handle::try_current().is_ok_and(|current| current.id() == handle.id())
}
