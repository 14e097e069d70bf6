//! Long-run check: the integration with every collector at a short interval against a local
//! receiver, printing RSS, threads and fds at the start and the end. The `metrics` facade is
//! recorded into too, past its series limit (a label that never repeats), so the bridge's
//! bounds are soaked as well.
//!
//! ```sh
//! cargo run --release --example soak -- --rounds 100000 --interval-ms 1
//! cargo run --example soak -- --rounds 2000 --interval-ms 1 --check   # what CI runs
//! ```
//! With `--check` it exits with an error if the thread (not counting the receiver's) or fd count
//! grew, or a thread of the library is still running after shutdown (and, with
//! `--max-rss-growth-kib N` / `--max-heap-growth-kib N`, if RSS / the live heap grew more than
//! that). `--report-every N` prints RSS and heap every N rounds.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A report on the terminal.

use std::alloc::System;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::collectors::TokioMetrics;
use sentry_runtime_metrics::metrics_rs;
use sentry_runtime_metrics::{
    MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration, TrackingAllocator,
};
use sentry_runtime_metrics_examples::{HTTP_TIMEOUT, TimeoutTransport};
use sentry_runtime_metrics_tests::{loopback, probes};

/// Live heap bytes, beside RSS: heap that stays level while RSS grows is the allocator settling
/// (arenas, fragmentation), heap that grows is a leak.
#[global_allocator]
static ALLOCATOR: TrackingAllocator<System> = TrackingAllocator::new(System);

/// A custom collector next to the built-in ones.
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "soak")]
struct SoakMetrics {
    /// Work items processed: a running total, sent as what it grew by.
    #[counter(name = "soak.items")]
    items: u64,
    #[totals]
    totals: sentry_runtime_metrics::RunningTotals,
    /// Per-shard load.
    #[gauge(name = "soak.shard.load", attribute = "shard")]
    shards: Vec<f64>,
    source: Arc<AtomicU64>,
}

impl SoakMetrics {
    fn sample(&mut self) {
        self.items = self.source.load(Ordering::Relaxed);
        self.shards = vec![0.25, 0.5, 0.75];
    }
}

/// What an application instrumented with the `metrics` crate records per work item: a counter
/// per route, a latency histogram, a gauge, and a connection counter whose label never
/// repeats (past the series limit after 100 items: refused and counted, never kept).
fn record_through_the_facade(item: u64) {
    let route = ["/a", "/b", "/c"][(item % 3) as usize];
    metrics::counter!("soak.facade.requests", "route" => route).increment(1);
    metrics::histogram!("soak.facade.latency", "route" => route).record((item % 50) as f64);
    metrics::gauge!("soak.facade.items").set(item as f64);
    metrics::counter!("soak.facade.connections", "connection" => item.to_string()).increment(1);
}

struct Usage {
    rss_kib: u64,
    heap_kib: u64,
    /// Threads other than the integration's workers.
    threads: usize,
    /// The integration's worker threads: a pool that grows, within its bound (a thread per
    /// group of collectors, and one more), while a collector is held up.
    workers: usize,
    fds: usize,
    /// The names of the other threads, to tell which one grew.
    thread_names: Vec<String>,
}

/// The name of the integration's worker threads (`comm` shows its first 15 bytes).
const WORKER: &str = "sentry-rtm-collector";

fn usage() -> Usage {
    // Leaving out the loopback receiver's threads: it stands in for Sentry, so its connection
    // threads are not the application's.
    let (workers, thread_names): (Vec<String>, Vec<String>) = probes::thread_names()
        .into_iter()
        .filter(|name| !name.starts_with("loopback-"))
        .partition(|name| name.len() >= 15 && WORKER.starts_with(name.as_str()));
    Usage {
        rss_kib: probes::rss_kib().unwrap_or(0),
        heap_kib: TrackingAllocator::<System>::heap_allocated().unwrap_or(0) / 1024,
        threads: thread_names.len(),
        workers: workers.len(),
        thread_names,
        fds: probes::open_fds(),
    }
}

