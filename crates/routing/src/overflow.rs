//! Overflow: steps applied to a task that has waited too long since it entered the router.
//!
//! A queue has its rules sorted by `after_ms`. A waiting task sits in the queue's stage for its
//! next unapplied rule; a stage is ordered by entry time, so its first task comes due first and
//! one timer per (queue, stage) is enough. Choices:
//! - Only waiting tasks overflow. An offered task is in no stage; when it waits again it goes
//!   back to its stage, so a rule that came due meanwhile applies at the next
//!   [`Router::handle_timeout`]. An assigned task never overflows.
//! - One step per task per `handle_timeout`: rules armed by a step (the next rule, or the new
//!   queue's rules after a move) apply at the next call even if already due. `upsert_queue`
//!   rejects MoveTo cycles, so a task moves at most once per queue.
//! - MoveTo into a full queue (depth) is skipped; the task stays and waits for its next rule.
//! - RelaxSkills lasts while the task stays in the queue; after a move the new queue's skills
//!   and the task's own apply again.

use domain::{QueueId, Timestamp};

use crate::task::Phase;
use crate::{OverflowAction, Router, RoutingEvent};

impl Router {
    /// The timer of a stage fired: every task of the stage that is due takes its step, except
    /// those that already took one during this call.
    pub(crate) fn overflow_stage_due(&mut self, now: Timestamp, queue: QueueId, stage: u8) {
        let stage = usize::from(stage);
        let queue_slot = self.queues.slot_of(&queue).expect("queues are never removed");
        let state = self.queues.at_mut(queue_slot);
        // The timer is consumed: whatever remains is re-armed below.
        state.stage_due[stage] = None;
        let after_ms = state.config.overflow[stage].after_ms;
        let mut due = std::mem::take(&mut self.scratch_slots);
        due.extend(
            state.stages[stage]
                .iter()
                .take_while(|(at, ..)| at.plus_ms(after_ms) <= now)
                .map(|&(.., slot)| slot),
        );
        // Re-armed once below, after the last step: nothing reads the stage's due time
        // meanwhile (matching waits for the end of the input).
        state.stepping = Some(stage);
        // Overflow steps remove no task, so the slots stay valid throughout.
        for &slot in &due {
            if !self.tasks.at(slot).stepped {
                self.apply_overflow(slot);
            }
        }
        due.clear();
        self.scratch_slots = due;
        let state = self.queues.at_mut(queue_slot);
        state.stepping = None;
        state.rearm_stage(stage, &mut self.timers);
        // The consumed timer was cleared above without telling the timers.
        state.publish_due(&mut self.timers);
    }

    /// Applies the next rule of a waiting task (by slot).
    fn apply_overflow(&mut self, slot: u32) {
        let task = self.tasks.at(slot);
        let id = task.id;
        assert_eq!(task.phase, Phase::Waiting, "a staged task waits");
        let queue = self.queues.at(task.queue_slot);
        let from = queue.config.id;
        let rule = queue.config.overflow.get(usize::from(task.stage));
        let action = rule.map(|r| r.action.clone());
        // A task is staged past the last rule only when no rule is left, and has no timer.
        let action = action.unwrap_or_else(|| panic!("{id:?} overflows past its queue's rules"));
        self.leave_waiting_at(slot);
        let task = self.tasks.at_mut(slot);
        task.stepped = true;
        self.stepped.push((slot, id));
        task.stage += 1;
        match action {
            OverflowAction::RelaxSkills => {
                if task.relaxed {
                    self.enter_waiting_at(slot);
                    return;
                }
                task.relaxed = true;
                self.requeue_changed(slot);
                self.push_event(RoutingEvent::SkillsRelaxed { task: id });
            }
            OverflowAction::MoveTo(to) => {
                let target = self.queues.slot_of(&to);
                let room = target.filter(|&slot| {
                    let q = self.queues.at(slot);
                    q.waiting() < q.config.depth_max
                });
                let Some(to_slot) = room.filter(|_| to != from) else {
                    self.enter_waiting_at(slot);
                    return;
                };
                task.queue_slot = to_slot;
                task.relaxed = false;
                task.stage = 0;
                self.requeue_changed(slot);
                self.push_event(RoutingEvent::Overflowed { task: id, from, to });
            }
        }
        self.mark_pending_task(slot);
    }
}
