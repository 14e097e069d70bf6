//! A thread-group round with 10, 100 and 1 000 threads in the process, against what per-thread
//! collectors do today, in the same run: `cargo bench -p sentry-runtime-metrics --bench threads`.
//!
//! - `ours/N`: `ThreadGroupMetrics::collect_mut()` once the threads are known (settled): one
//!   `pread` of each thread's `schedstat` (kept open for the first 128), a directory listing,
//!   and `getrusage` for the threads that exited.
//! - `std-fs-stat/N`: the peer: `std::fs::read_dir("/proc/self/task")`, then for each thread
//!   `std::fs::read_to_string(<task>/stat)` and its CPU time parsed (how per-thread collectors,
//!   procfs-based ones included, read threads).
//!
//! The extra threads wait on a channel with 64 KiB stacks; the bench's own threads are in the
//! count too (a few).
#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use std::sync::mpsc;
use std::thread::JoinHandle;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::ThreadGroupMetrics;

/// `n` threads named `bench-idle-<i>`, waiting until the returned sender is dropped.
fn idle_threads(n: usize) -> (mpsc::Sender<()>, Vec<JoinHandle<()>>) {
    let (stop, wait) = mpsc::channel::<()>();
    let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
    let threads = (0..n)
        .map(|i| {
            let wait = wait.clone();
            std::thread::Builder::new()
                .name(format!("bench-idle-{i}"))
                .stack_size(64 << 10)
                .spawn(move || {
                    let _ = wait.lock().map(|wait| wait.recv());
                })
                .unwrap()
        })
        .collect();
    (stop, threads)
}

/// The peer: every thread's `stat` read with `std::fs`, its user and system ticks parsed.
fn std_fs_stat() -> u64 {
    let mut ticks = 0;
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(after_name) = stat.rfind(')').map(|end| &stat[end + 1..]) else {
            continue;
        };
        let mut fields = after_name.split_ascii_whitespace().skip(11);
        let utime: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        ticks += utime + stime;
    }
    ticks
}

fn thread_groups(c: &mut Criterion) {
    let mut group = c.benchmark_group("thread_groups");
    for n in [10, 100, 1000] {
        let (stop, threads) = idle_threads(n);
        let mut ours = ThreadGroupMetrics::new();
        // Settled: every thread known, its file open (within the bound).
        for _ in 0..3 {
            ours.collect_mut().unwrap();
        }
        group.bench_with_input(BenchmarkId::new("ours", n), &n, |b, _| {
            b.iter(|| ours.collect_mut().unwrap())
        });
        group.bench_with_input(BenchmarkId::new("std-fs-stat", n), &n, |b, _| {
            b.iter(std_fs_stat)
        });
        drop(stop);
        threads.into_iter().for_each(|t| t.join().unwrap());
    }
    group.finish();
}

criterion_group!(benches, thread_groups);
criterion_main!(benches);
