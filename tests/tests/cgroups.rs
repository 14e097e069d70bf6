//! In real cgroups, made here (this needs root and a writable v1 hierarchy, as CI has): a child
//! process in a CPU cgroup with a 0.2-CPU quota (on its own cgroup, or on the parent) spinning
//! two threads reports 0.2 CPUs available, throttling as the cgroup's `cpu.stat` counts it, and a
//! utilization near 1; one in a memory cgroup whose parent has a 1 GiB limit reports that limit;
//! one whose page cache runs into a 32 MiB limit reports the hits `memory.failcnt` counts; one
//! moved to another cgroup reports the new cgroup's limit; one under a parent with `pids.max`
//! reports it and the tasks `pids.current` counts; one under a parent with a memory+swap limit
//! reports the swap it may use. Where cgroups cannot be made, the tests say so and the fixture
//! tests of `src/sys/linux/cgroup` are what checks the reading. cgroup v2 is tested in a VM
//! (`cgroup_v2_vm.rs`).
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
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sentry::protocol::{EnvelopeItem, ItemContainer, Metric};
use sentry::test::TestTransport;
use sentry_runtime_metrics::collectors::{ContainerMetrics, MemoryMetrics, ProcessMetrics};
use sentry_runtime_metrics::{
    MetricCollector, RuntimeMetric, RuntimeMetricsConfig, RuntimeMetricsIntegration,
};
use sentry_runtime_metrics_tests::cgroup::TestCgroup;
use sentry_runtime_metrics_tests::child;
use sentry_runtime_metrics_tests::load::Spinners;

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
    run_child_through(&[cgroup], test)
}

