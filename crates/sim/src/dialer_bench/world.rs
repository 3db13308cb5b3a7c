//! One replication: a discrete-event simulation of one shift of one campaign under one policy.
//!
//! Every lead (the i-th number dialed) draws its outcome, answer time, talk and wrap-up from
//! its own stream seeded by (replication seed, i), so every policy faces the same world.
//! Decisions are taken every `decision_interval_s` and whenever an agent becomes free.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use dialer::{
    AbandonLedger, AbandonRule, AgentPhase, BusyAgent, DialResult, Outcome, Pacer, PacingLimits,
    PacingPolicy, Predictive, PredictiveConfig, Progressive, Snapshot, StaticRatio,
    VicidialAdaptive, VicidialDropMode, BRIDGE_MS_MAX,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ceiling::{Ceiling, DialCurves};
use super::scenario::Scenario;

const HOUR_MS: u64 = 3_600_000;

/// One cell of the benchmark grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub agents: u32,
    pub cap: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PolicyKind {
    Progressive,
    StaticRatio(f64),
    Vicidial,
    Switchboard,
    /// Ours with settings other than the defaults (for sweeps).
    SwitchboardWith(PredictiveConfig),
    /// The practical ceiling at this threshold (see `ceiling`): it reads the world's own
    /// remaining talk and wrap-up times, so it is a yardstick, not a policy.
    Ceiling(f64),
}

impl PolicyKind {
    fn build(self, cell: Cell, timeout_ms: u64) -> Box<dyn PacingPolicy + Send> {
        match self {
            PolicyKind::Progressive => Box::new(Progressive::new()),
            PolicyKind::StaticRatio(r) => Box::new(StaticRatio::new(r)),
            PolicyKind::Vicidial => {
                Box::new(VicidialAdaptive::new(cell.cap, VicidialDropMode::Average))
            }
            PolicyKind::Switchboard => {
                Box::new(Predictive::new(PredictiveConfig::new(cell.cap, timeout_ms)))
            }
            PolicyKind::SwitchboardWith(config) => Box::new(Predictive::new(config)),
            // The world paces the ceiling itself; the pacer only hears outcomes.
            PolicyKind::Ceiling(_) => Box::new(Progressive::new()),
        }
    }
}

/// What one replication measured, over the shift after the warm-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RepMetrics {
    pub talk_min_per_agent_hour: f64,
    pub occupancy: f64,
    pub agent_wait_s_mean: f64,
    pub agent_wait_s_p90: f64,
    pub abandon_rate: f64,
    pub abandon_rate_worst_window: f64,
    pub windows_1h_over_cap_share: f64,
    pub dials_per_live_contact: f64,
    pub customer_wait_s_max: f64,
    pub live_answered: u64,
    pub abandoned: u64,
    pub dials: u64,
}

/// A stateless mixer: distinct inputs give unrelated seeds.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn ms(s: f64) -> u64 {
    (s * 1_000.0).round().max(1.0) as u64
}

/// A dial's fate, fixed when it is placed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    placed_ms: u64,
    pub(super) result: DialResult,
    pub(super) resolve_ms: u64,
    /// A live person the detector took for a machine.
    detector_miss: bool,
    talk_ms: u64,
    wrap_ms: u64,
}

