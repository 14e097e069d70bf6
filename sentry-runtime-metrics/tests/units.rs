//! The derive's unit table agrees with the SDK's own parsing (sentry-types `Unit`), so a unit the
//! derive accepts is never stripped by Sentry, and no known unit is rejected.

use std::collections::BTreeSet;

use sentry_core::protocol::Unit;

const SPELLINGS: &[&str] = sentry_runtime_metrics_derive::__known_units!();

#[test]
fn every_spelling_the_derive_accepts_is_a_known_sentry_unit() {
    for spelling in SPELLINGS {
        let unit = Unit::from(*spelling);
        assert!(
            !matches!(unit, Unit::Other(_)),
            "`{spelling}` is not a unit sentry-types knows"
        );
    }
}

#[test]
fn the_derive_covers_every_named_sentry_unit() {
    let canonical: BTreeSet<String> = SPELLINGS
        .iter()
        .map(|spelling| format!("{:?}", Unit::from(*spelling)).to_lowercase())
        .collect();
    // sentry-types 0.49 names 24 units (Nanosecond .. Percent, besides `Other`).
    assert_eq!(canonical.len(), 24, "{canonical:?}");
    // The canonical spelling is the one Sentry serializes: the lowercase variant name.
    for name in &canonical {
        assert!(
            SPELLINGS.contains(&name.as_str()),
            "missing canonical spelling `{name}`"
        );
    }
}
