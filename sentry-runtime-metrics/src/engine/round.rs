//! A collection round, the one way collectors are run: four steps, each returning a value.
//!
//! 1. **collect**: claim each collector and run it ([`collect`]);
//! 2. **check**: make what it returned ready to send ([`check`]);
//! 3. **send**: hand that to the client ([`Sender`](super::send::Sender));
//! 4. **account**: count what was sent, lost and corrected, and report the losses to Sentry.
//!
//! `collect_now` runs the four steps on the calling thread ([`run_here`]). The sampler's
//! background round and the last round run them on the workers ([`dispatch`]), one job per
//! group of collectors (the built-in ones together, each of the application's alone), so the
//! sampler thread only keeps time: it never runs a collector nor the SDK's capture path (nor
//! the application's `before_send_metric` hook). Every group gets its job every round, so the
//! losses of a group (a collector still running from an earlier round, or resting after a
//! panic) are reported by that group's job, in the round that found them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::binding::ClientBinding;
use crate::engine::Engine;
use crate::engine::check;
use crate::engine::collect::{self, Claiming, Run};
use crate::engine::entry::Entry;
use crate::losses::{Loss, Tally};

/// One round of `entries` on this thread, sending to the client of `to`.
pub(super) fn run_here(engine: &Engine, entries: &[Arc<Entry>], to: Option<&ClientBinding>) {
    run(engine, entries, Claiming::Skip, to);
    engine.round_completed();
}

/// The four steps for `entries`, on this thread.
fn run(engine: &Engine, entries: &[Arc<Entry>], claiming: Claiming, to: Option<&ClientBinding>) {
    let collection = collect::collect(entries, claiming, &engine.registry, &engine.log);
    let checked = check::check(collection.runs, engine.sender.attribute_room());
    let sent = send(engine, checked.runs, to);
    let mut losses = collection.losses;
    losses.merge(checked.losses);
    losses.merge(sent.losses);
    let outcome = Outcome {
        losses,
        notes: [collection.notes, checked.notes].concat(),
        failures: collection.failures,
        skips: collection.skips,
        corrected: checked.corrected,
        sent: sent.count,
    };
    account(engine, outcome, to);
}

/// A round on the workers, one job per group, claiming as `claiming` says; returns once the
/// jobs are handed over. The last job to finish counts the round, so `stats().rounds` never
/// counts one whose metrics are not all handed to the SDK.
pub(super) fn dispatch(engine: &Arc<Engine>, to: &Arc<ClientBinding>, claiming: Claiming) {
    let groups = engine.registry.groups();
    if groups.is_empty() {
        engine.round_completed();
        return;
    }
    // Threads at once: one per group, and one more for the jobs of groups an earlier round's
    // job still holds (they find their collectors busy and say so, and must not wait behind
    // them).
    let threads = groups.len() + 1;
    let jobs_left = Arc::new(AtomicUsize::new(groups.len()));
    for group in groups {
        let no_thread = no_thread(&group);
        let job = {
            let (engine, to, jobs_left) =
                (Arc::clone(engine), Arc::clone(to), Arc::clone(&jobs_left));
            Box::new(move || {
                // A round for a client that closed meanwhile (or was replaced) is not started.
                if to.is_open() {
                    run(&engine, &group, claiming, Some(&to));
                }
                job_done(&engine, &jobs_left);
            })
        };
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
        engine.round_completed();
    }
}

/// The round of a group that found no thread to run on: each collector's usual round.
fn no_thread(group: &[Arc<Entry>]) -> Tally {
    let mut tally = Tally::default();
    for entry in group {
        tally.add(entry.name, Loss::NoThread, entry.round_cost());
    }
    tally
}

/// What sending did.
struct Sent {
    count: u64,
    losses: Tally,
}

/// Step 3: hands each collector's checked metrics to the client, if there is one, and shows
/// them in the local view, if there is one. A local binding (no DSN) has no client and loses
/// nothing: nothing is meant to be sent.
fn send(engine: &Engine, runs: Vec<Run>, to: Option<&ClientBinding>) -> Sent {
    let mut sent = Sent {
        count: 0,
        losses: Tally::default(),
    };
    let client = to.and_then(ClientBinding::client);
    let local = to.is_some_and(ClientBinding::is_local);
    for Run { entry, collected } in runs {
        let (collector, metrics) = (entry.name, collected.metrics);
        let total = metrics.len() as u64;
        let Some(client) = &client else {
            if local {
                engine.show(&metrics);
            } else {
                sent.losses.add(collector, Loss::NoClient, total);
            }
            continue;
        };
        let captured = engine.send_and_show(client, metrics) as u64;
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
    skips: u64,
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
            skips: 0,
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
    stats.collectors_skipped(outcome.skips);
    stats.corrected(outcome.corrected);
    stats.sent(outcome.sent);
    for note in &outcome.notes {
        engine.log.write(format_args!("{note}"));
    }
    if outcome.losses.is_empty() {
        return;
    }
    stats.lost(&outcome.losses);
    let report = outcome.losses.report();
    if let Some(client) = to.and_then(ClientBinding::client) {
        engine.send_and_show(&client, report);
    } else if to.is_some_and(ClientBinding::is_local) {
        engine.show(&report);
    }
}
