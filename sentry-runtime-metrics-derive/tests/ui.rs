//! Compile-time checks of `#[derive(MetricCollector)]`: each file under `tests/ui/fail/` must fail
//! with exactly the `.stderr` beside it; `tests/ui/pass/` must compile and run.
//!
//! After an intended change to a message, regenerate with
//! `TRYBUILD=overwrite cargo test -p sentry-runtime-metrics-derive --test ui`
//! and review the diff of the `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
