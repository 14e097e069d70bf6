//! The formats of the cgroup files read, v1 and v2. Every parser returns `None` for what it
//! cannot read whole, never a guess.

use crate::sys::readings::Throttling;

/// `text` if it is whole: the kernel ends these files with a newline, so one without was cut
/// (perhaps inside its last number).
pub(crate) fn whole(text: &str) -> Option<&str> {
    text.ends_with('\n').then_some(text)
}

/// v1 reports "unlimited" as a huge page-aligned number (`PAGE_COUNTER_MAX` pages); anything
/// above this is treated as no limit.
const V1_UNLIMITED_ABOVE: u64 = 1 << 62;

/// `memory.max`: bytes, or `max` for no limit (`Some(None)`); `None` if unreadable.
pub(crate) fn parse_v2_limit(text: &str) -> Option<Option<u64>> {
    match whole(text)?.trim() {
        "max" => Some(None),
        value => value.parse().ok().map(Some),
    }
}

/// `memory.limit_in_bytes`: bytes; a huge value means no limit (`Some(None)`).
pub(crate) fn parse_v1_limit(text: &str) -> Option<Option<u64>> {
    Some(v1_limit(whole(text)?.trim().parse().ok()?))
}

/// A v1 limit in bytes: `None` for "unlimited" (above [`V1_UNLIMITED_ABOVE`]).
fn v1_limit(bytes: u64) -> Option<u64> {
    (bytes < V1_UNLIMITED_ABOVE).then_some(bytes)
}

/// v1 `memory.stat`'s `hierarchical_memory_limit`: the smallest limit from the cgroup up to
/// the root; `Some(None)` for none.
pub(crate) fn parse_hierarchical_limit(text: &str) -> Option<Option<u64>> {
    parse_key(text, "hierarchical_memory_limit").map(v1_limit)
}

/// `cpu.max`: `quota period` in microseconds, or `max period`; `Some(None)` for no quota.
pub(crate) fn parse_cpu_max(text: &str) -> Option<Option<f64>> {
    let mut parts = whole(text)?.split_whitespace();
    let quota = parts.next()?;
    let period: f64 = parts.next()?.parse().ok()?;
    if quota == "max" {
        return Some(None);
    }
    let quota: f64 = quota.parse().ok()?;
    (quota > 0.0 && period > 0.0).then_some(Some(quota / period))
}

/// `cpu.cfs_quota_us`: microseconds per period, `-1` for no quota (`Some(None)`).
pub(crate) fn parse_cfs_quota(text: &str) -> Option<Option<f64>> {
    let quota: i64 = whole(text)?.trim().parse().ok()?;
    #[allow(clippy::cast_precision_loss)] // Microseconds far below 2^53.
    Some((quota > 0).then_some(quota as f64))
}

/// `cpu.cfs_period_us`: microseconds.
pub(crate) fn parse_cfs_period(text: &str) -> Option<f64> {
    let period: f64 = whole(text)?.trim().parse().ok()?;
    (period > 0.0).then_some(period)
}

/// The value of `key` in a flat keyed file (`key value` per line: `memory.stat`,
/// `memory.events`, `memory.oom_control`, `cpu.stat`).
pub(crate) fn parse_key(text: &str, key: &str) -> Option<u64> {
    whole(text)?.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| value.trim().parse().ok()).flatten()
    })
}

/// A single number (`memory.current`, `memory.usage_in_bytes`, `memory.failcnt`).
pub(crate) fn parse_number(text: &str) -> Option<u64> {
    whole(text)?.trim().parse().ok()
}

/// v2 `cpu.stat`: `nr_periods`, `nr_throttled`, `throttled_usec`.
pub(crate) fn parse_v2_cpu_stat(text: &str) -> Option<Throttling> {
    Some(Throttling {
        periods: parse_key(text, "nr_periods")?,
        throttled_periods: parse_key(text, "nr_throttled")?,
        throttled_us: parse_key(text, "throttled_usec")?,
    })
}

/// v1 `cpu.stat`: `nr_periods`, `nr_throttled`, `throttled_time` (nanoseconds).
pub(crate) fn parse_v1_cpu_stat(text: &str) -> Option<Throttling> {
    Some(Throttling {
        periods: parse_key(text, "nr_periods")?,
        throttled_periods: parse_key(text, "nr_throttled")?,
        throttled_us: parse_key(text, "throttled_time")? / 1000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_limits_and_quotas() {
        assert_eq!(parse_v2_limit("max\n"), Some(None));
        assert_eq!(parse_v2_limit("536870912\n"), Some(Some(512 << 20)));
        assert_eq!(parse_v2_limit(""), None);
        assert_eq!(parse_v1_limit("9223372036854771712\n"), Some(None));
        assert_eq!(parse_v1_limit("1073741824\n"), Some(Some(1 << 30)));
        assert_eq!(parse_v1_limit("x"), None);
        assert_eq!(parse_cpu_max("max 100000\n"), Some(None));
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(Some(1.5)));
        assert_eq!(parse_cpu_max("150000"), None, "cut before the period");
        assert_eq!(parse_cpu_max("150000 1000"), None, "cut inside the period");
        assert_eq!(parse_v2_limit("5368"), None, "cut");
        assert_eq!(parse_cfs_quota("-1\n"), Some(None));
        assert_eq!(parse_cfs_quota("50000\n"), Some(Some(50000.0)));
        assert_eq!(parse_cfs_period("100000\n"), Some(100000.0));
        assert_eq!(parse_cfs_period("0\n"), None);
    }

    #[test]
    fn parses_cpu_stat_of_both_versions() {
        let v2 = "usage_usec 9012\nuser_usec 8000\nsystem_usec 1012\nnr_periods 50\n\
                  nr_throttled 12\nthrottled_usec 345678\nnr_bursts 0\nburst_usec 0\n";
        assert_eq!(
            parse_v2_cpu_stat(v2),
            Some(Throttling {
                periods: 50,
                throttled_periods: 12,
                throttled_us: 345_678
            })
        );
        // Without a quota (or the cpu controller) v2 has only the usage lines.
        assert_eq!(parse_v2_cpu_stat("usage_usec 9012\nuser_usec 8000\n"), None);
        let v1 = "nr_periods 50\nnr_throttled 12\nthrottled_time 345678901\nnr_bursts 0\n";
        assert_eq!(
            parse_v1_cpu_stat(v1),
            Some(Throttling {
                periods: 50,
                throttled_periods: 12,
                throttled_us: 345_678
            })
        );
        assert_eq!(parse_v1_cpu_stat("nr_periods 50\nnr_throttled x\n"), None);
        // Cut inside the last number: not read as a smaller one.
        assert_eq!(
            parse_v1_cpu_stat(&v1[..v1.find("nr_bursts").unwrap() - 3]),
            None
        );
    }

    #[test]
    fn parses_memory_events_and_oom_control() {
        let events = "low 0\nhigh 0\nmax 17\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(parse_key(events, "max"), Some(17));
        assert_eq!(parse_key(events, "oom_kill"), Some(1));
        let oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(parse_key(oom_control, "oom_kill"), Some(3));
        // An older v1 kernel has no `oom_kill` line: nothing, not a zero.
        assert_eq!(
            parse_key("oom_kill_disable 0\nunder_oom 0\n", "oom_kill"),
            None
        );
        assert_eq!(
            parse_key("cache 9\ninactive_file 1\n", "inactive_file"),
            Some(1)
        );
        assert_eq!(parse_number("268435456\n"), Some(256 << 20));
    }
}
