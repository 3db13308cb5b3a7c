//! Abandon-rate accounting, as the benchmark document and the regulators define it.
//!
//! - An abandon is a live-answered call not bridged to an agent within 2.0 s of the answer.
//! - Rate = abandons / live-answered calls. Machines, no-answers and failures are not in the
//!   denominator. Under the UK rule a live person the detector took for a machine counts too,
//!   both as answered and as abandoned.
//! - The rate is per window: 30 days (US, Canada), 24 h (UK), or a configured length. The
//!   ledger keeps counts in at most [`BUCKETS_MAX`] buckets, so memory is bounded whatever the
//!   volume; the window is therefore exact to one bucket (window / 1440, at least 1 s).

use std::collections::VecDeque;

/// Buckets kept per window.
pub const BUCKETS_MAX: u64 = 1_440;
/// The longest configurable window: 400 days.
pub const WINDOW_MS_MAX: u64 = 400 * DAY_MS;
const DAY_MS: u64 = 86_400_000;
const BUCKET_MS_MIN: u64 = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("abandon window must be between 1 s and 400 days, got {0} ms")]
pub struct AbandonWindowError(pub u64);

/// Which regulator's definition applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbandonRule {
    /// FTC/FCC: per campaign, per 30 days.
    Us,
    /// Ofcom: per 24 hours; live people taken for machines count as abandoned.
    Uk,
    /// CRTC: 5% cap, measured like the US.
    Canada,
    /// Any window, with or without counting detector misses.
    Custom { window_ms: u64, detector_misses_count: bool },
}

impl AbandonRule {
    pub fn window_ms(&self) -> u64 {
        match self {
            AbandonRule::Us | AbandonRule::Canada => 30 * DAY_MS,
            AbandonRule::Uk => DAY_MS,
            AbandonRule::Custom { window_ms, .. } => *window_ms,
        }
    }

