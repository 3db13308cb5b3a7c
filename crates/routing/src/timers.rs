//! Timers keyed by (due time, what): offer expiry, end of after-call work, next overflow step.
//! The earliest is the router's next timeout.
//!
//! Every decision arms an offer timer and most disarm it soon after, so offer expiries skip the
//! ordered table: offers made with one ring time expire in the order they were made (while
//! `now` does not go back), so each ring time gets a [`SortedDeque`] (a lane), pushed at the
//! back and mostly popped at the front.
//!
//! Overflow stage timers move on most decisions too (the first task of a stage is offered or
//! takes its step), so they skip the ordered table as well: each queue keeps its stages' due
//! times (`QueueState::stage_due`) and publishes the earliest here, into a min-tree over queue
//! slots ([`QueueDues`]). A re-arm updates one leaf and its ancestors; the next timeout is the
//! root. End of after-call work changes far less often and stays in the table.

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
    /// The first task of a queue's overflow stage is due for the stage's rule. Armed through
    /// [`Timers::set_queue_due`], not [`Timers::arm`].
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
    /// Earliest overflow stage due time of each queue, by slot.
    queue_dues: QueueDues,
}

/// A min-tree over queue slots: `tree[1]` is the root, leaf `slot` is `tree[width + slot]`, and
/// each inner node holds the earlier of its children. Nodes hold raw milliseconds with
/// [`NOTHING_DUE`] for "nothing due", so that a node costs one compare and no branches on
/// `Option`. That value is also a real time; `leaves` keeps the exact due times, and `at_max`
/// counts leaves due at that very time.
#[derive(Default)]
struct QueueDues {
    tree: Vec<i64>,
    leaves: Vec<Option<Timestamp>>,
    at_max: usize,
    /// Leaves, a power of two (zero before the first queue).
    width: usize,
}

const NOTHING_DUE: i64 = i64::MAX;

fn raw(due: Option<Timestamp>) -> i64 {
    due.map_or(NOTHING_DUE, Timestamp::as_millis)
}

impl QueueDues {
    fn get(&self, slot: usize) -> Option<Timestamp> {
        self.leaves.get(slot).copied().flatten()
    }

    fn set(&mut self, slot: usize, due: Option<Timestamp>) {
        if slot >= self.width {
            if due.is_none() {
                return;
            }
            self.grow(slot + 1);
        }
        let old = std::mem::replace(&mut self.leaves[slot], due);
        if old == due {
            return;
        }
        let max = Some(Timestamp::from_millis(NOTHING_DUE));
        self.at_max = self.at_max + usize::from(due == max) - usize::from(old == max);
        let mut at = self.width + slot;
        let value = raw(due);
        if self.tree[at] == value {
            return;
        }
        self.tree[at] = value;
        while at > 1 {
            at /= 2;
            let value = self.tree[2 * at].min(self.tree[2 * at + 1]);
            if self.tree[at] == value {
                // Ancestors depend on this node only through its value.
                break;
            }
            self.tree[at] = value;
        }
    }

    /// Makes room for `slots` leaves, keeping the present ones.
    fn grow(&mut self, slots: usize) {
        let width = slots.next_power_of_two();
        self.leaves.resize(width, None);
        let mut tree = vec![NOTHING_DUE; 2 * width];
        for (slot, &due) in self.leaves.iter().enumerate() {
            tree[width + slot] = raw(due);
        }
        for at in (1..width).rev() {
            tree[at] = tree[2 * at].min(tree[2 * at + 1]);
        }
        self.tree = tree;
        self.width = width;
    }

    fn first(&self) -> Option<Timestamp> {
        match self.tree.get(1) {
            Some(&root) if root < NOTHING_DUE => Some(Timestamp::from_millis(root)),
            _ => (self.at_max > 0).then_some(Timestamp::from_millis(NOTHING_DUE)),
        }
    }

    /// Appends the slots whose earliest due time is at or before `now`.
    fn due(&self, now: Timestamp, out: &mut Vec<u32>) {
        if self.first().is_none_or(|t| t > now) {
            return;
        }
        // Depth first, left to right, without a stack: after a subtree, climb past right
        // children and step to the right sibling; climbing past the root ends the walk.
        let (now_ms, leaves) = (now.as_millis(), self.width);
        let mut at = 1;
        loop {
            if self.tree[at] <= now_ms {
                if at < leaves {
                    at *= 2;
                    continue;
                }
                if self.leaves[at - leaves].is_some_and(|t| t <= now) {
                    // Slots are bounded by QUEUES_MAX, far below u32::MAX.
                    out.push(u32::try_from(at - leaves).expect("queue slots fit u32"));
                }
            }
            while at & 1 == 1 {
                at /= 2;
            }
            if at == 0 {
                break;
            }
            at += 1;
        }
    }

