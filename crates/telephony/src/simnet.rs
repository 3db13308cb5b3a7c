//! A deterministic simulated phone network. Same seed, same inputs, same events.
//!
//! Customer numbers follow per-number rules so demos and tests can pick an outcome: a number
//! ending in 0 is busy, 8 fails, 9 never answers; any other answers with the configured
//! probability after a random ring time. Once answered, a number ending in one of
//! `machine_suffixes` is an answering machine, and one ending in a `key_presses` suffix
//! presses those keys, one every `key_ms` (the first `key_ms` after the answer). Agent phones
//! answer after a fixed delay.

use std::collections::{BTreeSet, HashMap, VecDeque};

use domain::telephony::{Endpoint, LegEvent, LegEventKind, NetEvent, TelCommand, DTMF_DIGITS_MAX};
use domain::{LegId, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Legs alive at once; an originate beyond fails at once.
pub const SIM_LEGS_MAX: usize = 200_000;

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    /// Chance that an ordinary number answers (0..=1).
    pub answer_probability: f64,
    /// Ring time before answer, drawn uniformly from this range.
    pub ring_ms: (u64, u64),
    /// Agent phones answer after this long.
    pub agent_answer_ms: u64,
    /// Once answered, the customer hangs up after a talk time drawn from this range; `None`:
    /// the customer never hangs up first.
    pub talk_ms: Option<(u64, u64)>,
    /// Busy and failure answers come after this long.
    pub reject_ms: u64,
    /// Answered numbers ending in one of these are answering machines.
    pub machine_suffixes: Vec<String>,
    /// `(suffix, keys)`: an answered number ending in `suffix` presses `keys` (the first
    /// matching rule counts; at most [`DTMF_DIGITS_MAX`] keys).
    pub key_presses: Vec<(String, String)>,
    /// Time before each key press.
    pub key_ms: u64,
}

impl SimConfig {
    /// Settings for the demo: most customers answer within seconds and talk about a minute.
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            answer_probability: 0.85,
            ring_ms: (2_000, 8_000),
            agent_answer_ms: 800,
            talk_ms: Some((30_000, 120_000)),
            reject_ms: 1_500,
            machine_suffixes: vec!["66".into()],
            key_presses: [("61", "1"), ("62", "9"), ("63", "0"), ("64", "21"), ("65", "4")]
                .into_iter()
                .map(|(s, k)| (s.to_string(), k.to_string()))
                .collect(),
            key_ms: 2_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LegState {
    Ringing,
    Answered,
}

struct SimLeg {
    state: LegState,
    /// Customer legs may hang up by themselves after talking; agent legs never do.
    customer: bool,
    /// The number called (customer legs), for the machine and key rules.
    number: Option<String>,
    bridged_to: Option<LegId>,
    /// Bumped whenever pending timers of this leg become stale.
    generation: u64,
}

pub struct SimNetwork {
    config: SimConfig,
    rng: ChaCha8Rng,
    legs: HashMap<LegId, SimLeg>,
    /// (when, leg, generation, what happens).
    timers: BTreeSet<(Timestamp, LegId, u64, Pending)>,
    events: VecDeque<NetEvent>,
    originated: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pending {
    Answer,
    Busy,
    NoAnswer,
    Fail,
    RemoteHangup,
    Key(char),
}

impl SimNetwork {
    pub fn new(config: SimConfig) -> SimNetwork {
        SimNetwork {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            legs: HashMap::new(),
            timers: BTreeSet::new(),
            events: VecDeque::new(),
            originated: 0,
        }
    }

    pub fn handle_command(&mut self, now: Timestamp, command: TelCommand) {
        match command {
            TelCommand::Originate { leg, to, ring_ms_max, .. } => {
                self.originate(now, leg, to, ring_ms_max)
            }
            TelCommand::Hangup { leg } => {
                if let Some(state) = self.legs.remove(&leg) {
                    if let Some(other) = state.bridged_to {
                        if let Some(o) = self.legs.get_mut(&other) {
                            o.bridged_to = None;
                        }
                    }
                    self.push(LegEvent { leg, kind: LegEventKind::HungUp { by_remote: false } });
                }
            }
            TelCommand::Bridge { a, b } => {
                let answered =
                    |l: &LegId| self.legs.get(l).is_some_and(|s| s.state == LegState::Answered);
                if answered(&a) && answered(&b) {
                    for (x, y) in [(a, b), (b, a)] {
                        if let Some(s) = self.legs.get_mut(&x) {
                            s.bridged_to = Some(y);
                        }
                    }
                }
            }
            // The simulated network has no media.
            TelCommand::Record { .. }
            | TelCommand::Play { .. }
            | TelCommand::StopPlay { .. }
            | TelCommand::SendDtmf { .. } => {}
        }
    }