/// Runs test `test` in a child process moved into the leaf of each of `cgroups` in turn: into
/// the first before it starts, into the next each time it prints `STEP`; returns its report.
fn run_child_through(cgroups: &[&TestCgroup], test: &str) -> Report {
    let mut process = child::spawn(test).unwrap();
    let mut stdin = process.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(process.stdout.take().unwrap());
    let mut lines = Vec::new();
    for (step, cgroup) in cgroups.iter().enumerate() {
        if step > 0 {
            // Until the child is ready for the next move.
            loop {
                let mut line = String::new();
                assert!(
                    stdout.read_line(&mut line).unwrap() > 0,
                    "child ended early: {lines:?}"
                );
                let ready = line.contains("STEP");
                lines.push(line);
                if ready {
                    break;
                }
            }
        }
        cgroup.add(process.id()).unwrap();
        stdin.write_all(b"go\n").unwrap();
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    lines.extend(rest.lines().map(str::to_owned));
    let status = process.wait().unwrap();
    assert!(status.success(), "child failed:\n{lines:#?}");
    lines
        .iter()
        // (The first may follow libtest's `test .. ...` on its line.)
        .filter_map(|line| line.split_once("RESULT ").map(|(_, result)| result))
        .map(|line| {
            let (name, value) = line.trim().split_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

/// In the child: tells the parent it is ready to be moved, and waits until it was.
fn step() {
    println!("STEP");
    wait_for_the_go();
}

/// CPU time of this process in seconds, from the kernel's tick accounting in `/proc/self/stat`
/// (fields 14 and 15), which the collectors do not read: `getrusage` is theirs.
fn cpu_seconds_from_proc_stat() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / hz
}

/// `key`'s value in a `key value` per line file.
fn key(text: &str, key: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(key)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {key} in {text}"))
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
    let spinners = Spinners::start(2);
    let (mut process, mut container) = (ProcessMetrics::new(), ContainerMetrics::new());
    process.collect_mut().unwrap();
    container.collect_mut().unwrap();
    let (started, cpu_started) = (Instant::now(), cpu_seconds_from_proc_stat());
    std::thread::sleep(Duration::from_millis(1500));
    let p1 = process.collect_mut().unwrap().metrics;
    let c1 = container.collect_mut().unwrap().metrics;
    let cpu_share = (cpu_seconds_from_proc_stat() - cpu_started) / started.elapsed().as_secs_f64();
    spinners.stop();
    report("available", value(&p1, "process.cpu.available"));
    report("utilization", value(&p1, "process.cpu.utilization"));
    // Sent as the increase since the previous sample.
    report(
        "throttled_periods",
        value(&c1, "process.cpu.throttled_periods"),
    );
    report("throttled_ms", value(&c1, "process.cpu.throttled_time"));
    report("throttled_ratio", value(&c1, "process.cpu.throttled_ratio"));
    report("cpu_share", Some(cpu_share));
}

/// What the CPU tests expect of a child held to 0.2 CPUs by the quota of `quota_dir`, whose
/// `cpu.stat` counts all its throttling (the child's whole life, the report only 1.5 s of it).
fn assert_held_to_a_fifth_of_a_cpu(report: &Report, cgroup: &TestCgroup, quota_dir: &Path) {
    println!("{report:?}");
    let stat = cgroup.get(quota_dir, "cpu.stat").unwrap();
    println!("{stat}");
    assert_eq!(report.get("available"), Some(&0.2), "{report:?}");
    let (periods, throttled_ms) = (
        key(&stat, "nr_throttled"),
        key(&stat, "throttled_time") / 1e6,
    );
    assert!(
        report["throttled_periods"] > 0.0 && report["throttled_periods"] <= periods,
        "{report:?} against nr_throttled {periods}"
    );
    assert!(
        report["throttled_ms"] > 0.0 && report["throttled_ms"] <= throttled_ms,
        "{report:?} against throttled_time {throttled_ms} ms"
    );
    // Most of the cgroup's throttling happened in the 1.5 s between the samples.
    assert!(
        report["throttled_periods"] >= 0.5 * periods,
        "{report:?} against {periods}"
    );
    assert!(report["throttled_ratio"] > 0.5, "{report:?}");
    // Independent of the collectors: CPU time (the kernel's ticks) over wall time, about 0.2.
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
    let report = run_child_in(&cgroup, TEST);
    assert_held_to_a_fifth_of_a_cpu(&report, &cgroup, cgroup.leaf());
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
    let report = run_child_in(&cgroup, TEST);
    assert_held_to_a_fifth_of_a_cpu(&report, &cgroup, cgroup.parent());
}

#[test]
fn a_memory_limit_on_the_parent_cgroup_is_the_limit() {
    const TEST: &str = "a_memory_limit_on_the_parent_cgroup_is_the_limit";
    if child::is_child() {
        wait_for_the_go();
        let memory = MemoryMetrics::new().collect_mut().unwrap().metrics;
        let mut container = ContainerMetrics::new();
        container.collect_mut().unwrap();
        let container = container.collect_mut().unwrap().metrics;
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
    // The parent's usage (the leaf's, here) over the limit, as the kernel charges it.
    assert!(
        report["limit_usage"] > 0.0 && report["limit_usage"] < 1.0,
        "{report:?}"
    );
    assert_eq!(
        report.get("limit_hits"),
        Some(&0.0),
        "a limit, never hit: {report:?}"
    );
    assert_eq!(report.get("oom_kills"), Some(&0.0), "{report:?}");
}

#[test]
fn page_cache_running_into_the_limit_counts_the_hits_the_kernel_counts() {
    const TEST: &str = "page_cache_running_into_the_limit_counts_the_hits_the_kernel_counts";
    if child::is_child() {
        wait_for_the_go();
        let mut container = ContainerMetrics::new();
        container.collect_mut().unwrap();
        // 96 MiB through the page cache of a cgroup held to 32 MiB: the kernel reclaims the
        // cache each time the charge reaches the limit (nothing is killed: no anonymous memory
        // grows). Written back every 4 MiB: cgroup v1 hardly throttles a cgroup's dirty pages,
        // and a charge that finds the limit full of them (ext4's journal allocates with
        // `__GFP_NOFAIL`) ends in the OOM killer, not in reclaim.
        let path = std::env::temp_dir().join(format!("srm-hits-{}", std::process::id()));
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![7u8; 1 << 20];
        for written in 1..=96 {
            file.write_all(&chunk).unwrap();
            if written % 4 == 0 {
                file.sync_data().unwrap();
            }
        }
        file.sync_all().unwrap();
        drop(file);
        std::fs::remove_file(&path).unwrap();
        let after = container.collect_mut().unwrap().metrics;
        report("limit_hits", value(&after, "runtime.memory.limit_hits"));
        return;
    }
    let Some(cgroup) = cgroup("memory", "srm-hits") else {
        return;
    };
    cgroup
        .set(
            cgroup.parent(),
            "memory.limit_in_bytes",
            &(32u64 << 20).to_string(),
        )
        .unwrap();
    let report = run_child_in(&cgroup, TEST);
    let failcnt: f64 = cgroup
        .get(cgroup.parent(), "memory.failcnt")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    println!("{report:?}, failcnt {failcnt}");
    let hits = report["limit_hits"];
    // The hits between the two samples: all but those before the first (the child starting).
    assert!(
        hits > 0.0 && hits <= failcnt,
        "{hits} against failcnt {failcnt}"
    );
    assert!(hits >= 0.9 * failcnt, "{hits} against failcnt {failcnt}");
}

#[test]
fn a_process_moved_to_another_cgroup_reports_the_new_one() {
    const TEST: &str = "a_process_moved_to_another_cgroup_reports_the_new_one";
    if child::is_child() {
        wait_for_the_go();
        // The integration's rounds: with the container collector on, each round looks where
        // the process is now before the memory collector reads its limit.
        let rounds = Rounds::new();
        let before = rounds.next();
        report("limit_before", sent(&before, "runtime.memory.limit"));
        step();
        let moved = rounds.next();
        report("limit_after", sent(&moved, "runtime.memory.limit"));
        report(
            "oom_kills_after_move",
            sent(&moved, "runtime.memory.oom_kills"),
        );
        return;
    }
    let (Some(first), Some(second)) = (
        cgroup("memory", "srm-move-from"),
        cgroup("memory", "srm-move-to"),
    ) else {
        return;
    };
    for (cgroup, limit) in [(&first, 512u64 << 20), (&second, 256 << 20)] {
        cgroup
            .set(cgroup.leaf(), "memory.limit_in_bytes", &limit.to_string())
            .unwrap();
    }
    let report = run_child_through(&[&first, &second], TEST);
    println!("{report:?}");
    assert_eq!(report.get("limit_before"), Some(&((512u64 << 20) as f64)));
    assert_eq!(report.get("limit_after"), Some(&((256u64 << 20) as f64)));
    assert_eq!(
        report.get("oom_kills_after_move"),
        None,
        "the new cgroup's count is a baseline, not an increase: {report:?}"
    );
}

/// The rounds of an integration with the default collectors, read back as sent.
struct Rounds {
    integration: RuntimeMetricsIntegration,
    transport: Arc<TestTransport>,
    _sentry: sentry::ClientInitGuard,
}

impl Rounds {
    fn new() -> Self {
        let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
            collection_interval: Duration::from_secs(3600),
            ..Default::default()
        });
        let transport = TestTransport::new();
        let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
        options.dsn = Some("https://public@sentry.invalid/1".parse().unwrap());
        options.transport = Some(Arc::new(transport.clone()));
        let sentry = sentry::init(options);
        Rounds {
            integration,
            transport,
            _sentry: sentry,
        }
    }

    /// What one `collect_now` round sent.
    fn next(&self) -> Vec<Metric> {
        self.integration.collect_now();
        sentry::Hub::current().client().unwrap().flush(None);
        let mut metrics = Vec::new();
        for envelope in self.transport.fetch_and_clear_envelopes() {
            for item in envelope.items() {
                if let EnvelopeItem::ItemContainer(ItemContainer::Metrics(items)) = item {
                    metrics.extend(items.iter().cloned());
                }
            }
        }
        metrics
    }
}

/// The value of the metric named `name` among `metrics`, if it was sent.
fn sent(metrics: &[Metric], name: &str) -> Option<f64> {
    metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

/// In the child: the directory of its v1 `controller` cgroup's parent, from `/proc/self/cgroup`.
fn own_parent_dir(controller: &str) -> std::path::PathBuf {
    let membership = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = membership
        .lines()
        .find_map(|line| line.split_once(&format!(":{controller}:")).map(|(_, p)| p))
        .unwrap_or_else(|| panic!("no {controller} line in {membership}"));
    let own = Path::new("/sys/fs/cgroup")
        .join(controller)
        .join(path.trim_start_matches('/'));
    own.parent().unwrap().to_path_buf()
}

#[test]
fn a_task_limit_on_the_parent_is_the_limit_and_its_tasks_and_refusals_are_counted() {
    const TEST: &str =
        "a_task_limit_on_the_parent_is_the_limit_and_its_tasks_and_refusals_are_counted";
    if child::is_child() {
        wait_for_the_go();
        let mut container = ContainerMetrics::new();
        container.collect_mut().unwrap();
        // The cgroup's own files, read by the test: a refused `fork` is counted in the cgroup
        // of the task that tried (the leaf), the tasks in the one that sets the limit.
        let (parent, own) = (own_parent_dir("pids"), own_parent_dir("pids").join("leaf"));
        let refused = || {
            key(
                &std::fs::read_to_string(own.join("pids.events")).unwrap(),
                "max",
            )
        };
        let refused_before = refused();
        // Threads until the limit refuses one, then one more; parked until the reading is done.
        let done = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut refusals = 0;
        while refusals < 2 && threads.len() < 1000 {
            let done = Arc::clone(&done);
            match std::thread::Builder::new().spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    std::thread::park_timeout(Duration::from_millis(10));
                }
            }) {
                Ok(thread) => threads.push(thread),
                Err(_) => refusals += 1,
            }
        }
        let metrics = container.collect_mut().unwrap().metrics;
        let current = std::fs::read_to_string(parent.join("pids.current")).unwrap();
        report("refusals", Some(f64::from(refusals)));
        report("refused", Some(refused() - refused_before));
        report("pids_limit", value(&metrics, "process.pids.limit"));
        report("pids_count", value(&metrics, "process.pids.count"));
        report("pids_current", current.trim().parse().ok());
        report("limit_hits", value(&metrics, "process.pids.limit_hits"));
        done.store(true, Ordering::Relaxed);
        threads.into_iter().for_each(|t| t.join().unwrap());
        return;
    }
    let Some(cgroup) = cgroup("pids", "srm-pids") else {
        return;
    };
    cgroup.set(cgroup.parent(), "pids.max", "40").unwrap();
    let report = run_child_in(&cgroup, TEST);
    println!("{report:?}");
    assert_eq!(report.get("refusals"), Some(&2.0), "{report:?}");
    assert_eq!(report.get("pids_limit"), Some(&40.0), "{report:?}");
    assert_eq!(
        report.get("pids_count"),
        Some(&40.0),
        "at the limit: {report:?}"
    );
    assert_eq!(report.get("pids_count"), report.get("pids_current"));
    assert_eq!(report.get("refused"), Some(&2.0), "{report:?}");
    assert_eq!(
        report.get("limit_hits"),
        report.get("refused"),
        "{report:?}"
    );
}

