//! How many CPUs the process may use: its affinity mask, further limited by a cgroup CPU quota.
#![cfg_attr(not(test), allow(dead_code))] // `count_list` parses `cpuset.cpus` lists in tests.

/// Counts the CPUs in a list such as `0-3,8,10-11` (the format of `Cpus_allowed_list` and
/// `cpuset.cpus`).
pub(crate) fn count_list(text: &str) -> Option<u64> {
    let mut count = 0u64;
    for part in text.trim().split(',').filter(|part| !part.is_empty()) {
        count += match part.split_once('-') {
            Some((start, end)) => {
                let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
                end.checked_sub(start)? + 1
            }
            None => {
                part.parse::<u64>().ok()?;
                1
            }
        };
    }
    (count > 0).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cpu_lists() {
        assert_eq!(count_list("0-1"), Some(2));
        assert_eq!(count_list("0-3,8,10-11\n"), Some(7));
        assert_eq!(count_list("5"), Some(1));
        assert_eq!(count_list(""), None);
        assert_eq!(count_list("3-1"), None);
        assert_eq!(count_list("x"), None);
    }
}
