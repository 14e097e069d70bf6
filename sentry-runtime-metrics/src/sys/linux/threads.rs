//! The threads of this process, each with its CPU time and run-queue wait: the list from
//! `/proc/self/task`, each thread's `schedstat` (nanoseconds on a CPU, nanoseconds waiting on a
//! run queue, timeslices), its name from `comm`.
//!
//! A thread's `schedstat` is opened when the thread is first seen and re-read with one `pread`
//! each round, for the first threads up to an eighth of the process's descriptor limit and
//! [`MAX_OPEN`] at most (128 under the common soft limit of 1 024); past that, it is opened,
//! read and closed each round, so a process with 10 000 threads does not hold 10 000 more
//! descriptors. A read
//! that fails means the thread exited: it is forgotten (its id, if reused, is a new thread).
//! The name is read when the thread is first seen and once more the round after, since a
//! thread names itself just after it starts (`std::thread::Builder::name`, Tokio and rayon do)
//! and may be seen in between. Without `schedstat` (a kernel without `CONFIG_SCHED_INFO`), the
//! CPU time comes from `stat` (clock ticks) and there is no wait.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::file::{CachedFile, read_once};
use crate::sys::ffi;

/// Most `schedstat` files kept open (one per thread, for the first threads seen): an eighth of
/// the descriptors the process may open (`RLIMIT_NOFILE`'s soft limit), at most this many.
pub(crate) const MAX_OPEN: usize = 1024;

/// Files kept open at most, in a process whose soft limit on descriptors is `soft_limit`
/// (`None`: unlimited).
fn open_bound(soft_limit: Option<u64>) -> usize {
    let eighth = soft_limit.map_or(MAX_OPEN as u64, |limit| limit / 8);
    usize::try_from(eighth).map_or(MAX_OPEN, |eighth| eighth.min(MAX_OPEN))
}

/// One thread's totals since it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ThreadTimes {
    /// Time on a CPU, nanoseconds.
    pub(crate) cpu_ns: u64,
    /// Time ready to run and waiting on a run queue, nanoseconds (`None` without `schedstat`).
    pub(crate) wait_ns: Option<u64>,
}

/// A thread as the table knows it.
#[derive(Debug)]
struct Known {
    name: String,
    /// Its `schedstat` (or `stat`), when kept open.
    file: Option<CachedFile>,
    /// Whether its name was read again, the round after it was first seen.
    name_settled: bool,
    /// The round it was last listed in.
    listed: u64,
}

/// The threads seen so far, and how to read them. A clone keeps no file open (it reads each
/// thread's file with an `open` each time).
#[derive(Debug)]
pub(crate) struct ThreadTable {
    known: HashMap<u32, Known>,
    open: usize,
    /// Most files kept open.
    max_open: usize,
    round: u64,
    /// Whether threads have `schedstat`; `None` until the first is read.
    schedstat: Option<bool>,
    /// Nanoseconds per clock tick, for `stat` without `schedstat`.
    ns_per_tick: Option<u64>,
    /// The thread ids of the last listing (kept to reuse its allocation).
    tids: Vec<u32>,
    /// The path of a file of a thread whose files are not kept open (reused).
    path: String,
}

impl Clone for ThreadTable {
    fn clone(&self) -> Self {
        let known = self
            .known
            .iter()
            .map(|(tid, known)| {
                let copy = Known {
                    name: known.name.clone(),
                    file: None,
                    name_settled: known.name_settled,
                    listed: known.listed,
                };
                (*tid, copy)
            })
            .collect();
        ThreadTable {
            known,
            open: 0,
            max_open: self.max_open,
            round: self.round,
            schedstat: self.schedstat,
            ns_per_tick: self.ns_per_tick,
            tids: Vec::new(),
            path: String::new(),
        }
    }
}

impl Default for ThreadTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ThreadTable {
    pub(crate) fn new() -> Self {
        ThreadTable {
            known: HashMap::new(),
            open: 0,
            max_open: open_bound(ffi::nofile_soft_limit()),
            round: 0,
            schedstat: None,
            ns_per_tick: ffi::clock_ticks_per_second()
                .filter(|ticks| *ticks <= 1_000_000_000)
                .map(|ticks| 1_000_000_000 / ticks),
            tids: Vec::new(),
            path: String::new(),
        }
    }

    /// Reads every thread of the process, calling `each` with its id, name and totals; `false`
    /// if the list of threads cannot be read (nothing is called then).
    pub(crate) fn read(&mut self, mut each: impl FnMut(u32, &str, ThreadTimes)) -> bool {
        let mut tids = std::mem::take(&mut self.tids);
        tids.clear();
        if !ffi::for_each_thread_id(|tid| tids.push(tid)) {
            self.tids = tids;
            return false;
        }
        self.round += 1;
        let round = self.round;
        for &tid in &tids {
            let Some(times) = self.times(tid) else {
                // Exited between the listing and the read.
                self.forget(tid);
                continue;
            };
            let known = self.known.get_mut(&tid).map(|known| {
                known.listed = round;
                if !known.name_settled {
                    known.name_settled = true;
                    if let Some(name) = read_name(tid) {
                        known.name = name;
                    }
                }
                &known.name
            });
            if let Some(name) = known {
                each(tid, name, times);
            }
        }
        // Threads not listed any more exited: their files are closed, their ids forgotten.
        let before = self.known.len();
        self.known.retain(|_, known| known.listed == round);
        if self.known.len() != before {
            self.open = self
                .known
                .values()
                .filter(|known| known.file.is_some())
                .count();
        }
        self.tids = tids;
        true
    }

    /// How many files are kept open.
    #[cfg(test)]
    pub(crate) fn open_files(&self) -> usize {
        self.open
    }

