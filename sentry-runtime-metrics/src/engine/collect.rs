//! The first step of a round: run each claimed collector, containing its panics and errors.
//! The result is a value: what each collector returned, and what was lost and why.
//!
//! Collectors are claimed first ([`claim`]): one atomic swap each, never a wait (but in the last
//! round), so the sampler thread can claim a background round's collectors itself and hand the
//! claims to the workers. A round that finds a collector still held by another run skips it; the
//! run that holds it reports the skipped rounds when it returns, with its own.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crate::collector::Collected;
use crate::debug_log::{DebugLog, panic_message};
use crate::engine::entry::{Claim, Entry, MAX_PANIC_REST_ROUNDS, Note};
use crate::engine::registry::Registry;
use crate::losses::{Loss, Stats, Tally};

/// How a round claims a collector another run holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Claiming {
    /// Skips it: a round never waits for a slow collector.
    Skip,
    /// Waits for it until then: the last round, whose increases would otherwise be lost.
    WaitUntil(Instant),
}

/// Claims `entry`. One held by another run is skipped: counted in `stats` now, noted once in
/// the debug log, and reported by the run that holds it.
pub(crate) fn claim(
    entry: &Arc<Entry>,
    claiming: Claiming,
    stats: &Stats,
    log: &DebugLog,
) -> Option<Claim> {
    let claim = match claiming {
        Claiming::Skip => entry.claim(),
        Claiming::WaitUntil(deadline) => entry.claim_by(deadline),
    };
    if claim.is_none() {
        stats.collectors_skipped(1);
        if entry.skipped() {
            log.write(format_args!(
                "collector `{}` is still running from an earlier round or another \
                 `collect_now` (it takes longer than the collection interval, or waits for a \
                 free worker); rounds skip it until it returns (reported once)",
                entry.name
            ));
        }
    }
    claim
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
    /// Rounds of collectors that did not run, failed, or were skipped while they ran, by reason.
    pub(crate) losses: Tally,
    /// Runs that panicked or returned an error.
    pub(crate) failures: u64,
    /// Problems worth a line in the debug log (each kind once per collector).
    pub(crate) notes: Vec<String>,
}

/// Runs each claimed collector on this thread, releasing each claim when its run is done. A
/// collector that finished is removed from `registry` (its last metrics are still sent); one
/// replaced while it ran is superseded, and what it returned is not sent.
pub(crate) fn collect(
    claims: impl IntoIterator<Item = Claim>,
    registry: &Registry,
    log: &DebugLog,
) -> Collection {
    let mut collection = Collection::default();
    for claim in claims {
        let entry = Arc::clone(claim.entry());
        let skipped = entry.take_skipped();
        collection
            .losses
            .add(entry.name, Loss::CollectorBusy, skipped);
        // The claim is released when the run is done: no lock of ours is held while the
        // metrics are sent, since the SDK's `before_send_metric` hook may call back into
        // `collect_now` (which then finds the collector free).
        let Some(collected) = run(&claim, log, &mut collection) else {
            continue;
        };
        drop(claim);
        if collected.finished {
            registry.remove(&entry);
        } else if entry.is_removed() {
            continue;
        }
        collection.runs.push(Run { entry, collected });
    }
    collection
}

/// One run of the claimed collector; `None` if it rests after a panic, panicked or failed
/// (recorded in `collection`).
fn run(claim: &Claim, log: &DebugLog, collection: &mut Collection) -> Option<Collected> {
    let entry = claim.entry();
    let mut state = claim.state();
    if state.resting() {
        collection
            .losses
            .add(entry.name, Loss::CollectorPanicked, entry.round_cost());
        return None;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        log.around(|| state.collector.collect_mut())
    }));
    state.ran(result.is_err());
    let (loss, note) = match result {
        Ok(Ok(collected)) => return Some(collected),
        Ok(Err(err)) => {
            let note = entry
                .first(Note::Error)
                .then(|| format!("{err}; its metrics are skipped this round (reported once)"));
            (Loss::CollectorFailed, note)
        }
        Err(payload) => {
            let note = entry.first(Note::Panic).then(|| {
                format!(
                    "collector `{}` panicked: {}; its metrics are skipped, the other collectors \
                     still send; while it keeps panicking it is retried after 1, 2, 4 .. \
                     {MAX_PANIC_REST_ROUNDS} rounds (reported once)",
                    entry.name,
                    panic_message(payload.as_ref())
                )
            });
            (Loss::CollectorPanicked, note)
        }
    };
    collection.failures += 1;
    collection.losses.add(entry.name, loss, entry.round_cost());
    collection.notes.extend(note);
    None
}
