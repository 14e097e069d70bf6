//! In a real cgroup v2 kernel: this host mounts cgroup v1 and cannot enable controllers on its
//! unified tree, so the test boots a QEMU VM (`sentry_runtime_metrics_tests::vm`) and runs
//! itself there as root, where cgroup2 is mounted with every controller. Each scenario makes its
//! own cgroups, moves a child process (this binary again) into them, and checks what the
//! collectors send against the cgroup files the test reads itself:
//!
//! - a memory limit on the parent and a CPU quota on the own cgroup, throttling under load;
//! - the working set over the limit;
//! - an OOM kill of a sibling in the same cgroup;
//! - `memory.high` hits under a hog;
//! - swap in use (a zram device) and the swap limit;
//! - the task limit (`pids.max`) reached by spawning threads;
//! - a process moved to another cgroup;
//! - a private cgroup namespace with its own cgroup2 mount (what a container on v2 sees).
//!
//! Where the VM cannot start (no QEMU, kernel, busybox or cpio) the test says so; with
//! `SRM_VM_REQUIRED` set (CI) that fails it.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::collectors::{ContainerMetrics, MemoryMetrics, ProcessMetrics};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetric, RuntimeMetricsIntegration};
use sentry_runtime_metrics_tests::load::Spinners;
use sentry_runtime_metrics_tests::vm::{self, VmError};

/// This test's name: the one the VM runs, and its children.
const TEST: &str = "in_a_cgroup_v2_kernel";
/// Set in a child process: the scenario whose child part it runs.
const SCENARIO: &str = "SRM_VM_SCENARIO";
const MIB: u64 = 1 << 20;

#[test]
fn in_a_cgroup_v2_kernel() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        child_part(&scenario);
    } else if std::env::var_os(vm::GUEST).is_some() {
        guest();
    } else {
        host();
    }
}

/// On the host: boots the VM and checks that every scenario passed there.
fn host() {
    let exe = std::env::current_exe().unwrap();
    let run = match vm::run_test_in_vm(&exe, TEST, &[], Duration::from_secs(600)) {
        Ok(run) => run,
        Err(VmError::Missing(what)) if std::env::var_os(vm::REQUIRED).is_none() => {
            println!(
                "NOT RUN: {} — the cgroup v2 tests need the VM; set {} to make this a failure",
                VmError::Missing(what),
                vm::REQUIRED
            );
            return;
        }
        Err(err) => panic!("{err}"),
    };
    println!(
        "VM: booted in {:.1} s, scenarios ran in {:.1} s",
        run.boot.as_secs_f64(),
        run.test.as_secs_f64()
    );
    let passed: Vec<&str> = run
        .console
        .iter()
        .filter_map(|line| line.strip_prefix("SCENARIO ")?.strip_suffix(" ok"))
        .collect();
    let failed: Vec<&String> = run
        .console
        .iter()
        .filter(|line| line.starts_with("SCENARIO ") && !line.ends_with(" ok"))
        .collect();
    assert!(failed.is_empty(), "failed in the VM: {failed:#?}");
    assert_eq!(
        passed,
        SCENARIOS.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        "every scenario passed in the VM"
    );
    assert_eq!(run.exit_code, Some(0), "the test's exit in the VM");
    if std::env::var_os(vm::REQUIRED).is_some() {
        // Else the swap scenario checks only the limit.
        assert!(
            run.console
                .iter()
                .any(|line| line.contains("SRM-VM-SWAP on")),
            "the VM has its zram swap"
        );
    }
}

/// The scenarios, in the order they run in the guest.
const SCENARIOS: [(&str, fn()); 10] = [
    ("no_limit_nothing_sent", no_limit_nothing_sent),
    (
        "limit_on_the_parent_quota_on_its_own",
        limit_on_the_parent_quota_on_its_own,
    ),
    ("working_set_over_the_limit", working_set_over_the_limit),
    ("oom_kill_of_a_sibling", oom_kill_of_a_sibling),
    ("memory_high_hits_under_a_hog", memory_high_hits_under_a_hog),
    ("swap_in_use_and_its_limit", swap_in_use_and_its_limit),
    ("task_limit_reached", task_limit_reached),
    ("moved_to_another_cgroup", moved_to_another_cgroup),
    ("limits_raised_on_the_parent", limits_raised_on_the_parent),
    ("private_cgroup_namespace", private_cgroup_namespace),
];

