//! Tokio's own latency histograms (`tokio_unstable`), when the application turned them on with
//! its runtime builder: poll time (`enable_metrics_poll_time_histogram`) and, with the
//! `tokio-schedule-latency` feature, task schedule latency
//! (`enable_metrics_schedule_latency_histogram`, Tokio 1.53).
//!
//! Each round sends what happened in the interval: the increase of each bucket's count, summed
//! over workers, as a distribution. Every value sent is an item Sentry stores and bills (the
//! SDK does not aggregate), so a round sends a bounded number of values per
//! histogram ([`TokioMetrics::histogram_values`](super::TokioMetrics::histogram_values),
//! default 100): each bucket's share of them, in proportion to its count (largest remainders first),
//! each value the middle of its bucket (the start of the last, open-ended one). Sentry's
//! percentiles over them are then those of Tokio's histogram, to within one bucket and
//! 1 / values of rank, and they add up across rounds and hosts, which percentile gauges would
//! not. The exact number of samples is sent as a counter next to the distribution.

use std::time::Duration;

use tokio::runtime::RuntimeMetrics;

/// The bucket counts of one histogram, summed over workers, as last read.
#[derive(Clone, Debug)]
struct Buckets {
    /// The representative value of each bucket.
    values: Vec<Duration>,
    totals: Vec<u64>,
}

/// What a histogram recorded in one round.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Recorded {
    /// A representative set of the round's samples.
    pub(super) values: Vec<Duration>,
    /// How many samples there were.
    pub(super) count: u64,
}

/// The histograms of one runtime.
#[derive(Clone, Debug, Default)]
pub(super) struct Histograms {
    poll: Option<Buckets>,
    #[cfg(feature = "tokio-schedule-latency")]
    schedule: Option<Buckets>,
}

/// What the histograms recorded since the previous sample.
#[derive(Debug, Default)]
pub(super) struct Grew {
    pub(super) poll: Option<Recorded>,
    #[cfg(feature = "tokio-schedule-latency")]
    pub(super) schedule: Option<Recorded>,
}

impl Histograms {
    /// The histograms of a runtime as they are now: the baseline of its first sample (nothing
    /// recorded before the collector was created is sent).
    pub(super) fn new(metrics: &RuntimeMetrics) -> Self {
        Histograms {
            poll: poll_buckets(metrics),
            #[cfg(feature = "tokio-schedule-latency")]
            schedule: schedule_buckets(metrics),
        }
    }

    /// What each histogram recorded since the previous call, `values` values at most each.
    pub(super) fn grew(&mut self, metrics: &RuntimeMetrics, values: usize) -> Grew {
        Grew {
            poll: grew(&mut self.poll, poll_buckets(metrics), values),
            #[cfg(feature = "tokio-schedule-latency")]
            schedule: grew(&mut self.schedule, schedule_buckets(metrics), values),
        }
    }
}

/// What `now` recorded beyond `last`, which becomes `now`.
fn grew(last: &mut Option<Buckets>, now: Option<Buckets>, values: usize) -> Option<Recorded> {
    let now = now?;
    let recorded = match last.as_ref() {
        // The same buckets: what each grew by (a count that went down started over).
        Some(last) if last.values == now.values => {
            let increases: Vec<u64> = now
                .totals
                .iter()
                .zip(&last.totals)
                .map(|(now, then)| now.checked_sub(*then).unwrap_or(*now))
                .collect();
            Some(representative(&now.values, &increases, values))
        }
        // No baseline yet: recorded from now on.
        _ => None,
    };
    *last = Some(now);
    recorded
}

