//! A collection round, the one way collectors are run: claim each collector (one still running
//! is skipped, one resting after a panic sits the round out), run it (on the calling thread or
//! on the workers), check what it returned, send it, and account for what was lost. Baselines,
//! `collect_now` and background rounds differ only in their [`Round`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use sentry_core::Client;

use crate::binding::ClientBinding;
use crate::engine::Engine;
use crate::engine::check::{self, MAX_METRICS_PER_COLLECTOR};
use crate::engine::entry::{Claim, Entry, MAX_PANIC_REST_ROUNDS, Note, Origin};
use crate::engine::send::panic_message;
use crate::engine::workers::After;
use crate::losses::{Loss, Tally};
use crate::metric::RuntimeMetric;

/// How long `sentry::init` and `add_collector` wait for a baseline. Real collectors take
/// microseconds; a slower one finishes its baseline in the background, and rounds skip it until
/// then.
const BASELINE_WAIT: Duration = Duration::from_millis(100);

/// What kind of round, which decides where collectors run and whether anything is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Round {
    /// The first run of collectors, at setup or registration: records counter totals so the
    /// first real round sends increases since then; sends nothing. Runs on the workers; the
    /// caller waits for it at most [`BASELINE_WAIT`].
    Baseline,
    /// `collect_now()`: every collector on the calling thread.
    Now,
    /// The sampler's: every collector on the workers (the built-in ones together, each of the
    /// application's on its own), each sending when it is done.
    Background,
}

impl Round {
    /// Whether the round sends, and counts what it loses.
    fn sends(self) -> bool {
        self != Round::Baseline
    }
}

/// Shared by a round's dispatch and its jobs; when the last of them is done, so is the round: a
/// round that sends is counted (so `stats().rounds` never counts a round whose metrics are not
/// all handed to the SDK yet), and a caller waiting for a baseline is woken.
struct RoundEnd {
    engine: Arc<Engine>,
    counted: bool,
    /// Dropped with the round's end, which disconnects the channel its dispatch waits on.
    _done: mpsc::Sender<()>,
}

impl Drop for RoundEnd {
    fn drop(&mut self) {
        if self.counted {
            self.engine.stats.round_completed();
        }
    }
}

impl Engine {
    /// Runs `round` over `entries`, sending to the client of `to`.
    pub(crate) fn round(
        self: &Arc<Self>,
        round: Round,
        entries: Vec<Arc<Entry>>,
        to: Option<&Arc<ClientBinding>>,
    ) {
        let mut tally = Tally::default();
        let mut built_in = Vec::new();
        let mut batches = Vec::new();
        for entry in entries {
            let Some(claim) = self.claim(round, &entry, &mut tally) else {
                continue;
            };
            match (round, entry.origin) {
                (Round::Now, _) => tally.merge(self.run(round, claim, to)),
                (_, Origin::BuiltIn) => built_in.push(claim),
                (_, Origin::Application) => batches.push(vec![claim]),
            }
        }
        if !built_in.is_empty() {
            batches.insert(0, built_in);
        }
        let (done, finished) = mpsc::channel::<()>();
        let end = Arc::new(RoundEnd {
            engine: Arc::clone(self),
            counted: round.sends(),
            _done: done,
        });
        // Jobs in flight at once, whatever the rounds: one per claim a job can hold.
        let in_flight = self.registry.job_groups();
        for batch in batches {
            let cost: Vec<(&'static str, u64)> = batch
                .iter()
                .map(|claim| (claim.entry().name, claim.entry().round_cost()))
                .collect();
            let (engine, to, end) = (Arc::clone(self), to.cloned(), Arc::clone(&end));
            let job = Box::new(move || {
                let mut tally = Tally::default();
                for claim in batch {
                    tally.merge(engine.run(round, claim, to.as_ref()));
                }
                engine.account(&tally, to.as_ref());
                drop(end);
            });
            // Baseline workers exit when done: the first round is an interval away.
            let after = if round.sends() {
                After::Stay
            } else {
                After::Exit
            };
            // Dropping a job that no thread can run released its claims.
            if self.workers.submit(job, after, in_flight).is_err() && round.sends() {
                for (name, metrics) in cost {
                    tally.add(name, Loss::NoThread, metrics);
                }
            }
        }
        self.account(&tally, to);
        drop(end);
        if !round.sends() {
            // Until every part of the baseline let go of the round's end (the channel is then
            // disconnected), or the wait is over.
            let _ = finished.recv_timeout(BASELINE_WAIT);
        }
    }

    /// Claims `entry` for `round`, or says why it sits the round out.
    fn claim(&self, round: Round, entry: &Arc<Entry>, tally: &mut Tally) -> Option<Claim> {
        let Some(claim) = entry.claim() else {
            if round.sends() {
                self.stats.collector_skipped();
                tally.add(entry.name, Loss::CollectorBusy, entry.round_cost());
                if entry.first_busy() {
                    self.log.write(format_args!(
                        "collector `{}` is still running from an earlier round, its baseline at \
                         init or another `collect_now` (it takes longer than the collection \
                         interval, or waits for a free worker); rounds skip it until it returns \
                         (reported once)",
                        entry.name
                    ));
                }
            }
            return None;
        };
        let mut state = claim.state();
        let sits_out = match round {
            // One that has its baseline (a second client) keeps it.
            Round::Baseline => state.baselined,
            _ if state.resting() => {
                tally.add(entry.name, Loss::CollectorPanicked, entry.round_cost());
                true
            }
            _ => false,
        };
        drop(state);
        (!sits_out).then_some(claim)
    }

    /// One run of a claimed collector: collect (containing panics and errors), check, send.
    /// Returns what was lost.
    fn run(&self, round: Round, claim: Claim, to: Option<&Arc<ClientBinding>>) -> Tally {
        let mut tally = Tally::default();
        let entry = Arc::clone(claim.entry());
        // A background run for a client that closed meanwhile (or was replaced) is not started.
        if round == Round::Background && to.and_then(|to| to.client()).is_none() {
            return tally;
        }
        let mut state = claim.state();
        let result = catch_unwind(AssertUnwindSafe(|| state.collector.collect_mut()));
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
        entry.sent(collected.len().min(MAX_METRICS_PER_COLLECTOR));
        let finished = state.collector.is_finished();
        let checked = check::check(entry.name, &mut state, collected, round.sends());
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
    fn account(&self, tally: &Tally, to: Option<&Arc<ClientBinding>>) {
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
