//! Running totals to per-round increases, for one collector. Sentry sums counter values, so each
//! round must send only what was added since the previous round, per series.
//!
//! A series is what the collector sent: its name and attributes *as collected*, before the rules
//! rewrite or cut them, and its place among the metrics of that name and attributes in the round
//! (the second one sent with the same identity is a second series). So two series that the rules
//! make look alike (values that differ past the 200-byte cut, attribute sets that differ past the
//! 32nd attribute, a collector sending one series twice) keep their own baselines, and what
//! arrives in Sentry sums to the right increase.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::metric::Tags;

/// Runs of a collector a series may go unseen before its last total is forgotten (bounds memory
/// when labels churn, e.g. per-connection series). Runs that failed or were skipped do not
/// count, so a recovering collector's series do not look new.
const FORGET_AFTER_RUNS: u64 = 60;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Identity {
    name: Cow<'static, str>,
    tags: Tags,
}

/// The last total of one occurrence of a series (none yet if it was only ever unsendable), and
/// the run it was seen in.
#[derive(Clone, Copy, Debug)]
struct Last {
    total: Option<f64>,
    run: u64,
}

/// The last total seen of every counter series of one collector.
#[derive(Debug, Default)]
pub(crate) struct Series {
    /// Per identity, one entry per occurrence in a run (almost always one).
    last: HashMap<Identity, Vec<Last>>,
    run: u64,
}

impl Series {
    /// Starts a successful run of the collector; series not seen for long are forgotten.
    pub(crate) fn begin_run(&mut self) {
        self.run += 1;
        let run = self.run;
        self.last.retain(|_, occurrences| {
            occurrences.retain(|last| run - last.run <= FORGET_AFTER_RUNS);
            !occurrences.is_empty()
        });
    }

    /// Records `total` for the next occurrence of the series `name` + `tags` in this run and
    /// returns the increase to send: the difference to that occurrence's previous total; the
    /// total itself for a new series or after a reset (a total that went down, e.g. a restarted
    /// source). `None` (a value that cannot be sent) keeps the occurrence's place and its last
    /// total, and returns `None`.
    #[allow(clippy::ptr_arg)] // Cloning the Cow keeps static names unallocated.
    pub(crate) fn increase(
        &mut self,
        name: &Cow<'static, str>,
        tags: &Tags,
        total: Option<f64>,
    ) -> Option<f64> {
        let identity = Identity {
            name: name.clone(),
            tags: tags.clone(),
        };
        let run = self.run;
        let occurrences = self.last.entry(identity).or_default();
        let last = match occurrences.iter().position(|last| last.run != run) {
            Some(index) => &mut occurrences[index],
            None => {
                occurrences.push(Last { total: None, run });
                occurrences.last_mut()?
            }
        };
        last.run = run;
        let total = total?;
        let previous = last.total.replace(total);
        Some(match previous {
            Some(previous) if total >= previous => total - previous,
            _ => total,
        })
    }

    /// Series occurrences remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.last.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_increases_and_handles_resets() {
        let mut series = Series::default();
        let name = Cow::Borrowed("c");
        let tags = Tags::new();
        series.begin_run();
        assert_eq!(series.increase(&name, &tags, Some(10.0)), Some(10.0));
        series.begin_run();
        assert_eq!(series.increase(&name, &tags, Some(15.0)), Some(5.0));
        series.begin_run();
        assert_eq!(
            series.increase(&name, &tags, Some(3.0)),
            Some(3.0),
            "reset sends the new total"
        );
        let other = Tags::from([(Cow::Borrowed("k"), Cow::Borrowed("v"))]);
        assert_eq!(
            series.increase(&name, &other, Some(7.0)),
            Some(7.0),
            "another series"
        );
    }

    #[test]
    fn a_series_sent_twice_in_a_run_is_two_series() {
        let mut series = Series::default();
        let name = Cow::Borrowed("twice");
        for (run, (a, b)) in [(1000.0, 20.0), (1010.0, 21.0), (1020.0, 22.0)]
            .into_iter()
            .enumerate()
        {
            series.begin_run();
            let first = series.increase(&name, &Tags::new(), Some(a));
            let second = series.increase(&name, &Tags::new(), Some(b));
            if run > 0 {
                assert_eq!((first, second), (Some(10.0), Some(1.0)));
            }
        }
        assert_eq!(series.len(), 2);
    }

    #[test]
    fn an_unsendable_occurrence_keeps_its_place_and_its_total() {
        let mut series = Series::default();
        let name = Cow::Borrowed("twice");
        let mut round = |a: Option<f64>, b: f64| {
            series.begin_run();
            (
                series.increase(&name, &Tags::new(), a),
                series.increase(&name, &Tags::new(), Some(b)),
            )
        };
        round(Some(1000.0), 20.0);
        // The first occurrence cannot be sent (NaN): the second is still the second.
        assert_eq!(round(None, 21.0), (None, Some(1.0)));
        assert_eq!(round(Some(1020.0), 22.0), (Some(20.0), Some(1.0)));
    }

    #[test]
    fn forgets_series_unseen_for_long() {
        let mut series = Series::default();
        series.begin_run();
        series.increase(&Cow::Borrowed("gone"), &Tags::new(), Some(1.0));
        for _ in 0..=FORGET_AFTER_RUNS {
            series.begin_run();
        }
        assert_eq!(series.len(), 0);
    }
}
