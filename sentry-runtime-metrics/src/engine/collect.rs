//! The first step of a round: claim each collector and run it, containing its panics and
//! errors. The result is a value: what each collector returned, and what was lost and why.
//!
//! A claim is one atomic swap, never a wait (but in the last round): a collector another run
//! holds (an earlier round's, still running, or another `collect_now`) is skipped, and this
//! round reports the skip.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crate::backoff::MAX_PANIC_REST_ROUNDS;
use crate::collector::Collected;
use crate::collector::Failure;
use crate::debug_log::{DebugLog, panic_message};
use crate::engine::entry::{Claim, Entry, Note};
use crate::engine::registry::Registry;
use crate::losses::{Loss, Tally};

/// How a round claims a collector another run holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Claiming {
    /// Skips it: a round never waits for a slow collector.
    Skip,
    /// Waits for it until then: the last round, whose increases would otherwise be lost.
    WaitUntil(Instant),
}

/// What one collector returned.
pub(crate) struct Run {
    pub(crate) entry: Arc<Entry>,
    pub(crate) collected: Collected,
}

/// What collecting found.
#[derive(Default)]
pub(crate) struct Collection {
    pub(crate) runs: Vec<Run>,
    /// Rounds of collectors that did not run or failed, by reason.
    pub(crate) losses: Tally,
    /// Runs that panicked or returned an error.
    pub(crate) failures: u64,
    /// Collectors skipped because another run held them.
    pub(crate) skips: u64,
    /// Problems worth a line in the debug log (each kind once per collector).
    pub(crate) notes: Vec<String>,
}

/// Claims and runs each of `entries` on this thread, releasing each claim when its run is done.
/// A collector that finished is removed from `registry` (its last metrics are still sent); one
/// replaced while it ran is superseded, and what it returned is not sent.
pub(crate) fn collect(
    entries: &[Arc<Entry>],
    claiming: Claiming,
    registry: &Registry,
    log: &DebugLog,
) -> Collection {
    let mut collection = Collection::default();
    for entry in entries {
        let claim = match claiming {
            Claiming::Skip => entry.claim(),
            Claiming::WaitUntil(deadline) => entry.claim_by(deadline),
        };
        let Some(claim) = claim else {
            collection.skips += 1;
            collection
                .losses
                .add(entry.name, Loss::CollectorBusy, entry.round_cost());
            if entry.first(Note::Busy) {
                collection.notes.push(format!(
                    "collector `{}` is still running from an earlier round or another \
                     `collect_now` (it takes longer than the collection interval, or waits for \
                     a free worker); rounds skip it until it returns (reported once)",
                    entry.name
                ));
            }
            continue;
        };
        // The claim is released when the run is done: no lock of ours is held while the
        // metrics are sent, since the SDK's `before_send_metric` hook may call back into
        // `collect_now` (which then finds the collector free).
        let Some(collected) = run(&claim, log, &mut collection) else {
            continue;
        };
        drop(claim);
        if collected.finished {
            registry.remove(entry);
        } else if entry.is_removed() {
            continue;
        }
        collection.runs.push(Run {
            entry: Arc::clone(entry),
            collected,
        });
    }
    collection
}

/// One run of the claimed collector; `None` if it rests after a panic, panicked or failed
/// (recorded in `collection`).
fn run(claim: &Claim, log: &DebugLog, collection: &mut Collection) -> Option<Collected> {
    let entry = claim.entry();
    let mut state = claim.state();
    let failure = if state.rest.resting() {
        Failure::Resting
    } else {
        let result = catch_unwind(AssertUnwindSafe(|| {
            log.around(|| state.collector.collect_mut())
        }));
        state.rest.ran(result.is_err());
        match result {
            Ok(Ok(collected)) => {
                for part in &collected.failed_parts {
                    failed(
                        collection,
                        part.name,
                        &part.failure,
                        part.metrics,
                        part.note,
                    );
                }
                return Some(collected);
            }
            Ok(Err(err)) => Failure::Error(err.to_string()),
            Err(payload) => Failure::Panic(panic_message(payload.as_ref()).to_owned()),
        }
    };
    let note = match failure {
        Failure::Error(_) => entry.first(Note::Error),
        Failure::Panic(_) => entry.first(Note::Panic),
        Failure::Resting => false,
    };
    failed(collection, entry.name, &failure, entry.round_cost(), note);
    None
}

/// Records that the collector (or part of one) named `name` did not send its `metrics` this
/// round, with a line for the debug log if `note`.
fn failed(
    collection: &mut Collection,
    name: &'static str,
    failure: &Failure,
    metrics: u64,
    note: bool,
) {
    let loss = match failure {
        Failure::Error(_) => Loss::CollectorFailed,
        Failure::Panic(_) | Failure::Resting => Loss::CollectorPanicked,
    };
    collection.losses.add(name, loss, metrics);
    if !matches!(failure, Failure::Resting) {
        collection.failures += 1;
    }
    if !note {
        return;
    }
    collection.notes.push(match failure {
        Failure::Error(err) => {
            format!("{err}; its metrics are skipped this round (reported once)")
        }
        Failure::Panic(message) => format!(
            "collector `{name}` panicked: {message}; its metrics are skipped, the other \
             collectors still send; while it keeps panicking it is retried after 1, 2, 4 .. \
             {MAX_PANIC_REST_ROUNDS} rounds (reported once)"
        ),
        Failure::Resting => return,
    });
}
