//! Scenario tests of outbound campaigns: inputs fed by hand with explicit time, outputs rendered
//! as a compact log and compared with snapshots (`UPDATE_EXPECT=1` refreshes them). Times in the
//! logs are milliseconds after Tuesday 2026-01-06 10:00 London (inside the legal window).

use chrono::TimeZone;
use chrono_tz::Europe::London;
use dialer::{
    AbandonRule, CallingWindow, DncList, PacingLimits, RetryDelays, RetryRules, RetrySpec,
};
use domain::campaign::{CampaignEvent, CampaignId, CampaignState, ContactId, ContactStatus};
use domain::event::{AgentState, EventKind};
use domain::telephony::{Endpoint, LegEvent, LegEventKind, MachineDetection, TelCommand};
use domain::{AgentId, CallbackId, Channel, LegId, PhoneNumber, QueueId, Timestamp};
use engine::{
    AcceptMode, CallOrder, CallbackPolicy, CallbackSpec, CampaignContact, CampaignInput,
    CampaignSetup, Center, CenterConfig, DialMode, FinalActions, Input, MachinePolicy, Output,
    QueueSetup,
};
use expect_test::{expect, Expect};
use proptest::prelude::*;
use routing::{AgentProfile, QueueConfig, RouterConfig, Strategy};

const Q: QueueId = QueueId(1);
const C: CampaignId = CampaignId(5);

fn base_ms() -> i64 {
    London.with_ymd_and_hms(2026, 1, 6, 10, 0, 0).single().expect("valid").timestamp_millis()
}

fn setup(mode: DialMode) -> CampaignSetup {
    let retry = RetrySpec {
        attempts_max: 2,
        delays: RetryDelays {
            no_answer_ms: 600_000,
            busy_ms: 300_000,
            machine_ms: 600_000,
            failed_ms: 600_000,
            abandoned_ms: 600_000,
        },
        final_outcomes: vec![],
        uk_abandon_hold: true,
    };
    CampaignSetup {
        id: C,
        queue: Q,
        mode,
        priority: 0,
        caller_id: None,
        limits: PacingLimits::new(2, 20_000).expect("limits"),
        retry: RetryRules::new(retry).expect("retry"),
        window: CallingWindow::legal_default(),
        abandon_rule: AbandonRule::Uk,
        cap: 0.03,
        message_ms: 10_000,
        menu: dialer::ready_template("parcel_waiting").expect("ready template").menu.to_vec(),
        on_machine: MachinePolicy::Retry,
        detect_machine: mode == DialMode::Robocall,
        actions: Vec::new(),
    }
}

struct Harness {
    center: Center,
    /// Milliseconds after `base_ms()`.
    now: i64,
    log: Vec<String>,
}

impl Harness {
    fn new(mode: DialMode, agents: &[u64]) -> Harness {
        let mut center = Center::new(CenterConfig {
            router: RouterConfig { missed_offers_max: 3 },
            first_interaction_id: 100,
            agent_ring_ms: 10_000,
        });
        let t = Timestamp::from_millis(base_ms());
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
        let callback = CallbackPolicy {
            order: CallOrder::AgentFirst,
            accept: AcceptMode::Auto,
            priority: 50,
            max_attempts: 1,
            retry_delays_ms: vec![60_000],
            customer_ring_ms: 30_000,
            caller_id: None,
            hours: None,
        };
        let q = QueueSetup { routing: queue, callback };
        center.handle_input(t, Input::UpsertQueue(Box::new(q))).expect("queue");
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
        let upsert =
            CampaignInput::Upsert { setup: Box::new(setup(mode)), state: CampaignState::Paused };
        center.handle_input(t, Input::Campaign(upsert)).expect("campaign");
        let mut h = Harness { center, now: 0, log: Vec::new() };
        h.drain();
        h.log.clear();
        h
    }

    fn time(&self) -> Timestamp {
        Timestamp::from_millis(base_ms() + self.now)
    }

    fn at(&mut self, ms: i64) -> &mut Self {
        self.now = ms;
        self.input(Input::Tick);
        self
    }

    fn input(&mut self, input: Input) {
        self.center.handle_input(self.time(), input).expect("input accepted");
        self.center.check_invariants();
        self.center.check_campaign_invariants();
        self.drain();
    }

    fn campaign(&mut self, input: CampaignInput) -> &mut Self {
        self.input(Input::Campaign(input));
        self
    }

    fn leg(&mut self, leg: u64, kind: LegEventKind) -> &mut Self {
        self.input(Input::Leg(LegEvent { leg: LegId(leg), kind }));
        self
    }

    fn contacts(&mut self, phones: &[&str]) -> &mut Self {
        self.contacts_from(1, phones)
    }

    fn contacts_from(&mut self, first: u64, phones: &[&str]) -> &mut Self {
        let contacts = phones
            .iter()
            .enumerate()
            .map(|(i, p)| CampaignContact {
                id: ContactId(i as u64 + first),
                phone: PhoneNumber::from_e164_trusted(p).expect("test phone"),
                tz: London,
                attempts: 0,
                due_at: self.time(),
            })
            .collect();
        self.campaign(CampaignInput::AddContacts { campaign: C, contacts })
    }

    fn key(&mut self, leg: u64, digit: char) -> &mut Self {
        self.input(Input::Dtmf { leg: LegId(leg), digit });
        self
    }

