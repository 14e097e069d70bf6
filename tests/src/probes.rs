//! What this process holds right now, read from `/proc/self` (Linux): threads by name, open
//! descriptors, resident memory. The tests check the library against these, never against
//! the library's own numbers.

/// Names of this process's threads, from `/proc/self/task/*/comm` (the kernel keeps the first
/// 15 bytes of a name).
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|comm| comm.trim_end().to_owned())
        .collect()
}

/// Whether a thread name (as the kernel keeps it) is one of this library's: the sampler
/// (`sentry-runtime-metrics`) or a worker running collectors (`sentry-rtm-collector`).
pub fn is_library_thread(name: &str) -> bool {
    matches!(name, "sentry-runtime-" | "sentry-rtm-coll")
}

/// How many threads of this library are alive.
pub fn library_threads() -> usize {
    thread_names()
        .iter()
        .filter(|name| is_library_thread(name))
        .count()
}

/// Open file descriptors of this process (not counting the one that lists them).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
        .saturating_sub(1)
}

/// Resident set size of this process in KiB (`VmRSS` of `/proc/self/status`); `None` if it
/// cannot be read.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
