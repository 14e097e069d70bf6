//! The metric names of a derived collector, known at compile time, so the derive can reject two
//! `#[flatten]` fields (or a flattened field and a metric field) that would send the same name:
//! `#[flatten(prefix = "a.")]` over a collector sending `b.c`, and `#[flatten(prefix = "a.b.")]`
//! over one sending `c`, both send `a.b.c`, and their series would be mixed up in Sentry.
//!
//! The names of nested collectors are only known to their own derive, so the check runs in
//! constant evaluation, over [`Names`] trees, and fails the build with a message built in a
//! fixed buffer (a constant panic can only print one `&str`).

/// The metric names a collector sends: its own fields', and those of each flattened collector
/// behind its prefix.
#[derive(Debug)]
pub struct Names {
    /// Names of its metric fields.
    pub own: &'static [&'static str],
    /// Each `#[flatten]` field: its prefix and the names of its collector.
    pub nested: &'static [(&'static str, &'static Names)],
}

/// The [`Names`] of a collector type; implemented by the derive.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be flattened into a derived collector",
    label = "#[flatten] needs a type that derives `MetricCollector`",
    note = "derive `MetricCollector` on it, or call its `collect_mut` from the sample method"
)]
pub trait MetricNames {
    /// Every name it sends.
    const NAMES: Names;
}

/// Nesting deeper than this is not checked (it never happens in practice).
const DEPTH: usize = 8;

/// One full metric name: the prefixes on the way down and the field's name.
#[derive(Clone, Copy)]
struct Path {
    parts: [&'static str; DEPTH + 1],
    len: usize,
}

const fn count(names: &Names) -> usize {
    let mut total = names.own.len();
    let mut i = 0;
    while i < names.nested.len() {
        total += count(names.nested[i].1);
        i += 1;
    }
    total
}

/// The `index`-th full name under `names`, below the prefixes in `path`.
const fn nth(names: &'static Names, mut index: usize, mut path: Path) -> Option<Path> {
    if index < names.own.len() {
        path.parts[path.len] = names.own[index];
        path.len += 1;
        return Some(path);
    }
    index -= names.own.len();
    let mut i = 0;
    while i < names.nested.len() {
        let (prefix, nested) = names.nested[i];
        let inside = count(nested);
        if index < inside {
            if path.len == DEPTH {
                return None;
            }
            path.parts[path.len] = prefix;
            path.len += 1;
            return nth(nested, index, path);
        }
        index -= inside;
        i += 1;
    }
    None
}

const fn length(path: &Path) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < path.len {
        total += path.parts[i].len();
        i += 1;
    }
    total
}

/// The byte at `at` of the full name.
const fn byte(path: &Path, mut at: usize) -> u8 {
    let mut i = 0;
    while i < path.len {
        let part = path.parts[i].as_bytes();
        if at < part.len() {
            return part[at];
        }
        at -= part.len();
        i += 1;
    }
    0
}

const fn same(a: &Path, b: &Path) -> bool {
    let len = length(a);
    if len != length(b) {
        return false;
    }
    let mut at = 0;
    while at < len {
        if byte(a, at) != byte(b, at) {
            return false;
        }
        at += 1;
    }
    true
}

/// A message for the build error, in a buffer (cut if longer).
struct Message {
    bytes: [u8; 512],
    len: usize,
}

impl Message {
    const fn push(mut self, text: &str) -> Self {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// `a.` + `b.c`, the way a name was put together.
    const fn push_parts(mut self, path: &Path) -> Self {
        let mut i = 0;
        while i < path.len {
            if i > 0 {
                self = self.push(" + ");
            }
            self = self.push("`").push(path.parts[i]).push("`");
            i += 1;
        }
        self
    }
}

/// Fails the build if a name of `field` (a `#[flatten]` field) is also a name of `earlier` (the
/// collector's metric fields and the `#[flatten]` fields before it).
pub const fn assert_disjoint(earlier: &'static Names, field: &'static Names) {
    let empty = Path {
        parts: [""; DEPTH + 1],
        len: 0,
    };
    let mut i = 0;
    while i < count(field) {
        let Some(ours) = nth(field, i, empty) else {
            i += 1;
            continue;
        };
        let mut j = 0;
        while j < count(earlier) {
            if let Some(theirs) = nth(earlier, j, empty)
                && same(&ours, &theirs)
            {
                let mut message = Message {
                    bytes: [0; 512],
                    len: 0,
                };
                message = message
                    .push("this #[flatten] field sends metric names another field sends too: ")
                    .push_parts(&ours)
                    .push(" here, ")
                    .push_parts(&theirs)
                    .push(" there; give the fields prefixes that keep their names apart");
                let text = match core::str::from_utf8(message.bytes.split_at(message.len).0) {
                    Ok(text) => text,
                    // Cut inside a character: the message without its end.
                    Err(err) => {
                        match core::str::from_utf8(message.bytes.split_at(err.valid_up_to()).0) {
                            Ok(text) => text,
                            Err(_) => {
                                "this #[flatten] field sends a metric name another field sends too"
                            }
                        }
                    }
                };
                #[allow(clippy::panic)] // A build error: this runs in constant evaluation only.
                {
                    panic!("{}", text);
                }
            }
            j += 1;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INNER: Names = Names {
        own: &["b.c", "d"],
        nested: &[],
    };
    const OTHER: Names = Names {
        own: &["c"],
        nested: &[],
    };

    #[test]
    fn full_names_are_prefixes_and_names() {
        static OUTER: Names = Names {
            own: &["x"],
            nested: &[("a.", &INNER)],
        };
        let empty = Path {
            parts: [""; DEPTH + 1],
            len: 0,
        };
        let names: Vec<String> = (0..count(&OUTER))
            .map(|i| {
                let path = nth(&OUTER, i, empty).unwrap();
                (0..length(&path))
                    .map(|at| byte(&path, at) as char)
                    .collect()
            })
            .collect();
        assert_eq!(names, ["x", "a.b.c", "a.d"]);
    }

    #[test]
    fn disjoint_names_pass() {
        static EARLIER: Names = Names {
            own: &["x"],
            nested: &[("a.", &INNER)],
        };
        static FIELD: Names = Names {
            own: &[],
            nested: &[("a.c.", &OTHER)],
        };
        assert_disjoint(&EARLIER, &FIELD);
    }

    #[test]
    #[should_panic(expected = "`a.b.` + `c` here, `a.` + `b.c` there")]
    fn a_collision_names_both_ways_to_the_name() {
        static EARLIER: Names = Names {
            own: &["x"],
            nested: &[("a.", &INNER)],
        };
        static FIELD: Names = Names {
            own: &[],
            nested: &[("a.b.", &OTHER)],
        };
        assert_disjoint(&EARLIER, &FIELD);
    }
}
