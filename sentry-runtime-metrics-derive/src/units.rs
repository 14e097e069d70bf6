//! The units Sentry knows, mirrored from sentry-types' `protocol::Unit` (0.49).
//!
//! Sentry strips any other unit at ingestion, so the derive rejects it at compile time. The tests
//! below check every spelling here against sentry-types' own `Unit` parsing, so this table
//! cannot drift from the SDK unnoticed.

/// One unit: its canonical name (what is sent), the other spellings sentry-types accepts for it,
/// and, for time units, how many of it make one second.
pub(crate) struct Unit {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) time: Option<TimeUnit>,
}

/// The time units, which a `Duration` field can be converted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
}

impl TimeUnit {
    /// The name of the matching `__private::TimeUnit` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            TimeUnit::Nanosecond => "Nanosecond",
            TimeUnit::Microsecond => "Microsecond",
            TimeUnit::Millisecond => "Millisecond",
            TimeUnit::Second => "Second",
            TimeUnit::Minute => "Minute",
            TimeUnit::Hour => "Hour",
            TimeUnit::Day => "Day",
            TimeUnit::Week => "Week",
        }
    }
}

macro_rules! units {
    ($( $name:literal [$($alias:literal),*] $(=> $time:ident)? ;)*) => {
        pub(crate) const UNITS: &[Unit] = &[
            $(Unit {
                name: $name,
                aliases: &[$($alias),*],
                time: units!(@time $($time)?),
            },)*
        ];
    };
    (@time) => { None };
    (@time $time:ident) => { Some(TimeUnit::$time) };
}

units! {
    "nanosecond" ["Nanosecond", "nanoseconds", "Nanoseconds", "ns"] => Nanosecond;
    "microsecond" ["Microsecond", "microseconds", "Microseconds", "μs", "µs"] => Microsecond;
    "millisecond" ["Millisecond", "milliseconds", "Milliseconds", "ms"] => Millisecond;
    "second" ["Second", "seconds", "Seconds", "s"] => Second;
    "minute" ["Minute", "minutes", "Minutes", "min"] => Minute;
    "hour" ["Hour", "hours", "Hours", "h"] => Hour;
    "day" ["Day", "days", "Days", "d"] => Day;
    "week" ["Week", "weeks", "Weeks"] => Week;
    "bit" ["Bit", "bits", "Bits", "b"];
    "byte" ["Byte", "bytes", "Bytes", "B"];
    "kilobyte" ["Kilobyte", "kilobytes", "Kilobytes", "kB"];
    "kibibyte" ["Kibibyte", "kibibytes", "Kibibytes", "KiB"];
    "megabyte" ["Megabyte", "megabytes", "Megabytes", "MB"];
    "mebibyte" ["Mebibyte", "mebibytes", "Mebibytes", "MiB"];
    "gigabyte" ["Gigabyte", "gigabytes", "Gigabytes", "GB"];
    "gibibyte" ["Gibibyte", "gibibytes", "Gibibytes", "GiB"];
    "terabyte" ["Terabyte", "terabytes", "Terabytes", "TB"];
    "tebibyte" ["Tebibyte", "tebibytes", "Tebibytes", "TiB"];
    "petabyte" ["Petabyte", "petabytes", "Petabytes", "PB"];
    "pebibyte" ["Pebibyte", "pebibytes", "Pebibytes", "PiB"];
    "exabyte" ["Exabyte", "exabytes", "Exabytes", "EB"];
    "exbibyte" ["Exbibyte", "exbibytes", "Exbibytes", "EiB"];
    "ratio" ["Ratio"];
    "percent" ["Percent", "%"];
}

/// Finds the unit spelled `text`, by its name or any alias.
pub(crate) fn lookup(text: &str) -> Option<&'static Unit> {
    UNITS
        .iter()
        .find(|unit| unit.name == text || unit.aliases.contains(&text))
}

