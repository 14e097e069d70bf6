//! The registry: series found, refused and forgotten.

use super::*;

fn registry(max_series: usize) -> Registry {
    Registry::new(Limits {
        max_series,
        histogram_samples: 4,
        max_histogram_values: 10,
        idle_timeout: None,
    })
}

#[test]
fn a_key_finds_its_series_and_new_series_stop_at_the_limit() {
    let registry = registry(3);
    let a = registry.counter(&Key::from_name("a")).unwrap();
    let again = registry.counter(&Key::from_name("a")).unwrap();
    assert!(Arc::ptr_eq(&a, &again));
    assert!(
        registry.gauge(&Key::from_name("a")).is_some(),
        "another kind"
    );
    assert!(registry.histogram(&Key::from_name("h")).is_some());
    assert!(
        registry.counter(&Key::from_name("b")).is_none(),
        "over the limit"
    );
    assert!(
        registry.counter(&Key::from_name("a")).is_some(),
        "existing still found"
    );
    assert_eq!(registry.counters.take_added().len(), 1);
    assert_eq!(registry.counters.take_added().len(), 0);
}

#[test]
fn a_key_past_the_size_limit_is_refused() {
    let registry = registry(10);
    let long = "x".repeat(MAX_KEY_BYTES);
    assert!(registry.counter(&Key::from_name(long.clone())).is_some());
    let labelled = Key::from_parts(long, vec![metrics::Label::new("k", "v")]);
    assert!(registry.counter(&labelled).is_none());
}

#[test]
fn labels_tell_series_apart() {
    let registry = registry(10);
    let key = |route: &'static str| {
        Key::from_parts("requests", vec![metrics::Label::new("route", route)])
    };
    let a = registry.counter(&key("/a")).unwrap();
    let b = registry.counter(&key("/b")).unwrap();
    assert!(!Arc::ptr_eq(&a, &b));
    assert!(Arc::ptr_eq(&a, &registry.counter(&key("/a")).unwrap()));
}

#[test]
fn threads_racing_for_one_key_get_one_series() {
    let registry = registry(100);
    let found: Vec<_> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| registry.counter(&Key::from_name("raced")).unwrap()))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(found.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])));
    assert_eq!(registry.counters.take_added().len(), 1);
}
