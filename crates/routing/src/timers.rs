//! Timers in one ordered table keyed by (due time, what): offer expiry, end of after-call work,
//! next overflow step. The earliest is the router's next timeout.

use std::collections::BTreeSet;

use domain::{AgentId, OfferId, QueueId, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Timer {
    /// Ring-no-answer of an open offer.
    Offer(OfferId),
    /// After-call work ends; the agent becomes available.
    AfterCallWork(AgentId),
    /// The first task of a queue's overflow stage is due for the stage's rule.
    Overflow(QueueId, u8),
}

/// At most one timer per open offer, per agent and per (queue, overflow rule), checked by the
/// invariants: the table is bounded by configuration and open offers, not by waiting tasks.
#[derive(Default)]
pub(crate) struct Timers {
    set: BTreeSet<(Timestamp, Timer)>,
}

impl Timers {
    pub(crate) fn arm(&mut self, at: Timestamp, timer: Timer) {
        assert!(self.set.insert((at, timer)), "timer {timer:?} armed twice");
    }

    /// Returns whether it was armed.
    pub(crate) fn disarm(&mut self, at: Timestamp, timer: Timer) -> bool {
        self.set.remove(&(at, timer))
    }

    pub(crate) fn next(&self) -> Option<Timestamp> {
        self.set.first().map(|&(at, _)| at)
    }

    /// Appends every timer due at `now`, earliest first, without removing them.
    pub(crate) fn due(&self, now: Timestamp, out: &mut Vec<(Timestamp, Timer)>) {
        out.extend(self.set.iter().take_while(|(at, _)| *at <= now).copied());
    }

    pub(crate) fn contains(&self, at: Timestamp, timer: Timer) -> bool {
        self.set.contains(&(at, timer))
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }
}

impl crate::Router {
    /// Fires every timer due at `now` (offer expiry, end of after-call work, overflow steps),
    /// then matches. Timers armed while firing apply at the next call, even if already due.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.observe(now);
        self.timeout_epoch += 1;
        let mut due = std::mem::take(&mut self.scratch_timers);
        self.timers.due(now, &mut due);
        for &(at, timer) in &due {
            // An earlier timer of this batch may have cancelled it (a missed-offer break
            // revokes the agent's other offers).
            if !self.timers.disarm(at, timer) {
                continue;
            }
            match timer {
                Timer::Offer(offer) => self.offer_timed_out(offer),
                Timer::AfterCallWork(agent) => self.end_after_call_work(agent),
                Timer::Overflow(queue, stage) => self.overflow_stage_due(now, queue, stage),
            }
        }
        due.clear();
        self.scratch_timers = due;
        self.run_matching(now);
    }

    /// When to call [`crate::Router::handle_timeout`] next: the earliest timer, or right away
    /// (a time already passed) when `upsert_queue` left matching to do.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let next = self.timers.next();
        if self.has_pending_work() {
            return Some(next.map_or(self.last_now, |t| t.min(self.last_now)));
        }
        next
    }
}
