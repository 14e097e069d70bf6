//! Support for the code `#[derive(MetricCollector)]` generates. Not public API: names and
//! signatures here may change in any release.

mod batch;
mod collections;
mod names;
mod sample;
mod value;

pub use batch::{Batch, Descriptors};
pub use collections::{Samples, Series};
pub use names::{MetricNames, Names, assert_disjoint};
pub use sample::{HasSampleMethod, SampleOutcome, collect_on_clone, sample_outcome};
pub use value::{ScalarValue, TimeUnit, TimedValue};

pub use crate::collector::{CollectError, Collected, MetricCollector};
pub use crate::descriptor::{DescribeMetrics, MetricDescriptor};
pub use crate::metric::{MetricType, MetricValue, RuntimeMetric};
pub use crate::running_totals::{Began, RunningTotals};
pub use ::core::option::Option::{self, None, Some};
pub use ::core::result::Result::{self, Ok};
pub use ::std::vec::Vec;
