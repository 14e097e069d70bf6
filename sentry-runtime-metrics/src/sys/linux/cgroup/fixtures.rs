//! Cgroup trees written as plain files for the unit tests of this module's readers.

use std::path::{Path, PathBuf};

use super::levels::Levels;

/// Writes `text` to the file `name` of `dir`, making `dir` first.
pub(super) fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

/// An empty temporary directory for the fixture `name` (unique to this test process).
pub(super) fn fixture(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("srm-cgroup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Levels with every parent in sight.
pub(super) fn seen(dirs: &[&Path]) -> Levels {
    Levels {
        dirs: dirs.iter().map(|dir| dir.to_path_buf()).collect(),
        hidden_above: false,
    }
}