#[test]
fn memory_and_swap_bounded_together_is_no_swap_limit_on_v1() {
    const TEST: &str = "memory_and_swap_bounded_together_is_no_swap_limit_on_v1";
    if child::is_child() {
        wait_for_the_go();
        let metrics = ContainerMetrics::new().collect_mut().unwrap().metrics;
        report("swap_limit", value(&metrics, "runtime.memory.swap.limit"));
        report("swap", value(&metrics, "runtime.memory.swap"));
        report("high", value(&metrics, "runtime.memory.high"));
        let text = RuntimeMetricsIntegration::default()
            .environment_report()
            .to_string();
        let says = text.contains("runtime.memory.swap: cgroup v1 has no swap limit of its own");
        report("report_says_why", Some(f64::from(u8::from(says))));
        return;
    }
    let Some(cgroup) = cgroup("memory", "srm-swap") else {
        return;
    };
    let parent = cgroup.parent();
    if !parent.join("memory.memsw.limit_in_bytes").exists() {
        println!("no swap accounting on this kernel (memory.memsw.*): nothing to check");
        return;
    }
    cgroup
        .set(parent, "memory.limit_in_bytes", &(256u64 << 20).to_string())
        .unwrap();
    cgroup
        .set(
            parent,
            "memory.memsw.limit_in_bytes",
            &(384u64 << 20).to_string(),
        )
        .unwrap();
    let report = run_child_in(&cgroup, TEST);
    println!("{report:?}");
    // memsw bounds memory and swap together: swap may exceed memsw - limit while memory is
    // below its limit, so no figure of it is a limit, and none is sent.
    assert_eq!(report.get("swap_limit"), None);
    assert_eq!(report.get("swap"), None);
    assert_eq!(report.get("high"), None, "v1 has no memory.high");
    assert_eq!(report.get("report_says_why"), Some(&1.0));
}
