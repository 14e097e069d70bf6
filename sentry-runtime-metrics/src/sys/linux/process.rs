//! The process's own files in `/proc/self`, opened once, each read only for what is sent:
//! - `statm` for the resident set (2 µs; `stat` would be 5 µs for it);
//! - `fstat` of `task/` for the thread count (procfs gives the directory two links plus one per
//!   thread), checked once against `stat`'s count, which is read instead should they disagree;
//! - `fstat` of `fd/` for the open descriptors (Linux ≥ 6.2 gives the count as its size; older
//!   kernels give 0 and the directory is counted);
//! - `io` for the bytes read from and written to storage;
//! - `stat` and `/proc/uptime` once, for the start time;
//! - `status` (`VmHWM`) for the peak resident set, only while `getrusage`'s peak may be the
//!   parent's, and then only when the process may have grown since (see [`ProcFiles::peak_rss`]).

use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::file::{CachedFile, read_once};
use super::stat;
use crate::sync::lock;
use crate::sys::ffi;
use crate::sys::readings::{DiskIo, Usage};

/// How long a `VmHWM` read is taken as the peak while no page fault says the process grew:
/// a bound for the growth that needs no fault of this process (`khugepaged` filling a huge page).
const OWN_PEAK_KEPT: Duration = Duration::from_secs(1);

/// How the thread count is read.
#[derive(Debug)]
enum Threads {
    /// From the link count of `task/`, which agreed with `stat` when checked.
    TaskLinks(CachedFile),
    /// From `stat`, read each time.
    Stat(CachedFile),
}

#[derive(Debug)]
pub(crate) struct ProcFiles {
    // Each opened the first time its value is asked for: a process that does not collect a
    // value holds no descriptor for it.
    statm: OnceLock<CachedFile>,
    threads: OnceLock<Threads>,
    fd_dir: OnceLock<CachedFile>,
    io: OnceLock<CachedFile>,
    started_at: Option<Instant>,
    page_size: Option<u64>,
    /// `ru_maxrss` (bytes) as it was at startup, when it was higher than this process's own
    /// peak: the peak of the image before `execve`, which `getrusage` keeps. 0 otherwise.
    inherited_peak: u64,
    status: OnceLock<CachedFile>,
    /// The last `VmHWM` read, while the peak is read there.
    own_peak: Mutex<Option<OwnPeak>>,
}

/// A `VmHWM` read, and what `getrusage` said before it.
#[derive(Clone, Copy, Debug)]
struct OwnPeak {
    bytes: u64,
    /// Page faults (minor and major) counted before the read.
    faults: u64,
    at: Instant,
}

impl ProcFiles {
    pub(crate) fn open() -> Self {
        let stat = read_once(Path::new("/proc/self/stat"), stat::parse);
        ProcFiles {
            statm: OnceLock::new(),
            threads: OnceLock::new(),
            fd_dir: OnceLock::new(),
            io: OnceLock::new(),
            started_at: stat.and_then(|stat| started_at(stat.start_ticks)),
            page_size: ffi::page_size(),
            inherited_peak: inherited_peak(),
            status: OnceLock::new(),
            own_peak: Mutex::new(None),
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
    pub(crate) fn peak_rss(&self, usage: Usage, rss_now: Option<u64>) -> Option<u64> {
        if usage.max_rss_bytes > self.inherited_peak {
            return Some(usage.max_rss_bytes);
        }
        let faults = usage.minor_faults.saturating_add(usage.major_faults);
        let mut last = lock(&self.own_peak);
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

    /// Bytes of this process in RAM now.
    pub(crate) fn rss_bytes(&self) -> Option<u64> {
        let pages = opened(&self.statm, "/proc/self/statm").read(parse_statm_resident)?;
        pages.checked_mul(self.page_size?)
    }

    pub(crate) fn threads(&self) -> Option<u64> {
        let threads = self.threads.get_or_init(|| {
            let task_dir = CachedFile::open(Path::new("/proc/self/task"));
            if links_agree_with_stat(&task_dir) {
                Threads::TaskLinks(task_dir)
            } else {
                Threads::Stat(CachedFile::open(Path::new("/proc/self/stat")))
            }
        });
        match threads {
            Threads::TaskLinks(task_dir) => task_links(task_dir),
            Threads::Stat(file) => file.read(stat::parse).map(|stat| stat.num_threads),
        }
    }

    /// Open file descriptors (including the one this reads through).
    pub(crate) fn open_fds(&self) -> Option<u64> {
        match opened(&self.fd_dir, "/proc/self/fd").metadata()?.len() {
            0 => {
                let entries = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
                // The listing includes the descriptor `read_dir` itself had open.
                entries.checked_sub(1)
            }
            count => Some(count),
        }
    }

    pub(crate) fn disk_io(&self) -> Option<DiskIo> {
        opened(&self.io, "/proc/self/io").read(parse_io)
    }

    /// When the process started (its own start, not this integration's).
    pub(crate) fn started_at(&self) -> Option<Instant> {
        self.started_at
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

/// Whether the link count of `task/` is the thread count `stat` gives. Threads may start or end
/// between the reads: only a count that held still around the `stat` read is compared, a few
/// times at most.
fn links_agree_with_stat(task_dir: &CachedFile) -> bool {
    for _ in 0..5 {
        let before = task_links(task_dir);
        let stat = read_once(Path::new("/proc/self/stat"), stat::parse);
        let after = task_links(task_dir);
        if before.is_some() && before == after {
            return stat.is_some_and(|stat| Some(stat.num_threads) == before);
        }
    }
    false
}

/// Threads from the link count of `task/`: two links plus one per thread.
fn task_links(task_dir: &CachedFile) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    task_dir
        .metadata()?
        .nlink()
        .checked_sub(2)
        .filter(|n| *n > 0)
}

/// The process's start as an `Instant`: now minus its age, which is the time since boot
/// (`/proc/uptime`) minus its start in clock ticks since boot (`stat` field 22). (`Instant`
/// does not count time suspended; a server is not suspended.)
fn started_at(start_ticks: u64) -> Option<Instant> {
    let since_boot = read_once(Path::new("/proc/uptime"), parse_uptime)?;
    let hz = ffi::clock_ticks_per_second()?;
    #[allow(clippy::cast_precision_loss)] // Ticks since boot stay far below 2^53.
    let started = Duration::try_from_secs_f64(start_ticks as f64 / hz as f64).ok()?;
    Instant::now().checked_sub(since_boot.checked_sub(started)?)
}

/// The second field of `statm`: resident pages.
pub(crate) fn parse_statm_resident(text: &str) -> Option<u64> {
    let mut fields = text.split_ascii_whitespace();
    let resident = fields.nth(1)?.parse().ok()?;
    // `statm` has seven fields: a third proves the second was not cut short.
    fields.next()?;
    Some(resident)
}

/// The file in `slot`, opened at `path` the first time.
fn opened<'a>(slot: &'a OnceLock<CachedFile>, path: &str) -> &'a CachedFile {
    slot.get_or_init(|| CachedFile::open(Path::new(path)))
}

/// `read_bytes` and `write_bytes` of `/proc/self/io` (`key: value` per line).
pub(crate) fn parse_io(text: &str) -> Option<DiskIo> {
    let text = super::cgroup::parse::whole(text)?;
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|value| value.trim().parse().ok())
    };
    // The last line is `cancelled_write_bytes`: if it is there, the others were not cut.
    value("cancelled_write_bytes")?;
    Some(DiskIo {
        read_bytes: value("read_bytes")?,
        write_bytes: value("write_bytes")?,
    })
}

