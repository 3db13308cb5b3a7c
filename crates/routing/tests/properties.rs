//! Property tests: random operations keep every invariant; offer order follows the model.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use domain::{AgentId, Channel, OfferId, QueueId, TaskId, Timestamp};
use proptest::prelude::*;
use routing::{
    AgentProfile, AgentStatus, OverflowAction, OverflowRule, QueueConfig, Router, RouterConfig,
    RoutingError, RoutingEvent, Strategy as Pick, TaskSpec, TaskState,
};
use support::{skill, t};

const QUEUES: usize = 3;
const AGENTS: usize = 4;

#[derive(Clone, Debug)]
struct QueueGen {
    chat: bool,
    best_skill: bool,
    skill_level: Option<i64>,
    aging_ms: u64,
    offer_ms: u64,
    wrap_up_ms: u64,
    depth_max: usize,
    overflow_ms: Option<u64>,
}

#[derive(Clone, Debug)]
struct AgentGen {
    queues: Vec<bool>,
    levels: [i64; 2],
    capacity: [u32; 2],
}

#[derive(Clone, Debug)]
enum Op {
    Enqueue { queue: usize, priority: i32, skill: Option<i64> },
    Accept(usize),
    Reject(usize),
    Release(usize),
    Cancel(usize),
    Status { agent: usize, status: u8 },
    Profile { agent: usize, gen: AgentGen },
    Advance(u64),
}

fn queue_gen() -> impl Strategy<Value = QueueGen> {
    (
        (any::<bool>(), any::<bool>(), prop::option::of(1..=6i64)),
        (prop::sample::select(vec![0u64, 1_000, 7_000]), 1_000..5_000u64),
        (prop::sample::select(vec![0u64, 2_000]), 2..8usize, prop::option::of(1_000..20_000u64)),
    )
        .prop_map(
            |((chat, best_skill, skill_level), (aging_ms, offer_ms), (wrap, depth, over))| {
                QueueGen {
                    chat,
                    best_skill,
                    skill_level,
                    aging_ms,
                    offer_ms,
                    wrap_up_ms: wrap,
                    depth_max: depth,
                    overflow_ms: over,
                }
            },
        )
}

fn agent_gen() -> impl Strategy<Value = AgentGen> {
    (prop::collection::vec(any::<bool>(), QUEUES), [1..=10i64, 1..=10i64], [0..=2u32, 0..=3u32])
        .prop_map(|(queues, levels, capacity)| AgentGen { queues, levels, capacity })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..QUEUES, -2..3i32, prop::option::of(1..=8i64))
            .prop_map(|(queue, priority, skill)| Op::Enqueue { queue, priority, skill }),
        3 => any::<usize>().prop_map(Op::Accept),
        1 => any::<usize>().prop_map(Op::Reject),
        2 => any::<usize>().prop_map(Op::Release),
        1 => any::<usize>().prop_map(Op::Cancel),
        2 => (0..AGENTS, 0..6u8).prop_map(|(agent, status)| Op::Status { agent, status }),
        1 => (0..AGENTS, agent_gen()).prop_map(|(agent, gen)| Op::Profile { agent, gen }),
        3 => prop::sample::select(vec![1u64, 500, 1_000, 3_000, 10_000]).prop_map(Op::Advance),
    ]
}

fn queue_config(i: usize, g: &QueueGen) -> QueueConfig {
    // Queue 0 overflows into 1, queue 1 relaxes: the MoveTo graph stays acyclic.
    let overflow = match (i, g.overflow_ms) {
        (0, Some(ms)) => vec![
            OverflowRule { after_ms: ms, action: OverflowAction::MoveTo(QueueId(1)) },
            OverflowRule { after_ms: ms / 2, action: OverflowAction::RelaxSkills },
        ],
        (1, Some(ms)) => vec![OverflowRule { after_ms: ms, action: OverflowAction::RelaxSkills }],
        _ => Vec::new(),
    };
    QueueConfig {
        id: QueueId(i as u64),
        channel: if g.chat { Channel::Chat } else { Channel::Voice },
        strategy: if g.best_skill { Pick::BestSkill } else { Pick::LongestIdle },
        skills: g.skill_level.map(|l| skill(1, l)).into_iter().collect(),
        department: None,
        offer_ms: g.offer_ms,
        aging_ms_per_level: g.aging_ms,
        overflow,
        wrap_up_ms: g.wrap_up_ms,
        depth_max: g.depth_max,
    }
}