/// At most `budget` values standing for `counts[i]` samples of `values[i]` each: all of them
/// when there are few enough, else each bucket's proportional share, the leftover going to the
/// largest remainders.
pub(super) fn representative(values: &[Duration], counts: &[u64], budget: usize) -> Recorded {
    let count: u64 = counts.iter().sum();
    let budget = budget as u64;
    let shares: Vec<u64> = if count <= budget {
        counts.to_vec()
    } else {
        // Floors of count * budget / total, then one more for the largest remainders.
        let mut shares: Vec<(u64, u128, usize)> = counts
            .iter()
            .enumerate()
            .map(|(index, n)| {
                let scaled = u128::from(*n) * u128::from(budget);
                let total = u128::from(count);
                ((scaled / total) as u64, scaled % total, index)
            })
            .collect();
        let given: u64 = shares.iter().map(|(share, _, _)| share).sum();
        let mut by_remainder: Vec<usize> = (0..shares.len()).collect();
        by_remainder.sort_by(|a, b| shares[*b].1.cmp(&shares[*a].1).then(a.cmp(b)));
        for index in by_remainder.into_iter().take((budget - given) as usize) {
            shares[index].0 += 1;
        }
        shares.into_iter().map(|(share, _, _)| share).collect()
    };
    let mut sent = Vec::with_capacity(shares.iter().sum::<u64>() as usize);
    for (value, share) in values.iter().zip(shares) {
        sent.extend(std::iter::repeat_n(*value, share as usize));
    }
    Recorded {
        values: sent,
        count,
    }
}

/// The value standing for a bucket: its middle; the start of the last, open-ended one.
fn middle(range: std::ops::Range<Duration>, last: bool) -> Duration {
    if last || range.end <= range.start {
        range.start
    } else {
        range.start + (range.end - range.start) / 2
    }
}

fn poll_buckets(metrics: &RuntimeMetrics) -> Option<Buckets> {
    if !metrics.poll_time_histogram_enabled() {
        return None;
    }
    let buckets = metrics.poll_time_histogram_num_buckets();
    let workers = metrics.num_workers();
    Some(Buckets {
        values: (0..buckets)
            .map(|b| {
                middle(
                    metrics.poll_time_histogram_bucket_range(b),
                    b + 1 == buckets,
                )
            })
            .collect(),
        totals: (0..buckets)
            .map(|b| {
                (0..workers)
                    .map(|w| metrics.poll_time_histogram_bucket_count(w, b))
                    .sum()
            })
            .collect(),
    })
}

#[cfg(feature = "tokio-schedule-latency")]
fn schedule_buckets(metrics: &RuntimeMetrics) -> Option<Buckets> {
    if !metrics.schedule_latency_histogram_enabled() {
        return None;
    }
    let buckets = metrics.schedule_latency_histogram_num_buckets();
    let workers = metrics.num_workers();
    Some(Buckets {
        values: (0..buckets)
            .map(|b| {
                middle(
                    metrics.schedule_latency_histogram_bucket_range(b),
                    b + 1 == buckets,
                )
            })
            .collect(),
        totals: (0..buckets)
            .map(|b| {
                (0..workers)
                    .map(|w| metrics.schedule_latency_histogram_bucket_count(w, b))
                    .sum()
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn few_samples_are_sent_each() {
        let recorded = representative(&[ms(1), ms(2), ms(3)], &[2, 0, 1], 100);
        assert_eq!(recorded.values, [ms(1), ms(1), ms(3)]);
        assert_eq!(recorded.count, 3);
    }

    #[test]
    fn many_samples_are_sent_in_proportion_within_the_budget() {
        let recorded = representative(&[ms(1), ms(2), ms(50)], &[9_000, 900, 100], 100);
        assert_eq!(recorded.count, 10_000);
        assert_eq!(recorded.values.len(), 100);
        let of = |v| recorded.values.iter().filter(|x| **x == v).count();
        assert_eq!((of(ms(1)), of(ms(2)), of(ms(50))), (90, 9, 1));
        // Largest remainders: 1/3 each does not leave a value out.
        let thirds = representative(&[ms(1), ms(2), ms(3)], &[1000, 1000, 1000], 100);
        assert_eq!(thirds.values.len(), 100);
    }

    #[test]
    fn a_bucket_stands_for_its_middle_and_the_last_for_its_start() {
        assert_eq!(middle(ms(0)..ms(100), false), ms(50));
        assert_eq!(middle(ms(100)..Duration::MAX, true), ms(100));
    }
}