fn arg(name: &str) -> Option<u64> {
    sentry_runtime_metrics_tests::arg(name)?.parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = arg("--rounds").unwrap_or(2_000);
    let interval = Duration::from_millis(arg("--interval-ms").unwrap_or(1));
    let check = args.iter().any(|a| a == "--check");
    let max_rss_growth_kib = arg("--max-rss-growth-kib");
    let max_heap_growth_kib = arg("--max-heap-growth-kib");
    let report_every = arg("--report-every");

    let (dsn, received) = match loopback::start(false) {
        Ok(started) => started,
        Err(err) => {
            eprintln!("cannot start the loopback receiver: {err}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start a Tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let items = Arc::new(AtomicU64::new(0));
    let recorded = match metrics_rs::Builder::new().max_series(100).install() {
        Ok(recorded) => recorded,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: interval,
        custom_collectors: vec![
            Box::new(SoakMetrics {
                source: items.clone(),
                ..Default::default()
            }),
            Box::new(recorded),
        ],
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = dsn.parse().ok();
    options.transport = Some(Arc::new(TimeoutTransport(HTTP_TIMEOUT)));
    let guard = sentry::init(options);
    integration.add_collector(Box::new(
        TokioMetrics::new(runtime.handle().clone())
            .per_worker(true)
            .runtime_name("soak"),
    ));

    // Warm up (connections, buffers, the SDK's queues) before taking the baseline.
    let wait_rounds = |target: u64| {
        while integration.stats().rounds < target {
            let item = items.fetch_add(1, Ordering::Relaxed);
            record_through_the_facade(item);
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_rounds(200);
    // The start is the quietest of a few samples, so a short-lived thread caught in it cannot
    // hide one that stays later.
    let mut start = usage();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(10));
        let next = usage();
        if next.threads < start.threads {
            start.threads = next.threads;
            start.thread_names = next.thread_names;
        }
        start.fds = start.fds.min(next.fds);
    }
    let started = Instant::now();
    let first = integration.stats().rounds;
    match report_every {
        // The RSS along the way tells growth that levels off from growth that goes on.
        Some(step) if step > 0 => {
            let mut done = 0;
            while done < rounds {
                done = (done + step).min(rounds);
                wait_rounds(first + done);
                let now = usage();
                println!(
                    "after {done:>8} rounds: rss {} KiB ({:+} KiB), heap {} KiB ({:+} KiB), \
                     {} metrics dropped",
                    now.rss_kib,
                    now.rss_kib as i64 - start.rss_kib as i64,
                    now.heap_kib,
                    now.heap_kib as i64 - start.heap_kib as i64,
                    integration.stats().metrics_dropped
                );
            }
        }
        _ => wait_rounds(first + rounds),
    }
    let elapsed = started.elapsed();
    let mut end = usage();
    let stats = integration.stats();
    // Growth means a thread or fd that stays. One that only comes and goes (a short-lived
    // thread of the SDK or its HTTP client caught mid-life) is reported, then looked at again
    // for up to a second while collection goes on.
    let settling = Instant::now();
    while (end.threads > start.threads || end.fds > start.fds)
        && settling.elapsed() < Duration::from_secs(1)
    {
        eprintln!(
            "not settled: threads {:?}, fds {}",
            end.thread_names, end.fds
        );
        std::thread::sleep(Duration::from_millis(50));
        end = Usage {
            rss_kib: end.rss_kib,
            heap_kib: end.heap_kib,
            ..usage()
        };
    }

    println!("soak: {rounds} rounds at {interval:?} in {elapsed:.1?}");
    println!("             start        end     growth");
    println!(
        "rss KiB  {:>9} {:>10} {:>+10}",
        start.rss_kib,
        end.rss_kib,
        end.rss_kib as i64 - start.rss_kib as i64
    );
    println!(
        "heap KiB {:>9} {:>10} {:>+10}",
        start.heap_kib,
        end.heap_kib,
        end.heap_kib as i64 - start.heap_kib as i64
    );
    println!(
        "threads  {:>9} {:>10} {:>+10}",
        start.threads,
        end.threads,
        end.threads as i64 - start.threads as i64
    );
    println!(
        "workers  {:>9} {:>10} {:>+10}   (at most {} collectors + 1)",
        start.workers,
        end.workers,
        end.workers as i64 - start.workers as i64,
        stats.collectors
    );
    println!(
        "fds      {:>9} {:>10} {:>+10}",
        start.fds,
        end.fds,
        end.fds as i64 - start.fds as i64
    );
    println!(
        "sent {} metrics, dropped {} ({} collector runs skipped: still running from the \
         previous round), {} envelopes ({} KiB) received",
        stats.metrics_handed_to_sdk,
        stats.metrics_dropped,
        stats.collector_skips,
        received.envelopes.load(Ordering::Relaxed),
        received.bytes.load(Ordering::Relaxed) / 1024
    );
    drop(guard);
    drop(runtime);
    // After shutdown none of the library's threads may remain (they exit within a few 50 ms
    // liveness ticks; 5 s is generous).
    let stopping = Instant::now();
    while probes::library_threads() > 0 && stopping.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let left = probes::library_threads();
    println!(
        "library threads after shutdown: {left} ({:.1?} after the guard drop)",
        stopping.elapsed()
    );

    if check {
        let mut failed = false;
        if left > 0 {
            eprintln!("FAIL: {left} library threads still running after shutdown");
            failed = true;
        }
        if end.threads > start.threads {
            eprintln!(
                "FAIL: threads grew by {}: {:?} -> {:?}",
                end.threads - start.threads,
                start.thread_names,
                end.thread_names
            );
            failed = true;
        }
        if end.fds > start.fds {
            eprintln!("FAIL: fds grew by {}", end.fds - start.fds);
            failed = true;
        }
        // The pool's bound: a thread per group and one more, at most 8 (`MAX_THREADS`).
        let worker_bound = (usize::try_from(stats.collectors).unwrap_or(usize::MAX) + 1).min(8);
        if end.workers > worker_bound {
            eprintln!(
                "FAIL: {} worker threads, over the bound of {worker_bound} (a thread per \
                 group of collectors, and one more)",
                end.workers
            );
            failed = true;
        }
        if let Some(limit) = max_rss_growth_kib
            && end.rss_kib > start.rss_kib + limit
        {
            eprintln!(
                "FAIL: RSS grew by {} KiB (limit {limit})",
                end.rss_kib - start.rss_kib
            );
            failed = true;
        }
        if let Some(limit) = max_heap_growth_kib
            && end.heap_kib > start.heap_kib + limit
        {
            eprintln!(
                "FAIL: the live heap grew by {} KiB (limit {limit})",
                end.heap_kib - start.heap_kib
            );
            failed = true;
        }
        if failed {
            return ExitCode::FAILURE;
        }
        println!("soak check: 1 passed; 0 failed");
    }
    ExitCode::SUCCESS
}