pub(super) fn plan(s: &Scenario, seed: u64, lead: u64, now_ms: u64, timeout_ms: u64) -> Plan {
    let mut rng = ChaCha8Rng::seed_from_u64(splitmix(seed ^ splitmix(lead)));
    let u: f64 = rng.gen();
    let u_amd: f64 = rng.gen();
    let o = &s.outcomes;
    let live_ms = ms(o.live_answer_s.sample(&mut rng));
    let machine_ms = ms(o.machine_s.sample(&mut rng));
    let fast_ms = ms(o.fast_fail_s.sample(&mut rng));
    let talk_ms = ms(s.service.talk_s.sample(&mut rng));
    let wrap_ms = ms(s.service.wrap_s.sample(&mut rng));
    let p_live = s.p_live_at(now_ms);
    let amd_ms = (s.amd.delay_s * 1_000.0).round() as u64;
    let (result, after, detector_miss) = if u < p_live {
        if live_ms >= timeout_ms {
            (DialResult::NoAnswer, timeout_ms, false)
        } else if u_amd < s.amd.false_positive {
            (DialResult::Machine, live_ms + amd_ms, true)
        } else {
            (DialResult::Live, live_ms + amd_ms, false)
        }
    } else if u < p_live + o.p_machine {
        if machine_ms >= timeout_ms {
            (DialResult::NoAnswer, timeout_ms, false)
        } else {
            (DialResult::Machine, machine_ms, false)
        }
    } else if u < p_live + o.p_machine + o.p_fast_fail {
        (DialResult::FastFail, fast_ms.min(timeout_ms), false)
    } else {
        (DialResult::NoAnswer, timeout_ms, false)
    };
    Plan { placed_ms: now_ms, result, resolve_ms: now_ms + after, detector_miss, talk_ms, wrap_ms }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Tick,
    Resolve(u64),
    Deadline(u64),
    TalkEnd(usize),
    WrapEnd(usize),
    BreakStart(usize),
    BreakEnd(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Talk,
    Wrap,
    Break,
}

#[derive(Clone, Copy, Debug)]
struct Agent {
    state: State,
    since_ms: u64,
    wrap_ms: u64,
    talk_ms: u64,
    break_due_ms: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct Waiting {
    dial: u64,
    live_ms: u64,
    talk_ms: u64,
    wrap_ms: u64,
}

struct World<'a> {
    s: &'a Scenario,
    cap: f64,
    seed: u64,
    now: u64,
    warm: u64,
    end: u64,
    timeout_ms: u64,
    seq: u64,
    events: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    agents: Vec<Agent>,
    dials: HashMap<u64, Plan>,
    next_lead: u64,
    waiting: VecDeque<Waiting>,
    pacer: Pacer,
    /// Set for [`PolicyKind::Ceiling`], which paces in place of the pacer's policy.
    ceiling: Option<Ceiling>,
    lines: u32,
    ledger: AbandonLedger,
    // Measurements in [warm, end).
    talk_ms: u64,
    wrap_ms: u64,
    avail_ms: u64,
    agent_waits_ms: Vec<u64>,
    live: u64,
    abandoned: u64,
    dials_placed: u64,
    customer_wait_ms_max: u64,
    hours: Vec<(u64, u64)>,
    // Scratch for snapshots.
    busy: Vec<BusyAgent>,
    ages: Vec<u64>,
    releases: Vec<u64>,
}

impl World<'_> {
    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((t, self.seq, ev)));
    }

    fn overlap(&self, from: u64, to: u64) -> u64 {
        to.min(self.end).saturating_sub(from.max(self.warm))
    }

    /// Closes the agent's current state at `now` and opens `state`.
    fn set_state(&mut self, i: usize, state: State) {
        let a = self.agents[i];
        let span = self.overlap(a.since_ms, self.now);
        match a.state {
            State::Talk => self.talk_ms += span,
            State::Wrap => self.wrap_ms += span,
            State::Idle | State::Break => {}
        }
        if a.state != State::Break {
            self.avail_ms += span;
        }
        self.agents[i].state = state;
        self.agents[i].since_ms = self.now;
    }

    fn bridge(&mut self, i: usize, talk_ms: u64, wrap_ms: u64) {
        let idle_since = self.agents[i].since_ms;
        if self.now >= self.warm {
            self.agent_waits_ms.push(self.now - idle_since);
        }
        self.set_state(i, State::Talk);
        self.agents[i].talk_ms = talk_ms;
        self.agents[i].wrap_ms = wrap_ms;
        self.at(self.now + talk_ms, Ev::TalkEnd(i));
    }

    /// The idle agent who has waited longest.
    fn longest_idle(&self) -> Option<usize> {
        (0..self.agents.len())
            .filter(|&i| self.agents[i].state == State::Idle)
            .min_by_key(|&i| (self.agents[i].since_ms, i))
    }

    fn count_live(&mut self, live_ms: u64, abandoned: bool) {
        self.pacer.handle_outcome(self.now, Outcome::LiveHandled { abandoned });
        if live_ms < self.warm {
            return;
        }
        self.live += 1;
        self.abandoned += u64::from(abandoned);
        self.ledger.handle_live_answer(self.now, abandoned);
        let hour = usize::try_from((live_ms - self.warm) / HOUR_MS).unwrap_or(usize::MAX);
        if let Some(h) = self.hours.get_mut(hour) {
            h.0 += 1;
            h.1 += u64::from(abandoned);
        }
    }

    fn agent_free(&mut self, i: usize) {
        if let Some(w) = self.waiting.pop_front() {
            self.customer_wait_ms_max = self.customer_wait_ms_max.max(self.now - w.live_ms);
            self.set_state(i, State::Idle);
            self.bridge(i, w.talk_ms, w.wrap_ms);
            self.count_live(w.live_ms, false);
        } else {
            self.set_state(i, State::Idle);
        }
    }

    fn resolve(&mut self, id: u64) {
        let Some(p) = self.dials.remove(&id) else { return };
        let age_ms = self.now - p.placed_ms;
        self.pacer.handle_outcome(self.now, Outcome::DialResolved { result: p.result, age_ms });
        if p.detector_miss && self.ledger.rule().detector_misses_count() {
            self.count_live(self.now, true);
        }
        if p.result != DialResult::Live {
            return;
        }
        match self.longest_idle() {
            Some(i) => {
                self.bridge(i, p.talk_ms, p.wrap_ms);
                self.count_live(self.now, false);
            }
            None => {
                let w =
                    Waiting { dial: id, live_ms: self.now, talk_ms: p.talk_ms, wrap_ms: p.wrap_ms };
                self.waiting.push_back(w);
                self.at(self.now + BRIDGE_MS_MAX, Ev::Deadline(id));
            }
        }
    }

    fn deadline(&mut self, id: u64) {
        if let Some(pos) = self.waiting.iter().position(|w| w.dial == id) {
            let w = self.waiting.remove(pos).expect("position is in range");
            self.customer_wait_ms_max = self.customer_wait_ms_max.max(self.now - w.live_ms);
            self.count_live(w.live_ms, true);
        }
    }

    fn wrap_end(&mut self, i: usize) {
        let a = self.agents[i];
        let done = Outcome::CallCompleted { talk_ms: a.talk_ms, wrap_ms: a.wrap_ms };
        self.pacer.handle_outcome(self.now, done);
        match a.break_due_ms {
            Some(d) => {
                self.agents[i].break_due_ms = None;
                self.set_state(i, State::Break);
                self.at(self.now + d, Ev::BreakEnd(i));
            }
            None => self.agent_free(i),
        }
    }

    fn break_start(&mut self, b: usize) {
        let br = &self.s.breaks[b];
        let d = ms(br.duration_min * 60.0);
        let n = (br.agents_share * self.agents.len() as f64).ceil() as usize;
        for i in 0..n.min(self.agents.len()) {
            match self.agents[i].state {
                State::Idle => {
                    self.set_state(i, State::Break);
                    self.at(self.now + d, Ev::BreakEnd(i));
                }
                State::Talk | State::Wrap => self.agents[i].break_due_ms = Some(d),
                State::Break => {}
            }
        }
    }

    fn poll(&mut self) {
        if self.now >= self.end {
            return;
        }
        self.busy.clear();
        self.ages.clear();
        let mut idle = 0u32;
        for a in &self.agents {
            let elapsed_ms = self.now - a.since_ms;
            match a.state {
                State::Idle => idle += 1,
                State::Talk => self.busy.push(BusyAgent { phase: AgentPhase::Talk, elapsed_ms }),
                State::Wrap => self.busy.push(BusyAgent { phase: AgentPhase::Wrap, elapsed_ms }),
                State::Break => {}
            }
        }
        self.ages.extend(self.dials.values().map(|p| self.now - p.placed_ms));
        let snapshot = Snapshot {
            now_ms: self.now,
            idle_agents: idle,
            busy: &self.busy,
            outstanding_ages_ms: &self.ages,
            waiting_calls: u32::try_from(self.waiting.len()).unwrap_or(u32::MAX),
        };
        let n = match self.ceiling.as_mut() {
            Some(ceiling) => {
                self.releases.clear();
                for a in &self.agents {
                    let free_at = match a.state {
                        _ if a.break_due_ms.is_some() => continue,
                        State::Talk => a.since_ms + a.talk_ms + a.wrap_ms,
                        State::Wrap => a.since_ms + a.wrap_ms,
                        State::Idle | State::Break => continue,
                    };
                    self.releases.push(free_at.saturating_sub(self.now));
                }
                let free_now = i64::from(idle) - self.waiting.len() as i64;
                let room = self.lines.saturating_sub(snapshot.outstanding());
                ceiling.dials(free_now, &self.releases, &self.ages, room)
            }
            None => self.pacer.poll_dials(&snapshot),
        };
        for _ in 0..n {
            let lead = self.next_lead;
            self.next_lead += 1;
            let p = plan(self.s, self.seed, lead, self.now, self.timeout_ms);
            self.dials.insert(lead, p);
            self.at(p.resolve_ms, Ev::Resolve(lead));
            if self.now >= self.warm {
                self.dials_placed += 1;
            }
        }
    }

    fn run(&mut self) {
        let tick_ms = ms(self.s.decision_interval_s);
        while let Some(Reverse((t, _, ev))) = self.events.pop() {
            if t >= self.end {
                break;
            }
            self.now = t;
            match ev {
                Ev::Tick => {
                    self.at(t + tick_ms, Ev::Tick);
                    self.poll();
                }
                Ev::Resolve(id) => self.resolve(id),
                Ev::Deadline(id) => self.deadline(id),
                Ev::TalkEnd(i) => {
                    self.set_state(i, State::Wrap);
                    let w = self.agents[i].wrap_ms;
                    self.at(t + w, Ev::WrapEnd(i));
                }
                Ev::WrapEnd(i) => {
                    self.wrap_end(i);
                    self.poll();
                }
                Ev::BreakStart(b) => self.break_start(b),
                Ev::BreakEnd(i) => {
                    self.agent_free(i);
                    self.poll();
                }
            }
        }
        self.now = self.end;
        for i in 0..self.agents.len() {
            let state = self.agents[i].state;
            self.set_state(i, state);
        }
    }

    fn metrics(&mut self) -> RepMetrics {
        let rate = |a: u64, l: u64| if l == 0 { 0.0 } else { a as f64 / l as f64 };
        let full_hours = &self.hours;
        let over = full_hours.iter().filter(|(l, a)| rate(*a, *l) > self.cap).count();
        self.agent_waits_ms.sort_unstable();
        let waits = &self.agent_waits_ms;
        let wait_mean = if waits.is_empty() {
            0.0
        } else {
            waits.iter().sum::<u64>() as f64 / waits.len() as f64 / 1_000.0
        };
        let p90 = if waits.is_empty() {
            0.0
        } else {
            let k = ((waits.len() as f64 * 0.9).ceil() as usize).clamp(1, waits.len()) - 1;
            waits[k] as f64 / 1_000.0
        };
        let avail_h = self.avail_ms as f64 / HOUR_MS as f64;
        RepMetrics {
            talk_min_per_agent_hour: if avail_h > 0.0 {
                self.talk_ms as f64 / 60_000.0 / avail_h
            } else {
                0.0
            },
            occupancy: rate(self.talk_ms + self.wrap_ms, self.avail_ms),
            agent_wait_s_mean: wait_mean,
            agent_wait_s_p90: p90,
            abandon_rate: rate(self.abandoned, self.live),
            abandon_rate_worst_window: self.ledger.worst_window_rate().unwrap_or(0.0),
            windows_1h_over_cap_share: if full_hours.is_empty() {
                0.0
            } else {
                over as f64 / full_hours.len() as f64
            },
            dials_per_live_contact: rate(self.dials_placed, self.live),
            customer_wait_s_max: self.customer_wait_ms_max as f64 / 1_000.0,
            live_answered: self.live,
            abandoned: self.abandoned,
            dials: self.dials_placed,
        }
    }
}