fn profile(i: usize, g: &AgentGen) -> AgentProfile {
    AgentProfile {
        id: AgentId(i as u64),
        skills: vec![skill(1, g.levels[0]), skill(2, g.levels[1])],
        departments: Vec::new(),
        queues: (0..QUEUES).filter(|&q| g.queues[q]).map(|q| QueueId(q as u64)).collect(),
        capacity: g.capacity,
    }
}

/// What the test knows from the outside: open offers from the events, live and ended tasks.
#[derive(Default)]
struct Model {
    open: BTreeMap<OfferId, (TaskId, AgentId)>,
    alive: BTreeSet<TaskId>,
    ended: BTreeSet<TaskId>,
    next_task: u64,
}

impl Model {
    fn absorb(&mut self, r: &mut Router) {
        while let Some(event) = r.poll_event() {
            match event {
                RoutingEvent::Offered { offer, task, agent, .. } => {
                    assert!(self.alive.contains(&task), "offer of a dead task {task:?}");
                    let twice = self.open.values().any(|(t, _)| *t == task);
                    assert!(!twice, "{task:?} offered to two agents");
                    assert!(self.open.insert(offer, (task, agent)).is_none(), "offer id reused");
                }
                RoutingEvent::OfferEnded { offer, task, agent, .. } => {
                    assert_eq!(self.open.remove(&offer), Some((task, agent)), "offer ends once");
                }
                RoutingEvent::Overflowed { task, .. } | RoutingEvent::SkillsRelaxed { task } => {
                    assert!(self.alive.contains(&task));
                }
                RoutingEvent::AgentStatusChanged { .. } => {}
            }
        }
    }

    fn end(&mut self, task: TaskId) {
        assert!(self.alive.remove(&task), "{task:?} ends once");
        assert!(self.ended.insert(task));
    }

    fn check(&self, r: &Router) {
        r.check_invariants();
        for &task in &self.alive {
            let state = r.task(task).expect("live task is known").state;
            let offered = self.open.values().find(|(t, _)| *t == task).map(|&(_, a)| a);
            match state {
                TaskState::Offered { agent, .. } => assert_eq!(offered, Some(agent)),
                _ => assert_eq!(offered, None, "{task:?} is {state:?} but has an open offer"),
            }
        }
        for &task in &self.ended {
            assert!(r.task(task).is_none(), "ended {task:?} still known");
        }
        assert_eq!(r.task_count(), self.alive.len());
        for a in 0..AGENTS {
            let view = r.agent(AgentId(a as u64)).expect("agent exists");
            for ch in 0..2 {
                assert!(view.load[ch] <= view.capacity[ch], "agent over capacity");
            }
        }
    }

    fn assigned(&self, r: &Router) -> Vec<TaskId> {
        let is_assigned = |t: &&TaskId| {
            r.task(**t).is_some_and(|v| matches!(v.state, TaskState::Assigned { .. }))
        };
        self.alive.iter().filter(is_assigned).copied().collect()
    }
}

/// 256 cases keep the suite at a fraction of a second; failures print their minimal input.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

fn pick<T: Copy>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()])
}

