//! Retry rules: after a campaign call ends, when (and whether) to call the contact again.
//!
//! Each campaign sets the attempts allowed, a delay per retryable outcome (no answer, busy,
//! machine, failed, abandoned) and which outcomes end the contact at once (a campaign that
//! leaves a message on machines makes `Machine` final). [`RetryRules::next_attempt`] combines
//! them with the contact's [`CallingWindow`]: a retry that would fall outside the window moves
//! to the window's next open instant.
//!
//! UK mode (Ofcom): a number whose call was abandoned (a live answer not bridged to an agent
//! within 2 s) may not be called again within 72 hours, by any campaign. The retry rules honour
//! it for the contact's own retry; [`AbandonedNumbers`] is the check at dial time across
//! campaigns (`blocked_until`).

use std::collections::{HashMap, VecDeque};

use chrono_tz::Tz;
use domain::{PhoneNumber, Timestamp};

use crate::window::CallingWindow;

/// Attempts per contact a campaign may allow.
pub const ATTEMPTS_MAX: u32 = 20;
/// Shortest retry delay: one minute (a busy line deserves a minute at least).
pub const RETRY_DELAY_MS_MIN: u64 = 60_000;
/// Longest retry delay: 30 days.
pub const RETRY_DELAY_MS_MAX: u64 = 30 * DAY_MS;
/// Ofcom: no call back to an abandoned number within 72 hours.
pub const UK_ABANDON_HOLD_MS: u64 = 72 * 3_600_000;
/// Numbers [`AbandonedNumbers`] holds at once (abandons within the hold period).
pub const ABANDONED_NUMBERS_MAX: usize = 1_000_000;
const DAY_MS: u64 = 86_400_000;

const _: () = assert!(RETRY_DELAY_MS_MIN < RETRY_DELAY_MS_MAX);
const _: () = assert!(UK_ABANDON_HOLD_MS < RETRY_DELAY_MS_MAX);

/// How one campaign call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallOutcome {
    /// A person answered and was served (bridged to an agent, or heard the robocall).
    Answered,
    /// A person answered and was not bridged within 2 s: abandoned.
    Abandoned,
    /// An answering machine.
    Machine,
    /// Nobody answered before the no-answer timeout.
    NoAnswer,
    Busy,
    /// Network failure, congestion, rejected: may work later.
    Failed,
    /// The number does not exist or cannot be reached (never retried).
    InvalidNumber,
    /// The person pressed the opt-out key or asked not to be called (never retried).
    OptedOut,
}

/// Retry delay per retryable outcome, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryDelays {
    pub no_answer_ms: u64,
    pub busy_ms: u64,
    pub machine_ms: u64,
    pub failed_ms: u64,
    pub abandoned_ms: u64,
}

/// A campaign's retry settings as configured; validate with [`RetrySpec::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySpec {
    /// Attempts per contact, the first call included.
    pub attempts_max: u32,
    pub delays: RetryDelays,
    /// Outcomes that end the contact at once, besides the ones that always do (answered,
    /// invalid number, opted out).
    pub final_outcomes: Vec<CallOutcome>,
    /// Hold abandoned numbers for [`UK_ABANDON_HOLD_MS`].
    pub uk_abandon_hold: bool,
}

/// A bad retry setting; the message names the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetryError {
    #[error("attempts_max must be between 1 and {ATTEMPTS_MAX}, got {0}")]
    Attempts(u32),
    #[error(
        "delays.{field} must be between {RETRY_DELAY_MS_MIN} and {RETRY_DELAY_MS_MAX} ms, \
         got {value}"
    )]
    Delay { field: &'static str, value: u64 },
}

impl RetrySpec {
    pub fn validate(&self) -> Result<(), RetryError> {
        if !(1..=ATTEMPTS_MAX).contains(&self.attempts_max) {
            return Err(RetryError::Attempts(self.attempts_max));
        }
        let d = &self.delays;
        for (field, value) in [
            ("no_answer_ms", d.no_answer_ms),
            ("busy_ms", d.busy_ms),
            ("machine_ms", d.machine_ms),
            ("failed_ms", d.failed_ms),
            ("abandoned_ms", d.abandoned_ms),
        ] {
            if !(RETRY_DELAY_MS_MIN..=RETRY_DELAY_MS_MAX).contains(&value) {
                return Err(RetryError::Delay { field, value });
            }
        }
        Ok(())
    }
}

