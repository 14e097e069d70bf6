//! The accounting against made-up rounds.

use super::*;

#[test]
fn groups_are_names_without_their_numbers() {
    assert_eq!(group_of("tokio-runtime-worker"), "tokio-runtime-worker");
    assert_eq!(group_of("rayon-3"), "rayon");
    assert_eq!(group_of("rayon-12"), "rayon");
    assert_eq!(group_of("pool_7"), "pool");
    assert_eq!(group_of("worker 2"), "worker");
    assert_eq!(group_of("sentry-runtime-"), "sentry-runtime");
    assert_eq!(group_of("42"), "unnamed");
    assert_eq!(group_of("h2o"), "h2o");
}

fn state(max_groups: usize) -> State {
    State::new(Arc::new(AtomicUsize::new(max_groups)))
}

/// `state` with this round's groups.
fn round<'a>(state: &'a mut State, groups: &[(&str, f64, f64, u64)]) -> &'a mut State {
    state.groups = groups
        .iter()
        .map(|(name, cpu_ms, wait_ms, threads)| {
            let group = Group {
                cpu_ms: *cpu_ms,
                wait_ms: *wait_ms,
                threads: *threads,
            };
            ((*name).to_owned(), group)
        })
        .collect();
    state
}

#[test]
fn the_busiest_groups_by_name_the_rest_as_other() {
    let mut state = state(2);
    let groups = [
        ("a", 5.0, 1.0, 1),
        ("b", 50.0, 0.0, 2),
        ("c", 2.0, 3.0, 1),
        ("d", 1.0, 0.0, 1),
    ];
    let sent = round(&mut state, &groups).send(None);
    assert_eq!(
        sent.cpu,
        BTreeMap::from([("a".into(), 5.0), ("b".into(), 50.0), ("other".into(), 3.0)])
    );
    assert_eq!(
        sent.wait,
        BTreeMap::from([("a".into(), 1.0), ("other".into(), 3.0)])
    );
    assert_eq!(
        sent.threads,
        BTreeMap::from([("a".into(), 1), ("b".into(), 2), ("other".into(), 2)])
    );
}

#[test]
fn small_increases_are_carried_and_counts_sent_when_they_change() {
    let mut state = state(16);
    let first = round(&mut state, &[("timer", 0.4, 0.2, 1)]).send(Some(0.0));
    assert!(first.cpu.is_empty() && first.wait.is_empty());
    assert_eq!(first.threads, BTreeMap::from([("timer".into(), 1)]));
    let second = round(&mut state, &[("timer", 0.7, 0.0, 1)]).send(None);
    // 0.4 + 0.7: sent, whole; the count did not change.
    assert_eq!(second.cpu, BTreeMap::from([("timer".into(), 1.1)]));
    assert!(second.threads.is_empty());
    // The group is gone: its count goes to 0 once, and its carried wait is dropped.
    let third = round(&mut state, &[]).send(None);
    assert_eq!(third.threads, BTreeMap::from([("timer".into(), 0)]));
    assert!(round(&mut state, &[]).send(None).threads.is_empty());
}

#[test]
fn exited_threads_send_what_getrusage_counts_beyond_the_threads_alive() {
    let mut state = state(16);
    // First round: what exited before, all of it.
    assert_eq!(state.exited(10_000_000, 7_000_000), Some(3.0));
    // Readings moments apart: a little back and forth sends nothing, and nothing twice.
    assert_eq!(state.exited(12_000_000, 9_100_000), None);
    assert_eq!(state.exited(14_000_000, 11_000_000), None);
    // A thread that ran 5 ms exited.
    assert_eq!(state.exited(20_000_000, 12_000_000), Some(5.0));
}
