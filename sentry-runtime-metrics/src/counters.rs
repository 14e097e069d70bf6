//! Running totals to per-round increases: Sentry sums counter values, so each round must send
//! only what was added since the previous round, per series (name + attributes).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::Tags;

/// Rounds a series may go unseen before its last total is forgotten (bounds memory when labels
/// churn, e.g. per-connection series).
const FORGET_AFTER_ROUNDS: u64 = 60;

/// What a collector calls a series: its position in the collector list, name and attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SeriesKey {
    collector: usize,
    name: Cow<'static, str>,
    tags: Tags,
}

/// The last total seen of every counter series.
#[derive(Debug, Default)]
pub(crate) struct CounterState {
    last: HashMap<SeriesKey, (f64, u64)>,
    round: u64,
}

impl CounterState {
    /// Starts a round; series not seen for a long time are forgotten.
    pub(crate) fn begin_round(&mut self) {
        self.round += 1;
        let round = self.round;
        self.last
            .retain(|_, (_, seen)| round.saturating_sub(*seen) <= FORGET_AFTER_ROUNDS);
    }

    /// Marks every series of `collector` as seen this round (it failed to sample, which must
    /// not make its series look new when it recovers).
    pub(crate) fn keep_collector(&mut self, collector: usize) {
        let round = self.round;
        for (key, (_, seen)) in &mut self.last {
            if key.collector == collector {
                *seen = round;
            }
        }
    }

    /// Records `total` for the series and returns the increase to send: the difference to the
    /// previous total; the total itself for a new series or after a reset (a total that went
    /// down, e.g. a restarted source).
    #[allow(clippy::ptr_arg)] // Cloning the Cow keeps static names unallocated.
    pub(crate) fn increase(
        &mut self,
        collector: usize,
        name: &Cow<'static, str>,
        tags: &Tags,
        total: f64,
    ) -> f64 {
        let key = SeriesKey {
            collector,
            name: name.clone(),
            tags: tags.clone(),
        };
        let previous = self.last.insert(key, (total, self.round));
        match previous {
            Some((previous, _)) if total >= previous => total - previous,
            _ => total,
        }
    }

    /// Number of series remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_increases_and_handles_resets() {
        let mut state = CounterState::default();
        let name = Cow::Borrowed("c");
        let tags = Tags::new();
        state.begin_round();
        assert_eq!(state.increase(0, &name, &tags, 10.0), 10.0);
        state.begin_round();
        assert_eq!(state.increase(0, &name, &tags, 15.0), 5.0);
        state.begin_round();
        assert_eq!(
            state.increase(0, &name, &tags, 3.0),
            3.0,
            "reset sends the new total"
        );
        // Another collector's series of the same name is a different series.
        assert_eq!(state.increase(1, &name, &tags, 7.0), 7.0);
    }

    #[test]
    fn a_failed_collector_keeps_its_series() {
        let mut state = CounterState::default();
        let name = Cow::Borrowed("c");
        state.begin_round();
        state.increase(0, &name, &Tags::new(), 100.0);
        for _ in 0..=FORGET_AFTER_ROUNDS * 2 {
            state.begin_round();
            state.keep_collector(0);
        }
        assert_eq!(
            state.increase(0, &name, &Tags::new(), 105.0),
            5.0,
            "not a new series"
        );
    }

    #[test]
    fn forgets_series_unseen_for_long() {
        let mut state = CounterState::default();
        state.begin_round();
        state.increase(0, &Cow::Borrowed("gone"), &Tags::new(), 1.0);
        for _ in 0..=FORGET_AFTER_ROUNDS {
            state.begin_round();
        }
        assert_eq!(state.len(), 0);
    }
}
