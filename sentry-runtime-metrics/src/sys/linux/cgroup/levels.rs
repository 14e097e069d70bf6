//! Where a process's cgroup of one hierarchy is, and which directories' limits apply to it: its
//! own cgroup and every ancestor up to the root it can see (a limit set on a parent, as with a
//! systemd slice's `MemoryMax` or a pod around a container, bounds the child too).

use std::path::{Path, PathBuf};

/// The directories whose limits apply, nearest first. `mount` is the hierarchy's mount point,
/// `path` the process's cgroup in it (from `/proc/self/cgroup`). The root of a hierarchy seen
/// from the initial namespace is left out: no limit can be set there. A cgroup that is not
/// under the mount at its path (a container whose own cgroup is mounted at the root) is the
/// mount root itself, with no ancestor in sight.
pub(crate) fn levels(mount: &Path, path: &str, initial_namespace: bool) -> Vec<PathBuf> {
    let relative = path.trim_start_matches('/');
    let own = mount.join(relative);
    if !own.is_dir() {
        return if mount.is_dir() {
            vec![mount.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let mut levels: Vec<PathBuf> = own
        .ancestors()
        .take_while(|dir| dir.starts_with(mount))
        .map(Path::to_path_buf)
        .collect();
    if initial_namespace {
        levels.retain(|dir| dir != mount);
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(name: &str, dirs: &[&str]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("srm-levels-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in dirs {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        root
    }

    #[test]
    fn own_cgroup_and_its_ancestors_nearest_first() {
        let root = tree("walk", &["slice/app.service"]);
        let levels = levels(&root, "/slice/app.service", true);
        assert_eq!(
            levels,
            [root.join("slice/app.service"), root.join("slice")],
            "the real root is left out"
        );
        // In a namespace of its own the mount root is a container's cgroup: kept.
        let namespaced = super::levels(&root, "/slice/app.service", false);
        assert_eq!(namespaced.last(), Some(&root));
        assert_eq!(super::levels(&root, "/", true), Vec::<PathBuf>::new());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_container_mounted_at_its_own_cgroup_is_the_mount_root() {
        let root = tree("container", &[""]);
        assert_eq!(
            levels(&root, "/docker/abc", true),
            std::slice::from_ref(&root)
        );
        std::fs::remove_dir_all(&root).unwrap();
        assert!(
            levels(&root, "/docker/abc", true).is_empty(),
            "no hierarchy"
        );
    }
}
