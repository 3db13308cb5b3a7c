//! Runs the routing benchmark and prints its report as JSON.
//!
//! `cargo run --profile bench-release -p sim --example routing_bench -- [--agents N]
//! [--tasks N] [--queues N] [--decisions N] [--samples N] [--overflow 0|1] [--seed N]`
//!
//! `bench-release` is `--release` with fat LTO and one codegen unit (about 4% fewer
//! instructions per decision); `--release` builds and runs the same bench.

fn main() {
    let mut cfg = sim::RoutingBenchConfig::standard(1);
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse::<u64>().ok());
        let Some(value) = value else {
            eprintln!("usage: routing_bench [--agents N] [--tasks N] [--queues N] ...");
            std::process::exit(2);
        };
        match pair[0].as_str() {
            "--agents" => cfg.agents = value as usize,
            "--tasks" => cfg.tasks = value as usize,
            "--queues" => cfg.queues = value as usize,
            "--decisions" => cfg.decisions = value,
            "--samples" => cfg.latency_samples = value as usize,
            "--seed" => cfg.seed = value,
            "--overflow" => cfg.overflow_rules = value != 0,
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
    }
    println!("{}", sim::run_routing_bench(&cfg).to_json());
}
