//! The local view: what each round sends, printed through a writer: without a DSN (the rounds
//! run for the view alone, and nothing counts as lost), with one (it shows exactly what the
//! endpoint receives), and to a reader that went away (no panic, collection goes on). Without a
//! DSN or a view, the debug log says why nothing is collected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{library_threads, wait_for};
use sentry::ClientOptions;
use sentry_runtime_metrics::{
    LocalView, MetricCollector, RunningTotals, RuntimeMetricsConfig, RuntimeMetricsIntegration,
};
use sentry_runtime_metrics_examples::TimeoutTransport;
use sentry_runtime_metrics_tests::{child, loopback};

/// Each test binds its own client to the main hub: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A writer into memory the test reads.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A reader that went away: every write fails, as stdout piped into `head` after it exits.
struct Gone(Arc<AtomicU64>);

impl Write for Gone {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }

    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
}

#[derive(Clone, Default, MetricCollector)]
#[collector(name = "queue")]
struct Queue {
    #[gauge(name = "app.queue.depth")]
    depth: Arc<AtomicU64>,
    #[gauge(name = "app.queue.bytes", unit = "byte")]
    bytes: Arc<AtomicU64>,
    #[counter(name = "app.jobs")]
    jobs: Arc<AtomicU64>,
    #[totals]
    totals: RunningTotals,
}

impl Queue {
    fn sample(&mut self) {}
}

fn integration(queue: &Queue, interval: Duration) -> RuntimeMetricsIntegration {
    RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: interval,
        collect_memory: false,
        collect_process: false,
        collect_container: false,
        custom_collectors: vec![Box::new(queue.clone())],
        ..Default::default()
    })
}

fn no_dsn_in_the_environment() {
    assert!(
        std::env::var_os("SENTRY_DSN").is_none(),
        "these tests need SENTRY_DSN unset (sentry::init would use it)"
    );
}

/// The lines of `text` that start with `prefix` after the indent, spaces collapsed, and the
/// time of a round (`at 0.1 s`, which depends on the machine's load) as `at _ s`.
fn rows(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            for at in 0..words.len().saturating_sub(2) {
                if words[at] == "at" && words[at + 2].starts_with('s') {
                    words[at + 1] = "_".to_owned();
                }
            }
            words.join(" ")
        })
        .filter(|line| line.starts_with(prefix))
        .collect()
}

#[test]
fn without_a_dsn_each_round_is_shown_and_nothing_is_lost() {
    let _serial = serial();
    no_dsn_in_the_environment();
    let queue = Queue::default();
    queue.depth.store(42, Ordering::Relaxed);
    queue.bytes.store(3 * 1024 * 1024, Ordering::Relaxed);
    queue.jobs.store(7, Ordering::Relaxed);
    let out = Shared::default();
    let metrics = integration(&queue, Duration::from_secs(3600))
        .with_local_view(LocalView::to_writer(out.clone()));
    let guard = sentry::init(ClientOptions::new().add_integration(metrics.clone()));
    assert!(!guard.is_enabled(), "a client without DSN");
    let last_round = metrics.last_round_guard();

    metrics.collect_now();
    queue.depth.store(45, Ordering::Relaxed);
    queue.jobs.fetch_add(3, Ordering::Relaxed);
    metrics.collect_now();
    metrics.collect_now(); // Nothing moved.
    queue.jobs.fetch_add(1, Ordering::Relaxed);
    drop(last_round);

    let text = out.text();
    println!("{text}");
    // Round 1: a table of every series, read and as sent.
    let expected = [
        "runtime metrics, round 1 at _ s: 3 metrics (not sent: no DSN)",
        "name type value sent as",
        "app.jobs counter 7 7",
        "app.queue.bytes gauge 3 MiB 3145728 byte",
        "app.queue.depth gauge 42 42",
        // Round 2: only what changed.
        "runtime metrics, round 2 at _ s: 3 metrics (not sent: no DSN), changed:",
        "app.jobs counter +3",
        "app.queue.depth gauge 42 -> 45",
        "(1 gauge unchanged)",
        // Round 3: nothing moved (the counter is not sent).
        "runtime metrics, round 3 at _ s: 2 metrics (not sent: no DSN), nothing changed",
        "(2 gauges unchanged)",
        // Round 4, the last round of the guard: the last job.
        "runtime metrics, round 4 at _ s: 3 metrics (not sent: no DSN), changed:",
        "app.jobs counter +1",
        "(2 gauges unchanged)",
    ];
    assert_eq!(rows(&text, ""), expected, "{text}");

    let stats = metrics.stats();
    assert_eq!(stats.rounds, 4);
    assert_eq!(
        stats.metrics_handed_to_sdk, 0,
        "nothing is sent without a DSN"
    );
    assert_eq!(
        stats.metrics_dropped, 0,
        "nothing is lost either: {stats:?}"
    );
    // The local session ended with the last-round guard: no thread of ours is left.
    wait_for(
        Duration::from_secs(5),
        "the sampler and workers to exit",
        || library_threads() == 0,
    );
    drop(guard);
}

