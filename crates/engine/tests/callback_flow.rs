//! Scenario tests of the callback flow: inputs fed by hand with explicit time, outputs
//! rendered as a compact log and compared with snapshots (`UPDATE_EXPECT=1` refreshes them).

use domain::event::{AgentState, EventKind};
use domain::telephony::{Endpoint, LegEvent, LegEventKind, TelCommand};
use domain::{AgentId, CallbackId, Channel, LegId, PhoneNumber, QueueId, Timestamp};
use engine::{
    AcceptMode, BusinessHours, CallOrder, CallbackPolicy, CallbackSpec, Center, CenterConfig,
    InboundRoute, Input, Output, Phase, QueueSetup,
};
use expect_test::{expect, Expect};
use routing::{AgentProfile, QueueConfig, RouterConfig, Strategy};

const Q: QueueId = QueueId(1);

fn policy(order: CallOrder, accept: AcceptMode) -> CallbackPolicy {
    CallbackPolicy {
        order,
        accept,
        priority: 80,
        max_attempts: 2,
        retry_delays_ms: vec![60_000],
        customer_ring_ms: 30_000,
        caller_id: None,
        hours: None,
    }
}

struct Harness {
    center: Center,
    now: i64,
    log: Vec<String>,
}

impl Harness {
    fn new(policy: CallbackPolicy, agents: &[u64]) -> Harness {
        let mut center = Center::new(CenterConfig {
            router: RouterConfig { missed_offers_max: 3 },
            first_interaction_id: 100,
            agent_ring_ms: 10_000,
        });
        let t = Timestamp::ZERO;
        let queue = QueueConfig {
            id: Q,
            channel: Channel::Voice,
            strategy: Strategy::LongestIdle,
            skills: vec![],
            department: None,
            offer_ms: 20_000,
            aging_ms_per_level: 30_000,
            overflow: vec![],
            wrap_up_ms: 5_000,
            depth_max: 100,
        };
        let setup = QueueSetup { routing: queue, callback: policy };
        center.handle_input(t, Input::UpsertQueue(Box::new(setup))).expect("queue");
        for &a in agents {
            let profile = AgentProfile {
                id: AgentId(a),
                skills: vec![],
                departments: vec![],
                queues: vec![Q],
                capacity: [1, 0],
            };
            center.handle_input(t, Input::UpsertAgent(profile)).expect("agent");
            let status = Input::SetAgentStatus { agent: AgentId(a), status: AgentState::Available };
            center.handle_input(t, status).expect("status");
        }
        let mut h = Harness { center, now: 0, log: Vec::new() };
        h.drain();
        h.log.clear();
        h
    }

    fn at(&mut self, ms: i64) -> &mut Self {
        self.now = ms;
        self.input(Input::Tick);
        self
    }

    fn input(&mut self, input: Input) {
        self.center.handle_input(Timestamp::from_millis(self.now), input).expect("input accepted");
        self.center.check_invariants();
        self.drain();
    }

    fn leg(&mut self, leg: u64, kind: LegEventKind) -> &mut Self {
        self.input(Input::Leg(LegEvent { leg: LegId(leg), kind }));
        self
    }

    fn callback(&mut self, id: u64, phone: &str, attempts: u32) -> &mut Self {
        let phone = PhoneNumber::from_e164_trusted(phone).expect("test phone");
        let spec = CallbackSpec {
            id: CallbackId(id),
            queue: Q,
            phone,
            due_at: Timestamp::from_millis(self.now),
            attempts,
        };
        self.input(Input::CallbackAccepted(spec));
        self
    }