    fn originate(&mut self, now: Timestamp, leg: LegId, to: Endpoint, ring_ms_max: u64) {
        self.originated += 1;
        if self.legs.len() >= SIM_LEGS_MAX || self.legs.contains_key(&leg) {
            self.push(LegEvent { leg, kind: LegEventKind::Failed });
            return;
        }
        let number = match &to {
            Endpoint::Number(n) => Some(n.as_str().to_string()),
            Endpoint::Agent(_) => None,
        };
        let customer = number.is_some();
        self.legs.insert(
            leg,
            SimLeg { state: LegState::Ringing, customer, number, bridged_to: None, generation: 0 },
        );
        self.push(LegEvent { leg, kind: LegEventKind::Ringing });
        let (after, what) = match to {
            Endpoint::Agent(_) => (self.config.agent_answer_ms, Pending::Answer),
            Endpoint::Number(number) => {
                let last = number.as_str().bytes().last().unwrap_or(b'1');
                // Draw even for rule-based numbers so each leg consumes the same randomness.
                let (lo, hi) = self.config.ring_ms;
                let ring = self.rng.gen_range(lo..=hi.max(lo));
                let answers = self.rng.gen_bool(self.config.answer_probability.clamp(0.0, 1.0));
                match last {
                    b'0' => (self.config.reject_ms, Pending::Busy),
                    b'8' => (self.config.reject_ms, Pending::Fail),
                    b'9' => (ring_ms_max, Pending::NoAnswer),
                    _ if answers && ring < ring_ms_max => (ring, Pending::Answer),
                    _ => (ring_ms_max, Pending::NoAnswer),
                }
            }
        };
        self.timers.insert((now.plus_ms(after), leg, 0, what));
    }

    pub fn handle_timeout(&mut self, now: Timestamp) {
        while let Some(&(at, leg, generation, what)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            let Some(state) = self.legs.get_mut(&leg) else { continue };
            if state.generation != generation {
                continue;
            }
            match what {
                Pending::Answer => {
                    state.state = LegState::Answered;
                    state.generation += 1;
                    let (generation, customer) = (state.generation, state.customer);
                    let number = state.number.clone().unwrap_or_default();
                    let ends = |suffix: &String| !suffix.is_empty() && number.ends_with(suffix);
                    let machine = self.config.machine_suffixes.iter().any(ends);
                    let kind = if machine {
                        LegEventKind::MachineAnswered
                    } else {
                        LegEventKind::Answered
                    };
                    self.push(LegEvent { leg, kind });
                    let keys = self.config.key_presses.iter().find(|(s, _)| ends(s));
                    if let (false, Some((_, keys))) = (machine, keys) {
                        let mut at = at;
                        for digit in keys.chars().take(DTMF_DIGITS_MAX) {
                            at = at.plus_ms(self.config.key_ms);
                            self.timers.insert((at, leg, generation, Pending::Key(digit)));
                        }
                    }
                    if let Some((lo, hi)) = self.config.talk_ms {
                        if customer {
                            let talk = self.rng.gen_range(lo..=hi.max(lo));
                            let hangup = (at.plus_ms(talk), leg, generation, Pending::RemoteHangup);
                            self.timers.insert(hangup);
                        }
                    }
                }
                Pending::Key(digit) => self.events.push_back(NetEvent::Dtmf { leg, digit }),
                Pending::Busy | Pending::NoAnswer | Pending::Fail | Pending::RemoteHangup => {
                    let kind = match what {
                        Pending::Busy => LegEventKind::Busy,
                        Pending::NoAnswer => LegEventKind::NoAnswer,
                        Pending::Fail => LegEventKind::Failed,
                        _ => LegEventKind::HungUp { by_remote: true },
                    };
                    if let Some(s) = self.legs.remove(&leg) {
                        if let Some(other) = s.bridged_to {
                            if let Some(o) = self.legs.get_mut(&other) {
                                o.bridged_to = None;
                            }
                        }
                    }
                    self.push(LegEvent { leg, kind });
                }
            }
        }
    }

    fn push(&mut self, event: LegEvent) {
        self.events.push_back(NetEvent::Leg(event));
    }

    /// Leg progress and key presses, in the order they happened.
    pub fn poll_event(&mut self) -> Option<NetEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.first().map(|(t, ..)| *t)
    }

    /// Legs alive now (for leak checks).
    pub fn live_legs(&self) -> usize {
        self.legs.len()
    }

