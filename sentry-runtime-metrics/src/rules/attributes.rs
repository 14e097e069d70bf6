//! Attribute rules: keys `[A-Za-z0-9_.]`, not empty, at most 32 attributes on a metric, values
//! cut to 200 bytes. Applied to each metric's own attributes and, once, to the configured ones.

use std::borrow::Cow;

use super::{MAX_ATTRIBUTE_VALUE_LEN, MAX_ATTRIBUTES, MAX_NAME_LEN, is_allowed};
use crate::metric::Tags;

fn key_is_clean(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_NAME_LEN && key.chars().all(is_allowed)
}

pub(super) fn attributes_are_clean(tags: &Tags, max: usize) -> bool {
    tags.len() <= max
        && tags
            .iter()
            .all(|(key, value)| key_is_clean(key) && value.len() <= MAX_ATTRIBUTE_VALUE_LEN)
}

/// Attributes after the rules, and what the rules changed.
#[derive(Debug, Default)]
pub(crate) struct FixedAttributes {
    pub(crate) kept: Tags,
    /// Keys dropped: invalid (empty, too long, characters outside `[A-Za-z0-9_.]`) or over the
    /// limit.
    pub(crate) dropped: Vec<Cow<'static, str>>,
    /// Keys whose value was cut to [`MAX_ATTRIBUTE_VALUE_LEN`] bytes.
    pub(crate) cut: Vec<Cow<'static, str>>,
}

impl FixedAttributes {
    /// What the rules changed, in one line for the debug log; `None` if nothing.
    pub(crate) fn describe(&self, what: &str) -> Option<String> {
        if self.dropped.is_empty() && self.cut.is_empty() {
            return None;
        }
        let list = |keys: &[Cow<'static, str>]| {
            keys.iter()
                .map(|key| format!("`{key}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.dropped.is_empty() {
            parts.push(format!(
                "dropped {} (keys must be non-empty `[A-Za-z0-9_.]`, at most {MAX_ATTRIBUTES} \
                 attributes on a metric)",
                list(&self.dropped)
            ));
        }
        if !self.cut.is_empty() {
            parts.push(format!(
                "cut {} to {MAX_ATTRIBUTE_VALUE_LEN} bytes",
                list(&self.cut)
            ));
        }
        Some(format!("{what}: {} (reported once)", parts.join("; ")))
    }
}

/// Keeps the first `max` attributes with valid keys (in key order), cutting long values at a
/// char boundary. (Keys are not rewritten like names: a rewritten key could take the place of
/// another attribute.)
pub(crate) fn fix_attributes(tags: Tags, max: usize) -> FixedAttributes {
    let mut fixed = FixedAttributes::default();
    for (key, value) in tags {
        if !key_is_clean(&key) || fixed.kept.len() == max {
            fixed.dropped.push(key);
            continue;
        }
        let value = if value.len() <= MAX_ATTRIBUTE_VALUE_LEN {
            value
        } else {
            let mut end = MAX_ATTRIBUTE_VALUE_LEN;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            fixed.cut.push(key.clone());
            Cow::Owned(value[..end].to_owned())
        };
        fixed.kept.insert(key, value);
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_attributes_and_lists_what_changed() {
        let mut tags: Tags = (0..1000)
            .map(|i| (Cow::Owned(format!("k{i:04}")), Cow::Borrowed("v")))
            .collect();
        tags.insert("bad key".into(), "v".into());
        tags.insert("".into(), "v".into());
        tags.insert("a_long".into(), Cow::Owned("é".repeat(300)));
        let fixed = fix_attributes(tags, MAX_ATTRIBUTES);
        assert_eq!(fixed.kept.len(), MAX_ATTRIBUTES);
        assert!(fixed.kept.keys().all(|k| key_is_clean(k)));
        assert_eq!(fixed.kept["a_long"].len(), 200);
        assert_eq!(fixed.cut, ["a_long"]);
        // Two invalid keys and everything past the first 32 valid ones.
        assert_eq!(fixed.dropped.len(), 1000 + 3 - MAX_ATTRIBUTES);
        assert!(fixed.dropped.contains(&Cow::Borrowed("bad key")));
    }
}
