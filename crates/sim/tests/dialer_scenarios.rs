//! The benchmark's scenario files parse and validate, and one of them runs a tiny cell.

use std::path::Path;

use sim::dialer_bench::{simulate, Cell, PolicyKind, Scenario};

fn scenarios_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/scenarios")
}

#[test]
fn every_scenario_file_is_valid() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("bench/scenarios exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).expect("readable");
            let stem = path.file_stem().expect("has a stem").to_string_lossy().to_string();
            let s =
                Scenario::parse(&text, &stem).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(s.name(), stem);
            seen.push(stem);
        }
    }
    seen.sort();
    for id in ["a", "b", "c"] {
        assert!(seen.iter().any(|s| s == id), "bench/scenarios/{id}.toml missing: {seen:?}");
    }
}

#[test]
fn scenario_a_bound_is_54_and_a_short_shift_runs() {
    let text = std::fs::read_to_string(scenarios_dir().join("a.toml")).expect("readable");
    let mut s = Scenario::parse(&text, "a").expect("valid");
    assert!((s.bound_talk_min_per_agent_hour() - 54.0).abs() < 1e-9);
    s.shift_min = 40.0;
    s.warmup_min = 10.0;
    let m = simulate(&s, Cell { agents: 5, cap: 0.03 }, PolicyKind::Switchboard, 1);
    assert!(m.live_answered > 0 && m.customer_wait_s_max <= 2.0, "{m:?}");
}
