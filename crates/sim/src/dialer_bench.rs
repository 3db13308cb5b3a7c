//! The predictive-dialer benchmark of `shared/dialer-benchmark.md`: a discrete-event simulation
//! that runs the real pacing policies of the `dialer` crate side by side, on common random
//! numbers, for every cell (agents x cap) of a scenario file.
//!
//! - [`scenario`]: the TOML scenario files (`bench/scenarios/*.toml`).
//! - `world`: one replication of one shift under one policy.
//! - `tune`: the oracle search for the static ratio that meets the cap.
//! - `report`: the JSON object and the markdown table.
//! - [`chart`]: the SVG trade-off chart (talk against abandon rate, a curve per policy).
//! - `ceiling`: the practical ceiling, a yardstick that knows each busy agent's remaining talk.
//!
//! Policies: `progressive`, `static-ratio` (oracle-tuned), `vicidial-adaptive`, `switchboard`
//! (ours, learning online), the `bound` figure and, when asked for, the `ceiling`.

mod ceiling;
pub mod chart;
pub mod dist;
mod report;
pub mod scenario;
mod stats;
mod tune;
mod world;

pub use ceiling::{tune_ceiling, CeilingReport};
pub use scenario::{Scenario, ScenarioError};
pub use world::{simulate, Cell, PolicyKind, RepMetrics};

use world::splitmix;

/// Threads used for replications at most (the benchmark shares its machine).
const THREADS_MAX: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("--replications must be 1 to {max}, got {got}", max = scenario::REPLICATIONS_MAX)]
    Replications { got: u32 },
    #[error("--agents must be 1 to {max}, got {got}", max = scenario::AGENTS_MAX)]
    Agents { got: u32 },
    #[error("--cap must be between 0 and 1, got {got}")]
    Cap { got: f64 },
}

/// Command-line choices that narrow or override the scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    pub replications: Option<u32>,
    pub seed: u64,
    pub agents: Option<u32>,
    pub cap: Option<f64>,
    /// Also tune and run the practical ceiling (see `ceiling`) in every cell.
    pub ceiling: bool,
}

/// Figures of one policy in one cell: means over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicySummary {
    pub talk_min_per_agent_hour: f64,
    pub talk_min_per_agent_hour_ci95: f64,
    pub occupancy: f64,
    pub agent_wait_s_mean: f64,
    pub agent_wait_s_p90: f64,
    pub abandon_rate: f64,
    pub abandon_rate_worst_window: f64,
    pub windows_1h_over_cap_share: f64,
    pub cap_held_share: f64,
    pub dials_per_live_contact: f64,
    pub customer_wait_s_max: f64,
}

