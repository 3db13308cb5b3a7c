//! The abandon cap as a hard guard around any pacing policy.
//!
//! [`Pacer`](crate::Pacer) only clamps dials to the lines, and [`Predictive`](crate::Predictive)
//! falls back to progressive on its own once the day's rate reaches 98% of the cap: a controller
//! heuristic that keeps the rate near the cap on average, not a bound. [`CapGuard`] makes the
//! bound: it wraps a policy, keeps the campaign's [`AbandonLedger`] from the outcomes it is
//! told, and lets the policy dial beyond progressive only while the worst case stays under the
//! cap.
//!
//! The argument. Let `A` and `L` be the abandons and live answers in the window and
//! `X = max(0, outstanding + waiting - idle)` the calls in flight that no idle agent is there
//! for. Only those can be abandoned: an idle agent stays idle until a call takes it, so a call
//! finds nobody only after every idle agent has been taken. Placing a dial beyond progressive
//! raises `X` by one. The guard allows `k` such dials while
//! `A + X + k <= cap * (L + X + k)`, i.e. while every call in flight could be abandoned and the
//! rate would still be within the cap. Each event keeps that true (a bridged call adds to `L`
//! only; an abandon moves one from `X` to `A` and `L`; a call resolving as a machine or an agent
//! freeing lowers `X`), so the rate never exceeds the cap. It holds as long as agents counted
//! idle do not leave while dials are out (a break taken then can cost an abandon), for the
//! long-run rate and for every window while no old answers leave it, and not for detector
//! misses under the UK rule, which count as abandons whatever the pacing.

use crate::abandon::{AbandonLedger, AbandonRule, AbandonWindowError};
use crate::{Outcome, PacingPolicy, Progressive, Snapshot};

/// Slack for floating-point error in the budget, so rounding never grants a dial too many.
const BUDGET_EPSILON: f64 = 1e-9;

#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum CapError {
    #[error("cap must be at least 0 and below 1, got {0}")]
    Cap(f64),
    #[error(transparent)]
    Window(#[from] AbandonWindowError),
}

/// A pacing policy that can never take the abandon rate over the cap. See the module docs.
pub struct CapGuard {
    inner: Box<dyn PacingPolicy + Send>,
    ledger: AbandonLedger,
    cap: f64,
    limited: bool,
}

impl CapGuard {
    pub fn new(
        inner: Box<dyn PacingPolicy + Send>,
        rule: AbandonRule,
        cap: f64,
    ) -> Result<CapGuard, CapError> {
        if !(0.0..1.0).contains(&cap) {
            return Err(CapError::Cap(cap));
        }
        Ok(CapGuard { inner, ledger: AbandonLedger::new(rule)?, cap, limited: false })
    }

    pub fn cap(&self) -> f64 {
        self.cap
    }

    /// The campaign's abandon accounting, as the guard keeps it.
    pub fn ledger(&self) -> &AbandonLedger {
        &self.ledger
    }

    /// Whether the last poll cut the policy's answer.
    pub fn is_limiting(&self) -> bool {
        self.limited
    }

    /// A live person the detector took for a machine (counts as an abandon under the UK rule).
    pub fn handle_detector_miss(&mut self, now_ms: u64) {
        self.ledger.handle_detector_miss(now_ms);
    }

    /// Dials beyond progressive allowed now: the largest `k` with
    /// `A + X + k <= cap * (L + X + k)`.
    pub fn budget(&self, snapshot: &Snapshot<'_>) -> u32 {
        let covered = snapshot.outstanding().saturating_add(snapshot.waiting_calls);
        let exposed = f64::from(covered.saturating_sub(snapshot.idle_agents));
        let live = self.ledger.live_in_window() as f64;
        let abandoned = self.ledger.abandoned_in_window() as f64;
        let k = (self.cap * live - abandoned) / (1.0 - self.cap) - exposed - BUDGET_EPSILON;
        if k <= 0.0 {
            0
        } else {
            // The cast saturates: a huge budget is clamped by the Pacer's lines anyway.
            k.floor() as u32
        }
    }
}

impl PacingPolicy for CapGuard {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn handle_outcome(&mut self, now_ms: u64, outcome: Outcome) {
        if let Outcome::LiveHandled { abandoned } = outcome {
            self.ledger.handle_live_answer(now_ms, abandoned);
        }
        self.inner.handle_outcome(now_ms, outcome);
    }

    fn poll_dials(&mut self, snapshot: &Snapshot<'_>) -> u32 {
        self.ledger.advance(snapshot.now_ms);
        let wanted = self.inner.poll_dials(snapshot);
        let allowed = Progressive::dials_for(snapshot).saturating_add(self.budget(snapshot));
        self.limited = wanted > allowed;
        wanted.min(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticRatio;

    fn snap(idle: u32, outstanding: &[u64]) -> Snapshot<'_> {
        Snapshot {
            now_ms: 0,
            idle_agents: idle,
            busy: &[],
            outstanding_ages_ms: outstanding,
            waiting_calls: 0,
        }
    }

    #[test]
    fn progressive_until_live_answers_earn_a_budget() {
        let mut g =
            CapGuard::new(Box::new(StaticRatio::new(3.0)), AbandonRule::Us, 0.03).expect("valid");
        assert_eq!(g.poll_dials(&snap(4, &[])), 4, "no history: progressive");
        assert!(g.is_limiting());
        for _ in 0..100 {
            g.handle_outcome(0, Outcome::LiveHandled { abandoned: false });
        }
        // 0.03 * 100 / 0.97 = 3.09: three over-dials.
        assert_eq!(g.budget(&snap(4, &[])), 3);
        assert_eq!(g.poll_dials(&snap(4, &[])), 7);
        // Two already exposed (6 out for 4 idle): one more.
        assert_eq!(g.budget(&snap(4, &[0; 6])), 1);
        g.handle_outcome(0, Outcome::LiveHandled { abandoned: true });
        assert_eq!(g.budget(&snap(4, &[])), 2);
    }

    #[test]
    fn a_budget_on_the_boundary_errs_on_the_safe_side() {
        let mut g =
            CapGuard::new(Box::new(StaticRatio::new(50.0)), AbandonRule::Us, 0.5).expect("valid");
        for _ in 0..3 {
            g.handle_outcome(0, Outcome::LiveHandled { abandoned: false });
        }
        // (0.5 * 3 - 0) / 0.5 = 3 exactly.
        assert_eq!(g.budget(&snap(0, &[])), 2);
    }

    #[test]
    fn bad_caps_are_refused() {
        let p = || Box::new(Progressive::new()) as Box<dyn PacingPolicy + Send>;
        assert!(matches!(CapGuard::new(p(), AbandonRule::Us, 1.0), Err(CapError::Cap(_))));
        assert!(matches!(CapGuard::new(p(), AbandonRule::Us, f64::NAN), Err(CapError::Cap(_))));
        assert!(CapGuard::new(p(), AbandonRule::Us, 0.0).is_ok());
    }
}
