//! Sweeps settings of our predictive policy on a scenario and prints one line per setting.
//! `cargo run --release -p sim --example dialer_sweep -- bench/scenarios/a.toml 25 0.03 8 [FIRST] < settings`
//! runs replications FIRST.. (default 0, the benchmark's own seeds; 20 and up hold out fresh ones).
//! Each line of standard input is one setting, `name=value` pairs separated by spaces, for the
//! fields of `dialer::PredictiveConfig` (target_share, fallback_share, gain, theta_initial,
//! learn_dials_min, learn_calls_min, fallback_live_min, fallback_excess, target_margin,
//! crowding_weight). An empty line is the defaults; `static=R` runs the static-ratio baseline
//! at ratio R.

use std::io::BufRead;

use sim::dialer_bench::{
    replication_seed, run_replications, Cell, PolicyKind, RepMetrics, Scenario,
};

fn summary(reps: &[RepMetrics], cap: f64) -> String {
    let n = reps.len() as f64;
    let talk = reps.iter().map(|m| m.talk_min_per_agent_hour).sum::<f64>() / n;
    let ab = reps.iter().map(|m| m.abandon_rate).sum::<f64>() / n;
    let worst = reps.iter().map(|m| m.abandon_rate).fold(0.0, f64::max);
    let held = reps.iter().filter(|m| m.abandon_rate <= cap).count() as f64 / n;
    format!("talk {talk:.3} abandon {:.3}% max {:.3}% held {held:.2}", ab * 100.0, worst * 100.0)
}

fn apply(c: &mut dialer::PredictiveConfig, key: &str, value: f64) -> bool {
    match key {
        "target_share" => c.target_share = value,
        "fallback_share" => c.fallback_share = value,
        "gain" => c.gain = value,
        "theta_initial" => c.theta_initial = value,
        "learn_dials_min" => c.learn_dials_min = value as u64,
        "learn_calls_min" => c.learn_calls_min = value as u64,
        "fallback_live_min" => c.fallback_live_min = value as u64,
        "fallback_excess" => c.fallback_excess = value,
        "target_margin" => c.target_margin = value,
        "crowding_weight" => c.crowding_weight = value,
        _ => return false,
    }
    true
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map_or("bench/scenarios/a.toml", String::as_str);
    let agents: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(25);
    let cap: f64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(0.03);
    let reps: u32 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(8);
    let text = std::fs::read_to_string(path).expect("scenario readable");
    let s = Scenario::parse(&text, "sweep").expect("scenario valid");
    // The first replication's index: 0 runs the benchmark's own seeds; others hold out fresh ones.
    let first: u32 = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(0);
    let seeds: Vec<u64> = (first..first + reps).map(|r| replication_seed(1, r)).collect();
    let cell = Cell { agents, cap };
    let timeout_ms = (s.no_answer_timeout_s * 1_000.0) as u64;
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("standard input readable");
        let mut c = dialer::PredictiveConfig::new(cap, timeout_ms);
        let mut policy = None;
        for pair in line.split_whitespace() {
            let Some((key, value)) = pair.split_once('=') else {
                eprintln!("skipping {pair:?}: not name=value");
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                eprintln!("skipping {pair:?}: not a number");
                continue;
            };
            if key == "static" {
                policy = Some(PolicyKind::StaticRatio(value));
            } else if !apply(&mut c, key, value) {
                eprintln!("skipping {pair:?}: unknown setting");
            }
        }
        let policy = policy.unwrap_or(PolicyKind::SwitchboardWith(c));
        let m = run_replications(&s, cell, policy, &seeds);
        println!("[{line}] {}", summary(&m, cap));
    }
}
