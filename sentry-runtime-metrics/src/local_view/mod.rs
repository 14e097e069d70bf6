//! [`LocalView`]: what each round sends, printed where you can read it, with or without a DSN.

mod board;
pub(crate) mod readable;

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::Instant;

use crate::metric::RuntimeMetric;
use crate::sync::lock;
use board::Board;
pub(crate) use board::Destination;

/// Prints what each collection round sends, readable: the first round as a table (every series,
/// its value with units as a person reads it, and as Sentry receives it), then per round what
/// changed (counters' increases, gauges that moved from → to). Turned on with
/// [`RuntimeMetricsIntegration::with_local_view`](crate::RuntimeMetricsIntegration::with_local_view).
///
/// It works without a DSN: a client without one sends nothing, and the integration then
/// collects for the view alone (until the [`LastRoundGuard`](crate::LastRoundGuard) drops, the
/// client is dropped or replaced, or the program ends). With a DSN it shows what is handed to
/// the SDK, which sends it as usual. What it shows is what the integration hands over after its
/// checks (names, units and attributes as Sentry will store them), without the attributes
/// added to every metric (`RuntimeMetricsConfig::attributes`, `sentry.origin`) or by the SDK.
///
/// ```
/// use sentry_runtime_metrics::{LocalView, RuntimeMetricsConfig, RuntimeMetricsIntegration};
///
/// let metrics = RuntimeMetricsIntegration::new(RuntimeMetricsConfig::default())
///     .with_local_view(LocalView::stderr());
/// // No DSN needed: the rounds are printed to stderr.
/// let _sentry = sentry::init(sentry::ClientOptions::new().add_integration(metrics.clone()));
/// let _last_round = metrics.last_round_guard();
/// ```
///
/// A round looks like this (the first one is a table of every series):
///
/// ```text
/// runtime metrics, round 2 at 20 s: 18 metrics (not sent: no DSN), changed:
///   app.queue.processed      counter  +30
///   process.cpu.user_time    counter  +4.755 ms
///   runtime.memory.rss       gauge    8.832 MiB -> 9.012 MiB
///   (12 gauges unchanged)
/// ```
///
/// The view is a handle: keep a clone to ask [`is_closed`](Self::is_closed). Writing never
/// panics and never fails the round: a write error (stdout piped into `head`, which exits)
/// closes the view, and nothing more is written to it.
#[derive(Clone)]
pub struct LocalView {
    shared: Arc<Shared>,
}

/// Most metrics kept for rounds not printed yet (while another thread is writing a round, or
/// the reader is slow); more are counted and said, not kept.
const MAX_PENDING: usize = 20_000;

struct Shared {
    /// What the rounds hand over: taken briefly by every job, never while writing.
    pending: Mutex<Pending>,
    /// The writer and what it showed: held while a round is written, by one thread at a time;
    /// a round completed meanwhile is printed with the next one.
    printer: Mutex<Printer>,
    closed: AtomicBool,
}

struct Pending {
    /// The metrics handed over since the last round printed.
    metrics: Vec<RuntimeMetric>,
    /// Metrics over [`MAX_PENDING`], not kept.
    not_shown: u64,
    started: Instant,
    destination: Destination,
}

struct Printer {
    out: Box<dyn Write + Send>,
    board: Board,
}

impl LocalView {
    /// A view printing to stderr (which leaves stdout to the application).
    #[must_use]
    pub fn stderr() -> Self {
        Self::to_writer(io::stderr())
    }

    /// A view printing to stdout.
    #[must_use]
    pub fn stdout() -> Self {
        Self::to_writer(io::stdout())
    }

    /// A view writing to `out`: a file, a buffer of a test, a log. Each round is written with
    /// one `write_all` and flushed, on the thread that completed the round (a worker of the
    /// integration, or the caller of `collect_now`); a writer that blocks holds up that one
    /// thread, and the rounds completed meanwhile are printed together after it.
    #[must_use]
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        LocalView {
            shared: Arc::new(Shared {
                pending: Mutex::new(Pending {
                    metrics: Vec::new(),
                    not_shown: 0,
                    started: Instant::now(),
                    destination: Destination::Sdk,
                }),
                printer: Mutex::new(Printer {
                    out: Box::new(out),
                    board: Board::default(),
                }),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// Whether writing failed (the reader went away), after which nothing more is written.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// A client was set up: rounds from now on go to `destination`; the times shown count from
    /// here.
    pub(crate) fn start(&self, destination: Destination) {
        let mut pending = lock(&self.shared.pending);
        pending.destination = destination;
        pending.started = Instant::now();
        pending.metrics.clear();
    }

    /// Adds metrics handed over in the round under way.
    pub(crate) fn add(&self, metrics: &[RuntimeMetric]) {
        if metrics.is_empty() || self.is_closed() {
            return;
        }
        let mut pending = lock(&self.shared.pending);
        let room = MAX_PENDING.saturating_sub(pending.metrics.len());
        let kept = metrics.len().min(room);
        pending.metrics.extend_from_slice(&metrics[..kept]);
        pending.not_shown += (metrics.len() - kept) as u64;
    }

    /// Prints round `round`, made of what was added since the last round printed; if another
    /// thread is writing, leaves it to the next round.
    pub(crate) fn round_done(&self, round: u64) {
        if self.is_closed() {
            return;
        }
        let mut printer = match self.shared.printer.try_lock() {
            Ok(printer) => printer,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let (metrics, not_shown, at, destination) = {
            let mut pending = lock(&self.shared.pending);
            (
                std::mem::take(&mut pending.metrics),
                std::mem::take(&mut pending.not_shown),
                pending.started.elapsed(),
                pending.destination,
            )
        };
        let Printer { out, board } = &mut *printer;
        let Some(text) = board.render(round, at, &metrics, not_shown, destination) else {
            return;
        };
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            self.shared.closed.store(true, Ordering::Relaxed);
            lock(&self.shared.pending).metrics = Vec::new();
        }
    }
}

impl fmt::Debug for LocalView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalView")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
