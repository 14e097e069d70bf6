//! The peak resident set. `getrusage`'s is one system call already made each round, but it
//! keeps, across `execve`, the peak of the image before it (the parent's pages between `fork`
//! and `exec`: some 80 MiB under `cargo run`); until this process's own peak passes that,
//! `VmHWM` of `/proc/self/status` is read instead, and only when the process may have grown.

use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::file::{CachedFile, read_once};
use crate::sync::lock;
use crate::sys::ffi;
use crate::sys::readings::Usage;

/// How long a `VmHWM` read is taken as the peak while no page fault says the process grew:
/// a bound for the growth that needs no fault of this process (`khugepaged` filling a huge page).
const OWN_PEAK_KEPT: Duration = Duration::from_secs(1);

/// Reads the peak resident set: from `getrusage` once it is this process's own, from `VmHWM`
/// until then.
#[derive(Debug)]
pub(crate) struct PeakRss {
    /// `ru_maxrss` (bytes) as it was at startup, when it was higher than this process's own
    /// peak: the peak of the image before `execve`, which `getrusage` keeps. 0 otherwise.
    inherited: u64,
    status: OnceLock<CachedFile>,
    /// The last `VmHWM` read, while the peak is read there.
    last: Mutex<Option<OwnPeak>>,
}

/// A `VmHWM` read, and what `getrusage` said before it.
#[derive(Clone, Copy, Debug)]
struct OwnPeak {
    bytes: u64,
    /// Page faults (minor and major) counted before the read.
    faults: u64,
    at: Instant,
}

impl PeakRss {
    pub(crate) fn new() -> Self {
        PeakRss {
            inherited: inherited_peak(),
            status: OnceLock::new(),
            last: Mutex::new(None),
        }
    }

    /// The peak resident set, given `getrusage`'s reading (`usage`) and the current resident set
    /// (`rss_now`, if known). `getrusage`'s peak keeps, across `execve`, the peak of the image
    /// before it (the parent's pages between `fork` and `exec`: some 80 MiB under `cargo run`),
    /// so it is this process's own only once it is above what it was at startup. Until then the
    /// peak is `VmHWM` of `/proc/self/status`, the current image's: 2 µs more a round, which
    /// services started by a small parent never pay. And only when the process may have grown
    /// since the last read: resident pages come from page faults (`getrusage` counts them, in
    /// every thread, even those `mmap(MAP_POPULATE)` and `mlock` take), so while none was
    /// counted and the resident set is not above it, `VmHWM` is what it was. Growth without a
    /// fault of this process (`khugepaged` filling a huge page) is caught by the resident set
    /// if it stays, and by reading again after [`OWN_PEAK_KEPT`] if it went.
    pub(crate) fn read(&self, usage: Usage, rss_now: Option<u64>) -> Option<u64> {
        if usage.max_rss_bytes > self.inherited {
            return Some(usage.max_rss_bytes);
        }
        let faults = usage.minor_faults.saturating_add(usage.major_faults);
        let mut last = lock(&self.last);
        if let Some(peak) = *last
            && peak.faults == faults
            && rss_now.is_some_and(|rss| rss <= peak.bytes)
            && peak.at.elapsed() < OWN_PEAK_KEPT
        {
            return Some(peak.bytes);
        }
        let bytes = self
            .status
            .get_or_init(|| CachedFile::open(Path::new("/proc/self/status")))
            .read(parse_status_peak);
        *last = bytes.map(|bytes| OwnPeak {
            bytes,
            faults,
            at: Instant::now(),
        });
        bytes
    }
}

/// `getrusage`'s peak at startup if it is above this process's own (`VmHWM`): inherited.
fn inherited_peak() -> u64 {
    let Some(usage) = ffi::usage() else {
        return 0;
    };
    let own = read_once(Path::new("/proc/self/status"), parse_status_peak).unwrap_or(0);
    if usage.max_rss_bytes > own {
        usage.max_rss_bytes
    } else {
        0
    }
}

/// `VmHWM` of `/proc/self/status` (`VmHWM:   1992 kB`), in bytes.
pub(crate) fn parse_status_peak(text: &str) -> Option<u64> {
    let line = text.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_peak_of_status() {
        let status = "Name:\tx\nVmPeak:\t  10 kB\nVmHWM:\t    1992 kB\nVmRSS:\t 1990 kB\n";
        assert_eq!(parse_status_peak(status), Some(1992 * 1024));
        assert_eq!(
            parse_status_peak("VmHWM:\t 19"),
            None,
            "cut before the unit"
        );
        assert_eq!(parse_status_peak("VmRSS:\t 1 kB\n"), None);
    }

    #[test]
    fn the_own_peak_is_read_again_once_the_process_grew() {
        // As if `getrusage`'s peak were inherited: the peak comes from `VmHWM`.
        let peak = PeakRss {
            inherited: u64::MAX,
            ..PeakRss::new()
        };
        let files = super::super::process::ProcFiles::open();
        let hwm = || read_once(Path::new("/proc/self/status"), parse_status_peak).unwrap();
        let usage = ffi::usage().unwrap();
        let first = peak.read(usage, files.resident().map(|r| r.bytes)).unwrap();
        assert!(first <= hwm());
        // No fault counted since, the resident set not above it: the same reading, not read.
        assert_eq!(peak.read(usage, Some(first)), Some(first));

        // 64 MiB touched page by page: faults, and a higher `VmHWM` the peak must follow.
        let mut block = vec![0u8; 64 << 20];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&block);
        let before = hwm();
        assert!(before > first, "VmHWM {before} did not pass {first}");
        // The faults alone say so (the resident set given is not above the last reading).
        let grown = peak.read(ffi::usage().unwrap(), Some(first)).unwrap();
        assert!(
            (before..=hwm()).contains(&grown),
            "peak {grown}, VmHWM {before}"
        );
        // A resident set above the last reading is read again even without a fault counted.
        let higher = peak.read(usage, Some(u64::MAX)).unwrap();
        assert!(higher >= grown);
        drop(block);
    }
}