    fn drain(&mut self) {
        while let Some(out) = self.center.poll_output() {
            let line = match out {
                Output::Persist(e) => format!("{} persist {}", e.at.as_millis(), describe(&e.kind)),
                Output::Telephony(TelCommand::Originate { leg, to, .. }) => {
                    let to = match to {
                        Endpoint::Agent(a) => format!("agent {}", a.0),
                        Endpoint::Number(n) => n.as_str().to_string(),
                    };
                    format!("{} dial leg {} -> {to}", self.now, leg.0)
                }
                Output::Telephony(TelCommand::Hangup { leg }) => {
                    format!("{} hangup leg {}", self.now, leg.0)
                }
                Output::Telephony(TelCommand::Bridge { a, b }) => {
                    format!("{} bridge {} {}", self.now, a.0, b.0)
                }
                Output::Telephony(TelCommand::Record { .. }) => continue,
                Output::Telephony(TelCommand::Play { leg, prompt, looping }) => {
                    let how = if looping { "looped" } else { "once" };
                    format!("{} play leg {} {prompt} {how}", self.now, leg.0)
                }
                Output::Telephony(TelCommand::StopPlay { leg }) => {
                    format!("{} stop playing leg {}", self.now, leg.0)
                }
                // The engine does not send key presses (yet); nothing to show.
                Output::Telephony(TelCommand::SendDtmf { leg, digits }) => {
                    format!("{} send keys {digits} to leg {}", self.now, leg.0)
                }
                Output::Notify(_) => continue,
            };
            self.log.push(line);
        }
    }

    fn check(&mut self, expected: Expect) {
        let text = if self.log.is_empty() { String::new() } else { self.log.join("\n") + "\n" };
        expected.assert_eq(&text);
        self.log.clear();
    }
}

fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::CallbackScheduled { callback, due_at, attempts } => {
            format!("scheduled cb{} due {} attempts {}", callback.0, due_at.as_millis(), attempts)
        }
        EventKind::InteractionQueued { interaction, .. } => format!("queued ix{}", interaction.0),
        EventKind::InboundQueued { interaction, queue, caller } => {
            format!("inbound ix{} queue {} from {caller}", interaction.0, queue.0)
        }
        EventKind::AgentReserved { interaction, agent } => {
            format!("reserved ix{} agent {}", interaction.0, agent.0)
        }
        EventKind::AgentConnected { interaction, .. } => {
            format!("agent connected ix{}", interaction.0)
        }
        EventKind::CustomerDialed { interaction, attempt, .. } => {
            format!("customer dialed ix{} attempt {attempt}", interaction.0)
        }
        EventKind::CustomerAnswered { interaction } => {
            format!("customer answered ix{}", interaction.0)
        }
        EventKind::Bridged { interaction } => format!("bridged ix{}", interaction.0),
        EventKind::InteractionEnded { interaction, outcome } => {
            format!("ended ix{} {}", interaction.0, outcome.as_str())
        }
        EventKind::CallbackFinished { callback, status } => {
            format!("finished cb{} {}", callback.0, status.as_str())
        }
        EventKind::AgentStatusChanged { agent, state } => {
            format!("agent {} {}", agent.0, state.name())
        }
        EventKind::Campaign(e) => e.name().to_string(),
    }
}

