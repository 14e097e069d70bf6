//! The original README's custom collector, exactly as written there, must keep compiling and
//! produce what it says.

use sentry_runtime_metrics::{MetricCollector, MetricType, MetricValue, RuntimeMetric};

struct MyCustomCollector;

impl MetricCollector for MyCustomCollector {
    fn collect(&self) -> Vec<RuntimeMetric> {
        vec![RuntimeMetric {
            name: "my_app.custom_metric".into(),
            metric_type: MetricType::Gauge,
            value: MetricValue::Int(42),
            unit: Some("count".into()),
            tags: Default::default(),
        }]
    }

    fn name(&self) -> &'static str {
        "my-custom-collector"
    }
}

#[test]
fn readme_custom_collector_collects_its_gauge() {
    let collector = MyCustomCollector;
    assert_eq!(collector.name(), "my-custom-collector");
    let metrics = collector.collect();
    assert_eq!(metrics.len(), 1);
    let metric = &metrics[0];
    assert_eq!(metric.name, "my_app.custom_metric");
    assert_eq!(metric.metric_type, MetricType::Gauge);
    assert_eq!(metric.value, MetricValue::Int(42));
    assert_eq!(metric.unit.as_deref(), Some("count"));
    assert!(metric.tags.is_empty());
}

#[test]
fn readme_custom_collector_fits_in_the_config() {
    let config = sentry_runtime_metrics::RuntimeMetricsConfig {
        custom_collectors: vec![Box::new(MyCustomCollector)],
        ..Default::default()
    };
    assert_eq!(config.custom_collectors[0].name(), "my-custom-collector");
    // Hand-written collectors describe nothing unless they choose to.
    assert!(config.custom_collectors[0].descriptors().is_empty());
}