    fn drain(&mut self) {
        let base = base_ms();
        while let Some(out) = self.center.poll_output() {
            let line = match out {
                Output::Persist(e) => {
                    let Some(text) = describe(&e.kind, base) else { continue };
                    format!("{} {text}", e.at.as_millis() - base)
                }
                Output::Telephony(TelCommand::Originate {
                    leg,
                    to,
                    ring_ms_max,
                    detect_machine,
                    ..
                }) => {
                    let amd = match detect_machine {
                        MachineDetection::Off => "",
                        MachineDetection::Detect => " amd",
                        MachineDetection::DetectAwaitGreetingEnd => " amd-await-greeting-end",
                    };
                    let to = match to {
                        Endpoint::Agent(a) => format!("agent {}", a.0),
                        Endpoint::Number(n) => format!("{} ring {ring_ms_max}{amd}", n.as_str()),
                    };
                    format!("{} dial leg {} -> {to}", self.now, leg.0)
                }
                Output::Telephony(TelCommand::Hangup { leg }) => {
                    format!("{} hangup leg {}", self.now, leg.0)
                }
                Output::Telephony(TelCommand::Bridge { a, b }) => {
                    format!("{} bridge {} {}", self.now, a.0, b.0)
                }
                Output::Telephony(TelCommand::StopPlay { leg }) => {
                    format!("{} stop playing leg {}", self.now, leg.0)
                }
                Output::Telephony(_) | Output::Notify(_) => continue,
            };
            self.log.push(line);
        }
        while let Some(m) = self.center.poll_robocall_message() {
            let line =
                format!("{} message for contact {} on leg {}", self.now, m.contact.0, m.leg.0);
            self.log.push(line);
        }
    }

    fn check(&mut self, expected: Expect) {
        let text = if self.log.is_empty() { String::new() } else { self.log.join("\n") + "\n" };
        expected.assert_eq(&text);
        self.log.clear();
    }
}

/// Campaign events and the callback events that show who took an agent; agent status changes
/// are left out to keep the logs short.
fn describe(kind: &EventKind, base: i64) -> Option<String> {
    Some(match kind {
        EventKind::Campaign(e) => match e {
            CampaignEvent::StateChanged { state, .. } => format!("campaign {}", state.as_str()),
            CampaignEvent::ContactScheduled { contact, due_at, attempts, .. } => format!(
                "contact {} due {} attempts {attempts}",
                contact.0,
                due_at.as_millis() - base
            ),
            CampaignEvent::Dialed { contact, call, attempt, agent, .. } => format!(
                "dialed contact {} ix{} attempt {attempt} agent {:?}",
                contact.0,
                call.0,
                agent.map(|a| a.0)
            ),
            CampaignEvent::Answered { call } => format!("answered ix{}", call.0),
            CampaignEvent::Bridged { call, agent } => {
                format!("bridged ix{} agent {}", call.0, agent.0)
            }
            CampaignEvent::CallEnded { call, result } => {
                format!("ended ix{} {}", call.0, result.as_str())
            }
            CampaignEvent::ContactFinished { contact, status, .. } => {
                format!("contact {} {}", contact.0, status.as_str())
            }
            CampaignEvent::KeyPressed { call, digit, answer, .. } => {
                let answer = answer.map_or("-".to_string(), |a| a.label());
                format!("key {digit} ix{} answer {answer}", call.0)
            }
            CampaignEvent::MachineAnswered { call } => format!("machine ix{}", call.0),
            CampaignEvent::ContactLabeled { contact, label, .. } => {
                format!("contact {} label {label}", contact.0)
            }
            CampaignEvent::ActionQueued { contact, action, status, .. } => {
                format!("contact {} {} for {}", contact.0, action.as_str(), status.as_str())
            }
        },
        EventKind::AgentReserved { interaction, agent } => {
            format!("callback ix{} reserved agent {}", interaction.0, agent.0)
        }
        _ => return None,
    })
}

