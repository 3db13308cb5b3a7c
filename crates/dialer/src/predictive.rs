//! Our predictive policy ("switchboard"). It is given no oracle parameters: it learns the
//! distributions it needs from the outcomes it is told about, and its aggressiveness from the
//! abandon rate it measures.
//!
//! At each poll, over the next seconds (1 s bins up to the no-answer timeout):
//! - each outstanding dial's chance of a live answer by then, given its age (learned resolution
//!   times: a dial past the fast-failure times is more likely live, and so on);
//! - each busy agent's chance to be free by then plus the 2 s bridge allowance, given the
//!   elapsed time of its talk or wrap-up (learned talk and wrap distributions, convolved);
//! - free agents at `t` = idle + releases - earlier live answers, a sum of independent
//!   Bernoulli terms, taken as normal (mean and variance).
//!
//! A candidate dial is placed while its risk, per live answer it may bring, is under `theta`. The
//! risk is the chance that, if it is answered live, no agent is free for it, plus what it does
//! to the others (`crowding_weight`): answered early, it takes the agent that a later answer of
//! a dial already out would have had, which raises that dial's chance of finding nobody. The
//! reference elapsed-time policy counts only the first part; counting both holds back most
//! when many young dials are out, and gained 0.2-0.4 talk-min/agent-h at N = 10 and up to 0.06
//! at N = 25 on the benchmark at the same or lower abandon rate. Candidates placed in the same
//! poll count as outstanding for the next.
//! `theta` moves with every live answer: up a little when bridged, down when abandoned, so that
//! the measured rate settles at the target (a stochastic-approximation integrator; its range is
//! clamped so no slack is banked, and outcomes of progressive dialing do not move it).
//!
//! The target keeps the day's abandons about `target_margin` (2) under `cap * live`: it is
//! `cap * (1 - margin / (cap * live))`, at most `cap * target_share` (98%). The integrator's
//! count error is a few abandons whatever the volume, so a fixed share of the cap is either too
//! bold for a small team (few live answers a day) or too timid for a large one; a margin in
//! abandons suits both, and it is cautious early in the day, when the rate rests on few answers.
//! Until it has learned enough, and whenever the day's rate reaches `cap * fallback_share` (the
//! cap itself, once 1,000 live answers make the rate meaningful), it dials progressively.
//!
//! The defaults were chosen on scenario A at a 3% cap, N = 10 to 100, with
//! `cargo run --release -p sim --example dialer_sweep`; they are controller settings, not facts
//! about the world, and are the same for every campaign.

use crate::learn::{DialModel, DurationModel, DIAL_BINS};
use crate::{AgentPhase, Outcome, PacingPolicy, Progressive, Snapshot};

const THETA_MIN: f64 = 1e-4;
const THETA_MAX: f64 = 0.5;
/// Dials placed in one poll at most, before the Pacer's own clamp.
const DIALS_PER_POLL_MAX: u32 = 10_000;
const BRIDGE_BINS: usize = (crate::BRIDGE_MS_MAX / 1_000) as usize;

/// Tuning of the predictive policy. Only the cap and the timeout are campaign facts; the rest
/// are the controller's own settings, the same for every campaign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PredictiveConfig {
    /// The abandon cap (0.03 for 3%).
    pub cap: f64,
    /// The no-answer timeout: the horizon of the forecast.
    pub no_answer_timeout_ms: u64,
    /// The measured rate aims at `cap * target_share` at most (see `target_margin`).
    pub target_share: f64,
    /// Progressive while the day's rate is at or above `cap * fallback_share`.
    pub fallback_share: f64,
    pub theta_initial: f64,
    /// Step of `ln theta` per abandon (and `gain * target` up per bridged live answer).
    pub gain: f64,
    /// Dials and completed calls to observe before predicting.
    pub learn_dials_min: u64,
    pub learn_calls_min: u64,
    /// Live answers before the day's rate is trusted for the fallback.
    pub fallback_live_min: u64,
    /// Abandons beyond `cap * fallback_share * live answers` tolerated before falling back
    /// (0: fall back as soon as the day's rate reaches the threshold).
    pub fallback_excess: f64,
    /// Abandons the day's count aims to stay under `cap * live`: the target share is
    /// `1 - margin / (cap * live)`, at most `target_share` (0: always `target_share`).
    pub target_margin: f64,
    /// Weight of the risk a new dial adds to the dials already out: its answer can take the
    /// agent that a later answer of theirs needed (1: counted in full; 0: only the new dial's
    /// own risk, as in the reference elapsed-time policy).
    pub crowding_weight: f64,
}

