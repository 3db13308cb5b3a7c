//! Runs the callback simulation over many seeds and prints a JSON summary; stops at the first
//! seed that violates a property and prints it, so the run can be reproduced.
//!
//! `cargo run --release -p sim --example callback_sim -- [--seeds N] [--first S] [--agents N]
//! [--callbacks N]`

use sim::{run_callback_sim, CallbackSimConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (seeds, first) = (arg("--seeds", 1_000), arg("--first", 0));
    let started = std::time::Instant::now();
    let (mut done, mut failed, mut dials, mut steps) = (0, 0, 0, 0);
    for seed in first..first + seeds {
        let mut cfg = CallbackSimConfig::small(seed);
        cfg.agents = arg("--agents", cfg.agents);
        cfg.callbacks = arg("--callbacks", cfg.callbacks);
        match run_callback_sim(&cfg) {
            Ok(r) => {
                done += r.done;
                failed += r.failed;
                dials += r.dials;
                steps += r.steps;
            }
            Err(e) => {
                println!("{{\"seed\": {seed}, \"violation\": {e:?}}}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "{{\"seeds\": {seeds}, \"done\": {done}, \"failed\": {failed}, \"dials\": {dials}, \
         \"steps\": {steps}, \"elapsed_s\": {:.2}}}",
        started.elapsed().as_secs_f64()
    );
}
