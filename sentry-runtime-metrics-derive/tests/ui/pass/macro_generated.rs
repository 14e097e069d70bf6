//! A collector declared by a `macro_rules!` macro, with the field types passed as `$t:ty`: the
//! generated code must still resolve `self` and its own locals.

use sentry_runtime_metrics::MetricCollector;

macro_rules! collector {
    ($name:ident { $($field:ident: $t:ty => $metric:literal),* }) => {
        #[derive(Clone, Default, MetricCollector)]
        struct $name {
            $(#[gauge(name = $metric)] $field: $t,)*
        }

        impl $name {
            fn sample(&mut self) {}
        }
    };
}

collector!(Pool { size: u32 => "app.pool.size", idle: Option<u32> => "app.pool.idle" });

fn main() {
    let metrics = Pool { size: 3, idle: Some(1) }.collect();
    assert_eq!(metrics.len(), 2);
}
