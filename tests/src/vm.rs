//! A real cgroup v2 kernel for the tests this host cannot run (it mounts cgroup v1 and cannot
//! enable controllers on its unified tree): a QEMU virtual machine (TCG: no KVM needed) booting
//! Debian's cloud kernel with an initramfs of `busybox-static`, the test binary itself and the
//! shared libraries `ldd` lists. Its `/init` mounts `proc`, `sys`, `dev`, `tmp` and cgroup2 at
//! `/sys/fs/cgroup`, enables the `cpu`, `memory`, `pids` and `io` controllers for the tree, adds
//! a zram swap device when the kernel's modules are there, and runs the one test named, as
//! root, with [`GUEST`] set; the host reads its serial console.
//!
//! Needs `qemu-system-x86`, `linux-image-cloud-amd64`, `busybox-static` and `cpio` (`.ci/run`
//! installs them). What is missing is said plainly ([`VmError::Missing`]): the caller decides
//! whether that fails the test (CI sets [`REQUIRED`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the guest: the test runs its scenarios there instead of booting a VM.
pub const GUEST: &str = "SRM_VM_GUEST";
/// Set (to anything) where the VM must start: a missing package is then a failure.
pub const REQUIRED: &str = "SRM_VM_REQUIRED";
/// The kernel booted (overrides the newest `/boot/vmlinuz-*-cloud-amd64`).
pub const KERNEL: &str = "SRM_VM_KERNEL";

/// The line the guest's `/init` prints when it starts the test, and the one after it.
const STARTED: &str = "SRM-VM-STARTED";
const EXIT: &str = "SRM-VM-EXIT";

/// Why the VM did not run the test.
#[derive(Debug)]
pub enum VmError {
    /// A program, the kernel or a file the VM needs is not on this host.
    Missing(String),
    /// The VM could not be built, started, or did not finish in time.
    Failed(String),
}

impl std::fmt::Display for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmError::Missing(what) => write!(
                f,
                "cannot start the cgroup v2 VM: {what} (apt-get install qemu-system-x86 \
                 linux-image-cloud-amd64 busybox-static cpio)"
            ),
            VmError::Failed(why) => write!(f, "the cgroup v2 VM failed: {why}"),
        }
    }
}

/// What a run in the VM printed and took.
#[derive(Debug)]
pub struct VmRun {
    /// The serial console, whole.
    pub console: Vec<String>,
    /// The test's exit code, as `/init` printed it.
    pub exit_code: Option<i32>,
    /// From starting QEMU to `/init` starting the test.
    pub boot: Duration,
    /// From then to the test's end.
    pub test: Duration,
}

/// Boots the VM and runs the test `test` of the test binary `exe` in it, with `guest_env`
/// (`NAME=value`) added; gives up after `limit`.
pub fn run_test_in_vm(
    exe: &Path,
    test: &str,
    guest_env: &[&str],
    limit: Duration,
) -> Result<VmRun, VmError> {
    let qemu = find_program("qemu-system-x86_64")?;
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .ok_or_else(|| VmError::Missing("busybox (busybox-static)".to_owned()))?;
    find_program("cpio")?;
    let kernel = kernel()?;
    let work = std::env::temp_dir().join(format!("srm-vm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let initramfs = build_initramfs(&work, exe, &busybox, &kernel, test, guest_env)?;
    let result = boot(&qemu, &kernel.image, &initramfs, limit);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A program on `PATH`.
fn find_program(name: &str) -> Result<PathBuf, VmError> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| VmError::Missing(format!("no `{name}` on PATH")))
}

/// The kernel image and its modules' directory.
struct Kernel {
    image: PathBuf,
    modules: PathBuf,
}

fn kernel() -> Result<Kernel, VmError> {
    let image = match std::env::var_os(KERNEL) {
        Some(path) => PathBuf::from(path),
        None => {
            let mut images: Vec<PathBuf> = std::fs::read_dir("/boot")
                .map_err(|err| VmError::Missing(format!("no /boot ({err})")))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| {
                            name.starts_with("vmlinuz-") && name.ends_with("-cloud-amd64")
                        })
                })
                .collect();
            images.sort();
            images.pop().ok_or_else(|| {
                VmError::Missing("no /boot/vmlinuz-*-cloud-amd64 (linux-image-cloud-amd64)".into())
            })?
        }
    };
    // Debian installs it readable by root alone.
    if let Err(err) = std::fs::File::open(&image) {
        return Err(VmError::Missing(format!(
            "the kernel {} cannot be read ({err}; run as root)",
            image.display()
        )));
    }
    let version = image
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix("vmlinuz-"))
        .unwrap_or_default()
        .to_owned();
    Ok(Kernel {
        image,
        modules: Path::new("/lib/modules").join(version),
    })
}

/// The zram swap device's modules, in load order (under the kernel's modules directory).
const ZRAM_MODULES: [&str; 3] = [
    "kernel/mm/zsmalloc.ko",
    "kernel/crypto/lzo-rle.ko",
    "kernel/drivers/block/zram/zram.ko",
];