impl PredictiveConfig {
    pub fn new(cap: f64, no_answer_timeout_ms: u64) -> PredictiveConfig {
        PredictiveConfig {
            cap: if cap.is_finite() { cap.clamp(0.0, 1.0) } else { 0.0 },
            no_answer_timeout_ms: no_answer_timeout_ms.min(crate::NO_ANSWER_TIMEOUT_MS_MAX),
            target_share: 0.98,
            fallback_share: 1.0,
            // Near where theta settles once crowding is counted, so the integrator starts on
            // the target rather than under it.
            theta_initial: 0.05,
            gain: 0.15,
            learn_dials_min: 300,
            learn_calls_min: 40,
            fallback_live_min: 1_000,
            fallback_excess: 0.0,
            target_margin: 2.0,
            crowding_weight: 1.0,
        }
    }
}

pub struct Predictive {
    config: PredictiveConfig,
    dials: DialModel,
    talk: DurationModel,
    wrap: DurationModel,
    ln_theta: f64,
    live: u64,
    abandoned: u64,
    /// Whether the last poll predicted (rather than fell back to progressive). Outcomes of
    /// progressive dialing say nothing about `theta`, so they do not move it.
    predicting: bool,
    // Scratch space, reused across polls.
    mean: Vec<f64>,
    var: Vec<f64>,
    fresh: Vec<f64>,
    curve: Vec<f64>,
    /// Expected live answers of the dials out (and placed this poll), per bin.
    dens: Vec<f64>,
    ends: Vec<f64>,
    wrap_done: Vec<f64>,
}

impl Predictive {
    pub fn new(config: PredictiveConfig) -> Predictive {
        let bins = usize::try_from(config.no_answer_timeout_ms / 1_000)
            .unwrap_or(DIAL_BINS)
            .clamp(1, DIAL_BINS);
        let theta = if config.theta_initial.is_finite() { config.theta_initial } else { 0.05 };
        Predictive {
            config,
            dials: DialModel::new(),
            talk: DurationModel::new(),
            wrap: DurationModel::new(),
            ln_theta: theta.clamp(THETA_MIN, THETA_MAX).ln(),
            live: 0,
            abandoned: 0,
            predicting: false,
            mean: vec![0.0; bins],
            var: vec![0.0; bins],
            fresh: vec![0.0; bins],
            curve: vec![0.0; bins],
            dens: vec![0.0; bins],
            ends: vec![0.0; bins + BRIDGE_BINS + 1],
            wrap_done: vec![0.0; bins + BRIDGE_BINS + 1],
        }
    }

    /// The current threshold on a candidate's conditional abandon chance.
    pub fn theta(&self) -> f64 {
        self.ln_theta.exp()
    }

    /// Whether the models have seen enough to predict.
    pub fn is_trained(&self) -> bool {
        self.dials.observed() >= self.config.learn_dials_min
            && self.dials.live_observed() > 0
            && self.talk.observed() >= self.config.learn_calls_min
            && self.wrap.observed() >= self.config.learn_calls_min
    }

    /// The share of the cap the integrator aims at now.
    fn target_share(&self) -> f64 {
        let c = &self.config;
        if c.target_margin <= 0.0 || c.cap <= 0.0 {
            return c.target_share;
        }
        let budget = c.cap * self.live.max(1) as f64;
        (1.0 - c.target_margin / budget).clamp(0.5, c.target_share)
    }

    fn near_cap(&self) -> bool {
        if self.live < self.config.fallback_live_min {
            return false;
        }
        let allowed = self.config.cap * self.config.fallback_share * self.live as f64;
        self.abandoned as f64 >= allowed + self.config.fallback_excess
    }

    /// Adds to `mean`/`var` the releases of busy agents by the end of each bin plus the bridge
    /// allowance.
    fn add_releases(&mut self, snapshot: &Snapshot<'_>) {
        let n = self.mean.len();
        let reach = n + BRIDGE_BINS;
        // Wrap-up that starts now ends by bin k with this chance (half a bin of slack for the
        // talk ending mid-bin).
        self.wrap.ends_in(0, &mut self.ends[..reach]);
        let mut acc = 0.0;
        for k in 0..reach {
            self.wrap_done[k] = acc + 0.5 * self.ends[k];
            acc += self.ends[k];
        }
        for agent in snapshot.busy {
            match agent.phase {
                AgentPhase::Wrap => {
                    self.wrap.ends_in(agent.elapsed_ms, &mut self.ends[..reach]);
                    let mut acc = 0.0;
                    for k in 0..reach {
                        acc += self.ends[k];
                        if k < BRIDGE_BINS {
                            continue;
                        }
                        let r = acc.min(1.0);
                        self.mean[k - BRIDGE_BINS] += r;
                        self.var[k - BRIDGE_BINS] += r * (1.0 - r);
                    }
                }
                AgentPhase::Talk => {
                    self.talk.ends_in(agent.elapsed_ms, &mut self.ends[..reach]);
                    for t in 0..n {
                        let k = t + BRIDGE_BINS;
                        let r: f64 =
                            (0..=k).map(|s| self.ends[s] * self.wrap_done[k - s]).sum::<f64>();
                        let r = r.min(1.0);
                        self.mean[t] += r;
                        self.var[t] += r * (1.0 - r);
                    }
                }
            }
        }
    }

