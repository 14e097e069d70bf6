//! In real cgroups, made here (this needs root and a writable v1 hierarchy, as CI has): a child
//! process in a CPU cgroup with a 0.2-CPU quota (on its own cgroup, or on the parent) spinning
//! two threads reports 0.2 CPUs available, throttling, and a utilization near 1; one in a memory
//! cgroup whose parent has a 1 GiB limit reports that limit. Where cgroups cannot be made, the
//! tests say so and the fixture tests of `src/sys/linux/cgroup` are what checks the reading.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::collectors::{ContainerMetrics, MemoryMetrics, ProcessMetrics};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetric};
use sentry_runtime_metrics_tests::cgroup::TestCgroup;
use sentry_runtime_metrics_tests::child;

/// Values reported by a child, by name.
type Report = BTreeMap<String, f64>;

fn value(metrics: &[RuntimeMetric], name: &str) -> Option<f64> {
    metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.value.as_f64())
}

/// In the child: waits until the parent has moved it into its cgroup.
fn wait_for_the_go() {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
}

/// In the child: reports `name = value` to the parent.
fn report(name: &str, value: Option<f64>) {
    if let Some(value) = value {
        println!("RESULT {name} {value}");
    }
}

/// Runs test `test` in a child process moved into the leaf of `cgroup`; returns its report.
fn run_child_in(cgroup: &TestCgroup, test: &str) -> Report {
    let mut process = child::spawn(test).unwrap();
    cgroup.add(process.id()).unwrap();
    process.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let output = process.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{stdout}");
    stdout
        .lines()
        // (The first may follow libtest's `test .. ...` on its line.)
        .filter_map(|line| line.split_once("RESULT ").map(|(_, result)| result))
        .map(|line| {
            let (name, value) = line.split_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

/// `cgroup`, or why the test cannot run here.
fn cgroup(controller: &str, name: &str) -> Option<TestCgroup> {
    match TestCgroup::v1(controller, name) {
        Ok(cgroup) => Some(cgroup),
        Err(why) => {
            println!(
                "the cgroup tree is not writable here ({why}): only the fixture tests check this"
            );
            None
        }
    }
}

/// The child of the CPU tests: two spinning threads, 1.5 s between two samples.
fn spin_and_report() {
    wait_for_the_go();
    let running = Arc::new(AtomicBool::new(true));
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let running = running.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while running.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    let (mut process, mut container) = (ProcessMetrics::new(), ContainerMetrics::new());
    let (p0, c0) = (
        process.collect_mut().unwrap(),
        container.collect_mut().unwrap(),
    );
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let (p1, c1) = (
        process.collect_mut().unwrap(),
        container.collect_mut().unwrap(),
    );
    let wall = started.elapsed().as_secs_f64();
    running.store(false, Ordering::Relaxed);
    spinners.into_iter().for_each(|s| s.join().unwrap());
    let delta = |a: &[RuntimeMetric], b: &[RuntimeMetric], name: &str| {
        Some(value(b, name)? - value(a, name)?)
    };
    report("available", value(&p1, "process.cpu.available"));
    report("utilization", value(&p1, "process.cpu.utilization"));
    report(
        "throttled_periods",
        delta(&c0, &c1, "process.cpu.throttled_periods"),
    );
    report(
        "throttled_ms",
        delta(&c0, &c1, "process.cpu.throttled_time"),
    );
    report("throttled_ratio", value(&c1, "process.cpu.throttled_ratio"));
    let cpu_ms = delta(&p0, &p1, "process.cpu.user_time").unwrap()
        + delta(&p0, &p1, "process.cpu.system_time").unwrap();
    report("cpu_share", Some(cpu_ms / 1000.0 / wall));
}

/// What the CPU tests expect of a child held to 0.2 CPUs.
fn assert_held_to_a_fifth_of_a_cpu(report: &Report) {
    println!("{report:?}");
    assert_eq!(report.get("available"), Some(&0.2), "{report:?}");
    assert!(report["throttled_periods"] > 0.0, "{report:?}");
    assert!(report["throttled_ms"] > 0.0, "{report:?}");
    assert!(report["throttled_ratio"] > 0.5, "{report:?}");
    // Independent of the collector's ratio: CPU time over wall time, about 0.2.
    assert!((0.1..=0.3).contains(&report["cpu_share"]), "{report:?}");
    assert!((0.8..=1.0).contains(&report["utilization"]), "{report:?}");
}

#[test]
fn a_cpu_quota_on_its_cgroup_bounds_and_throttles_the_process() {
    const TEST: &str = "a_cpu_quota_on_its_cgroup_bounds_and_throttles_the_process";
    if child::is_child() {
        return spin_and_report();
    }
    let Some(cgroup) = cgroup("cpu", "srm-quota") else {
        return;
    };
    cgroup
        .set(cgroup.leaf(), "cpu.cfs_period_us", "100000")
        .unwrap();
    cgroup
        .set(cgroup.leaf(), "cpu.cfs_quota_us", "20000")
        .unwrap();
    assert_held_to_a_fifth_of_a_cpu(&run_child_in(&cgroup, TEST));
}

#[test]
fn a_cpu_quota_on_the_parent_cgroup_bounds_and_throttles_the_process() {
    const TEST: &str = "a_cpu_quota_on_the_parent_cgroup_bounds_and_throttles_the_process";
    if child::is_child() {
        return spin_and_report();
    }
    let Some(cgroup) = cgroup("cpu", "srm-parent-quota") else {
        return;
    };
    cgroup
        .set(cgroup.parent(), "cpu.cfs_period_us", "100000")
        .unwrap();
    cgroup
        .set(cgroup.parent(), "cpu.cfs_quota_us", "20000")
        .unwrap();
    assert_held_to_a_fifth_of_a_cpu(&run_child_in(&cgroup, TEST));
}

#[test]
fn a_memory_limit_on_the_parent_cgroup_is_the_limit() {
    const TEST: &str = "a_memory_limit_on_the_parent_cgroup_is_the_limit";
    if child::is_child() {
        wait_for_the_go();
        let memory = MemoryMetrics::new().collect_mut().unwrap();
        let container = ContainerMetrics::new().collect_mut().unwrap();
        report("limit", value(&memory, "runtime.memory.limit"));
        report("limit_usage", value(&memory, "runtime.memory.limit_usage"));
        report("limit_hits", value(&container, "runtime.memory.limit_hits"));
        report("oom_kills", value(&container, "runtime.memory.oom_kills"));
        return;
    }
    let Some(cgroup) = cgroup("memory", "srm-parent-limit") else {
        return;
    };
    cgroup
        .set(
            cgroup.parent(),
            "memory.limit_in_bytes",
            &(1u64 << 30).to_string(),
        )
        .unwrap();
    let report = run_child_in(&cgroup, TEST);
    println!("{report:?}");
    assert_eq!(
        report.get("limit"),
        Some(&((1u64 << 30) as f64)),
        "{report:?}"
    );
    assert!(
        report["limit_usage"] > 0.0 && report["limit_usage"] < 1.0,
        "{report:?}"
    );
    assert_eq!(
        report.get("limit_hits"),
        Some(&0.0),
        "a limit, never hit: {report:?}"
    );
    assert!(report.contains_key("oom_kills"), "{report:?}");
}