/// In the guest: every scenario, each reported on its own line, then a failure if any failed.
fn guest() {
    assert!(
        Path::new("/sys/fs/cgroup/cgroup.controllers").is_file(),
        "cgroup2 is mounted at /sys/fs/cgroup"
    );
    println!(
        "controllers: {}",
        std::fs::read_to_string("/sys/fs/cgroup/cgroup.subtree_control").unwrap_or_default()
    );
    let mut failures = 0;
    for (name, scenario) in SCENARIOS {
        let started = Instant::now();
        match std::panic::catch_unwind(scenario) {
            Ok(()) => {
                println!("  {name}: {:.1} s", started.elapsed().as_secs_f64());
                println!("SCENARIO {name} ok");
            }
            Err(panic) => {
                failures += 1;
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                println!("SCENARIO {name} FAILED: {}", why.replace('\n', " | "));
            }
        }
    }
    assert_eq!(failures, 0, "scenarios failed");
}

// ---- cgroups and children ----

/// A parent cgroup under the root with the controllers on for its children, and a leaf in it
/// where the child processes go; removed when dropped.
struct V2Cgroup {
    parent: PathBuf,
    leaf: PathBuf,
}

impl V2Cgroup {
    fn new(name: &str) -> Self {
        let parent = Path::new("/sys/fs/cgroup").join(name);
        let leaf = parent.join("leaf");
        std::fs::create_dir(&parent).unwrap();
        std::fs::write(
            parent.join("cgroup.subtree_control"),
            "+cpu +memory +pids +io",
        )
        .unwrap();
        std::fs::create_dir(&leaf).unwrap();
        V2Cgroup { parent, leaf }
    }

    fn set(dir: &Path, file: &str, value: &str) {
        std::fs::write(dir.join(file), value)
            .unwrap_or_else(|err| panic!("{}/{file} = {value}: {err}", dir.display()));
    }

    fn get(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|err| panic!("{}/{file}: {err}", dir.display()))
    }

    fn add(&self, pid: u32) {
        Self::set(&self.leaf, "cgroup.procs", &pid.to_string());
    }
}

impl Drop for V2Cgroup {
    fn drop(&mut self) {
        for dir in [&self.leaf, &self.parent] {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines() {
                let _ = std::fs::write("/sys/fs/cgroup/cgroup.procs", pid);
            }
        }
        let _ = std::fs::remove_dir(&self.leaf);
        let _ = std::fs::remove_dir(&self.parent);
    }
}

/// A child process running the child part of a scenario: it waits for a `go` line before each
/// step, and reports `RESULT name value` lines.
struct ChildProcess {
    process: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    report: BTreeMap<String, f64>,
}

impl ChildProcess {
    fn spawn(scenario: &str) -> Self {
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
            .env(SCENARIO, scenario)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = process.stdin.take().unwrap();
        let stdout = BufReader::new(process.stdout.take().unwrap());
        ChildProcess {
            process,
            stdin,
            stdout,
            report: BTreeMap::new(),
        }
    }

    fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Lets the child go on.
    fn go(&mut self) {
        self.stdin.write_all(b"go\n").unwrap();
    }