    /// Originate commands received so far.
    pub fn originated(&self) -> u64 {
        self.originated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{AgentId, PhoneNumber};

    fn net(talk: Option<(u64, u64)>) -> SimNetwork {
        SimNetwork::new(SimConfig {
            seed: 7,
            answer_probability: 1.0,
            ring_ms: (1_000, 1_000),
            agent_answer_ms: 500,
            talk_ms: talk,
            reject_ms: 200,
            machine_suffixes: vec!["66".into()],
            key_presses: vec![("61".into(), "1".into()), ("6".into(), "29".into())],
            key_ms: 300,
        })
    }

    fn call(n: &mut SimNetwork, leg: u64, number: &str) {
        let to = Endpoint::Number(PhoneNumber::from_e164_trusted(number).expect("test number"));
        let cmd = TelCommand::Originate {
            leg: LegId(leg),
            to,
            caller_id: None,
            ring_ms_max: 20_000,
            detect_machine: domain::telephony::MachineDetection::Off,
        };
        n.handle_command(Timestamp::ZERO, cmd);
    }

    fn run(n: &mut SimNetwork, until_ms: i64) -> Vec<(u64, LegEventKind)> {
        let mut out = Vec::new();
        while let Some(t) = n.poll_timeout() {
            if t.as_millis() > until_ms {
                break;
            }
            n.handle_timeout(t);
        }
        while let Some(e) = n.poll_event() {
            if let NetEvent::Leg(e) = e {
                out.push((e.leg.0, e.kind));
            }
        }
        out
    }

    #[test]
    fn numbers_follow_their_rules() {
        let mut n = net(None);
        call(&mut n, 1, "+12025550140");
        call(&mut n, 2, "+12025550148");
        call(&mut n, 3, "+12025550149");
        call(&mut n, 4, "+12025550147");
        let events = run(&mut n, 60_000);
        let last = |leg: u64| events.iter().rev().find(|(l, _)| *l == leg).map(|(_, k)| *k);
        assert_eq!(last(1), Some(LegEventKind::Busy));
        assert_eq!(last(2), Some(LegEventKind::Failed));
        assert_eq!(last(3), Some(LegEventKind::NoAnswer));
        assert_eq!(last(4), Some(LegEventKind::Answered));
        assert_eq!(n.live_legs(), 1, "only the answered leg is alive");
    }

    #[test]
    fn agents_answer_and_customers_hang_up_after_talking() {
        let mut n = net(Some((5_000, 5_000)));
        let cmd = TelCommand::Originate {
            leg: LegId(1),
            to: Endpoint::Agent(AgentId(3)),
            caller_id: None,
            ring_ms_max: 10_000,
            detect_machine: domain::telephony::MachineDetection::Off,
        };
        n.handle_command(Timestamp::ZERO, cmd);
        call(&mut n, 2, "+12025550147");
        let events = run(&mut n, 60_000);
        assert_eq!(
            events,
            vec![
                (1, LegEventKind::Ringing),
                (2, LegEventKind::Ringing),
                (1, LegEventKind::Answered),
                (2, LegEventKind::Answered),
                (2, LegEventKind::HungUp { by_remote: true }),
            ]
        );
        n.handle_command(Timestamp::ZERO, TelCommand::Hangup { leg: LegId(1) });
        let hung_up = LegEvent { leg: LegId(1), kind: LegEventKind::HungUp { by_remote: false } };
        assert_eq!(n.poll_event(), Some(NetEvent::Leg(hung_up)));
        assert_eq!(n.live_legs(), 0);
    }

    #[test]
    fn same_seed_same_outcomes() {
        let outcomes = |seed: u64| {
            let mut n = SimNetwork::new(SimConfig { seed, ..SimConfig::demo(seed) });
            for leg in 1..=50 {
                call(&mut n, leg, "+12025550147");
            }
            run(&mut n, 600_000)
        };
        assert_eq!(outcomes(11), outcomes(11));
        assert_ne!(outcomes(11), outcomes(12));
    }

    #[test]
    fn machines_answer_by_suffix_and_numbers_press_their_keys() {
        let mut n = net(None);
        call(&mut n, 1, "+12025550166");
        call(&mut n, 2, "+12025550161");
        call(&mut n, 3, "+12025550156");
        let mut events = Vec::new();
        while let Some(t) = n.poll_timeout() {
            n.handle_timeout(t);
            while let Some(e) = n.poll_event() {
                let ringing = LegEventKind::Ringing;
                if !matches!(e, NetEvent::Leg(LegEvent { kind, .. }) if kind == ringing) {
                    events.push((t.as_millis(), e));
                }
            }
        }
        let leg = |l: u64, kind| NetEvent::Leg(LegEvent { leg: LegId(l), kind });
        let key = |l: u64, digit| NetEvent::Dtmf { leg: LegId(l), digit };
        // The first matching rule counts: ...61 presses 1, not the "6" rule's keys.
        assert_eq!(
            events,
            vec![
                (1_000, leg(1, LegEventKind::MachineAnswered)),
                (1_000, leg(2, LegEventKind::Answered)),
                (1_000, leg(3, LegEventKind::Answered)),
                (1_300, key(2, '1')),
                (1_300, key(3, '2')),
                (1_600, key(3, '9')),
            ]
        );
        // A leg hung up before its keys presses none.
        call(&mut n, 4, "+12025550156");
        n.handle_timeout(Timestamp::from_millis(1_000));
        n.handle_command(Timestamp::from_millis(1_000), TelCommand::Hangup { leg: LegId(4) });
        n.handle_timeout(Timestamp::from_millis(5_000));
        let rest: Vec<NetEvent> = std::iter::from_fn(|| n.poll_event()).collect();
        assert!(rest.iter().all(|e| matches!(e, NetEvent::Leg(_))), "{rest:?}");
    }
}
