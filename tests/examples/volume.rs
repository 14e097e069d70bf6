//! Counts what the default round sends, to size the volume before turning the integration on:
//! every value sent is an item Sentry stores and bills.
//!
//! ```sh
//! cargo run --release -p sentry-runtime-metrics-tests --example volume -- --load idle
//! cargo run --release -p sentry-runtime-metrics-tests --example volume -- --load busy
//! ```
//!
//! It runs the default integration (memory, process, container) with a client whose transport
//! discards, calls `collect_now()` every `--gap-ms` (default 10 000, the default interval) for
//! `--rounds` rounds (default 12: two minutes), and counts the metrics each round hands to the
//! SDK (`before_send_metric`).
//! `--load busy` keeps a thread burning CPU, allocating, touching new pages, writing to disk
//! and sleeping in short steps between rounds, so every counter moves.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A report on the terminal.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sentry::{ClientOptions, Transport};
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, _envelope: sentry::Envelope) {}
}

fn main() -> ExitCode {
    let value = sentry_runtime_metrics_tests::arg;
    let rounds: usize = value("--rounds").and_then(|r| r.parse().ok()).unwrap_or(12);
    let gap = Duration::from_millis(
        value("--gap-ms")
            .and_then(|g| g.parse().ok())
            .unwrap_or(10_000),
    );
    let busy = match value("--load").as_deref() {
        Some("busy") => true,
        Some("idle") | None => false,
        Some(other) => {
            eprintln!("--load idle|busy, not {other}");
            return ExitCode::FAILURE;
        }
    };

    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        // No background round: only the rounds below send.
        collection_interval: Duration::from_secs(3600),
        ..Default::default()
    });
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let mut options = ClientOptions::new()
        .add_integration(integration.clone())
        .before_send_metric(move |metric| {
            if let Ok(mut seen) = record.lock() {
                seen.push(metric.name.to_string());
            }
            None
        });
    options.dsn = "https://public@sentry.invalid/1".parse().ok();
    options.transport = Some(Arc::new(|_: &ClientOptions| {
        Arc::new(Discard) as Arc<dyn Transport>
    }));
    let _sentry = sentry::init(options);

    let running = Arc::new(AtomicBool::new(busy));
    let load = busy.then(|| {
        let running = running.clone();
        std::thread::spawn(move || work(&running))
    });
    let mut per_round = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..rounds {
        std::thread::sleep(gap);
        integration.collect_now();
        let names = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
        per_round.push(names.len());
        for name in names {
            *by_name.entry(name).or_default() += 1;
        }
    }
    running.store(false, Ordering::Relaxed);
    if let Some(load) = load {
        let _ = load.join();
    }
    // The first round sends every total counted since the process started; the steady state is
    // what follows.
    let steady = &mut per_round[1..];
    steady.sort_unstable();
    let (min, max) = (steady[0], steady[steady.len() - 1]);
    let median = steady[steady.len() / 2];
    println!(
        "{} load, {rounds} rounds {gap:?} apart: first round {}, then per round min {min}, \
         median {median}, max {max}; {:.0} a minute (median)",
        if busy { "busy" } else { "idle" },
        per_round[0],
        median as f64 * 60.0 / gap.as_secs_f64()
    );
    println!("rounds that sent each metric (of {rounds}):");
    for (name, count) in by_name {
        println!("  {name}: {count}");
    }
    ExitCode::SUCCESS
}

/// Burns CPU, allocates, touches new pages, writes and syncs a file, and sleeps in short steps,
/// until told to stop: every counter of the default round moves.
fn work(running: &AtomicBool) {
    let path = std::env::temp_dir().join(format!("srm-volume-{}", std::process::id()));
    let mut step = 0u64;
    while running.load(Ordering::Relaxed) {
        step += 1;
        let until = Instant::now() + Duration::from_millis(20);
        let mut x = 0u64;
        while Instant::now() < until {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        // Past glibc's largest mmap threshold (32 MiB): fresh pages, page faults, every time.
        if step.is_multiple_of(8) {
            drop(std::hint::black_box(vec![1u8; 40 << 20]));
        }
        if let Ok(mut file) = std::fs::File::create(&path) {
            let _ = file.write_all(&[7u8; 64 << 10]);
            let _ = file.sync_all();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = std::fs::remove_file(&path);
}
