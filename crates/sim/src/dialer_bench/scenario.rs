//! Scenario files (TOML): the world the dialers face and the cells to run. Unknown keys are
//! errors; every check names its field.

use dialer::AbandonRule;
use serde::Deserialize;

use super::dist::Dist;

pub const AGENTS_MAX: u32 = 2_000;
pub const REPLICATIONS_MAX: u32 = 1_000;
pub const SHIFT_MIN_MAX: f64 = 24.0 * 60.0;
pub const CELLS_MAX: usize = 64;
pub const SCHEDULE_ENTRIES_MAX: usize = 1_000;
pub const BREAKS_MAX: usize = 100;
pub const LINES_PER_AGENT_MAX: f64 = 20.0;
pub const SCENARIO_BYTES_MAX: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario file is larger than {SCENARIO_BYTES_MAX} bytes")]
    TooLarge,
    #[error("scenario file: {0}")]
    Parse(String),
    #[error("scenario field `{field}`: {message}")]
    Field { field: String, message: String },
}

fn field(field: &str, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Field { field: field.to_string(), message: message.into() }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jurisdiction {
    Us,
    Uk,
    Canada,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcomes {
    pub p_live: f64,
    pub p_machine: f64,
    pub p_fast_fail: f64,
    /// Time from dial to a live answer.
    pub live_answer_s: Dist,
    /// Time from dial to a machine being detected.
    pub machine_s: Dist,
    pub fast_fail_s: Dist,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub talk_s: Dist,
    pub wrap_s: Dist,
}

/// Answering-machine detection: a live answer is classified `delay_s` after it answers (the
/// 2 s rule runs from then), and a share of live people are taken for machines and hung up on.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amd {
    pub delay_s: f64,
    pub false_positive: f64,
}

/// From `at_min` into the shift on, the live-answer probability is `p_live`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PLiveStep {
    pub at_min: f64,
    pub p_live: f64,
}

/// At `start_min`, the first `agents_share` of the agents take a break of `duration_min`
/// (an agent on a call starts it when its wrap-up ends).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Break {
    pub start_min: f64,
    pub duration_min: f64,
    pub agents_share: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short id used in reports; the file stem when absent.
    #[serde(default)]
    pub name: Option<String>,
    pub agents: Vec<u32>,
    pub caps: Vec<f64>,
    pub jurisdiction: Jurisdiction,
    /// Overrides the jurisdiction's window.
    #[serde(default)]
    pub window_hours: Option<f64>,
    pub shift_min: f64,
    pub warmup_min: f64,
    pub replications: u32,
    pub lines_per_agent: f64,
    pub no_answer_timeout_s: f64,
    pub decision_interval_s: f64,
    pub outcomes: Outcomes,
    pub service: Service,
    pub amd: Amd,
    #[serde(default)]
    pub p_live_schedule: Vec<PLiveStep>,
    #[serde(default)]
    pub breaks: Vec<Break>,
}

fn check_share(name: &str, v: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(field(name, format!("must be between 0 and 1, got {v}")))
    }
}

fn check_range(name: &str, v: f64, lo: f64, hi: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(field(name, format!("must be between {lo} and {hi}, got {v}")))
    }
}

