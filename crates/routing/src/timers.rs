//! Timers keyed by (due time, what): offer expiry, end of after-call work, next overflow step.
//! The earliest is the router's next timeout.
//!
//! Every decision arms an offer timer and most disarm it soon after, so offer expiries skip the
//! ordered table: offers made with one ring time expire in the order they were made (while
//! `now` does not go back), so each ring time gets a [`SortedDeque`] (a lane), pushed at the
//! back and mostly popped at the front. The other timers change far less often.

use std::collections::BTreeSet;

use domain::{AgentId, OfferId, QueueId, Timestamp};

use crate::sorted_deque::SortedDeque;

/// Ring times with a lane of their own; offers with other ring times go to the ordered table.
/// Bounds the lanes that `next` and `disarm` look at.
const OFFER_LANES_MAX: usize = 8;

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
    /// Offer expiries by ring time. Lanes are never dropped, so an offer whose ring time has a
    /// lane now had it when armed.
    offer_lanes: Vec<OfferLane>,
}

struct OfferLane {
    ring_ms: u64,
    expiries: SortedDeque<(Timestamp, OfferId)>,
}

impl Timers {
    pub(crate) fn arm(&mut self, at: Timestamp, timer: Timer) {
        assert!(self.set.insert((at, timer)), "timer {timer:?} armed twice");
    }

    /// Arms the expiry of an offer that rings `ring_ms`.
    pub(crate) fn arm_offer(&mut self, at: Timestamp, offer: OfferId, ring_ms: u64) {
        let lanes = self.offer_lanes.len();
        let lane = match self.offer_lanes.iter().position(|l| l.ring_ms == ring_ms) {
            Some(at) => Some(at),
            None if lanes < OFFER_LANES_MAX => {
                self.offer_lanes.push(OfferLane { ring_ms, expiries: SortedDeque::default() });
                Some(lanes)
            }
            None => None,
        };
        match lane {
            Some(lane) => {
                let armed = self.offer_lanes[lane].expiries.insert((at, offer));
                assert!(armed, "offer timer {offer:?} armed twice");
            }
            None => self.arm(at, Timer::Offer(offer)),
        }
    }

    /// Returns whether it was armed.
    pub(crate) fn disarm(&mut self, at: Timestamp, timer: Timer) -> bool {
        if let Timer::Offer(offer) = timer {
            let key = (at, offer);
            if self.offer_lanes.iter_mut().any(|lane| lane.expiries.remove(&key)) {
                return true;
            }
        }
        self.set.remove(&(at, timer))
    }

    pub(crate) fn next(&self) -> Option<Timestamp> {
        let lanes = self.offer_lanes.iter().filter_map(|l| l.expiries.first().map(|&(at, _)| at));
        lanes.chain(self.set.first().map(|&(at, _)| at)).min()
    }

    /// Appends every timer due at `now`, earliest first (by due time, then timer), without
    /// removing them.
    pub(crate) fn due(&self, now: Timestamp, out: &mut Vec<(Timestamp, Timer)>) {
        let start = out.len();
        out.extend(self.set.iter().take_while(|(at, _)| *at <= now).copied());
        let from_set = out.len();
        for lane in &self.offer_lanes {
            let due = lane.expiries.iter().take_while(|(at, _)| *at <= now);
            out.extend(due.map(|&(at, offer)| (at, Timer::Offer(offer))));
        }
        if out.len() > from_set {
            out[start..].sort_unstable();
        }
    }

    pub(crate) fn contains(&self, at: Timestamp, timer: Timer) -> bool {
        let in_lane = |offer| self.offer_lanes.iter().any(|l| l.expiries.contains(&(at, offer)));
        self.set.contains(&(at, timer)) || matches!(timer, Timer::Offer(o) if in_lane(o))
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len() + self.offer_lanes.iter().map(|l| l.expiries.len()).sum::<usize>()
    }

    /// Asserts the representation of the lanes: distinct ring times, each lane sound.
    pub(crate) fn check(&self) {
        assert!(self.offer_lanes.len() <= OFFER_LANES_MAX, "too many offer lanes");
        for (i, lane) in self.offer_lanes.iter().enumerate() {
            lane.expiries.check();
            let twice = self.offer_lanes[..i].iter().any(|l| l.ring_ms == lane.ring_ms);
            assert!(!twice, "two offer lanes for {} ms", lane.ring_ms);
        }
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
