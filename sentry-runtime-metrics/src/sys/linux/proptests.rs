//! Property tests of every parser of system files: arbitrary input never panics, and valid
//! input parses to the numbers a straightforward reference parse finds.

use proptest::prelude::*;

use super::cgroup::mounts::parse_mountinfo;
use super::cgroup::parse::{
    parse_cfs_period, parse_cfs_quota, parse_cpu_max, parse_hierarchical_limit, parse_key,
    parse_number, parse_v1_cpu_stat, parse_v1_limit, parse_v2_cpu_stat, parse_v2_limit,
};
use super::cgroup::parse_membership;
use super::cgroup::pressure::parse_pressure;
use super::cpus::count_list;
use super::file::text_of;
use super::peak::parse_status_peak;
use super::process::{parse_io, parse_statm, parse_uptime};
use super::stat;

/// Arbitrary bytes, as read from a file.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..600)
}

/// Command names as the kernel allows them: up to 15 bytes of anything but NUL, so spaces,
/// parentheses and newlines included.
fn comm() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(' '),
            Just('('),
            Just(')'),
            Just('\n'),
            Just('x'),
            Just('9'),
            Just('é')
        ],
        0..15,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #[test]
    fn bytes_become_text_of_the_same_length_keeping_ascii(original in bytes()) {
        let mut buf = original.clone();
        let text = text_of(&mut buf);
        prop_assert_eq!(text.len(), original.len());
        for (byte, kept) in original.iter().zip(text.bytes()) {
            if byte.is_ascii() {
                prop_assert_eq!(*byte, kept);
            }
        }
        // Valid UTF-8 is left as it is.
        if let Ok(valid) = std::str::from_utf8(&original) {
            prop_assert_eq!(text, valid);
        }
    }

    #[test]
    fn no_parser_panics_on_arbitrary_bytes(mut raw in bytes()) {
        // What a parser gets from a file of these bytes.
        let input = text_of(&mut raw);
        let _ = stat::parse(input);
        let _ = parse_membership(input);
        let _ = parse_v1_limit(input);
        let _ = parse_v2_limit(input);
        let _ = parse_cpu_max(input);
        let _ = parse_cfs_quota(input);
        let _ = parse_cfs_period(input);
        let _ = parse_key(input, "inactive_file");
        let _ = parse_number(input);
        let _ = parse_v1_cpu_stat(input);
        let _ = parse_v2_cpu_stat(input);
        let _ = parse_pressure(input);
        let _ = parse_io(input);
        let _ = parse_statm(input);
        let _ = parse_uptime(input);
        let _ = parse_hierarchical_limit(input);
        let _ = parse_status_peak(input);
        let _ = parse_mountinfo(input);
        let _ = count_list(input);
    }

    #[test]
    fn stat_lines_parse_to_their_fields(
        pid in 1u32..4_000_000,
        comm in comm(),
        fields in proptest::collection::vec(0u64..u64::MAX / 2, 50),
    ) {
        // Fields 3.. after the command name; 3 is the state letter.
        let rest: Vec<String> = fields.iter().map(u64::to_string).collect();
        let line = format!("{pid} ({comm}) S {}\n", rest.join(" "));
        // Reference: the numbers at 1-based positions 14, 15, 20, 24 (field 4 is rest[0]).
        let field = |n: usize| fields[n - 4];
        let parsed = stat::parse(&line).expect("a valid line parses");
        prop_assert_eq!(parsed.utime_ticks, field(14));
        prop_assert_eq!(parsed.stime_ticks, field(15));
        prop_assert_eq!(parsed.num_threads, field(20));
        prop_assert_eq!(parsed.start_ticks, field(22));
        prop_assert_eq!(parsed.rss_pages, field(24));
    }

    #[test]
    fn truncated_stat_lines_never_parse_to_wrong_numbers(
        comm in comm(),
        fields in proptest::collection::vec(1u64..1_000_000, 50),
        cut in 0usize..400,
    ) {
        let rest: Vec<String> = fields.iter().map(u64::to_string).collect();
        let line = format!("1 ({comm}) S {}\n", rest.join(" "));
        let mut end = cut.min(line.len());
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        // A cut line parses to nothing or (cut after field 24) to the right numbers, never to
        // a number cut short.
        if let Some(parsed) = stat::parse(&line[..end]) {
            prop_assert_eq!(parsed.utime_ticks, fields[10]);
            prop_assert_eq!(parsed.stime_ticks, fields[11]);
            prop_assert_eq!(parsed.num_threads, fields[16]);
            prop_assert_eq!(parsed.start_ticks, fields[18]);
            prop_assert_eq!(parsed.rss_pages, fields[20]);
        }
    }

    #[test]
    fn limits_and_quotas_parse_like_a_reference(value in 1u64..(1 << 61), period in 1u64..10_000_000) {
        prop_assert_eq!(parse_v2_limit(&format!("{value}\n")), Some(Some(value)));
        prop_assert_eq!(parse_v1_limit(&format!("{value}\n")), Some(Some(value)));
        prop_assert_eq!(
            parse_hierarchical_limit(&format!("cache 1\nhierarchical_memory_limit {value}\n")),
            Some(Some(value))
        );
        let expected = value as f64 / period as f64;
        prop_assert_eq!(parse_cpu_max(&format!("{value} {period}\n")), Some(Some(expected)));
        let quota = parse_cfs_quota(&format!("{value}\n")).flatten().unwrap();
        prop_assert_eq!(quota / parse_cfs_period(&format!("{period}\n")).unwrap(), expected);
        let stat = format!("anon 1\ninactive_file {value}\nactive_file 2\n");
        prop_assert_eq!(parse_key(&stat, "inactive_file"), Some(value));
    }

    #[test]
    fn kernel_formats_parse_to_their_numbers(
        a in 0u64..u64::MAX / 4,
        b in 0u64..u64::MAX / 4,
        c in 0u64..u64::MAX / 4,
        avg in 0u32..10_000,
    ) {
        let v2 = format!("usage_usec 1\nnr_periods {a}\nnr_throttled {b}\nthrottled_usec {c}\n");
        let t = parse_v2_cpu_stat(&v2).unwrap();
        prop_assert_eq!((t.periods, t.throttled_periods, t.throttled_us), (a, b, c));
        let v1 = format!("nr_periods {a}\nnr_throttled {b}\nthrottled_time {c}\n");
        prop_assert_eq!(parse_v1_cpu_stat(&v1).unwrap().throttled_us, c / 1000);
        let avg10 = f64::from(avg) / 100.0;
        let psi = format!(
            "some avg10={avg10:.2} avg60=0.00 avg300=0.00 total={a}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total={b}\n"
        );
        let p = parse_pressure(&psi).unwrap();
        prop_assert!((p.some.avg10 - avg10 / 100.0).abs() < 1e-9);
        prop_assert_eq!((p.some.total_us, p.full.map(|f| f.total_us)), (a, Some(b)));
        let io = format!("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: {a}\nwrite_bytes: {b}\ncancelled_write_bytes: {c}\n");
        let io_parsed = parse_io(&io).unwrap();
        prop_assert_eq!((io_parsed.read_bytes, io_parsed.write_bytes), (a, b));
    }

    #[test]
    fn cut_kernel_files_never_parse_to_wrong_numbers(
        a in 1_000_000u64..u64::MAX / 4,
        b in 1_000_000u64..u64::MAX / 4,
        cut in 0usize..200,
    ) {
        // Cut anywhere: either nothing, or (when the cut only lost the end of the last line,
        // which none of these parsers use) the exact numbers.
        let io = format!("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: {a}\nwrite_bytes: {b}\ncancelled_write_bytes: 7\n");
        if let Some(parsed) = parse_io(&io[..cut.min(io.len())]) {
            prop_assert_eq!((parsed.read_bytes, parsed.write_bytes), (a, b));
        }
        let psi = format!("some avg10=1.00 avg60=0.00 avg300=0.00 total={a}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total={b}\n");
        if let Some(parsed) = parse_pressure(&psi[..cut.min(psi.len())]) {
            prop_assert_eq!(parsed.some.total_us, a);
            prop_assert!(parsed.full.is_none_or(|full| full.total_us == b));
        }
        let statm = format!("{a} {b} 3 4 0 5 0\n");
        if let Some((resident, shared)) = parse_statm(&statm[..cut.min(statm.len())]) {
            prop_assert_eq!((resident, shared), (b, 3));
        }
    }

    #[test]
    fn cpu_lists_count_like_a_reference(ranges in proptest::collection::vec((0u64..512, 0u64..64), 1..8)) {
        let text: Vec<String> = ranges
            .iter()
            .map(|(start, len)| if *len == 0 { start.to_string() } else { format!("{start}-{}", start + len) })
            .collect();
        let expected: u64 = ranges.iter().map(|(_, len)| len + 1).sum();
        prop_assert_eq!(count_list(&text.join(",")), Some(expected));
    }
}