    /// Reads the child's lines until it says `STEP` (ready for the next), keeping its results.
    fn until_step(&mut self) {
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the child ended before its step: {:?}",
                self.report
            );
            self.keep(&line);
            if line.contains("STEP") {
                return;
            }
        }
    }

    fn keep(&mut self, line: &str) {
        if let Some((_, result)) = line.split_once("RESULT ") {
            let (name, value) = result.trim().split_once(' ').unwrap();
            self.report.insert(name.to_owned(), value.parse().unwrap());
        }
    }

    /// Reads the rest, waits for the child, and returns its results.
    fn finish(mut self) -> BTreeMap<String, f64> {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        for line in rest.lines() {
            self.keep(line);
        }
        let status = self.process.wait().unwrap();
        assert!(status.success(), "the child failed: {status}\n{rest}");
        println!("  {:?}", self.report);
        self.report
    }
}

/// In a child: waits for the parent's `go`.
fn wait_for_go() {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
}

/// In a child: tells the parent it is ready for the next step, and waits for it.
fn step() {
    println!("STEP");
    wait_for_go();
}

/// In a child: reports `value` (nothing when `None`: the parent sees it missing).
fn report(name: &str, value: Option<f64>) {
    if let Some(value) = value {
        println!("RESULT {name} {value}");
    }
}

fn value(metrics: &[RuntimeMetric], name: &str) -> Option<f64> {
    metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.value.as_f64())
}

/// The value of `key` in a `key value` per line file's text.
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

/// In a child: its own cgroup's directory.
fn own_cgroup() -> PathBuf {
    let membership = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = membership
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .unwrap();
    Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'))
}

/// Touches `bytes` of new heap, page by page, and returns it.
fn touch(bytes: u64) -> Vec<u8> {
    let mut block = vec![0u8; usize::try_from(bytes).unwrap()];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    block
}

