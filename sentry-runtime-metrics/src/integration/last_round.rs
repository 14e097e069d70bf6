//! [`LastRoundGuard`]: the last round of a program that ends, run and flushed while its client
//! is still open (sentry-core tells an integration nothing of its client closing, and a metric
//! captured after it closed is lost).

use std::fmt;
use std::time::{Duration, Instant};

use super::RuntimeMetricsIntegration;

impl RuntimeMetricsIntegration {
    /// A guard that runs a last round when dropped and flushes it to the client, so that a
    /// program that ends (a batch job, a CLI, a service stopped by SIGTERM) sends the increases
    /// of its last interval. Declare it after the guard of `sentry::init`, so that it is dropped
    /// first; see [`LastRoundGuard`].
    pub fn last_round_guard(&self) -> LastRoundGuard {
        LastRoundGuard {
            integration: self.clone(),
        }
    }

    /// The last round (see [`LastRoundGuard`]): until `deadline` at most, on the workers; then
    /// flushes the client.
    pub(crate) fn last_round(&self, deadline: Instant) {
        let engine = &self.shared.engine;
        let session = self.found_session();
        if let Some(local) = session.as_ref().filter(|session| session.is_local()) {
            // Nothing to flush: the last round is shown, and the local session ends with it.
            engine.last_round(local, deadline);
            local.end();
            return;
        }
        let client = session.as_ref().and_then(|session| session.client());
        let (Some(session), Some(client)) = (session, client) else {
            engine.log().write(format_args!(
                "no open client for the last round, which collects nothing: declare the \
                 last-round guard after the guard of `sentry::init`, so that it is dropped \
                 first, while the client is open"
            ));
            return;
        };
        engine.last_round(&session, deadline);
        client.flush(None);
    }
}

/// The longest a [`LastRoundGuard`] holds up the end of the program: for the round under way,
/// then for the last round itself (a slow collector of yours included).
pub const LAST_ROUND_WAIT: Duration = Duration::from_secs(1);

/// Runs a last collection round when dropped, and flushes it to the client: every counter
/// increase up to the end of the program is sent. From
/// [`RuntimeMetricsIntegration::last_round_guard`].
///
/// Declare it *after* the guard of `sentry::init`, so that it is dropped first, while the client
/// is still open (Rust drops local variables in reverse order):
///
/// ```
/// use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
///
/// let metrics = RuntimeMetricsIntegration::new(RuntimeMetricsConfig::default());
/// let _sentry = sentry::init(sentry::ClientOptions::new().add_integration(metrics.clone()));
/// let _last_round = metrics.last_round_guard();
///
/// // The program's work: a batch job, a CLI command, a service until SIGTERM.
/// ```
///
/// When dropped it waits for the background round under way, runs the last round on the
/// integration's workers (waiting for a collector still running from the earlier round), and
/// flushes the client (which waits for the transport at most the client's `shutdown_timeout`).
/// The rounds take at most [`LAST_ROUND_WAIT`] in all: a collector still running by then is
/// left behind, and what it collects is lost when the client closes. Dropped when there is no
/// open client (after the client closed, or without a DSN), it runs nothing, and the SDK's debug
/// log says to declare it after the `sentry::init` guard. Without a DSN but with a
/// [local view](RuntimeMetricsIntegration::with_local_view), it runs the last round for the view
/// and ends the local session (its threads exit): a client without a DSN cannot be seen closing,
/// so this guard is what ends it.
#[must_use = "the last round runs when the guard is dropped: bind it to a variable \
              (`let _last_round = ..`), since `let _ = ..` drops it at once"]
pub struct LastRoundGuard {
    integration: RuntimeMetricsIntegration,
}

impl Drop for LastRoundGuard {
    fn drop(&mut self) {
        self.integration
            .last_round(Instant::now() + LAST_ROUND_WAIT);
    }
}

impl fmt::Debug for LastRoundGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LastRoundGuard").finish_non_exhaustive()
    }
}