#[test]
fn without_a_dsn_background_rounds_run_for_the_view() {
    let _serial = serial();
    no_dsn_in_the_environment();
    let queue = Queue::default();
    queue.jobs.store(1, Ordering::Relaxed);
    let out = Shared::default();
    let metrics = integration(&queue, Duration::from_millis(20))
        .with_local_view(LocalView::to_writer(out.clone()));
    let _guard = sentry::init(ClientOptions::new().add_integration(metrics.clone()));
    let _last_round = metrics.last_round_guard();
    wait_for(Duration::from_secs(10), "two background rounds", || {
        metrics.stats().rounds >= 2
    });
    let text = out.text();
    assert_eq!(rows(&text, "runtime metrics, round 1").len(), 1, "{text}");
    assert_eq!(rows(&text, "runtime metrics, round 2").len(), 1, "{text}");
}

#[test]
fn with_a_dsn_it_shows_what_the_endpoint_receives() {
    let _serial = serial();
    let (dsn, received) = loopback::start(true).unwrap();
    let queue = Queue::default();
    queue.depth.store(5, Ordering::Relaxed);
    queue.jobs.store(11, Ordering::Relaxed);
    let out = Shared::default();
    let metrics = integration(&queue, Duration::from_secs(3600))
        .with_local_view(LocalView::to_writer(out.clone()));
    let mut options = ClientOptions::new().add_integration(metrics.clone());
    options.dsn = Some(dsn.parse().unwrap());
    options.transport = Some(Arc::new(TimeoutTransport(Duration::from_secs(5))));
    let guard = sentry::init(options);
    let last_round = metrics.last_round_guard();
    metrics.collect_now();
    drop(last_round);
    drop(guard);

    let text = out.text();
    assert_eq!(
        rows(&text, "runtime metrics, round 1"),
        ["runtime metrics, round 1 at _ s: 3 metrics (handed to the SDK)"],
        "{text}"
    );
    wait_for(
        Duration::from_secs(10),
        "the metrics at the endpoint",
        || common::received_metrics(&received).len() >= 3,
    );
    let sent = common::received_metrics(&received);
    // The rounds shown add up to what the endpoint received: the round of `collect_now` (3)
    // and the last round (2 gauges: the counter did not move).
    let shown: usize = rows(&text, "runtime metrics, round")
        .iter()
        .map(|header| {
            let (_, count) = header.split_once(": ").unwrap();
            count.split(' ').next().unwrap().parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!((shown, sent.len()), (5, 5), "{text}");
    // Every metric the endpoint received is a row of the first round's table, with the value
    // it received (the bytes gauge, 0, is there too).
    for metric in &sent {
        let row = format!("{} ", metric.name);
        let shown = rows(&text, &row);
        assert!(
            shown
                .iter()
                .any(|row| row.ends_with(&format!(" {}", metric.value))
                    || row.contains(&format!(" {} ", metric.value))),
            "{} = {} not shown in\n{text}",
            metric.name,
            metric.value
        );
    }
    assert_eq!(metrics.stats().metrics_handed_to_sdk, 5);
}

#[test]
fn a_reader_that_went_away_closes_the_view_and_collection_goes_on() {
    let _serial = serial();
    no_dsn_in_the_environment();
    let writes = Arc::new(AtomicU64::new(0));
    let view = LocalView::to_writer(Gone(writes.clone()));
    let queue = Queue::default();
    let metrics = integration(&queue, Duration::from_secs(3600)).with_local_view(view.clone());
    let _guard = sentry::init(ClientOptions::new().add_integration(metrics.clone()));
    let _last_round = metrics.last_round_guard();
    assert!(!view.is_closed());
    metrics.collect_now();
    assert!(view.is_closed());
    metrics.collect_now();
    metrics.collect_now();
    assert_eq!(metrics.stats().rounds, 3);
    assert_eq!(
        writes.load(Ordering::Relaxed),
        1,
        "not written to after it failed"
    );
}

/// Child: a client without DSN and without a view, with the debug log on.
#[test]
fn without_a_dsn_or_a_view_the_debug_log_says_why_nothing_is_collected() {
    if child::is_child() {
        let metrics = RuntimeMetricsIntegration::default();
        let mut options = ClientOptions::new().add_integration(metrics.clone());
        options.debug = true;
        let _guard = sentry::init(options);
        metrics.collect_now();
        assert_eq!(metrics.stats().rounds, 1);
        return;
    }
    no_dsn_in_the_environment();
    let output =
        child::rerun("without_a_dsn_or_a_view_the_debug_log_says_why_nothing_is_collected")
            .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let said: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("[runtime-metrics] the client has no DSN"))
        .collect();
    assert_eq!(said.len(), 1, "said once:\n{stderr}");
    assert!(
        said[0].contains("with_local_view(LocalView::stderr())"),
        "{stderr}"
    );
}

/// A writer that blocks in its first write until told to go on.
struct Stalled {
    entered: std::sync::mpsc::Sender<()>,
    go_on: Arc<(Mutex<bool>, std::sync::Condvar)>,
    out: Shared,
}

impl Write for Stalled {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let _ = self.entered.send(());
        let (lock, changed) = &*self.go_on;
        let mut go = lock.lock().unwrap();
        while !*go {
            go = changed.wait(go).unwrap();
        }
        self.out.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// While one thread is stuck writing a round, another's round does not wait for it: it is
/// printed with the next round, its counters summed.
#[test]
fn a_stalled_writer_holds_up_only_the_thread_writing() {
    let _serial = serial();
    no_dsn_in_the_environment();
    let (entered, writing) = std::sync::mpsc::channel();
    let go_on = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let out = Shared::default();
    let view = LocalView::to_writer(Stalled {
        entered,
        go_on: go_on.clone(),
        out: out.clone(),
    });
    let queue = Queue::default();
    let metrics = integration(&queue, Duration::from_secs(3600)).with_local_view(view);
    let _guard = sentry::init(ClientOptions::new().add_integration(metrics.clone()));
    let last_round = metrics.last_round_guard();

    queue.jobs.store(1, Ordering::Relaxed);
    let stuck = {
        let metrics = metrics.clone();
        std::thread::spawn(move || metrics.collect_now())
    };
    writing.recv().unwrap(); // Round 1 is being written, and the writer is stuck.
    queue.jobs.fetch_add(2, Ordering::Relaxed);
    metrics.collect_now(); // Round 2: returns without writing.
    queue.jobs.fetch_add(4, Ordering::Relaxed);
    metrics.collect_now(); // Round 3: the same.
    assert_eq!(metrics.stats().rounds, 3);
    assert!(!stuck.is_finished(), "round 1 is still being written");

    *go_on.0.lock().unwrap() = true;
    go_on.1.notify_all();
    stuck.join().unwrap();
    drop(last_round); // Round 4: prints rounds 2 to 4 together.
    let text = out.text();
    assert_eq!(
        rows(&text, "app.jobs counter"),
        ["app.jobs counter 1 1", "app.jobs counter +6"],
        "{text}"
    );
    assert_eq!(rows(&text, "runtime metrics, round 2").len(), 0, "{text}");
    assert_eq!(
        rows(&text, "runtime metrics, round 4"),
        ["runtime metrics, round 4 at _ s: 8 metrics (not sent: no DSN), changed:"],
        "{text}"
    );
}
