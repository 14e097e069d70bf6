//! Following the process to wherever its cgroups are now. A process can be moved to another
//! cgroup while it runs (`systemd-run --scope`, a supervisor, a Kubernetes in-place resize that
//! re-creates files), and the files of its old cgroup would go on giving the old limits. So
//! `/proc/self/cgroup` is read again (one `pread`): every round while the container collector
//! runs, otherwise once a minute; and the cgroups are found again from scratch once a minute
//! anyway, which also picks up files the kernel re-created when a controller was turned off and
//! on, and a limit file that appeared on a level that had none.
//!
//! Readings name the cgroup they come from ([`CgroupId`](crate::sys::readings::CgroupId)), so
//! the same cgroup found again goes on where it was, and the totals of another one are never
//! subtracted from the old one's.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Cgroup;
use crate::sync::lock;
use crate::sys::platform::file::CachedFile;

/// How often the cgroups are found again even when the process did not move.
pub(crate) const LOCATE_AGAIN: Duration = Duration::from_secs(60);

/// The process's cgroups, found again when it moved.
pub(crate) struct FollowedCgroup {
    membership: CachedFile,
    locate: fn(&str) -> Cgroup,
    state: Mutex<State>,
}

struct State {
    cgroup: Arc<Cgroup>,
    /// The membership text the cgroups were found from.
    membership: String,
    checked: Instant,
    located: Instant,
}

impl std::fmt::Debug for FollowedCgroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowedCgroup").finish_non_exhaustive()
    }
}

impl FollowedCgroup {
    /// This process's cgroups.
    pub(crate) fn of_this_process() -> Self {
        Self::new(Path::new("/proc/self/cgroup"), Cgroup::of_this_process)
    }

    /// The cgroups `locate` finds for the membership in the file at `membership`.
    pub(crate) fn new(membership: &Path, locate: fn(&str) -> Cgroup) -> Self {
        let file = CachedFile::open(membership);
        let text = file.read(|text| Some(text.to_owned())).unwrap_or_default();
        let now = Instant::now();
        FollowedCgroup {
            state: Mutex::new(State {
                cgroup: Arc::new(locate(&text)),
                membership: text,
                checked: now,
                located: now,
            }),
            membership: file,
            locate,
        }
    }

    /// Where the process's cgroups are: the membership is read again if the last look is
    /// `look_after` old or older, and the cgroups are found again if it changed (or a minute
    /// has passed).
    pub(crate) fn current(&self, look_after: Duration) -> Arc<Cgroup> {
        let mut state = lock(&self.state);
        let now = Instant::now();
        if now.duration_since(state.checked) >= look_after {
            state.checked = now;
            // Allocates only when the membership changed.
            let moved = self
                .membership
                .read(|text| Some((text != state.membership).then(|| text.to_owned())));
            let moved = moved.flatten();
            let stale = now.duration_since(state.located) >= LOCATE_AGAIN;
            if moved.is_some() || stale {
                if let Some(text) = moved {
                    state.membership = text;
                }
                state.located = now;
                state.cgroup = Arc::new((self.locate)(&state.membership));
            }
        }
        state.cgroup.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::mounts::Mounts;
    use std::path::PathBuf;

    use super::super::parse_membership;
    use super::*;

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("srm-followed-{name}-{}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn fixture() -> PathBuf {
        std::env::temp_dir().join(format!("srm-followed-tree-{}", std::process::id()))
    }

    fn locate(membership: &str) -> Cgroup {
        Cgroup::locate(
            &Mounts::usual(&fixture()),
            &parse_membership(membership),
            true,
        )
    }

    #[test]
    fn a_moved_process_reads_its_new_cgroup() {
        let root = fixture();
        let _ = std::fs::remove_dir_all(&root);
        for (dir, limit) in [("a", "33554432\n"), ("b", "268435456\n")] {
            let dir = root.join("memory").join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("memory.limit_in_bytes"), limit).unwrap();
        }
        let membership = temp_file("moved", "4:memory:/a\n");
        let followed = FollowedCgroup::new(&membership, locate);
        let limit = |look_after| followed.current(look_after).memory_limit().map(|l| l.bytes);
        assert_eq!(limit(Duration::ZERO), Some(32 << 20));
        std::fs::write(&membership, "4:memory:/b\n").unwrap();
        assert_eq!(
            limit(Duration::from_secs(3600)),
            Some(32 << 20),
            "not looked at again yet"
        );
        assert_eq!(limit(Duration::ZERO), Some(256 << 20), "found in /b");
        let before = followed.current(Duration::ZERO);
        assert!(
            Arc::ptr_eq(&before, &followed.current(Duration::ZERO)),
            "not found again without a move"
        );
        std::fs::remove_file(membership).unwrap();
        std::fs::remove_dir_all(root).unwrap();
    }
}
