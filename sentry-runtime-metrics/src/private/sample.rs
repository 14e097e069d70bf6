//! Calling the user's sample method and handling what it returns.

use std::fmt::Display;

use crate::collector::{CollectError, MetricCollector};
use crate::metric::RuntimeMetric;

/// What the sample method of the struct `S` may return: `()` or `Result<(), E>` with
/// `E: Display`. The derive calls it as `<_ as SampleOutcome<Self>>::into_result(..)`, so a
/// wrong type is reported with the struct's name and at its name.
#[diagnostic::on_unimplemented(
    message = "the sample method of `{S}` returns `{Self}`; it must return `()` or `Result<(), E>` where `E: Display`",
    label = "derive(MetricCollector) calls this struct's sample method before every collection",
    note = "an `Err` skips the round for this collector and is reported in the SDK's debug log"
)]
pub trait SampleOutcome<S: ?Sized> {
    /// `Err` carries the displayed error.
    fn into_result(self) -> Result<(), String>;
}

#[diagnostic::do_not_recommend]
impl<S: ?Sized> SampleOutcome<S> for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl<S: ?Sized, E: Display> SampleOutcome<S> for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|err| err.to_string())
    }
}

/// Implemented by no type: the bound of the derive's fallback sample method, which method
/// resolution picks only when the struct has no sample method of its own, so that the error
/// names the struct and says what to write.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no sample method",
    label = "derive(MetricCollector) calls the sample method of `{Self}` before every collection",
    note = "add `impl {Self} {{ fn sample(&mut self) {{ .. }} }}` that fills the fields (or the method named by #[collector(sample = \"..\")]), returning `()` or `Result<(), E>` where `E: Display`",
    note = "if the method has another name, name it with #[collector(sample = \"method_name\")]"
)]
pub trait HasSampleMethod {}

/// Turns the sample method's result into the collector's error.
pub fn sample_outcome(
    collector: &'static str,
    outcome: Result<(), String>,
) -> Result<(), CollectError> {
    outcome.map_err(|message| CollectError::new(collector, message))
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
