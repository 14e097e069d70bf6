//! [`EnvironmentReport`]: what the integration sees where it runs, and each built-in metric it
//! will not send there, with why.

use std::fmt;

/// What the integration sees where it runs: how it reads the process, the cgroups it follows
/// and their version, the limits in effect and where each is set (or that none is), whose
/// pressure it reads, whether threads have `schedstat`, and each built-in metric it will not
/// send here and why. Without it, a missing `runtime.memory.limit` could mean "no limit set"
/// or "could not read it"; this says which.
///
/// The SDK's debug log (`debug(true)`) shows it once per client; as a value it is
/// [`RuntimeMetricsIntegration::environment_report`](crate::RuntimeMetricsIntegration::environment_report),
/// to print (the quickstart does) or to paste into a support ticket:
///
/// ```
/// use sentry_runtime_metrics::RuntimeMetricsIntegration;
///
/// let report = RuntimeMetricsIntegration::default().environment_report();
/// println!("{report}");
/// for skipped in report.not_sent() {
///     println!("not sent: {} ({})", skipped.metric, skipped.why);
/// }
/// ```
///
/// It is read afresh each time it is asked for (a few dozen small files on Linux), not each
/// round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentReport {
    seen: Vec<String>,
    not_sent: Vec<NotSent>,
}

/// A built-in metric (or a family: `process.pressure.*`) not sent where the integration runs,
/// and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotSent {
    /// The metric's name, or a family's with `*`.
    pub metric: &'static str,
    /// Why, in a sentence (what is not set, not there, or turned off).
    pub why: String,
}

impl EnvironmentReport {
    /// What it sees, one finding a line (the cgroups, each limit, pressure, `schedstat`).
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The built-in metrics of the collectors that are on which it will not send here, with
    /// why (a collector turned off is one entry).
    pub fn not_sent(&self) -> &[NotSent] {
        &self.not_sent
    }

    /// Whether `metric` is among those [not sent](Self::not_sent) (by name, or in a family).
    pub fn is_not_sent(&self, metric: &str) -> bool {
        self.not_sent
            .iter()
            .any(|skipped| match skipped.metric.strip_suffix('*') {
                Some(family) => metric.starts_with(family),
                None => skipped.metric == metric,
            })
    }
}

impl fmt::Display for EnvironmentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "runtime metrics: what this process shows")?;
        for line in &self.seen {
            writeln!(f, "  {line}")?;
        }
        if self.not_sent.is_empty() {
            writeln!(f, "  every built-in metric of the collectors on is sent")?;
        } else {
            writeln!(f, "  not sent here:")?;
            for skipped in &self.not_sent {
                writeln!(f, "    {}: {}", skipped.metric, skipped.why)?;
            }
        }
        Ok(())
    }
}

/// Which built-in collectors are on, and their settings.
#[derive(Clone, Copy, Debug)]
// Read only where a built-in collector is compiled in.
#[cfg_attr(not(any(feature = "memory", feature = "process")), allow(dead_code))]
pub(crate) struct Switches {
    pub(crate) memory: bool,
    pub(crate) process: bool,
    pub(crate) container: bool,
    pub(crate) max_thread_groups: usize,
    pub(crate) host_pressure: bool,
}

impl EnvironmentReport {
    /// The report for the collectors `switches` turns on, from what the platform finds now.
    pub(crate) fn new(switches: Switches) -> Self {
        #[cfg(any(feature = "memory", feature = "process"))]
        {
            use crate::sys::{Platform, Sources};
            explain::report(&Sources::open().findings(), switches)
        }
        #[cfg(not(any(feature = "memory", feature = "process")))]
        {
            let _ = switches;
            EnvironmentReport {
                seen: vec![
                    "no built-in collector is compiled in (features `memory`, `process`)"
                        .to_owned(),
                ],
                not_sent: Vec::new(),
            }
        }
    }
}

#[cfg(any(feature = "memory", feature = "process"))]
mod explain;
#[cfg(any(feature = "memory", feature = "process"))]
mod seen;