    fn predict(&mut self, snapshot: &Snapshot<'_>) -> u32 {
        self.dials.prepare();
        self.talk.prepare();
        self.wrap.prepare();
        let base = f64::from(snapshot.idle_agents) - f64::from(snapshot.waiting_calls);
        self.mean.iter_mut().for_each(|m| *m = base);
        self.var.iter_mut().for_each(|v| *v = 0.0);
        self.add_releases(snapshot);
        self.dens.iter_mut().for_each(|d| *d = 0.0);
        for &age in snapshot.outstanding_ages_ms {
            self.dials.live_by(age, &mut self.curve);
            let mut before = 0.0;
            for t in 0..self.mean.len() {
                let q = self.curve[t];
                self.mean[t] -= q;
                self.var[t] += q * (1.0 - q);
                self.dens[t] += q - before;
                before = q;
            }
        }
        self.dials.live_by(0, &mut self.fresh);
        let p_live = self.fresh.last().copied().unwrap_or(0.0);
        if p_live <= 0.0 {
            return Progressive::dials_for(snapshot);
        }
        let theta = self.theta();
        let mut placed = 0;
        while placed < DIALS_PER_POLL_MAX {
            let mut risk = 0.0;
            let mut before = 0.0;
            let w = self.config.crowding_weight;
            for t in 0..self.mean.len() {
                let p_here = self.fresh[t] - before;
                before = self.fresh[t];
                let p0 = chance_below_one(self.mean[t], self.var[t]);
                if p_here > 0.0 {
                    risk += p_here * p0;
                }
                // Answers of other dials in bin t find one agent fewer if this one is live
                // by then.
                if w > 0.0 && self.dens[t] > 0.0 {
                    let q = self.fresh[t];
                    let p1 = chance_below_one(self.mean[t] - q, self.var[t] + q * (1.0 - q));
                    risk += w * self.dens[t] * (p1 - p0);
                }
            }
            if risk / p_live >= theta {
                break;
            }
            placed += 1;
            let mut before = 0.0;
            for t in 0..self.mean.len() {
                let q = self.fresh[t];
                self.mean[t] -= q;
                self.var[t] += q * (1.0 - q);
                self.dens[t] += q - before;
                before = q;
            }
        }
        placed
    }
}

/// P(X < 1) for X normal with this mean and variance, with a continuity correction: the chance
/// that no agent is free when X counts free agents as a sum of Bernoulli terms.
pub fn chance_below_one(mean: f64, var: f64) -> f64 {
    if var < 1e-9 {
        return if mean < 1.0 { 1.0 } else { 0.0 };
    }
    normal_cdf((0.5 - mean) / var.sqrt())
}

/// Standard normal CDF (Numerical Recipes' erfc, relative error below 1.2e-7).
fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

