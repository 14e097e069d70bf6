//! Cgroup trees written as files, read as a process in them would.

use super::*;
use crate::sys::findings::{Availability, Findings};
use crate::sys::readings::{Scope, SetBy};
use fixtures::{fixture, write};

#[test]
fn reads_a_v2_layout_from_files() {
    let root = fixture("mod-v2");
    write(&root, "cgroup.controllers", "cpu memory io\n");
    let dir = root.join("app.slice");
    write(&dir, "cgroup.controllers", "cpu memory\n");
    write(&dir, "memory.max", "1073741824\n");
    write(&dir, "memory.current", "268435456\n");
    write(
        &dir,
        "memory.stat",
        "anon 100\nfile 2000\ninactive_file 67108864\n",
    );
    write(
        &dir,
        "memory.events",
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    );
    write(&dir, "cpu.max", "200000 100000\n");
    write(
        &dir,
        "cpu.pressure",
        "some avg10=1.00 avg60=0 avg300=0 total=7\nfull avg10=0.50 avg60=0 avg300=0 total=3\n",
    );
    let cgroup = Cgroup::locate(
        &Mounts::usual(&root),
        &parse_membership("0::/app.slice\n"),
        true,
    );
    let limit = cgroup.memory_limit().unwrap();
    assert_eq!(limit.bytes, 1 << 30);
    assert_eq!(cgroup.working_set(limit), Some((256 - 64) << 20));
    assert_eq!(
        (cgroup.limit_hits(limit), cgroup.oom_kills().map(|(_, k)| k)),
        (Some(3), Some(1))
    );
    assert_eq!(cgroup.cpu_quota().map(|q| q.cpus), Some(2.0));
    let cpu = cgroup.pressure(Resource::Cpu).unwrap();
    assert_eq!((cpu.scope(), cpu.cgroup), (Scope::Cgroup, cgroup_id(&dir)));
    assert_eq!(
        cpu.pressure.full.map(|f| f.avg10),
        Some(0.005),
        "a cgroup's CPU full line counts"
    );
    // `max` means no limit; files are re-read every time.
    write(&dir, "memory.max", "max\n");
    assert_eq!(cgroup.memory_limit(), None);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn reads_a_v1_layout_mounted_at_the_container_root() {
    let root = fixture("mod-v1");
    // Inside a container, the controller directory is the cgroup itself.
    write(&root.join("memory"), "memory.limit_in_bytes", "536870912\n");
    write(&root.join("memory"), "memory.usage_in_bytes", "134217728\n");
    write(
        &root.join("memory"),
        "memory.stat",
        "cache 9\ninactive_file 1\ntotal_inactive_file 33554432\n",
    );
    write(&root.join("memory"), "memory.failcnt", "4\n");
    write(&root.join("cpu,cpuacct"), "cpu.cfs_quota_us", "50000\n");
    write(&root.join("cpu,cpuacct"), "cpu.cfs_period_us", "100000\n");
    let membership = parse_membership("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n");
    let cgroup = Cgroup::locate(&Mounts::usual(&root), &membership, true);
    let limit = cgroup.memory_limit().unwrap();
    assert_eq!(limit.bytes, 512 << 20);
    assert_eq!(cgroup.working_set(limit), Some((128 - 32) << 20));
    assert_eq!(cgroup.limit_hits(limit), Some(4));
    assert_eq!(cgroup.cpu_quota().map(|q| q.cpus), Some(0.5));
    assert_eq!(
        cgroup.pressure(Resource::Cpu).map(|p| p.scope()),
        Path::new("/proc/pressure/cpu")
            .exists()
            .then_some(Scope::System)
    );
    write(
        &root.join("memory"),
        "memory.limit_in_bytes",
        "9223372036854771712\n",
    );
    assert_eq!(cgroup.memory_limit(), None);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn docker_in_docker_reads_the_inner_container_and_the_pod_limit_out_of_sight() {
    let root = fixture("mod-dind");
    let outer = root.join("memory");
    let inner = outer.join("docker/inner");
    write(&outer, "memory.limit_in_bytes", "1073741824\n");
    write(
        &outer.join("docker"),
        "memory.limit_in_bytes",
        "9223372036854771712\n",
    );
    write(&inner, "memory.limit_in_bytes", "536870912\n");
    write(
        &inner,
        "memory.oom_control",
        "oom_kill_disable 0\noom_kill 2\n",
    );
    write(
        &inner,
        "memory.stat",
        "hierarchical_memory_limit 268435456\ntotal_inactive_file 0\n",
    );
    let mounts = Mounts {
        memory: Some(mounts::Mount {
            point: outer.clone(),
            root: "/docker/outer".to_owned(),
        }),
        ..Mounts::default()
    };
    let membership = parse_membership("4:memory:/docker/outer/docker/inner\n");
    let cgroup = Cgroup::locate(&mounts, &membership, true);
    assert_eq!(
        cgroup.oom_kills(),
        Some((cgroup_id(&inner).unwrap(), 2)),
        "the inner container's own count, not the outer one's"
    );
    let limit = cgroup.memory_limit().unwrap();
    assert_eq!(
        limit.bytes,
        256 << 20,
        "the pod's limit above both containers, out of sight, is the smallest"
    );
    write(
        &inner,
        "memory.stat",
        "hierarchical_memory_limit 536870912\ntotal_inactive_file 0\n",
    );
    let limit = cgroup.memory_limit().unwrap();
    assert_eq!(limit.bytes, 512 << 20);
    assert!(matches!(limit.set_by, SetBy::Level { index: 0, .. }));
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn no_cgroup_means_no_values() {
    let cgroup = Cgroup::locate(
        &Mounts::usual(Path::new("/nonexistent")),
        &Membership::default(),
        true,
    );
    assert_eq!((cgroup.memory_limit(), cgroup.cpu_quota()), (None, None));
    assert_eq!(cgroup.oom_kills(), None);
    // And it says so: no cgroup, not a controller turned off.
    let mut findings = Findings::default();
    cgroup.find(&mut findings);
    assert!(findings.cgroups.is_empty());
    assert!(
        findings.limits.iter().all(|finding| finding.found.is_none()
            && matches!(
                finding.availability,
                Availability::NoCgroup | Availability::NotInV1
            )),
        "{findings:?}"
    );
}
