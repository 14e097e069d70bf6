//! Conversion of field values to [`MetricValue`].

use std::sync::Arc;
use std::sync::atomic::{
    AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicU8, AtomicU16,
    AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use std::time::Duration;

use crate::metric::MetricValue;

/// A field value that is sent as a number as it is.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported metric value",
    label = "not a number Sentry can store",
    note = "supported: every integer type, f32, f64, bool (0/1), std::time::Duration (with a \
            time unit such as `unit = \"millisecond\"`), the atomic integers and AtomicBool \
            (read with a relaxed load), and Option or Arc of these",
    note = "for one series per entry, use a Vec, array or map of these with `attribute = \"..\"`"
)]
pub trait ScalarValue {
    /// The value, or `None` when there is nothing to send this round.
    fn scalar_value(&self) -> Option<MetricValue>;
}

/// A field value sent in a time unit: a `Duration` is converted, numbers are taken to be in that
/// unit already.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported value for a metric with a time unit",
    label = "not a Duration or a number",
    note = "supported: std::time::Duration, every integer type, f32, f64, the atomic integers, \
            and Option or Arc of these"
)]
pub trait TimedValue {
    /// The value in `unit`, or `None` when there is nothing to send this round.
    fn timed_value(&self, unit: TimeUnit) -> Option<MetricValue>;
}

/// The time units a `Duration` can be sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// 10^-9 s.
    Nanosecond,
    /// 10^-6 s.
    Microsecond,
    /// 10^-3 s.
    Millisecond,
    /// 1 s.
    Second,
    /// 60 s.
    Minute,
    /// 3600 s.
    Hour,
    /// 86400 s.
    Day,
    /// 604800 s.
    Week,
}

impl TimeUnit {
    fn nanos(self) -> f64 {
        match self {
            TimeUnit::Nanosecond => 1.0,
            TimeUnit::Microsecond => 1e3,
            TimeUnit::Millisecond => 1e6,
            TimeUnit::Second => 1e9,
            TimeUnit::Minute => 60e9,
            TimeUnit::Hour => 3_600e9,
            TimeUnit::Day => 86_400e9,
            TimeUnit::Week => 604_800e9,
        }
    }

    /// `duration` in this unit, keeping fractions (1.5 ms stays 1.5, never 1).
    pub fn convert(self, duration: Duration) -> MetricValue {
        let nanos = duration.as_nanos();
        if self == TimeUnit::Nanosecond
            && let Ok(nanos) = i64::try_from(nanos)
        {
            return MetricValue::Int(nanos);
        }
        #[allow(clippy::cast_precision_loss)] // f64 is what Sentry stores.
        MetricValue::Float(nanos as f64 / self.nanos())
    }
}

macro_rules! exact_ints {
    ($($ty:ty),*) => {$(
        impl ScalarValue for $ty {
            fn scalar_value(&self) -> Option<MetricValue> {
                Some(MetricValue::Int(i64::from(*self)))
            }
        }
    )*};
}
exact_ints!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_ints {
    ($($ty:ty),*) => {$(
        impl ScalarValue for $ty {
            fn scalar_value(&self) -> Option<MetricValue> {
                Some(match i64::try_from(*self) {
                    Ok(value) => MetricValue::Int(value),
                    #[allow(clippy::cast_precision_loss)] // Beyond i64, f64 is what Sentry stores.
                    Err(_) => MetricValue::Float(*self as f64),
                })
            }
        }
    )*};
}
wide_ints!(u64, usize, isize, i128, u128);

impl ScalarValue for f64 {
    fn scalar_value(&self) -> Option<MetricValue> {
        Some(MetricValue::Float(*self))
    }
}

impl ScalarValue for f32 {
    fn scalar_value(&self) -> Option<MetricValue> {
        Some(MetricValue::Float(f64::from(*self)))
    }
}

impl ScalarValue for bool {
    fn scalar_value(&self) -> Option<MetricValue> {
        Some(MetricValue::Int(i64::from(*self)))
    }
}

impl<T: ScalarValue> ScalarValue for Option<T> {
    fn scalar_value(&self) -> Option<MetricValue> {
        self.as_ref()?.scalar_value()
    }
}

impl TimedValue for Duration {
    fn timed_value(&self, unit: TimeUnit) -> Option<MetricValue> {
        Some(unit.convert(*self))
    }
}

impl<T: TimedValue> TimedValue for Option<T> {
    fn timed_value(&self, unit: TimeUnit) -> Option<MetricValue> {
        self.as_ref()?.timed_value(unit)
    }
}

macro_rules! timed_numbers {
    ($($ty:ty),*) => {$(
        impl TimedValue for $ty {
            fn timed_value(&self, _unit: TimeUnit) -> Option<MetricValue> {
                self.scalar_value()
            }
        }
    )*};
}
timed_numbers!(
    i8, i16, i32, i64, u8, u16, u32, u64, usize, isize, i128, u128, f32, f64
);

// Atomics, the way services keep their counts and levels: read with a relaxed load (a metric
// needs no ordering with other memory), sent like the number they hold.
macro_rules! atomics {
    ($($atomic:ty => $ty:ty),*) => {$(
        impl ScalarValue for $atomic {
            fn scalar_value(&self) -> Option<MetricValue> {
                self.load(Ordering::Relaxed).scalar_value()
            }
        }

        impl TimedValue for $atomic {
            fn timed_value(&self, unit: TimeUnit) -> Option<MetricValue> {
                self.load(Ordering::Relaxed).timed_value(unit)
            }
        }
    )*};
}
atomics!(
    AtomicU8 => u8, AtomicU16 => u16, AtomicU32 => u32, AtomicU64 => u64, AtomicUsize => usize,
    AtomicI8 => i8, AtomicI16 => i16, AtomicI32 => i32, AtomicI64 => i64, AtomicIsize => isize
);

impl ScalarValue for AtomicBool {
    fn scalar_value(&self) -> Option<MetricValue> {
        self.load(Ordering::Relaxed).scalar_value()
    }
}

// Shared values (`Arc<AtomicU64>` most of all), sent as what they hold.
impl<T: ScalarValue + ?Sized> ScalarValue for Arc<T> {
    fn scalar_value(&self) -> Option<MetricValue> {
        (**self).scalar_value()
    }
}

impl<T: TimedValue + ?Sized> TimedValue for Arc<T> {
    fn timed_value(&self, unit: TimeUnit) -> Option<MetricValue> {
        (**self).timed_value(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_exact_until_they_do_not_fit() {
        assert_eq!(
            u64::MAX.scalar_value(),
            Some(MetricValue::Float(u64::MAX as f64))
        );
        assert_eq!(42u64.scalar_value(), Some(MetricValue::Int(42)));
        assert_eq!((-3i8).scalar_value(), Some(MetricValue::Int(-3)));
        assert_eq!(true.scalar_value(), Some(MetricValue::Int(1)));
        assert_eq!(None::<u8>.scalar_value(), None);
    }

    #[test]
    fn durations_keep_fractions() {
        let d = Duration::from_micros(1_500);
        assert_eq!(TimeUnit::Millisecond.convert(d), MetricValue::Float(1.5));
        assert_eq!(TimeUnit::Nanosecond.convert(d), MetricValue::Int(1_500_000));
        assert_eq!(
            TimeUnit::Second.convert(Duration::from_secs(90)),
            MetricValue::Float(90.0)
        );
        assert_eq!(
            TimeUnit::Minute.convert(Duration::from_secs(90)),
            MetricValue::Float(1.5)
        );
    }
}
