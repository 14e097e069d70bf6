//! Calling the user's sample method and handling what it returns.

use std::fmt::Display;

use crate::collector::{CollectError, MetricCollector};
use crate::metric::RuntimeMetric;

/// What a sample method may return: `()` or `Result<(), E>` with `E: Display`.
#[diagnostic::on_unimplemented(
    message = "expected a sample method returning `()` or `Result<(), E: Display>`, found `{Self}`",
    label = "derive(MetricCollector) calls `self.sample()` here before every collection",
    note = "add `impl YourStruct {{ fn sample(&mut self) {{ .. }} }}`, returning `()` or \
            `Result<(), E>` where `E: Display`",
    note = "or name another method with #[collector(sample = \"method_name\")]"
)]
pub trait SampleOutcome {
    /// `Err` carries the displayed error.
    fn into_result(self) -> Result<(), String>;
}

impl SampleOutcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> SampleOutcome for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|err| err.to_string())
    }
}

/// What method resolution finds when the struct has no sample method of its own. It is not a
/// [`SampleOutcome`], so the compiler reports "expected a sample method .., found
/// `no_sample_method_found`"; the lowercase name is there to be read in that message.
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct no_sample_method_found;

/// Turns the sample method's result into the collector's error.
pub fn sample_outcome<O: SampleOutcome>(
    collector: &'static str,
    outcome: O,
) -> Result<(), CollectError> {
    outcome
        .into_result()
        .map_err(|message| CollectError::new(collector, message))
}

/// `MetricCollector::collect(&self)` of derived collectors: samples a clone, so `&self` stays
/// untouched; an error is logged through the SDK's debug log and yields no metrics.
pub fn collect_on_clone<C: MetricCollector + Clone>(collector: &C) -> Vec<RuntimeMetric> {
    match collector.clone().collect_mut() {
        Ok(collected) => collected.metrics,
        Err(err) => {
            crate::debug_log::write_from_collector(format_args!("{err}"));
            Vec::new()
        }
    }
}
