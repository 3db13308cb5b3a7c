//! Inputs that configure the router: router-wide settings, queues, agent profiles, task specs.

use domain::{AgentId, Channel, DepartmentId, QueueId, SkillId, SkillLevel, TaskId};

/// Router-wide settings.
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// After this many consecutive missed offers (rejected or timed out) an agent is put on
    /// break with reason [`MISSED_OFFERS_REASON`]. Zero disables the rule.
    pub missed_offers_max: u32,
}

/// Break reason set by the router after too many missed offers.
pub const MISSED_OFFERS_REASON: &str = "missed offers";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The free agent who has been idle longest on the queue's channel.
    LongestIdle,
    /// The free agent with the highest level in the queue's skills (sum), then longest idle.
    BestSkill,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverflowAction {
    /// Move the task to another queue, keeping its priority and its original enqueue time.
    MoveTo(QueueId),
    /// Drop the queue's and the task's skill requirements: any member agent may take it.
    RelaxSkills,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverflowRule {
    /// Measured from the moment the task entered the router (not the current queue).
    pub after_ms: u64,
    pub action: OverflowAction,
}

#[derive(Clone, Debug)]
pub struct QueueConfig {
    pub id: QueueId,
    pub channel: Channel,
    pub strategy: Strategy,
    /// Minimum levels every task in this queue requires.
    pub skills: Vec<(SkillId, SkillLevel)>,
    /// If set, only agents of this department serve the queue.
    pub department: Option<DepartmentId>,
    /// Ring-no-answer: an offer not accepted within this time times out.
    pub offer_ms: u64,
    /// Waiting this long raises a task's effective priority by one level, so low priorities
    /// never starve. Zero disables aging.
    pub aging_ms_per_level: u64,
    /// Applied in order of `after_ms`.
    pub overflow: Vec<OverflowRule>,
    /// After-call work given to an agent when a voice task of this queue is released.
    pub wrap_up_ms: u64,
    /// Waiting tasks at most; enqueue beyond is refused.
    pub depth_max: usize,
}

#[derive(Clone, Debug)]
pub struct AgentProfile {
    pub id: AgentId,
    pub skills: Vec<(SkillId, SkillLevel)>,
    pub departments: Vec<DepartmentId>,
    /// Queues the agent serves.
    pub queues: Vec<QueueId>,
    /// Concurrent tasks per channel, indexed by [`Channel::index`]. Zero: not on that channel.
    pub capacity: [u32; Channel::COUNT],
}

#[derive(Clone, Debug)]
pub struct TaskSpec {
    pub id: TaskId,
    pub queue: QueueId,
    /// Higher is more urgent.
    pub priority: i32,
    /// Extra minimum levels for this task, on top of the queue's.
    pub skills: Vec<(SkillId, SkillLevel)>,
}
