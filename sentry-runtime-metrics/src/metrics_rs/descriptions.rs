//! What `describe_*` said of metric names: a unit and a text each, by kind and name. Bounded
//! like the series (at most as many names as there may be series).

use std::collections::HashMap;

use crate::metric::MetricType;

/// What `describe_*` said of a metric name.
#[derive(Clone, Debug)]
pub(super) struct Description {
    pub(super) unit: Option<&'static str>,
    pub(super) text: String,
}

/// The descriptions, by kind and then name (so a name is looked up as it is, without a copy).
#[derive(Debug, Default)]
pub(super) struct Descriptions([HashMap<String, Description>; 3]);

/// Where the descriptions of `kind` are kept in [`Descriptions`].
fn slot(kind: MetricType) -> usize {
    match kind {
        MetricType::Counter => 0,
        MetricType::Gauge => 1,
        MetricType::Distribution => 2,
    }
}

impl Descriptions {
    fn of(&self, kind: MetricType) -> &HashMap<String, Description> {
        &self.0[slot(kind)]
    }

    /// The unit described for the metrics named `name` of type `kind`.
    pub(super) fn unit(&self, kind: MetricType, name: &str) -> Option<&'static str> {
        self.of(kind).get(name).and_then(|d| d.unit)
    }

    fn len(&self) -> usize {
        self.0.iter().map(HashMap::len).sum()
    }

    /// Records a description of the metrics named `name` of type `kind`, unless `max` names
    /// are described already and this is a new one. Returns whether it was recorded.
    pub(super) fn describe(
        &mut self,
        kind: MetricType,
        name: &str,
        unit: Option<&'static str>,
        text: &str,
        max: usize,
    ) -> bool {
        let full = self.len() >= max;
        let of_kind = &mut self.0[slot(kind)];
        let description = Description {
            unit,
            text: text.to_owned(),
        };
        match of_kind.get_mut(name) {
            Some(known) => *known = description,
            None if full => return false,
            None => {
                of_kind.insert(name.to_owned(), description);
            }
        }
        true
    }

    /// Every description with its kind and name, by name, then kind.
    pub(super) fn all(&self) -> Vec<(MetricType, &str, &Description)> {
        let kinds = [
            MetricType::Counter,
            MetricType::Gauge,
            MetricType::Distribution,
        ];
        let mut all: Vec<_> = kinds
            .into_iter()
            .flat_map(|kind| {
                self.of(kind)
                    .iter()
                    .map(move |(name, d)| (kind, name.as_str(), d))
            })
            .collect();
        all.sort_by(|a, b| (a.1, slot(a.0)).cmp(&(b.1, slot(b.0))));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_stop_at_the_limit_but_may_change() {
        let mut descriptions = Descriptions::default();
        assert!(descriptions.describe(MetricType::Gauge, "a", None, "1", 2));
        assert!(descriptions.describe(MetricType::Gauge, "b", None, "2", 2));
        assert!(!descriptions.describe(MetricType::Counter, "c", None, "3", 2));
        assert!(descriptions.describe(MetricType::Gauge, "a", Some("byte"), "4", 2));
        let all: Vec<_> = descriptions
            .all()
            .iter()
            .map(|(_, name, d)| (name.to_string(), d.text.clone()))
            .collect();
        let expected = vec![
            ("a".to_owned(), "4".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ];
        assert_eq!(all, expected);
        assert_eq!(descriptions.unit(MetricType::Gauge, "a"), Some("byte"));
        assert_eq!(descriptions.unit(MetricType::Counter, "a"), None);
    }
}
