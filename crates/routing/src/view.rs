//! What callers may read: agent status, task state, and the getters.

use domain::{AgentId, Channel, OfferId, QueueId, TaskId, Timestamp};

use crate::Router;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentStatus {
    Offline,
    Available,
    Break {
        reason: String,
    },
    /// Wrap-up after a task; becomes Available at `until` unless changed before.
    AfterCallWork {
        until: Timestamp,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    Waiting,
    Offered { agent: AgentId, offer: OfferId },
    Assigned { agent: AgentId },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskView {
    pub id: TaskId,
    pub queue: QueueId,
    pub state: TaskState,
    pub priority: i32,
    pub entered_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentView {
    pub id: AgentId,
    pub status: AgentStatus,
    /// Tasks held (offered or assigned) per channel.
    pub load: [u32; Channel::COUNT],
    pub capacity: [u32; Channel::COUNT],
    /// When the agent last became free on each channel.
    pub idle_since: [Timestamp; Channel::COUNT],
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueueSnapshot {
    pub waiting: usize,
    pub offered: usize,
    pub assigned: usize,
    /// Entry time of the longest-waiting task still waiting.
    pub oldest_waiting_since: Option<Timestamp>,
    /// Member agents with spare capacity on the queue's channel and status Available.
    pub agents_free: usize,
}

impl Router {
    pub fn task(&self, task: TaskId) -> Option<TaskView> {
        let t = self.tasks.get(&task)?;
        Some(TaskView {
            id: t.id,
            queue: self.queues.at(t.queue_slot).config.id,
            state: self.task_state(t.slot),
            priority: t.priority,
            entered_at: t.entered_at,
        })
    }

    pub fn agent(&self, agent: AgentId) -> Option<AgentView> {
        let a = self.agents.get(&agent)?;
        Some(AgentView {
            id: a.id,
            status: a.status.clone(),
            load: a.load,
            capacity: a.capacity,
            idle_since: a.idle_since,
        })
    }

    /// Counters of one queue. `agents_free` counts members in the queue's department, if it
    /// has one, whatever their skills.
    pub fn queue_snapshot(&self, queue: QueueId) -> Option<QueueSnapshot> {
        let q = self.queues.get(&queue)?;
        Some(QueueSnapshot {
            waiting: q.waiting(),
            offered: q.offered,
            assigned: q.assigned,
            oldest_waiting_since: q.oldest_waiting(),
            agents_free: q.free.len(),
        })
    }
}