impl PolicySummary {
    fn of(reps: &[RepMetrics], cap: f64) -> PolicySummary {
        let col = |f: fn(&RepMetrics) -> f64| reps.iter().map(f).collect::<Vec<f64>>();
        let talk = col(|m| m.talk_min_per_agent_hour);
        let held = reps.iter().filter(|m| m.abandon_rate <= cap).count();
        PolicySummary {
            talk_min_per_agent_hour: stats::mean(&talk),
            talk_min_per_agent_hour_ci95: stats::ci95(&talk),
            occupancy: stats::mean(&col(|m| m.occupancy)),
            agent_wait_s_mean: stats::mean(&col(|m| m.agent_wait_s_mean)),
            agent_wait_s_p90: stats::mean(&col(|m| m.agent_wait_s_p90)),
            abandon_rate: stats::mean(&col(|m| m.abandon_rate)),
            abandon_rate_worst_window: stats::mean(&col(|m| m.abandon_rate_worst_window)),
            windows_1h_over_cap_share: stats::mean(&col(|m| m.windows_1h_over_cap_share)),
            cap_held_share: if reps.is_empty() { 0.0 } else { held as f64 / reps.len() as f64 },
            dials_per_live_contact: stats::mean(&col(|m| m.dials_per_live_contact)),
            customer_wait_s_max: reps.iter().map(|m| m.customer_wait_s_max).fold(0.0, f64::max),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CellReport {
    pub agents: u32,
    pub cap: f64,
    /// The ratio the oracle search chose for `static-ratio`.
    pub static_ratio: f64,
    /// In report order: switchboard, static-ratio, vicidial-adaptive, progressive, and the
    /// ceiling when asked for.
    pub policies: Vec<(&'static str, PolicySummary)>,
    pub bound: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DialerBenchReport {
    pub scenario: String,
    pub seed: u64,
    pub replications: u32,
    pub cells: Vec<CellReport>,
}

/// The seed of replication `r`: the same for every policy.
pub fn replication_seed(seed: u64, r: u32) -> u64 {
    splitmix(seed ^ splitmix(u64::from(r).wrapping_add(0x5EED)))
}

/// Runs `policy` on every seed, on up to [`THREADS_MAX`] threads; results in seed order.
pub fn run_replications(
    s: &Scenario,
    cell: Cell,
    policy: PolicyKind,
    seeds: &[u64],
) -> Vec<RepMetrics> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, THREADS_MAX);
    if threads == 1 || seeds.len() < 2 {
        return seeds.iter().map(|&seed| simulate(s, cell, policy, seed)).collect();
    }
    let chunk = seeds.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|&seed| simulate(s, cell, policy, seed)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            // A panic in a replication is a bug in the simulator: pass it on.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Runs every cell of the scenario (or the one the options pick).
pub fn run_dialer_bench(
    s: &Scenario,
    opts: &BenchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<DialerBenchReport, BenchError> {
    s.validate()?;
    let replications = opts.replications.unwrap_or(s.replications);
    if !(1..=scenario::REPLICATIONS_MAX).contains(&replications) {
        return Err(BenchError::Replications { got: replications });
    }
    let agents = match opts.agents {
        Some(a) if !(1..=scenario::AGENTS_MAX).contains(&a) => {
            return Err(BenchError::Agents { got: a })
        }
        Some(a) => vec![a],
        None => s.agents.clone(),
    };
    let caps = match opts.cap {
        Some(c) if !(c.is_finite() && (0.0..=1.0).contains(&c)) => {
            return Err(BenchError::Cap { got: c })
        }
        Some(c) => vec![c],
        None => s.caps.clone(),
    };
    let seeds: Vec<u64> = (0..replications).map(|r| replication_seed(opts.seed, r)).collect();
    let mut cells = Vec::new();
    for &a in &agents {
        for &cap in &caps {
            let cell = Cell { agents: a, cap };
            progress(&format!("cell N={a} cap={cap}: tuning static-ratio"));
            let ratio = tune::tune_static_ratio(s, cell, &seeds);
            progress(&format!("cell N={a} cap={cap}: static ratio {ratio:.3}"));
            let mut policies = Vec::new();
            for (name, kind) in [
                ("switchboard", PolicyKind::Switchboard),
                ("static-ratio", PolicyKind::StaticRatio(ratio)),
                ("vicidial-adaptive", PolicyKind::Vicidial),
                ("progressive", PolicyKind::Progressive),
            ] {
                let reps = run_replications(s, cell, kind, &seeds);
                let summary = PolicySummary::of(&reps, cap);
                progress(&format!(
                    "cell N={a} cap={cap}: {name} {:.2} talk-min/agent-h, abandon {:.4}",
                    summary.talk_min_per_agent_hour, summary.abandon_rate
                ));
                policies.push((name, summary));
            }
            if opts.ceiling {
                progress(&format!("cell N={a} cap={cap}: tuning the ceiling"));
                let c = tune_ceiling(s, cell, &seeds);
                progress(&format!(
                    "cell N={a} cap={cap}: ceiling {:.2} talk-min/agent-h, abandon {:.4}, \
                     theta {:.4}",
                    c.talk_min_per_agent_hour, c.abandon_rate, c.theta
                ));
                policies.push(("ceiling", PolicySummary::of(&c.reps, cap)));
            }
            let bound = s.bound_talk_min_per_agent_hour();
            cells.push(CellReport { agents: a, cap, static_ratio: ratio, policies, bound });
        }
    }
    Ok(DialerBenchReport { scenario: s.name().to_string(), seed: opts.seed, replications, cells })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialer_bench::scenario::TINY;

    #[test]
    fn a_tiny_bench_reports_every_policy_in_both_formats() {
        let s = Scenario::parse(TINY, "tiny").expect("valid");
        let opts =
            BenchOptions { replications: Some(2), seed: 5, agents: None, cap: None, ceiling: true };
        let mut lines = 0;
        let report = run_dialer_bench(&s, &opts, &mut |_| lines += 1).expect("runs");
        assert!(lines > 0);
        assert_eq!(report.cells.len(), 1);
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
        let sb = &json["cells"][0]["policies"]["switchboard"];
        for key in [
            "talk_min_per_agent_hour",
            "talk_min_per_agent_hour_ci95",
            "occupancy",
            "agent_wait_s_mean",
            "agent_wait_s_p90",
            "abandon_rate",
            "abandon_rate_worst_window",
            "windows_1h_over_cap_share",
            "cap_held_share",
            "dials_per_live_contact",
            "customer_wait_s_max",
        ] {
            assert!(sb[key].is_number(), "{key} in {sb}");
        }
        assert!(json["cells"][0]["policies"]["bound"]["talk_min_per_agent_hour"].is_number());
        assert_eq!(json["scenario"], "tiny");
        let md = report.to_markdown();
        assert!(md.contains("| switchboard |"), "{md}");
        assert!(md.contains("| bound |"), "{md}");
        let ceiling = &json["cells"][0]["policies"]["ceiling"];
        assert!(ceiling["talk_min_per_agent_hour"].as_f64().is_some_and(|t| t > 0.0), "{json}");
        assert!(md.contains("| ceiling |"), "{md}");
    }

    #[test]
    fn options_are_checked() {
        let s = Scenario::parse(TINY, "tiny").expect("valid");
        let bad = BenchOptions {
            replications: Some(0),
            seed: 1,
            agents: None,
            cap: None,
            ceiling: false,
        };
        assert!(run_dialer_bench(&s, &bad, &mut |_| {}).is_err());
        let bad = BenchOptions {
            replications: None,
            seed: 1,
            agents: Some(0),
            cap: None,
            ceiling: false,
        };
        assert!(run_dialer_bench(&s, &bad, &mut |_| {}).is_err());
        let bad = BenchOptions {
            replications: None,
            seed: 1,
            agents: None,
            cap: Some(2.0),
            ceiling: false,
        };
        assert!(run_dialer_bench(&s, &bad, &mut |_| {}).is_err());
    }
}
