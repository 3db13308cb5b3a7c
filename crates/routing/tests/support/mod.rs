//! Builders and helpers shared by the routing tests.
#![allow(dead_code)]

use domain::{AgentId, Channel, QueueId, SkillId, SkillLevel, TaskId, Timestamp};
use routing::{
    AgentProfile, AgentStatus, QueueConfig, Router, RouterConfig, RoutingEvent, Strategy, TaskSpec,
};

pub fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

pub fn skill(id: u32, level: i64) -> (SkillId, SkillLevel) {
    // Tests use levels within 1..=10.
    (SkillId(id), SkillLevel::new(level).expect("test level is valid"))
}

pub fn router(missed_offers_max: u32) -> Router {
    Router::new(RouterConfig { missed_offers_max })
}

/// Voice, LongestIdle, no skills, 10 s offers, no aging, no overflow, no wrap-up, depth 100.
pub fn queue(id: u64) -> QueueConfig {
    QueueConfig {
        id: QueueId(id),
        channel: Channel::Voice,
        strategy: Strategy::LongestIdle,
        skills: Vec::new(),
        department: None,
        offer_ms: 10_000,
        aging_ms_per_level: 0,
        overflow: Vec::new(),
        wrap_up_ms: 0,
        depth_max: 100,
    }
}

/// One voice line, no chat, no skills.
pub fn agent(id: u64, queues: &[u64]) -> AgentProfile {
    AgentProfile {
        id: AgentId(id),
        skills: Vec::new(),
        departments: Vec::new(),
        queues: queues.iter().map(|&q| QueueId(q)).collect(),
        capacity: [1, 0],
    }
}

pub fn task(id: u64, queue: u64, priority: i32) -> TaskSpec {
    TaskSpec { id: TaskId(id), queue: QueueId(queue), priority, skills: Vec::new() }
}

pub fn available(r: &mut Router, now: Timestamp, id: u64) {
    r.handle_agent_status(now, AgentId(id), AgentStatus::Available).expect("known agent");
}

pub fn drain(r: &mut Router) -> Vec<RoutingEvent> {
    std::iter::from_fn(|| r.poll_event()).collect()
}

/// One event per line, for snapshots.
pub fn show(events: &[RoutingEvent]) -> String {
    events.iter().map(|e| format!("{e:?}\n")).collect()
}

pub fn drain_show(r: &mut Router) -> String {
    let events = drain(r);
    r.check_invariants();
    show(&events)
}

/// Tasks offered in these events, in order.
pub fn offered(events: &[RoutingEvent]) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::Offered { task, agent, .. } => Some((task.0, agent.0)),
            _ => None,
        })
        .collect()
}

/// The open offer of a task, from the router's view.
pub fn offer_of(r: &Router, task: u64) -> domain::OfferId {
    match r.task(TaskId(task)).expect("task exists").state {
        routing::TaskState::Offered { offer, .. } => offer,
        other => panic!("task{task} is not offered but {other:?}"),
    }
}