/// Why a contact will not be called again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FinalStatus {
    /// A person answered and was served.
    Reached,
    OptedOut,
    InvalidNumber,
    /// An outcome the campaign made final (e.g. `Machine` when it leaves a message).
    Final(CallOutcome),
    /// Every allowed attempt was made; the last ended so.
    AttemptsExhausted(CallOutcome),
    /// The calling window does not open again within its search horizon.
    NoWindow,
}

/// What to do with a contact after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Call again at this instant (inside the calling window).
    RetryAt(Timestamp),
    Final(FinalStatus),
}

/// A contact as the retry rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContactState {
    /// Attempts made so far, the call that just ended included.
    pub attempts_made: u32,
    /// The contact's time zone, for the calling window.
    pub tz: Tz,
}

/// Validated retry rules of one campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryRules {
    spec: RetrySpec,
}

impl RetryRules {
    pub fn new(spec: RetrySpec) -> Result<RetryRules, RetryError> {
        spec.validate()?;
        Ok(RetryRules { spec })
    }

    pub fn spec(&self) -> &RetrySpec {
        &self.spec
    }

    /// The delay before retrying after `outcome`; `None` for outcomes never retried.
    pub fn delay_ms(&self, outcome: CallOutcome) -> Option<u64> {
        let d = &self.spec.delays;
        let delay = match outcome {
            CallOutcome::NoAnswer => d.no_answer_ms,
            CallOutcome::Busy => d.busy_ms,
            CallOutcome::Machine => d.machine_ms,
            CallOutcome::Failed => d.failed_ms,
            CallOutcome::Abandoned if self.spec.uk_abandon_hold => {
                d.abandoned_ms.max(UK_ABANDON_HOLD_MS)
            }
            CallOutcome::Abandoned => d.abandoned_ms,
            CallOutcome::Answered | CallOutcome::InvalidNumber | CallOutcome::OptedOut => {
                return None
            }
        };
        Some(delay)
    }

    /// After a call to `contact` ended with `outcome` at `now`: retry when, or stop why.
    pub fn next_attempt(
        &self,
        contact: &ContactState,
        outcome: CallOutcome,
        now: Timestamp,
        window: &CallingWindow,
    ) -> Decision {
        let always_final = match outcome {
            CallOutcome::Answered => Some(FinalStatus::Reached),
            CallOutcome::OptedOut => Some(FinalStatus::OptedOut),
            CallOutcome::InvalidNumber => Some(FinalStatus::InvalidNumber),
            _ => None,
        };
        if let Some(status) = always_final {
            return Decision::Final(status);
        }
        if self.spec.final_outcomes.contains(&outcome) {
            return Decision::Final(FinalStatus::Final(outcome));
        }
        if contact.attempts_made >= self.spec.attempts_max {
            return Decision::Final(FinalStatus::AttemptsExhausted(outcome));
        }
        let Some(delay) = self.delay_ms(outcome) else {
            return Decision::Final(FinalStatus::Final(outcome));
        };
        match window.next_open(now.plus_ms(delay), contact.tz) {
            Some(t) => Decision::RetryAt(t),
            None => Decision::Final(FinalStatus::NoWindow),
        }
    }
}

/// The number of a recent abandon could not be recorded: the table is full. The caller must
/// stop dialing predictively (progressive dialing does not abandon) until entries expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("abandoned-number table is full ({ABANDONED_NUMBERS_MAX} numbers)")]
pub struct AbandonedNumbersFull;

/// Numbers abandoned recently, held for a period (72 h in UK mode) across all campaigns.
/// Bounded: expired entries are dropped as new ones arrive, and at most
/// [`ABANDONED_NUMBERS_MAX`] numbers are held.
#[derive(Clone, Debug)]
pub struct AbandonedNumbers {
    hold_ms: u64,
    until: HashMap<String, Timestamp>,
    /// (abandoned at, number), oldest first; entries superseded by a later abandon of the same
    /// number are skipped when they expire.
    order: VecDeque<(Timestamp, String)>,
}

impl AbandonedNumbers {
    /// The Ofcom rule: 72 hours.
    pub fn uk() -> AbandonedNumbers {
        AbandonedNumbers::with_hold_ms(UK_ABANDON_HOLD_MS)
    }

    pub fn with_hold_ms(hold_ms: u64) -> AbandonedNumbers {
        AbandonedNumbers { hold_ms, until: HashMap::new(), order: VecDeque::new() }
    }

