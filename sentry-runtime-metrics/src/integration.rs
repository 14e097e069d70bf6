//! [`RuntimeMetricsIntegration`]: the `sentry_core::Integration` users add to their client, and
//! the handle they keep: what is collected lives in its engine, shared by every clone; which
//! client it is sent to is the session of the client set up last. [`LastRoundGuard`] ends that
//! session's collection with a last round, while the client is still open (sentry-core tells an
//! integration nothing of its client closing, and a metric captured after it closed is lost).

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry_core::Hub;

use crate::binding::ClientBinding;
use crate::collector::MetricCollector;
use crate::config::RuntimeMetricsConfig;
use crate::engine::{Engine, Origin};
use crate::environment_report::{EnvironmentReport, Switches};
use crate::local_view::LocalView;
use crate::losses::RuntimeMetricsStats;
use crate::sync::lock;

mod last_round;
mod setup;

pub use last_round::{LAST_ROUND_WAIT, LastRoundGuard};

/// The shortest collection interval; shorter ones (including zero) are raised to it so the
/// sampler can never spin. Intervals under a second are for tests and soak runs: in production
/// they multiply the metrics sent to Sentry for no better signal.
pub const MIN_COLLECTION_INTERVAL: Duration = Duration::from_millis(1);

/// Collects runtime metrics on a background thread and sends them to Sentry.
///
/// Add it to the client options; collection starts when the client is created (the first round
/// is one `collection_interval` later) and stops when the client is closed, i.e. when the guard
/// returned by `sentry::init` is dropped.
///
/// ```
/// use std::time::Duration;
/// use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
///
/// let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
///     collection_interval: Duration::from_secs(10),
///     ..Default::default()
/// });
/// let _guard = sentry::init(sentry::ClientOptions::new().add_integration(integration.clone()));
/// // Dropped first when the program ends: a last round, so its last interval is sent too.
/// let _last_round = integration.last_round_guard();
///
/// // ... the application runs.
/// ```
///
/// Cloning is cheap: every clone is a handle to the same collection (collectors, counter
/// totals, statistics). Each client created with a clone sends to itself; when several are,
/// the one created last gets the metrics: a new `sentry::init` with a clone of the same handle,
/// after the previous guard was dropped or while it still lives, moves collection to the new
/// client. Use one integration per process (and clones of it): a second one, made with `new`,
/// has collectors of its own, whose first round sends again every total counted since the
/// process started (CPU time, page faults, allocations).
#[derive(Clone)]
pub struct RuntimeMetricsIntegration {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Arc<Engine>,
    interval: Duration,
    /// Pick up the Tokio runtime `sentry::init` runs in (with the `tokio-runtime` feature).
    #[cfg_attr(not(feature = "tokio-runtime"), allow(dead_code))]
    collect_async_runtime: bool,
    /// The client set up last, which rounds send to.
    session: Mutex<Option<Arc<ClientBinding>>>,
    /// What the builder methods change in the built-in collectors.
    settings: crate::collectors::Settings,
    /// Which built-in collectors the configuration turned on (and their features allow).
    built_in: (bool, bool, bool),
}

impl RuntimeMetricsIntegration {
    /// An integration collecting what `config` enables.
    #[must_use]
    pub fn new(config: RuntimeMetricsConfig) -> Self {
        let RuntimeMetricsConfig {
            collection_interval,
            collect_memory,
            collect_process,
            collect_container,
            collect_async_runtime,
            custom_collectors,
            attributes,
        } = config;
        let settings = crate::collectors::Settings::default();
        let built_in = crate::collectors::built_in(
            collect_memory,
            collect_process,
            collect_container,
            &settings,
        );
        RuntimeMetricsIntegration {
            shared: Arc::new(Shared {
                engine: Arc::new(Engine::new(
                    built_in.into_iter().collect(),
                    custom_collectors,
                    attributes,
                )),
                interval: collection_interval.max(MIN_COLLECTION_INTERVAL),
                settings,
                built_in: (
                    collect_memory && cfg!(feature = "memory"),
                    collect_process && cfg!(feature = "process"),
                    collect_container && collect_process && cfg!(feature = "process"),
                ),
                collect_async_runtime,
                session: Mutex::new(None),
            }),
        }
    }

