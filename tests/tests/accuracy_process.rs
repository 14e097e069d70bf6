//! `process.threads.count`, `process.open_fds` and CPU time against known changes and
//! `getrusage` (Linux). One test, so nothing else in this binary changes the counts meanwhile.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::ProcessMetrics;

fn value(collector: &mut ProcessMetrics, name: &str) -> f64 {
    let metrics = collector.collect_mut().unwrap().metrics;
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is sent on Linux"))
        .value
        .as_f64()
}

/// User CPU time of this process in milliseconds, from `getrusage`.
fn rusage_user_ms() -> f64 {
    // SAFETY: zeroed rusage is a valid out-parameter; getrusage writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid for writes for the whole call.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    usage.ru_utime.tv_sec as f64 * 1000.0 + usage.ru_utime.tv_usec as f64 / 1000.0
}

#[test]
fn threads_fds_and_cpu_time_follow_reality() {
    let mut collector = ProcessMetrics::new();

    // 8 parked threads: exactly 8 more.
    let before = value(&mut collector, "process.threads.count");
    let barrier = Arc::new(Barrier::new(9));
    let release = Arc::new(Barrier::new(9));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (barrier, release) = (barrier.clone(), release.clone());
            std::thread::spawn(move || {
                barrier.wait();
                release.wait();
            })
        })
        .collect();
    barrier.wait();
    assert_eq!(value(&mut collector, "process.threads.count") - before, 8.0);
    release.wait();
    handles.into_iter().for_each(|h| h.join().unwrap());

    // 200 open files: exactly 200 more.
    let before = value(&mut collector, "process.open_fds");
    let files: Vec<_> = (0..200)
        .map(|_| std::fs::File::open("/proc/self/stat").unwrap())
        .collect();
    assert_eq!(value(&mut collector, "process.open_fds") - before, 200.0);
    drop(files);
    assert_eq!(value(&mut collector, "process.open_fds"), before);

    // ~300 ms of CPU: the user-time counter (the increase since the previous collection) is
    // what getrusage says (within 20%).
    collector.collect_mut().unwrap();
    let theirs_before = rusage_user_ms();
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_millis(300) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    let after = collector.collect_mut().unwrap().metrics;
    let get = |name: &str| {
        after
            .iter()
            .find(|m| m.name == name)
            .unwrap()
            .value
            .as_f64()
    };
    let (ours, theirs) = (
        get("process.cpu.user_time"),
        rusage_user_ms() - theirs_before,
    );
    assert!(
        theirs > 100.0,
        "the busy loop burned {theirs} ms of user CPU"
    );
    assert!(
        (ours - theirs).abs() <= theirs * 0.2,
        "user time +{ours} ms vs getrusage +{theirs} ms"
    );

    // Utilization over the busy window: a ratio of the CPU available (one of them was busy).
    let utilization = get("process.cpu.utilization");
    assert!(
        (0.0..=1.0 + 1e-9).contains(&utilization),
        "utilization {utilization}"
    );
    let cpus = value(&mut collector, "process.cpu.available");
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let allowed: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.parse::<f64>().unwrap() - a.parse::<f64>().unwrap() + 1.0,
            None => 1.0,
        })
        .sum();
    assert!(
        cpus > 0.0 && cpus <= allowed,
        "{cpus} CPUs available, {allowed} in the affinity list"
    );
    let limit = value(&mut collector, "process.open_fds.limit");
    assert!(limit >= 200.0);
}
