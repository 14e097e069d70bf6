//! One round of the built-in collectors against their peers, in the same run:
//! `cargo bench -p sentry-runtime-metrics --bench collectors`.
//!
//! - `ours/memory+process`: `MemoryMetrics` + `ProcessMetrics` `collect_mut()` (what the peers
//!   collect, and more: peak RSS, uptime, faults, context switches, storage IO, the cgroup
//!   limit and quota in effect).
//! - `ours/default`: the default set, with `ContainerMetrics` (throttling, OOM kills, pressure).
//! - `metrics-process/raw`: `metrics_process::collector::collect()`, the raw collection.
//! - `metrics-process/facade`: `metrics_process::Collector::collect()`, which also records
//!   through the `metrics` facade.
//! - `sysinfo/process+open_files`: a reused `System` refreshing this pid with memory, CPU and
//!   tasks, plus `open_files()`.
//! - `ours/process with N extra fds`: the process collector with 10 and 1000 open files.
#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use std::fs::File;

use criterion::{Criterion, criterion_group, criterion_main};
use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::{ContainerMetrics, MemoryMetrics, ProcessMetrics};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};

fn round(c: &mut Criterion) {
    let mut group = c.benchmark_group("round");
    let (mut memory, mut process) = (MemoryMetrics::new(), ProcessMetrics::new());
    group.bench_function("ours/memory+process", |b| {
        b.iter(|| (memory.collect_mut(), process.collect_mut()))
    });
    let mut container = ContainerMetrics::new();
    group.bench_function("ours/default", |b| {
        b.iter(|| {
            (
                memory.collect_mut(),
                process.collect_mut(),
                container.collect_mut(),
            )
        })
    });

    group.bench_function("metrics-process/raw", |b| {
        b.iter(metrics_process::collector::collect)
    });
    let peer = metrics_process::Collector::default();
    peer.describe();
    group.bench_function("metrics-process/facade", |b| b.iter(|| peer.collect()));

    let pid = sysinfo::get_current_pid().expect("current pid");
    let mut system = System::new().expect("sysinfo System");
    let kind = ProcessRefreshKind::nothing()
        .with_memory()
        .with_cpu()
        .with_tasks();
    group.bench_function("sysinfo/process+open_files", |b| {
        b.iter(|| {
            system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, kind);
            system.process(pid).and_then(|process| process.open_files())
        })
    });
    group.finish();
}

fn fd_scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("open_fds");
    for extra in [10usize, 1000] {
        let files: Vec<File> = (0..extra)
            .map(|_| File::open("/dev/null").expect("open /dev/null"))
            .collect();
        let mut process = ProcessMetrics::new();
        group.bench_function(format!("ours/process with {extra} extra fds"), |b| {
            b.iter(|| process.collect_mut())
        });
        drop(files);
    }
    group.finish();
}

criterion_group!(benches, round, fd_scaling);
criterion_main!(benches);
