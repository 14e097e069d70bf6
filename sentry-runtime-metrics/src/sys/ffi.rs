//! The only system calls this crate makes directly (everything else is file reads). Each `unsafe`
//! block is a plain libc call with out-parameters owned by the caller.

use crate::sys::readings::Usage;

/// Bytes per memory page (`sysconf(_SC_PAGESIZE)`).
pub(crate) fn page_size() -> Option<u64> {
    // SAFETY: sysconf only reads a constant of the C library; no pointers are involved.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|size| *size > 0)
}

/// Clock ticks per second, the unit of CPU times in `/proc` (`sysconf(_SC_CLK_TCK)`).
pub(crate) fn clock_ticks_per_second() -> Option<u64> {
    // SAFETY: as above, sysconf reads a constant and takes no pointers.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|ticks| *ticks > 0)
}

/// `getrusage(RUSAGE_SELF)`: one system call for CPU times with microsecond precision, page
/// faults, context switches and the peak resident set; `None` if it fails or returns what cannot
/// be (a negative count).
pub(crate) fn usage() -> Option<Usage> {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid for writes for the whole call.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let count = |value: libc::c_long| u64::try_from(value).ok();
    let micros = |time: libc::timeval| {
        let seconds = u64::try_from(time.tv_sec).ok()?;
        let micros = u64::try_from(time.tv_usec).ok()?;
        seconds.checked_mul(1_000_000)?.checked_add(micros)
    };
    // Linux reports the peak in KiB, macOS in bytes.
    let max_rss_unit = if cfg!(target_vendor = "apple") {
        1
    } else {
        1024
    };
    Some(Usage {
        user_us: micros(usage.ru_utime)?,
        system_us: micros(usage.ru_stime)?,
        minor_faults: count(usage.ru_minflt)?,
        major_faults: count(usage.ru_majflt)?,
        voluntary_switches: count(usage.ru_nvcsw)?,
        involuntary_switches: count(usage.ru_nivcsw)?,
        max_rss_bytes: count(usage.ru_maxrss)?.checked_mul(max_rss_unit)?,
    })
}

/// The soft limit of `RLIMIT_NOFILE`; `None` when unlimited or unreadable.
pub(crate) fn nofile_soft_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, exclusively borrowed rlimit for the duration of the call.
    let result = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    if result != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    #[allow(clippy::useless_conversion)] // `rlim_t` is not `u64` on every Unix.
    u64::try_from(limit.rlim_cur).ok()
}

/// CPUs in the process's affinity mask: its main thread's (the process id is the main thread's
/// id), not the calling thread's, which a thread-per-core runtime pins to one CPU.
#[cfg(target_os = "linux")]
pub(crate) fn affinity_cpus() -> Option<u64> {
    // The process id, asked once (each `getpid` is a system call); a child forked from this
    // process that goes on collecting without `exec` would ask about its parent.
    static PID: std::sync::OnceLock<Option<libc::pid_t>> = std::sync::OnceLock::new();
    let pid = (*PID.get_or_init(|| libc::pid_t::try_from(std::process::id()).ok()))?;
    // SAFETY: cpu_set_t is a plain bit array; all-zero is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid for writes of `size_of::<cpu_set_t>()` bytes for the whole call.
    let result =
        unsafe { libc::sched_getaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if result != 0 {
        return None;
    }
    // SAFETY: `set` was filled by the successful call above.
    let count = unsafe { libc::CPU_COUNT(&set) };
    u64::try_from(count).ok().filter(|count| *count > 0)
}

/// Calls `each` with the id of every thread of this process (the entries of `/proc/self/task`),
/// reading the directory with `readdir`, which allocates nothing per entry (`std::fs::read_dir`
/// allocates a name for each); `false` if the directory cannot be opened.
#[cfg(target_os = "linux")]
pub(crate) fn for_each_thread_id(mut each: impl FnMut(u32)) -> bool {
    const TASKS: &std::ffi::CStr = c"/proc/self/task";
    // SAFETY: `TASKS` is a valid NUL-terminated path that outlives the call.
    let dir = unsafe { libc::opendir(TASKS.as_ptr()) };
    if dir.is_null() {
        return false;
    }
    loop {
        // SAFETY: `dir` is the open directory stream from above, used by this thread only.
        let entry = unsafe { libc::readdir(dir) };
        if entry.is_null() {
            break;
        }
        // SAFETY: a non-null `readdir` result points to a valid entry, whose `d_name` is a
        // NUL-terminated name, until the next `readdir` or `closedir` on `dir`.
        let name = unsafe { std::ffi::CStr::from_ptr((*entry).d_name.as_ptr()) };
        if let Some(tid) = name.to_str().ok().and_then(|name| name.parse().ok()) {
            each(tid);
        }
    }
    // SAFETY: `dir` is open, and not used after this.
    unsafe { libc::closedir(dir) };
    true
}
