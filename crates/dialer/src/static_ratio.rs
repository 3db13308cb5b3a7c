//! A fixed number of lines per idle agent: outstanding dials are kept at
//! `round(ratio * idle agents)`. The benchmark tunes `ratio` with the answer in hand.

use crate::{Outcome, PacingPolicy, Snapshot};

/// The highest ratio accepted.
pub const RATIO_MAX: f64 = 50.0;

#[derive(Clone, Debug)]
pub struct StaticRatio {
    ratio: f64,
}

impl StaticRatio {
    /// `ratio` is clamped to `[1, RATIO_MAX]`; a NaN means 1 (progressive).
    pub fn new(ratio: f64) -> StaticRatio {
        let ratio = if ratio.is_nan() { 1.0 } else { ratio.clamp(1.0, RATIO_MAX) };
        StaticRatio { ratio }
    }

    pub fn ratio(&self) -> f64 {
        self.ratio
    }
}

impl PacingPolicy for StaticRatio {
    fn name(&self) -> &'static str {
        "static-ratio"
    }

    fn handle_outcome(&mut self, _now_ms: u64, _outcome: Outcome) {}

    fn poll_dials(&mut self, snapshot: &Snapshot<'_>) -> u32 {
        let target = (self.ratio * f64::from(snapshot.idle_agents)).round();
        let covered = snapshot.outstanding().saturating_add(snapshot.waiting_calls);
        // The cast saturates; the Pacer clamps to the lines anyway.
        (target as u32).saturating_sub(covered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ratio_times_idle_outstanding() {
        let mut p = StaticRatio::new(2.5);
        let ages = [0, 0];
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: 2,
            busy: &[],
            outstanding_ages_ms: &ages,
            waiting_calls: 0,
        };
        assert_eq!(p.poll_dials(&snap), 3);
        assert_eq!(StaticRatio::new(f64::NAN).ratio(), 1.0);
        assert_eq!(StaticRatio::new(1e9).ratio(), RATIO_MAX);
    }
}
