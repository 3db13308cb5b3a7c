//! Campaign rules: how many numbers to dial now so that agents keep talking while the abandon
//! rate stays under its legal cap, and whom to call when: calling windows, retries, do-not-call
//! lists, contact import and message templates.
//!
//! Pure: no I/O, no clock, no global randomness, no async. Pacing takes time as milliseconds
//! (`now_ms`, any fixed origin); the campaign rules take wall-clock time as
//! [`domain::Timestamp`], because calling windows are in the contact's local time.
//!
//! Pacing:
//! - [`PacingPolicy`]: the one interface a pacing policy implements. The caller (the simulator
//!   today, the engine later) reports what happened with [`PacingPolicy::handle_outcome`] and asks
//!   [`PacingPolicy::poll_dials`] with a [`Snapshot`] of the campaign how many dials to place.
//! - [`Pacer`]: wraps a policy with the campaign's [`PacingLimits`] (lines, no-answer timeout)
//!   and enforces them whatever the policy says.
//! - [`abandon`]: abandon-rate accounting as the benchmark document and the regulators define it.
//! - [`cap`]: [`CapGuard`] wraps any policy so the abandon rate cannot exceed the cap (it falls
//!   back to progressive when the worst case would).
//! - Policies: [`Progressive`], [`StaticRatio`], [`VicidialAdaptive`] and ours, [`Predictive`].
//!
//! Campaign rules:
//! - [`window`]: calling windows in the contact's local time (`chrono-tz`, DST-correct) and the
//!   contact's zone from the number ([`zone_for_number`]).
//! - [`retry`]: attempts and per-outcome delays ([`RetryRules::next_attempt`]), the UK 72-hour
//!   hold of abandoned numbers ([`AbandonedNumbers`]).
//! - [`dnc`]: global and per-campaign do-not-call lists ([`DncRegistry`]).
//! - [`gate`]: [`check_dial`], every rule at the moment of dialing.
//! - [`import`]: streaming CSV import of contacts ([`Importer`]) with per-row errors.
//! - [`template`]: `{field}` message templates and the ready robocall templates.

pub mod abandon;
pub mod cap;
pub mod dnc;
pub mod gate;
pub mod import;
mod learn;
mod predictive;
mod progressive;
pub mod retry;
mod static_ratio;
pub mod template;
mod vicidial;
pub mod window;

pub use abandon::{AbandonLedger, AbandonRule, AbandonWindowError};
pub use cap::{CapError, CapGuard};
pub use dnc::{CampaignId, DncError, DncHit, DncList, DncRegistry};
pub use gate::{check_dial, DialBlock, DialRules};
pub use import::{
    ColumnMapping, Contact, ImportConfig, ImportError, ImportSummary, Importer, RowError,
    RowErrorKind, RowErrorReason, RowResult,
};
pub use predictive::{chance_below_one, Predictive, PredictiveConfig};
pub use progressive::Progressive;
pub use retry::{
    AbandonedNumbers, AbandonedNumbersFull, CallOutcome, ContactState, Decision, FinalStatus,
    RetryDelays, RetryError, RetryRules, RetrySpec,
};
pub use static_ratio::StaticRatio;
pub use template::{
    ready_template, ready_templates, standard_menu, KeyAction, Template, TemplateError,
    TemplateSpec,
};
pub use vicidial::{VicidialAdaptive, VicidialDropMode};
pub use window::{zone_for_number, CallingWindow, LocalRange, WindowError, WindowSpec, ZoneSource};

/// Outstanding dials allowed per campaign, whatever the configuration says.
pub const LINES_MAX: u32 = 100_000;
/// The shortest no-answer timeout: unanswered calls ring at least 15 s.
pub const NO_ANSWER_TIMEOUT_MS_MIN: u64 = 15_000;
/// The longest no-answer timeout accepted.
pub const NO_ANSWER_TIMEOUT_MS_MAX: u64 = 120_000;
/// A live answer not bridged to an agent within this time is abandoned.
pub const BRIDGE_MS_MAX: u64 = 2_000;

const _: () = assert!(NO_ANSWER_TIMEOUT_MS_MIN < NO_ANSWER_TIMEOUT_MS_MAX);

/// What a resolved dial turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialResult {
    /// A person answered (as classified by answering-machine detection, if any).
    Live,
    /// An answering machine (or a person the detector took for one).
    Machine,
    /// Busy, unreachable, rejected: resolved within a few seconds.
    FastFail,
    /// Nobody answered before the no-answer timeout.
    NoAnswer,
}

/// Something the caller observed, reported to the policy so it can learn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// A dial resolved `age_ms` after it was placed.
    DialResolved { result: DialResult, age_ms: u64 },
    /// A live-answered call was bridged to an agent, or abandoned (it counts in the abandon rate).
    LiveHandled { abandoned: bool },
    /// An agent finished a call: how long it talked and wrapped up.
    CallCompleted { talk_ms: u64, wrap_ms: u64 },
}

/// What a busy agent is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentPhase {
    Talk,
    Wrap,
}

