//! The generated code must not depend on prelude names the user's module may shadow.
#![allow(dead_code, non_camel_case_types)]

mod shadowing {
    use sentry_runtime_metrics::MetricCollector;

    struct Option;
    struct Vec;
    struct Result;
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    struct Box;
    struct RunningTotals;
    struct Began;
    struct String;
    trait Default {}
    trait Clone {}
    trait Send {}
    mod core {}
    mod std {}
    mod sentry_core {}

    #[derive(::core::clone::Clone, MetricCollector)]
    #[collector(name = "hygiene")]
    pub struct Metrics {
        /// Depth.
        #[gauge(name = "app.depth", unit = "byte")]
        depth: u64,
        #[counter(name = "app.total", attribute = "worker")]
        totals: ::std::vec::Vec<u64>,
        #[distribution(name = "app.wait", unit = "ms")]
        waits: ::std::vec::Vec<::std::time::Duration>,
        #[gauge(name = "app.maybe")]
        maybe: ::core::option::Option<f64>,
        #[totals]
        last: ::sentry_runtime_metrics::RunningTotals,
    }

    impl Metrics {
        fn sample(&mut self) -> ::core::result::Result<(), &'static str> {
            ::core::result::Result::Ok(())
        }
    }

    pub fn make() -> Metrics {
        Metrics {
            depth: 1,
            totals: ::std::vec![1, 2],
            waits: ::std::vec::Vec::new(),
            maybe: ::core::option::Option::None,
            last: ::sentry_runtime_metrics::RunningTotals::new(),
        }
    }
}

fn main() {
    use sentry_runtime_metrics::MetricCollector;
    let metrics = shadowing::make().collect();
    assert_eq!(metrics.len(), 3);
}
