//! `/proc/self/stat`: one line, fields separated by spaces, except the command name in field 2,
//! which is wrapped in parentheses and may itself contain spaces, parentheses and newlines. The
//! fields after it are found from the *last* `)`.

/// The fields of `/proc/self/stat` the collectors use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    /// Field 14, in clock ticks.
    pub(crate) utime_ticks: u64,
    /// Field 15, in clock ticks.
    pub(crate) stime_ticks: u64,
    /// Field 20.
    pub(crate) num_threads: u64,
    /// Field 22, in clock ticks since boot.
    pub(crate) start_ticks: u64,
    /// Field 24, in pages.
    pub(crate) rss_pages: u64,
}

/// Parses the text of `/proc/<pid>/stat`; `None` if it is malformed or truncated.
pub(crate) fn parse(text: &str) -> Option<Stat> {
    let after_comm = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first token after the command name.
    let mut fields = after_comm.split_ascii_whitespace();
    let mut field = |number: usize, skip_from: &mut usize| -> Option<u64> {
        let token = fields.nth(number - *skip_from)?;
        *skip_from = number + 1;
        token.parse().ok()
    };
    let mut next = 3;
    let utime_ticks = field(14, &mut next)?;
    let stime_ticks = field(15, &mut next)?;
    let num_threads = field(20, &mut next)?;
    let start_ticks = field(22, &mut next)?;
    let rss_pages = field(24, &mut next)?;
    // The kernel writes 52 fields; one after field 24 proves that field 24 was not cut short
    // (a cut "2560" reads as a valid, wrong, "25").
    fields.next()?;
    Some(Stat {
        utime_ticks,
        stime_ticks,
        num_threads,
        start_ticks,
        rss_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(comm: &str) -> String {
        format!(
            "4242 ({comm}) S 1 4242 4242 0 -1 4194560 1512 0 0 0 250 17 0 0 20 0 9 0 \
             123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
        )
    }

    const EXPECTED: Stat = Stat {
        utime_ticks: 250,
        stime_ticks: 17,
        num_threads: 9,
        start_ticks: 123456,
        rss_pages: 2560,
    };

    #[test]
    fn parses_a_plain_line() {
        assert_eq!(parse(&line("my-service")), Some(EXPECTED));
    }

    #[test]
    fn command_names_with_spaces_parentheses_and_newlines() {
        for comm in [
            "a b c",
            "evil) 1 2 3 (x",
            "))",
            "(",
            "new\nline",
            ") S 9 9 9",
        ] {
            assert_eq!(parse(&line(comm)), Some(EXPECTED), "comm {comm:?}");
        }
    }

    #[test]
    fn malformed_or_truncated_input_is_none() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("4242 (x"), None);
        let full = line("x");
        assert_eq!(parse(&full[..full.len() / 2]), None);
        assert_eq!(parse(&full.replace(" 250 ", " -250 ")), None);
        // Cut inside or right after field 24 (rss, "2560"): no number rather than a wrong one.
        let rss_end = full.find(" 2560 ").unwrap() + " 2560".len();
        for cut in rss_end - 2..=rss_end {
            assert_eq!(
                parse(&full[..cut]),
                None,
                "cut at {cut}: {:?}",
                &full[..cut]
            );
        }
    }
}
