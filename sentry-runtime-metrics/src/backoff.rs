//! How long something that keeps panicking rests: the rule shared by collectors that panic and
//! by the SDK's capture path when the application's `before_send_metric` hook panics. Each panic
//! runs the application's panic hook, which may report it as an error event (sentry-panic does),
//! so what panics every round must not be retried every round.

/// Most rounds a collector that keeps panicking is rested between attempts (the rest doubles
/// from one round with every consecutive panic).
pub(crate) const MAX_PANIC_REST_ROUNDS: u32 = 64;

/// How a collector that panics is rested: 1, 2, 4 .. [`MAX_PANIC_REST_ROUNDS`] rounds after
/// each panic in a row.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PanicRest {
    /// Consecutive runs that panicked.
    panics: u32,
    /// Rounds left to skip.
    rest: u32,
}

impl PanicRest {
    /// Whether this round is one of the rests after a panic (uses it up).
    pub(crate) fn resting(&mut self) -> bool {
        let resting = self.rest > 0;
        self.rest = self.rest.saturating_sub(1);
        resting
    }

    /// Records how a run ended.
    pub(crate) fn ran(&mut self, panicked: bool) {
        if panicked {
            self.panics = self.panics.saturating_add(1);
            self.rest = rest_rounds(self.panics, MAX_PANIC_REST_ROUNDS);
        } else {
            self.panics = 0;
        }
    }
}

/// Rounds to rest after the `failures`-th failure in a row (counting from 1): 1, 2, 4, .. up to
/// `max`.
pub(crate) fn rest_rounds(failures: u32, max: u32) -> u32 {
    1u32.checked_shl(failures.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_limit() {
        let rests: Vec<u32> = (1..=9).map(|n| rest_rounds(n, 64)).collect();
        assert_eq!(rests, [1, 2, 4, 8, 16, 32, 64, 64, 64]);
        assert_eq!(rest_rounds(0, 64), 1);
        assert_eq!(rest_rounds(u32::MAX, 64), 64);
    }
}
