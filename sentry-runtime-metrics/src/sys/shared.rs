//! What several built-in collectors need in the same round, read once and handed to each: the
//! memory and process collectors both need `getrusage`, the memory and container collectors the
//! memory limit, the process and container collectors the CPU quota. Whoever samples them
//! together (the integration's built-in group) reads what the enabled collectors need at the
//! start of a round and gives each a copy; a collector sampled on its own reads for itself.

use crate::sys::readings::{CpuQuota, MemoryLimit, Usage};
use crate::sys::{Platform, Sources};

/// Which shared sources a collector reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    pub(crate) usage: bool,
    pub(crate) memory_limit: bool,
    pub(crate) cpu_quota: bool,
}

impl Needs {
    /// What either needs.
    pub(crate) const fn or(self, other: Needs) -> Needs {
        Needs {
            usage: self.usage || other.usage,
            memory_limit: self.memory_limit || other.memory_limit,
            cpu_quota: self.cpu_quota || other.cpu_quota,
        }
    }
}

/// One round's readings of the shared sources (`None`: not needed, or not readable).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Shared {
    pub(crate) usage: Option<Usage>,
    pub(crate) memory_limit: Option<MemoryLimit>,
    pub(crate) cpu_quota: Option<CpuQuota>,
}

impl Shared {
    /// Starts a round of `sources` and reads what `needs` asks for, each source once.
    pub(crate) fn read(sources: &Sources, needs: Needs) -> Self {
        sources.begin_round();
        Shared {
            usage: needs.usage.then(|| sources.usage()).flatten(),
            memory_limit: needs.memory_limit.then(|| sources.memory_limit()).flatten(),
            cpu_quota: needs.cpu_quota.then(|| sources.cpu_quota()).flatten(),
        }
    }
}
