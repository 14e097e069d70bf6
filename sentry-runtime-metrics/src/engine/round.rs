//! A collection round, the one way collectors are run: claim each collector (one still running
//! is skipped, one resting after a panic sits the round out), then [run](super::run) it, on the
//! calling thread or on the workers. Baselines, `collect_now` and background rounds differ only
//! in their [`Round`]. The engine's entry points (setup, registration, the two kinds of rounds
//! that send) are here.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::binding::ClientBinding;
use crate::collector::MetricCollector;
use crate::engine::entry::{Claim, Entry, Origin};
use crate::engine::workers::After;
use crate::engine::{Engine, Round};
use crate::losses::{Loss, Tally};
use crate::sync::lock;

/// How long `sentry::init` and `add_collector` wait for a baseline. Real collectors take
/// microseconds; a slower one finishes its baseline in the background, and rounds skip it until
/// then.
const BASELINE_WAIT: Duration = Duration::from_millis(100);

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
    /// Prepares for a new client: its debug log, how long idle workers stay, the baselines of
    /// collectors that have none yet.
    pub(crate) fn set_up(self: &Arc<Self>, debug: bool, interval: Duration) {
        self.log.enable(debug);
        if debug && let Some(problems) = lock(&self.attribute_problems).take() {
            self.log.write(format_args!("{problems}"));
        }
        // Idle workers stay for two rounds (so steady collection reuses them), within limits.
        let idle_exit = interval
            .saturating_mul(2)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        self.workers.set_idle_exit(idle_exit);
        self.round(Round::Baseline, &self.registry.snapshot(), None);
    }

    /// Adds a collector (a runtime registered after init, a collector added later), replacing
    /// any registered under one of `keys`, and takes its baseline, so its first round sends
    /// increases since now.
    pub(crate) fn add(
        self: &Arc<Self>,
        collector: Box<dyn MetricCollector>,
        origin: Origin,
        keys: Vec<String>,
    ) {
        let entry = self.register(collector, origin, keys);
        // Should a round claim it first, that round's run is its baseline, and this one sits out.
        self.round(Round::Baseline, &[entry], None);
    }

    /// Adds a collector without taking its baseline (the next baseline round, or its first
    /// good run, does), replacing any registered under one of `keys`.
    pub(crate) fn register(
        &self,
        collector: Box<dyn MetricCollector>,
        origin: Origin,
        keys: Vec<String>,
    ) -> Arc<Entry> {
        let entry = Entry::new(collector, origin, keys);
        self.registry.add(Arc::clone(&entry));
        entry
    }

    /// One round on the calling thread, sending to the client of `to`.
    pub(crate) fn collect_now(self: &Arc<Self>, to: Option<&Arc<ClientBinding>>) {
        self.round(Round::Now, &self.registry.snapshot(), to);
    }

    /// One round of the sampler: every collector on the workers, sending to the client of `to`.
    pub(crate) fn background_round(self: &Arc<Self>, to: &Arc<ClientBinding>) {
        self.round(Round::Background, &self.registry.snapshot(), Some(to));
    }

    /// Runs `round` over `entries`, sending to the client of `to`.
    fn round(
        self: &Arc<Self>,
        round: Round,
        entries: &[Arc<Entry>],
        to: Option<&Arc<ClientBinding>>,
    ) {
        let mut tally = Tally::default();
        let mut built_in = Vec::new();
        let mut batches = Vec::new();
        for entry in entries {
            let Some(claim) = self.claim(round, entry, &mut tally) else {
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
        if batches.is_empty() && (round != Round::Background || tally.is_empty()) {
            // Everything ran here (`collect_now`), or nothing is left to do.
            self.account(&tally, to);
            if round.sends() {
                self.stats.round_completed();
            }
            return;
        }
        if batches.is_empty() {
            // Every collector sat the round out: a job without collectors reports that, so this
            // thread stays off the capture path.
            batches.push(Vec::new());
        }
        let (done, finished) = mpsc::channel::<()>();
        let end = Arc::new(RoundEnd {
            engine: Arc::clone(self),
            counted: round.sends(),
            _done: done,
        });
        // What the dispatch itself found (collectors still running, resting) is reported by
        // the first job to finish, so this thread never runs the SDK's capture path (nor the
        // application's `before_send_metric` hook): it only keeps time.
        let dispatch_losses = Arc::new(Mutex::new(Some(tally)));
        // Jobs in flight at once, whatever the rounds: one per claim a job can hold.
        let in_flight = self.registry.job_groups();
        let mut submitted = 0;
        let mut no_thread = Tally::default();
        for batch in batches {
            let cost: Vec<(&'static str, u64)> = batch
                .iter()
                .map(|claim| (claim.entry().name, claim.entry().round_cost()))
                .collect();
            let (engine, to, end) = (Arc::clone(self), to.cloned(), Arc::clone(&end));
            let losses = Arc::clone(&dispatch_losses);
            let job = Box::new(move || {
                let mut tally = Tally::default();
                for claim in batch {
                    tally.merge(engine.run(round, claim, to.as_ref()));
                }
                if let Some(found) = lock(&losses).take() {
                    tally.merge(found);
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
            if self.workers.submit(job, after, in_flight).is_ok() {
                submitted += 1;
            } else if round.sends() {
                for (name, metrics) in cost {
                    no_thread.add(name, Loss::NoThread, metrics);
                }
            }
        }
        if submitted == 0
            && let Some(found) = lock(&dispatch_losses).take()
        {
            no_thread.merge(found);
        }
        // Only when threads could not be started: then this one is all there is.
        self.account(&no_thread, to);
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
}
