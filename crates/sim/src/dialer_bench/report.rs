//! The report: one JSON object (the shape of the benchmark document) or a markdown table.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::{DialerBenchReport, PolicySummary};

fn policy_json(p: &PolicySummary) -> Value {
    json!({
        "talk_min_per_agent_hour": p.talk_min_per_agent_hour,
        "talk_min_per_agent_hour_ci95": p.talk_min_per_agent_hour_ci95,
        "occupancy": p.occupancy,
        "agent_wait_s_mean": p.agent_wait_s_mean,
        "agent_wait_s_p90": p.agent_wait_s_p90,
        "abandon_rate": p.abandon_rate,
        "abandon_rate_worst_window": p.abandon_rate_worst_window,
        "windows_1h_over_cap_share": p.windows_1h_over_cap_share,
        "cap_held_share": p.cap_held_share,
        "dials_per_live_contact": p.dials_per_live_contact,
        "customer_wait_s_max": p.customer_wait_s_max,
    })
}

impl DialerBenchReport {
    pub fn to_json(&self) -> String {
        let cells: Vec<Value> = self
            .cells
            .iter()
            .map(|c| {
                let mut policies = Map::new();
                for (name, p) in &c.policies {
                    policies.insert((*name).to_string(), policy_json(p));
                }
                policies.insert("bound".into(), json!({ "talk_min_per_agent_hour": c.bound }));
                json!({ "agents": c.agents, "cap": c.cap, "policies": policies })
            })
            .collect();
        json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "replications": self.replications,
            "cells": cells,
        })
        .to_string()
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "# Dialer benchmark: scenario {}, seed {}, {} replications\n",
            self.scenario, self.seed, self.replications
        );
        for c in &self.cells {
            let _ = writeln!(
                out,
                "## N = {}, cap = {:.1}% (static ratio {:.3})\n",
                c.agents,
                c.cap * 100.0,
                c.static_ratio
            );
            let _ = writeln!(
                out,
                "| policy | talk-min/agent-h | occupancy | agent wait mean / p90 (s) | abandon | \
                 worst window | 1 h windows over cap | cap held | dials/live | max customer \
                 wait (s) |"
            );
            let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            for (name, p) in &c.policies {
                let _ = writeln!(
                    out,
                    "| {name} | {:.2} ± {:.2} | {:.3} | {:.1} / {:.1} | {:.2}% | {:.2}% | {:.2} | \
                     {:.2} | {:.2} | {:.2} |",
                    p.talk_min_per_agent_hour,
                    p.talk_min_per_agent_hour_ci95,
                    p.occupancy,
                    p.agent_wait_s_mean,
                    p.agent_wait_s_p90,
                    p.abandon_rate * 100.0,
                    p.abandon_rate_worst_window * 100.0,
                    p.windows_1h_over_cap_share,
                    p.cap_held_share,
                    p.dials_per_live_contact,
                    p.customer_wait_s_max,
                );
            }
            let _ = writeln!(out, "| bound | {:.2} | | | | | | | | |\n", c.bound);
        }
        out
    }
}