#[test]
fn agent_first_connects_agent_then_customer_then_wraps_up() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Auto), &[7]);
    h.callback(1, "+12025550147", 0);
    h.check(expect![[r#"
        0 persist scheduled cb1 due 0 attempts 0
        0 persist queued ix100
        0 persist reserved ix100 agent 7
        0 dial leg 1 -> agent 7
    "#]]);
    h.now = 800;
    h.leg(1, LegEventKind::Answered);
    h.check(expect![[r#"
        800 persist agent connected ix100
        800 persist customer dialed ix100 attempt 1
        800 dial leg 2 -> +12025550147
    "#]]);
    h.now = 5_000;
    h.leg(2, LegEventKind::Answered);
    h.check(expect![[r#"
        5000 persist customer answered ix100
        5000 bridge 1 2
        5000 persist bridged ix100
    "#]]);
    let snap = h.center.agent_snapshot(AgentId(7)).expect("agent");
    assert_eq!(snap.interactions[0].phase, Phase::Connected);
    h.now = 65_000;
    h.leg(2, LegEventKind::HungUp { by_remote: true });
    h.check(expect![[r#"
        65000 hangup leg 1
        65000 persist ended ix100 completed
        65000 persist finished cb1 done
        65000 persist agent 7 wrap_up
    "#]]);
    // The card stays on the agent's screen until the disposition is in.
    let snap = h.center.agent_snapshot(AgentId(7)).expect("agent");
    assert_eq!(snap.interactions[0].phase, Phase::Ended);
    h.input(Input::WrapUpDone { agent: AgentId(7), interaction: domain::InteractionId(100) });
    h.check(expect![[r#"
        65000 persist agent 7 available
    "#]]);
    assert!(h.center.agent_snapshot(AgentId(7)).expect("agent").interactions.is_empty());
}

#[test]
fn busy_retries_after_the_delay_then_fails_at_the_attempt_limit() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Auto), &[7]);
    h.callback(1, "+12025550140", 0);
    h.leg(1, LegEventKind::Answered);
    h.now = 2_000;
    h.leg(2, LegEventKind::Busy);
    h.check(expect![[r#"
        0 persist scheduled cb1 due 0 attempts 0
        0 persist queued ix100
        0 persist reserved ix100 agent 7
        0 dial leg 1 -> agent 7
        0 persist agent connected ix100
        0 persist customer dialed ix100 attempt 1
        0 dial leg 2 -> +12025550140
        2000 hangup leg 1
        2000 persist ended ix100 busy
        2000 persist scheduled cb1 due 62000 attempts 1
    "#]]);
    h.at(61_999);
    h.check(expect![""]);
    h.at(62_000);
    h.leg(3, LegEventKind::Answered);
    h.leg(4, LegEventKind::NoAnswer);
    h.check(expect![[r#"
        62000 persist queued ix101
        62000 persist reserved ix101 agent 7
        62000 dial leg 3 -> agent 7
        62000 persist agent connected ix101
        62000 persist customer dialed ix101 attempt 2
        62000 dial leg 4 -> +12025550140
        62000 hangup leg 3
        62000 persist ended ix101 no_answer
        62000 persist finished cb1 failed
    "#]]);
    assert_eq!(h.center.open_callbacks(), 0);
}

#[test]
fn customer_first_dials_the_customer_once_an_agent_is_held() {
    let mut h = Harness::new(policy(CallOrder::CustomerFirst, AcceptMode::Auto), &[7]);
    h.callback(1, "+12025550147", 0);
    h.now = 3_000;
    h.leg(1, LegEventKind::Answered);
    h.leg(2, LegEventKind::Answered);
    h.check(expect![[r#"
        0 persist scheduled cb1 due 0 attempts 0
        0 persist queued ix100
        0 persist reserved ix100 agent 7
        0 persist customer dialed ix100 attempt 1
        0 dial leg 1 -> +12025550147
        3000 persist customer answered ix100
        3000 dial leg 2 -> agent 7
        3000 persist agent connected ix100
        3000 bridge 2 1
        3000 persist bridged ix100
    "#]]);
}

#[test]
fn console_accept_waits_for_the_agent_and_a_missed_phone_goes_to_the_next_agent() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Console), &[7, 8]);
    h.callback(1, "+12025550147", 0);
    let offer = h.center.agent_snapshot(AgentId(7)).expect("agent").offers[0].offer;
    h.check(expect![[r#"
        0 persist scheduled cb1 due 0 attempts 0
        0 persist queued ix100
        0 persist reserved ix100 agent 7
    "#]]);
    h.input(Input::AcceptOffer { agent: AgentId(7), offer });
    h.leg(1, LegEventKind::NoAnswer);
    h.check(expect![[r#"
        0 dial leg 1 -> agent 7
        0 persist reserved ix100 agent 8
    "#]]);
    // Agent 8 did not accept either: the offer times out and returns to agent 7.
    h.at(20_000);
    h.check(expect![[r#"
        20000 persist reserved ix100 agent 7
    "#]]);
}

#[test]
fn an_agent_hangup_mid_call_completes_and_a_restart_keeps_counting_attempts() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Auto), &[7]);
    // Rebuilt after a restart with one dial already made: one attempt is left.
    h.callback(1, "+12025550149", 1);
    h.leg(1, LegEventKind::Answered);
    h.now = 30_000;
    h.leg(2, LegEventKind::NoAnswer);
    h.check(expect![[r#"
        0 persist scheduled cb1 due 0 attempts 1
        0 persist queued ix100
        0 persist reserved ix100 agent 7
        0 dial leg 1 -> agent 7
        0 persist agent connected ix100
        0 persist customer dialed ix100 attempt 2
        0 dial leg 2 -> +12025550149
        30000 hangup leg 1
        30000 persist ended ix100 no_answer
        30000 persist finished cb1 failed
    "#]]);
    h.callback(2, "+12025550147", 0);
    h.leg(3, LegEventKind::Answered);
    h.leg(4, LegEventKind::Answered);
    h.log.clear();
    h.input(Input::Hangup { agent: AgentId(7), interaction: domain::InteractionId(101) });
    h.check(expect![[r#"
        30000 hangup leg 3
        30000 hangup leg 4
        30000 persist ended ix101 completed
        30000 persist finished cb2 done
        30000 persist agent 7 wrap_up
    "#]]);
    // Late events of legs already hung up change nothing.
    h.leg(4, LegEventKind::HungUp { by_remote: false });
    h.check(expect![""]);
}

#[test]
fn business_hours_defer_the_first_dial() {
    let mut p = policy(CallOrder::AgentFirst, AcceptMode::Auto);
    let windows = vec![("mon".to_string(), "09:00".to_string(), "17:00".to_string())];
    p.hours = Some(BusinessHours::parse("UTC", &windows).expect("hours"));
    let mut h = Harness::new(p, &[7]);
    // 1970-01-01 was a Thursday; the next Monday 09:00 UTC is day 4.
    h.callback(1, "+12025550147", 0);
    let monday_9 = (4 * 24 + 9) * 3_600_000;
    h.check(expect![[r#"
        0 persist scheduled cb1 due 378000000 attempts 0
    "#]]);
    assert_eq!(h.center.poll_timeout(), Some(Timestamp::from_millis(monday_9)));
    h.at(monday_9);
    assert!(h.log.iter().any(|l| l.contains("dial leg 1 -> agent 7")), "{:?}", h.log);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Auto), &[7]);
    let t = Timestamp::ZERO;
    let phone = PhoneNumber::from_e164_trusted("+12025550147").expect("phone");
    let spec = |q| CallbackSpec {
        id: CallbackId(9),
        queue: q,
        phone: phone.clone(),
        due_at: t,
        attempts: 0,
    };
    assert!(h.center.handle_input(t, Input::CallbackAccepted(spec(QueueId(99)))).is_err());
    assert!(h.center.handle_input(t, Input::CallbackAccepted(spec(Q))).is_ok());
    assert!(h.center.handle_input(t, Input::CallbackAccepted(spec(Q))).is_err());
    let wrong = Input::AcceptOffer { agent: AgentId(7), offer: domain::OfferId(12345) };
    assert!(h.center.handle_input(t, wrong).is_err());
    let wrong = Input::Hangup { agent: AgentId(8), interaction: domain::InteractionId(100) };
    assert!(h.center.handle_input(t, wrong).is_err());
    let wrong = Input::WrapUpDone { agent: AgentId(7), interaction: domain::InteractionId(5) };
    assert!(h.center.handle_input(t, wrong).is_err());
    let unknown = Input::SetAgentStatus { agent: AgentId(77), status: AgentState::Available };
    assert!(h.center.handle_input(t, unknown).is_err());
    h.center.check_invariants();
}

const CALLER_LEG: LegId = LegId(domain::telephony::INBOUND_LEG_ID_MIN);

fn route(menu: Vec<(char, QueueId)>) -> InboundRoute {
    InboundRoute {
        dialed: None,
        greeting: Some("tts:en:For sales press 1".into()),
        menu,
        queue: Q,
        menu_timeout_ms: 8_000,
        hold_prompt: Some("hold.wav".into()),
        priority: 100,
    }
}

impl Harness {
    fn call_in(&mut self, routes: Vec<InboundRoute>) -> &mut Self {
        self.input(Input::SetInboundRoutes(routes));
        let (caller, dialed) = ("+15550001".to_string(), "sales".to_string());
        self.input(Input::Incoming { leg: CALLER_LEG, caller, dialed });
        self
    }
}

#[test]
fn inbound_caller_hears_the_menu_chooses_a_queue_and_is_bridged_to_an_agent() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Auto), &[7]);
    h.call_in(vec![route(vec![('1', Q)])]);
    h.check(expect![[r#"
        0 play leg 4611686018427387904 tts:en:For sales press 1 once
    "#]]);
    h.at(2_000);
    h.input(Input::Dtmf { leg: CALLER_LEG, digit: '1' });
    h.check(expect![[r#"
        2000 persist inbound ix100 queue 1 from +15550001
        2000 play leg 4611686018427387904 hold.wav looped
        2000 persist reserved ix100 agent 7
        2000 dial leg 1 -> agent 7
    "#]]);
    h.at(3_000).leg(1, LegEventKind::Ringing).leg(1, LegEventKind::Answered);
    h.check(expect![[r#"
        3000 persist agent connected ix100
        3000 bridge 1 4611686018427387904
        3000 persist bridged ix100
    "#]]);
    let phase = h.center.agent_snapshot(AgentId(7)).expect("agent").interactions[0].clone();
    assert_eq!((phase.phase, phase.caller.as_deref()), (Phase::Connected, Some("+15550001")));
    // The agent reaches a menu on the caller's side; another agent may not.
    let keys = |agent: u64| Input::SendDtmf {
        agent: AgentId(agent),
        interaction: domain::InteractionId(100),
        digits: "12#".into(),
    };
    assert!(h.center.handle_input(Timestamp::from_millis(h.now), keys(8)).is_err());
    h.input(keys(7));
    h.check(expect![[r#"
        3000 send keys 12# to leg 4611686018427387904
    "#]]);
    h.at(60_000).leg(CALLER_LEG.0, LegEventKind::HungUp { by_remote: true });
    h.check(expect![[r#"
        60000 hangup leg 1
        60000 persist ended ix100 completed
        60000 persist agent 7 wrap_up
    "#]]);
}

#[test]
fn menu_timeout_takes_the_default_queue_and_a_caller_who_gives_up_is_abandoned() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Auto), &[]);
    h.call_in(vec![route(vec![('1', QueueId(99))])]);
    h.at(8_000);
    h.check(expect![[r#"
        0 play leg 4611686018427387904 tts:en:For sales press 1 once
        8000 persist inbound ix100 queue 1 from +15550001
        8000 play leg 4611686018427387904 hold.wav looped
    "#]]);
    h.at(30_000).leg(CALLER_LEG.0, LegEventKind::HungUp { by_remote: true });
    h.check(expect![[r#"
        30000 persist ended ix100 abandoned
    "#]]);
    // A caller who hangs up during the greeting leaves nothing behind.
    h.call_in(vec![route(vec![('1', Q)])]);
    h.at(31_000).leg(CALLER_LEG.0, LegEventKind::HungUp { by_remote: true });
    h.at(60_000);
    h.check(expect![[r#"
        30000 play leg 4611686018427387904 tts:en:For sales press 1 once
    "#]]);
}

#[test]
fn a_live_caller_is_served_before_a_callback_that_waited_longer() {
    let mut h = Harness::new(policy(CallOrder::AgentFirst, AcceptMode::Auto), &[7]);
    h.input(Input::SetAgentStatus {
        agent: AgentId(7),
        status: AgentState::Break { reason: "lunch".into() },
    });
    h.callback(1, "+12025550147", 0);
    h.at(5_000).call_in(vec![route(vec![])]);
    h.log.clear();
    h.at(6_000).input(Input::SetAgentStatus { agent: AgentId(7), status: AgentState::Available });
    h.check(expect![[r#"
        6000 persist agent 7 available
        6000 persist reserved ix101 agent 7
        6000 dial leg 1 -> agent 7
    "#]]);
}
