//! The practical ceiling of `shared/dialer-benchmark.md`: the reference elapsed-time rule told
//! what no real dialer knows, each busy agent's exact remaining talk and wrap-up, and the
//! scenario's dial outcomes as exact distributions. Its talk at the cap bounds what a policy
//! that must estimate both can reach; it is a yardstick, never a policy to ship.
//!
//! The rule: a candidate dial is placed while the chance that, answered live, it finds no agent
//! free within the 2 s bridge allowance stays under `theta`. Free agents at each 1 s bin ahead
//! are the idle ones, minus calls already waiting, plus the busy ones whose known release comes
//! by then, minus the live answers expected earlier from the dials already out (each one's live
//! chance conditioned on its age), taken as normal. `theta` is tuned per cell so that the mean
//! abandon rate on the measured replications meets the cap, like the static-ratio oracle.

use dialer::{chance_below_one, DialResult, BRIDGE_MS_MAX};

use super::world::{plan, Cell, PolicyKind, RepMetrics};
use super::{run_replications, Scenario};

/// Dials drawn to learn the outcome distributions (a fixed stream: the curves are the same for
/// every replication).
const SAMPLES: u64 = 50_000;
const BIN_MS: u64 = 1_000;
const THETA_MIN: f64 = 1e-4;
const THETA_MAX: f64 = 0.5;
const BISECTION_STEPS: u32 = 14;

/// For each dial age (1 s bins, up to the no-answer timeout), the chance of a live answer by
/// the end of each bin ahead.
#[derive(Clone, Debug)]
pub(crate) struct DialCurves {
    bins: usize,
    /// Row `a` (age bin), column `t`: P(live answer within `t + 1` bins | unresolved at age `a`).
    live_by: Vec<f64>,
}

impl DialCurves {
    pub(crate) fn of(s: &Scenario, timeout_ms: u64) -> DialCurves {
        let bins = usize::try_from(timeout_ms.div_ceil(BIN_MS)).unwrap_or(1).max(1);
        // Resolutions by bin; the last bin holds everything at or past the timeout.
        let (mut live, mut all) = (vec![0.0; bins + 1], vec![0.0; bins + 1]);
        for lead in 0..SAMPLES {
            let p = plan(s, 0x00C0_FFEE, lead, 0, timeout_ms);
            let b = usize::try_from(p.resolve_ms / BIN_MS).unwrap_or(bins).min(bins);
            all[b] += 1.0;
            if p.result == DialResult::Live {
                live[b] += 1.0;
            }
        }
        let mut live_by = vec![0.0; (bins + 1) * bins];
        for a in 0..=bins {
            let unresolved: f64 = all[a..].iter().sum();
            if unresolved <= 0.0 {
                continue;
            }
            let mut acc = 0.0;
            for t in 0..bins {
                acc += live.get(a + t).copied().unwrap_or(0.0);
                live_by[a * bins + t] = acc / unresolved;
            }
        }
        DialCurves { bins, live_by }
    }

    fn curve(&self, age_ms: u64) -> &[f64] {
        let a = usize::try_from(age_ms / BIN_MS).unwrap_or(self.bins).min(self.bins);
        &self.live_by[a * self.bins..(a + 1) * self.bins]
    }
}

/// The ceiling's pacing state: its curves, its threshold and scratch space.
pub(crate) struct Ceiling {
    theta: f64,
    curves: DialCurves,
    mean: Vec<f64>,
    var: Vec<f64>,
}

impl Ceiling {
    pub(crate) fn new(theta: f64, curves: DialCurves) -> Ceiling {
        let bins = curves.bins;
        Ceiling { theta, curves, mean: vec![0.0; bins], var: vec![0.0; bins] }
    }

    /// Dials to place now, at most `room`. `free_now` is idle agents minus waiting calls;
    /// `releases_ms` holds, for each busy agent who will come back, the time until it is free.
    pub(crate) fn dials(
        &mut self,
        free_now: i64,
        releases_ms: &[u64],
        ages_ms: &[u64],
        room: u32,
    ) -> u32 {
        let bins = self.curves.bins;
        for t in 0..bins {
            // An answer in bin t (taken at its middle) is bridged to an agent free by then plus
            // the allowance.
            let by = t as u64 * BIN_MS + BIN_MS / 2 + BRIDGE_MS_MAX;
            let released = releases_ms.iter().filter(|&&r| r <= by).count();
            self.mean[t] = free_now as f64 + released as f64;
            self.var[t] = 0.0;
        }
        for &age in ages_ms {
            add_dial(&mut self.mean, &mut self.var, self.curves.curve(age));
        }
        let fresh = self.curves.curve(0);
        let p_live = fresh[bins - 1];
        if p_live <= 0.0 {
            return 0;
        }
        let mut placed = 0;
        while placed < room {
            let (mut risk, mut before) = (0.0, 0.0);
            for ((&q, &mean), &var) in fresh.iter().zip(&self.mean).zip(&self.var) {
                risk += (q - before) * chance_below_one(mean, var);
                before = q;
            }
            if risk / p_live >= self.theta {
                break;
            }
            placed += 1;
            add_dial(&mut self.mean, &mut self.var, fresh);
        }
        placed
    }
}

