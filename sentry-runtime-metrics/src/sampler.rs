//! The background thread of one client, after sentry-core's batcher: one named OS thread that
//! keeps time and starts a round every interval, sleeping on the client binding's `Condvar` so
//! that the end of the binding wakes it at once. It runs no collector and no capture itself (the
//! engine's workers do), so neither a slow collector nor a slow `before_send_metric` hook can
//! make it late.
//!
//! It runs on its own thread rather than on an async runtime so it keeps reporting while the
//! application's runtime is saturated or blocked, which is when the numbers matter most.
//!
//! It holds no lock of ours while it touches a hub or the client, and nothing ever waits for it
//! (ending can happen inside `Hub::bind_client`, which holds the hub's write lock while it drops
//! the previous client and with it our integration instance). It exits at its next wake-up
//! after the binding's client is gone, which ending the binding triggers, and sentry-core tells
//! integrations nothing of a client closing, so it checks that every [`LIVENESS_CHECK`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::binding::{ClientBinding, Status};
use crate::engine::Engine;

/// Name of the sampler thread (`/proc/self/task/*/comm` shows its first 15 bytes).
pub(crate) const THREAD_NAME: &str = "sentry-runtime-metrics";

/// How often the thread checks that its client is still open, which bounds how long the thread
/// outlives it.
const LIVENESS_CHECK: Duration = Duration::from_millis(50);

/// While its client is not found, the thread looks for it at the hubs `sentry::init` and manual
/// binding use a millisecond after setup, then 2, 4 .. ms later, at most [`MAX_LOOK_GAP`] apart:
/// `sentry::init` binds right after setup, and a client bound elsewhere is found by the first
/// thread calling into the integration from its hub, which wakes this one. So a client that is
/// never found costs a few wake-ups, not one per interval.
const MAX_LOOK_GAP: Duration = Duration::from_secs(60);

/// Starts the thread sampling every `interval` for the client of `binding`.
pub(crate) fn spawn(
    engine: Arc<Engine>,
    binding: Arc<ClientBinding>,
    interval: Duration,
) -> std::io::Result<()> {
    thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || {
            run(&engine, &binding, interval);
            engine.release_threads();
        })
        .map(drop)
}

fn run(engine: &Arc<Engine>, binding: &Arc<ClientBinding>, interval: Duration) {
    // `None`: so far in the future that it never comes due (a "disabled" interval).
    let mut due = Instant::now().checked_add(interval);
    let mut look_gap = Duration::from_millis(1);
    let mut reported_panic = false;
    loop {
        let until_due = due.map(|due| due.saturating_duration_since(Instant::now()));
        // Only what the status is: holding the client would keep it alive while this sleeps.
        let looking = match binding.status() {
            Status::Gone => return,
            Status::Looking => true,
            Status::Bound(_) | Status::Local => false,
        };
        if looking {
            if !binding.adopt_from_known_hubs() {
                binding.wait(look_gap);
                look_gap = look_gap.saturating_mul(2).min(MAX_LOOK_GAP);
            }
            // Rounds are due an interval after the client is found (one found by `collect_now`
            // was just sampled).
            due = Instant::now().checked_add(interval);
            continue;
        }
        if until_due != Some(Duration::ZERO) {
            binding
                .wait(until_due.map_or(LIVENESS_CHECK, |until_due| until_due.min(LIVENESS_CHECK)));
            continue;
        }
        // Fixed rate; rounds missed while a round ran long are skipped, not run back to back.
        due = due
            .and_then(|due| due.checked_add(interval))
            .map(|next| next.max(Instant::now()));
        // Collectors and captures run on the workers, behind their own `catch_unwind`; here the
        // capture path runs only when no worker thread could be started (it reports that).
        // Whatever panics must not end collection.
        let round = catch_unwind(AssertUnwindSafe(|| engine.background_round(binding)));
        if round.is_err() && !std::mem::replace(&mut reported_panic, true) {
            engine.log().write(format_args!(
                "a collection round panicked while sending (a `before_send_metric` hook?); the \
                 next round runs as planned (reported once)"
            ));
        }
    }
}
