//! Runs collection rounds on this thread and nothing else, to count what a round costs the kernel:
//!
//! ```sh
//! cargo build --release --example rounds
//! strace -c -f ./target/release/examples/rounds --rounds 2000 --collectors memory+process
//! strace -c -f ./target/release/examples/rounds --rounds 0 --collectors memory+process
//! ```
//!
//! The difference of the two, over 2000, is the system calls of one round. `--collectors
//! default` runs the default built-in set (memory, process with thread groups, container);
//! `memory+process` leaves the container collector out, which is what the peers collect.
//! `--thread-groups off` leaves the thread groups out (`max_thread_groups(0)`).
#![allow(clippy::print_stdout, clippy::print_stderr)] // A report on the terminal.

use std::process::ExitCode;

use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

fn main() -> ExitCode {
    let value = sentry_runtime_metrics_tests::arg;
    let rounds: u64 = value("--rounds")
        .and_then(|r| r.parse().ok())
        .unwrap_or(2000);
    let container = match value("--collectors").as_deref() {
        Some("memory+process") => false,
        Some("default") | None => true,
        Some(other) => {
            eprintln!("--collectors memory+process|default, not {other}");
            return ExitCode::FAILURE;
        }
    };
    let thread_groups = match value("--thread-groups").as_deref() {
        Some("on") | None => sentry_runtime_metrics::collectors::DEFAULT_MAX_THREAD_GROUPS,
        Some("off") => 0,
        Some(other) => {
            eprintln!("--thread-groups on|off, not {other}");
            return ExitCode::FAILURE;
        }
    };
    // No client: the rounds collect and check, and send nothing (nothing to send to).
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collect_container: container,
        collect_async_runtime: false,
        ..Default::default()
    })
    .max_thread_groups(thread_groups);
    for _ in 0..rounds {
        integration.collect_now();
    }
    println!("{rounds} rounds: {:?}", integration.stats());
    ExitCode::SUCCESS
}
