//! The report of what the integration sees: it agrees with what the rounds send (no metric it
//! says is not sent is sent, and every one it does not name is), it names the memory cgroup
//! `/proc/self/cgroup` gives, and the SDK's debug log shows it once per client.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sentry::protocol::{EnvelopeItem, ItemContainer};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_tests::child;

/// A client with a DSN (sending to a test transport) and the debug log on.
fn client(
    integration: &RuntimeMetricsIntegration,
    transport: &Arc<TestTransport>,
) -> sentry::ClientInitGuard {
    let mut options = sentry::ClientOptions::new()
        .debug(true)
        .add_integration(integration.clone());
    options.dsn = Some("https://public@sentry.invalid/1".parse().unwrap());
    options.transport = Some(Arc::new(Arc::clone(transport)));
    sentry::init(options)
}

/// The names of what the rounds sent.
fn sent_names(transport: &TestTransport) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for envelope in transport.fetch_and_clear_envelopes() {
        for item in envelope.items() {
            if let EnvelopeItem::ItemContainer(ItemContainer::Metrics(items)) = item {
                names.extend(items.iter().map(|m| m.name.to_string()));
            }
        }
    }
    names
}

#[test]
fn what_it_says_is_not_sent_is_not_sent_and_the_rest_is() {
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_secs(3600),
        ..Default::default()
    });
    let transport = TestTransport::new();
    let _sentry = client(&integration, &transport);
    // Three rounds: counters send from their second sample on (kernel totals) or the first
    // (the process's own); a few move only with work in between.
    let mut sent = BTreeSet::new();
    for _ in 0..3 {
        let block = std::hint::black_box(vec![1u8; 8 << 20]);
        std::fs::write(
            std::env::temp_dir().join("srm-report-io"),
            &block[..1 << 20],
        )
        .unwrap();
        integration.collect_now();
        sentry::Hub::current().client().unwrap().flush(None);
        sent.extend(sent_names(&transport));
    }
    let _ = std::fs::remove_file(std::env::temp_dir().join("srm-report-io"));
    let report = integration.environment_report();
    println!("{report}");
    for name in &sent {
        assert!(
            !report.is_not_sent(name),
            "{name} was sent, but the report says not:\n{report}"
        );
    }
    for skipped in report.not_sent() {
        let family = skipped.metric.trim_end_matches('*');
        assert!(
            !sent.iter().any(|name| if skipped.metric.ends_with('*') {
                name.starts_with(family)
            } else {
                name == family
            }),
            "{} is said not to be sent, but was ({sent:?})",
            skipped.metric
        );
    }
    // Every built-in gauge that is always there where it is not named.
    for gauge in [
        "runtime.memory.rss",
        "runtime.memory.rss.anon",
        "runtime.memory.rss.file",
        "process.threads.count",
    ] {
        assert!(sent.contains(gauge), "{gauge} in {sent:?}");
        assert!(!report.is_not_sent(gauge));
    }
}

#[test]
fn it_names_the_memory_cgroup_proc_self_cgroup_gives() {
    let membership = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let report = RuntimeMetricsIntegration::default()
        .environment_report()
        .to_string();
    // v1 (`N:memory:/path`) or v2 (`0::/path`), as this host has it.
    let v1 = membership
        .lines()
        .find_map(|line| line.split_once(":memory:").map(|(_, path)| path));
    let (mount, path, version) = match v1 {
        Some(path) => ("/sys/fs/cgroup/memory", path, 1),
        None => (
            "/sys/fs/cgroup",
            membership
                .lines()
                .find_map(|line| line.strip_prefix("0::"))
                .unwrap(),
            2,
        ),
    };
    let expected = if path == "/" {
        format!("cgroup v{version} memory: the root cgroup")
    } else {
        format!("cgroup v{version} memory: {mount}{path}\n")
    };
    assert!(report.contains(&expected), "{expected:?} in:\n{report}");
}

/// Child: two clients in turn, each with the debug log on and several rounds.
#[test]
fn the_debug_log_shows_the_report_once_per_client() {
    if child::is_child() {
        let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
            collection_interval: Duration::from_secs(3600),
            ..Default::default()
        });
        let transport = TestTransport::new();
        for _ in 0..2 {
            let _sentry = client(&integration, &transport);
            for _ in 0..3 {
                integration.collect_now();
            }
        }
        return;
    }
    let output = child::rerun("the_debug_log_shows_the_report_once_per_client").unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let headers = stderr
        .lines()
        .filter(|line| line.ends_with("[runtime-metrics] runtime metrics: what this process shows"))
        .count();
    assert_eq!(headers, 2, "once for each of the two clients:\n{stderr}");
    assert!(
        stderr.contains("[runtime-metrics]   reads: /proc and cgroup files"),
        "{stderr}"
    );
}
