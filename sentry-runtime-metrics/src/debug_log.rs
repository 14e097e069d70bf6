//! The integration's part of the SDK's debug log (`ClientOptions::debug`): stderr, with the
//! SDK's `[sentry]` prefix, like `sentry_debug!`. Each problem is reported once, by the code
//! that finds it; this only writes, and only when the client asked for it.

use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// Whether the debug log is on for the collector running on this thread: set by the engine
    /// around each collection, from its client's options.
    static COLLECTING_WITH: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Whether to write; set from the options of the client the integration was set up for.
#[derive(Debug, Default)]
pub(crate) struct DebugLog {
    enabled: AtomicBool,
}

impl DebugLog {
    pub(crate) fn enable(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Runs `collect` (a collector's sample) with this log as the one it writes to.
    pub(crate) fn around<R>(&self, collect: impl FnOnce() -> R) -> R {
        /// Puts back what was set before, also when `collect` panics.
        struct Restore(Option<bool>);
        impl Drop for Restore {
            fn drop(&mut self) {
                COLLECTING_WITH.with(|with| with.set(self.0));
            }
        }
        let enabled = self.enabled.load(Ordering::Relaxed);
        let _restore = Restore(COLLECTING_WITH.with(|with| with.replace(Some(enabled))));
        collect()
    }

    pub(crate) fn write(&self, message: fmt::Arguments<'_>) {
        if self.enabled.load(Ordering::Relaxed) {
            // Not `eprintln!`, which panics when stderr is closed.
            let _ = writeln!(std::io::stderr(), "[sentry] [runtime-metrics] {message}");
        }
    }
}

/// Writes `message` for a collector, which has no [`DebugLog`] of its own: to the log of the
/// integration running it ([`DebugLog::around`]), or, called outside a round (a direct
/// `collect_mut()`), if the client of the current hub asked for the debug log (as
/// `sentry_debug!` does, without its panic when stderr is closed).
pub(crate) fn write_from_collector(message: fmt::Arguments<'_>) {
    let enabled = COLLECTING_WITH.with(Cell::get).unwrap_or_else(|| {
        sentry_core::Hub::current()
            .client()
            .is_some_and(|client| client.options().debug)
    });
    if enabled {
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
