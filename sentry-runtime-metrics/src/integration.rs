//! [`RuntimeMetricsIntegration`]: the `sentry_core::Integration` users add to their client.

use std::sync::{Arc, Mutex};

use crate::RuntimeMetricsConfig;

/// Collects runtime metrics in the background and sends them to Sentry.
#[derive(Clone)]
pub struct RuntimeMetricsIntegration {
    #[allow(dead_code)] // Read by the background sampler, which is the next piece of work.
    inner: Arc<Mutex<RuntimeMetricsConfig>>,
}

impl RuntimeMetricsIntegration {
    /// An integration collecting what `config` enables.
    pub fn new(config: RuntimeMetricsConfig) -> Self {
        RuntimeMetricsIntegration {
            inner: Arc::new(Mutex::new(config)),
        }
    }
}

impl Default for RuntimeMetricsIntegration {
    fn default() -> Self {
        Self::new(RuntimeMetricsConfig::default())
    }
}

impl sentry_core::Integration for RuntimeMetricsIntegration {
    fn name(&self) -> &'static str {
        "runtime-metrics"
    }
}
