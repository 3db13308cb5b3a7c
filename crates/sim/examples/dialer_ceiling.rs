//! The practical ceiling of a scenario's cells beside the peers it is measured against.
//! `cargo run --release -p sim --example dialer_ceiling -- bench/scenarios/b.toml 0.03 20 10 25 50`
//! prints, for each agent count, the ceiling (the reference elapsed-time rule told each busy
//! agent's exact remaining talk and wrap-up, its threshold tuned so the mean abandon rate meets
//! the cap), ours, the oracle static ratio and VICIdial's adaptive rules, in talk-min/agent-h,
//! on the benchmark's own seeds.

use sim::dialer_bench::{
    replication_seed, run_replications, tune_ceiling, Cell, PolicyKind, RepMetrics, Scenario,
};

fn talk(reps: &[RepMetrics]) -> f64 {
    reps.iter().map(|m| m.talk_min_per_agent_hour).sum::<f64>() / reps.len().max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map_or("bench/scenarios/a.toml", String::as_str);
    let cap: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0.03);
    let reps: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20);
    let agents: Vec<u32> = args.iter().skip(4).filter_map(|a| a.parse().ok()).collect();
    let text = std::fs::read_to_string(path).expect("scenario readable");
    let s = Scenario::parse(&text, "ceiling").expect("scenario valid");
    let seeds: Vec<u64> = (0..reps).map(|r| replication_seed(1, r)).collect();
    println!("| N | ceiling at cap | ceiling ≤ cap (abandon, held) | theta | ours | vicidial | vicidial + 20% |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for n in if agents.is_empty() { vec![10, 25, 50] } else { agents } {
        let cell = Cell { agents: n, cap };
        let c = tune_ceiling(&s, cell, &seeds);
        let ours = talk(&run_replications(&s, cell, PolicyKind::Switchboard, &seeds));
        let vicidial = talk(&run_replications(&s, cell, PolicyKind::Vicidial, &seeds));
        println!(
            "| {n} | {:.2} | {:.2} ({:.2}%, {:.2}) | {:.4} | {ours:.2} | {vicidial:.2} | {:.2} |",
            c.talk_at_cap,
            c.talk_min_per_agent_hour,
            c.abandon_rate * 100.0,
            c.cap_held_share,
            c.theta,
            vicidial * 1.2
        );
    }
}