/// The child part of `scenario`.
fn child_part(scenario: &str) {
    wait_for_go();
    match scenario {
        "limit_on_the_parent_quota_on_its_own" => spin_and_report(),
        "working_set_over_the_limit" => {
            let block = touch(64 * MIB);
            let metrics = MemoryMetrics::new().collect_mut().unwrap().metrics;
            // The kernel's own figures for the cgroup that sets the limit (the parent).
            let parent = own_cgroup().parent().unwrap().to_path_buf();
            let current = V2Cgroup::get(&parent, "memory.current");
            let stat = V2Cgroup::get(&parent, "memory.stat");
            let max = V2Cgroup::get(&parent, "memory.max");
            let working_set = current.trim().parse::<f64>().unwrap() - key(&stat, "inactive_file");
            report("limit", value(&metrics, "runtime.memory.limit"));
            report("limit_usage", value(&metrics, "runtime.memory.limit_usage"));
            report(
                "files_usage",
                Some(working_set / max.trim().parse::<f64>().unwrap()),
            );
            drop(std::hint::black_box(block));
        }
        "oom_kill_of_a_sibling" => {
            // Never this one: the sibling is the one to go.
            std::fs::write("/proc/self/oom_score_adj", "-1000").unwrap();
            let mut container = ContainerMetrics::new();
            container.collect_mut().unwrap();
            step();
            let metrics = container.collect_mut().unwrap().metrics;
            report("oom_kills", value(&metrics, "runtime.memory.oom_kills"));
        }
        "hog" => {
            // Far over the limit: the OOM killer takes this process.
            let _block = touch(512 * MIB);
            std::thread::sleep(Duration::from_secs(30));
        }
        "memory_high_hits_under_a_hog" => {
            let own = own_cgroup();
            // Over `memory.high` before the first sample: the kernel counts `high` events.
            let early = touch(24 * MIB);
            let mut container = ContainerMetrics::new();
            let first = container.collect_mut().unwrap().metrics;
            // A kernel total from before the collector: its first sample sends nothing.
            report("first_high_hits", value(&first, "runtime.memory.high_hits"));
            report(
                "events_at_first",
                Some(key(&V2Cgroup::get(&own, "memory.events"), "high")),
            );
            drop(std::hint::black_box(early));
            let before = key(&V2Cgroup::get(&own, "memory.events"), "high");
            let block = touch(48 * MIB);
            let metrics = container.collect_mut().unwrap().metrics;
            let after = key(&V2Cgroup::get(&own, "memory.events"), "high");
            report("high", value(&metrics, "runtime.memory.high"));
            report("high_hits", value(&metrics, "runtime.memory.high_hits"));
            report("events_high", Some(after - before));
            drop(std::hint::black_box(block));
        }
        "swap_in_use_and_its_limit" => {
            let own = own_cgroup();
            let block = touch(64 * MIB);
            let metrics = ContainerMetrics::new().collect_mut().unwrap().metrics;
            let current = V2Cgroup::get(&own, "memory.swap.current");
            report("swap", value(&metrics, "runtime.memory.swap"));
            report("swap_limit", value(&metrics, "runtime.memory.swap.limit"));
            report("swap_current", current.trim().parse().ok());
            drop(std::hint::black_box(block));
        }
        "task_limit_reached" => {
            // The limit is the parent's. The kernel counts a refused `fork` in the child's own
            // cgroup's `pids.events` before Linux 6.12, in the parent's `pids.events.local`
            // (its limit's refusals) from 6.12.
            let own = own_cgroup();
            let parent = own.parent().unwrap().to_path_buf();
            let (counted_in, events) = if own.join("pids.events.local").exists() {
                (parent.clone(), "pids.events.local")
            } else {
                (own.clone(), "pids.events")
            };
            let mut container = ContainerMetrics::new();
            container.collect_mut().unwrap();
            let events_before = key(&V2Cgroup::get(&counted_in, events), "max");
            let done = Arc::new(AtomicBool::new(false));
            let mut threads = Vec::new();
            let refused = loop {
                let done = done.clone();
                let spawned = std::thread::Builder::new().spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        std::thread::park_timeout(Duration::from_millis(20));
                    }
                });
                match spawned {
                    Ok(thread) => threads.push(thread),
                    Err(_) => break true,
                }
                if threads.len() > 1000 {
                    break false;
                }
            };
            // One more refused, to count two.
            let again = std::thread::Builder::new().spawn(|| {}).is_err();
            let metrics = container.collect_mut().unwrap().metrics;
            let current = V2Cgroup::get(&parent, "pids.current");
            let events_after = key(&V2Cgroup::get(&counted_in, events), "max");
            report("refused", Some(f64::from(u8::from(refused && again))));
            report("limit_hits", value(&metrics, "process.pids.limit_hits"));
            report("events_max", Some(events_after - events_before));
            report("pids_limit", value(&metrics, "process.pids.limit"));
            report("pids_count", value(&metrics, "process.pids.count"));
            report("pids_current", current.trim().parse().ok());
            done.store(true, Ordering::Relaxed);
            threads.into_iter().for_each(|t| t.join().unwrap());
        }
        // The container collector looks where the process is, and which limits are in
        // effect, each round: a step between two rounds moves it or changes the limits.
        "moved_to_another_cgroup" | "limits_raised_on_the_parent" => {
            let mut container = ContainerMetrics::new();
            let before = container.collect_mut().unwrap().metrics;
            report("high_before", value(&before, "runtime.memory.high"));
            report("pids_limit_before", value(&before, "process.pids.limit"));
            step();
            let after = container.collect_mut().unwrap().metrics;
            report("high_after", value(&after, "runtime.memory.high"));
            report("pids_limit_after", value(&after, "process.pids.limit"));
        }
        "private_cgroup_namespace" => in_a_private_cgroup_namespace(),
        "no_limit_nothing_sent" => {
            let memory = MemoryMetrics::new().collect_mut().unwrap().metrics;
            let container = ContainerMetrics::new().collect_mut().unwrap().metrics;
            for name in [
                "runtime.memory.limit",
                "runtime.memory.limit_usage",
                "runtime.memory.limit_hits",
            ] {
                report(name, value(&memory, name).or(value(&container, name)));
            }
            for name in [
                "runtime.memory.high",
                "runtime.memory.high_hits",
                "runtime.memory.swap",
                "runtime.memory.swap.limit",
                "process.pids.limit",
                "process.pids.count",
            ] {
                report(name, value(&container, name));
            }
            assert_the_report_says(&[
                "memory.max: none set",
                "cpu.max: none set",
                "memory.high: none set",
                "memory.swap.max: none set",
                "pids.max: none set",
                "runtime.memory.limit: no memory.max is set on",
                "process.pids.*: no pids.max is set on",
            ]);
            // What is there without a limit: the cgroup's own pressure.
            report(
                "cgroup_pressure",
                container
                    .iter()
                    .any(|m| m.name == "process.pressure.memory.some")
                    .then_some(1.0),
            );
        }
        other => panic!("no scenario {other}"),
    }
}

