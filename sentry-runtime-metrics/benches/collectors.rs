//! One round of memory + process collection against the peers, in the same run:
//! `cargo bench -p sentry-runtime-metrics --bench collectors`.
//!
//! - `ours/memory+process`: `MemoryMetrics` + `ProcessMetrics` `collect_mut()`.
//! - `sysinfo/process+open_files`: a reused `System` refreshing this pid with memory, CPU and
//!   tasks, plus `open_files()`.
//! - `metrics-process/collect`: `metrics_process::Collector::collect()`.
//! - `ours/process with N extra fds`: the process collector with 10 and 1000 open files.
#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use std::fs::File;

use criterion::{Criterion, criterion_group, criterion_main};
use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::{MemoryMetrics, ProcessMetrics};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};

fn round(c: &mut Criterion) {
    let mut group = c.benchmark_group("round");
    let (mut memory, mut process) = (MemoryMetrics::new(), ProcessMetrics::new());
    group.bench_function("ours/memory+process", |b| {
        b.iter(|| (memory.collect_mut(), process.collect_mut()))
    });

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

    let peer = metrics_process::Collector::default();
    peer.describe();
    group.bench_function("metrics-process/collect", |b| b.iter(|| peer.collect()));
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
