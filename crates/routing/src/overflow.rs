//! Overflow: steps applied to a task that has waited too long since it entered the router.
//!
//! A task's queue has its rules sorted by `after_ms`; one timer per waiting task points at the
//! next unapplied rule. Choices:
//! - Only waiting tasks overflow. The timer is disarmed while a task is offered; when the task
//!   waits again the timer is re-armed at the rule's original due time, so a rule that came due
//!   meanwhile applies at the next [`Router::handle_timeout`]. An assigned task never overflows.
//! - One step per task per `handle_timeout`: rules armed by a step (the next rule, or the new
//!   queue's rules after a move) apply at the next call even if already due. `upsert_queue`
//!   rejects MoveTo cycles, so a task moves at most once per queue.
//! - MoveTo into a full queue (depth) is skipped; the task stays and its next rule is armed.
//! - RelaxSkills lasts while the task stays in the queue; after a move the new queue's skills
//!   and the task's own apply again.

use domain::TaskId;

use crate::{OverflowAction, Router, RoutingEvent, TaskState};

impl Router {
    /// The task's overflow timer fired (it is waiting; the timer only exists then).
    pub(crate) fn apply_overflow(&mut self, id: TaskId) {
        let task = self.tasks.get_mut(&id).expect("overflow timers belong to live tasks");
        assert_eq!(task.state, TaskState::Waiting, "overflow timer of a task not waiting");
        assert!(task.overflow_due.take().is_some(), "overflow timer was recorded");
        let from = task.queue;
        let queue = self.queues.get(&from).expect("queues are never removed");
        // Armed only for an existing rule; a queue upsert clamps and re-arms waiting tasks.
        let action = queue.config.overflow.get(task.overflow_next).map(|r| r.action.clone());
        let action = action.unwrap_or_else(|| panic!("overflow timer of {id:?} past its rules"));
        task.overflow_next += 1;
        self.leave_waiting(id);
        match action {
            OverflowAction::RelaxSkills => {
                let task = self.tasks.get_mut(&id).expect("looked up above");
                if task.relaxed {
                    self.enter_waiting(id);
                    return;
                }
                task.relaxed = true;
                self.requeue_changed(id);
                self.push_event(RoutingEvent::SkillsRelaxed { task: id });
            }
            OverflowAction::MoveTo(to) => {
                let target = self.queues.get(&to);
                let room = target.is_some_and(|q| q.waiting() < q.config.depth_max);
                if !room || to == from {
                    self.enter_waiting(id);
                    return;
                }
                let task = self.tasks.get_mut(&id).expect("looked up above");
                task.queue = to;
                task.relaxed = false;
                task.overflow_next = 0;
                self.requeue_changed(id);
                self.push_event(RoutingEvent::Overflowed { task: id, from, to });
            }
        }
        self.mark_pending_task(id);
    }
}