// ---- the scenarios, in the guest ----

/// A child in cgroups without any limit: no limit, usage, hits, swap or task value is sent
/// (no placeholder), while the cgroup's own pressure is.
fn no_limit_nothing_sent() {
    let cgroup = V2Cgroup::new("srm-no-limit");
    let mut child = ChildProcess::spawn("no_limit_nothing_sent");
    cgroup.add(child.pid());
    child.go();
    let report = child.finish();
    assert_eq!(
        report.keys().collect::<Vec<_>>(),
        ["cgroup_pressure"],
        "{report:?}"
    );
}

/// A child in a cgroup with a 0.2-CPU quota whose parent has a 256 MiB limit, spinning two
/// threads: the parent's limit, 0.2 CPUs, and the throttling `cpu.stat` counts.
fn limit_on_the_parent_quota_on_its_own() {
    let cgroup = V2Cgroup::new("srm-quota");
    V2Cgroup::set(&cgroup.parent, "memory.max", &(256 * MIB).to_string());
    V2Cgroup::set(&cgroup.leaf, "cpu.max", "20000 100000");
    let mut child = ChildProcess::spawn("limit_on_the_parent_quota_on_its_own");
    cgroup.add(child.pid());
    child.go();
    let report = child.finish();
    let stat = V2Cgroup::get(&cgroup.leaf, "cpu.stat");
    assert_eq!(
        report.get("limit"),
        Some(&((256 * MIB) as f64)),
        "{report:?}"
    );
    assert_eq!(report.get("available"), Some(&0.2), "{report:?}");
    let (throttled, throttled_ms) = (
        key(&stat, "nr_throttled"),
        key(&stat, "throttled_usec") / 1000.0,
    );
    assert!(
        report["throttled_periods"] > 0.0 && report["throttled_periods"] <= throttled,
        "{report:?} against nr_throttled {throttled}"
    );
    assert!(
        report["throttled_ms"] > 0.0 && report["throttled_ms"] <= throttled_ms,
        "{report:?} against throttled_usec {throttled_ms} ms"
    );
    assert!(report["throttled_ratio"] > 0.5, "{report:?}");
}

/// In the child: two spinning threads, 1.5 s between two samples.
fn spin_and_report() {
    let spinners = Spinners::start(2);
    let (mut process, mut container) = (ProcessMetrics::new(), ContainerMetrics::new());
    process.collect_mut().unwrap();
    container.collect_mut().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let p1 = process.collect_mut().unwrap().metrics;
    let c1 = container.collect_mut().unwrap().metrics;
    let memory = MemoryMetrics::new().collect_mut().unwrap().metrics;
    spinners.stop();
    report("limit", value(&memory, "runtime.memory.limit"));
    report("available", value(&p1, "process.cpu.available"));
    report(
        "throttled_periods",
        value(&c1, "process.cpu.throttled_periods"),
    );
    report("throttled_ms", value(&c1, "process.cpu.throttled_time"));
    report("throttled_ratio", value(&c1, "process.cpu.throttled_ratio"));
    // What the integration says it sees: each limit where it is set.
    let own = own_cgroup();
    assert_the_report_says(&[
        &format!("cgroup v2 memory: {}", own.display()),
        &format!(
            "memory.max: 256 MiB set on {}",
            own.parent().unwrap().display()
        ),
        &format!("cpu.max: 0.2 CPUs set on {}", own.display()),
        &format!("pressure: the cgroup's ({})", own.display()),
        "schedstat: yes",
    ]);
}

