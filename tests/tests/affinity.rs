//! `process.cpu.available` is the process's CPU affinity (its main thread's mask), not that of
//! the thread that happens to collect: a `collect_now()` from a thread pinned to one CPU (as
//! thread-per-core runtimes pin theirs) reports the CPUs the process may use (Linux).
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use common::with_captured_envelopes_options;
use sentry::ClientOptions;
use sentry_runtime_metrics::collectors::ProcessMetrics;
use sentry_runtime_metrics::{MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration};

/// Pins the calling thread to CPU 0.
fn pin_to_first_cpu() {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; CPU_SET writes a bit inside it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU 0 is inside the set's bounds.
    unsafe { libc::CPU_SET(0, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed, for the whole call.
    let result =
        unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    assert_eq!(result, 0, "sched_setaffinity");
}

/// CPUs in a list such as `0-3,8` (the format of `Cpus_allowed_list`).
fn count_cpus(list: &str) -> f64 {
    list.trim()
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.parse::<f64>().unwrap() - a.parse::<f64>().unwrap() + 1.0,
            None => 1.0,
        })
        .sum()
}

/// CPUs the process may use, read by the test itself: `/proc/self/status` is the main
/// thread's (`self` is the thread group), lowered to a cgroup v2 `cpu.max` or v1 CFS quota of
/// the process's cgroup when one is set.
fn process_cpus() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let allowed = count_cpus(
        status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap(),
    );
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut quota: Option<f64> = None;
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        let read = |file: String| std::fs::read_to_string(file).ok();
        let found = if controllers.is_empty() {
            read(format!("/sys/fs/cgroup/unified{path}/cpu.max"))
                .or_else(|| read(format!("/sys/fs/cgroup{path}/cpu.max")))
                .and_then(|max| {
                    let (q, p) = max.trim().split_once(' ')?;
                    Some(q.parse::<f64>().ok()? / p.parse::<f64>().ok()?)
                })
        } else if controllers.split(',').any(|c| c == "cpu") {
            let dir = format!("/sys/fs/cgroup/{controllers}{path}");
            read(format!("{dir}/cpu.cfs_quota_us"))
                .zip(read(format!("{dir}/cpu.cfs_period_us")))
                .and_then(|(q, p)| {
                    let (q, p): (f64, f64) = (q.trim().parse().ok()?, p.trim().parse().ok()?);
                    (q > 0.0).then(|| q / p)
                })
        } else {
            None
        };
        if let Some(found) = found {
            quota = Some(quota.map_or(found, |q: f64| q.min(found)));
        }
    }
    quota.map_or(allowed, |quota| allowed.min(quota))
}

fn available(metrics: &[sentry_runtime_metrics::RuntimeMetric]) -> f64 {
    metrics
        .iter()
        .find(|m| m.name == "process.cpu.available")
        .expect("sent on Linux")
        .value
        .as_f64()
}

#[test]
fn a_pinned_thread_reports_the_cpus_of_the_process() {
    let expected = process_cpus();
    if expected < 2.0 {
        println!("this machine lets the process use {expected} CPUs: pinning changes nothing");
    }
    let (direct, through_the_integration) = std::thread::spawn(move || {
        pin_to_first_cpu();
        let direct = available(&ProcessMetrics::new().collect_mut().unwrap().metrics);
        let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
            collect_memory: false,
            collect_async_runtime: false,
            ..Default::default()
        });
        let options = ClientOptions::new().add_integration(integration.clone());
        let envelopes = with_captured_envelopes_options(|| integration.collect_now(), options);
        let sent = common::metrics_in(&envelopes);
        let gauge = sent
            .iter()
            .find(|m| m.name == "process.cpu.available")
            .expect("sent")
            .value;
        (direct, gauge)
    })
    .join()
    .unwrap();
    assert_eq!(direct, expected, "collected on a thread pinned to CPU 0");
    assert_eq!(
        through_the_integration, expected,
        "collect_now on that thread"
    );
}
