//! The background thread, after sentry-core's batcher: one named OS thread per integration,
//! sleeping on a `Condvar` so that stopping wakes it at once, joined when the integration goes.
//!
//! It runs on its own thread rather than on an async runtime so it keeps reporting while the
//! application's runtime is saturated or blocked, which is when the numbers matter most.

use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sentry_core::{Client, Hub};

use crate::RuntimeMetricsIntegration;
use crate::engine::Engine;

/// Name of the sampler thread (`/proc/self/task/*/comm` shows its first 15 bytes).
pub(crate) const THREAD_NAME: &str = "sentry-runtime-metrics";

/// How often the thread checks that its client is still open. sentry-core tells integrations
/// nothing when the client closes, so this bounds how long the thread outlives it.
const LIVENESS_CHECK: Duration = Duration::from_millis(50);

/// Handle to a running sampler thread.
pub(crate) struct Sampler {
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Sampler {
    /// Starts sampling every `interval`, sending on `hub` while it holds a client that carries
    /// this engine's integration.
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        hub: Arc<Hub>,
        interval: Duration,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(Stop::default());
        let thread_stop = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || run(&engine, &hub, interval, &thread_stop))?;
        Ok(Sampler {
            stop,
            thread: Some(thread),
        })
    }

    /// Wakes the thread and waits for it to exit. Called from the thread itself (the last
    /// reference to the client can be dropped there), it only signals, to avoid joining itself.
    pub(crate) fn stop(mut self) {
        *self
            .stop
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.stop.wake.notify_all();
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != thread::current().id()
        {
            // The thread catches collector panics, so an Err here is not expected; there is
            // nothing useful to do with it either way.
            let _ = thread.join();
        }
    }
}

fn run(engine: &Arc<Engine>, hub: &Hub, interval: Duration, stop: &Stop) {
    let mut client: Option<Weak<Client>> = None;
    let mut due = Instant::now() + interval;
    let mut stopped = stop.stopped.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let now = Instant::now();
        if now < due {
            let wait = (due - now).min(LIVENESS_CHECK);
            stopped = stop
                .wake
                .wait_timeout(stopped, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if *stopped {
            return;
        }
        match &client {
            Some(ours) if !still_ours(hub, ours) => return,
            Some(_) => {}
            None => match find_our_client(engine, hub) {
                // Closed before the first check (init and drop in quick succession).
                Some(found) if !found.is_enabled() => return,
                Some(found) => client = Some(Arc::downgrade(&found)),
                // Not bound to this hub (yet, or ever: then the thread ends when the
                // integration is dropped with its client).
                None => {}
            },
        }
        if Instant::now() < due {
            continue;
        }
        // Fixed rate; rounds missed while a round ran long are skipped, not run back to back.
        due = (due + interval).max(Instant::now());
        if client.is_some() {
            // Collectors may be slow: never hold the stop lock while sampling.
            drop(stopped);
            engine.round(hub);
            stopped = stop.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The hub's client, if it is the one whose options carry this engine's integration.
/// `sentry::init` binds the client right after creating it, so this succeeds on the first check.
fn find_our_client(engine: &Arc<Engine>, hub: &Hub) -> Option<Arc<Client>> {
    let client = hub.client()?;
    let ours = client.options().integrations.iter().any(|integration| {
        let any: &dyn std::any::Any = integration.as_ref();
        any.downcast_ref::<RuntimeMetricsIntegration>()
            .is_some_and(|integration| Arc::ptr_eq(integration.engine(), engine))
    });
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
