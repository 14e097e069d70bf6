//! Support for the end-to-end tests and the soak run: a loopback stand-in for Sentry's
//! ingestion, probes of this process's threads, descriptors and memory, and waiting on a
//! condition. Not published. Its doctests are the code blocks of the workspace README, so the
//! README cannot drift from the API.

pub mod cgroup;
pub mod child;
pub mod load;
pub mod loopback;
pub mod probes;
pub mod vm;

use std::time::{Duration, Instant};

/// The workspace README: its code blocks run as this crate's doctests.
#[doc = include_str!("../../README.md")]
#[derive(Debug)]
pub struct ReadmeDoctests;

/// The value after `--name` among this program's arguments, for the examples' flags.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let position = args.iter().position(|a| a == name)?;
    args.get(position + 1).cloned()
}

/// Polls `condition` every few milliseconds until it holds, failing after `limit` (generous:
/// this waits on a condition, it does not assert a timing).
#[allow(clippy::panic)] // A test helper fails the test.
pub fn wait_for(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        if start.elapsed() >= limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
