//! The only system calls this crate makes directly (everything else is file reads). Each `unsafe`
//! block is a plain libc call with out-parameters owned by the caller.

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
    let pid = libc::pid_t::try_from(std::process::id()).ok()?;
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
