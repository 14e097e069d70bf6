//! Thread groups against what the kernel tells each thread of itself: CPU time and run-queue
//! wait of two threads pinned to one CPU (read by the threads from their own
//! `/proc/thread-self/schedstat`), an idle group, the sum of every group against `getrusage`,
//! the bound on groups, and threads that exit between rounds (Linux).
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // Tests fail loudly and report.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::collectors::ThreadGroupMetrics;
use sentry_runtime_metrics::{MetricCollector, RuntimeMetric};

/// One test at a time: each counts every thread of the process.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `(cpu ns, wait ns)` of the calling thread, from its own schedstat.
fn own_schedstat() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().unwrap());
    (fields.next().unwrap(), fields.next().unwrap())
}

/// User + system CPU time of the process (`getrusage`), ns.
fn rusage_ns() -> u64 {
    // SAFETY: an all-zero rusage is valid, and getrusage writes only into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid for writes for the whole call.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    (us(usage.ru_utime) + us(usage.ru_stime)) * 1000
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) {
    // SAFETY: cpu_set_t is a plain bit set; all-zero is empty, and CPU_SET writes inside it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (it comes from this process's affinity mask).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is valid for reads for the whole call; 0 is the calling thread.
    let result = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    assert_eq!(result, 0, "sched_setaffinity");
}

/// The first CPU the process may run on.
fn first_cpu() -> usize {
    // SAFETY: as in `pin_to`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid for writes for the whole call.
    assert_eq!(
        unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) },
        0
    );
    // SAFETY: `set` was filled above.
    (0..libc::CPU_SETSIZE as usize)
        .find(|cpu| unsafe { libc::CPU_ISSET(*cpu, &set) })
        .unwrap()
}

/// Sum of the values of `name` by `thread.group`.
fn by_group(metrics: &[RuntimeMetric], name: &str) -> BTreeMap<String, f64> {
    let mut groups = BTreeMap::new();
    for metric in metrics.iter().filter(|m| m.name == name) {
        let group = metric.tags.get("thread.group").unwrap().to_string();
        *groups.entry(group).or_insert(0.0) += metric.value.as_f64();
    }
    groups
}

fn within(value: f64, expected: f64, share: f64) -> bool {
    (value - expected).abs() <= share * expected
}

#[test]
fn two_threads_on_one_cpu_show_their_cpu_and_wait_and_an_idle_group_shows_none() {
    let _serial = serial();
    let mut groups = ThreadGroupMetrics::new();
    groups.collect_mut().unwrap();
    let cpu = first_cpu();
    let start = Arc::new(Barrier::new(3));
    let (report, reports) = mpsc::channel();
    let release = Arc::new(Barrier::new(4));
    let spinners: Vec<_> = (0..2)
        .map(|i| {
            let (start, report, release) = (start.clone(), report.clone(), release.clone());
            std::thread::Builder::new()
                .name(format!("srm-spin-{i}"))
                .spawn(move || {
                    pin_to(cpu);
                    start.wait();
                    let began = Instant::now();
                    while began.elapsed() < Duration::from_millis(600) {
                        std::hint::spin_loop();
                    }
                    report.send(own_schedstat()).unwrap();
                    release.wait();
                })
                .unwrap()
        })
        .collect();
    let idle = {
        let release = release.clone();
        std::thread::Builder::new()
            .name("srm-idle".into())
            .spawn(move || release.wait())
            .unwrap()
    };
    start.wait();
    let (a, b) = (reports.recv().unwrap(), reports.recv().unwrap());
    let metrics = groups.collect_mut().unwrap().metrics;
    release.wait();
    spinners.into_iter().for_each(|t| t.join().unwrap());
    idle.join().unwrap();

    let cpu_ms = by_group(&metrics, "process.thread_group.cpu_time");
    let wait_ms = by_group(&metrics, "process.thread_group.wait_time");
    let (own_cpu, own_wait) = ((a.0 + b.0) as f64 / 1e6, (a.1 + b.1) as f64 / 1e6);
    println!(
        "srm-spin: cpu {:?} ms (own {own_cpu} ms), wait {:?} ms (own {own_wait} ms); srm-idle cpu {:?}",
        cpu_ms.get("srm-spin"),
        wait_ms.get("srm-spin"),
        cpu_ms.get("srm-idle")
    );
    // Two threads sharing one CPU, each spinning for 600 ms: about 600 ms of CPU between them,
    // and each waits while the other runs.
    assert!(own_cpu > 400.0 && own_wait > 300.0, "{own_cpu} {own_wait}");
    assert!(within(cpu_ms["srm-spin"], own_cpu, 0.15), "{cpu_ms:?}");
    assert!(within(wait_ms["srm-spin"], own_wait, 0.15), "{wait_ms:?}");
    // The idle thread ran for microseconds: carried, not sent.
    assert!(
        cpu_ms.get("srm-idle").is_none_or(|ms| *ms < 2.0),
        "{cpu_ms:?}"
    );
}

