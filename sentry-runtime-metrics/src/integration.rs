//! [`RuntimeMetricsIntegration`]: the `sentry_core::Integration` users add to their client.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sentry_core::{Client, ClientOptions, Hub, Integration};

use crate::emit;
use crate::engine::{Engine, RuntimeMetricsStats};
use crate::sampler::Sampler;
use crate::sync::lock;
use crate::{MetricCollector, RuntimeMetricsConfig};

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
///
/// // ... the application runs; before a short-lived program exits:
/// integration.collect_now();
/// ```
///
/// Cloning is cheap: every clone is a handle to the same collection.
#[derive(Clone)]
pub struct RuntimeMetricsIntegration {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<Engine>,
    interval: Duration,
    /// Pick up the Tokio runtime `sentry::init` runs in (with the `tokio-runtime` feature).
    #[cfg_attr(not(feature = "tokio-runtime"), allow(dead_code))]
    collect_async_runtime: bool,
    sampler: Mutex<Option<Sampler>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(sampler) = self
            .sampler
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
        {
            sampler.stop();
        }
    }
}

impl RuntimeMetricsIntegration {
    /// An integration collecting what `config` enables.
    #[must_use]
    pub fn new(config: RuntimeMetricsConfig) -> Self {
        let RuntimeMetricsConfig {
            collection_interval,
            collect_memory,
            collect_process,
            collect_async_runtime,
            custom_collectors,
            attributes,
        } = config;
        let mut builtin: Vec<Box<dyn MetricCollector>> = Vec::new();
        #[cfg(feature = "memory")]
        if collect_memory {
            builtin.push(Box::new(crate::collectors::MemoryMetrics::new()));
            #[cfg(feature = "jemalloc")]
            builtin.push(Box::new(crate::collectors::JemallocMetrics::new()));
        }
        #[cfg(feature = "process")]
        if collect_process {
            builtin.push(Box::new(crate::collectors::ProcessMetrics::new()));
        }
        // Without the features the flags have nothing to switch.
        let _ = (collect_memory, collect_process);
        RuntimeMetricsIntegration {
            inner: Arc::new(Inner {
                engine: Arc::new(Engine::new(builtin, custom_collectors, attributes)),
                interval: collection_interval.max(MIN_COLLECTION_INTERVAL),
                collect_async_runtime,
                sampler: Mutex::new(None),
            }),
        }
    }

    /// Runs one collection round now, on the calling thread, and captures the metrics on the
    /// current hub. Call it before a short-lived program exits (before the guard is dropped),
    /// so its last state is not lost. Counters send the increase since the previous round.
    pub fn collect_now(&self) {
        let hub = Hub::current();
        self.inner.engine.round(&hub);
    }

    /// Adds a collector after init (sampled from the next round on; its counters send increases
    /// since this call).
    ///
    /// Like those in [`RuntimeMetricsConfig::custom_collectors`], it runs on a worker thread
    /// in background rounds: if it is slower than the collection interval, rounds skip it until
    /// it returns (counted in [`stats`](Self::stats)), and the other collectors are not delayed.
    /// Its first sample (the counter baseline) runs on a thread of its own; this call waits for
    /// it at most 100 ms, so it may block that long: from async code, call it where a short
    /// block is fine (e.g. at startup) or from `spawn_blocking`.
    pub fn add_collector(&self, collector: Box<dyn MetricCollector>) {
        self.inner.engine.add(&Hub::current(), collector, true);
    }

    /// Collects the metrics of the Tokio runtime of `handle`, labelled `runtime = name`.
    ///
    /// Sentry recommends calling `sentry::init` before starting the runtime; register it from
    /// inside then (e.g. first thing in `#[tokio::main]`, with `Handle::current()`). Several
    /// runtimes can be registered under different names; one that shuts down stops reporting.
    #[cfg(feature = "tokio-runtime")]
    pub fn register_tokio_runtime(
        &self,
        name: impl Into<std::borrow::Cow<'static, str>>,
        handle: tokio::runtime::Handle,
    ) {
        let collector = crate::collectors::TokioMetrics::new(handle).runtime_name(name);
        self.inner
            .engine
            .add(&Hub::current(), Box::new(collector), false);
    }

    /// Finds the integration of the current hub's client, for code that has no handle to it.
    pub fn of_current_client() -> Option<Self> {
        let client = Hub::current().client()?;
        Self::all_of(&client).next().cloned()
    }

    /// The runtime-metrics integrations a client was created with.
    pub(crate) fn all_of(client: &Client) -> impl Iterator<Item = &Self> {
        client
            .options()
            .integrations
            .iter()
            .filter_map(|integration| {
                let any: &dyn std::any::Any = integration.as_ref();
                any.downcast_ref::<Self>()
            })
    }

    /// What has been collected, sent and dropped so far.
    pub fn stats(&self) -> RuntimeMetricsStats {
        self.inner.engine.stats()
    }

    /// The interval in effect (the configured one, raised to [`MIN_COLLECTION_INTERVAL`]).
    pub fn collection_interval(&self) -> Duration {
        self.inner.interval
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }
}

impl Default for RuntimeMetricsIntegration {
    fn default() -> Self {
        Self::new(RuntimeMetricsConfig::default())
    }
}

impl Integration for RuntimeMetricsIntegration {
    fn name(&self) -> &'static str {
        "runtime-metrics"
    }

    fn setup(&self, options: &mut ClientOptions) {
        // `sentry::init` binds the client to the current hub of this thread right after setup.
        let hub = Hub::current();
        self.inner.engine.take_baseline(&hub);
        if options.dsn.is_none() {
            // A client without DSN sends nothing, so there is nothing to sample for.
            return;
        }
        let mut sampler = lock(&self.inner.sampler);
        if sampler.is_some() {
            emit::debug(
                &hub,
                format_args!("integration added to a second client; it keeps its first"),
            );
            return;
        }
        #[cfg(feature = "tokio-runtime")]
        if self.inner.collect_async_runtime
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let collector = crate::collectors::TokioMetrics::new(handle).runtime_name("main");
            self.inner.engine.add(&hub, Box::new(collector), false);
        }
        match Sampler::spawn(Arc::clone(&self.inner.engine), &hub, self.inner.interval) {
            Ok(started) => *sampler = Some(started),
            Err(err) => emit::debug(
                &hub,
                format_args!("could not start the sampler thread ({err}); use collect_now()"),
            ),
        }
    }
}