/// Words people write as the unit of a number of things (`unit = "count"`), which Sentry has no
/// unit for: the derive says to leave `unit` out instead of suggesting a close spelling.
const COUNT_WORDS: &[&str] = &[
    "count",
    "counts",
    "item",
    "items",
    "none",
    "number",
    "num",
    "each",
    "times",
    "events",
    "requests",
    "calls",
    "ops",
    "operations",
    "entries",
    "elements",
    "tasks",
    "jobs",
    "threads",
    "connections",
    "errors",
    "messages",
    "objects",
    "unit",
    "units",
    "1",
];

/// Whether `text` names a number of things rather than a unit.
pub(crate) fn is_a_count(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    COUNT_WORDS.contains(&lower.as_str())
}

/// The canonical unit whose spelling is closest to `text`, for "did you mean" hints.
pub(crate) fn closest(text: &str) -> &'static str {
    let lower = text.to_lowercase();
    let mut best = ("byte", usize::MAX);
    for unit in UNITS {
        for spelling in std::iter::once(&unit.name).chain(unit.aliases) {
            let spelling = spelling.to_lowercase();
            // A shared beginning is the strongest hint ("secs" means seconds, not "ns").
            let prefix = lower
                .chars()
                .zip(spelling.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let distance = edit_distance(&lower, &spelling).saturating_sub(prefix);
            if distance < best.1 {
                best = (unit.name, distance);
            }
        }
    }
    best.0
}

/// Levenshtein distance over chars; inputs are a few characters long.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Every accepted spelling, canonical names first.
#[cfg(test)]
fn all_spellings() -> impl Iterator<Item = &'static str> {
    UNITS
        .iter()
        .map(|unit| unit.name)
        .chain(UNITS.iter().flat_map(|unit| unit.aliases.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_canonical_names() {
        assert_eq!(lookup("ms").map(|u| u.name), Some("millisecond"));
        assert_eq!(lookup("MiB").map(|u| u.name), Some("mebibyte"));
        assert_eq!(lookup("%").map(|u| u.name), Some("percent"));
        assert!(lookup("count").is_none());
        assert!(
            lookup("BYTE").is_none(),
            "sentry-types is case sensitive beyond its aliases"
        );
    }

    #[test]
    fn every_spelling_is_a_unit_sentry_types_knows() {
        for spelling in all_spellings() {
            let unit = sentry_core::protocol::Unit::from(spelling);
            assert!(
                !matches!(unit, sentry_core::protocol::Unit::Other(_)),
                "`{spelling}` is not a unit sentry-types knows"
            );
            // And the same one: the canonical name is what Sentry serializes.
            let canonical = lookup(spelling).map(|known| known.name);
            assert_eq!(
                Some(format!("{unit:?}").to_lowercase()).as_deref(),
                canonical,
                "{spelling}"
            );
        }
    }

    #[test]
    fn every_named_sentry_unit_is_covered() {
        let canonical: std::collections::BTreeSet<&str> =
            UNITS.iter().map(|unit| unit.name).collect();
        // sentry-types 0.49 names 24 units (Nanosecond .. Percent, besides `Other`).
        assert_eq!(canonical.len(), 24, "{canonical:?}");
        for name in canonical {
            let unit = sentry_core::protocol::Unit::from(name);
            assert_eq!(format!("{unit:?}").to_lowercase(), name);
        }
    }

    #[test]
    fn counts_are_not_units() {
        assert!(is_a_count("count"));
        assert!(is_a_count("Items"));
        assert!(!is_a_count("byte"));
        assert!(!is_a_count("countess"));
    }

    #[test]
    fn closest_suggests_a_likely_unit() {
        assert_eq!(closest("bytes_"), "byte");
        assert_eq!(closest("milisecond"), "millisecond");
        assert_eq!(closest("Percentage"), "percent");
        assert_eq!(closest("secs"), "second");
    }
}
