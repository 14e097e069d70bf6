//! The collectors of one integration, in registration order. A registration that shares a key
//! with an earlier one (a Tokio runtime's name, or the runtime itself) replaces it, and a
//! collector that is finished for good is removed, so the list cannot grow without bound.

use std::sync::{Arc, RwLock};

use crate::engine::entry::{Entry, Origin};
use crate::sync::{read, write};

/// Copied on write (registrations are rare), so a round takes the list with one reference count.
#[derive(Default)]
pub(crate) struct Registry {
    entries: RwLock<Arc<Vec<Arc<Entry>>>>,
}

impl Registry {
    /// Adds `entry`, replacing every entry that shares one of its keys.
    pub(crate) fn add(&self, entry: Arc<Entry>) {
        let mut entries = write(&self.entries);
        let entries = Arc::make_mut(&mut entries);
        entries.retain(|old| {
            let replaced = old.keys.iter().any(|key| entry.keys.contains(key));
            if replaced {
                old.mark_removed();
            }
            !replaced
        });
        entries.push(entry);
    }

    /// Removes `entry` (it is finished).
    pub(crate) fn remove(&self, entry: &Arc<Entry>) {
        entry.mark_removed();
        Arc::make_mut(&mut write(&self.entries)).retain(|other| !Arc::ptr_eq(other, entry));
    }

    /// The entries now, for one round.
    pub(crate) fn snapshot(&self) -> Arc<Vec<Arc<Entry>>> {
        Arc::clone(&read(&self.entries))
    }

    /// The collectors as background rounds run them, one group per job: the built-in ones
    /// together (first), each of the application's alone.
    pub(crate) fn groups(&self) -> Vec<Vec<Arc<Entry>>> {
        let entries = self.snapshot();
        let (built_in, application): (Vec<_>, Vec<_>) = entries
            .iter()
            .cloned()
            .partition(|entry| entry.origin == Origin::BuiltIn);
        let built_in = (!built_in.is_empty()).then_some(built_in);
        built_in
            .into_iter()
            .chain(application.into_iter().map(|entry| vec![entry]))
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        read(&self.entries).len()
    }

    /// Whether an entry is registered under `key`.
    #[cfg(feature = "tokio-runtime")] // Only runtimes are registered by key.
    pub(crate) fn has_key(&self, key: &str) -> bool {
        read(&self.entries)
            .iter()
            .any(|entry| entry.keys.iter().any(|own| own == key))
    }

    /// The collectors' names, for `Debug`.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        read(&self.entries).iter().map(|entry| entry.name).collect()
    }
}
