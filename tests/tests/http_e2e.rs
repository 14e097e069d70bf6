//! End to end through the SDK's real HTTP transport: a small HTTP server on 127.0.0.1 receives
//! the envelopes the background sampler's metrics end up in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{QueueMetrics, attribute, metrics_in, named, wait_for};
use sentry::Envelope;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

/// Request bodies received by the loopback "Sentry".
type Received = Arc<Mutex<Vec<Vec<u8>>>>;

/// Serves until the listener's owner drops; each connection may carry several requests.
fn serve(listener: TcpListener, received: Received) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let received = received.clone();
            std::thread::spawn(move || handle(stream, &received));
        }
    });
}

fn handle(stream: TcpStream, received: &Received) {
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    loop {
        let mut content_length = 0usize;
        let mut line = String::new();
        // Request line, then headers up to the blank line.
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().expect("content-length");
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        received.lock().unwrap().push(body);
        let response =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn metrics_reach_a_real_http_endpoint() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let received = Received::default();
    serve(listener, received.clone());

    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(50),
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = Some(
        format!("http://public@127.0.0.1:{port}/1")
            .parse()
            .expect("dsn"),
    );
    let guard = sentry::init(options);
    assert!(guard.is_enabled());
    wait_for(Duration::from_secs(30), "two background rounds", || {
        integration.stats().rounds >= 2
    });
    // Dropping the guard flushes the SDK's metric batch through the transport and waits for it.
    drop(guard);
    // Envelopes may be split (the SDK's batcher also flushes on a timer): wait for all rounds.
    let received_metrics = || {
        let bodies = received.lock().unwrap().clone();
        let envelopes: Vec<Envelope> = bodies
            .iter()
            .map(|body| Envelope::from_slice(body).expect("a valid envelope"))
            .collect();
        metrics_in(&envelopes)
    };
    wait_for(Duration::from_secs(30), "two rounds at the server", || {
        named(&received_metrics(), "app.queue.depth").len() >= 2
    });
    let metrics = received_metrics();
    let depth = named(&metrics, "app.queue.depth");
    assert!(depth.len() >= 2, "a gauge per round: {metrics:#?}");
    let processed = named(&metrics, "app.queue.processed");
    assert!(processed.len() >= 2);
    assert!(
        processed.iter().all(|m| m.value == 1.0),
        "increases, not totals: {processed:#?}"
    );
    assert!(
        metrics
            .iter()
            .all(|m| attribute(m, "sentry.origin") == Some("auto.runtime_metrics"))
    );
    // The SDK adds its own default attributes.
    assert!(
        metrics
            .iter()
            .all(|m| m.attributes.contains_key("sentry.sdk.name")),
        "{metrics:#?}"
    );
}
