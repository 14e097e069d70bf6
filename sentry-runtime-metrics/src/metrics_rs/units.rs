//! The facade's units as Sentry names them. Sentry has no rates and no "count" unit: those are
//! sent without a unit (the name says what is counted).

use metrics::Unit;

/// Sentry's name for `unit`, if it has one.
pub(super) fn sentry_unit(unit: Unit) -> Option<&'static str> {
    Some(match unit {
        Unit::Percent => "percent",
        Unit::Seconds => "second",
        Unit::Milliseconds => "millisecond",
        Unit::Microseconds => "microsecond",
        Unit::Nanoseconds => "nanosecond",
        Unit::Tebibytes => "tebibyte",
        Unit::Gibibytes => "gibibyte",
        Unit::Mebibytes => "mebibyte",
        Unit::Kibibytes => "kibibyte",
        Unit::Bytes => "byte",
        Unit::Count
        | Unit::TerabitsPerSecond
        | Unit::GigabitsPerSecond
        | Unit::MegabitsPerSecond
        | Unit::KilobitsPerSecond
        | Unit::BitsPerSecond
        | Unit::CountPerSecond => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_sentry_has_maps_to_a_unit_the_rules_keep() {
        let all = [
            Unit::Count,
            Unit::Percent,
            Unit::Seconds,
            Unit::Milliseconds,
            Unit::Microseconds,
            Unit::Nanoseconds,
            Unit::Tebibytes,
            Unit::Gibibytes,
            Unit::Mebibytes,
            Unit::Kibibytes,
            Unit::Bytes,
            Unit::TerabitsPerSecond,
            Unit::GigabitsPerSecond,
            Unit::MegabitsPerSecond,
            Unit::KilobitsPerSecond,
            Unit::BitsPerSecond,
            Unit::CountPerSecond,
        ];
        for unit in all {
            // Sentry's names are the facade's, singular; rates and counts have none.
            let facade = unit.as_str();
            let expected = (!facade.ends_with("_per_second") && facade != "count")
                .then(|| facade.strip_suffix('s').unwrap_or(facade));
            assert_eq!(sentry_unit(unit), expected, "{facade}");
            if let Some(name) = sentry_unit(unit) {
                // A unit of Sentry's own list, not one it would keep as "other".
                let parsed = sentry_core::protocol::Unit::from(name);
                assert!(
                    !matches!(parsed, sentry_core::protocol::Unit::Other(_)),
                    "{name}"
                );
            }
        }
        assert_eq!(all.into_iter().filter_map(sentry_unit).count(), 10);
    }
}