/// Writes the initramfs (an uncompressed `newc` cpio, which the kernel takes as it is) for
/// running `test` of `exe`; returns its path.
fn build_initramfs(
    work: &Path,
    exe: &Path,
    busybox: &Path,
    kernel: &Kernel,
    test: &str,
    guest_env: &[&str],
) -> Result<PathBuf, VmError> {
    let failed = |what: &str, err: std::io::Error| VmError::Failed(format!("{what}: {err}"));
    let root = work.join("root");
    for dir in ["bin", "proc", "sys", "dev", "tmp", "modules"] {
        std::fs::create_dir_all(root.join(dir)).map_err(|err| failed("mkdir", err))?;
    }
    std::fs::copy(busybox, root.join("bin/busybox")).map_err(|err| failed("busybox", err))?;
    // The test binary without its debug information (a tenth of the size: faster to pack and
    // to unpack in the guest); copied whole where `strip` is missing.
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(root.join("test"))
        .arg(exe)
        .status()
        .is_ok_and(|status| status.success());
    if !stripped {
        std::fs::copy(exe, root.join("test")).map_err(|err| failed("test binary", err))?;
    }
    for library in shared_libraries(exe)? {
        let to = root.join(library.strip_prefix("/").unwrap_or(&library));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|err| failed("mkdir", err))?;
        }
        std::fs::copy(&library, &to).map_err(|err| failed("library", err))?;
    }
    let mut zram = String::new();
    if ZRAM_MODULES
        .iter()
        .all(|module| kernel.modules.join(module).is_file())
    {
        for module in ZRAM_MODULES {
            let name = Path::new(module).file_name().unwrap_or_default();
            std::fs::copy(kernel.modules.join(module), root.join("modules").join(name))
                .map_err(|err| failed("module", err))?;
            zram.push_str(&format!(
                "insmod /modules/{} || true\n",
                name.to_string_lossy()
            ));
        }
        zram.push_str(
            "if [ -e /sys/block/zram0/disksize ]; then\n  echo 512M > /sys/block/zram0/disksize \
             && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 && echo SRM-VM-SWAP on\nfi\n",
        );
    }
    let env: String = guest_env.iter().map(|var| format!("{var} ")).collect();
    let init = format!(
        "#!/bin/busybox sh\n\
         /bin/busybox --install -s /bin\n\
         export PATH=/bin\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sys /sys\n\
         mount -t devtmpfs dev /dev\n\
         mount -t tmpfs tmp /tmp\n\
         mount -t cgroup2 cgroup2 /sys/fs/cgroup\n\
         echo '+cpu +memory +pids +io' > /sys/fs/cgroup/cgroup.subtree_control\n\
         {zram}\
         echo {STARTED} $(cat /proc/uptime)\n\
         {GUEST}=1 {env}RUST_BACKTRACE=1 TMPDIR=/tmp HOME=/tmp /test --exact '{test}' \
         --nocapture --test-threads 1\n\
         echo {EXIT} $?\n\
         poweroff -f\n"
    );
    let init_path = root.join("init");
    std::fs::write(&init_path, init).map_err(|err| failed("init", err))?;
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&init_path, mode).map_err(|err| failed("chmod", err))?;
    let cpio = work.join("initramfs.cpio");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd '{}' && find . | cpio -o -H newc --quiet > '{}'",
            root.display(),
            cpio.display()
        ))
        .status()
        .map_err(|err| failed("cpio", err))?;
    if !status.success() {
        return Err(VmError::Failed(format!("cpio exited with {status}")));
    }
    Ok(cpio)
}

/// The shared libraries `exe` loads, and its loader, as `ldd` lists them.
fn shared_libraries(exe: &Path) -> Result<Vec<PathBuf>, VmError> {
    let output = Command::new("ldd")
        .arg(exe)
        .output()
        .map_err(|err| VmError::Missing(format!("no `ldd` ({err})")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .filter_map(|line| {
            // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x..)` or `/lib64/ld-linux.. (0x..)`
            let path = match line.split_once("=>") {
                Some((_, after)) => after.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

/// Boots QEMU and reads its console until it exits or `limit` passes.
fn boot(qemu: &Path, kernel: &Path, initramfs: &Path, limit: Duration) -> Result<VmRun, VmError> {
    let started = Instant::now();
    let mut child = Command::new(qemu)
        .args(["-accel", "tcg", "-cpu", "max", "-m", "1536", "-smp", "2"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initramfs)
        .args([
            "-append",
            "console=ttyS0 panic=-1 quiet loglevel=3",
            "-nographic",
            "-no-reboot",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| VmError::Failed(format!("cannot start {}: {err}", qemu.display())))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(VmError::Failed("QEMU's console is not piped".to_owned()));
    };
    // The console, read on its own thread so that a VM that hangs can be killed on time.
    let (lines, receive) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let now = Instant::now();
            if lines.send((now, line)).is_err() {
                break;
            }
        }
    });
    let mut run = VmRun {
        console: Vec::new(),
        exit_code: None,
        boot: Duration::ZERO,
        test: Duration::ZERO,
    };
    let mut test_started = None;
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match receive.recv_timeout(left) {
            Ok((at, line)) => {
                // The console's own line ends and control characters.
                let line = line.replace('\r', "");
                if line.contains(STARTED) {
                    run.boot = at - started;
                    test_started = Some(at);
                }
                if let Some(code) = line.split_once(EXIT).map(|(_, code)| code.trim()) {
                    run.exit_code = code.parse().ok();
                    run.test = test_started.map_or(Duration::ZERO, |then| at - then);
                }
                // The console as it comes: the test's output, where the run is read.
                #[allow(clippy::print_stdout)]
                {
                    println!("vm| {line}");
                }
                run.console.push(line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(VmError::Failed(format!(
                    "no end after {limit:?}; the console:\n{}",
                    run.console.join("\n")
                )));
            }
        }
    }
    let _ = reader.join();
    let status = child
        .wait()
        .map_err(|err| VmError::Failed(format!("waiting for QEMU: {err}")))?;
    if test_started.is_none() {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        return Err(VmError::Failed(format!(
            "the guest never started the test (QEMU {status}); stderr: {stderr}; console:\n{}",
            run.console.join("\n")
        )));
    }
    Ok(run)
}
