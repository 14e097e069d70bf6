//! Linux: `/proc/self` and cgroup files, read directly (one small read each, no directory walks).

pub(crate) mod cgroup;
pub(crate) mod cpus;
#[cfg(test)]
mod proptests;
pub(crate) mod stat;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::OnceLock;

use super::ProcessSnapshot;
use super::ffi;

/// Reads a small file into `buf`, returning the text. `/proc` files are generated on read, so
/// one `read` of a large enough buffer returns them whole.
pub(crate) fn read_small<'b>(path: &Path, buf: &'b mut [u8]) -> Option<&'b str> {
    CachedFile::open(path).read(buf)
}

/// A file opened once and re-read from offset 0 each time (`pread`): `/proc` and cgroup files
/// regenerate their content on every read, and skipping the path lookup of each `open` is most
/// of the cost of a collection.
#[derive(Debug)]
pub(crate) struct CachedFile {
    file: Option<File>,
}

impl CachedFile {
    pub(crate) fn open(path: &Path) -> Self {
        CachedFile {
            file: File::open(path).ok(),
        }
    }

    /// The whole current content as text, if it fits `buf` with room to spare (a full buffer
    /// may be a cut file, whose last number would be wrong). Bytes that are not UTF-8 become
    /// `?`: see [`text_of`].
    pub(crate) fn read<'b>(&self, buf: &'b mut [u8]) -> Option<&'b str> {
        let file = self.file.as_ref()?;
        let mut len = 0;
        while len < buf.len() {
            match file.read_at(&mut buf[len..], len as u64) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
        if len == buf.len() {
            return None;
        }
        Some(text_of(&mut buf[..len]))
    }

    /// `fstat` of the open file.
    pub(crate) fn size(&self) -> Option<u64> {
        Some(self.file.as_ref()?.metadata().ok()?.len())
    }
}

/// `bytes` as text, with every byte that is not part of valid UTF-8 replaced by `?` in place
/// (no allocation; the length and every ASCII byte stay as they were). A process name set with
/// `prctl` can hold any bytes but NUL, and must not make the whole of `/proc/self/stat`
/// unreadable; the kernel's numbers are always ASCII.
pub(crate) fn text_of(bytes: &mut [u8]) -> &str {
    let mut start = 0;
    while let Err(err) = std::str::from_utf8(&bytes[start..]) {
        let bad = start + err.valid_up_to();
        let end = bad + err.error_len().unwrap_or(bytes.len() - bad);
        bytes[bad..end].fill(b'?');
        start = end;
    }
    // Valid now: every invalid sequence was replaced by ASCII.
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// The `/proc/self` files the collectors read, opened once.
#[derive(Debug)]
pub(crate) struct ProcFiles {
    stat: CachedFile,
    fd_dir: CachedFile,
}

impl ProcFiles {
    pub(crate) fn open() -> Self {
        ProcFiles {
            stat: CachedFile::open(Path::new("/proc/self/stat")),
            fd_dir: CachedFile::open(Path::new("/proc/self/fd")),
        }
    }

    /// Threads, resident set and CPU times from one read of `/proc/self/stat`.
    pub(crate) fn snapshot(&self) -> ProcessSnapshot {
        let mut buf = [0u8; 2048];
        let Some(stat) = self.stat.read(&mut buf).and_then(stat::parse) else {
            return ProcessSnapshot::default();
        };
        let (page_size, ticks) = constants();
        #[allow(clippy::cast_precision_loss)] // Tick counts stay far below 2^53.
        let to_ms = |t: u64| ticks.map(|hz| t as f64 * 1000.0 / hz as f64);
        ProcessSnapshot {
            threads: Some(stat.num_threads),
            rss_bytes: page_size.and_then(|size| stat.rss_pages.checked_mul(size)),
            user_ms: to_ms(stat.utime_ticks),
            system_ms: to_ms(stat.stime_ticks),
            total_cpu_ms: stat
                .utime_ticks
                .checked_add(stat.stime_ticks)
                .and_then(to_ms),
        }
    }

    /// Open file descriptors (including the one this reads through). Since Linux 6.2 `fstat` of
    /// `/proc/self/fd` reports the count as its size, which costs the same with 10 or 10 000
    /// descriptors; older kernels report 0 and the directory is counted instead.
    pub(crate) fn open_fds(&self) -> Option<u64> {
        match self.fd_dir.size()? {
            0 => {
                let entries = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
                // The listing includes the descriptor `read_dir` itself had open.
                entries.checked_sub(1)
            }
            count => Some(count),
        }
    }
}

/// Page size and clock ticks never change while the process runs.
fn constants() -> (Option<u64>, Option<u64>) {
    static CONSTANTS: OnceLock<(Option<u64>, Option<u64>)> = OnceLock::new();
    *CONSTANTS.get_or_init(|| (ffi::page_size(), ffi::clock_ticks_per_second()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_fills_the_buffer_may_be_cut_and_is_not_read() {
        let path = std::env::temp_dir().join(format!("srm-full-{}", std::process::id()));
        let mut buf = [0u8; 16];
        std::fs::write(&path, "1234567890123456").unwrap();
        let full = read_small(&path, &mut buf).map(str::to_owned);
        std::fs::write(&path, "123456789012345").unwrap();
        let fits = read_small(&path, &mut buf).map(str::to_owned);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(full, None);
        assert_eq!(fits.as_deref(), Some("123456789012345"));
    }

    #[test]
    fn bytes_that_are_not_utf8_do_not_hide_the_numbers() {
        // A `/proc/self/stat` line whose command name holds bytes that are not UTF-8 (any bytes
        // but NUL are allowed there), including a truncated sequence at the end of the name.
        let mut line = b"4242 (bad \xff\xfe name \xe2\x82) S".to_vec();
        line.extend_from_slice(&b" 1".repeat(49));
        line.push(b'\n');
        let path = std::env::temp_dir().join(format!("srm-stat-{}", std::process::id()));
        std::fs::write(&path, &line).unwrap();
        let mut buf = [0u8; 1024];
        let text = read_small(&path, &mut buf).map(str::to_owned);
        std::fs::remove_file(&path).unwrap();
        let text = text.expect("read as text");
        assert!(text.starts_with("4242 (bad ?? name ??) S 1 1"), "{text:?}");
        let stat = stat::parse(&text).expect("parses");
        assert_eq!(stat.num_threads, 1);
    }
}
