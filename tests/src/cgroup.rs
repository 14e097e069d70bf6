//! Real cgroups for the tests that need them: a parent and a leaf under a v1 controller's
//! hierarchy (`/sys/fs/cgroup/<controller>`), made by the test (as root) and removed when it is
//! done, whatever happens.

use std::io;
use std::path::{Path, PathBuf};

/// `<mount>/<name>-<pid>/leaf`, removed when dropped.
#[derive(Debug)]
pub struct TestCgroup {
    mount: PathBuf,
    parent: PathBuf,
    leaf: PathBuf,
}

impl TestCgroup {
    /// A parent and a leaf cgroup under the v1 hierarchy of `controller`; why not, if they
    /// cannot be made here (no such hierarchy, or not writable).
    pub fn v1(controller: &str, name: &str) -> Result<Self, String> {
        let mount = Path::new("/sys/fs/cgroup").join(controller);
        if !mount.join("cgroup.procs").is_file() {
            return Err(format!(
                "no v1 `{controller}` hierarchy at {}",
                mount.display()
            ));
        }
        sweep_stale(&mount, name);
        let parent = mount.join(format!("{name}-{}", std::process::id()));
        let leaf = parent.join("leaf");
        std::fs::create_dir(&parent)
            .map_err(|err| format!("cannot make {}: {err}", parent.display()))?;
        let cgroup = TestCgroup {
            mount,
            parent,
            leaf,
        };
        std::fs::create_dir(&cgroup.leaf)
            .map_err(|err| format!("cannot make {}: {err}", cgroup.leaf.display()))?;
        Ok(cgroup)
    }

    /// The parent cgroup (`<mount>/<name>-<pid>`).
    pub fn parent(&self) -> &Path {
        &self.parent
    }

    /// The leaf cgroup inside the parent, where processes go.
    pub fn leaf(&self) -> &Path {
        &self.leaf
    }

    /// Writes `value` to the file `name` of `dir` (the parent or the leaf).
    pub fn set(&self, dir: &Path, name: &str, value: &str) -> io::Result<()> {
        std::fs::write(dir.join(name), value)
    }

    /// Reads the file `name` of `dir` (the parent or the leaf).
    pub fn get(&self, dir: &Path, name: &str) -> io::Result<String> {
        std::fs::read_to_string(dir.join(name))
    }

    /// Moves the process `pid` into the leaf.
    pub fn add(&self, pid: u32) -> io::Result<()> {
        self.set(&self.leaf, "cgroup.procs", &pid.to_string())
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        remove(&self.mount, &self.parent);
    }
}

/// Removes `parent` and its leaf, moving whatever is inside back to the root first (a cgroup
/// with tasks cannot be removed).
fn remove(mount: &Path, parent: &Path) {
    for dir in [&parent.join("leaf"), parent] {
        if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = std::fs::write(mount.join("cgroup.procs"), pid);
            }
        }
        for _ in 0..100 {
            if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Removes the cgroups `<name>-<pid>` left by a test run that was killed (a `SIGKILL` or a
/// timeout runs no `Drop`), whose process is gone.
fn sweep_stale(mount: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(mount) else {
        return;
    };
    let prefix = format!("{name}-");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            remove(mount, &entry.path());
        }
    }
}
