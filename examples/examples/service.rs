//! A service as users run one, with its own load: an axum HTTP service behind sentry-tower's
//! layers, its Tokio runtime registered, the `metrics` facade counting requests and timing them
//! by route, a `spawn_blocking` job and a named CPU pool. For about 10 s a load generator calls
//! it, and the local view shows each round: where the CPU goes and waits (thread groups: the
//! Tokio workers, the blocking threads, the CPU pool, the load generator), Tokio's health and
//! the routes.
//!
//! ```sh
//! cargo run --example service                      # no account needed: shows each round
//! SENTRY_DSN=https://key@o0.ingest.sentry.io/0 cargo run --example service   # also sends
//! RUSTFLAGS="--cfg tokio_unstable" cargo run --example service   # with Tokio's histograms
//! ```
#![allow(clippy::print_stderr)] // A demo that cannot start says why.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use sentry::ClientOptions;
use sentry_runtime_metrics::{
    LocalView, RuntimeMetricsConfig, RuntimeMetricsIntegration, metrics_rs,
};
use sentry_runtime_metrics_examples::{dsn_is_set, say, say_done, stop_on_ctrl_c};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const ROUNDS: u64 = 5;
const INTERVAL: Duration = Duration::from_secs(2);
const WORKERS: usize = 2;

fn main() {
    let recorded = match metrics_rs::install() {
        Ok(recorded) => recorded,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    metrics::describe_histogram!(
        "http.server.duration",
        metrics::Unit::Seconds,
        "Time to answer a request, by route."
    );
    let view = LocalView::stdout();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: INTERVAL,
        custom_collectors: vec![Box::new(recorded)],
        ..Default::default()
    })
    .with_local_view(view.clone());
    say(if dsn_is_set() {
        "Sending to the Sentry project of SENTRY_DSN, and showing each round here."
    } else {
        "SENTRY_DSN is not set: nothing is sent, the local view shows what would be."
    });
    say(format_args!(
        "An HTTP service under load: a round every {INTERVAL:?}, {ROUNDS} rounds (Ctrl-C ends \
         it early).\n"
    ));
    // Before the runtime starts, as Sentry recommends.
    let sentry = sentry::init(ClientOptions::new().add_integration(integration.clone()));
    let last_round = integration.last_round_guard();
    let stop = stop_on_ctrl_c();

    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("could not start a Tokio runtime: {err}");
            return;
        }
    };
    let pool = CpuPool::start(2);
    runtime.block_on(async {
        integration.register_tokio_runtime("main", tokio::runtime::Handle::current());
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("could not listen: {err}");
                return;
            }
        };
        let Ok(address) = listener.local_addr() else {
            return;
        };
        let app = Router::new()
            .route("/users/{id}", get(user))
            .route("/report", get(report))
            .route("/hash/{rounds}", get(hash))
            .with_state(pool.clone())
            .layer(middleware::from_fn(record))
            .layer(sentry_tower::SentryHttpLayer::new().enable_transaction())
            .layer(sentry_tower::NewSentryLayer::<Request>::new_from_top());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let load = load_generator(address.to_string());
        while integration.stats().rounds < ROUNDS - 1
            && !stop.load(Ordering::Relaxed)
            && !view.is_closed()
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        load.stop();
    });
    drop(last_round);
    drop(runtime);
    pool.stop();
    let stats = integration.stats();
    drop(sentry);
    say_done(stats, "service");
}

