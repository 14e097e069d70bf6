//! Where a process's cgroup of one hierarchy is, and which directories' limits apply to it: its
//! own cgroup and every ancestor up to the root it can see (a limit set on a parent, as with a
//! systemd slice's `MemoryMax` or a pod around a container, bounds the child too).

use std::path::{Path, PathBuf};

use super::mounts::Mount;

/// The directories whose limits apply to a cgroup, as far as they are in sight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Levels {
    /// Nearest first: the own cgroup, then each parent up to the mount point.
    pub(crate) dirs: Vec<PathBuf>,
    /// Whether cgroups above the last of `dirs` may set limits that are not in sight: the mount
    /// shows one cgroup (a container's, bind-mounted) or the root of a cgroup namespace, not
    /// the hierarchy's real root.
    pub(crate) hidden_above: bool,
}

/// The levels of cgroup `path` (from `/proc/self/cgroup`) under `mount`. The hierarchy's real
/// root (a mount of the whole hierarchy, seen from the initial namespace) is left out: no limit
/// can be set there. A cgroup the mount does not show at its path (a container whose own
/// cgroup is mounted, seen through a path the mount does not explain) is taken to be the mount
/// point itself, with every ancestor out of sight.
pub(crate) fn levels(mount: &Mount, path: &str, initial_namespace: bool) -> Levels {
    let own = mount.dir_of(path).filter(|dir| dir.is_dir());
    let Some(own) = own else {
        return if mount.point.is_dir() {
            Levels {
                dirs: vec![mount.point.clone()],
                hidden_above: true,
            }
        } else {
            Levels::default()
        };
    };
    let mut dirs: Vec<PathBuf> = own
        .ancestors()
        .take_while(|dir| dir.starts_with(&mount.point))
        .map(Path::to_path_buf)
        .collect();
    let real_root = mount.shows_root() && initial_namespace;
    if real_root {
        dirs.retain(|dir| *dir != mount.point);
    }
    Levels {
        dirs,
        hidden_above: !real_root,
    }
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
        let mount = Mount::whole(&root);
        let found = levels(&mount, "/slice/app.service", true);
        assert_eq!(
            found.dirs,
            [root.join("slice/app.service"), root.join("slice")],
            "the real root is left out"
        );
        assert!(!found.hidden_above);
        // In a namespace of its own the mount root is a container's cgroup: kept.
        let namespaced = levels(&mount, "/slice/app.service", false);
        assert_eq!(namespaced.dirs.last(), Some(&root));
        assert!(namespaced.hidden_above);
        assert!(levels(&mount, "/", true).dirs.is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_bind_mounted_container_cgroup_and_one_nested_in_it() {
        let root = tree("bind", &["docker/inner"]);
        let mount = Mount {
            point: root.clone(),
            root: "/docker/outer".to_owned(),
        };
        let outer = levels(&mount, "/docker/outer", true);
        assert_eq!(
            outer.dirs,
            std::slice::from_ref(&root),
            "the mount point is kept"
        );
        assert!(outer.hidden_above, "the pod or slice above is out of sight");
        let inner = levels(&mount, "/docker/outer/docker/inner", true);
        assert_eq!(
            inner.dirs,
            [root.join("docker/inner"), root.join("docker"), root.clone()],
            "Docker in Docker: the inner container first"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_cgroup_the_mount_does_not_explain_is_the_mount_point() {
        let root = tree("container", &[""]);
        let found = levels(&Mount::whole(&root), "/docker/abc", true);
        assert_eq!(found.dirs, std::slice::from_ref(&root));
        assert!(found.hidden_above);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            levels(&Mount::whole(&root), "/docker/abc", true),
            Levels::default(),
            "no hierarchy"
        );
    }
}