fn run(missed_max: u32, queues: &[QueueGen], agents: &[AgentGen], ops: &[Op]) {
    let mut r = Router::new(RouterConfig { missed_offers_max: missed_max });
    let mut m = Model::default();
    let mut now = 0i64;
    // Queue 1 first: queue 0 overflows into it.
    for i in [1, 0, 2] {
        r.upsert_queue(queue_config(i, &queues[i])).expect("valid queue");
    }
    for (i, g) in agents.iter().enumerate() {
        r.upsert_agent(t(now), profile(i, g)).expect("valid agent");
    }
    for op in ops {
        let at = t(now);
        match op {
            Op::Enqueue { queue, priority, skill: level } => {
                let id = TaskId(m.next_task);
                m.next_task += 1;
                let skills = level.map(|l| skill(2, l)).into_iter().collect();
                let spec =
                    TaskSpec { id, queue: QueueId(*queue as u64), priority: *priority, skills };
                match r.handle_enqueue(at, spec) {
                    Ok(()) => {
                        m.alive.insert(id);
                    }
                    Err(RoutingError::QueueFull(_)) => {}
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            Op::Accept(i) | Op::Reject(i) => {
                let offers: Vec<OfferId> = m.open.keys().copied().collect();
                if let Some(offer) = pick(&offers, *i) {
                    let result = match op {
                        Op::Accept(_) => r.handle_accept(at, offer),
                        _ => r.handle_reject(at, offer),
                    };
                    result.expect("open offer");
                }
            }
            Op::Release(i) => {
                if let Some(task) = pick(&m.assigned(&r), *i) {
                    r.handle_release(at, task).expect("assigned task");
                    m.end(task);
                    assert_eq!(r.handle_release(at, task), Err(RoutingError::UnknownTask(task)));
                }
            }
            Op::Cancel(i) => {
                let alive: Vec<TaskId> = m.alive.iter().copied().collect();
                if let Some(task) = pick(&alive, *i) {
                    r.handle_cancel(at, task).expect("live task");
                    m.end(task);
                    assert_eq!(r.handle_cancel(at, task), Err(RoutingError::UnknownTask(task)));
                }
            }
            Op::Status { agent, status } => {
                let status = match status {
                    0 => AgentStatus::Offline,
                    1 => AgentStatus::Break { reason: "coffee".into() },
                    2 => AgentStatus::AfterCallWork { until: at.plus_ms(1_500) },
                    _ => AgentStatus::Available,
                };
                r.handle_agent_status(at, AgentId(*agent as u64), status).expect("known agent");
            }
            Op::Profile { agent, gen } => {
                // Refused only when the new capacity is below the current load.
                let _ = r.upsert_agent(at, profile(*agent, gen));
            }
            Op::Advance(ms) => {
                now += *ms as i64;
                let at = t(now);
                // Timers may be due in the past (a missed overflow step): fire until idle.
                let mut rounds = 0;
                while r.poll_timeout().is_some_and(|due| due <= at) {
                    r.handle_timeout(at);
                    m.absorb(&mut r);
                    rounds += 1;
                    assert!(rounds < 100, "timeouts keep coming due");
                }
            }
        }
        m.absorb(&mut r);
        m.check(&r);
    }
    // Every task ends exactly once.
    for task in m.alive.clone() {
        r.handle_cancel(t(now), task).expect("live task");
        m.end(task);
        m.absorb(&mut r);
    }
    m.check(&r);
    assert!(m.open.is_empty(), "offers left open");
    for q in 0..QUEUES {
        let snapshot = r.queue_snapshot(QueueId(q as u64)).expect("queue exists");
        assert_eq!((snapshot.waiting, snapshot.offered, snapshot.assigned), (0, 0, 0));
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_operations_keep_every_invariant(
        missed_max in 0..4u32,
        queues in prop::collection::vec(queue_gen(), QUEUES),
        agents in prop::collection::vec(agent_gen(), AGENTS),
        ops in prop::collection::vec(op(), 1..120),
    ) {
        run(missed_max, &queues, &agents, &ops);
    }
}

/// One agent serving the given queues: tasks enqueued while it is offline, then served one
/// by one, releasing after `gaps[i]` ms. Returns (order served, order the model predicts).
fn serve_order(aging: &[u64], tasks: &[(usize, i32, u64)], gaps: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let mut r = Router::new(RouterConfig { missed_offers_max: 0 });
    for (q, &ms) in aging.iter().enumerate() {
        let mut config = support::queue(q as u64);
        config.aging_ms_per_level = ms;
        r.upsert_queue(config).expect("valid queue");
    }
    let queues: Vec<u64> = (0..aging.len() as u64).collect();
    r.upsert_agent(t(0), support::agent(1, &queues)).expect("valid agent");
    let mut now = 0i64;
    // Model entries: (id, queue, priority, entered_at).
    let mut waiting: Vec<(u64, usize, i32, i64)> = Vec::new();
    for (id, &(queue, priority, gap)) in tasks.iter().enumerate() {
        now += gap as i64;
        r.handle_enqueue(t(now), support::task(id as u64, queue as u64, priority)).expect("room");
        waiting.push((id as u64, queue, priority, now));
    }
    let mut served = Vec::new();
    let mut predicted = Vec::new();
    support::available(&mut r, t(now), 1);
    let mut gaps = gaps.iter().cycle();
    while !waiting.is_empty() {
        // Model: the largest effective priority at `now`, exactly, then older, then first in.
        let best = (0..waiting.len())
            .max_by(|&a, &b| {
                let key = |(id, q, p, at): (u64, usize, i32, i64)| {
                    let r = aging[q] as i128;
                    let lcm = aging.iter().filter(|&&a| a > 0).product::<u64>().max(1) as i128;
                    // Effective priority scaled by the product of all aging steps.
                    let eff = if r == 0 {
                        p as i128 * lcm
                    } else {
                        (p as i128 * r + (now - at) as i128) * (lcm / r)
                    };
                    (eff, -(at as i128), -(id as i128))
                };
                key(waiting[a]).cmp(&key(waiting[b]))
            })
            .expect("non-empty");
        predicted.push(waiting.remove(best).0);
        let events = support::drain(&mut r);
        let offers = support::offered(&events);
        assert_eq!(offers.len(), 1, "one offer per free slot: {events:?}");
        let task = offers[0].0;
        served.push(task);
        r.handle_accept(t(now), support::offer_of(&r, task)).expect("open offer");
        now += *gaps.next().expect("cycle of a non-empty list") as i64;
        r.handle_release(t(now), TaskId(task)).expect("assigned");
        r.check_invariants();
    }
    (served, predicted)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn higher_priority_is_served_first(
        tasks in prop::collection::vec((Just(0usize), -3..4i32, 0..50u64), 1..30),
    ) {
        let (served, predicted) = serve_order(&[0], &tasks, &[10]);
        prop_assert_eq!(served, predicted);
    }

    #[test]
    fn fifo_within_a_priority(gaps in prop::collection::vec(0..3u64, 1..30)) {
        let tasks: Vec<(usize, i32, u64)> = gaps.iter().map(|&g| (0, 1, g)).collect();
        let (served, _) = serve_order(&[0], &tasks, &[10]);
        prop_assert_eq!(served, (0..tasks.len() as u64).collect::<Vec<_>>());
    }

    #[test]
    fn aging_order_matches_the_model(
        aging in prop::sample::select(vec![1u64, 250, 1_000, 7_000]),
        tasks in prop::collection::vec((Just(0usize), -3..4i32, 0..5_000u64), 1..30),
        release_gaps in prop::collection::vec(0..5_000u64, 1..5),
    ) {
        let (served, predicted) = serve_order(&[aging], &tasks, &release_gaps);
        prop_assert_eq!(served, predicted);
    }

    #[test]
    fn across_queues_the_effective_priority_at_decision_time_wins(
        aging in (prop::sample::select(vec![0u64, 500, 2_000]),
                  prop::sample::select(vec![0u64, 1_000, 3_000])),
        tasks in prop::collection::vec((0..2usize, -3..4i32, 0..3_000u64), 1..30),
        release_gaps in prop::collection::vec(0..6_000u64, 1..5),
    ) {
        let (served, predicted) = serve_order(&[aging.0, aging.1], &tasks, &release_gaps);
        prop_assert_eq!(served, predicted);
    }
}

#[test]
fn timestamps_far_apart_do_not_overflow() {
    let mut r = Router::new(RouterConfig { missed_offers_max: 0 });
    let mut q = support::queue(0);
    q.aging_ms_per_level = routing::limits::AGING_MS_PER_LEVEL_MAX;
    r.upsert_queue(q).expect("valid queue");
    r.upsert_agent(Timestamp::MAX, support::agent(1, &[0])).expect("valid agent");
    r.handle_enqueue(t(i64::MIN), support::task(1, 0, i32::MAX)).expect("room");
    r.handle_enqueue(Timestamp::MAX, support::task(2, 0, i32::MIN)).expect("room");
    support::available(&mut r, Timestamp::MAX, 1);
    assert_eq!(support::offered(&support::drain(&mut r)), vec![(1, 1)]);
    r.check_invariants();
}
