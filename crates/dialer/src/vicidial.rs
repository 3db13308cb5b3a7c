//! VICIdial's ADAPT_AVERAGE / ADAPT_HARD_LIMIT pacing, as the benchmark document states it.
//!
//! - Every 15 s the dial level is multiplied by
//!   `1 + (avg ready agents - avg waiting calls) / active agents`, clamped to `[1, 3]`.
//! - When the day's drop rate exceeds the cap, the level is halved (AVERAGE) or reset to 1
//!   (HARD_LIMIT), checked at the same 15 s step.
//! - Every 2.5 s it places `round(level * active agents) - calls in progress`.
//!
//! Reading of the terms, as VICIdial counts them: active agents are those logged in and not
//! paused (idle or busy); calls in progress are every call the dialer holds: outstanding dials,
//! answered calls waiting for an agent, and calls being talked (wrap-up holds no call). The
//! averages are over the snapshots seen since the last adjustment.

use crate::{AgentPhase, Outcome, PacingPolicy, Snapshot};

const ADAPT_MS: u64 = 15_000;
const DIAL_MS: u64 = 2_500;
const LEVEL_MIN: f64 = 1.0;
const LEVEL_MAX: f64 = 3.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VicidialDropMode {
    /// ADAPT_AVERAGE: halve the level.
    Average,
    /// ADAPT_HARD_LIMIT: reset the level to 1.
    HardLimit,
}

#[derive(Clone, Debug)]
pub struct VicidialAdaptive {
    cap: f64,
    mode: VicidialDropMode,
    level: f64,
    next_adapt_ms: Option<u64>,
    next_dial_ms: u64,
    ready_sum: f64,
    waiting_sum: f64,
    samples: u32,
    live: u64,
    dropped: u64,
}

impl VicidialAdaptive {
    pub fn new(cap: f64, mode: VicidialDropMode) -> VicidialAdaptive {
        VicidialAdaptive {
            cap,
            mode,
            level: LEVEL_MIN,
            next_adapt_ms: None,
            next_dial_ms: 0,
            ready_sum: 0.0,
            waiting_sum: 0.0,
            samples: 0,
            live: 0,
            dropped: 0,
        }
    }

    pub fn level(&self) -> f64 {
        self.level
    }

    fn adapt(&mut self, active: u32) {
        if self.samples > 0 && active > 0 {
            let n = f64::from(self.samples);
            let diff = self.ready_sum / n - self.waiting_sum / n;
            self.level *= 1.0 + diff / f64::from(active);
        }
        let drop_rate = if self.live > 0 { self.dropped as f64 / self.live as f64 } else { 0.0 };
        if drop_rate > self.cap {
            self.level = match self.mode {
                VicidialDropMode::Average => self.level / 2.0,
                VicidialDropMode::HardLimit => LEVEL_MIN,
            };
        }
        self.level = self.level.clamp(LEVEL_MIN, LEVEL_MAX);
        self.ready_sum = 0.0;
        self.waiting_sum = 0.0;
        self.samples = 0;
    }
}

impl PacingPolicy for VicidialAdaptive {
    fn name(&self) -> &'static str {
        "vicidial-adaptive"
    }

    fn handle_outcome(&mut self, _now_ms: u64, outcome: Outcome) {
        if let Outcome::LiveHandled { abandoned } = outcome {
            self.live += 1;
            self.dropped += u64::from(abandoned);
        }
    }

    fn poll_dials(&mut self, s: &Snapshot<'_>) -> u32 {
        self.ready_sum += f64::from(s.idle_agents);
        self.waiting_sum += f64::from(s.waiting_calls);
        self.samples += 1;
        let next_adapt = *self.next_adapt_ms.get_or_insert(s.now_ms + ADAPT_MS);
        if s.now_ms >= next_adapt {
            self.adapt(s.active_agents());
            self.next_adapt_ms = Some(s.now_ms + ADAPT_MS);
        }
        if s.now_ms < self.next_dial_ms {
            return 0;
        }
        self.next_dial_ms = s.now_ms + DIAL_MS;
        let talking = s.busy.iter().filter(|b| b.phase == AgentPhase::Talk).count();
        let in_progress = s
            .outstanding()
            .saturating_add(s.waiting_calls)
            .saturating_add(u32::try_from(talking).unwrap_or(u32::MAX));
        let target = (self.level * f64::from(s.active_agents())).round();
        (target as u32).saturating_sub(in_progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BusyAgent;

    fn snap(now_ms: u64, idle: u32, busy: &[BusyAgent]) -> Snapshot<'_> {
        Snapshot { now_ms, idle_agents: idle, busy, outstanding_ages_ms: &[], waiting_calls: 0 }
    }

    #[test]
    fn level_rises_with_ready_agents_and_halves_over_the_cap() {
        let busy = [BusyAgent { phase: AgentPhase::Talk, elapsed_ms: 0 }; 5];
        let mut v = VicidialAdaptive::new(0.03, VicidialDropMode::Average);
        assert_eq!(v.poll_dials(&snap(0, 5, &busy)), 5);
        assert_eq!(v.poll_dials(&snap(1_000, 5, &busy)), 0, "dials every 2.5 s only");
        v.poll_dials(&snap(15_000, 5, &busy));
        assert!((v.level() - 1.5).abs() < 1e-9, "level {}", v.level());
        v.handle_outcome(15_000, Outcome::LiveHandled { abandoned: true });
        v.poll_dials(&snap(30_000, 5, &busy));
        assert!(v.level() >= 1.0 && v.level() < 1.5, "halved: {}", v.level());
    }

    #[test]
    fn hard_limit_resets_to_one() {
        let mut v = VicidialAdaptive::new(0.03, VicidialDropMode::HardLimit);
        v.poll_dials(&snap(0, 10, &[]));
        v.poll_dials(&snap(15_000, 10, &[]));
        assert_eq!(v.level(), 2.0);
        v.poll_dials(&snap(30_000, 10, &[]));
        assert_eq!(v.level(), 3.0, "clamped");
        v.handle_outcome(30_000, Outcome::LiveHandled { abandoned: true });
        v.poll_dials(&snap(45_000, 10, &[]));
        assert_eq!(v.level(), 1.0);
    }
}