/// A busy agent, with the time spent so far in its current phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusyAgent {
    pub phase: AgentPhase,
    pub elapsed_ms: u64,
}

/// The campaign at `now_ms`, as the caller sees it. Agents on a break are in neither list.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot<'a> {
    pub now_ms: u64,
    /// Agents ready for a call and not reserved for one.
    pub idle_agents: u32,
    pub busy: &'a [BusyAgent],
    /// Age of every dial placed and not yet resolved.
    pub outstanding_ages_ms: &'a [u64],
    /// Live-answered calls waiting (at most [`BRIDGE_MS_MAX`]) for an agent.
    pub waiting_calls: u32,
}

impl Snapshot<'_> {
    pub fn outstanding(&self) -> u32 {
        u32::try_from(self.outstanding_ages_ms.len()).unwrap_or(u32::MAX)
    }

    /// Agents logged in and not on a break.
    pub fn active_agents(&self) -> u32 {
        let busy = u32::try_from(self.busy.len()).unwrap_or(u32::MAX);
        self.idle_agents.saturating_add(busy)
    }
}

/// A pacing policy. The same trait serves the simulator and the engine.
///
/// The caller reports outcomes as they happen, then asks how many dials to place now. The
/// [`Pacer`] clamps the answer to the campaign's lines; policies need not.
pub trait PacingPolicy {
    /// A short stable name (`progressive`, `switchboard`, ...).
    fn name(&self) -> &'static str;

    /// Learn from an outcome observed at `now_ms` (the `on_outcome` hook).
    fn handle_outcome(&mut self, now_ms: u64, outcome: Outcome);

    /// How many new dials to place at `snapshot.now_ms`.
    fn poll_dials(&mut self, snapshot: &Snapshot<'_>) -> u32;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    #[error("lines_max must be between 1 and {LINES_MAX}, got {0}")]
    Lines(u64),
    #[error(
        "no_answer_timeout_ms must be between {NO_ANSWER_TIMEOUT_MS_MIN} and \
         {NO_ANSWER_TIMEOUT_MS_MAX}, got {0}"
    )]
    NoAnswerTimeout(u64),
}

/// Limits every campaign obeys, validated on construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacingLimits {
    lines_max: u32,
    no_answer_timeout_ms: u64,
}

impl PacingLimits {
    pub fn new(lines_max: u64, no_answer_timeout_ms: u64) -> Result<PacingLimits, LimitsError> {
        let lines = u32::try_from(lines_max)
            .ok()
            .filter(|l| (1..=LINES_MAX).contains(l))
            .ok_or(LimitsError::Lines(lines_max))?;
        if !(NO_ANSWER_TIMEOUT_MS_MIN..=NO_ANSWER_TIMEOUT_MS_MAX).contains(&no_answer_timeout_ms) {
            return Err(LimitsError::NoAnswerTimeout(no_answer_timeout_ms));
        }
        Ok(PacingLimits { lines_max: lines, no_answer_timeout_ms })
    }

    pub fn lines_max(&self) -> u32 {
        self.lines_max
    }

    pub fn no_answer_timeout_ms(&self) -> u64 {
        self.no_answer_timeout_ms
    }
}

/// A policy bound to the campaign's limits: never more outstanding dials than lines.
pub struct Pacer {
    policy: Box<dyn PacingPolicy + Send>,
    limits: PacingLimits,
}

impl Pacer {
    pub fn new(policy: Box<dyn PacingPolicy + Send>, limits: PacingLimits) -> Pacer {
        Pacer { policy, limits }
    }

    pub fn name(&self) -> &'static str {
        self.policy.name()
    }

    pub fn limits(&self) -> PacingLimits {
        self.limits
    }

    pub fn handle_outcome(&mut self, now_ms: u64, outcome: Outcome) {
        self.policy.handle_outcome(now_ms, outcome);
    }

    /// The policy's answer, clamped so that outstanding dials never exceed the lines.
    pub fn poll_dials(&mut self, snapshot: &Snapshot<'_>) -> u32 {
        let room = self.limits.lines_max.saturating_sub(snapshot.outstanding());
        self.policy.poll_dials(snapshot).min(room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_reject_short_timeouts_and_zero_lines() {
        assert_eq!(PacingLimits::new(10, 14_999), Err(LimitsError::NoAnswerTimeout(14_999)));
        assert_eq!(PacingLimits::new(0, 25_000), Err(LimitsError::Lines(0)));
        assert_eq!(PacingLimits::new(u64::MAX, 25_000), Err(LimitsError::Lines(u64::MAX)));
        let ok = PacingLimits::new(10, 15_000).expect("valid");
        assert_eq!((ok.lines_max(), ok.no_answer_timeout_ms()), (10, 15_000));
    }

    #[test]
    fn pacer_clamps_to_the_lines() {
        let limits = PacingLimits::new(3, 25_000).expect("valid");
        let mut pacer = Pacer::new(Box::new(Progressive::new()), limits);
        let ages = [1_000];
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: 10,
            busy: &[],
            outstanding_ages_ms: &ages,
            waiting_calls: 0,
        };
        assert_eq!(pacer.poll_dials(&snap), 2);
    }
}