/// The first field of `/proc/uptime`: seconds since boot.
pub(crate) fn parse_uptime(text: &str) -> Option<Duration> {
    let mut fields = text.split_ascii_whitespace();
    let seconds: f64 = fields.next()?.parse().ok()?;
    // Two fields: the first was not cut short.
    fields.next()?;
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_statm_io_and_uptime() {
        assert_eq!(parse_statm_resident("765 436 408 5 0 123 0\n"), Some(436));
        assert_eq!(parse_statm_resident("765 43"), None, "cut");
        assert_eq!(parse_statm_resident(""), None);
        let io = "rchar: 6976\nwchar: 10\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\n\
                  write_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(
            parse_io(io),
            Some(DiskIo {
                read_bytes: 4096,
                write_bytes: 8192
            })
        );
        assert_eq!(
            parse_io(&io[..io.find("write_bytes: 8").unwrap() + 14]),
            None
        );
        assert_eq!(
            parse_io("read_bytes: x\nwrite_bytes: 1\ncancelled_write_bytes: 0\n"),
            None
        );
        assert_eq!(
            parse_uptime("8135.11 10094.31\n"),
            Some(Duration::from_millis(8_135_110))
        );
        assert_eq!(parse_uptime("8135.1"), None);
    }

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
        let files = ProcFiles {
            inherited_peak: u64::MAX,
            ..ProcFiles::open()
        };
        let hwm = || read_once(Path::new("/proc/self/status"), parse_status_peak).unwrap();
        let usage = ffi::usage().unwrap();
        let first = files.peak_rss(usage, files.rss_bytes()).unwrap();
        assert!(first <= hwm());
        // No fault counted since, the resident set not above it: the same reading, not read.
        assert_eq!(files.peak_rss(usage, Some(first)), Some(first));

        // 64 MiB touched page by page: faults, and a higher `VmHWM` the peak must follow.
        let mut block = vec![0u8; 64 << 20];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&block);
        let before = hwm();
        assert!(before > first, "VmHWM {before} did not pass {first}");
        // The faults alone say so (the resident set given is not above the last reading).
        let grown = files.peak_rss(ffi::usage().unwrap(), Some(first)).unwrap();
        assert!(
            (before..=hwm()).contains(&grown),
            "peak {grown}, VmHWM {before}"
        );
        // A resident set above the last reading is read again even without a fault counted.
        let higher = files.peak_rss(usage, Some(u64::MAX)).unwrap();
        assert!(higher >= grown);
        drop(block);
    }

    #[test]
    fn reads_this_process() {
        let files = ProcFiles::open();
        assert!(files.io.get().is_none(), "opened when first read");
        assert!(files.threads().is_some_and(|n| n >= 1));
        assert!(
            matches!(files.threads.get(), Some(Threads::TaskLinks(_))),
            "task links agree with stat"
        );
        assert!(files.rss_bytes().is_some_and(|b| b > 0));
        assert!(files.open_fds().is_some_and(|n| n > 0));
        let started = files.started_at().expect("a start time");
        assert!(started <= Instant::now());
        // The peak is this process's own (a test binary is started by cargo, whose pages
        // `getrusage` would count): about the current RSS at least (the kernel folds its
        // per-CPU RSS counts in lazily: a few hundred KiB either way while other tests
        // allocate), and at most the peak read after.
        let rss = files.rss_bytes().unwrap();
        let peak = files.peak_rss(ffi::usage().unwrap(), Some(rss)).unwrap();
        let own = read_once(Path::new("/proc/self/status"), parse_status_peak).unwrap();
        assert!(
            rss <= peak + (1 << 20) && peak <= own,
            "rss {rss}, peak {peak}, VmHWM {own}"
        );
    }
}
