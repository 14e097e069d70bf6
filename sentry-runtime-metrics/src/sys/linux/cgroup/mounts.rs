//! Where the cgroup hierarchies are mounted (`/proc/self/mountinfo`), and which cgroup each
//! mount shows at its mount point. A container without a cgroup namespace of its own sees its
//! own cgroup (`/docker/abc`) bind-mounted at `/sys/fs/cgroup/memory`: its parents (the pod, the
//! slice) are not in sight, and the process's path must be taken relative to that root, or a
//! nested container (Docker in Docker: `/docker/outer/docker/inner` under a mount of
//! `/docker/outer`) would be read as the outer one.

use std::path::{Path, PathBuf};

/// One mounted hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Where it is mounted (`/sys/fs/cgroup/memory`).
    pub(crate) point: PathBuf,
    /// The cgroup shown at the mount point, as `/proc/self/cgroup` spells paths (`/` for the
    /// hierarchy's root, `/docker/abc` for a bind mount of a container's cgroup).
    pub(crate) root: String,
}

impl Mount {
    /// A mount of the whole hierarchy at `point`.
    pub(crate) fn whole(point: impl Into<PathBuf>) -> Self {
        Mount {
            point: point.into(),
            root: "/".to_owned(),
        }
    }

    /// The directory of cgroup `path` under this mount, if the mount shows it: `path` relative
    /// to the mount's root. `None` for a cgroup outside what the mount shows.
    pub(crate) fn dir_of(&self, path: &str) -> Option<PathBuf> {
        let root = self.root.trim_end_matches('/');
        let rest = path.strip_prefix(root)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None; // `/docker/abcdef` is not under `/docker/abc`.
        }
        Some(self.point.join(rest.trim_start_matches('/')))
    }

    /// Whether the mount point is the hierarchy's root (not a bind mount of one cgroup).
    pub(crate) fn shows_root(&self) -> bool {
        self.root == "/"
    }
}

/// The hierarchies this process's built-in collectors read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mounts {
    /// The unified (v2) hierarchy.
    pub(crate) unified: Option<Mount>,
    /// The v1 hierarchy with the `memory` controller.
    pub(crate) memory: Option<Mount>,
    /// The v1 hierarchy with the `cpu` controller (alone or co-mounted, as `cpu,cpuacct` or
    /// `cpuset,cpu,cpuacct`).
    pub(crate) cpu: Option<Mount>,
    /// The v1 hierarchy with the `pids` controller.
    pub(crate) pids: Option<Mount>,
    /// Whether the unified hierarchy is mounted with `pids_localevents` (Linux 6.12+): its
    /// `pids.events` then counts the refusals of a cgroup's own tasks, as before 6.12.
    pub(crate) pids_local_events: bool,
}

impl Mounts {
    /// The mounts of this process: from `/proc/self/mountinfo`; where that names no cgroup
    /// mount, the usual places under `/sys/fs/cgroup`.
    pub(crate) fn of_this_process() -> Self {
        let mounts = super::super::file::read_once(Path::new("/proc/self/mountinfo"), |text| {
            Some(parse_mountinfo(text))
        })
        .unwrap_or_default();
        if mounts == Mounts::default() {
            Mounts::usual(Path::new("/sys/fs/cgroup"))
        } else {
            mounts
        }
    }

    /// The places systemd and container runtimes mount the hierarchies under `root`, each
    /// taken to show its hierarchy's root.
    pub(crate) fn usual(root: &Path) -> Self {
        let v1 = |names: &[&str]| {
            names
                .iter()
                .map(|name| root.join(name))
                .find(|dir| dir.is_dir())
                .map(Mount::whole)
        };
        Mounts {
            unified: [root.to_path_buf(), root.join("unified")]
                .into_iter()
                .find(|mount| mount.join("cgroup.controllers").is_file())
                .map(Mount::whole),
            memory: v1(&["memory"]),
            cpu: v1(&["cpu", "cpu,cpuacct", "cpuacct,cpu"]),
            pids: v1(&["pids"]),
            pids_local_events: false,
        }
    }
}

