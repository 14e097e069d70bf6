//! The process's own files in `/proc/self`, opened once, each read only for what is sent:
//! - `statm` for the resident set and its file-backed and shared part (2 µs; `stat` would be
//!   5 µs for the resident set alone);
//! - `fstat` of `task/` for the thread count (procfs gives the directory two links plus one per
//!   thread), checked once against `stat`'s count, which is read instead should they disagree;
//! - `fstat` of `fd/` for the open descriptors (Linux ≥ 6.2 gives the count as its size; older
//!   kernels give 0 and the directory is counted);
//! - `io` for the bytes read from and written to storage;
//! - `stat` and `/proc/uptime` once, for the start time;
//! - `status` (`VmHWM`) for the peak resident set, only while `getrusage`'s peak may be the
//!   parent's, and then only when the process may have grown since ([`PeakRss`]).

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::file::{CachedFile, read_once};
use super::peak::PeakRss;
use super::stat;
use crate::sys::ffi;
use crate::sys::readings::{DiskIo, Resident, Usage};

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
    peak: PeakRss,
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
            peak: PeakRss::new(),
        }
    }

    /// The peak resident set, given `getrusage`'s reading and the current resident set (see
    /// [`PeakRss`]).
    pub(crate) fn peak_rss(&self, usage: Usage, rss_now: Option<u64>) -> Option<u64> {
        self.peak.read(usage, rss_now)
    }

    /// Bytes of this process in RAM now, and how many of them are file-backed or shared.
    pub(crate) fn resident(&self) -> Option<Resident> {
        let (resident, shared) = opened(&self.statm, "/proc/self/statm").read(parse_statm)?;
        let page_size = self.page_size?;
        Some(Resident {
            bytes: resident.checked_mul(page_size)?,
            // Never above the whole: both are per-CPU counters summed one after the other.
            file_and_shared: shared
                .checked_mul(page_size)
                .map(|b| b.min(resident * page_size)),
        })
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

/// The second and third fields of `statm`: resident pages, and those of them that are
/// file-backed or shared memory (the kernel's `RssFile` + `RssShmem`; the rest, `RssAnon`, is
/// the heap, stacks and other anonymous memory).
pub(crate) fn parse_statm(text: &str) -> Option<(u64, u64)> {
    let mut fields = text.split_ascii_whitespace();
    let resident = fields.nth(1)?.parse().ok()?;
    let shared = fields.next()?.parse().ok()?;
    // `statm` has seven fields: a fourth proves the third was not cut short.
    fields.next()?;
    Some((resident, shared))
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
    use super::super::peak::parse_status_peak;
    use super::*;

    #[test]
    fn parses_statm_io_and_uptime() {
        assert_eq!(parse_statm("765 436 408 5 0 123 0\n"), Some((436, 408)));
        assert_eq!(parse_statm("765 436 40"), None, "cut");
        assert_eq!(parse_statm(""), None);
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
    fn reads_this_process() {
        let files = ProcFiles::open();
        assert!(files.io.get().is_none(), "opened when first read");
        assert!(files.threads().is_some_and(|n| n >= 1));
        assert!(
            matches!(files.threads.get(), Some(Threads::TaskLinks(_))),
            "task links agree with stat"
        );
        assert!(files.resident().map(|r| r.bytes).is_some_and(|b| b > 0));
        assert!(files.open_fds().is_some_and(|n| n > 0));
        let started = files.started_at().expect("a start time");
        assert!(started <= Instant::now());
        // The peak is this process's own (a test binary is started by cargo, whose pages
        // `getrusage` would count): about the current RSS at least (the kernel folds its
        // per-CPU RSS counts in lazily: a few hundred KiB either way while other tests
        // allocate), and at most the peak read after.
        let rss = files.resident().map(|r| r.bytes).unwrap();
        let peak = files.peak_rss(ffi::usage().unwrap(), Some(rss)).unwrap();
        let own = read_once(Path::new("/proc/self/status"), parse_status_peak).unwrap();
        assert!(
            rss <= peak + (1 << 20) && peak <= own,
            "rss {rss}, peak {peak}, VmHWM {own}"
        );
    }
}
