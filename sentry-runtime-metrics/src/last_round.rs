//! [`LastRoundGuard`]: the round that runs when the program ends, so the increases of its last
//! interval reach Sentry. sentry-core tells an integration nothing of its client closing, and a
//! metric captured after the client closed is lost; so the application drops this guard first,
//! while the client is open.

use std::fmt;
use std::time::{Duration, Instant};

use crate::integration::RuntimeMetricsIntegration;

/// How long the last round waits for a collector that another run holds (a background round
/// under way), and for the background round's metrics to be handed to the SDK.
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
/// When dropped it waits at most [`LAST_ROUND_WAIT`] for a round under way (a collector still
/// running is then skipped, and counted), runs the round on the dropping thread, and flushes the
/// client (which waits for the transport at most the client's `shutdown_timeout`). Dropped after
/// the client closed, it can send nothing: what it collects is counted as dropped (`no_client`),
/// and the SDK's debug log says to declare it after the `sentry::init` guard.
#[must_use = "the last round runs when the guard is dropped: bind it to a variable \
              (`let _last_round = ..`), since `let _ = ..` drops it at once"]
pub struct LastRoundGuard {
    integration: RuntimeMetricsIntegration,
}

impl LastRoundGuard {
    pub(crate) fn new(integration: RuntimeMetricsIntegration) -> Self {
        LastRoundGuard { integration }
    }
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
