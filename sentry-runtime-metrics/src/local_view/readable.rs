//! Values as a person reads them: bytes in KiB/MiB/GiB, ratios in %, times in the unit that
//! suits them, four significant digits (whole numbers from 1000); and as Sentry receives them,
//! exactly.

use crate::metric::{MetricType, MetricValue};

/// `value` with its `unit` (a unit Sentry knows, or none) as a person reads it. A counter carries
/// no unit; the built-in ones whose name ends in `_time` (`process.cpu.user_time`,
/// `process.pressure.cpu.stall_time`, ...) count milliseconds, and `process.disk.io` and
/// `runtime.memory.allocated_bytes` bytes, as documented. Any other counter is a plain number:
/// its unit is not known here.
pub(crate) fn readable(name: &str, kind: MetricType, value: f64, unit: Option<&str>) -> String {
    let built_in_time = name.starts_with("process.") && name.ends_with("_time");
    let built_in_bytes = (name.starts_with("runtime.memory.") && name.ends_with("_bytes"))
        || name == "process.disk.io";
    let unit = match unit {
        None if kind == MetricType::Counter && built_in_time => Some("millisecond"),
        None if kind == MetricType::Counter && built_in_bytes => Some("byte"),
        unit => unit,
    };
    match unit {
        Some(unit) => {
            if let Some(bytes) = bytes_per(unit) {
                binary_bytes(value * bytes)
            } else if let Some(seconds) = seconds_per(unit) {
                duration(value * seconds)
            } else {
                match unit {
                    "ratio" => format!("{} %", significant(value * 100.0)),
                    "percent" => format!("{} %", significant(value)),
                    "bit" => format!("{} bit", significant(value)),
                    other => format!("{} {other}", significant(value)),
                }
            }
        }
        None => significant(value),
    }
}

/// `value` exactly as it is sent (an integer stays an integer), with its unit.
pub(crate) fn exact(value: MetricValue, unit: Option<&str>) -> String {
    match unit {
        Some(unit) => format!("{value} {unit}"),
        None => value.to_string(),
    }
}

/// Bytes in one `unit`, for the byte units Sentry knows.
fn bytes_per(unit: &str) -> Option<f64> {
    let bytes = match unit {
        "byte" => 1.0,
        "kilobyte" => 1e3,
        "kibibyte" => 1024.0,
        "megabyte" => 1e6,
        "mebibyte" => 1024.0 * 1024.0,
        "gigabyte" => 1e9,
        "gibibyte" => 1024.0 * 1024.0 * 1024.0,
        "terabyte" => 1e12,
        "tebibyte" => 1024.0_f64.powi(4),
        "petabyte" => 1e15,
        "pebibyte" => 1024.0_f64.powi(5),
        "exabyte" => 1e18,
        "exbibyte" => 1024.0_f64.powi(6),
        _ => return None,
    };
    Some(bytes)
}

/// Seconds in one `unit`, for the time units Sentry knows.
fn seconds_per(unit: &str) -> Option<f64> {
    let seconds = match unit {
        "nanosecond" => 1e-9,
        "microsecond" => 1e-6,
        "millisecond" => 1e-3,
        "second" => 1.0,
        "minute" => 60.0,
        "hour" => 3600.0,
        "day" => 86_400.0,
        "week" => 604_800.0,
        _ => return None,
    };
    Some(seconds)
}

/// Bytes in binary units, as `htop` and `free -h` show them.
fn binary_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut scaled = bytes;
    let mut unit = 0;
    while scaled.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    format!("{} {}", significant(scaled), UNITS[unit])
}