/// In a child: the integration's report of what it sees has each of `expected`.
fn assert_the_report_says(expected: &[&str]) {
    let text = RuntimeMetricsIntegration::default()
        .environment_report()
        .to_string();
    for line in expected {
        assert!(text.contains(line), "{line:?} in {text}");
    }
}

/// 64 MiB touched under a 128 MiB limit on the parent: the working set over the limit, as the
/// parent's `memory.current` less `inactive_file` over `memory.max`.
fn working_set_over_the_limit() {
    let cgroup = V2Cgroup::new("srm-working-set");
    V2Cgroup::set(&cgroup.parent, "memory.max", &(128 * MIB).to_string());
    let mut child = ChildProcess::spawn("working_set_over_the_limit");
    cgroup.add(child.pid());
    child.go();
    let report = child.finish();
    assert_eq!(report.get("limit"), Some(&((128 * MIB) as f64)));
    let (ours, files) = (report["limit_usage"], report["files_usage"]);
    assert!(ours > 0.5 && ours < 1.0, "{report:?}");
    assert!((ours - files).abs() < 0.02, "{report:?}");
}

/// A sibling in the same cgroup (64 MiB limit) touching 512 MiB is OOM-killed: one kill, as
/// `memory.events` counts it.
fn oom_kill_of_a_sibling() {
    let cgroup = V2Cgroup::new("srm-oom");
    V2Cgroup::set(&cgroup.leaf, "memory.max", &(64 * MIB).to_string());
    V2Cgroup::set(&cgroup.leaf, "memory.swap.max", "0");
    let mut reporter = ChildProcess::spawn("oom_kill_of_a_sibling");
    cgroup.add(reporter.pid());
    reporter.go();
    reporter.until_step();
    let mut hog = ChildProcess::spawn("hog");
    cgroup.add(hog.pid());
    hog.go();
    let status = hog.process.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL),
        "the hog was killed: {status}"
    );
    let events = V2Cgroup::get(&cgroup.leaf, "memory.events");
    reporter.go();
    let report = reporter.finish();
    assert_eq!(key(&events, "oom_kill"), 1.0, "{events}");
    assert_eq!(report.get("oom_kills"), Some(&1.0), "{report:?}");
}

/// 48 MiB touched over a 16 MiB `memory.high`: the kernel throttles and reclaims, and counts
/// `high` events; the increase sent is the events' between the two samples.
fn memory_high_hits_under_a_hog() {
    let cgroup = V2Cgroup::new("srm-high");
    V2Cgroup::set(&cgroup.leaf, "memory.high", &(16 * MIB).to_string());
    let mut child = ChildProcess::spawn("memory_high_hits_under_a_hog");
    cgroup.add(child.pid());
    child.go();
    let report = child.finish();
    assert_eq!(report.get("high"), Some(&((16 * MIB) as f64)));
    assert!(report["events_at_first"] > 0.0, "{report:?}");
    assert_eq!(report.get("first_high_hits"), None, "{report:?}");
    let (ours, events) = (report["high_hits"], report["events_high"]);
    assert!(events > 0.0, "{report:?}");
    // The events counted between the collection and the test's own read, either side.
    assert!((ours - events).abs() <= 2.0 + events * 0.05, "{report:?}");
}