    /// Asserts the representation: nodes and leaves agree.
    fn check(&self) {
        assert!(self.width == 0 || self.width.is_power_of_two(), "queue due tree width");
        assert_eq!(self.tree.len(), 2 * self.width, "queue due tree size");
        assert_eq!(self.leaves.len(), self.width, "queue due leaves");
        for (slot, &due) in self.leaves.iter().enumerate() {
            assert_eq!(self.tree[self.width + slot], raw(due), "queue due leaf {slot}");
        }
        let max = Some(Timestamp::from_millis(NOTHING_DUE));
        let at_max = self.leaves.iter().filter(|&&due| due == max).count();
        assert_eq!(self.at_max, at_max, "queue dues at the last time");
        for at in 1..self.width {
            let value = self.tree[2 * at].min(self.tree[2 * at + 1]);
            assert_eq!(self.tree[at], value, "queue due tree node {at}");
        }
    }
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
        // Written out: asked once per input, and the chain of optional iterators cost more.
        let earlier = |next: Option<Timestamp>, at: Timestamp| match next {
            Some(n) if n <= at => next,
            _ => Some(at),
        };
        let mut next = self.queue_dues.first();
        for lane in &self.offer_lanes {
            if let Some(&(at, _)) = lane.expiries.first() {
                next = earlier(next, at);
            }
        }
        if let Some(&(at, _)) = self.set.first() {
            next = earlier(next, at);
        }
        next
    }

    /// Publishes the earliest due time of a queue's overflow stages. Inlined: called on most
    /// decisions, and mostly returns at once (the earliest did not change).
    #[inline]
    pub(crate) fn set_queue_due(&mut self, slot: u32, due: Option<Timestamp>) {
        self.queue_dues.set(slot as usize, due);
    }

    /// The earliest due time of a queue's overflow stages, as last published.
    pub(crate) fn queue_due(&self, slot: u32) -> Option<Timestamp> {
        self.queue_dues.get(slot as usize)
    }

    /// Appends every timer due at `now` except overflow stages, earliest first (by due time,
    /// then timer), without removing them.
    pub(crate) fn due(&self, now: Timestamp, out: &mut Vec<(Timestamp, Timer)>) {
        let start = out.len();
        out.extend(self.set.iter().take_while(|(at, _)| *at <= now).copied());
        let from_set = out.len();
        for lane in &self.offer_lanes {
            // Most calls find no offer due: skip building the lane's iterator.
            if lane.expiries.first().is_none_or(|(at, _)| *at > now) {
                continue;
            }
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

    /// Timers armed except overflow stages.
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
        self.queue_dues.check();
        let overflow = self.set.iter().any(|(_, t)| matches!(t, Timer::Overflow(..)));
        assert!(!overflow, "overflow timer in the ordered table");
    }
}

impl crate::Router {
    /// Fires every timer due at `now` (offer expiry, end of after-call work, overflow steps),
    /// then matches. Timers armed while firing apply at the next call, even if already due.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.observe(now);
        let mut due = std::mem::take(&mut self.scratch_timers);
        self.timers.due(now, &mut due);
        let others = due.len();
        let mut slots = std::mem::take(&mut self.scratch_slots);
        self.timers.queue_dues.due(now, &mut slots);
        for &slot in &slots {
            let queue = self.queues.at(slot);
            for (stage, &at) in queue.stage_due.iter().enumerate() {
                if let Some(at) = at.filter(|&at| at <= now) {
                    let stage = crate::queue::stage_number(stage);
                    due.push((at, Timer::Overflow(queue.config.id, stage)));
                }
            }
        }
        slots.clear();
        self.scratch_slots = slots;
        if due.len() > others && due.len() > 1 {
            due.sort_unstable();
        }
        for &(at, timer) in &due {
            // An earlier timer of this batch may have cancelled it (a missed-offer break
            // revokes the agent's other offers) or moved it (an overflow stage).
            let armed = match timer {
                Timer::Overflow(queue, stage) => {
                    let queue = self.queues.get(&queue).expect("queues are never removed");
                    queue.stage_due[usize::from(stage)] == Some(at)
                }
                _ => self.timers.disarm(at, timer),
            };
            if !armed {
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
        // By id as well as slot: a slot freed meanwhile would hold another task.
        for (slot, id) in self.stepped.drain(..) {
            if let Some(task) = self.tasks.live_at_mut(slot, id) {
                task.stepped = false;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain list of leaves, including the last time, which the nodes cannot tell
    /// from "nothing due".
    #[test]
    fn queue_dues_match_a_list() {
        let last = Timestamp::from_millis(NOTHING_DUE);
        let mut dues = QueueDues::default();
        let mut model: Vec<Option<Timestamp>> = Vec::new();
        let mut state: u64 = 3;
        for _ in 0..5_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let r = state >> 33;
            let slot = (r % 37) as usize;
            let due = match r % 7 {
                0 | 1 => None,
                2 => Some(last),
                _ => Some(Timestamp::from_millis((r % 1_000) as i64)),
            };
            dues.set(slot, due);
            if model.len() <= slot {
                model.resize(slot + 1, None);
            }
            model[slot] = due;
            dues.check();
            assert_eq!(dues.first(), model.iter().flatten().min().copied());
            for now in [Timestamp::from_millis(500), last] {
                let mut out = Vec::new();
                dues.due(now, &mut out);
                let expected: Vec<u32> = (0..model.len())
                    .filter(|&s| model[s].is_some_and(|t| t <= now))
                    .map(|s| s as u32)
                    .collect();
                assert_eq!(out, expected, "due at {now:?}");
            }
            assert!((0..model.len()).all(|s| dues.get(s) == model[s]));
        }
    }
}