#[test]
fn every_group_adds_up_to_the_process_cpu_time_and_exits_send_nothing_negative() {
    let _serial = serial();
    let mut groups = ThreadGroupMetrics::new();
    groups.collect_mut().unwrap();
    let before = rusage_ns();
    let mut total_ms = 0.0;
    for round in 0..5 {
        // Threads that burn 30 ms and exit before the round reads them: only `exited` has them.
        let workers: Vec<_> = (0..3)
            .map(|_| {
                std::thread::Builder::new()
                    .name("srm-brief".into())
                    .spawn(|| {
                        let began = Instant::now();
                        while began.elapsed() < Duration::from_millis(30) {
                            std::hint::spin_loop();
                        }
                    })
                    .unwrap()
            })
            .collect();
        if round % 2 == 0 {
            // Half the rounds read them alive, half after they exit.
            let metrics = groups.collect_mut().unwrap().metrics;
            for metric in &metrics {
                assert!(metric.value.as_f64() >= 0.0, "{metric:?}");
            }
            total_ms += by_group(&metrics, "process.thread_group.cpu_time")
                .values()
                .sum::<f64>();
        }
        workers.into_iter().for_each(|t| t.join().unwrap());
    }
    let metrics = groups.collect_mut().unwrap().metrics;
    for metric in &metrics {
        assert!(metric.value.as_f64() >= 0.0, "{metric:?}");
    }
    let cpu = by_group(&metrics, "process.thread_group.cpu_time");
    total_ms += cpu.values().sum::<f64>();
    let rusage_ms = (rusage_ns() - before) as f64 / 1e6;
    println!("groups {total_ms:.3} ms, getrusage {rusage_ms:.3} ms; last round {cpu:?}");
    // 15 threads spinning 30 ms each, three at a time; what is under 1 ms a group is carried,
    // and the readings are moments apart from getrusage's.
    assert!(rusage_ms > 200.0, "{rusage_ms}");
    assert!(
        (total_ms - rusage_ms).abs() <= 0.05 * rusage_ms + 5.0,
        "{total_ms} {rusage_ms}"
    );
}

#[test]
fn thirty_thread_names_stay_within_the_group_bound() {
    let _serial = serial();
    let stop = Arc::new(Barrier::new(31));
    let threads: Vec<_> = (0..30u8)
        .map(|i| {
            let stop = stop.clone();
            let name = format!(
                "srm-{}{}",
                char::from(b'a' + i / 26),
                char::from(b'a' + i % 26)
            );
            std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let began = Instant::now();
                    while began.elapsed() < Duration::from_millis(5) {
                        std::hint::spin_loop();
                    }
                    stop.wait();
                })
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let metrics = ThreadGroupMetrics::new()
        .max_groups(16)
        .collect_mut()
        .unwrap()
        .metrics;
    stop.wait();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let threads = by_group(&metrics, "process.thread_group.threads");
    let cpu = by_group(&metrics, "process.thread_group.cpu_time");
    println!("{} groups by threads: {threads:?}", threads.len());
    // 16 by name and `other` (`exited` sends no thread count).
    assert_eq!(threads.len(), 17, "{threads:?}");
    assert!(threads.contains_key("other"));
    assert!(cpu.len() <= 18, "{cpu:?}");
    // Every thread is counted once: in its group or in `other`.
    let counted: f64 = threads.values().sum();
    assert!(counted >= 31.0, "{counted}");
}