/// 64 MiB touched under a 32 MiB `memory.max` with 96 MiB of swap allowed: what does not fit
/// goes to the zram swap; the swap in use as `memory.swap.current` says, and the limit.
fn swap_in_use_and_its_limit() {
    let cgroup = V2Cgroup::new("srm-swap");
    V2Cgroup::set(&cgroup.leaf, "memory.max", &(32 * MIB).to_string());
    V2Cgroup::set(&cgroup.leaf, "memory.swap.max", &(96 * MIB).to_string());
    let mut child = ChildProcess::spawn("swap_in_use_and_its_limit");
    cgroup.add(child.pid());
    child.go();
    let report = child.finish();
    // The limit as the kernel holds it.
    let swap_max: f64 = V2Cgroup::get(&cgroup.leaf, "memory.swap.max")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(swap_max, (96 * MIB) as f64);
    assert_eq!(report.get("swap_limit"), Some(&swap_max));
    let (ours, current) = (report["swap"], report["swap_current"]);
    assert!((ours - current).abs() <= MIB as f64, "{report:?}");
    let swap_on = std::fs::read_to_string("/proc/swaps")
        .unwrap()
        .lines()
        .count()
        > 1;
    if swap_on {
        assert!(
            ours >= (24 * MIB) as f64,
            "over the limit goes to swap: {report:?}"
        );
    }
}

/// Threads spawned until the parent's `pids.max` (24) refuses one, then one more: the limit,
/// the tasks as the parent's `pids.current` counts them, and the refusals as the child's own
/// cgroup counts them (where the kernel counts a refused `fork`).
fn task_limit_reached() {
    let cgroup = V2Cgroup::new("srm-pids");
    V2Cgroup::set(&cgroup.parent, "pids.max", "24");
    let mut child = ChildProcess::spawn("task_limit_reached");
    cgroup.add(child.pid());
    child.go();
    let report = child.finish();
    assert_eq!(report.get("refused"), Some(&1.0), "{report:?}");
    let pids_max: f64 = V2Cgroup::get(&cgroup.parent, "pids.max")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pids_max, 24.0);
    assert_eq!(report.get("pids_limit"), Some(&pids_max), "{report:?}");
    assert_eq!(
        report.get("pids_count"),
        Some(&24.0),
        "at the limit: {report:?}"
    );
    assert_eq!(report.get("pids_count"), report.get("pids_current"));
    assert!(report["events_max"] >= 2.0, "{report:?}");
    assert_eq!(
        report.get("limit_hits"),
        report.get("events_max"),
        "{report:?}"
    );
}

/// A child moved from a cgroup with `memory.high` 512 MiB and 100 tasks to one with 256 MiB
/// and 50: the next round reports the new cgroup's.
fn moved_to_another_cgroup() {
    let (from, to) = (V2Cgroup::new("srm-move-from"), V2Cgroup::new("srm-move-to"));
    for (cgroup, high, tasks) in [(&from, 512, "100"), (&to, 256, "50")] {
        V2Cgroup::set(&cgroup.leaf, "memory.high", &(high * MIB).to_string());
        V2Cgroup::set(&cgroup.leaf, "pids.max", tasks);
    }
    let mut child = ChildProcess::spawn("moved_to_another_cgroup");
    from.add(child.pid());
    child.go();
    child.until_step();
    to.add(child.pid());
    child.go();
    assert_limits_before_and_after(&child.finish(), (512, 100), (256, 50));
}

/// What the child of a move or a limit change reported: `memory.high` (MiB) and the task
/// limit in effect, before and after.
fn assert_limits_before_and_after(
    report: &BTreeMap<String, f64>,
    before: (u64, u32),
    after: (u64, u32),
) {
    for (when, (high, tasks)) in [("before", before), ("after", after)] {
        assert_eq!(
            report.get(&format!("high_{when}")),
            Some(&((high * MIB) as f64)),
            "{report:?}"
        );
        assert_eq!(
            report.get(&format!("pids_limit_{when}")),
            Some(&f64::from(tasks)),
            "{report:?}"
        );
    }
}