    /// Shows every round in `view`, readable, as well as sending it: the way to see what your
    /// application sends, and to see it without a DSN (a client without one sends nothing, and
    /// the integration then collects for the view alone). Call it before the integration is
    /// added to the client options. An integration has one view: the first given is kept (a
    /// clone of the handle shares it).
    ///
    /// ```
    /// use sentry_runtime_metrics::{LocalView, RuntimeMetricsIntegration};
    ///
    /// let metrics = RuntimeMetricsIntegration::default().with_local_view(LocalView::stderr());
    /// let _sentry = sentry::init(sentry::ClientOptions::new().add_integration(metrics.clone()));
    /// let _last_round = metrics.last_round_guard();
    /// ```
    #[must_use]
    pub fn with_local_view(self, view: LocalView) -> Self {
        self.shared.engine.set_local_view(view);
        self
    }

    /// Whether to send the whole system's pressure (`process.pressure.*` with
    /// `scope = "system"`), which the built-in container collector sends when the process's
    /// cgroup has no pressure of its own (cgroup v1, or no cgroup): on by default. Every
    /// process of a host sends the same values there, so a fleet of pods on shared nodes may
    /// turn it off. The pressure of the process's own v2 cgroup (`scope = "cgroup"`) is sent
    /// either way. Takes effect from the next round.
    ///
    /// ```
    /// use sentry_runtime_metrics::RuntimeMetricsIntegration;
    ///
    /// let metrics = RuntimeMetricsIntegration::default().host_pressure(false);
    /// ```
    #[must_use]
    pub fn host_pressure(self, send: bool) -> Self {
        self.shared
            .settings
            .host_pressure
            .store(send, Ordering::Relaxed);
        self
    }

    /// How many thread groups are sent by name: the busiest by CPU each round, the rest summed
    /// as `other` (default 16, [`DEFAULT_MAX_THREAD_GROUPS`](crate::collectors::DEFAULT_MAX_THREAD_GROUPS));
    /// 0 turns thread groups off (nothing is read for them). See
    /// [`ThreadGroupMetrics`](crate::collectors::ThreadGroupMetrics) (Linux, with
    /// `collect_process`). Takes effect from the next round.
    ///
    /// ```
    /// use sentry_runtime_metrics::RuntimeMetricsIntegration;
    ///
    /// let metrics = RuntimeMetricsIntegration::default().max_thread_groups(8);
    /// ```
    #[must_use]
    pub fn max_thread_groups(self, max: usize) -> Self {
        self.shared
            .settings
            .max_thread_groups
            .store(max, Ordering::Relaxed);
        self
    }

    /// Runs one collection round now, on the calling thread, and sends it to the integration's
    /// client (the one created last with this handle), whatever hub the calling thread is in:
    /// with a scope of the integration's own, so the metrics carry no request's user or span.
    /// The client is found wherever `sentry::init` bound it, from any thread and hub, at any
    /// moment after init. Counters send the increase since the previous round. (To send the
    /// last interval when the program ends, use [`last_round_guard`](Self::last_round_guard).)
    ///
    /// A collector still running elsewhere (a background round, another `collect_now`) is
    /// skipped rather than waited for. Without an open client, what the round
    /// collects is counted as dropped (reason `no_client`) in [`stats`](Self::stats); without
    /// a DSN but with a [local view](Self::with_local_view), the round is shown there and
    /// nothing counts as lost.
    pub fn collect_now(&self) {
        let session = self.found_session();
        self.shared.engine.collect_now(session.as_deref());
    }

    /// Adds a collector after init; it is sampled from the next round on. This never waits for
    /// the collector: nothing of it runs here.
    ///
    /// Like those in [`RuntimeMetricsConfig::custom_collectors`], it runs on a worker thread
    /// in background rounds: if it is slower than the collection interval, rounds skip it until
    /// it returns (counted in [`stats`](Self::stats)), and the other collectors are not delayed.
    pub fn add_collector(&self, collector: Box<dyn MetricCollector>) {
        self.shared
            .engine
            .add(collector, Origin::Application, Vec::new());
    }

