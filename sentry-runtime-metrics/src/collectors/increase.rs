//! Per-round increases of kernel totals whose source can change under the collector: the
//! throttling and limit hits of whichever cgroup sets the limit in effect (another one when a
//! nearer limit is set or removed, or the process is moved), the OOM kills and pressure of the
//! process's own cgroup. The engine turns running totals into increases per series, by name and
//! attributes; it cannot know that the total now comes from another cgroup, and would send the
//! difference of two unrelated counts. So these are counted here, per source, and sent as
//! `delta` counters.

/// The last total of one counter and where it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Increase<S> {
    last: Option<(S, u64)>,
}

impl<S> Default for Increase<S> {
    fn default() -> Self {
        Increase { last: None }
    }
}

impl<S: Copy + PartialEq> Increase<S> {
    /// The increase since the previous total of the same source. `None` for a source seen for
    /// the first time (a baseline: its total counts events from before this collector looked,
    /// perhaps from before the process started), and for no reading. A total below the last of
    /// the same source was reset (v1 `memory.failcnt` can be written to): all of it is new.
    pub(crate) fn of(&mut self, reading: Option<(S, u64)>) -> Option<u64> {
        let (source, total) = reading?;
        let increase = match self.last {
            Some((last_source, last)) if last_source == source => {
                Some(if total >= last { total - last } else { total })
            }
            _ => None,
        };
        // A round without a reading keeps the last total: the same source read later is still
        // comparable with it.
        self.last = Some((source, total));
        increase
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increases_of_one_source_and_a_baseline_for_another() {
        let mut hits = Increase::default();
        assert_eq!(hits.of(Some(('a', 37))), None, "baseline");
        assert_eq!(hits.of(Some(('a', 40))), Some(3));
        assert_eq!(hits.of(None), None);
        assert_eq!(
            hits.of(Some(('a', 45))),
            Some(5),
            "across a round without a reading"
        );
        assert_eq!(
            hits.of(Some(('b', 10))),
            None,
            "another cgroup: a new baseline"
        );
        assert_eq!(hits.of(Some(('b', 10))), Some(0));
        assert_eq!(hits.of(Some(('a', 45))), None, "back: a baseline again");
        assert_eq!(hits.of(Some(('a', 2))), Some(2), "reset");
    }
}
