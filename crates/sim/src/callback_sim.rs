//! Seeded simulation of the callback flow: the real [`engine::Center`] and the real
//! [`telephony::SimNetwork`], with random request arrivals, agents taking breaks and wrapping up
//! at random. After every step the engine's invariants are checked; over the whole run the
//! event stream is checked for safety (no dial beyond the attempt limit, none after the request
//! ended or after a conversation, every request finished exactly once) and liveness (every
//! request finishes once arrivals stop).

use std::collections::{BTreeMap, HashMap};

use domain::event::{AgentState, CallbackStatus, EventKind, Outcome};
use domain::telephony::NetEvent;
use domain::{AgentId, CallbackId, Channel, InteractionId, PhoneNumber, QueueId, Timestamp};
use engine::{
    AcceptMode, CallOrder, CallbackPolicy, CallbackSpec, Center, CenterConfig, Input, Output,
    QueueSetup,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use routing::{AgentProfile, QueueConfig, RouterConfig, Strategy};
use telephony::{SimConfig, SimNetwork};

#[derive(Clone, Debug)]
pub struct CallbackSimConfig {
    pub seed: u64,
    pub agents: u64,
    pub callbacks: u64,
    /// Requests arrive uniformly over this window.
    pub arrivals_ms: u64,
    pub max_attempts: u32,
    pub customer_first: bool,
    /// After arrivals stop, the run continues this long for the requests to finish.
    pub drain_ms: u64,
    /// Steps at most (a guard against a livelock bug).
    pub steps_max: u64,
}

impl CallbackSimConfig {
    pub fn small(seed: u64) -> CallbackSimConfig {
        CallbackSimConfig {
            seed,
            agents: 4,
            callbacks: 40,
            arrivals_ms: 120_000,
            max_attempts: 3,
            customer_first: seed % 2 == 1,
            drain_ms: 3_600_000,
            steps_max: 1_000_000,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackSimReport {
    pub steps: u64,
    pub done: u64,
    pub failed: u64,
    pub dials: u64,
    pub conversations: u64,
    pub dials_max_per_request: u32,
    pub end_ms: i64,
}

#[derive(Default)]
struct RequestLog {
    dials: u32,
    bridged: u32,
    finished: u32,
}

struct World {
    center: Center,
    net: SimNetwork,
    rng: ChaCha8Rng,
    now: Timestamp,
    /// Agent actions due: (when, agent, what).
    agent_actions: BTreeMap<(Timestamp, u64), AgentAction>,
    requests: HashMap<CallbackId, RequestLog>,
    interaction_callback: HashMap<InteractionId, CallbackId>,
    report: CallbackSimReport,
    max_attempts: u32,
}

#[derive(Clone, Copy, Debug)]
enum AgentAction {
    WrapUpDone(InteractionId),
    Break,
    Back,
}

const Q: QueueId = QueueId(1);

fn phone(rng: &mut ChaCha8Rng) -> PhoneNumber {
    // Last digit 0 is busy, 8 fails, 9 never answers: a mix of outcomes.
    let n: u32 = rng.gen_range(0..10_000);
    PhoneNumber::from_e164_trusted(&format!("+1202555{n:04}")).expect("well-formed E.164")
}

impl World {
    /// Checks the engine's invariants, then feeds its outputs to the network and the checkers.
    fn check(&mut self) -> Result<(), String> {
        self.center.check_invariants();
        while let Some(out) = self.center.poll_output() {
            match out {
                Output::Persist(e) => self.record(&e.kind)?,
                Output::Telephony(cmd) => self.net.handle_command(self.now, cmd),
                Output::Notify(_) => {}
            }
        }
        Ok(())
    }

    fn record(&mut self, kind: &EventKind) -> Result<(), String> {
        match kind {
            EventKind::InteractionQueued { interaction, callback, .. } => {
                self.interaction_callback.insert(*interaction, *callback);
            }
            EventKind::CustomerDialed { callback, attempt, .. } => {
                let log = self.requests.entry(*callback).or_default();
                if log.finished > 0 {
                    return Err(format!("{callback:?} dialed after it ended"));
                }
                if log.bridged > 0 {
                    return Err(format!("{callback:?} dialed again after a conversation"));
                }
                log.dials += 1;
                if log.dials != *attempt || log.dials > self.max_attempts {
                    return Err(format!("{callback:?} dial {} (attempt {attempt})", log.dials));
                }
                self.report.dials += 1;
                self.report.dials_max_per_request =
                    self.report.dials_max_per_request.max(log.dials);
            }
            EventKind::Bridged { interaction } => {
                let cb = self.interaction_callback[interaction];
                self.requests.entry(cb).or_default().bridged += 1;
                self.report.conversations += 1;
            }
            // The agent wraps up a completed call after a while.
            EventKind::InteractionEnded { interaction, outcome: Outcome::Completed } => {
                let delay = self.rng.gen_range(0..20_000);
                let key = self.rng.gen::<u64>();
                let action = AgentAction::WrapUpDone(*interaction);
                self.agent_actions.insert((self.now.plus_ms(delay), key), action);
            }
            EventKind::CallbackFinished { callback, status } => {
                let log = self.requests.entry(*callback).or_default();
                log.finished += 1;
                if log.finished > 1 {
                    return Err(format!("{callback:?} finished twice"));
                }
                match status {
                    CallbackStatus::Done => self.report.done += 1,
                    _ => self.report.failed += 1,
                }
                if *status == CallbackStatus::Done && log.bridged == 0 {
                    return Err(format!("{callback:?} done without a conversation"));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn input(&mut self, input: Input) -> Result<(), String> {
        // Errors are allowed (e.g. a wrap-up of an interaction the engine already dropped);
        // panics are not, and the invariants must hold either way.
        let _ = self.center.handle_input(self.now, input);
        self.check()
    }
}

/// Runs one seeded simulation. `Err` names the violated property.
pub fn run_callback_sim(cfg: &CallbackSimConfig) -> Result<CallbackSimReport, String> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut center = Center::new(CenterConfig {
        router: RouterConfig { missed_offers_max: 0 },
        first_interaction_id: 1,
        agent_ring_ms: 10_000,
    });
    let net = SimNetwork::new(SimConfig {
        seed: rng.gen(),
        answer_probability: 0.7,
        ring_ms: (1_000, 12_000),
        agent_answer_ms: 700,
        talk_ms: Some((5_000, 90_000)),
        reject_ms: 1_500,
        machine_suffixes: Vec::new(),
        key_presses: Vec::new(),
        key_ms: 1_000,
    });
    let queue = QueueConfig {
        id: Q,
        channel: Channel::Voice,
        strategy: Strategy::LongestIdle,
        skills: vec![],
        department: None,
        offer_ms: 15_000,
        aging_ms_per_level: 30_000,
        overflow: vec![],
        wrap_up_ms: 30_000,
        depth_max: 10_000,
    };
    let policy = CallbackPolicy {
        order: if cfg.customer_first { CallOrder::CustomerFirst } else { CallOrder::AgentFirst },
        accept: AcceptMode::Auto,
        priority: 80,
        max_attempts: cfg.max_attempts,
        retry_delays_ms: vec![30_000, 120_000],
        customer_ring_ms: 20_000,
        caller_id: None,
        hours: None,
    };
    let setup = QueueSetup { routing: queue, callback: policy };
    let t0 = Timestamp::ZERO;
    center.handle_input(t0, Input::UpsertQueue(Box::new(setup))).map_err(|e| e.to_string())?;
    for a in 1..=cfg.agents {
        let profile = AgentProfile {
            id: AgentId(a),
            skills: vec![],
            departments: vec![],
            queues: vec![Q],
            capacity: [1, 0],
        };
        center.handle_input(t0, Input::UpsertAgent(profile)).map_err(|e| e.to_string())?;
        let available = Input::SetAgentStatus { agent: AgentId(a), status: AgentState::Available };
        center.handle_input(t0, available).map_err(|e| e.to_string())?;
    }
    let mut arrivals: Vec<(Timestamp, CallbackId, PhoneNumber)> = (1..=cfg.callbacks)
        .map(|i| {
            (
                Timestamp::from_millis(rng.gen_range(0..cfg.arrivals_ms) as i64),
                CallbackId(i),
                phone(&mut rng),
            )
        })
        .collect();
    arrivals.sort_by_key(|(t, id, _)| (*t, *id));
    let mut arrivals = arrivals.into_iter().peekable();
    let mut world = World {
        center,
        net,
        rng,
        now: t0,
        agent_actions: BTreeMap::new(),
        requests: HashMap::new(),
        interaction_callback: HashMap::new(),
        report: CallbackSimReport::default(),
        max_attempts: cfg.max_attempts,
    };
    // Some agents take a break now and then.
    for a in 1..=cfg.agents {
        let at = world.rng.gen_range(0..cfg.arrivals_ms);
        world.agent_actions.insert((Timestamp::from_millis(at as i64), a), AgentAction::Break);
    }
    world.check()?;
    let end = Timestamp::from_millis((cfg.arrivals_ms + cfg.drain_ms) as i64);
    while world.report.steps < cfg.steps_max {
        world.report.steps += 1;
        // Network events first: they happened at the time already reached.
        if let Some(event) = world.net.poll_event() {
            let input = match event {
                NetEvent::Leg(e) => Input::Leg(e),
                NetEvent::Dtmf { leg, digit } => Input::Dtmf { leg, digit },
                NetEvent::Incoming { leg, caller, dialed } => {
                    Input::Incoming { leg, caller, dialed }
                }
            };
            world.input(input)?;
            continue;
        }
        let next = [
            world.center.poll_timeout(),
            world.net.poll_timeout(),
            arrivals.peek().map(|(t, ..)| *t),
            world.agent_actions.keys().next().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        if next > end {
            break;
        }
        world.now = world.now.max(next);
        if arrivals.peek().is_some_and(|(t, ..)| *t <= world.now) {
            let (t, id, phone) = arrivals.next().expect("peeked");
            let spec = CallbackSpec { id, queue: Q, phone, due_at: t, attempts: 0 };
            world.requests.entry(id).or_default();
            world
                .center
                .handle_input(world.now, Input::CallbackAccepted(spec))
                .map_err(|e| e.to_string())?;
            world.check()?;
            continue;
        }
        if let Some((&(t, key), &action)) = world.agent_actions.iter().next() {
            if t <= world.now {
                world.agent_actions.remove(&(t, key));
                let agent = AgentId(key % cfg.agents + 1);
                match action {
                    AgentAction::WrapUpDone(ix) => {
                        // Whoever handled it: find the agent holding it.
                        let holder = (1..=cfg.agents).map(AgentId).find(|a| {
                            world
                                .center
                                .agent_snapshot(*a)
                                .is_some_and(|s| s.interactions.iter().any(|i| i.id == ix))
                        });
                        if let Some(a) = holder {
                            world.input(Input::WrapUpDone { agent: a, interaction: ix })?;
                        }
                    }
                    AgentAction::Break => {
                        let status = AgentState::Break { reason: "coffee".into() };
                        world.input(Input::SetAgentStatus { agent, status })?;
                        let back = world.rng.gen_range(10_000..120_000);
                        world.agent_actions.insert((t.plus_ms(back), key), AgentAction::Back);
                    }
                    AgentAction::Back => {
                        world.input(Input::SetAgentStatus {
                            agent,
                            status: AgentState::Available,
                        })?;
                    }
                }
                continue;
            }
        }
        world.net.handle_timeout(world.now);
        world.input(Input::Tick)?;
    }
    world.report.end_ms = world.now.as_millis();
    // Liveness: every request has ended once arrivals stopped and the drain time passed.
    let unfinished: Vec<_> =
        world.requests.iter().filter(|(_, l)| l.finished == 0).map(|(id, _)| *id).collect();
    if !unfinished.is_empty() {
        return Err(format!(
            "{} requests never finished, e.g. {:?}",
            unfinished.len(),
            unfinished[0]
        ));
    }
    if world.center.open_callbacks() != 0 {
        return Err("engine still holds callbacks".into());
    }
    if world.net.live_legs() != 0 {
        return Err(format!("{} phone legs leaked", world.net.live_legs()));
    }
    Ok(world.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_seeds_are_safe_and_live() {
        let mut totals = CallbackSimReport::default();
        for seed in 0..200 {
            let r = run_callback_sim(&CallbackSimConfig::small(seed))
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(r.done + r.failed, 40, "seed {seed}");
            totals.done += r.done;
            totals.failed += r.failed;
            totals.dials += r.dials;
            totals.dials_max_per_request =
                totals.dials_max_per_request.max(r.dials_max_per_request);
        }
        // The mix of numbers gives both outcomes, and retries happen.
        assert!(totals.done > 1_000 && totals.failed > 1_000, "{totals:?}");
        assert_eq!(totals.dials_max_per_request, 3);
    }

    #[test]
    fn a_seed_reproduces_its_run() {
        let cfg = CallbackSimConfig::small(42);
        assert_eq!(run_callback_sim(&cfg), run_callback_sim(&cfg));
    }
}
