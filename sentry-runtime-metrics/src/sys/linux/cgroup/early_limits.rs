//! The limits that bite before `memory.max`: `memory.high` (v2: above it the kernel throttles
//! and reclaims the cgroup's tasks), the swap a cgroup may use (v2 `memory.swap.max`), and the
//! task limit (`pids.max`, either version: past it `fork` and `clone` fail, and
//! `std::thread::spawn` panics).
//!
//! cgroup v1 has no `memory.high`, and no swap limit of its own: `memory.memsw.limit_in_bytes`
//! bounds memory and swap together (swap can exceed `memsw - limit_in_bytes` while memory is
//! below its limit), so nothing is sent for swap there rather than a figure that is not a limit.
//!
//! Each is the smallest set on the process's cgroup or a parent, as for `memory.max`. Every
//! level's limit is read when the cgroups are found (at the start, after a move, and once a
//! minute); a round reads only the files of the cgroup that sets it (its limit again, and its
//! use of it), so a host or cgroup without these limits reads nothing more. A limit raised or
//! lifted there makes the levels be read again at once (another level may now set the smallest);
//! one set or lowered on another level shows when the cgroups are next found.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::levels::Levels;
use super::{cgroup_id, parse};
use crate::sync::lock;
use crate::sys::platform::file::{CachedFile, read_once};
use crate::sys::readings::{CgroupId, LimitInUse};

/// Which limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// v2 `memory.high`, with its `high` events.
    MemoryHigh,
    /// v2 `memory.swap.max` and `memory.swap.current`.
    Swap,
    /// `pids.max` and `pids.current`, in either version.
    Tasks,
}

impl Kind {
    /// The limit's file, and the file of its use.
    fn files(self) -> (&'static str, Option<&'static str>) {
        match self {
            Kind::MemoryHigh => ("memory.high", None),
            Kind::Swap => ("memory.swap.max", Some("memory.swap.current")),
            Kind::Tasks => ("pids.max", Some("pids.current")),
        }
    }
}

/// The cgroup that sets one limit, and its files read each round.
#[derive(Debug)]
struct Setter {
    dir: PathBuf,
    id: CgroupId,
    /// The limit when it was found: one read above it means it was raised.
    found: u64,
    limit: CachedFile,
    used: Option<CachedFile>,
    /// Where the times the limit was hit are counted, the key of the count in that file, and
    /// whose count it is (see [`hits_of`]).
    hits: Option<(CachedFile, &'static str, CgroupId)>,
}

/// One limit, the levels it may be set on, and the cgroup that sets it.
#[derive(Debug)]
pub(crate) struct Watched {
    kind: Kind,
    /// Nearest first.
    dirs: Vec<PathBuf>,
    /// Tasks: whether refusals are counted where the limit is set, not in the own cgroup (see
    /// [`hits_of`]).
    refusals_at_setter: bool,
    setter: Mutex<Option<Setter>>,
}

impl Watched {
    fn new(kind: Kind, dirs: &[PathBuf], refusals_at_setter: bool) -> Self {
        Watched {
            kind,
            dirs: dirs.to_vec(),
            refusals_at_setter,
            setter: Mutex::new(smallest(dirs, kind, refusals_at_setter)),
        }
    }

    /// The limit in effect now (`None`: none, or unreadable), with its setter in `setter`. A
    /// limit raised or lifted where it was set makes the levels be read again: the smallest
    /// may now be another level's.
    fn current(&self, setter: &mut Option<Setter>) -> Option<u64> {
        let limit = setter.as_ref()?.limit.read(parse::parse_v2_limit)?;
        if limit.is_some_and(|limit| setter.as_ref().is_some_and(|s| limit <= s.found)) {
            return limit;
        }
        *setter = smallest(&self.dirs, self.kind, self.refusals_at_setter);
        setter.as_ref()?.limit.read(parse::parse_v2_limit)?
    }

    /// The limit in effect now, and the use of it; `None` where none is set (or unreadable),
    /// and for a swap limit of 0 (no swap at all: nothing to watch).
    pub(crate) fn read(&self) -> Option<LimitInUse> {
        let mut setter = lock(&self.setter);
        let limit = self.current(&mut setter)?;
        let setter = setter.as_ref()?;
        if limit == 0 && self.kind == Kind::Swap {
            return None;
        }
        let used = (setter.used.as_ref()).and_then(|file| file.read(parse::parse_number));
        let hits = (setter.hits.as_ref()).and_then(|(file, key, cgroup)| {
            Some((*cgroup, file.read(|text| parse::parse_key(text, key))?))
        });
        Some(LimitInUse {
            limit,
            used,
            hits,
            cgroup: setter.id,
        })
    }