    /// Whether a live person classified as a machine counts as answered and abandoned.
    pub fn detector_misses_count(&self) -> bool {
        match self {
            AbandonRule::Uk => true,
            AbandonRule::Us | AbandonRule::Canada => false,
            AbandonRule::Custom { detector_misses_count, .. } => *detector_misses_count,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    start_ms: u64,
    live: u64,
    abandoned: u64,
}

/// Counts live answers and abandons; reports the long-run, current-window and worst-window rates.
#[derive(Clone, Debug)]
pub struct AbandonLedger {
    rule: AbandonRule,
    bucket_ms: u64,
    buckets: VecDeque<Bucket>,
    window_live: u64,
    window_abandoned: u64,
    total_live: u64,
    total_abandoned: u64,
    first_ms: Option<u64>,
    worst_full_window: Option<f64>,
}

impl AbandonLedger {
    pub fn new(rule: AbandonRule) -> Result<AbandonLedger, AbandonWindowError> {
        let window_ms = rule.window_ms();
        if !(BUCKET_MS_MIN..=WINDOW_MS_MAX).contains(&window_ms) {
            return Err(AbandonWindowError(window_ms));
        }
        Ok(AbandonLedger {
            rule,
            bucket_ms: (window_ms / BUCKETS_MAX).max(BUCKET_MS_MIN),
            buckets: VecDeque::new(),
            window_live: 0,
            window_abandoned: 0,
            total_live: 0,
            total_abandoned: 0,
            first_ms: None,
            worst_full_window: None,
        })
    }

    pub fn rule(&self) -> AbandonRule {
        self.rule
    }

    /// A live-answered call at `now_ms`, bridged in time or abandoned.
    pub fn handle_live_answer(&mut self, now_ms: u64, abandoned: bool) {
        self.record(now_ms, 1, u64::from(abandoned));
    }

    /// A live person the answering-machine detector took for a machine. Counts only where the
    /// rule says so (UK). Returns whether it was counted.
    pub fn handle_detector_miss(&mut self, now_ms: u64) -> bool {
        if self.rule.detector_misses_count() {
            self.record(now_ms, 1, 1);
        }
        self.rule.detector_misses_count()
    }

    fn record(&mut self, now_ms: u64, live: u64, abandoned: u64) {
        self.first_ms.get_or_insert(now_ms);
        self.evict(now_ms);
        let start_ms = now_ms - now_ms % self.bucket_ms;
        match self.buckets.back_mut() {
            // Times are expected in order; a late report lands in the newest bucket.
            Some(b) if b.start_ms >= start_ms => {
                b.live += live;
                b.abandoned += abandoned;
            }
            _ => self.buckets.push_back(Bucket { start_ms, live, abandoned }),
        }
        self.window_live += live;
        self.window_abandoned += abandoned;
        self.total_live += live;
        self.total_abandoned += abandoned;
        if self.window_is_full(now_ms) {
            let rate = ratio(self.window_abandoned, self.window_live);
            if let Some(rate) = rate {
                let worst = self.worst_full_window.get_or_insert(rate);
                *worst = worst.max(rate);
            }
        }
    }

    fn evict(&mut self, now_ms: u64) {
        let horizon = now_ms.saturating_sub(self.rule.window_ms());
        while let Some(b) = self.buckets.front() {
            if b.start_ms + self.bucket_ms > horizon {
                break;
            }
            self.window_live -= b.live;
            self.window_abandoned -= b.abandoned;
            self.buckets.pop_front();
        }
    }

    fn window_is_full(&self, now_ms: u64) -> bool {
        self.first_ms.is_some_and(|f| now_ms.saturating_sub(f) >= self.rule.window_ms())
    }

    /// Drops buckets that left the window by `now_ms` (recording does this too); the window
    /// counts then describe the window ending at `now_ms`.
    pub fn advance(&mut self, now_ms: u64) {
        self.evict(now_ms);
    }

    /// Live answers in the current window.
    pub fn live_in_window(&self) -> u64 {
        self.window_live
    }

    /// Abandons in the current window.
    pub fn abandoned_in_window(&self) -> u64 {
        self.window_abandoned
    }

    pub fn live_answered(&self) -> u64 {
        self.total_live
    }

    pub fn abandoned(&self) -> u64 {
        self.total_abandoned
    }

    /// Abandons over live answers since the ledger started; `None` before any live answer.
    pub fn rate_long_run(&self) -> Option<f64> {
        ratio(self.total_abandoned, self.total_live)
    }

    /// The rate over the window ending at the latest record.
    pub fn rate_in_window(&self) -> Option<f64> {
        ratio(self.window_abandoned, self.window_live)
    }

    /// The worst rate over every full window seen; while less than one window has passed,
    /// the rate over everything so far.
    pub fn worst_window_rate(&self) -> Option<f64> {
        self.worst_full_window.or_else(|| self.rate_long_run())
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: u64 = 3_600_000;

    #[test]
    fn denominator_is_live_answers_only() {
        let mut l = AbandonLedger::new(AbandonRule::Us).expect("valid");
        for i in 0..97 {
            l.handle_live_answer(i * 1_000, false);
        }
        for i in 0..3 {
            l.handle_live_answer(100_000 + i, true);
        }
        assert_eq!(l.rate_long_run(), Some(0.03));
        assert_eq!(l.worst_window_rate(), Some(0.03));
        assert_eq!((l.live_answered(), l.abandoned()), (100, 3));
    }

    #[test]
    fn no_live_answer_means_no_rate() {
        let l = AbandonLedger::new(AbandonRule::Uk).expect("valid");
        assert_eq!(l.rate_long_run(), None);
        assert_eq!(l.worst_window_rate(), None);
    }

    #[test]
    fn detector_misses_count_only_under_the_uk_rule() {
        let mut us = AbandonLedger::new(AbandonRule::Us).expect("valid");
        let mut uk = AbandonLedger::new(AbandonRule::Uk).expect("valid");
        for l in [&mut us, &mut uk] {
            l.handle_live_answer(0, false);
            l.handle_detector_miss(1);
        }
        assert_eq!(us.rate_long_run(), Some(0.0));
        assert_eq!(uk.rate_long_run(), Some(0.5));
    }

    #[test]
    fn windows_by_rule() {
        assert_eq!(AbandonRule::Us.window_ms(), 30 * 24 * HOUR_MS);
        assert_eq!(AbandonRule::Uk.window_ms(), 24 * HOUR_MS);
        assert_eq!(AbandonRule::Canada.window_ms(), 30 * 24 * HOUR_MS);
        let bad = AbandonRule::Custom { window_ms: 10, detector_misses_count: false };
        assert_eq!(AbandonLedger::new(bad).err(), Some(AbandonWindowError(10)));
    }

    #[test]
    fn worst_rolling_window_finds_the_bad_hour() {
        let rule = AbandonRule::Custom { window_ms: HOUR_MS, detector_misses_count: false };
        let mut l = AbandonLedger::new(rule).expect("valid");
        // Three good hours, one bad hour (10%), then good again.
        for minute in 0..(6 * 60) {
            let t = minute * 60_000;
            let bad_hour = (3 * 60..4 * 60).contains(&minute);
            for k in 0..10 {
                l.handle_live_answer(t + k, bad_hour && k == 0);
            }
        }
        let worst = l.worst_window_rate().expect("has data");
        assert!((worst - 0.1).abs() < 0.005, "worst {worst}");
        assert!(l.rate_in_window().expect("has data") < 0.001);
        let long_run = l.rate_long_run().expect("has data");
        assert!((long_run - 60.0 / 3600.0).abs() < 1e-9);
    }

    #[test]
    fn old_buckets_leave_the_window() {
        let rule = AbandonRule::Custom { window_ms: HOUR_MS, detector_misses_count: false };
        let mut l = AbandonLedger::new(rule).expect("valid");
        l.handle_live_answer(0, true);
        l.handle_live_answer(2 * HOUR_MS, false);
        assert_eq!(l.rate_in_window(), Some(0.0));
        assert_eq!(l.rate_long_run(), Some(0.5));
    }
}
