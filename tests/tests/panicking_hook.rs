//! A `before_send_metric` hook that panics (the application's code, called by the SDK while the
//! integration captures) neither ends collection nor makes it panic for every metric of every
//! round: sending stops for the round and pauses 1, 2, 4 .. rounds, then resumes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // Tests fail loudly and report.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use common::{QueueMetrics, wait_for};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

const HOOK_BUG: &str = "hook bug";

/// Keeps the hook's expected panics out of the output; any other panic (a failing assertion)
/// is reported as usual.
fn silence_hook_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if message != Some(HOOK_BUG) {
                default(info);
            }
        }));
    });
}

/// What the hook saw.
#[derive(Default)]
struct Calls {
    count: AtomicU64,
    /// The integration's completed rounds at each call.
    rounds: Mutex<Vec<u64>>,
}

/// An integration with process metrics (captured on the sampler thread) and `custom` custom
/// collectors (captured on workers), sending through a hook that panics on its first `panics`
/// calls.
fn start(
    panics: u64,
    custom: usize,
) -> (
    sentry::ClientInitGuard,
    RuntimeMetricsIntegration,
    Arc<TestTransport>,
    Arc<Calls>,
) {
    silence_hook_panics();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(10),
        collect_memory: false,
        collect_process: true,
        custom_collectors: (0..custom)
            .map(|_| Box::new(QueueMetrics::default()) as _)
            .collect(),
        ..Default::default()
    });
    let calls = Arc::new(Calls::default());
    let (hook_calls, hook_integration) = (calls.clone(), integration.clone());
    let transport = TestTransport::new();
    let mut options =
        common::options_with(&integration, &transport).before_send_metric(move |metric| {
            let round = hook_integration.stats().rounds;
            hook_calls.rounds.lock().unwrap().push(round);
            if hook_calls.count.fetch_add(1, Ordering::SeqCst) < panics {
                panic!("{}", HOOK_BUG);
            }
            Some(metric)
        });
    // Without sentry-panic (enabled in this test build), which would report each panic.
    options.default_integrations = false;
    let guard = sentry::init(options);
    (guard, integration, transport, calls)
}

#[test]
fn collection_goes_on_after_the_hook_panicked() {
    let (guard, integration, transport, calls) = start(3, 1);
    wait_for(Duration::from_secs(30), "metrics after the panics", || {
        calls.count.load(Ordering::SeqCst) >= 40
    });
    let rounds = integration.stats().rounds;
    wait_for(Duration::from_secs(30), "more rounds", || {
        integration.stats().rounds >= rounds + 3
    });
    drop(guard);
    let names: Vec<String> = common::metrics_in(&transport.fetch_and_clear_envelopes())
        .into_iter()
        .map(|m| m.name.to_string())
        .collect();
    // From the sampler thread and from a worker; the lost ones are counted.
    assert!(
        names.iter().any(|n| n == "process.threads.count"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "app.queue.depth"), "{names:?}");
    assert!(integration.stats().metrics_dropped >= 3);
}

/// Groups the rounds of the hook's calls into the windows in which sending was tried (calls of
/// one window are at most a round apart: the sampler and the workers of one round).
fn windows(rounds: &[u64]) -> usize {
    let mut rounds = rounds.to_vec();
    rounds.sort_unstable();
    rounds.dedup();
    1 + rounds
        .windows(2)
        .filter(|pair| pair[1] > pair[0] + 1)
        .count()
}

/// Runs 40 rounds with a hook that always panics and `custom` custom collectors; returns how
/// often the hook was called and in how many windows.
fn always_panicking(custom: usize) -> (u64, usize) {
    let (guard, integration, _transport, calls) = start(u64::MAX, custom);
    wait_for(Duration::from_secs(30), "40 rounds", || {
        integration.stats().rounds >= 40
    });
    drop(guard);
    let count = calls.count.load(Ordering::SeqCst);
    let tried = windows(&calls.rounds.lock().unwrap());
    println!("{custom} custom collectors: hook called {count} times in {tried} windows");
    (count, tried)
}

#[test]
fn a_hook_that_always_panics_is_called_a_few_times_not_every_metric_of_every_round() {
    // 40 rounds of ~10 metrics each. After the k-th panic sending pauses 2^(k-1) rounds, so it
    // is tried in 6 of the 40 rounds, by at most the sampler and one worker at once.
    let (count, tried) = always_panicking(1);
    assert!(count <= 12, "the hook was called {count} times");
    // Tried in rounds 0, 2, 5, 10, 19 and 36: counted in rounds, not time, so exact.
    assert_eq!(tried, 6, "sending was tried in {tried} windows");
}

#[test]
fn threads_that_panic_at_once_count_as_one_panic() {
    // Three workers and the sampler may all send, and panic, in the same round: the pause
    // still doubles once per window, not once per thread.
    let (count, tried) = always_panicking(3);
    assert_eq!(tried, 6, "sending was tried in {tried} windows");
    assert!(count <= 4 * 6, "the hook was called {count} times");
}
