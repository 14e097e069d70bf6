//! The kernel's signals against independent sources on this machine: uptime against the
//! process's start in `/proc`, CPU time against `getrusage` read by the test, page faults,
//! context switches and storage writes against what the test itself did, pressure against load
//! the test makes (Linux). One test, so nothing else in this binary moves the numbers meanwhile.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::collectors::{ContainerMetrics, MemoryMetrics, ProcessMetrics};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetric};

/// The value of the metric `name` whose attributes include `key = value` (or the only one).
fn get(metrics: &[RuntimeMetric], name: &str, label: Option<(&str, &str)>) -> f64 {
    metrics
        .iter()
        .find(|m| {
            m.name == name
                && label.is_none_or(|(key, value)| m.tags.get(key).is_some_and(|v| v == value))
        })
        .unwrap_or_else(|| panic!("{name} {label:?} is sent on Linux: {metrics:#?}"))
        .value
        .as_f64()
}

/// User CPU time of this process in milliseconds, from `getrusage` called here.
fn rusage_user_ms() -> f64 {
    // SAFETY: zeroed rusage is a valid out-parameter; getrusage writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid for writes for the whole call.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    usage.ru_utime.tv_sec as f64 * 1000.0 + usage.ru_utime.tv_usec as f64 / 1000.0
}

/// This process's age, from `/proc/self/stat` field 22 and `/proc/uptime`, parsed here.
fn age_from_proc() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let start_ticks: f64 = after_name.split(' ').nth(19).unwrap().parse().unwrap();
    // SAFETY: sysconf reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Duration::from_secs_f64(uptime - start_ticks / hz)
}

fn spin(duration: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < duration {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

#[test]
fn kernel_signals_follow_what_the_process_does() {
    let mut process = ProcessMetrics::new();
    let mut memory = MemoryMetrics::new();
    let mut container = ContainerMetrics::new();

    // Uptime: the process's age as /proc gives it (to the 10 ms of /proc/uptime).
    let uptime = get(&process.collect_mut().unwrap(), "process.uptime", None);
    let expected = age_from_proc().as_secs_f64();
    assert!(
        (uptime - expected).abs() < 0.05,
        "uptime {uptime} s, /proc says {expected} s"
    );

    // A 37 ms spin: sub-tick precision, within 3 ms of getrusage read here.
    let (ours_before, theirs_before) = (
        get(
            &process.collect_mut().unwrap(),
            "process.cpu.user_time",
            None,
        ),
        rusage_user_ms(),
    );
    spin(Duration::from_millis(37));
    let (ours, theirs) = (
        get(
            &process.collect_mut().unwrap(),
            "process.cpu.user_time",
            None,
        ) - ours_before,
        rusage_user_ms() - theirs_before,
    );
    println!("37 ms spin: user time +{ours:.3} ms, getrusage +{theirs:.3} ms");
    assert!(theirs >= 30.0, "the spin burned {theirs} ms");
    assert!(
        (ours - theirs).abs() <= 3.0,
        "+{ours} ms vs getrusage +{theirs} ms"
    );

    // 64 MiB touched page by page: at least 15 000 minor faults.
    let faults = |p: &mut ProcessMetrics| {
        get(
            &p.collect_mut().unwrap(),
            "process.paging.faults",
            Some(("type", "minor")),
        )
    };
    let before = faults(&mut process);
    let mut block = vec![0u8; 64 << 20];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    std::hint::black_box(&block);
    let minor = faults(&mut process) - before;
    println!("64 MiB touched: +{minor} minor faults");
    assert!(minor >= 15_000.0, "+{minor} minor faults");

    // Peak and current RSS, with the 64 MiB still resident.
    let sample = memory.collect_mut().unwrap();
    let (current, peak) = (
        get(&sample, "runtime.memory.rss", None),
        get(&sample, "runtime.memory.rss.peak", None),
    );
    assert!(
        // Within the kernel's lazily folded per-CPU RSS counts (a few hundred KiB).
        peak + (1 << 20) as f64 >= current && current >= (64 << 20) as f64,
        "peak {peak}, now {current}"
    );
    drop(block);

    // 50 short sleeps: at least 50 voluntary context switches.
    let switches = |p: &mut ProcessMetrics| {
        get(
            &p.collect_mut().unwrap(),
            "process.context_switches",
            Some(("type", "voluntary")),
        )
    };
    let before = switches(&mut process);
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let voluntary = switches(&mut process) - before;
    assert!(voluntary >= 50.0, "+{voluntary} voluntary switches");

    // 8 MiB written and fsynced to a file on disk: at least 8 MiB more written to storage.
    let written = |c: &mut ContainerMetrics| {
        get(
            &c.collect_mut().unwrap(),
            "process.disk.io",
            Some(("direction", "write")),
        )
    };
    let before = written(&mut container);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("srm-disk-io");
    {
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&vec![7u8; 8 << 20]).unwrap();
        file.sync_all().unwrap();
    }
    std::fs::remove_file(&path).unwrap();
    let bytes = written(&mut container) - before;
    println!("8 MiB written + fsync: +{bytes} bytes written to storage");
    assert!(bytes >= (8 << 20) as f64, "+{bytes} bytes");

    // Pressure: ratios in 0..1; CPU pressure rises under 4 spinning threads on 2 CPUs.
    let psi = |c: &mut ContainerMetrics| c.collect_mut().unwrap();
    let before = psi(&mut container);
    if !before.iter().any(|m| m.name == "process.pressure.cpu.some") {
        println!("no PSI on this kernel: pressure not checked");
        return;
    }
    for m in before.iter().filter(|m| m.unit.as_deref() == Some("ratio")) {
        assert!(
            (0.0..=1.0).contains(&m.value.as_f64()),
            "{} {}",
            m.name,
            m.value
        );
    }
    let running = Arc::new(AtomicBool::new(true));
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let running = running.clone();
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    spin(Duration::from_millis(10));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let during = psi(&mut container);
    running.store(false, Ordering::Relaxed);
    spinners.into_iter().for_each(|s| s.join().unwrap());
    let stall = |sample: &[RuntimeMetric]| get(sample, "process.pressure.cpu.stall_time", None);
    let some = |sample: &[RuntimeMetric]| get(sample, "process.pressure.cpu.some", None);
    let stalled_ms = stall(&during) - stall(&before);
    println!(
        "4 spinners, 2 s: cpu stall +{stalled_ms} ms, some avg10 {} -> {}",
        some(&before),
        some(&during)
    );
    // Two runnable threads more than CPUs for 2 s: something waited nearly all that time. (The
    // kernel recomputes `avg10` every 2 s, so within 2 s it may not have moved yet: the stall
    // time is what rises for sure.)
    assert!(stalled_ms >= 1000.0, "cpu stall +{stalled_ms} ms");
    assert!((0.0..=1.0).contains(&some(&during)));
}
