//! What the integration does when a client is set up with it: bind to that client (or, without
//! a DSN, to the local view alone), say what it sees in the debug log, pick up the Tokio
//! runtime `sentry::init` runs in, and start the sampler.

use std::sync::Arc;

use sentry_core::{ClientOptions, Hub, Integration};

use super::RuntimeMetricsIntegration;
use crate::binding::ClientBinding;
use crate::local_view::Destination;
use crate::sampler;
use crate::sync::lock;

impl Integration for RuntimeMetricsIntegration {
    fn name(&self) -> &'static str {
        "runtime-metrics"
    }

    fn setup(&self, options: &mut ClientOptions) {
        let engine = &self.shared.engine;
        let has_dsn = options.dsn.is_some();
        let destination = if has_dsn {
            Destination::Sdk
        } else {
            Destination::NowhereNoDsn
        };
        engine.set_up(options.debug, self.shared.interval, destination);
        if !has_dsn && !engine.has_local_view() {
            // A client without DSN sends nothing, so there is nothing to collect for.
            engine.log().write(format_args!(
                "the client has no DSN, so it sends nothing and runtime metrics are not \
                 collected; set one (or SENTRY_DSN), or see the metrics locally with \
                 `RuntimeMetricsIntegration::with_local_view(LocalView::stderr())`"
            ));
            return;
        }
        let binding = if has_dsn {
            // `sentry::init` binds the client to this hub right after setup.
            ClientBinding::for_options(options, &Hub::current())
        } else {
            engine.log().write(format_args!(
                "the client has no DSN: runtime metrics are collected for the local view only, \
                 and nothing is sent"
            ));
            ClientBinding::local(options, &Hub::current())
        };
        if options.debug {
            // Once per client: what it sees, and what it will not send here and why.
            let report = self.environment_report();
            for line in report.to_string().lines() {
                engine.log().write(format_args!("{line}"));
            }
        }
        // The newest client gets the rounds; the previous one's sampler stops.
        if let Some(previous) = lock(&self.shared.session).replace(Arc::clone(&binding)) {
            previous.end();
        }
        #[cfg(feature = "tokio-runtime")]
        if self.shared.collect_async_runtime
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let main = crate::collectors::TokioMetrics::new(handle).runtime_name("main");
            // A runtime already registered (by name, before a re-init) keeps its registration.
            if !engine.is_registered(&main.runtime_key()) {
                let keys = main.registration_keys();
                engine.add(Box::new(main), crate::engine::Origin::BuiltIn, keys);
            }
        }
        if let Err(err) = sampler::spawn(Arc::clone(engine), binding, self.shared.interval) {
            engine.log().write(format_args!(
                "could not start the sampler thread ({err}); use collect_now()"
            ));
        }
    }
}