    /// Collects the metrics of the Tokio runtime of `handle`, labelled `runtime = name`.
    ///
    /// Sentry recommends calling `sentry::init` before starting the runtime; register it from
    /// inside then (e.g. first thing in `#[tokio::main]`, with `Handle::current()`). Several
    /// runtimes can be registered under different names. Registering a name again, or the same
    /// runtime under another name (such as the one `sentry::init` picked up as `main`), replaces
    /// the earlier registration; a runtime that shuts down is removed.
    ///
    /// Its counters send the increases from this call on (the runtime's totals are read here,
    /// in microseconds, without blocking it); nothing else runs here.
    #[cfg(feature = "tokio-runtime")]
    pub fn register_tokio_runtime(
        &self,
        name: impl Into<std::borrow::Cow<'static, str>>,
        handle: tokio::runtime::Handle,
    ) {
        self.register_tokio(crate::collectors::TokioMetrics::new(handle).runtime_name(name));
    }

    /// Registers a configured Tokio collector (e.g. with per-worker series), replacing an
    /// earlier registration of its runtime or its name, like
    /// [`register_tokio_runtime`](Self::register_tokio_runtime).
    ///
    /// ```
    /// # use sentry_runtime_metrics::{RuntimeMetricsIntegration, collectors::TokioMetrics};
    /// # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # let integration = RuntimeMetricsIntegration::default();
    /// integration.register_tokio(
    ///     TokioMetrics::new(runtime.handle().clone())
    ///         .per_worker(true)
    ///         .runtime_name("app"),
    /// );
    /// ```
    #[cfg(feature = "tokio-runtime")]
    pub fn register_tokio(&self, collector: crate::collectors::TokioMetrics) {
        let keys = collector.registration_keys();
        self.shared
            .engine
            .add(Box::new(collector), Origin::BuiltIn, keys);
    }

    /// Finds the integration of the current hub's client, for code that has no handle to it.
    pub fn of_current_client() -> Option<Self> {
        Hub::current().with_integration(|integration: &Self| Some(integration.clone()))
    }

    /// What has been collected, sent and dropped so far.
    pub fn stats(&self) -> RuntimeMetricsStats {
        self.shared.engine.stats()
    }

    /// What the integration sees where it runs, and each built-in metric of its collectors it
    /// will not send here, with why (a limit not set, a file not there, a switch off): see
    /// [`EnvironmentReport`]. Read afresh at each call. The SDK's debug log shows it once per
    /// client.
    pub fn environment_report(&self) -> EnvironmentReport {
        let (memory, process, container) = self.shared.built_in;
        let settings = &self.shared.settings;
        EnvironmentReport::new(Switches {
            memory,
            process,
            container,
            max_thread_groups: settings.max_thread_groups.load(Ordering::Relaxed),
            host_pressure: settings.host_pressure.load(Ordering::Relaxed),
        })
    }

    /// The interval in effect (the configured one, raised to [`MIN_COLLECTION_INTERVAL`]).
    pub fn collection_interval(&self) -> Duration {
        self.shared.interval
    }

    fn session(&self) -> Option<Arc<ClientBinding>> {
        lock(&self.shared.session).clone()
    }

    /// The session, with its client looked for where `sentry::init` binds it and in the calling
    /// thread's hub, should it not be found yet (the sampler looks too, but perhaps not yet).
    fn found_session(&self) -> Option<Arc<ClientBinding>> {
        let session = self.session()?;
        if session.is_looking() && !session.adopt(&Hub::current()) {
            session.adopt_from_known_hubs();
        }
        Some(session)
    }
}

impl Default for RuntimeMetricsIntegration {
    fn default() -> Self {
        Self::new(RuntimeMetricsConfig::default())
    }
}

impl fmt::Debug for RuntimeMetricsIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = self
            .session()
            .is_some_and(|session| session.client().is_some());
        f.debug_struct("RuntimeMetricsIntegration")
            .field("collection_interval", &self.shared.interval)
            .field("collectors", &self.shared.engine.collector_names())
            .field("bound_to_a_client", &bound)
            .field("stats", &self.stats())
            .finish()
    }
}
