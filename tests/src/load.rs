//! Load for the tests that need the CPU busy: threads spinning until stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// Threads spinning on the CPU until [`stop`](Self::stop)ped or dropped.
#[derive(Debug)]
pub struct Spinners {
    running: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Spinners {
    /// Starts `count` spinning threads.
    pub fn start(count: usize) -> Self {
        let running = Arc::new(AtomicBool::new(true));
        let threads = (0..count)
            .map(|_| {
                let running = Arc::clone(&running);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while running.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Spinners { running, threads }
    }

    /// Stops the threads and waits for them.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
