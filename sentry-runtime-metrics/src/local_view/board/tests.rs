//! The board against made-up rounds.

use std::borrow::Cow;

use super::*;
use crate::metric::Tags;

fn metric(name: &'static str, kind: MetricType, value: MetricValue) -> RuntimeMetric {
    RuntimeMetric {
        name: Cow::Borrowed(name),
        metric_type: kind,
        value,
        unit: None,
        tags: Tags::new(),
    }
}

#[test]
fn a_gauge_that_moved_less_than_the_digits_shown_says_by_how_much() {
    let mut rss = metric("rss", MetricType::Gauge, MetricValue::Int(10_842_112));
    rss.unit = Some(Cow::Borrowed("byte"));
    let mut board = Board::default();
    board.render(
        1,
        Duration::ZERO,
        std::slice::from_ref(&rss),
        0,
        Destination::Sdk,
    );
    rss.value = MetricValue::Int(10_842_112 + 4096);
    let text = board
        .render(2, Duration::ZERO, &[rss], 0, Destination::Sdk)
        .unwrap();
    assert!(
        text.ends_with("  rss  gauge  10.34 MiB -> 10.34 MiB (+4 KiB)\n"),
        "{text}"
    );
}

#[test]
fn rounds_printed_together_sum_counters_and_keep_the_last_gauge() {
    let jobs = |n| metric("app.jobs", MetricType::Counter, MetricValue::Int(n));
    let depth = |n| metric("app.depth", MetricType::Gauge, MetricValue::Int(n));
    let mut board = Board::default();
    board.render(1, Duration::ZERO, &[jobs(1), depth(1)], 0, Destination::Sdk);
    let text = board
        .render(
            3,
            Duration::ZERO,
            &[jobs(2), depth(4), jobs(3), depth(5)],
            7,
            Destination::Sdk,
        )
        .unwrap();
    assert_eq!(
        text,
        "runtime metrics, round 3 at 0.0 s: 11 metrics (handed to the SDK) (7 not shown: \
         the view fell behind), changed:\n  \
         app.depth  gauge    1 -> 5\n  \
         app.jobs   counter  +5\n"
    );
    // A round without the gauge does not forget it; a round without metrics is not shown.
    board.render(4, Duration::ZERO, &[jobs(1)], 0, Destination::Sdk);
    let text = board
        .render(5, Duration::ZERO, &[depth(5)], 0, Destination::Sdk)
        .unwrap();
    assert!(
        text.ends_with(", nothing changed\n  (1 gauge unchanged)\n"),
        "{text}"
    );
    assert_eq!(
        board.render(6, Duration::ZERO, &[], 0, Destination::Sdk),
        None
    );
}

#[test]
fn distributions_sum_up_their_values() {
    let mut wait = metric(
        "app.wait",
        MetricType::Distribution,
        MetricValue::Float(2.0),
    );
    wait.unit = Some(Cow::Borrowed("millisecond"));
    let mut slow = wait.clone();
    slow.value = MetricValue::Float(250.0);
    let text = Board::default()
        .render(
            1,
            Duration::from_secs(2),
            &[wait, slow],
            0,
            Destination::Sdk,
        )
        .unwrap();
    assert_eq!(
        text,
        "runtime metrics, round 1 at 2.0 s: 2 metrics (handed to the SDK)\n  \
         name      type          value                     sent as\n  \
         app.wait  distribution  2 values, 2 ms .. 250 ms  2 values\n"
    );
}
