//! Waiting order: higher effective priority first, FIFO within equal effective priority.
//!
//! Effective priority is the exact rational `priority + (now - entered_at) / aging_ms_per_level`
//! (just `priority` without aging). Within one queue the order never changes with time:
//! `p1 + (now - t1)/r > p2 + (now - t2)/r` iff `p1*r - t1 > p2*r - t2`. So each queue keeps its
//! tasks sorted by the static key `p*r - t` and never re-sorts. Only heads of different queues
//! (different `r`) are compared at `now`, exactly, in `i128`.

use std::cmp::Ordering;

use domain::Timestamp;

/// The time-invariant order key inside one queue; larger is served first.
pub(crate) fn order_key(priority: i32, entered_at: Timestamp, aging_ms_per_level: u64) -> i128 {
    let p = i128::from(priority);
    if aging_ms_per_level == 0 {
        p
    } else {
        p * i128::from(aging_ms_per_level) - i128::from(entered_at.as_millis())
    }
}

/// A task's claim to be served at one instant, comparable across queues.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Precedence {
    /// Effective priority as `num / den`, `den > 0`.
    num: i128,
    den: i128,
    entered_at: Timestamp,
    seq: u64,
}

impl Precedence {
    pub(crate) fn at(
        now: Timestamp,
        priority: i32,
        entered_at: Timestamp,
        aging_ms_per_level: u64,
        seq: u64,
    ) -> Precedence {
        let p = i128::from(priority);
        let (num, den) = if aging_ms_per_level == 0 {
            (p, 1)
        } else {
            let r = i128::from(aging_ms_per_level);
            let waited = i128::from(now.as_millis()) - i128::from(entered_at.as_millis());
            (p * r + waited, r)
        };
        Precedence { num, den, entered_at, seq }
    }

    /// Whether `self` is served before `other`: higher effective priority, then older, then
    /// earlier enqueued.
    pub(crate) fn before(&self, other: &Precedence) -> bool {
        self.order(other) == Ordering::Less
    }

    /// Serving order: `Less` when `self` is served first.
    pub(crate) fn order(&self, other: &Precedence) -> Ordering {
        // Bounded by limits::AGING_MS_PER_LEVEL_MAX, so the products stay far inside i128.
        let by_priority = if self.den == other.den {
            other.num.cmp(&self.num)
        } else {
            (other.num * self.den).cmp(&(self.num * other.den))
        };
        by_priority.then_with(|| (self.entered_at, self.seq).cmp(&(other.entered_at, other.seq)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn key_order_matches_effective_priority_at_any_time() {
        let r = 1_000;
        // Task a: priority 3 since t=1_000; task b: priority 1 since t=0. The gap stays 1 level.
        let (ka, kb) = (order_key(3, t(1_000), r), order_key(1, t(0), r));
        assert!(ka > kb);
        for now in [1_000, 1_500, 12_000, 50_000] {
            let a = Precedence::at(t(now), 3, t(1_000), r, 2);
            let b = Precedence::at(t(now), 1, t(0), r, 1);
            assert!(a.before(&b), "key order holds at {now}");
        }
        // Task c: priority 3 since t=10_000 is overtaken by b, which has aged 10 levels.
        assert!(order_key(3, t(10_000), r) < kb);
        let c = Precedence::at(t(10_000), 3, t(10_000), r, 3);
        assert!(Precedence::at(t(10_000), 1, t(0), r, 1).before(&c));
    }

    #[test]
    fn aging_crosses_queues_exactly() {
        let now = t(60_000);
        // 1 + 60s / 30s = 3 exactly, against a plain priority 3 in a queue without aging.
        let aged = Precedence::at(now, 1, t(0), 30_000, 5);
        let plain = Precedence::at(now, 3, t(50_000), 0, 1);
        assert!(aged.before(&plain), "equal effective priority: the older one first");
        let higher = Precedence::at(now, 4, t(59_000), 0, 9);
        assert!(higher.before(&aged));
    }
}