    pub fn len(&self) -> usize {
        self.until.len()
    }

    pub fn is_empty(&self) -> bool {
        self.until.is_empty()
    }

    /// A call to `number` was abandoned at `at`.
    pub fn record(
        &mut self,
        number: &PhoneNumber,
        at: Timestamp,
    ) -> Result<(), AbandonedNumbersFull> {
        self.expire(at);
        let key = number.as_str();
        let is_new = !self.until.contains_key(key);
        if self.order.len() >= ABANDONED_NUMBERS_MAX
            || (is_new && self.until.len() >= ABANDONED_NUMBERS_MAX)
        {
            return Err(AbandonedNumbersFull);
        }
        let until = at.plus_ms(self.hold_ms);
        let entry = self.until.entry(key.to_string()).or_insert(until);
        *entry = (*entry).max(until);
        self.order.push_back((at, key.to_string()));
        Ok(())
    }

    /// Until when `number` may not be called, if it is held at `now`.
    pub fn blocked_until(&self, number: &PhoneNumber, now: Timestamp) -> Option<Timestamp> {
        self.until.get(number.as_str()).copied().filter(|until| *until > now)
    }

    /// Drops entries whose hold ended by `now`.
    pub fn expire(&mut self, now: Timestamp) {
        while let Some((at, _)) = self.order.front() {
            if at.plus_ms(self.hold_ms) > now {
                break;
            }
            let Some((_, number)) = self.order.pop_front() else { break };
            if self.until.get(&number).is_some_and(|until| *until <= now) {
                self.until.remove(&number);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{LocalRange, WindowSpec};
    use chrono::TimeZone;
    use chrono_tz::Europe::London;
    use proptest::prelude::*;

    const MIN: u64 = 60_000;
    const HOUR: u64 = 60 * MIN;

    fn spec() -> RetrySpec {
        RetrySpec {
            attempts_max: 3,
            delays: RetryDelays {
                no_answer_ms: 2 * HOUR,
                busy_ms: 10 * MIN,
                machine_ms: 4 * HOUR,
                failed_ms: 30 * MIN,
                abandoned_ms: HOUR,
            },
            final_outcomes: vec![],
            uk_abandon_hold: false,
        }
    }

    fn london(d: u32, h: u32, m: u32) -> Timestamp {
        let t = London.with_ymd_and_hms(2026, 1, d, h, m, 0).single().expect("valid");
        Timestamp::from_millis(t.timestamp_millis())
    }

    fn contact(attempts_made: u32) -> ContactState {
        ContactState { attempts_made, tz: London }
    }

    #[test]
    fn retries_after_the_outcome_delay_inside_the_window() {
        let rules = RetryRules::new(spec()).expect("valid");
        let w = CallingWindow::legal_default();
        let now = london(6, 10, 0);
        let next = |o| rules.next_attempt(&contact(1), o, now, &w);
        assert_eq!(next(CallOutcome::Busy), Decision::RetryAt(london(6, 10, 10)));
        assert_eq!(next(CallOutcome::NoAnswer), Decision::RetryAt(london(6, 12, 0)));
        assert_eq!(next(CallOutcome::Failed), Decision::RetryAt(london(6, 10, 30)));
        assert_eq!(next(CallOutcome::Machine), Decision::RetryAt(london(6, 14, 0)));
        assert_eq!(next(CallOutcome::Answered), Decision::Final(FinalStatus::Reached));
        assert_eq!(next(CallOutcome::OptedOut), Decision::Final(FinalStatus::OptedOut));
        assert_eq!(next(CallOutcome::InvalidNumber), Decision::Final(FinalStatus::InvalidNumber));
    }

    #[test]
    fn a_retry_outside_the_window_moves_to_the_next_open_instant() {
        let rules = RetryRules::new(spec()).expect("valid");
        let w = CallingWindow::legal_default();
        let d = rules.next_attempt(&contact(1), CallOutcome::NoAnswer, london(6, 20, 0), &w);
        assert_eq!(d, Decision::RetryAt(london(7, 9, 0)));
        let mut only_mon: WindowSpec = WindowSpec::default();
        only_mon.week[0] = vec![LocalRange::hm(9, 0, 10, 0)];
        let w = CallingWindow::new(only_mon).expect("valid");
        // Tuesday 6 January -> Monday 12 January 09:00.
        let d = rules.next_attempt(&contact(1), CallOutcome::Busy, london(6, 9, 55), &w);
        assert_eq!(d, Decision::RetryAt(london(12, 9, 0)));
    }

    #[test]
    fn attempts_and_final_outcomes_end_the_contact() {
        let mut s = spec();
        s.final_outcomes = vec![CallOutcome::Machine];
        let rules = RetryRules::new(s).expect("valid");
        let w = CallingWindow::legal_default();
        let now = london(6, 10, 0);
        assert_eq!(
            rules.next_attempt(&contact(3), CallOutcome::Busy, now, &w),
            Decision::Final(FinalStatus::AttemptsExhausted(CallOutcome::Busy))
        );
        assert_eq!(
            rules.next_attempt(&contact(1), CallOutcome::Machine, now, &w),
            Decision::Final(FinalStatus::Final(CallOutcome::Machine))
        );
    }

    #[test]
    fn uk_mode_holds_an_abandoned_contact_for_72_hours() {
        let mut s = spec();
        s.uk_abandon_hold = true;
        let rules = RetryRules::new(s).expect("valid");
        let w = CallingWindow::legal_default();
        let d = rules.next_attempt(&contact(1), CallOutcome::Abandoned, london(6, 10, 0), &w);
        assert_eq!(d, Decision::RetryAt(london(9, 10, 0)));
        let us = RetryRules::new(spec()).expect("valid");
        let d = us.next_attempt(&contact(1), CallOutcome::Abandoned, london(6, 10, 0), &w);
        assert_eq!(d, Decision::RetryAt(london(6, 11, 0)));
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = spec();
        s.attempts_max = 0;
        assert_eq!(RetryRules::new(s.clone()), Err(RetryError::Attempts(0)));
        s.attempts_max = 2;
        s.delays.busy_ms = 1_000;
        let err = RetryRules::new(s).expect_err("short delay");
        assert_eq!(err, RetryError::Delay { field: "busy_ms", value: 1_000 });
        assert!(err.to_string().starts_with("delays.busy_ms must be between"));
    }

    #[test]
    fn abandoned_numbers_are_blocked_for_the_hold_then_forgotten() {
        let mut held = AbandonedNumbers::uk();
        let n = PhoneNumber::parse("+44 20 7946 0958", "GB").expect("valid");
        let other = PhoneNumber::parse("+44 20 7946 0959", "GB").expect("valid");
        let t0 = london(6, 10, 0);
        held.record(&n, t0).expect("room");
        assert_eq!(held.blocked_until(&n, t0.plus_ms(HOUR)), Some(london(9, 10, 0)));
        assert_eq!(held.blocked_until(&other, t0), None);
        assert_eq!(held.blocked_until(&n, london(9, 10, 0)), None);
        // A second abandon extends the hold; the first one's expiry does not drop it.
        held.record(&n, t0.plus_ms(24 * HOUR)).expect("room");
        held.expire(london(9, 10, 1));
        assert_eq!(held.blocked_until(&n, london(9, 12, 0)), Some(london(10, 10, 0)));
        held.expire(london(10, 10, 0));
        assert!(held.is_empty());
    }

    proptest! {
        /// The decision is final or a retry that is inside the window and not before the delay.
        #[test]
        fn retries_respect_delay_and_window(
            attempts in 0u32..6,
            outcome in prop::sample::select(vec![
                CallOutcome::Answered, CallOutcome::Abandoned, CallOutcome::Machine,
                CallOutcome::NoAnswer, CallOutcome::Busy, CallOutcome::Failed,
                CallOutcome::InvalidNumber, CallOutcome::OptedOut,
            ]),
            now_ms in 1_700_000_000_000i64..1_900_000_000_000,
            uk in any::<bool>(),
        ) {
            let mut s = spec();
            s.uk_abandon_hold = uk;
            let rules = RetryRules::new(s).expect("valid");
            let w = CallingWindow::legal_default();
            let now = Timestamp::from_millis(now_ms);
            match rules.next_attempt(&contact(attempts), outcome, now, &w) {
                Decision::RetryAt(t) => {
                    prop_assert!(attempts < 3);
                    let delay = rules.delay_ms(outcome).expect("retryable");
                    prop_assert!(t >= now.plus_ms(delay));
                    prop_assert!(w.is_open(t, London));
                    if uk && outcome == CallOutcome::Abandoned {
                        prop_assert!(t >= now.plus_ms(UK_ABANDON_HOLD_MS));
                    }
                }
                Decision::Final(_) => {}
            }
        }
    }
}