impl PacingPolicy for Predictive {
    fn name(&self) -> &'static str {
        "switchboard"
    }

    fn handle_outcome(&mut self, _now_ms: u64, outcome: Outcome) {
        match outcome {
            Outcome::DialResolved { result, age_ms } => self.dials.observe(result, age_ms),
            Outcome::CallCompleted { talk_ms, wrap_ms } => {
                self.talk.observe(talk_ms);
                self.wrap.observe(wrap_ms);
            }
            Outcome::LiveHandled { abandoned } => {
                self.live += 1;
                self.abandoned += u64::from(abandoned);
                if !self.predicting {
                    return;
                }
                let target = self.config.cap * self.target_share();
                let step = self.config.gain * (target - if abandoned { 1.0 } else { 0.0 });
                if step.is_finite() {
                    self.ln_theta = (self.ln_theta + step).clamp(THETA_MIN.ln(), THETA_MAX.ln());
                }
            }
        }
    }

    fn poll_dials(&mut self, snapshot: &Snapshot<'_>) -> u32 {
        self.predicting = self.is_trained() && !self.near_cap();
        if !self.predicting {
            return Progressive::dials_for(snapshot);
        }
        self.predict(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BusyAgent, DialResult};

    fn trained() -> Predictive {
        let mut p = Predictive::new(PredictiveConfig::new(0.03, 25_000));
        for i in 0..500u64 {
            let (result, age_ms) = match i % 5 {
                0 => (DialResult::Live, 9_000),
                1 => (DialResult::Machine, 22_000),
                2 => (DialResult::FastFail, 3_000),
                _ => (DialResult::NoAnswer, 25_000),
            };
            p.handle_outcome(0, Outcome::DialResolved { result, age_ms });
        }
        for i in 0..100u64 {
            p.handle_outcome(
                0,
                Outcome::CallCompleted { talk_ms: 60_000 + i * 2_400, wrap_ms: 20_000 },
            );
        }
        p
    }

    #[test]
    fn progressive_until_trained() {
        let mut p = Predictive::new(PredictiveConfig::new(0.03, 25_000));
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: 3,
            busy: &[],
            outstanding_ages_ms: &[],
            waiting_calls: 0,
        };
        assert!(!p.is_trained());
        assert_eq!(p.poll_dials(&snap), 3);
    }

    #[test]
    fn dials_ahead_when_agents_are_about_to_free() {
        let mut p = trained();
        assert!(p.is_trained());
        let busy = [BusyAgent { phase: AgentPhase::Wrap, elapsed_ms: 19_500 }; 10];
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: 0,
            busy: &busy,
            outstanding_ages_ms: &[],
            waiting_calls: 0,
        };
        let n = p.poll_dials(&snap);
        assert!(n >= 10, "ten agents free within a second: {n} dials");
        let long = [BusyAgent { phase: AgentPhase::Talk, elapsed_ms: 1_000 }; 10];
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: 0,
            busy: &long,
            outstanding_ages_ms: &[],
            waiting_calls: 0,
        };
        assert_eq!(p.poll_dials(&snap), 0, "nobody frees within the horizon");
    }

    #[test]
    fn abandons_lower_theta_and_the_cap_forces_progressive() {
        let mut p = trained();
        let busy = [BusyAgent { phase: AgentPhase::Wrap, elapsed_ms: 19_500 }; 10];
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: 1,
            busy: &busy,
            outstanding_ages_ms: &[],
            waiting_calls: 0,
        };
        assert!(p.poll_dials(&snap) > 1, "predicting");
        let before = p.theta();
        for _ in 0..1_000 {
            p.handle_outcome(0, Outcome::LiveHandled { abandoned: true });
        }
        assert!(p.theta() < before);
        assert!(p.near_cap());
        assert_eq!(p.poll_dials(&snap), 1);
    }

    #[test]
    fn the_target_keeps_a_margin_of_abandons_under_the_cap() {
        let mut p = trained();
        assert_eq!(p.target_share(), 0.5, "no live answers yet: the most cautious target");
        for _ in 0..1_000 {
            p.handle_outcome(0, Outcome::LiveHandled { abandoned: false });
        }
        // 30 abandons allowed at 3%: aim 2 under them.
        assert!((p.target_share() - (1.0 - 2.0 / 30.0)).abs() < 1e-9, "{}", p.target_share());
        for _ in 0..9_000 {
            p.handle_outcome(0, Outcome::LiveHandled { abandoned: false });
        }
        assert_eq!(p.target_share(), 0.98, "a large day is capped at target_share");
        let mut fixed = PredictiveConfig::new(0.03, 25_000);
        fixed.target_margin = 0.0;
        assert_eq!(Predictive::new(fixed).target_share(), fixed.target_share);
    }

    #[test]
    fn crowding_of_the_dials_out_holds_back_further_dials() {
        // Agents free over the next seconds, and young dials out whose answers come later:
        // a new dial that answers first takes an agent one of theirs would have needed.
        let busy = [BusyAgent { phase: AgentPhase::Wrap, elapsed_ms: 19_000 }; 12];
        let ages = [500u64; 8];
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: 2,
            busy: &busy,
            outstanding_ages_ms: &ages,
            waiting_calls: 0,
        };
        let mut own_risk_only = trained();
        own_risk_only.config.crowding_weight = 0.0;
        let mut crowding = trained();
        crowding.ln_theta = own_risk_only.ln_theta;
        let (alone, crowded) = (own_risk_only.poll_dials(&snap), crowding.poll_dials(&snap));
        assert!(alone > 0, "the own-risk rule dials here");
        assert!(crowded < alone, "crowding counted: {crowded} dials, own risk only: {alone}");
        // With no dial out, only the dials of this poll crowd each other: still no bolder.
        let empty = Snapshot { outstanding_ages_ms: &[], ..snap };
        assert!(crowding.poll_dials(&empty) <= own_risk_only.poll_dials(&empty));
    }

    #[test]
    fn normal_cdf_is_accurate() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.96) - 0.025).abs() < 1e-4);
    }
}
