//! The background thread, after sentry-core's batcher: one named OS thread per integration,
//! sleeping on a `Condvar` so that stopping wakes it at once.
//!
//! It runs on its own thread rather than on an async runtime so it keeps reporting while the
//! application's runtime is saturated or blocked, which is when the numbers matter most.
//!
//! Lock discipline: the stop flag is an atomic and the wait mutex guards nothing, so the thread
//! never holds a lock of ours while it touches the hub or the client, and stopping never waits
//! for the thread. (Stopping can run inside `Hub::bind_client`, which holds the hub's write lock
//! while it drops the previous client; joining there could wait on a thread that waits on the
//! hub.) A stopped thread exits at its next wake-up, which the stop itself triggers.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use sentry_core::{Client, Hub};

use crate::RuntimeMetricsIntegration;
use crate::emit;
use crate::engine::{Engine, Gate};
use crate::sync::lock;
use crate::workers::{self, Workers};

/// Name of the sampler thread (`/proc/self/task/*/comm` shows its first 15 bytes).
pub(crate) const THREAD_NAME: &str = "sentry-runtime-metrics";

/// How often the thread checks that its client is still open. sentry-core tells integrations
/// nothing when the client closes, so this bounds how long the thread outlives it.
const LIVENESS_CHECK: Duration = Duration::from_millis(50);

/// Handle to a running sampler thread; dropping it does not stop the thread, [`stop`] does.
///
/// [`stop`]: Sampler::stop
pub(crate) struct Sampler {
    stop: Arc<Stop>,
}

#[derive(Default)]
struct Stop {
    stopped: AtomicBool,
    /// Guards nothing: only there for the `Condvar`.
    lock: Mutex<()>,
    wake: Condvar,
}

impl Stop {
    fn is_set(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Sleeps up to `timeout`, returning early when stopped.
    fn sleep(&self, timeout: Duration) {
        let guard = lock(&self.lock);
        // Checked under the lock: a stop between the check and the wait still wakes us.
        if self.is_set() {
            return;
        }
        let _ = self
            .wake
            .wait_timeout(guard, timeout)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

impl Sampler {
    /// Starts sampling every `interval`, sending on `hub` while it holds a client that carries
    /// this engine's integration.
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        hub: &Arc<Hub>,
        interval: Duration,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(Stop::default());
        let thread_stop = Arc::clone(&stop);
        // A weak hub: the thread must not keep a hub (and through it the client and this
        // integration) alive.
        let hub = Arc::downgrade(hub);
        thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || run(&engine, &hub, interval, &thread_stop))?;
        Ok(Sampler { stop })
    }

    /// Tells the thread to exit and wakes it; it is gone within microseconds unless a round is
    /// running, which it finishes first. Never blocks.
    pub(crate) fn stop(&self) {
        self.stop.stopped.store(true, Ordering::Release);
        let _guard = lock(&self.stop.lock);
        self.stop.wake.notify_all();
    }
}

fn run(engine: &Arc<Engine>, hub: &Weak<Hub>, interval: Duration, stop: &Stop) {
    let mut client: Option<Weak<Client>> = None;
    let mut gate: Option<Gate> = None;
    let mut reported_panic = false;
    // Idle workers stay for two rounds (so steady collection reuses them), at most a minute.
    let idle_exit = interval
        .saturating_mul(2)
        .clamp(Duration::from_secs(1), Duration::from_secs(60));
    // Dropped when this thread exits, which stops the workers.
    let workers = Workers::new(workers::MAX_THREADS, idle_exit);
    // `None`: so far in the future that it never comes due (a "disabled" interval).
    let mut due = Instant::now().checked_add(interval);
    loop {
        let now = Instant::now();
        let wait = due.map_or(LIVENESS_CHECK, |due| due.saturating_duration_since(now));
        if !wait.is_zero() {
            stop.sleep(wait.min(LIVENESS_CHECK));
        }
        if stop.is_set() {
            return;
        }
        let Some(hub) = hub.upgrade() else {
            return;
        };
        match &client {
            Some(ours) if !still_ours(&hub, ours) => return,
            Some(_) => {}
            None => match find_our_client(engine, &hub) {
                // Closed before the first check (init and drop in quick succession).
                Some(found) if !found.is_enabled() => return,
                Some(found) => {
                    let ours = Arc::downgrade(&found);
                    let check = ours.clone();
                    gate = Some(Arc::new(move |hub: &Hub| still_ours(hub, &check)));
                    client = Some(ours);
                }
                // Not bound to this hub (yet, or ever: then the thread ends when the
                // integration is dropped with its client).
                None => {}
            },
        }
        let Some(current_due) = due else { continue };
        if Instant::now() < current_due {
            continue;
        }
        // Fixed rate; rounds missed while a round ran long are skipped, not run back to back.
        due = current_due
            .checked_add(interval)
            .map(|next| next.max(Instant::now()));
        if let Some(gate) = &gate {
            // Collectors run behind their own `catch_unwind`; what can still panic here is the
            // SDK's capture path with the application's `before_send_metric` hook. That must
            // not end collection for good.
            let round = catch_unwind(AssertUnwindSafe(|| {
                engine.background_round(&hub, &workers, gate);
            }));
            if round.is_err() && !reported_panic {
                reported_panic = true;
                emit::debug(
                    &hub,
                    format_args!(
                        "a collection round panicked while sending (a `before_send_metric` hook?); \
                         the next round runs as planned (reported once)"
                    ),
                );
            }
        }
    }
}

/// The hub's client, if it is the one whose options carry this engine's integration.
/// `sentry::init` binds the client right after creating it, so this succeeds on the first check.
fn find_our_client(engine: &Arc<Engine>, hub: &Hub) -> Option<Arc<Client>> {
    let client = hub.client()?;
    let ours = RuntimeMetricsIntegration::all_of(&client)
        .any(|integration| Arc::ptr_eq(integration.engine(), engine));
    ours.then_some(client)
}

/// Whether our client is alive, open, and still the one bound to the hub. Once this is false
/// the thread exits: anything captured after the client closed would be lost anyway.
fn still_ours(hub: &Hub, ours: &Weak<Client>) -> bool {
    let Some(ours) = ours.upgrade() else {
        return false;
    };
    ours.is_enabled() && hub.client().is_some_and(|bound| Arc::ptr_eq(&bound, &ours))
}
