//! Running one test of the current test binary again in a child process, to read what it
//! writes to stderr (the SDK's debug log, which the library writes to with `debug: true`).

use std::process::{Command, Output};

/// Set in the child: the test runs its scenario instead of spawning.
pub const CHILD: &str = "SENTRY_RUNTIME_METRICS_TEST_CHILD";

/// Whether this process is the child of [`rerun`].
pub fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test named `test` (its full path in the binary) of this test binary in a child
/// process, and returns its output.
pub fn rerun(test: &str) -> std::io::Result<Output> {
    Command::new(std::env::current_exe()?)
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .output()
}

/// Starts the test named `test` of this test binary in a child process, with stdin and stdout
/// piped (so the parent can move it into a cgroup before telling it to start, and read what it
/// reports).
pub fn spawn(test: &str) -> std::io::Result<std::process::Child> {
    Command::new(std::env::current_exe()?)
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
}
