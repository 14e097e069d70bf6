//! `runtime.memory.rss.anon` and `runtime.memory.rss.file` against `RssAnon` and `RssFile` +
//! `RssShmem` of `/proc/self/status` (Linux), after touching 64 MiB of heap and mapping 64 MiB
//! of a file. One test in its own binary: another test touching memory at the same time would
//! move both.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use std::io::Write;
use std::os::fd::AsRawFd;

use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::MemoryMetrics;

const MIB: f64 = (1 << 20) as f64;

/// (anon, file) as sent.
fn split(collector: &MemoryMetrics) -> (f64, f64) {
    let metrics = collector.collect();
    let get = |name: &str| {
        let metric = metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{name} is sent on Linux: {metrics:#?}"));
        assert_eq!(metric.unit.as_deref(), Some("byte"));
        metric.value.as_f64()
    };
    let rss = get("runtime.memory.rss");
    let (anon, file) = (
        get("runtime.memory.rss.anon"),
        get("runtime.memory.rss.file"),
    );
    assert_eq!(
        anon + file,
        rss,
        "the two parts make the whole of the same reading"
    );
    (anon, file)
}

/// (RssAnon, RssFile + RssShmem) of `/proc/self/status`, in bytes.
fn status_split() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib = |key: &str| -> f64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{key} in {status}"))
            * 1024.0
    };
    (kib("RssAnon:"), kib("RssFile:") + kib("RssShmem:"))
}

/// Ours and the kernel's, read one right after the other: within 2 MiB (the kernel sums its
/// per-CPU resident counters only approximately, and the harness's threads allocate).
fn assert_agree(collector: &MemoryMetrics, when: &str) -> (f64, f64) {
    let (anon, file) = split(collector);
    let (status_anon, status_file) = status_split();
    assert!(
        (anon - status_anon).abs() <= 2.0 * MIB && (file - status_file).abs() <= 2.0 * MIB,
        "{when}: ours anon {anon} file {file}, status anon {status_anon} file {status_file}"
    );
    (anon, file)
}

#[test]
fn the_resident_split_follows_heap_and_mapped_file_like_proc_status() {
    let collector = MemoryMetrics::new();
    let (anon_0, file_0) = assert_agree(&collector, "at the start");

    // 64 MiB of heap, every page touched: anonymous memory.
    let mut heap = vec![0u8; 64 << 20];
    for page in heap.chunks_mut(4096) {
        page[0] = 1;
    }
    let (anon_1, file_1) = assert_agree(&collector, "after the heap");
    assert!(
        anon_1 - anon_0 >= 60.0 * MIB,
        "anon rose by {}",
        anon_1 - anon_0
    );
    assert!(
        (file_1 - file_0).abs() < 8.0 * MIB,
        "file moved by {}",
        file_1 - file_0
    );

    // 64 MiB of a file, mapped and every page read: file-backed memory, not the heap.
    let path = std::env::temp_dir().join(format!("srm-rss-split-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..64 {
        file.write_all(&chunk).unwrap();
    }
    file.sync_all().unwrap();
    let length = 64usize << 20;
    // SAFETY: a private read-only mapping of a file this test owns and keeps open, of its
    // whole length; unmapped below, and only read in between.
    let mapped = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            length,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        )
    };
    assert_ne!(mapped, libc::MAP_FAILED);
    let mut sum = 0u64;
    for offset in (0..length).step_by(4096) {
        // SAFETY: inside the mapping made above.
        sum += u64::from(unsafe { std::ptr::read_volatile(mapped.cast::<u8>().add(offset)) });
    }
    assert_eq!(sum, 7 * (length as u64 / 4096));
    let (anon_2, file_2) = assert_agree(&collector, "after the mapped file");
    assert!(
        file_2 - file_1 >= 60.0 * MIB,
        "file rose by {}",
        file_2 - file_1
    );
    assert!(
        (anon_2 - anon_1).abs() < 8.0 * MIB,
        "anon moved by {}",
        anon_2 - anon_1
    );
    println!(
        "anon {:.1} -> {:.1} -> {:.1} MiB, file {:.1} -> {:.1} -> {:.1} MiB",
        anon_0 / MIB,
        anon_1 / MIB,
        anon_2 / MIB,
        file_0 / MIB,
        file_1 / MIB,
        file_2 / MIB
    );

    // SAFETY: the mapping made above, of that length, no longer read.
    assert_eq!(unsafe { libc::munmap(mapped, length) }, 0);
    drop(file);
    std::fs::remove_file(&path).unwrap();
    std::hint::black_box(&heap);
}
