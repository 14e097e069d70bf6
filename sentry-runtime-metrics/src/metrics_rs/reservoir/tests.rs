//! The reservoir's counts and samples, alone and with threads recording at once.

use super::*;

fn drained(reservoir: &Reservoir) -> (Vec<f64>, u64) {
    let mut values = Vec::new();
    let count = reservoir.drain(&mut values);
    (values, count)
}

#[test]
fn keeps_everything_up_to_capacity_and_counts_exactly_past_it() {
    let reservoir = Reservoir::new(4, 1);
    for value in [1.0, 2.0, 3.0] {
        reservoir.record(value);
    }
    assert_eq!(drained(&reservoir), (vec![1.0, 2.0, 3.0], 3));
    assert_eq!(drained(&reservoir), (vec![], 0), "drained and emptied");
    for value in 0..1000 {
        reservoir.record(f64::from(value));
    }
    let (values, count) = drained(&reservoir);
    assert_eq!(count, 1000);
    assert_eq!(values.len(), 4);
    assert!(values.iter().all(|v| (0.0..1000.0).contains(v)));
    // Both windows are used in turn, and the other one starts empty.
    reservoir.record(7.0);
    assert_eq!(drained(&reservoir), (vec![7.0], 1));
}

#[test]
fn the_sample_past_capacity_is_uniform() {
    // 100 rounds of 10 000 values 0..10 000 into a 100-slot sample: each tenth of the range
    // should hold a tenth of the sampled values.
    let reservoir = Reservoir::new(100, 7);
    let mut deciles = [0u32; 10];
    for _ in 0..100 {
        for value in 0..10_000 {
            reservoir.record(f64::from(value));
        }
        let (values, count) = drained(&reservoir);
        assert_eq!((values.len(), count), (100, 10_000));
        for value in values {
            deciles[(value / 1000.0) as usize] += 1;
        }
    }
    // 10 000 samples, 1 000 expected per decile; the standard deviation is 30.
    for (decile, n) in deciles.iter().enumerate() {
        assert!((850..1150).contains(n), "decile {decile}: {n} of 10 000");
    }
}

#[test]
fn record_many_counts_exactly_and_samples_like_single_records() {
    let reservoir = Reservoir::new(10, 3);
    reservoir.record_many(1.0, 4);
    assert_eq!(drained(&reservoir), (vec![1.0; 4], 4));
    // 10 values of 0, then 990 of 1: about 99% of the sample should be 1.
    let mut ones = 0;
    for _ in 0..200 {
        reservoir.record_many(0.0, 10);
        reservoir.record_many(1.0, 990);
        let (values, count) = drained(&reservoir);
        assert_eq!((values.len(), count), (10, 1000));
        ones += values.iter().filter(|v| **v == 1.0).count();
    }
    assert!((1940..=2000).contains(&ones), "{ones} of 2000");
    reservoir.record_many(5.0, 0);
    assert_eq!(drained(&reservoir), (vec![], 0));
}

#[test]
fn a_short_run_past_capacity_leaves_at_most_as_many_copies_as_it_recorded() {
    let reservoir = Reservoir::new(100, 11);
    let mut copies_seen = 0;
    for _ in 0..2000 {
        for value in 0..100 {
            reservoir.record(f64::from(value));
        }
        reservoir.record_many(999.0, 2);
        let (values, count) = drained(&reservoir);
        assert_eq!(count, 102);
        let copies = values.iter().filter(|v| **v == 999.0).count();
        assert!(copies <= 2, "{copies} copies of 2 records");
        copies_seen += copies;
    }
    // Each of the 2 has a 100/101 or 100/102 chance to enter, minus the second replacing
    // the first: about 1.94 copies per round.
    assert!((3700..=4000).contains(&copies_seen), "{copies_seen}");
}

#[test]
fn a_count_past_the_window_limit_is_counted_as_lost_not_wrapped() {
    let reservoir = Reservoir::new(4, 5);
    reservoir.record_many(1.0, u64::MAX);
    reservoir.record_many(2.0, 10);
    let (values, count) = drained(&reservoir);
    assert_eq!(count, MAX_COUNT);
    assert_eq!(values.len(), 4);
    assert_eq!(reservoir.take_overflow(), u64::MAX - MAX_COUNT + 10);
    assert_eq!(reservoir.take_overflow(), 0);
    // The window bit was never touched: the next round is clean.
    reservoir.record(3.0);
    assert_eq!(drained(&reservoir), (vec![3.0], 1));
}

#[test]
fn a_late_store_is_never_sent_in_a_later_round() {
    let reservoir = Reservoir::new(8, 13);
    for value in 0..6 {
        reservoir.record(f64::from(value));
    }
    assert_eq!(drained(&reservoir).1, 6);
    // A writer that counted its value before that drain stores it only now, into slot 5
    // of the closed window 0.
    reservoir.store(0, 5, -1.0);
    // Window 1's round, then window 0 reopens: 8 values are counted, and the one counted
    // 5th is late too, stored only after this round's drain.
    assert_eq!(drained(&reservoir), (vec![], 0));
    reservoir.state.fetch_add(8, Ordering::Relaxed);
    for slot in (0..8).filter(|slot| *slot != 5) {
        reservoir.store(0, slot, f64::from(100 + slot as u32));
    }
    let (values, count) = drained(&reservoir);
    assert_eq!(count, 8);
    assert!(
        !values.contains(&-1.0),
        "an earlier round's value: {values:?}"
    );
    assert_eq!(values.len(), 7);
}

#[test]
fn a_zero_capacity_only_counts_and_nan_is_kept_as_nan() {
    let reservoir = Reservoir::new(0, 0);
    reservoir.record(1.0);
    reservoir.record_many(2.0, 5);
    assert_eq!(drained(&reservoir), (vec![], 6));
    let reservoir = Reservoir::new(2, 0);
    reservoir.record(f64::NAN);
    let (values, count) = drained(&reservoir);
    assert_eq!(count, 1);
    assert!(values[0].is_nan());
}

#[test]
fn concurrent_records_are_all_counted_once() {
    let reservoir = std::sync::Arc::new(Reservoir::new(50, 9));
    let mut total = 0;
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let reservoir = &reservoir;
            scope.spawn(move || {
                for value in 0..100_000 {
                    reservoir.record(f64::from(thread * 100_000 + value));
                }
            });
        }
        for _ in 0..50 {
            let (values, count) = drained(&reservoir);
            assert!(values.len() as u64 <= count.min(50));
            assert!(values.iter().all(|v| (0.0..400_000.0).contains(v)));
            total += count;
        }
    });
    total += drained(&reservoir).1;
    assert_eq!(total, 400_000);
}
