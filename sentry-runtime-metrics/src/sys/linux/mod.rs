//! Linux: `/proc/self` and cgroup files, read directly (one `pread` each, no directory walks),
//! each opened once.

pub(crate) mod cgroup;
pub(crate) mod cpus;
pub(crate) mod file;
mod peak;
pub(crate) mod process;
#[cfg(test)]
mod proptests;
mod sources;
pub(crate) mod stat;
pub(crate) mod threads;

pub(crate) use sources::Sources;
