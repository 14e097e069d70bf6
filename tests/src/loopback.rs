//! A stand-in for Sentry's ingestion on 127.0.0.1: accepts envelopes over HTTP/1.1 (keep-alive)
//! and counts them. For the soak run and the delivery and fault tests (it can also answer like a
//! failing or rate-limiting Sentry, or not at all); it never leaves the machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How the receiver answers each request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Answer {
    /// `200 OK`, like a healthy Sentry.
    #[default]
    Ok,
    /// This status with an empty JSON body (e.g. 500).
    Status(u16),
    /// `429` with `Retry-After` and `X-Sentry-Rate-Limits` for the `trace_metric` category,
    /// both saying `seconds`.
    RateLimited {
        /// Seconds the client is told to wait.
        seconds: u32,
    },
    /// Reads the request and never answers (the connection stays open).
    Never,
}

/// Envelopes and bytes received so far.
#[derive(Debug, Default)]
pub struct Received {
    /// Requests received.
    pub envelopes: AtomicU64,
    /// Body bytes received.
    pub bytes: AtomicU64,
    /// The request bodies, when kept (tests parse them; long runs would not fit).
    pub bodies: Option<Mutex<Vec<Vec<u8>>>>,
}

/// Starts a receiver that answers `200 OK` on an ephemeral port; returns the DSN to use and
/// what arrived.
pub fn start(keep_bodies: bool) -> std::io::Result<(String, Arc<Received>)> {
    start_answering(Answer::Ok, keep_bodies)
}

/// Starts a receiver that answers every request with `answer`.
pub fn start_answering(
    answer: Answer,
    keep_bodies: bool,
) -> std::io::Result<(String, Arc<Received>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let received = Arc::new(Received {
        bodies: keep_bodies.then(Mutex::default),
        ..Received::default()
    });
    let counts = received.clone();
    std::thread::Builder::new()
        .name("loopback-sentry".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let counts = counts.clone();
                let _ = std::thread::Builder::new()
                    .name("loopback-conn".into())
                    .spawn(move || serve(stream, &counts, answer));
            }
        })?;
    Ok((dsn(port), received))
}

/// A DSN for a port on 127.0.0.1 that nothing listens on (connections are refused).
pub fn not_listening() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    drop(listener);
    Ok(dsn(port))
}

fn dsn(port: u16) -> String {
    format!("http://public@127.0.0.1:{port}/1")
}

fn response(answer: Answer) -> Option<String> {
    let (status, headers) = match answer {
        Answer::Ok => ("200 OK".to_owned(), String::new()),
        Answer::Status(code) => (format!("{code} Error"), String::new()),
        Answer::RateLimited { seconds } => (
            "429 Too Many Requests".to_owned(),
            format!(
                "retry-after: {seconds}\r\n\
                 x-sentry-rate-limits: {seconds}:trace_metric:organization\r\n"
            ),
        ),
        Answer::Never => return None,
    };
    Some(format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: 2\r\n\r\n{{}}"
    ))
}

fn serve(stream: TcpStream, received: &Received, answer: Answer) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        let mut length = 0usize;
        line.clear();
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
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        received.bytes.fetch_add(length as u64, Ordering::Relaxed);
        if let Some(bodies) = &received.bodies
            && let Ok(mut bodies) = bodies.lock()
        {
            bodies.push(body);
        }
        // Counted last: once the count moves, the body is there.
        received.envelopes.fetch_add(1, Ordering::Relaxed);
        let Some(response) = response(answer) else {
            // Never answer: wait for a next request that will not come until the client
            // gives up and closes the connection.
            continue;
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