impl Scenario {
    pub fn parse(text: &str, default_name: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > SCENARIO_BYTES_MAX {
            return Err(ScenarioError::TooLarge);
        }
        let mut s: Scenario =
            toml::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        if s.name.is_none() {
            s.name = Some(default_name.to_string());
        }
        s.validate()?;
        Ok(s)
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("scenario")
    }

    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.agents.is_empty() || self.agents.len() > CELLS_MAX {
            return Err(field("agents", format!("must list 1 to {CELLS_MAX} agent counts")));
        }
        for &a in &self.agents {
            if !(1..=AGENTS_MAX).contains(&a) {
                return Err(field("agents", format!("each must be 1 to {AGENTS_MAX}, got {a}")));
            }
        }
        if self.caps.is_empty() || self.caps.len() > CELLS_MAX {
            return Err(field("caps", format!("must list 1 to {CELLS_MAX} caps")));
        }
        for &c in &self.caps {
            check_range("caps", c, 0.0, 1.0)?;
        }
        if let Some(h) = self.window_hours {
            check_range("window_hours", h, 1.0 / 3600.0, 400.0 * 24.0)?;
        }
        check_range("shift_min", self.shift_min, 1.0, SHIFT_MIN_MAX)?;
        check_range("warmup_min", self.warmup_min, 0.0, self.shift_min - 1.0)?;
        if !(1..=REPLICATIONS_MAX).contains(&self.replications) {
            return Err(field("replications", format!("must be 1 to {REPLICATIONS_MAX}")));
        }
        check_range("lines_per_agent", self.lines_per_agent, 1.0, LINES_PER_AGENT_MAX)?;
        check_range("no_answer_timeout_s", self.no_answer_timeout_s, 15.0, 120.0)?;
        check_range("decision_interval_s", self.decision_interval_s, 0.1, 60.0)?;
        let o = &self.outcomes;
        check_share("outcomes.p_live", o.p_live)?;
        check_share("outcomes.p_machine", o.p_machine)?;
        check_share("outcomes.p_fast_fail", o.p_fast_fail)?;
        let rest = o.p_machine + o.p_fast_fail;
        if o.p_live + rest > 1.0 + 1e-9 {
            return Err(field("outcomes", "p_live + p_machine + p_fast_fail must not exceed 1"));
        }
        for (name, d) in [
            ("outcomes.live_answer_s", &o.live_answer_s),
            ("outcomes.machine_s", &o.machine_s),
            ("outcomes.fast_fail_s", &o.fast_fail_s),
            ("service.talk_s", &self.service.talk_s),
            ("service.wrap_s", &self.service.wrap_s),
        ] {
            d.validate().map_err(|m| field(name, m))?;
        }
        check_range("amd.delay_s", self.amd.delay_s, 0.0, 10.0)?;
        check_share("amd.false_positive", self.amd.false_positive)?;
        if self.p_live_schedule.len() > SCHEDULE_ENTRIES_MAX {
            return Err(field("p_live_schedule", "too many entries"));
        }
        for step in &self.p_live_schedule {
            check_range("p_live_schedule.at_min", step.at_min, 0.0, self.shift_min)?;
            check_share("p_live_schedule.p_live", step.p_live)?;
            if step.p_live + rest > 1.0 + 1e-9 {
                return Err(field(
                    "p_live_schedule.p_live",
                    "p_live + p_machine + p_fast_fail must not exceed 1",
                ));
            }
        }
        if self.breaks.len() > BREAKS_MAX {
            return Err(field("breaks", format!("at most {BREAKS_MAX}")));
        }
        for b in &self.breaks {
            check_range("breaks.start_min", b.start_min, 0.0, self.shift_min)?;
            check_range("breaks.duration_min", b.duration_min, 0.0, self.shift_min)?;
            check_share("breaks.agents_share", b.agents_share)?;
        }
        Ok(())
    }

    /// The abandon rule: the jurisdiction's, with its window replaced if configured.
    pub fn abandon_rule(&self) -> AbandonRule {
        let base = match self.jurisdiction {
            Jurisdiction::Us => AbandonRule::Us,
            Jurisdiction::Uk => AbandonRule::Uk,
            Jurisdiction::Canada => AbandonRule::Canada,
        };
        match self.window_hours {
            Some(h) => AbandonRule::Custom {
                window_ms: (h * 3_600_000.0) as u64,
                detector_misses_count: base.detector_misses_count(),
            },
            None => base,
        }
    }

    /// The live-answer probability at `t_ms` into the shift.
    pub fn p_live_at(&self, t_ms: u64) -> f64 {
        let t_min = t_ms as f64 / 60_000.0;
        let mut p = self.outcomes.p_live;
        let mut at = f64::NEG_INFINITY;
        for step in &self.p_live_schedule {
            if step.at_min <= t_min && step.at_min >= at {
                p = step.p_live;
                at = step.at_min;
            }
        }
        p
    }

    /// The capacity bound: talk-min per agent-hour if agents never waited.
    pub fn bound_talk_min_per_agent_hour(&self) -> f64 {
        let talk = self.service.talk_s.mean();
        let wrap = self.service.wrap_s.mean();
        if talk + wrap <= 0.0 {
            return 0.0;
        }
        60.0 * talk / (talk + wrap)
    }
}

#[cfg(test)]
pub(crate) const TINY: &str = r#"
agents = [4]
caps = [0.05]
jurisdiction = "us"
shift_min = 40
warmup_min = 10
replications = 3
lines_per_agent = 3
no_answer_timeout_s = 25
decision_interval_s = 1
[outcomes]
p_live = 0.3
p_machine = 0.2
p_fast_fail = 0.15
live_answer_s = { dist = "gamma", shift = 2.0, k = 3.0, theta = 2.5 }
machine_s = { dist = "normal", mean = 22.0, sd = 1.5 }
fast_fail_s = { dist = "uniform", min = 1.0, max = 6.0 }
[service]
talk_s = { dist = "lognormal", mean = 60.0, cv = 1.0 }
wrap_s = { dist = "exponential", mean = 10.0 }
[amd]
delay_s = 0.0
false_positive = 0.0
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_fields() {
        let s = Scenario::parse(TINY, "tiny").expect("valid");
        assert_eq!(s.name(), "tiny");
        assert!((s.bound_talk_min_per_agent_hour() - 60.0 * 60.0 / 70.0).abs() < 1e-9);
        let e = Scenario::parse(&TINY.replace("p_live = 0.3", "p_live = 1.3"), "t").unwrap_err();
        assert!(e.to_string().contains("outcomes.p_live"), "{e}");
        let e = Scenario::parse(&format!("{TINY}\nsurprise = 1\n"), "t").unwrap_err();
        assert!(e.to_string().contains("surprise"), "{e}");
        let e = Scenario::parse(&TINY.replace("k = 3.0", "kk = 3.0"), "t").unwrap_err();
        assert!(e.to_string().contains("kk"), "{e}");
        let e = Scenario::parse(&TINY.replace("= 25\n", "= 10\n"), "t").unwrap_err();
        assert!(e.to_string().contains("no_answer_timeout_s"), "{e}");
        let e = Scenario::parse(&TINY.replace("[4]", "[0]"), "t").unwrap_err();
        assert!(e.to_string().contains("agents"), "{e}");
    }

    #[test]
    fn p_live_follows_the_schedule() {
        let text = format!(
            "{TINY}\n[[p_live_schedule]]\nat_min = 20\np_live = 0.1\n\
             [[p_live_schedule]]\nat_min = 30\np_live = 0.2\n"
        );
        let s = Scenario::parse(&text, "t").expect("valid");
        assert_eq!(s.p_live_at(0), 0.3);
        assert_eq!(s.p_live_at(20 * 60_000), 0.1);
        assert_eq!(s.p_live_at(35 * 60_000), 0.2);
    }
}
