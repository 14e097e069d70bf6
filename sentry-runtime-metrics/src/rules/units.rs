//! Units as Sentry knows them (sentry-types' `Unit`): the name it serializes for each, so a
//! unit spelled another way is sent canonical and one it does not know is stripped.

use sentry_core::protocol::Unit;

/// Every unit by the name Sentry serializes, which is also how collectors usually spell it.
const CANONICAL_UNITS: [&str; 24] = [
    "nanosecond",
    "microsecond",
    "millisecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "bit",
    "byte",
    "kilobyte",
    "kibibyte",
    "megabyte",
    "mebibyte",
    "gigabyte",
    "gibibyte",
    "terabyte",
    "tebibyte",
    "petabyte",
    "pebibyte",
    "exabyte",
    "exbibyte",
    "ratio",
    "percent",
];

/// The name Sentry serializes for `unit`, if it is one Sentry knows (by sentry-types' rules).
pub(super) fn canonical_unit(unit: &str) -> Option<&'static str> {
    // Spelled as Sentry spells it (the derive writes these): no parse, no allocation.
    if let Some(canonical) = CANONICAL_UNITS.iter().find(|name| **name == unit) {
        return Some(canonical);
    }
    Some(match Unit::from(unit.to_owned()) {
        Unit::Nanosecond => "nanosecond",
        Unit::Microsecond => "microsecond",
        Unit::Millisecond => "millisecond",
        Unit::Second => "second",
        Unit::Minute => "minute",
        Unit::Hour => "hour",
        Unit::Day => "day",
        Unit::Week => "week",
        Unit::Bit => "bit",
        Unit::Byte => "byte",
        Unit::Kilobyte => "kilobyte",
        Unit::Kibibyte => "kibibyte",
        Unit::Megabyte => "megabyte",
        Unit::Mebibyte => "mebibyte",
        Unit::Gigabyte => "gigabyte",
        Unit::Gibibyte => "gibibyte",
        Unit::Terabyte => "terabyte",
        Unit::Tebibyte => "tebibyte",
        Unit::Petabyte => "petabyte",
        Unit::Pebibyte => "pebibyte",
        Unit::Exabyte => "exabyte",
        Unit::Exbibyte => "exbibyte",
        Unit::Ratio => "ratio",
        Unit::Percent => "percent",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::MetricValue;
    use crate::rules::tests::metric;
    use crate::rules::{MAX_ATTRIBUTES, fix};

    #[test]
    fn canonicalizes_or_strips_units() {
        let mut m = metric("a", MetricValue::Int(1));
        m.unit = Some("ms".into());
        let mut ms = m.clone();
        assert!(!fix(&mut ms, MAX_ATTRIBUTES).any());
        assert_eq!(ms.unit.as_deref(), Some("millisecond"));
        m.unit = Some("count".into());
        let fixes = fix(&mut m, MAX_ATTRIBUTES);
        assert_eq!(m.unit, None);
        assert_eq!(fixes.stripped_unit.as_deref(), Some("count"));
        assert!(fixes.describe(&m.name).starts_with("unit `count` stripped"));
    }

    #[test]
    fn the_canonical_names_are_sentry_types_own() {
        for name in CANONICAL_UNITS {
            let parsed = format!("{:?}", Unit::from(name)).to_lowercase();
            assert_eq!(parsed, name);
        }
    }
}
