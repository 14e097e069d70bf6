//! The sampler thread stops with the client: dropping the init guard ends it at once, even
//! with an hour-long interval. (Its own binary: it counts the process's sampler threads.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::time::{Duration, Instant};

use common::{init_with_queue as init, library_threads, wait_for};

#[test]
fn the_thread_is_gone_promptly_after_the_guard_is_dropped() {
    {
        let before = library_threads();
        let (guard, integration, _transport) = init(Duration::from_secs(3600));
        wait_for(
            Duration::from_secs(10),
            "the sampler thread to start",
            || library_threads() > before,
        );
        let dropped_at = Instant::now();
        drop(guard);
        wait_for(
            Duration::from_secs(10),
            "the sampler thread to exit",
            || library_threads() == before,
        );
        eprintln!("guard drop -> sampler exit: {:?}", dropped_at.elapsed());
        assert_eq!(
            integration.stats().rounds,
            0,
            "an hour-long interval never came due"
        );
    }
}
