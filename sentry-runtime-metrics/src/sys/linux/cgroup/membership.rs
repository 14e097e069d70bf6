//! `/proc/self/cgroup`: which cgroup of each hierarchy the process is in, and whether the
//! process sees the whole hierarchy or a cgroup namespace's part of it.

use std::path::Path;

/// The inode of the initial cgroup namespace (`PROC_CGROUP_INIT_INO` in the kernel's
/// `proc_ns.h`): a process in it sees the hierarchies from their real root.
const INITIAL_NAMESPACE: &str = "cgroup:[4026531835]";

/// The membership lines of `/proc/self/cgroup`: the unified (v2) path and v1 controller paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Membership {
    pub(crate) unified: Option<String>,
    pub(crate) v1: Vec<(String, String)>,
}

impl Membership {
    /// The path of v1 `controller`, if the process is in a v1 hierarchy that has it.
    pub(crate) fn v1_path(&self, controller: &str) -> Option<&str> {
        self.v1
            .iter()
            .find(|(name, _)| name == controller)
            .map(|(_, path)| path.as_str())
    }
}

/// Parses `/proc/self/cgroup` (`hierarchy-id:controllers:path` per line).
pub(crate) fn parse_membership(text: &str) -> Membership {
    let mut membership = Membership::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            membership.unified = Some(path.to_owned());
        } else {
            for controller in controllers.split(',').filter(|c| !c.is_empty()) {
                membership.v1.push((controller.to_owned(), path.to_owned()));
            }
        }
    }
    membership
}

/// Whether this process is in the initial cgroup namespace, so the root of a mounted hierarchy
/// is its real root, where no limit can be set. (Inside a container with a namespace of its
/// own, the mount root is the container's cgroup, with its limits.)
pub(crate) fn in_initial_namespace() -> bool {
    std::fs::read_link(Path::new("/proc/self/ns/cgroup"))
        .is_ok_and(|link| link.as_os_str() == INITIAL_NAMESPACE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_membership_of_v1_v2_and_hybrid_hosts() {
        let hybrid = "9:name=systemd:/\n4:memory:/svc/abc\n1:cpu,cpuacct:/svc\n0::/\n";
        let m = parse_membership(hybrid);
        assert_eq!(m.unified.as_deref(), Some("/"));
        assert_eq!(m.v1_path("memory"), Some("/svc/abc"));
        assert_eq!(m.v1_path("cpuacct"), Some("/svc"));
        assert_eq!(m.v1_path("pids"), None);
        let v2 = parse_membership("0::/system.slice/app.service\n");
        assert_eq!(v2.unified.as_deref(), Some("/system.slice/app.service"));
        assert!(v2.v1.is_empty());
    }

    #[test]
    fn this_machine_has_a_cgroup_namespace_link() {
        // Whatever the namespace, the link is readable and the answer consistent.
        assert_eq!(in_initial_namespace(), in_initial_namespace());
    }
}
