//! A collection round, the one way collectors are run: four steps, each returning a value.
//!
//! 1. **collect**: claim each collector and run it ([`collect`]);
//! 2. **check**: make what it returned ready to send ([`check`]);
//! 3. **send**: hand that to the client ([`Sender`](super::send::Sender));
//! 4. **account**: count what was sent, lost and corrected, and report the losses to Sentry.
//!
//! `collect_now` and the last round claim the collectors and run all four steps on the calling
//! thread ([`run`]). The sampler's background round ([`dispatch`]) claims them on the sampler
//! thread (an atomic swap each) and runs the four steps on the workers, one job per group of
//! claimed collectors (the built-in ones together, each of the application's alone), so the
//! sampler thread only keeps time: it never runs a collector nor the SDK's capture path (nor the
//! application's `before_send_metric` hook). Every loss is reported by the run of its collector:
//! a round that skips a collector still running leaves it to that run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::binding::ClientBinding;
use crate::engine::Engine;
use crate::engine::check;
use crate::engine::collect::{self, Claiming, Run};
use crate::engine::entry::{Claim, Entry};
use crate::losses::{Loss, Tally};

/// One round of `entries` on this thread, sending to the client of `to`.
pub(super) fn run_here(
    engine: &Engine,
    entries: &[Arc<Entry>],
    to: Option<&ClientBinding>,
    claiming: Claiming,
) {
    // Each claimed just before it runs.
    let claims = entries
        .iter()
        .filter_map(|entry| collect::claim(entry, claiming, &engine.stats, &engine.log));
    run(engine, claims, to);
    engine.stats.round_completed();
}

/// The four steps for the collectors of `claims`, on this thread.
fn run(engine: &Engine, claims: impl IntoIterator<Item = Claim>, to: Option<&ClientBinding>) {
    let collection = collect::collect(claims, &engine.registry, &engine.log);
    let checked = check::check(collection.runs, engine.sender.attribute_room());
    let sent = send(engine, checked.runs, to);
    let mut losses = collection.losses;
    losses.merge(checked.losses);
    losses.merge(sent.losses);
    let outcome = Outcome {
        losses,
        notes: [collection.notes, checked.notes].concat(),
        failures: collection.failures,
        corrected: checked.corrected,
        sent: sent.count,
    };
    account(engine, outcome, to);
}

/// The sampler's round: claims each group of collectors here, and runs the four steps for each
/// group on a worker. The last job to finish counts the round, so `stats().rounds` never counts
/// one whose metrics are not all handed to the SDK.
pub(super) fn dispatch(engine: &Arc<Engine>, to: &Arc<ClientBinding>) {
    let claimed: Vec<Vec<Claim>> = engine
        .registry
        .groups()
        .iter()
        .map(|group| {
            let claim = |entry| collect::claim(entry, Claiming::Skip, &engine.stats, &engine.log);
            group.iter().filter_map(claim).collect::<Vec<Claim>>()
        })
        .filter(|claims| !claims.is_empty())
        .collect();
    if claimed.is_empty() {
        engine.stats.round_completed();
        return;
    }
    // Jobs in flight at once, whatever the rounds: one per group (a job holds its group's
    // claims until it is done, and a group still held is not claimed again).
    let threads = engine.registry.groups_count();
    let jobs_left = Arc::new(AtomicUsize::new(claimed.len()));
    for claims in claimed {
        let no_thread = no_thread(&claims);
        let job = {
            let (engine, to, jobs_left) =
                (Arc::clone(engine), Arc::clone(to), Arc::clone(&jobs_left));
            Box::new(move || {
                // A round for a client that closed meanwhile (or was replaced) is not started.
                if to.client().is_some() {
                    run(&engine, claims, Some(&to));
                }
                job_done(&engine, &jobs_left);
            })
        };
        // A job no thread can run is handed back, and dropping it releases its claims.
        if engine.workers.submit(job, threads).is_err() {
            // No thread could be started: this one is all there is to say so.
            account(engine, Outcome::lost(no_thread), Some(to));
            job_done(engine, &jobs_left);
        }
    }
}

/// Counts the round when the last of its jobs is done.
fn job_done(engine: &Engine, jobs_left: &AtomicUsize) {
    if jobs_left.fetch_sub(1, Ordering::AcqRel) == 1 {
        engine.stats.round_completed();
    }
}

/// The round of a group that found no thread to run on: each collector's usual round.
fn no_thread(claims: &[Claim]) -> Tally {
    let mut tally = Tally::default();
    for claim in claims {
        let entry = claim.entry();
        tally.add(entry.name, Loss::NoThread, entry.round_cost());
    }
    tally
}

/// What sending did.
struct Sent {
    count: u64,
    losses: Tally,
}

/// Step 3: hands each collector's checked metrics to the client, if there is one.
fn send(engine: &Engine, runs: Vec<Run>, to: Option<&ClientBinding>) -> Sent {
    let mut sent = Sent {
        count: 0,
        losses: Tally::default(),
    };
    let client = to.and_then(ClientBinding::client);
    for Run { entry, collected } in runs {
        let (collector, metrics) = (entry.name, collected.metrics);
        let total = metrics.len() as u64;
        let Some(client) = &client else {
            sent.losses.add(collector, Loss::NoClient, total);
            continue;
        };
        let captured = engine.send(client, metrics) as u64;
        sent.count += captured;
        sent.losses
            .add(collector, Loss::CapturePanicked, total - captured);
    }
    sent
}

/// Everything a round has to count.
struct Outcome {
    losses: Tally,
    notes: Vec<String>,
    failures: u64,
    corrected: u64,
    sent: u64,
}

impl Outcome {
    /// A round that only lost.
    fn lost(losses: Tally) -> Self {
        Outcome {
            losses,
            notes: Vec::new(),
            failures: 0,
            corrected: 0,
            sent: 0,
        }
    }
}

/// Step 4: counts what the round did in the stats, writes its notes to the debug log, and
/// reports its losses to the client as `runtime_metrics.dropped`.
fn account(engine: &Engine, outcome: Outcome, to: Option<&ClientBinding>) {
    let stats = &engine.stats;
    stats.collectors_failed(outcome.failures);
    stats.corrected(outcome.corrected);
    stats.sent(outcome.sent);
    for note in &outcome.notes {
        engine.log.write(format_args!("{note}"));
    }
    if outcome.losses.is_empty() {
        return;
    }
    stats.lost(&outcome.losses);
    if let Some(client) = to.and_then(ClientBinding::client) {
        engine.send(&client, outcome.losses.report());
    }
}
