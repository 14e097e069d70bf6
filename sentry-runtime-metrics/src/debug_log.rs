//! The integration's part of the SDK's debug log (`ClientOptions::debug`): stderr, with the
//! SDK's `[sentry]` prefix, like `sentry_debug!`. Each problem is reported once, by the code
//! that finds it; this only writes, and only when the client asked for it.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether to write; set from the options of the client the integration was set up for.
#[derive(Debug, Default)]
pub(crate) struct DebugLog {
    enabled: AtomicBool,
}

impl DebugLog {
    pub(crate) fn enable(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    pub(crate) fn write(&self, message: fmt::Arguments<'_>) {
        if self.enabled.load(Ordering::Relaxed) {
            // Not `eprintln!`, which panics when stderr is closed.
            let _ = writeln!(std::io::stderr(), "[sentry] [runtime-metrics] {message}");
        }
    }
}

/// Writes `message` if the client of the current hub asked for the debug log: for collectors,
/// which have no [`DebugLog`] of their own (as `sentry_debug!` does, without its panic when
/// stderr is closed).
pub(crate) fn write_for_current_client(message: fmt::Arguments<'_>) {
    let hub = sentry_core::Hub::current();
    if hub.client().is_some_and(|client| client.options().debug) {
        let _ = writeln!(std::io::stderr(), "[sentry] [runtime-metrics] {message}");
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}