    /// The limit in effect now (0 included) and the directory of the cgroup that sets it, for
    /// the report of what the integration sees.
    pub(crate) fn setting(&self) -> Option<(u64, PathBuf)> {
        let mut setter = lock(&self.setter);
        let limit = self.current(&mut setter)?;
        Some((limit, setter.as_ref()?.dir.clone()))
    }
}

/// The limits before `memory.max`, each with the cgroup that sets it.
#[derive(Debug)]
pub(crate) struct EarlyLimits {
    pub(crate) memory_high: Option<Watched>,
    pub(crate) swap: Option<Watched>,
    pub(crate) tasks: Watched,
}

impl EarlyLimits {
    /// Reads every level's limits once and keeps the cgroup that sets the smallest of each.
    /// `memory`: the memory controller's levels and whether they are v1; `pids`: the pids
    /// controller's levels; `pids_local_events`: whether cgroup2 is mounted with
    /// `pids_localevents`.
    pub(crate) fn find(memory: (&Levels, bool), pids: &Levels, pids_local_events: bool) -> Self {
        let (memory_levels, v1) = memory;
        let v2 = |kind| (!v1).then(|| Watched::new(kind, &memory_levels.dirs, false));
        // Linux 6.12+ on v2 has `pids.events.local`, and counts there a limit's refusals in
        // the cgroup that sets it, unless mounted with `pids_localevents`.
        let refusals_at_setter = !pids_local_events
            && (pids.dirs.first()).is_some_and(|own| own.join("pids.events.local").exists());
        EarlyLimits {
            memory_high: v2(Kind::MemoryHigh),
            swap: v2(Kind::Swap),
            tasks: Watched::new(Kind::Tasks, &pids.dirs, refusals_at_setter),
        }
    }
}

/// The level of `dirs` with the smallest limit of `kind`, its files opened.
fn smallest(dirs: &[PathBuf], kind: Kind, refusals_at_setter: bool) -> Option<Setter> {
    let (limit_file, used_file) = kind.files();
    let limit_of = |dir: &Path| read_once(&dir.join(limit_file), parse::parse_v2_limit)?;
    let (found, dir) = dirs
        .iter()
        .filter_map(|dir| Some((limit_of(dir)?, dir)))
        .min_by_key(|(limit, _)| *limit)?;
    let id = cgroup_id(dir)?;
    Some(Setter {
        dir: dir.clone(),
        id,
        found,
        limit: CachedFile::open(&dir.join(limit_file)),
        used: used_file.map(|name| CachedFile::open(&dir.join(name))),
        hits: hits_of(kind, (dir, id), dirs.first(), refusals_at_setter),
    })
}

/// Where the times a limit set on `setter` was hit are counted, and whose count it is.
///
/// - `memory.high`: the setter's `memory.events` (`high`).
/// - The task limit, where the kernel counts a refused `fork` (`max`):
///   - Linux 6.12+ on v2 (it has `pids.events.local`): in the setter's `pids.events.local`,
///     the times its own limit refused a task anywhere below it;
///   - unless cgroup2 is mounted with `pids_localevents`, and on v1 and before 6.12: in the
///     `pids.events` of the cgroup of the task refused, the process's own (its own tasks, by
///     whichever limit).
fn hits_of(
    kind: Kind,
    (setter, setter_id): (&Path, CgroupId),
    own: Option<&PathBuf>,
    refusals_at_setter: bool,
) -> Option<(CachedFile, &'static str, CgroupId)> {
    match kind {
        Kind::MemoryHigh => Some((
            CachedFile::open(&setter.join("memory.events")),
            "high",
            setter_id,
        )),
        Kind::Swap => None,
        Kind::Tasks => {
            let own = own?;
            let (file, id) = if refusals_at_setter {
                (setter.join("pids.events.local"), setter_id)
            } else {
                (own.join("pids.events"), cgroup_id(own)?)
            };
            Some((CachedFile::open(&file), "max", id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{fixture, seen, write};
    use super::*;

    #[test]
    fn v2_the_smallest_on_the_way_up_and_its_use() {
        let root = fixture("early-v2");
        let (parent, child) = (root.join("slice"), root.join("slice/app"));
        write(&child, "memory.high", "max\n");
        write(&child, "memory.swap.max", "268435456\n");
        write(&child, "memory.swap.current", "4096\n");
        write(&child, "pids.max", "max\n");
        // Refusals are counted where the task was: the own cgroup.
        write(&child, "pids.events", "max 4\n");
        write(&parent, "memory.high", "536870912\n");
        write(
            &parent,
            "memory.events",
            "low 0\nhigh 12\nmax 0\noom 0\noom_kill 0\n",
        );
        write(&parent, "memory.swap.max", "max\n");
        write(&parent, "pids.max", "64\n");
        write(&parent, "pids.current", "9\n");
        write(&parent, "pids.events", "max 0\n");
        let levels = seen(&[&child, &parent]);
        let limits = EarlyLimits::find((&levels, false), &levels, false);
        let high = limits.memory_high.as_ref().unwrap();
        assert_eq!(high.setting(), Some((512 << 20, parent.clone())));
        let reading = high.read().unwrap();
        assert_eq!(
            (reading.limit, reading.hits),
            (512 << 20, Some((cgroup_id(&parent).unwrap(), 12)))
        );
        assert_eq!(Some(reading.cgroup), cgroup_id(&parent));
        let swap = limits.swap.as_ref().unwrap().read().unwrap();
        assert_eq!((swap.limit, swap.used), (256 << 20, Some(4096)));
        let tasks = limits.tasks.read().unwrap();
        assert_eq!(
            (tasks.limit, tasks.used, tasks.hits),
            (64, Some(9), Some((cgroup_id(&child).unwrap(), 4)))
        );
        // Lowered where it is set: read again each time.
        write(&parent, "pids.max", "32\n");
        assert_eq!(limits.tasks.read().unwrap().limit, 32);
        // Lifted there: nothing is set anywhere now, in the rounds and in the report.
        write(&parent, "pids.max", "max\n");
        assert!(limits.tasks.setting().is_none());
        assert!(limits.tasks.read().is_none());
        // No swap at all: nothing to watch, but the report says it is set.
        write(&child, "memory.swap.max", "0\n");
        assert!(limits.swap.as_ref().unwrap().read().is_none());
        assert_eq!(
            limits.swap.as_ref().unwrap().setting(),
            Some((0, child.clone()))
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn from_linux_6_12_the_limit_hits_are_the_setters_own() {
        // `pids.events.local` exists: its `max` in the cgroup that sets the limit counts the
        // refusals of that limit.
        let root = fixture("early-local");
        let (parent, child) = (root.join("pod"), root.join("pod/ctr"));
        write(&child, "pids.max", "max\n");
        write(&child, "pids.events", "max 0\n");
        write(&child, "pids.events.local", "max 0\n");
        write(&parent, "pids.max", "64\n");
        write(&parent, "pids.events.local", "max 3\n");
        write(&parent, "pids.events", "max 5\n");
        let levels = seen(&[&child, &parent]);
        let limits = EarlyLimits::find((&levels, false), &levels, false);
        let tasks = limits.tasks.read().unwrap();
        assert_eq!(tasks.hits, Some((cgroup_id(&parent).unwrap(), 3)));
        // Mounted with `pids_localevents`: the own cgroup's tasks' refusals, as before 6.12.
        write(&child, "pids.events", "max 2\n");
        let local = EarlyLimits::find((&levels, false), &levels, true);
        let tasks = local.tasks.read().unwrap();
        assert_eq!(tasks.hits, Some((cgroup_id(&child).unwrap(), 2)));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn raised_where_it_was_set_the_next_smallest_is_in_effect() {
        let root = fixture("early-raised");
        let (parent, child) = (root.join("slice"), root.join("slice/app"));
        write(&parent, "memory.high", "536870912\n");
        write(&child, "memory.high", "1073741824\n");
        let levels = seen(&[&child, &parent]);
        let limits = EarlyLimits::find((&levels, false), &levels, false);
        let high = limits.memory_high.as_ref().unwrap();
        assert_eq!(high.read().unwrap().limit, 512 << 20);
        write(&parent, "memory.high", "2147483648\n");
        let reading = high.read().unwrap();
        assert_eq!(
            reading.limit,
            1 << 30,
            "the child's, not the raised parent's"
        );
        assert_eq!(Some(reading.cgroup), cgroup_id(&child));
        write(&parent, "memory.high", "max\n");
        assert_eq!(high.read().unwrap().limit, 1 << 30);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn nothing_where_no_limit_is_set_and_no_memory_limits_on_v1() {
        let root = fixture("early-none");
        write(&root, "memory.high", "max\n");
        write(&root, "memory.swap.max", "max\n");
        write(&root, "pids.max", "max\n");
        let levels = seen(&[&root]);
        let limits = EarlyLimits::find((&levels, false), &levels, false);
        assert!(limits.memory_high.as_ref().unwrap().read().is_none());
        assert!(limits.swap.as_ref().unwrap().read().is_none());
        assert!(limits.tasks.read().is_none());
        // v1: no `memory.high`, and no swap limit of its own.
        let v1 = EarlyLimits::find((&levels, true), &Levels::default(), false);
        assert!(v1.memory_high.is_none() && v1.swap.is_none());
        assert!(v1.tasks.read().is_none(), "no pids levels");
        std::fs::remove_dir_all(root).unwrap();
    }
}