/// Parses `/proc/self/mountinfo`: `id parent major:minor root point options [tags] - type
/// source super-options` per line. The first mount of each hierarchy wins.
pub(crate) fn parse_mountinfo(text: &str) -> Mounts {
    let mut mounts = Mounts::default();
    for line in text.lines() {
        let Some((before, after)) = line.split_once(" - ") else {
            continue;
        };
        let mut fields = before.split(' ');
        let (Some(root), Some(point)) = (fields.nth(3), fields.next()) else {
            continue;
        };
        let mut after = after.split(' ');
        let (Some(fs_type), Some(options)) = (after.next(), after.nth(1)) else {
            continue;
        };
        let mount = || Mount {
            point: PathBuf::from(unescape(point)),
            root: unescape(root),
        };
        let has = |controller: &str| options.split(',').any(|option| option == controller);
        match fs_type {
            "cgroup2" if mounts.unified.is_none() => {
                mounts.unified = Some(mount());
                mounts.pids_local_events = has("pids_localevents");
            }
            "cgroup" => {
                if has("memory") && mounts.memory.is_none() {
                    mounts.memory = Some(mount());
                }
                if has("cpu") && mounts.cpu.is_none() {
                    mounts.cpu = Some(mount());
                }
                if has("pids") && mounts.pids.is_none() {
                    mounts.pids = Some(mount());
                }
            }
            _ => {}
        }
    }
    mounts
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\134` for a backslash).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 4)
            .filter(|_| bytes[i] == b'\\')
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_v1_and_v2_mounts_of_a_hybrid_host() {
        let text = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
";
        let mounts = parse_mountinfo(text);
        assert_eq!(
            mounts.cpu,
            Some(Mount::whole("/sys/fs/cgroup/cpu,cpuacct")),
            "cpuacct alone is not cpu; the optional `shared:` tag is skipped"
        );
        assert_eq!(mounts.memory, Some(Mount::whole("/sys/fs/cgroup/memory")));
        assert_eq!(mounts.unified, Some(Mount::whole("/sys/fs/cgroup/unified")));
        assert!(!mounts.pids_local_events);
        let local = parse_mountinfo(
            "29 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate,pids_localevents\n",
        );
        assert!(local.pids_local_events, "the super options say it");
    }

    #[test]
    fn a_container_without_a_namespace_sees_its_own_cgroup_bind_mounted() {
        let text = "\
700 650 0:32 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
701 650 0:29 /docker/abc /sys/fs/cgroup/cpuset,cpu,cpuacct ro - cgroup cgroup rw,cpuset,cpu,cpuacct
";
        let mounts = parse_mountinfo(text);
        let memory = mounts.memory.unwrap();
        assert!(!memory.shows_root());
        assert_eq!(
            memory.dir_of("/docker/abc"),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        // Docker in Docker: the inner container under the outer one's mount.
        assert_eq!(
            memory.dir_of("/docker/abc/docker/inner"),
            Some(PathBuf::from("/sys/fs/cgroup/memory/docker/inner"))
        );
        assert_eq!(memory.dir_of("/docker/abcdef"), None, "a sibling");
        assert_eq!(memory.dir_of("/"), None, "above the mount");
        assert_eq!(
            mounts.cpu.map(|m| m.point),
            Some(PathBuf::from("/sys/fs/cgroup/cpuset,cpu,cpuacct"))
        );
        assert_eq!(mounts.unified, None);
    }

    #[test]
    fn whole_hierarchy_paths() {
        let mount = Mount::whole("/sys/fs/cgroup");
        assert_eq!(mount.dir_of("/"), Some(PathBuf::from("/sys/fs/cgroup")));
        assert_eq!(
            mount.dir_of("/a/b"),
            Some(PathBuf::from("/sys/fs/cgroup/a/b"))
        );
    }

    #[test]
    fn escapes_and_garbage() {
        let text = "1 0 0:1 /with\\040space /mnt/cg\\134x rw - cgroup2 none rw\n\
                    garbage\n2 0 0:2 - cgroup\n";
        let unified = parse_mountinfo(text).unified.unwrap();
        assert_eq!(unified.root, "/with space");
        assert_eq!(unified.point, PathBuf::from("/mnt/cg\\x"));
        assert_eq!(parse_mountinfo(""), Mounts::default());
        assert_eq!(unescape("\\04"), "\\04", "a cut escape stays as it is");
    }

    #[test]
    fn this_machine_has_its_mounts_found() {
        // Whatever the host, finding them never panics, and a found v1 memory mount exists.
        let mounts = Mounts::of_this_process();
        if let Some(memory) = mounts.memory {
            assert!(memory.point.is_dir());
        }
    }
}