/// Counts a dial out, live by each bin with the chances in `curve`, against the free agents.
fn add_dial(mean: &mut [f64], var: &mut [f64], curve: &[f64]) {
    for ((m, v), &q) in mean.iter_mut().zip(var.iter_mut()).zip(curve) {
        *m -= q;
        *v += q * (1.0 - q);
    }
}

/// The ceiling of one cell: the threshold the tuning chose and the figures around the cap.
#[derive(Clone, Debug, PartialEq)]
pub struct CeilingReport {
    /// The highest threshold found whose mean abandon rate is at or under the cap.
    pub theta: f64,
    pub talk_min_per_agent_hour: f64,
    pub abandon_rate: f64,
    pub cap_held_share: f64,
    /// Talk interpolated to a mean abandon rate of exactly the cap, between the threshold above
    /// and the next one tried over the cap (the reference's own convention).
    pub talk_at_cap: f64,
    /// The replications at `theta`, in seed order.
    pub reps: Vec<RepMetrics>,
}

fn means(reps: &[RepMetrics]) -> (f64, f64) {
    let n = reps.len().max(1) as f64;
    let talk = reps.iter().map(|m| m.talk_min_per_agent_hour).sum::<f64>() / n;
    let abandon = reps.iter().map(|m| m.abandon_rate).sum::<f64>() / n;
    (talk, abandon)
}

/// Tunes the ceiling's threshold on `seeds` by bisection on its logarithm.
pub fn tune_ceiling(s: &Scenario, cell: Cell, seeds: &[u64]) -> CeilingReport {
    let run = |theta: f64| run_replications(s, cell, PolicyKind::Ceiling(theta), seeds);
    let (mut lo, mut hi) = (THETA_MIN.ln(), THETA_MAX.ln());
    let mut lo_reps = run(THETA_MIN);
    let mut hi_reps: Option<Vec<RepMetrics>> = None;
    for _ in 0..BISECTION_STEPS {
        let mid = (lo + hi) / 2.0;
        let reps = run(mid.exp());
        if means(&reps).1 <= cell.cap {
            lo = mid;
            lo_reps = reps;
        } else {
            hi = mid;
            hi_reps = Some(reps);
        }
    }
    let (talk, abandon) = means(&lo_reps);
    let held = lo_reps.iter().filter(|m| m.abandon_rate <= cell.cap).count();
    let talk_at_cap = match hi_reps.map(|r| means(&r)) {
        Some((hi_talk, hi_abandon)) if hi_abandon > abandon => {
            talk + (hi_talk - talk) * (cell.cap - abandon) / (hi_abandon - abandon)
        }
        _ => talk,
    };
    CeilingReport {
        theta: lo.exp(),
        talk_min_per_agent_hour: talk,
        abandon_rate: abandon,
        cap_held_share: held as f64 / lo_reps.len().max(1) as f64,
        talk_at_cap,
        reps: lo_reps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialer_bench::scenario::TINY;

    #[test]
    fn live_chance_by_age_follows_the_scenario() {
        let s = Scenario::parse(TINY, "tiny").expect("valid");
        let curves = DialCurves::of(&s, 25_000);
        let fresh = curves.curve(0);
        assert!(fresh.windows(2).all(|w| w[0] <= w[1]), "cumulative: {fresh:?}");
        let last = fresh[fresh.len() - 1];
        // p_live 0.3, and almost every live answer comes before the timeout.
        assert!((last - 0.3).abs() < 0.02, "{last}");
        // Live answers take 2 s at least.
        assert!(fresh[0] < 0.001, "{fresh:?}");
        // Unresolved at 20 s, a dial is mostly a machine or no answer.
        assert!(curves.curve(20_000)[curves.bins - 1] < last / 3.0);
    }

    #[test]
    fn dials_ahead_of_known_releases_and_never_past_the_room() {
        let s = Scenario::parse(TINY, "tiny").expect("valid");
        let mut c = Ceiling::new(0.02, DialCurves::of(&s, 25_000));
        assert_eq!(c.dials(0, &[], &[], 50), 0, "nobody will be free: no dial");
        let soon = [500; 4];
        let n = c.dials(0, &soon, &[], 50);
        assert!(n >= 4, "four agents free within a second: {n} dials");
        assert_eq!(c.dials(0, &soon, &[], 2), 2, "clamped to the room");
        let later = [600_000; 4];
        assert_eq!(c.dials(0, &later, &[], 50), 0, "releases beyond the horizon do not count");
    }

    #[test]
    fn tuning_meets_the_cap_on_average() {
        let s = Scenario::parse(TINY, "tiny").expect("valid");
        let cell = Cell { agents: 4, cap: 0.05 };
        let seeds = [1, 2, 3];
        let r = tune_ceiling(&s, cell, &seeds);
        assert!(r.abandon_rate <= cell.cap, "{r:?}");
        assert!(r.theta > THETA_MIN && r.theta < THETA_MAX, "{r:?}");
        let progressive = run_replications(&s, cell, PolicyKind::Progressive, &seeds);
        assert!(r.talk_min_per_agent_hour > means(&progressive).0, "{r:?}");
    }
}
