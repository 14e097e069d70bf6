//! Reading `/proc` and cgroup files the cheap way: each opened once and re-read from offset 0
//! with one `pread` per read. These files are generated on read, in full, so one read into a
//! buffer larger than the file returns all of it; skipping the path lookup of an `open` each
//! time is most of the cost. A read that fills the buffer may be a cut file, whose last number
//! would be wrong: it is read again into a buffer twice as large.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Stack buffer for one read: larger than every file read each round (`memory.stat`, the
/// largest, is 1 to 3 KiB).
const FIRST_READ: usize = 4096;
/// Largest file read; beyond it the file is not read.
const LARGEST: usize = 1 << 20;

/// A file opened once; `None` inside if it could not be opened (it does not exist: no value).
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

    /// Whether the file could be opened.
    pub(crate) fn exists(&self) -> bool {
        self.file.is_some()
    }

    /// Reads the whole current content and hands it to `parse` as text (bytes that are not UTF-8
    /// become `?`: see [`text_of`]).
    pub(crate) fn read<R>(&self, parse: impl FnOnce(&str) -> Option<R>) -> Option<R> {
        let file = self.file.as_ref()?;
        let mut buf = [0u8; FIRST_READ];
        if let Some(len) = read_whole(file, &mut buf) {
            return parse(text_of(&mut buf[..len]));
        }
        let mut size = 2 * FIRST_READ;
        while size <= LARGEST {
            let mut buf = vec![0u8; size];
            if let Some(len) = read_whole(file, &mut buf) {
                return parse(text_of(&mut buf[..len]));
            }
            size *= 2;
        }
        None
    }

    /// `fstat` of the open file.
    pub(crate) fn metadata(&self) -> Option<std::fs::Metadata> {
        self.file.as_ref()?.metadata().ok()
    }
}

/// Reads a file that is read once (opened, read, closed).
pub(crate) fn read_once<R>(path: &Path, parse: impl FnOnce(&str) -> Option<R>) -> Option<R> {
    CachedFile::open(path).read(parse)
}

/// One `pread` at offset 0; the length read, unless it filled `buf` (the file may be longer).
fn read_whole(file: &File, buf: &mut [u8]) -> Option<usize> {
    loop {
        match file.read_at(buf, 0) {
            Ok(len) if len < buf.len() => return Some(len),
            Ok(_) => return None,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, content: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("srm-{name}-{}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn a_file_larger_than_the_first_buffer_is_read_whole() {
        // Exactly the first buffer's size (full: maybe cut), and more.
        for len in [FIRST_READ - 1, FIRST_READ, 3 * FIRST_READ + 5] {
            let content: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let path = temp(&format!("big{len}"), content.as_bytes());
            let read = read_once(&path, |text| Some(text.to_owned()));
            std::fs::remove_file(&path).unwrap();
            assert_eq!(read.as_deref(), Some(content.as_str()), "{len} bytes");
        }
    }

    #[test]
    fn a_missing_file_gives_nothing() {
        let file = CachedFile::open(Path::new("/nonexistent/srm"));
        assert!(!file.exists());
        assert_eq!(file.read(|text| Some(text.len())), None);
    }

    #[test]
    fn bytes_that_are_not_utf8_do_not_hide_the_numbers() {
        let path = temp("utf8", b"4242 (bad \xff\xfe name \xe2\x82) S 1\n");
        let text = read_once(&path, |text| Some(text.to_owned()));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(text.as_deref(), Some("4242 (bad ?? name ??) S 1\n"));
    }
}
