//! The round's budget of histogram values: all histograms together send at most
//! `max_histogram_values` a round; when they kept more, each sends an equal share (one that
//! needs fewer gives the rest to the others), a uniform sample of its own values. Each
//! histogram's `.count` is sent apart, exact.

use crate::metrics_rs::reservoir::mix;

/// How many of each histogram's values to send, when together they are more than `budget`:
/// every histogram an equal share, and what one needs less of goes to the others. Each keeps a
/// uniform sample of its own values, and its `.count` stays exact.
pub(super) fn shares(sizes: &[usize], budget: usize) -> Vec<usize> {
    if sizes.iter().sum::<usize>() <= budget {
        return sizes.to_vec();
    }
    let mut by_size: Vec<usize> = (0..sizes.len()).collect();
    by_size.sort_by_key(|&index| sizes[index]);
    let mut shares = vec![0; sizes.len()];
    let mut left = budget;
    for (taken, &index) in by_size.iter().enumerate() {
        let share = sizes[index].min(left / (sizes.len() - taken));
        shares[index] = share;
        left -= share;
    }
    shares
}

/// Keeps a uniform sample of `keep` of `values` (a partial Fisher-Yates shuffle).
pub(super) fn pick(values: &mut Vec<f64>, keep: usize, seed: u64) {
    if keep >= values.len() {
        return;
    }
    for i in 0..keep {
        let rest = (values.len() - i) as u64;
        let j = i + (mix(seed ^ i as u64) % rest) as usize;
        values.swap(i, j);
    }
    values.truncate(keep);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_equal_and_what_one_needs_less_of_goes_to_the_others() {
        assert_eq!(shares(&[3, 4], 10), [3, 4], "within budget: everything");
        assert_eq!(shares(&[100, 100, 100], 10), [3, 3, 4]);
        assert_eq!(shares(&[1, 100, 100], 11), [1, 5, 5]);
        assert_eq!(shares(&[100, 2, 0], 50), [48, 2, 0]);
        assert_eq!(shares(&[5, 5], 0), [0, 0]);
        assert_eq!(shares(&[], 0), Vec::<usize>::new());
        for sizes in [[7, 90, 33, 100], [100, 100, 100, 1]] {
            let given = shares(&sizes, 60);
            assert_eq!(given.iter().sum::<usize>(), 60);
            assert!(given.iter().zip(sizes).all(|(g, s)| *g <= s));
        }
    }

    #[test]
    fn pick_keeps_a_uniform_sample_of_distinct_values() {
        let mut low_half = 0;
        for round in 0..1000 {
            let mut values: Vec<f64> = (0..100).map(f64::from).collect();
            pick(&mut values, 10, mix(round));
            assert_eq!(values.len(), 10);
            let mut distinct = values.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            assert_eq!(distinct.len(), 10);
            low_half += values.iter().filter(|v| **v < 50.0).count();
        }
        // 10 000 picks, 5 000 expected below 50; the standard deviation is about 48.
        assert!((4800..5200).contains(&low_half), "{low_half}");
    }
}
