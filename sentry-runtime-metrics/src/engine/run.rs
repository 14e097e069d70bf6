//! One run of a claimed collector, from collecting to the SDK: collect (containing its panics
//! and errors), check what it returned, send it to the client, and account for what was lost.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use sentry_core::Client;

use crate::binding::ClientBinding;
use crate::debug_log::panic_message;
use crate::engine::check;
use crate::engine::entry::{Claim, MAX_PANIC_REST_ROUNDS, Note};
use crate::engine::{Engine, Round};
use crate::losses::{Loss, Tally};
use crate::metric::RuntimeMetric;

impl Engine {
    /// One run of a claimed collector: collect (containing panics and errors), check, send.
    /// Returns what was lost.
    pub(super) fn run(&self, round: Round, claim: Claim, to: Option<&Arc<ClientBinding>>) -> Tally {
        let mut tally = Tally::default();
        let entry = Arc::clone(claim.entry());
        // A background run for a client that closed meanwhile (or was replaced) is not started.
        if round == Round::Background && to.and_then(|to| to.client()).is_none() {
            return tally;
        }
        let mut state = claim.state();
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.log.around(|| state.collector.collect_mut())
        }));
        if round.sends() {
            state.ran(result.is_err());
        }
        let collected = match result {
            Ok(Ok(collected)) => collected,
            Ok(Err(err)) => {
                if round.sends() {
                    self.stats.collector_failed();
                    tally.add(entry.name, Loss::CollectorFailed, entry.round_cost());
                    if state.first(Note::Error) {
                        self.log.write(format_args!(
                            "{err}; its metrics are skipped this round (reported once)"
                        ));
                    }
                }
                return tally;
            }
            Err(payload) => {
                if round.sends() {
                    self.stats.collector_failed();
                    tally.add(entry.name, Loss::CollectorPanicked, entry.round_cost());
                    if state.first(Note::Panic) {
                        self.log.write(format_args!(
                            "collector `{}` panicked: {}; its metrics are skipped, the other \
                             collectors still send; while it keeps panicking it is retried after \
                             1, 2, 4 .. {MAX_PANIC_REST_ROUNDS} rounds (reported once)",
                            entry.name,
                            panic_message(payload.as_ref())
                        ));
                    }
                }
                return tally;
            }
        };
        entry.sent(collected.len().min(state.cap));
        // The application's code too: a panic there means "not finished", or nothing dropped.
        let finished =
            catch_unwind(AssertUnwindSafe(|| state.collector.is_finished())).unwrap_or(false);
        if round.sends() {
            let dropped =
                catch_unwind(AssertUnwindSafe(|| state.collector.take_dropped())).unwrap_or(0);
            tally.add(entry.name, Loss::CollectorLimit, dropped);
        }
        let room = self.sender.attribute_room();
        let checked = check::check(entry.name, &mut state, collected, room, round.sends());
        // No lock of ours is held while sending: the SDK's `before_send_metric` hook may call
        // back into `collect_now` (which then skips this collector, still claimed).
        drop(state);
        if finished {
            self.registry.remove(&entry);
        }
        if !round.sends() || (entry.is_removed() && !finished) {
            // A baseline sends nothing; a collector replaced while it ran is superseded.
            return tally;
        }
        for note in &checked.notes {
            self.log.write(format_args!("{note}"));
        }
        tally.merge(checked.losses);
        self.stats.corrected(checked.corrected);
        let metrics = checked.metrics.len();
        match to.and_then(|to| to.client()) {
            Some(client) => {
                let sent = self.send(&client, checked.metrics);
                self.stats.sent(sent as u64);
                tally.add(entry.name, Loss::CapturePanicked, (metrics - sent) as u64);
            }
            None => tally.add(entry.name, Loss::NoClient, metrics as u64),
        }
        tally
    }

    /// Counts what `tally` lost and reports it as `runtime_metrics.dropped` to the client.
    pub(super) fn account(&self, tally: &Tally, to: Option<&Arc<ClientBinding>>) {
        if tally.is_empty() {
            return;
        }
        self.stats.lost(tally);
        if let Some(client) = to.and_then(|to| to.client()) {
            self.send(&client, tally.report());
        }
    }

    /// Sends `metrics`; returns how many the SDK took. A pause after a panic of the SDK's
    /// capture path is counted in rounds as completed when the metric is sent.
    fn send(&self, client: &Client, metrics: Vec<RuntimeMetric>) -> usize {
        self.sender
            .send(client, metrics, self.stats.rounds(), &self.log)
    }
}