#[test]
fn progressive_dials_one_line_per_free_agent_and_bridges_on_answer() {
    let mut h = Harness::new(DialMode::Progressive, &[7, 8]);
    h.contacts(&["+447700900001", "+447700900002", "+447700900003"]);
    h.check(expect![""]);
    h.campaign(CampaignInput::Resume(C));
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 1 ix100 attempt 1 agent Some(7)
        0 dial leg 1 -> +447700900001 ring 20000
        0 dialed contact 2 ix101 attempt 1 agent Some(8)
        0 dial leg 2 -> +447700900002 ring 20000
    "#]]);
    h.now = 4_000;
    h.leg(1, LegEventKind::Answered);
    h.now = 4_800;
    h.leg(3, LegEventKind::Answered);
    h.check(expect![[r#"
        4000 answered ix100
        4000 dial leg 3 -> agent 7
        4800 bridge 3 1
        4800 bridged ix100 agent 7
    "#]]);
    let card = h.center.campaign_call_of(AgentId(7)).expect("agent 7 has the call");
    assert_eq!((card.contact, card.phase.as_str()), (ContactId(1), "bridged"));
    h.now = 60_000;
    h.leg(1, LegEventKind::HungUp { by_remote: true });
    h.check(expect![[r#"
        60000 hangup leg 3
        60000 ended ix100 answered
        60000 contact 1 reached
    "#]]);
    // Agent 8 ends its call from the console.
    h.leg(2, LegEventKind::Answered);
    h.leg(4, LegEventKind::Answered);
    let call = h.center.campaign_call_of(AgentId(8)).expect("agent 8 has the call").call;
    h.campaign(CampaignInput::Hangup { agent: AgentId(8), call });
    h.check(expect![[r#"
        60000 answered ix101
        60000 dial leg 4 -> agent 8
        60000 bridge 4 2
        60000 bridged ix101 agent 8
        60000 hangup leg 2
        60000 hangup leg 4
        60000 ended ix101 answered
        60000 contact 2 reached
    "#]]);
    // Agent 7 wraps up for the queue's 5 s, then takes the third contact.
    h.at(65_000);
    h.check(expect![[r#"
        65000 dialed contact 3 ix102 attempt 1 agent Some(7)
        65000 dial leg 5 -> +447700900003 ring 20000
    "#]]);
}

#[test]
fn a_waiting_callback_outranks_the_campaign_for_the_same_agent() {
    let mut h = Harness::new(DialMode::Progressive, &[7]);
    h.contacts(&["+447700900001"]);
    // The only agent is on a callback when the campaign starts.
    let phone = PhoneNumber::from_e164_trusted("+12025550147").expect("phone");
    let spec = |id| CallbackSpec {
        id: CallbackId(id),
        queue: Q,
        phone: phone.clone(),
        due_at: h_time(0),
        attempts: 0,
    };
    h.input(Input::CallbackAccepted(spec(1)));
    h.campaign(CampaignInput::Resume(C));
    // A second callback arrives while the agent is busy: it waits in the router.
    h.input(Input::CallbackAccepted(spec(2)));
    h.check(expect![[r#"
        0 callback ix100 reserved agent 7
        0 dial leg 1 -> agent 7
        0 campaign running
    "#]]);
    h.leg(1, LegEventKind::Failed);
    // The agent's phone failed: the freed agent goes to the waiting callback, not the campaign.
    h.check(expect![[r#"
        0 callback ix100 reserved agent 7
        0 dial leg 2 -> agent 7
    "#]]);
    assert!(h.center.campaign_call_of(AgentId(7)).is_none());
    assert_eq!(h.center.campaign_live(C).expect("campaign").open_contacts, 1);
}

fn h_time(ms: i64) -> Timestamp {
    Timestamp::from_millis(base_ms() + ms)
}

#[test]
fn an_answered_call_not_bridged_within_two_seconds_is_abandoned_and_held_72_hours() {
    let mut h = Harness::new(DialMode::Progressive, &[7]);
    h.contacts(&["+447700900001"]);
    h.campaign(CampaignInput::Resume(C));
    h.now = 3_000;
    h.leg(1, LegEventKind::Answered);
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 1 ix100 attempt 1 agent Some(7)
        0 dial leg 1 -> +447700900001 ring 20000
        3000 answered ix100
        3000 dial leg 2 -> agent 7
    "#]]);
    // The agent's phone does not answer: at 2 s the person is let go.
    h.at(4_999);
    h.check(expect![""]);
    h.at(5_000);
    h.check(expect![[r#"
        5000 hangup leg 1
        5000 hangup leg 2
        5000 ended ix100 abandoned
        5000 contact 1 due 259205000 attempts 1
    "#]]);
    // Retried no sooner than 72 h later (the UK hold), inside the window.
    assert_eq!(259_205_000, 72 * 3_600_000 + 5_000);
}

#[test]
fn predictive_answers_wait_for_an_agent_and_lose_theirs_to_a_callback() {
    let mut h = Harness::new(DialMode::Predictive, &[7]);
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    // No history yet: the cap guard allows progressive only, one dial for one idle agent.
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 1 ix100 attempt 1 agent None
        0 dial leg 1 -> +447700900001 ring 20000
    "#]]);
    let phone = PhoneNumber::from_e164_trusted("+12025550147").expect("phone");
    let cb = CallbackSpec { id: CallbackId(1), queue: Q, phone, due_at: h_time(0), attempts: 0 };
    h.input(Input::CallbackAccepted(cb));
    h.now = 1_000;
    h.leg(1, LegEventKind::Answered);
    h.at(3_000);
    h.check(expect![[r#"
        0 callback ix101 reserved agent 7
        0 dial leg 2 -> agent 7
        1000 answered ix100
        3000 hangup leg 1
        3000 ended ix100 abandoned
        3000 contact 1 due 259203000 attempts 1
    "#]]);
    assert_eq!(h.center.campaign_live(C).expect("campaign").outstanding, 0);
}

#[test]
fn dnc_and_the_calling_window_block_dials() {
    let mut h = Harness::new(DialMode::Robocall, &[]);
    h.campaign(CampaignInput::DncAdd {
        list: DncList::Global,
        number: PhoneNumber::from_e164_trusted("+447700900001").expect("phone"),
    });
    h.now = 12 * 3_600_000; // 22:00 London: the window is closed.
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    h.check(expect![[r#"
        43200000 campaign running
        43200000 contact 1 dnc
        43200000 contact 2 due 82800000 attempts 0
    "#]]);
    // 09:00 the next morning it is dialed.
    h.at(23 * 3_600_000);
    h.check(expect![[r#"
        82800000 dialed contact 2 ix100 attempt 1 agent None
        82800000 dial leg 1 -> +447700900002 ring 20000 amd
    "#]]);
}

#[test]
fn no_answer_retries_after_the_delay_then_fails_at_the_attempt_limit() {
    let mut h = Harness::new(DialMode::Robocall, &[]);
    h.contacts(&["+447700900009"]);
    h.campaign(CampaignInput::Resume(C));
    h.now = 20_000;
    h.leg(1, LegEventKind::NoAnswer);
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 1 ix100 attempt 1 agent None
        0 dial leg 1 -> +447700900009 ring 20000 amd
        20000 ended ix100 no_answer
        20000 contact 1 due 620000 attempts 1
    "#]]);
    h.at(620_000);
    h.now = 622_000;
    h.leg(2, LegEventKind::Busy);
    h.check(expect![[r#"
        620000 dialed contact 1 ix101 attempt 2 agent None
        620000 dial leg 2 -> +447700900009 ring 20000 amd
        622000 ended ix101 busy
        622000 contact 1 failed
        622000 campaign finished
    "#]]);
    // More contacts for a finished campaign: it can run again.
    h.contacts(&["+447700900005"]);
    h.campaign(CampaignInput::Resume(C));
    h.check(expect![[r#"
        622000 campaign running
        622000 dialed contact 1 ix102 attempt 1 agent None
        622000 dial leg 3 -> +447700900005 ring 20000 amd
    "#]]);
}

#[test]
fn robocall_delivers_on_answer_and_hands_the_message_to_the_shell() {
    let mut h = Harness::new(DialMode::Robocall, &[]);
    h.contacts(&["+447700900001", "+447700900002", "+447700900003"]);
    h.campaign(CampaignInput::Resume(C));
    h.now = 5_000;
    h.leg(1, LegEventKind::Answered);
    h.at(15_000);
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 1 ix100 attempt 1 agent None
        0 dial leg 1 -> +447700900001 ring 20000 amd
        0 dialed contact 2 ix101 attempt 1 agent None
        0 dial leg 2 -> +447700900002 ring 20000 amd
        5000 answered ix100
        5000 message for contact 1 on leg 1
        15000 hangup leg 1
        15000 ended ix100 delivered
        15000 contact 1 delivered
        15000 dialed contact 3 ix102 attempt 1 agent None
        15000 dial leg 3 -> +447700900003 ring 20000 amd
    "#]]);
}

#[test]
fn preview_shows_the_card_then_the_agent_dials_or_skips() {
    let mut h = Harness::new(DialMode::Preview, &[7]);
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    let card = h.center.campaign_call_of(AgentId(7)).expect("a card");
    assert_eq!((card.contact, card.phase.as_str()), (ContactId(1), "preview"));
    h.check(expect![[r#"
        0 campaign running
    "#]]);
    h.campaign(CampaignInput::PreviewSkip { agent: AgentId(7), call: card.call });
    let next = h.center.campaign_call_of(AgentId(7)).expect("the next card");
    assert_eq!(next.contact, ContactId(2));
    // Another agent cannot act on this card.
    let wrong = CampaignInput::PreviewDial { agent: AgentId(8), call: next.call };
    assert!(h.center.handle_input(h.time(), Input::Campaign(wrong)).is_err());
    h.campaign(CampaignInput::PreviewDial { agent: AgentId(7), call: next.call });
    h.check(expect![[r#"
        0 contact 1 skipped
        0 dialed contact 2 ix101 attempt 1 agent Some(7)
        0 dial leg 1 -> +447700900002 ring 20000
    "#]]);
}

#[test]
fn pause_holds_new_dials_and_stop_is_final() {
    let mut h = Harness::new(DialMode::Robocall, &[]);
    h.contacts(&["+447700900001", "+447700900002", "+447700900003"]);
    h.campaign(CampaignInput::Resume(C));
    h.campaign(CampaignInput::Pause(C));
    h.leg(1, LegEventKind::Busy);
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 1 ix100 attempt 1 agent None
        0 dial leg 1 -> +447700900001 ring 20000 amd
        0 dialed contact 2 ix101 attempt 1 agent None
        0 dial leg 2 -> +447700900002 ring 20000 amd
        0 campaign paused
        0 ended ix100 busy
        0 contact 1 due 300000 attempts 1
    "#]]);
    h.campaign(CampaignInput::Resume(C));
    h.campaign(CampaignInput::Stop(C));
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 3 ix102 attempt 1 agent None
        0 dial leg 3 -> +447700900003 ring 20000 amd
        0 campaign stopped
    "#]]);
    let again = Input::Campaign(CampaignInput::Resume(C));
    assert!(h.center.handle_input(h.time(), again).is_err(), "a stopped campaign stays stopped");
    let mut empty = Harness::new(DialMode::Robocall, &[]);
    let start = Input::Campaign(CampaignInput::Resume(C));
    assert!(empty.center.handle_input(empty.time(), start).is_err(), "nothing to call");
    h.at(400_000);
    h.check(expect![""]);
}

/// A seeded run of a predictive campaign against a random network: each dial resolves after a
/// random time as answered, busy or no answer; agents answer their phone at once and talk for
/// a random time. Returns (live answers, abandons) after every step.
fn predictive_run(seed: u64, agents: u64, contacts: u64) -> Vec<(u64, u64)> {
    let mut rng = seed;
    let mut next = move |n: u64| {
        // SplitMix64: deterministic per seed, no global randomness.
        rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    };
    let ids: Vec<u64> = (1..=agents).map(|a| a + 10).collect();
    let mut h = Harness::new(DialMode::Predictive, &ids);
    let mut s = setup(DialMode::Predictive);
    s.limits = PacingLimits::new(agents * 3, 20_000).expect("limits");
    s.retry = RetryRules::new(RetrySpec {
        attempts_max: 1,
        delays: RetryDelays {
            no_answer_ms: 60_000,
            busy_ms: 60_000,
            machine_ms: 60_000,
            failed_ms: 60_000,
            abandoned_ms: 60_000,
        },
        final_outcomes: vec![],
        uk_abandon_hold: false,
    })
    .expect("retry");
    s.abandon_rule = AbandonRule::Us;
    h.campaign(CampaignInput::Upsert { setup: Box::new(s), state: CampaignState::Paused });
    let phones: Vec<String> = (0..contacts).map(|i| format!("+4477009{i:05}")).collect();
    let refs: Vec<&str> = phones.iter().map(String::as_str).collect();
    h.contacts(&refs);
    h.campaign(CampaignInput::Resume(C));
    // Pending network events: (due ms, leg, kind).
    let mut pending: Vec<(i64, u64, LegEventKind)> = Vec::new();
    let (mut live, mut abandoned) = (0u64, 0u64);
    let mut seen = 0;
    let mut history = Vec::new();
    for _ in 0..4_000 {
        // Schedule the fate of every new leg.
        for line in &h.log[seen..] {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.get(1) == Some(&"dial") {
                let leg: u64 = words[3].parse().expect("leg id");
                if words[5] == "agent" {
                    pending.push((h.now, leg, LegEventKind::Answered));
                    let talk = 20_000 + next(120_000) as i64;
                    pending.push((h.now + talk, leg, LegEventKind::HungUp { by_remote: true }));
                } else {
                    let ring = 2_000 + next(18_000) as i64;
                    let fate = match next(10) {
                        0..=3 => LegEventKind::Answered,
                        4 => LegEventKind::Busy,
                        _ => LegEventKind::NoAnswer,
                    };
                    pending.push((h.now + ring, leg, fate));
                }
            }
            if words.get(1) == Some(&"bridged") {
                live += 1;
            }
            if words.get(1) == Some(&"ended") && words.get(3) == Some(&"abandoned") {
                live += 1;
                abandoned += 1;
            }
        }
        seen = h.log.len();
        history.push((live, abandoned));
        pending.sort_by_key(|(t, _, _)| *t);
        let wake = h.center.poll_timeout().map(|t| t.as_millis() - base_ms());
        let event_at = pending.first().map(|(t, _, _)| *t);
        match (event_at, wake) {
            (Some(e), Some(w)) if w < e => {
                h.at(w.max(h.now));
            }
            (Some(_), _) => {
                let (t, leg, kind) = pending.remove(0);
                h.now = t.max(h.now);
                h.leg(leg, kind);
            }
            (None, Some(w)) => {
                h.at(w.max(h.now));
            }
            (None, None) => break,
        };
    }
    history
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The cap guard's bound, seen from outside: abandons never exceed 3% of live answers.
    #[test]
    fn predictive_never_exceeds_the_abandon_cap(seed in any::<u64>(), agents in 1u64..6) {
        for (live, abandoned) in predictive_run(seed, agents, 300) {
            prop_assert!(abandoned as f64 <= 0.03 * live as f64, "{abandoned} of {live}");
        }
    }
}

#[test]
fn a_predictive_run_connects_calls() {
    let history = predictive_run(7, 4, 200);
    let (live, _) = history.last().copied().expect("steps");
    assert!(live > 20, "{live} live answers");
}

/// A seeded robocall campaign over two days against a random network, with some numbers on the
/// DNC list: checks every dial as the simulator's checkers do. Returns the dials made and those
/// made the next morning.
fn robocall_rules_run(seed: u64) -> (usize, usize) {
    let mut rng = seed;
    let mut next = move |n: u64| {
        rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    };
    let mut h = Harness::new(DialMode::Robocall, &[]);
    let phones: Vec<String> = (0..60).map(|i| format!("+4479111{i:05}")).collect();
    let dnc: Vec<&String> = phones.iter().filter(|_| next(5) == 0).collect();
    for p in &dnc {
        let number = PhoneNumber::from_e164_trusted(p).expect("phone");
        h.campaign(CampaignInput::DncAdd { list: DncList::Global, number });
    }
    let refs: Vec<&str> = phones.iter().map(String::as_str).collect();
    // 20:50 London: retries run into the closed window and move to the next morning.
    h.now = 39_000_000;
    h.contacts(&refs);
    h.campaign(CampaignInput::Resume(C));
    let mut pending: Vec<(i64, u64, LegEventKind)> = Vec::new();
    let mut dials: std::collections::HashMap<String, u32> = Default::default();
    let mut next_day = 0;
    let mut seen = 0;
    let mut total = 0;
    let horizon = 2 * 86_400_000;
    for _ in 0..3_000 {
        for line in &h.log[seen..] {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.get(1) != Some(&"dial") {
                continue;
            }
            let (at, leg, phone) = (words[0], words[3], words[5]);
            let at: i64 = at.parse().expect("time");
            total += 1;
            let n = dials.entry(phone.to_string()).or_default();
            *n += 1;
            assert!(*n <= 2, "{phone} dialed {n} times, beyond attempts_max");
            assert!(!dnc.iter().any(|d| d.as_str() == phone), "{phone} is on the DNC list");
            // 10:00 London plus `at`: the legal window is 09:00-21:00 every day.
            let hour = (10 + at / 3_600_000) % 24;
            assert!((9..21).contains(&hour), "{phone} dialed at {hour}:00");
            if at > 86_400_000 - 10 * 3_600_000 {
                next_day += 1;
            }
            let ring = 2_000 + next(30_000) as i64;
            let fate = match next(4) {
                0 => LegEventKind::Answered,
                1 => LegEventKind::Busy,
                _ => LegEventKind::NoAnswer,
            };
            // The network never rings past the campaign's no-answer timeout.
            let ring = if fate == LegEventKind::NoAnswer { 20_000 } else { ring.min(19_000) };
            pending.push((at + ring, leg.parse().expect("leg"), fate));
        }
        seen = h.log.len();
        pending.sort_by_key(|(t, _, _)| *t);
        let wake = h.center.poll_timeout().map(|t| t.as_millis() - base_ms());
        match (pending.first().map(|p| p.0), wake) {
            (Some(e), Some(w)) if w < e => {
                h.at(w.max(h.now));
            }
            (Some(_), _) => {
                let (t, leg, kind) = pending.remove(0);
                h.now = t.max(h.now);
                h.leg(leg, kind);
            }
            (None, Some(w)) if w < horizon => {
                h.at(w.max(h.now));
            }
            _ => break,
        }
    }
    (total, next_day)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// No number dialed beyond the attempts, none on the DNC list, none outside the window.
    #[test]
    fn robocall_dials_respect_attempts_dnc_and_the_window(seed in any::<u64>()) {
        let (total, next_day) = robocall_rules_run(seed);
        prop_assert!(total > 0 && next_day > 0, "{total} dials, {next_day} the next day");
    }
}

#[test]
fn robocall_keys_repeat_confirm_and_opt_out_by_the_template_menu() {
    let mut h = Harness::new(DialMode::Robocall, &[]);
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    h.log.clear();
    h.now = 3_000;
    h.leg(1, LegEventKind::Answered);
    // 5 is not in the menu: recorded, nothing else. 2 repeats the message (and its time).
    h.now = 6_000;
    h.key(1, '5').key(1, '2');
    h.at(15_000);
    h.check(expect![[r#"
        3000 answered ix100
        3000 message for contact 1 on leg 1
        6000 key 5 ix100 answer -
        6000 key 2 ix100 answer repeat
        6000 message for contact 1 on leg 1
    "#]]);
    // 1 confirms: the call ends at once and the contact is confirmed.
    h.now = 15_500;
    h.key(1, '1');
    h.check(expect![[r#"
        15500 key 1 ix100 answer confirm
        15500 hangup leg 1
        15500 ended ix100 delivered
        15500 contact 1 confirmed
    "#]]);
    // The second contact opts out with 9; keys on the gone leg change nothing.
    h.leg(2, LegEventKind::Answered);
    h.key(2, '9').key(2, '1');
    h.check(expect![[r#"
        15500 answered ix101
        15500 message for contact 2 on leg 2
        15500 key 9 ix101 answer opt_out
        15500 hangup leg 2
        15500 ended ix101 delivered
        15500 contact 2 opted_out
        15500 campaign finished
    "#]]);
    // The number is now on the campaign's DNC list: a new contact with it is never dialed.
    h.contacts_from(3, &["+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    h.check(expect![[r#"
        15500 campaign running
        15500 contact 3 dnc
        15500 campaign finished
    "#]]);
}

#[test]
fn a_survey_score_is_the_answer_and_keys_are_bounded() {
    let mut h = Harness::new(DialMode::Robocall, &[]);
    let mut s = setup(DialMode::Robocall);
    s.menu = dialer::ready_template("survey_ces").expect("survey").menu.to_vec();
    h.campaign(CampaignInput::Upsert { setup: Box::new(s), state: CampaignState::Paused });
    h.contacts(&["+447700900001"]);
    h.campaign(CampaignInput::Resume(C));
    h.log.clear();
    h.leg(1, LegEventKind::Answered);
    // Unknown keys up to the limit are recorded; beyond it they are ignored, even a score.
    for _ in 0..engine::KEYS_PER_CALL_MAX {
        h.key(1, '#');
    }
    h.key(1, '4');
    assert!(h.log.iter().all(|l| !l.contains("answer 4")), "{:#?}", h.log);
    assert_eq!(
        h.log.iter().filter(|l| l.contains("key #")).count(),
        engine::KEYS_PER_CALL_MAX as usize
    );
    let mut h = Harness::new(DialMode::Robocall, &[]);
    let mut s = setup(DialMode::Robocall);
    s.menu = dialer::ready_template("survey_ces").expect("survey").menu.to_vec();
    h.campaign(CampaignInput::Upsert { setup: Box::new(s), state: CampaignState::Paused });
    h.contacts(&["+447700900001"]);
    h.campaign(CampaignInput::Resume(C));
    h.log.clear();
    h.leg(1, LegEventKind::Answered);
    h.key(1, '4');
    h.check(expect![[r#"
        0 answered ix100
        0 message for contact 1 on leg 1
        0 key 4 ix100 answer 4
        0 hangup leg 1
        0 ended ix100 delivered
        0 contact 1 survey_answered
        0 campaign finished
    "#]]);
}

#[test]
fn a_robocall_listener_asking_for_an_agent_becomes_a_routed_task() {
    let mut h = Harness::new(DialMode::Robocall, &[7]);
    let on_break = AgentState::Break { reason: "lunch".into() };
    h.input(Input::SetAgentStatus { agent: AgentId(7), status: on_break });
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    h.log.clear();
    h.leg(1, LegEventKind::Answered);
    h.now = 4_000;
    h.key(1, '0');
    h.check(expect![[r#"
        0 answered ix100
        0 message for contact 1 on leg 1
        4000 key 0 ix100 answer agent
        4000 stop playing leg 1
    "#]]);
    assert_eq!(h.center.campaign_live(C).expect("campaign").waiting, 1);
    // No agent within the wait limit: the call ends, delivered, and is no abandon.
    h.at(4_000 + engine::AGENT_WAIT_MS_MAX as i64);
    h.check(expect![[r#"
        64000 hangup leg 1
        64000 ended ix100 delivered
        64000 contact 1 delivered
    "#]]);
    // The next listener asks for an agent; agent 7 comes back from the break and takes it.
    h.leg(2, LegEventKind::Answered);
    h.key(2, '0');
    h.input(Input::SetAgentStatus { agent: AgentId(7), status: AgentState::Available });
    h.now = 65_000;
    h.leg(3, LegEventKind::Answered);
    let card = h.center.campaign_call_of(AgentId(7)).expect("agent 7 has the call");
    assert_eq!((card.contact, card.phase.as_str()), (ContactId(2), "bridged"));
    h.now = 90_000;
    h.leg(2, LegEventKind::HungUp { by_remote: true });
    h.check(expect![[r#"
        64000 answered ix101
        64000 message for contact 2 on leg 2
        64000 key 0 ix101 answer agent
        64000 stop playing leg 2
        64000 dial leg 3 -> agent 7
        65000 bridge 3 2
        65000 bridged ix101 agent 7
        90000 hangup leg 3
        90000 ended ix101 answered
        90000 contact 2 reached
        90000 campaign finished
    "#]]);
}

#[test]
fn machines_are_retried_or_get_the_message_as_the_campaign_says() {
    // Retry: hung up at once, called again after the machine delay.
    let mut h = Harness::new(DialMode::Robocall, &[]);
    h.contacts(&["+447700900001"]);
    h.campaign(CampaignInput::Resume(C));
    h.log.clear();
    h.now = 4_000;
    h.leg(1, LegEventKind::MachineAnswered);
    h.key(1, '1');
    h.check(expect![[r#"
        4000 machine ix100
        4000 hangup leg 1
        4000 ended ix100 machine
        4000 contact 1 due 604000 attempts 1
    "#]]);
    // Leave a message: played to the machine, then hung up; the contact is final.
    let mut h = Harness::new(DialMode::Robocall, &[]);
    let mut s = setup(DialMode::Robocall);
    s.on_machine = MachinePolicy::LeaveMessage;
    h.campaign(CampaignInput::Upsert { setup: Box::new(s), state: CampaignState::Paused });
    h.contacts(&["+447700900001"]);
    h.campaign(CampaignInput::Resume(C));
    // The network is asked to report a machine only once its greeting is over.
    let dial = h.log.iter().find(|l| l.contains("dial leg 1")).cloned().unwrap_or_default();
    assert!(dial.ends_with("amd-await-greeting-end"), "{:?}", h.log);
    h.log.clear();
    h.now = 4_000;
    h.leg(1, LegEventKind::MachineAnswered);
    h.key(1, '9');
    h.at(14_000);
    h.check(expect![[r#"
        4000 machine ix100
        4000 message for contact 1 on leg 1
        14000 hangup leg 1
        14000 ended ix100 message_left
        14000 contact 1 message_left
        14000 campaign finished
    "#]]);
}

#[test]
fn a_machine_on_a_progressive_call_frees_the_agent_at_once() {
    let mut h = Harness::new(DialMode::Progressive, &[7]);
    let mut s = setup(DialMode::Progressive);
    s.on_machine = MachinePolicy::LeaveMessage;
    h.campaign(CampaignInput::Upsert { setup: Box::new(s), state: CampaignState::Paused });
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    h.now = 3_000;
    h.leg(1, LegEventKind::MachineAnswered);
    // The agent takes the next contact while the message is left on the machine.
    h.check(expect![[r#"
        0 campaign running
        0 dialed contact 1 ix100 attempt 1 agent Some(7)
        0 dial leg 1 -> +447700900001 ring 20000
        3000 machine ix100
        3000 dialed contact 2 ix101 attempt 1 agent Some(7)
        3000 dial leg 2 -> +447700900002 ring 20000
        3000 message for contact 1 on leg 1
    "#]]);
    assert_eq!(h.center.campaign_call_of(AgentId(7)).map(|c| c.contact), Some(ContactId(2)));
}

#[test]
fn a_hang_up_while_machine_detection_listens_is_retried_not_abandoned() {
    let mut h = Harness::new(DialMode::Progressive, &[7]);
    let mut s = setup(DialMode::Progressive);
    s.detect_machine = true;
    h.campaign(CampaignInput::Upsert { setup: Box::new(s), state: CampaignState::Paused });
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    h.log.clear();
    // The network answered but held the news for detection; the person hung up meanwhile.
    h.now = 3_000;
    h.leg(1, LegEventKind::HungUp { by_remote: true });
    // No UK 72 h hold (it was no abandon): due after the no-answer delay, and the held agent
    // takes the next contact at once.
    h.check(expect![[r#"
        3000 ended ix100 hung_up_early
        3000 contact 1 due 603000 attempts 1
        3000 dialed contact 2 ix101 attempt 1 agent Some(7)
        3000 dial leg 2 -> +447700900002 ring 20000 amd
    "#]]);
    // A ringing leg that fails is still a failure, not an early hang-up.
    h.now = 4_000;
    h.leg(2, LegEventKind::Failed);
    assert!(h.log.iter().any(|l| l == "4000 ended ix101 failed"), "{:?}", h.log);
}

#[test]
fn a_final_status_queues_its_label_and_actions_with_it() {
    let mut h = Harness::new(DialMode::Robocall, &[]);
    let mut s = setup(DialMode::Robocall);
    s.retry = RetryRules::new(RetrySpec {
        attempts_max: 1,
        delays: RetryDelays {
            no_answer_ms: 60_000,
            busy_ms: 60_000,
            machine_ms: 60_000,
            failed_ms: 60_000,
            abandoned_ms: 60_000,
        },
        final_outcomes: vec![],
        uk_abandon_hold: false,
    })
    .expect("retry");
    let unreachable = FinalActions { label: Some("unreachable".into()), sms: true, webhook: true };
    let confirmed = FinalActions { label: None, sms: false, webhook: true };
    s.actions = vec![(ContactStatus::NoAnswer, unreachable), (ContactStatus::Confirmed, confirmed)];
    h.campaign(CampaignInput::Upsert { setup: Box::new(s), state: CampaignState::Paused });
    h.contacts(&["+447700900009", "+447700900001", "+447700900000"]);
    h.campaign(CampaignInput::Resume(C));
    h.log.clear();
    h.now = 20_000;
    h.leg(1, LegEventKind::NoAnswer);
    h.leg(2, LegEventKind::Answered);
    h.key(2, '1');
    h.check(expect![[r#"
        20000 ended ix100 no_answer
        20000 contact 1 no_answer
        20000 contact 1 label unreachable
        20000 contact 1 sms for no_answer
        20000 contact 1 webhook for no_answer
        20000 dialed contact 3 ix102 attempt 1 agent None
        20000 dial leg 3 -> +447700900000 ring 20000 amd
        20000 answered ix101
        20000 message for contact 2 on leg 2
        20000 key 1 ix101 answer confirm
        20000 hangup leg 2
        20000 ended ix101 delivered
        20000 contact 2 confirmed
        20000 contact 2 webhook for confirmed
    "#]]);
    // A status without actions queues none.
    h.leg(3, LegEventKind::Busy);
    h.check(expect![[r#"
        20000 ended ix102 busy
        20000 contact 3 failed
        20000 campaign finished
    "#]]);
}

#[test]
fn a_campaign_conversation_awaits_the_disposition_which_ends_after_call_work() {
    let mut h = Harness::new(DialMode::Progressive, &[7]);
    h.contacts(&["+447700900001", "+447700900002"]);
    h.campaign(CampaignInput::Resume(C));
    h.leg(1, LegEventKind::Answered).leg(2, LegEventKind::Answered);
    let call = h.center.campaign_call_of(AgentId(7)).expect("a call").call;
    assert!(h.center.campaign_wrap_up_of(AgentId(7)).is_none(), "not while talking");
    h.now = 30_000;
    h.leg(1, LegEventKind::HungUp { by_remote: true });
    let wrap = h.center.campaign_wrap_up_of(AgentId(7)).expect("awaiting the disposition");
    assert_eq!((wrap.call, wrap.phase.as_str(), wrap.contact), (call, "wrap_up", ContactId(1)));
    // Another agent's disposition, or one for another call, is refused.
    let wrong = Input::Campaign(CampaignInput::WrapUpDone { agent: AgentId(8), call });
    assert!(h.center.handle_input(h.time(), wrong).is_err());
    h.log.clear();
    // The disposition ends the queue's 5 s of after-call work at once: the next contact.
    h.campaign(CampaignInput::WrapUpDone { agent: AgentId(7), call });
    h.check(expect![[r#"
        30000 dialed contact 2 ix101 attempt 1 agent Some(7)
        30000 dial leg 3 -> +447700900002 ring 20000
    "#]]);
    assert!(h.center.campaign_wrap_up_of(AgentId(7)).is_none());
    let again = Input::Campaign(CampaignInput::WrapUpDone { agent: AgentId(7), call });
    assert!(h.center.handle_input(h.time(), again).is_err(), "once");
}