    /// The totals of thread `tid`, first seen now or known; `None` if it exited.
    fn times(&mut self, tid: u32) -> Option<ThreadTimes> {
        let schedstat = *self
            .schedstat
            .get_or_insert_with(|| task_file(tid, "schedstat").exists());
        let ns_per_tick = self.ns_per_tick;
        let parse = |text: &str| {
            if schedstat {
                parse_schedstat(text)
            } else {
                parse_stat_cpu(text, ns_per_tick?)
            }
        };
        let file_name = if schedstat { "schedstat" } else { "stat" };
        if let Some(known) = self.known.get(&tid) {
            return match &known.file {
                Some(file) => file.read(parse),
                None => {
                    let path = &mut self.path;
                    path.clear();
                    let _ = write!(path, "/proc/self/task/{tid}/{file_name}");
                    read_once(Path::new(path.as_str()), parse)
                }
            };
        }
        // First seen: its name, and its file kept open while there is room.
        let name = read_name(tid)?;
        let (times, file) = if self.open < self.max_open {
            let file = task_file(tid, file_name);
            (file.read(parse)?, Some(file))
        } else {
            (read_once(&task_path(tid, file_name), parse)?, None)
        };
        self.open += usize::from(file.is_some());
        self.known.insert(
            tid,
            Known {
                name,
                file,
                name_settled: false,
                listed: self.round,
            },
        );
        Some(times)
    }

    fn forget(&mut self, tid: u32) {
        if let Some(known) = self.known.remove(&tid) {
            self.open -= usize::from(known.file.is_some());
        }
    }
}

fn task_path(tid: u32, file: &str) -> PathBuf {
    PathBuf::from(format!("/proc/self/task/{tid}/{file}"))
}

fn task_file(tid: u32, file: &str) -> CachedFile {
    CachedFile::open(&task_path(tid, file))
}

/// The thread's name (`comm`, at most 15 bytes), without its newline.
fn read_name(tid: u32) -> Option<String> {
    read_once(&task_path(tid, "comm"), |text| {
        Some(text.strip_suffix('\n').unwrap_or(text).to_owned())
    })
}

/// `schedstat`: `<ns on a CPU> <ns waiting on a run queue> <timeslices>`.
pub(crate) fn parse_schedstat(text: &str) -> Option<ThreadTimes> {
    let mut fields = text.split_ascii_whitespace();
    let cpu_ns = fields.next()?.parse().ok()?;
    let wait_ns = fields.next()?.parse().ok()?;
    Some(ThreadTimes {
        cpu_ns,
        wait_ns: Some(wait_ns),
    })
}

/// `utime + stime` of a thread's `stat` (fields 14 and 15, after the name in parentheses, which
/// may hold spaces and parentheses itself), in nanoseconds.
pub(crate) fn parse_stat_cpu(text: &str, ns_per_tick: u64) -> Option<ThreadTimes> {
    let after_name = &text[text.rfind(')')? + 1..];
    // Fields from the third (state) on: utime and stime are the 14th and 15th.
    let mut fields = after_name.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(ThreadTimes {
        cpu_ns: utime.checked_add(stime)?.checked_mul(ns_per_tick)?,
        wait_ns: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schedstat_and_stat() {
        assert_eq!(
            parse_schedstat("123456789 2345 17\n"),
            Some(ThreadTimes {
                cpu_ns: 123_456_789,
                wait_ns: Some(2345)
            })
        );
        assert_eq!(parse_schedstat("12 x 1\n"), None);
        assert_eq!(parse_schedstat("12\n"), None);
        let stat = "4242 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 3 0 100 0 0\n";
        assert_eq!(
            parse_stat_cpu(stat, 10_000_000),
            Some(ThreadTimes {
                cpu_ns: 3_000_000_000,
                wait_ns: None
            })
        );
        assert_eq!(parse_stat_cpu("4242 (x) S 1", 10_000_000), None);
    }

    #[test]
    #[allow(clippy::panic)]
    fn reads_every_thread_and_forgets_those_that_exit() {
        let mut table = ThreadTable::new();
        let (started, stop) = (
            std::sync::mpsc::channel::<()>(),
            std::sync::mpsc::channel::<()>(),
        );
        let (ready, wait_ready) = started;
        let (stop_tx, stop_rx) = stop;
        let thread = std::thread::Builder::new()
            .name("srm-table-test".into())
            .spawn(move || {
                ready.send(()).unwrap();
                stop_rx.recv().unwrap();
            })
            .unwrap();
        wait_ready.recv().unwrap();
        let mut seen = Vec::new();
        assert!(table.read(|tid, name, _| seen.push((tid, name.to_owned()))));
        let (tid, _) = seen
            .iter()
            .find(|(_, name)| name == "srm-table-test")
            .cloned()
            .unwrap_or_else(|| panic!("{seen:?}"));
        assert!(table.open_files() <= MAX_OPEN);
        assert_eq!(open_bound(Some(1024)), 128);
        assert_eq!(open_bound(Some(1 << 20)), MAX_OPEN);
        assert_eq!(open_bound(None), MAX_OPEN);
        assert_eq!(open_bound(Some(16)), 2);
        assert!(
            table
                .known
                .get(&tid)
                .is_some_and(|known| known.file.is_some())
        );
        stop_tx.send(()).unwrap();
        thread.join().unwrap();
        let mut listed = Vec::new();
        table.read(|tid, _, _| listed.push(tid));
        assert!(!listed.contains(&tid), "an exited thread is not listed");
        assert!(!table.known.contains_key(&tid), "nor kept");
        assert_eq!(
            table.open_files(),
            table
                .known
                .values()
                .filter(|known| known.file.is_some())
                .count()
        );
    }
}