/// Limits on the parent (`memory.high` 512 MiB, 100 tasks) under larger ones on the child's
/// own cgroup (1 GiB, 200), then the parent's raised (2 GiB) and lifted (`max`): the next
/// round sends the child's, which are now the ones in effect.
fn limits_raised_on_the_parent() {
    let cgroup = V2Cgroup::new("srm-raised");
    V2Cgroup::set(&cgroup.parent, "memory.high", &(512 * MIB).to_string());
    V2Cgroup::set(&cgroup.parent, "pids.max", "100");
    V2Cgroup::set(&cgroup.leaf, "memory.high", &(1024 * MIB).to_string());
    V2Cgroup::set(&cgroup.leaf, "pids.max", "200");
    let mut child = ChildProcess::spawn("limits_raised_on_the_parent");
    cgroup.add(child.pid());
    child.go();
    child.until_step();
    V2Cgroup::set(&cgroup.parent, "memory.high", &(2048 * MIB).to_string());
    V2Cgroup::set(&cgroup.parent, "pids.max", "max");
    child.go();
    assert_limits_before_and_after(&child.finish(), (512, 100), (1024, 200));
}

/// A child that enters a private cgroup namespace and mounts cgroup2 there, as a container
/// runtime does: its own cgroup is the root it sees (`0::/`), and holds the limits.
fn private_cgroup_namespace() {
    let cgroup = V2Cgroup::new("srm-namespace");
    V2Cgroup::set(&cgroup.leaf, "memory.max", &(200 * MIB).to_string());
    V2Cgroup::set(&cgroup.leaf, "memory.high", &(150 * MIB).to_string());
    V2Cgroup::set(&cgroup.leaf, "pids.max", "77");
    let mut child = ChildProcess::spawn("private_cgroup_namespace");
    cgroup.add(child.pid());
    child.go();
    let report = child.finish();
    assert_eq!(report.get("root_is_own"), Some(&1.0), "{report:?}");
    assert_eq!(
        report.get("limit"),
        Some(&((200 * MIB) as f64)),
        "{report:?}"
    );
    assert_eq!(
        report.get("high"),
        Some(&((150 * MIB) as f64)),
        "{report:?}"
    );
    assert_eq!(report.get("pids_limit"), Some(&77.0), "{report:?}");
    assert_eq!(report.get("pids_count"), report.get("pids_current"));
}

/// In the child: a new cgroup and mount namespace, cgroup2 mounted again at `/sys/fs/cgroup`
/// (showing the namespace's root, the child's own cgroup), then what the collectors see.
fn in_a_private_cgroup_namespace() {
    // SAFETY: unshare, mount and umount2 with valid flags and NUL-terminated strings; the
    // child changes only its own namespaces.
    unsafe {
        assert_eq!(libc::unshare(libc::CLONE_NEWCGROUP | libc::CLONE_NEWNS), 0);
        assert_eq!(
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null()
            ),
            0
        );
        assert_eq!(
            libc::umount2(c"/sys/fs/cgroup".as_ptr(), libc::MNT_DETACH),
            0
        );
        assert_eq!(
            libc::mount(
                c"cgroup2".as_ptr(),
                c"/sys/fs/cgroup".as_ptr(),
                c"cgroup2".as_ptr(),
                0,
                std::ptr::null()
            ),
            0
        );
    }
    let membership = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    report(
        "root_is_own",
        Some(f64::from(u8::from(membership.trim() == "0::/"))),
    );
    let memory = MemoryMetrics::new().collect_mut().unwrap().metrics;
    let container = ContainerMetrics::new().collect_mut().unwrap().metrics;
    let current = V2Cgroup::get(Path::new("/sys/fs/cgroup"), "pids.current");
    report("limit", value(&memory, "runtime.memory.limit"));
    report("high", value(&container, "runtime.memory.high"));
    report("pids_limit", value(&container, "process.pids.limit"));
    report("pids_count", value(&container, "process.pids.count"));
    report("pids_current", current.trim().parse().ok());
    assert_the_report_says(&[
        "cgroup v2 memory: /sys/fs/cgroup\n",
        "memory.max: 200 MiB set on /sys/fs/cgroup\n",
        "pids.max: 77 tasks set on /sys/fs/cgroup\n",
        "cgroups above these are out of sight",
    ]);
}
