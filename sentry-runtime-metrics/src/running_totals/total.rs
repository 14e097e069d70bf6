//! [`Total`]: what a running total can be, and how much it grew.

use std::time::Duration;

use crate::metric::MetricValue;

/// A running total: a number that only grows until it is reset.
pub trait Total: Copy {
    /// What it grew by since `earlier`, or `None` if it went down (it was reset).
    fn increase_since(self, earlier: Self) -> Option<Self>;

    /// Whether it can be sent: Sentry drops NaN and infinite values.
    fn is_finite(self) -> bool {
        true
    }
}

macro_rules! unsigned_totals {
    ($($ty:ty),*) => {$(
        impl Total for $ty {
            fn increase_since(self, earlier: Self) -> Option<Self> {
                self.checked_sub(earlier)
            }
        }
    )*};
}
unsigned_totals!(u8, u16, u32, u64, u128, usize, Duration);

macro_rules! signed_totals {
    ($($ty:ty),*) => {$(
        impl Total for $ty {
            fn increase_since(self, earlier: Self) -> Option<Self> {
                if self >= earlier { self.checked_sub(earlier) } else { None }
            }
        }
    )*};
}
signed_totals!(i8, i16, i32, i64, i128, isize);

macro_rules! float_totals {
    ($($ty:ty),*) => {$(
        impl Total for $ty {
            fn increase_since(self, earlier: Self) -> Option<Self> {
                (self >= earlier).then(|| self - earlier)
            }

            fn is_finite(self) -> bool {
                <$ty>::is_finite(self)
            }
        }
    )*};
}
float_totals!(f32, f64);

impl Total for MetricValue {
    /// Integers stay exact; a float on either side makes a float.
    fn increase_since(self, earlier: Self) -> Option<Self> {
        match (self, earlier) {
            (MetricValue::Int(now), MetricValue::Int(then)) => {
                now.increase_since(then).map(MetricValue::Int)
            }
            (now, then) => now
                .as_f64()
                .increase_since(then.as_f64())
                .map(MetricValue::Float),
        }
    }

    fn is_finite(self) -> bool {
        MetricValue::is_finite(self)
    }
}
