//! The crate's one locking policy.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, using the value even if a panic poisoned it: every value behind our locks
/// stays valid across a panic (collectors run behind `catch_unwind`, and no update spans a
/// call that can panic), and a metrics library must not turn one panic into a panic in every
/// later round.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
