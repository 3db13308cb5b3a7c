//! Matching waiting tasks with free agents, run at the end of every input.
//!
//! Each input records pending work: tasks that became waiting (new, returned, moved, relaxed)
//! and agents that gained capacity or eligibility. Matching then restores the matching
//! invariant (see [`Router`]) in three steps:
//!
//! 1. Each pending task, best first, looks for a free eligible agent that has not missed it,
//!    in its queue's strategy order (the queue's free index).
//! 2. Agents that missed a still-waiting pending task and are free join the pending agents.
//! 3. Each pending agent repeatedly takes the best head among the partitions it may serve.
//!    The task goes to the agent its queue's strategy prefers among the free ones (usually
//!    this one; another if this one missed it or, in a batch, another freed agent ranks first).
//!
//! Fast path: with one pending agent and no pending task (a release, an accept, the end of
//! after-call work) no other agent can take anything, so the agent takes heads directly and
//! no free index is touched until the end.
//!
//! Cost: step 3 looks at one head per (served queue, signature), both bounded by limits. Step
//! 1 scans the queue's free index in strategy order until the first agent with the skills. It
//! is a full scan at worst, but it runs only for the first task of a signature in a queue (a
//! task joining a non-empty partition skips it, by the invariant), so the scan is paid once
//! per signature that finds no agent, not once per task.

use domain::{AgentId, TaskId, Timestamp};

use crate::aging::Precedence;
use crate::{Router, TaskState};

impl Router {
    pub(crate) fn run_matching(&mut self, now: Timestamp) {
        let mut tasks = std::mem::take(&mut self.pending_tasks);
        let mut agents = std::mem::take(&mut self.pending_agents);
        tasks.retain(|id| match self.tasks.get_mut(id) {
            Some(task) => {
                task.pending = false;
                task.state == TaskState::Waiting
            }
            None => false,
        });
        for id in &agents {
            if let Some(agent) = self.agents.get_mut(id) {
                agent.pending = false;
            }
        }
        let fast = tasks.is_empty() && agents.len() == 1;
        if !fast {
            self.sync_touched();
        }
        if tasks.len() > 1 {
            tasks.sort_by(|a, b| {
                let (a, b) = (self.precedence(now, *a), self.precedence(now, *b));
                if a.before(&b) {
                    std::cmp::Ordering::Less
                } else if b.before(&a) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
        }
        for &task in &tasks {
            if let Some(agent) = self.select_agent(task, false) {
                self.make_offer(now, task, agent);
                self.sync_free(agent);
            }
        }
        for &task in &tasks {
            let Some(t) = self.tasks.get(&task) else {
                continue;
            };
            if t.state != TaskState::Waiting {
                continue;
            }
            for missed in t.missed.iter() {
                if !agents.contains(&missed) {
                    agents.push(missed);
                }
            }
        }
        for &agent in &agents {
            self.serve_agent(now, agent, fast);
        }
        self.sync_touched();
        assert!(!self.has_pending_work(), "matching created pending work");
        tasks.clear();
        agents.clear();
        self.pending_tasks = tasks;
        self.pending_agents = agents;
    }

    fn precedence(&self, now: Timestamp, id: TaskId) -> Precedence {
        let task = self.tasks.get(&id).expect("pending tasks were filtered to live ones");
        let queue = self.queues.get(&task.queue).expect("queues are never removed");
        let aging = queue.config.aging_ms_per_level;
        Precedence::at(now, task.priority, task.entered_at, aging, task.seq)
    }

    /// The free agent the task's queue prefers for it: the first in the free index with the
    /// task's skills, skipping agents that missed it unless `allow_missed` and nobody else.
    /// Requires synced free indexes.
    fn select_agent(&self, task_id: TaskId, allow_missed: bool) -> Option<AgentId> {
        let task = self.tasks.get(&task_id)?;
        if task.state != TaskState::Waiting {
            return None;
        }
        let queue = self.queues.get(&task.queue).expect("queues are never removed");
        let needed = self.sigs.reqs(task.sig);
        let mut fallback = None;
        for key in &queue.free {
            let agent = self.agents.get(&key.agent).expect("indexed agents exist");
            assert!(agent.free_for(&queue.config), "free index lists busy {:?}", key.agent);
            if !agent.satisfies(needed) {
                continue;
            }
            if !task.missed.contains(key.agent) {
                return Some(key.agent);
            }
            if allow_missed && fallback.is_none() {
                fallback = Some(key.agent);
            }
        }
        fallback
    }

    /// The best waiting task the agent may take now: the best head among the partitions of
    /// the queues it is free for whose signature it satisfies.
    fn best_head_for(&self, now: Timestamp, id: AgentId) -> Option<TaskId> {
        let agent = self.agents.get(&id)?;
        let mut best: Option<(Precedence, TaskId)> = None;
        for qid in &agent.queues {
            let queue = self.queues.get(qid).expect("agents list known queues");
            if !agent.free_for(&queue.config) {
                continue;
            }
            let aging = queue.config.aging_ms_per_level;
            for partition in &queue.partitions {
                let Some(head) = partition.tasks.first() else {
                    continue;
                };
                let prec = Precedence::at(now, head.priority, head.entered_at, aging, head.seq);
                if best.as_ref().is_some_and(|(b, _)| !prec.before(b)) {
                    continue;
                }
                if agent.satisfies(self.sigs.reqs(partition.sig)) {
                    best = Some((prec, head.task));
                }
            }
        }
        best.map(|(_, task)| task)
    }

    /// Lets a freed agent take work until it is full or nothing fits.
    fn serve_agent(&mut self, now: Timestamp, agent: AgentId, fast: bool) {
        while let Some(task) = self.best_head_for(now, agent) {
            if fast {
                self.make_offer(now, task, agent);
            } else {
                // The agent itself is in the index, so someone is always found.
                let chosen = self.select_agent(task, true).unwrap_or(agent);
                self.make_offer(now, task, chosen);
                self.sync_free(chosen);
            }
        }
    }
}