/// Runs one replication. `seed` is the replication's seed; the scenario must be validated.
pub fn simulate(s: &Scenario, cell: Cell, policy: PolicyKind, seed: u64) -> RepMetrics {
    let timeout_ms = ms(s.no_answer_timeout_s);
    let lines = (s.lines_per_agent * f64::from(cell.agents)).ceil() as u64;
    // Validated scenarios give valid limits; clamping keeps a bad one from panicking.
    let limits = PacingLimits::new(lines.clamp(1, u64::from(dialer::LINES_MAX)), timeout_ms)
        .or_else(|_| PacingLimits::new(lines.clamp(1, u64::from(dialer::LINES_MAX)), 25_000))
        .expect("25 s timeout and clamped lines are valid");
    let lines = limits.lines_max();
    let ceiling = match policy {
        PolicyKind::Ceiling(theta) => Some(Ceiling::new(theta, DialCurves::of(s, timeout_ms))),
        _ => None,
    };
    let ledger = AbandonLedger::new(s.abandon_rule())
        .or_else(|_| AbandonLedger::new(AbandonRule::Us))
        .expect("the US rule is valid");
    let warm = ms(s.warmup_min * 60.0);
    let end = ms(s.shift_min * 60.0);
    let full_hours = usize::try_from((end - warm.min(end)) / HOUR_MS).unwrap_or(0);
    let agent =
        Agent { state: State::Idle, since_ms: 0, wrap_ms: 0, talk_ms: 0, break_due_ms: None };
    let mut w = World {
        s,
        cap: cell.cap,
        seed,
        now: 0,
        warm,
        end,
        timeout_ms,
        seq: 0,
        events: BinaryHeap::new(),
        agents: vec![agent; cell.agents as usize],
        dials: HashMap::new(),
        next_lead: 0,
        waiting: VecDeque::new(),
        pacer: Pacer::new(policy.build(cell, timeout_ms), limits),
        ceiling,
        lines,
        ledger,
        talk_ms: 0,
        wrap_ms: 0,
        avail_ms: 0,
        agent_waits_ms: Vec::new(),
        live: 0,
        abandoned: 0,
        dials_placed: 0,
        customer_wait_ms_max: 0,
        hours: vec![(0, 0); full_hours],
        busy: Vec::new(),
        ages: Vec::new(),
        releases: Vec::new(),
    };
    w.at(0, Ev::Tick);
    for (b, br) in s.breaks.iter().enumerate() {
        w.at(ms(br.start_min * 60.0), Ev::BreakStart(b));
    }
    w.run();
    w.metrics()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialer_bench::scenario::TINY;

    fn tiny() -> Scenario {
        Scenario::parse(TINY, "tiny").expect("valid")
    }

    #[test]
    fn a_seed_reproduces_a_replication() {
        let s = tiny();
        let cell = Cell { agents: 4, cap: 0.05 };
        let a = simulate(&s, cell, PolicyKind::Switchboard, 11);
        let b = simulate(&s, cell, PolicyKind::Switchboard, 11);
        assert_eq!(a, b);
        assert!(a.live_answered > 0);
    }

    #[test]
    fn progressive_never_abandons_and_customers_never_wait_over_two_seconds() {
        let s = tiny();
        for seed in 0..5 {
            for policy in
                [PolicyKind::Progressive, PolicyKind::StaticRatio(3.0), PolicyKind::Vicidial]
            {
                let m = simulate(&s, Cell { agents: 4, cap: 0.05 }, policy, seed);
                assert!(m.customer_wait_s_max <= 2.0, "{policy:?}: {m:?}");
                assert!(m.occupancy <= 1.0 + 1e-9);
                if policy == PolicyKind::Progressive {
                    assert_eq!(m.abandoned, 0, "{m:?}");
                }
            }
        }
    }

    #[test]
    fn more_lines_per_idle_agent_means_more_talk_and_more_abandons() {
        let s = tiny();
        let cell = Cell { agents: 4, cap: 0.05 };
        let low = simulate(&s, cell, PolicyKind::Progressive, 3);
        let high = simulate(&s, cell, PolicyKind::StaticRatio(4.0), 3);
        assert!(high.talk_min_per_agent_hour > low.talk_min_per_agent_hour, "{low:?} {high:?}");
        assert!(high.abandoned > low.abandoned);
    }

    #[test]
    fn breaks_take_agents_away_and_uk_counts_detector_misses() {
        let text = format!(
            "{}\n[[breaks]]\nstart_min = 12\nduration_min = 10\nagents_share = 0.5\n",
            TINY.replace("jurisdiction = \"us\"", "jurisdiction = \"uk\"")
                .replace("false_positive = 0.0", "false_positive = 0.5")
        );
        let s = Scenario::parse(&text, "t").expect("valid");
        let m = simulate(&s, Cell { agents: 4, cap: 0.05 }, PolicyKind::Progressive, 1);
        assert!(m.abandoned > 0, "detector misses count under the UK rule: {m:?}");
    }
}