/// A duration in the unit that keeps it between 1 and 1000 (minutes, hours and days past a
/// few minutes).
fn duration(seconds: f64) -> String {
    let magnitude = seconds.abs();
    let (value, unit) = if magnitude == 0.0 {
        (0.0, "s")
    } else if magnitude < 1e-6 {
        (seconds * 1e9, "ns")
    } else if magnitude < 1e-3 {
        (seconds * 1e6, "µs")
    } else if magnitude < 1.0 {
        (seconds * 1e3, "ms")
    } else if magnitude < 180.0 {
        (seconds, "s")
    } else if magnitude < 3.0 * 3600.0 {
        (seconds / 60.0, "min")
    } else if magnitude < 3.0 * 86_400.0 {
        (seconds / 3600.0, "h")
    } else {
        (seconds / 86_400.0, "d")
    };
    format!("{} {unit}", significant(value))
}

/// Four significant digits below 1000 and whole numbers from there, no trailing zeros: `4.755`
/// stays `4.755` (not `4.7549999999999955`), `8.83203125` → `8.832`, `12345.6` → `12346`.
pub(crate) fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor();
    // Digits after the point for four significant ones; none at or past 1000.
    let decimals = (3.0 - magnitude).max(0.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0 ..= 310.
    let decimals = decimals as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge(value: f64, unit: &str) -> String {
        readable("x", MetricType::Gauge, value, Some(unit))
    }

    #[test]
    fn values_read_like_htop() {
        assert_eq!(gauge(9_261_056.0, "byte"), "8.832 MiB");
        assert_eq!(gauge(512.0, "byte"), "512 B");
        assert_eq!(gauge(3.0, "gibibyte"), "3 GiB");
        assert_eq!(gauge(2048.0, "kibibyte"), "2 MiB");
        assert_eq!(gauge(0.4213, "ratio"), "42.13 %");
        assert_eq!(gauge(0.0007, "ratio"), "0.07 %");
        assert_eq!(gauge(12.5, "percent"), "12.5 %");
        assert_eq!(gauge(0.25, "second"), "250 ms");
        assert_eq!(gauge(93.0, "second"), "93 s");
        assert_eq!(gauge(7200.0, "second"), "120 min");
        assert_eq!(gauge(90_000.0, "second"), "25 h");
        assert_eq!(gauge(250.0, "microsecond"), "250 µs");
        assert_eq!(gauge(1500.0, "nanosecond"), "1.5 µs");
        assert_eq!(gauge(0.0, "millisecond"), "0 s");
    }

    #[test]
    fn counters_of_time_are_milliseconds_and_others_plain_numbers() {
        let counter = |name, value| readable(name, MetricType::Counter, value, None);
        assert_eq!(counter("process.cpu.user_time", 4.755), "4.755 ms");
        assert_eq!(counter("process.cpu.user_time", 37_400.0), "37.4 s");
        assert_eq!(counter("process.paging.faults", 1234.0), "1234");
        assert_eq!(
            counter("runtime.memory.allocated_bytes", 3.0 * 1048576.0),
            "3 MiB"
        );
        assert_eq!(counter("process.disk.io", 2048.0), "2 KiB");
        assert_eq!(counter("app.bytes", 2048.0), "2048", "not ours");
        // Not one of ours: its unit is not known, so it is not guessed.
        assert_eq!(counter("app.wait_time", 12.5), "12.5");
        assert_eq!(readable("x", MetricType::Gauge, 9.0, None), "9");
    }

    #[test]
    fn four_significant_digits_without_float_noise() {
        assert_eq!(significant(4.754_999_999_999_995_5), "4.755");
        assert_eq!(significant(0.000_731_5), "0.0007315");
        assert_eq!(significant(12_345.6), "12346");
        assert_eq!(significant(-2.5), "-2.5");
        assert_eq!(significant(100.0), "100");
        assert_eq!(significant(99.951_2), "99.95");
    }

    #[test]
    fn exact_values_are_what_is_sent() {
        assert_eq!(
            exact(MetricValue::Int(9_261_056), Some("byte")),
            "9261056 byte"
        );
        assert_eq!(exact(MetricValue::Float(4.755), None), "4.755");
    }
}