/// The service's runtime: two workers, its threads named so that its workers and its blocking
/// threads are two thread groups. Tokio names both kinds with the same `thread_name`; a
/// multi-thread runtime starts its workers first, so the first names go to them. (With
/// `tokio_unstable`, Tokio's own latency histograms are on.)
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let started = Arc::new(AtomicUsize::new(0));
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(WORKERS)
        .thread_name_fn(move || {
            if started.fetch_add(1, Ordering::Relaxed) < WORKERS {
                "tokio-worker".to_owned()
            } else {
                "tokio-blocking".to_owned()
            }
        })
        .enable_io()
        .enable_time();
    // Log buckets (10 µs to 4 s within 25 %) rather than Tokio's default of ten 100 µs
    // buckets, whose last holds everything from 0.9 ms on.
    #[cfg(tokio_unstable)]
    {
        use tokio::runtime::{HistogramConfiguration, LogHistogram};
        let buckets = || {
            HistogramConfiguration::log(
                LogHistogram::builder()
                    .min_value(Duration::from_micros(10))
                    .max_value(Duration::from_secs(4))
                    .max_error(0.25),
            )
        };
        builder
            .enable_metrics_poll_time_histogram()
            .metrics_poll_time_histogram_configuration(buckets())
            .enable_metrics_schedule_latency_histogram()
            .metrics_schedule_latency_histogram_configuration(buckets());
    }
    builder.build()
}

/// Counts and times every request by route, through the `metrics` facade.
async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http.server.requests", "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http.server.duration", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A quick answer.
async fn user(Path(id): Path<u64>) -> String {
    format!("{{\"id\":{id}}}")
}

/// A report built with blocking IO, on Tokio's blocking threads.
async fn report() -> String {
    let built = tokio::task::spawn_blocking(|| {
        // Stands for a file or a synchronous client: 20 ms of waiting and some CPU.
        std::thread::sleep(Duration::from_millis(20));
        busy_hash(20_000)
    })
    .await;
    built.map_or_else(|_| "failed".to_owned(), |hash| format!("report {hash:x}"))
}

/// CPU work, handed to the named CPU pool so that it never holds a Tokio worker.
async fn hash(State(pool): State<CpuPool>, Path(rounds): Path<u64>) -> String {
    let (done, result) = oneshot::channel();
    pool.run(Box::new(move || {
        let _ = done.send(busy_hash(rounds.min(1_000_000)));
    }));
    result
        .await
        .map_or_else(|_| "failed".to_owned(), |hash| format!("{hash:x}"))
}

fn busy_hash(rounds: u64) -> u64 {
    (0..rounds).fold(0xcbf2_9ce4_8422_2325, |hash: u64, i| {
        (hash ^ i).wrapping_mul(0x100_0000_01b3)
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// A pool of named threads for CPU work (`cpu-pool-0`, `cpu-pool-1`: one thread group).
#[derive(Clone)]
struct CpuPool {
    jobs: Arc<Mutex<Option<mpsc::Sender<Job>>>>,
}

impl CpuPool {
    fn start(threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cpu-pool-{index}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(err) = spawned {
                eprintln!("could not start a pool thread: {err}");
            }
        }
        CpuPool {
            jobs: Arc::new(Mutex::new(Some(jobs))),
        }
    }

    fn run(&self, job: Job) {
        if let Ok(jobs) = self.jobs.lock()
            && let Some(jobs) = jobs.as_ref()
        {
            let _ = jobs.send(job);
        }
    }

    /// Lets the threads end once the queue is empty.
    fn stop(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
    }
}

/// The load: a thread of its own (`load-gen`, a thread group) calling the service's routes
/// over HTTP/1.1, a few requests at a time.
struct Load {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Load {
    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn load_generator(address: String) -> Load {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("load-gen".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let mut request = 0u64;
                while !stopping.load(Ordering::Relaxed) {
                    request += 1;
                    let path = match request % 10 {
                        0 => "/report".to_owned(),
                        1..=3 => format!("/hash/{}", 200_000 + request % 7 * 50_000),
                        _ => format!("/users/{request}"),
                    };
                    let calls: Vec<_> = (0..4)
                        .map(|_| tokio::spawn(call(address.clone(), path.clone())))
                        .collect();
                    for call in calls {
                        let _ = call.await;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
        });
    if let Err(err) = spawned {
        eprintln!("could not start the load generator: {err}");
    }
    Load { stop }
}

/// One `GET` over a connection of its own.
async fn call(address: String, path: String) -> std::io::Result<()> {
    let mut stream = tokio::net::TcpStream::connect(&address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(())
}
