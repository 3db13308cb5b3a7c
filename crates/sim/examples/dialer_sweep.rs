//! Sweeps settings of our predictive policy on a scenario and prints one line per setting.
//! `cargo run --release -p sim --example dialer_sweep -- bench/scenarios/a.toml 25 0.03 8`

use sim::dialer_bench::{
    replication_seed, run_replications, Cell, PolicyKind, RepMetrics, Scenario,
};

fn summary(reps: &[RepMetrics], cap: f64) -> String {
    let n = reps.len() as f64;
    let talk = reps.iter().map(|m| m.talk_min_per_agent_hour).sum::<f64>() / n;
    let ab = reps.iter().map(|m| m.abandon_rate).sum::<f64>() / n;
    let held = reps.iter().filter(|m| m.abandon_rate <= cap).count() as f64 / n;
    format!("talk {talk:.2} abandon {:.3}% held {held:.2}", ab * 100.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map_or("bench/scenarios/a.toml", String::as_str);
    let agents: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(25);
    let cap: f64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(0.03);
    let reps: u32 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(8);
    let text = std::fs::read_to_string(path).expect("scenario readable");
    let s = Scenario::parse(&text, "sweep").expect("scenario valid");
    let seeds: Vec<u64> = (0..reps).map(|r| replication_seed(1, r)).collect();
    let cell = Cell { agents, cap };
    let timeout_ms = (s.no_answer_timeout_s * 1_000.0) as u64;
    for ratio in [3.5, 4.0] {
        let m = run_replications(&s, cell, PolicyKind::StaticRatio(ratio), &seeds);
        println!("static {ratio}: {}", summary(&m, cap));
    }
    let defaults = dialer::PredictiveConfig::new(cap, timeout_ms);
    let m = run_replications(&s, cell, PolicyKind::SwitchboardWith(defaults), &seeds);
    println!("defaults: {}", summary(&m, cap));
    for (target_share, gain, fallback_share, live_min, excess) in
        [(0.95, 0.15, 0.98, 1_000, 0.0), (0.93, 0.3, 0.98, 1_000, 0.0), (0.93, 0.15, 1.0, 300, 2.0)]
    {
        let mut c = dialer::PredictiveConfig::new(cap, timeout_ms);
        c.target_share = target_share;
        c.gain = gain;
        c.fallback_share = fallback_share;
        c.fallback_live_min = live_min;
        c.fallback_excess = excess;
        let m = run_replications(&s, cell, PolicyKind::SwitchboardWith(c), &seeds);
        println!(
            "share {target_share} gain {gain} fb {fallback_share}/{live_min}/{excess}: {}",
            summary(&m, cap)
        );
    }
}
