//! Property tests: whatever the state and history, pacing respects the lines, and progressive
//! never dials beyond the idle agents.

use dialer::{
    AgentPhase, BusyAgent, DialResult, Outcome, Pacer, PacingLimits, PacingPolicy, Predictive,
    PredictiveConfig, Progressive, Snapshot, StaticRatio, VicidialAdaptive, VicidialDropMode,
};
use proptest::prelude::*;

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        (0u8..4, 0u64..200_000).prop_map(|(r, age_ms)| {
            let result = match r {
                0 => DialResult::Live,
                1 => DialResult::Machine,
                2 => DialResult::FastFail,
                _ => DialResult::NoAnswer,
            };
            Outcome::DialResolved { result, age_ms }
        }),
        any::<bool>().prop_map(|abandoned| Outcome::LiveHandled { abandoned }),
        (0u64..20_000_000, 0u64..2_000_000)
            .prop_map(|(talk_ms, wrap_ms)| Outcome::CallCompleted { talk_ms, wrap_ms }),
    ]
}

fn policies(cap: f64, ratio: f64) -> Vec<Box<dyn PacingPolicy + Send>> {
    vec![
        Box::new(Progressive::new()),
        Box::new(StaticRatio::new(ratio)),
        Box::new(VicidialAdaptive::new(cap, VicidialDropMode::Average)),
        Box::new(Predictive::new(PredictiveConfig::new(cap, 25_000))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn never_more_outstanding_dials_than_lines(
        lines in 1u64..60,
        cap in 0.0f64..0.2,
        ratio in 0.0f64..10.0,
        warm in any::<bool>(),
        history in proptest::collection::vec(outcome(), 0..600),
        steps in proptest::collection::vec(
            (0u32..40, proptest::collection::vec((any::<bool>(), 0u64..10_000_000), 0..40),
             0u32..5), 1..20),
    ) {
        let limits = PacingLimits::new(lines, 25_000).expect("valid limits");
        for policy in policies(cap, ratio) {
            let mut pacer = Pacer::new(policy, limits);
            if warm {
                // Enough history for the predictive policy to predict rather than fall back.
                for i in 0..400u64 {
                    let result = if i % 4 == 0 { DialResult::Live } else { DialResult::NoAnswer };
                    let age_ms = if i % 4 == 0 { 9_000 } else { 25_000 };
                    pacer.handle_outcome(0, Outcome::DialResolved { result, age_ms });
                }
                for i in 0..50u64 {
                    let done = Outcome::CallCompleted { talk_ms: 1_000 * i, wrap_ms: 5_000 };
                    pacer.handle_outcome(0, done);
                }
            }
            for o in &history {
                pacer.handle_outcome(0, *o);
            }
            let mut outstanding: Vec<u64> = Vec::new();
            for (i, (idle, busy, waiting)) in steps.iter().enumerate() {
                let busy: Vec<BusyAgent> = busy
                    .iter()
                    .map(|(talk, e)| BusyAgent {
                        phase: if *talk { AgentPhase::Talk } else { AgentPhase::Wrap },
                        elapsed_ms: *e,
                    })
                    .collect();
                let snap = Snapshot {
                    now_ms: i as u64 * 1_000,
                    idle_agents: *idle,
                    busy: &busy,
                    outstanding_ages_ms: &outstanding,
                    waiting_calls: *waiting,
                };
                let n = pacer.poll_dials(&snap);
                for a in outstanding.iter_mut() {
                    *a += 1_000;
                }
                outstanding.extend(std::iter::repeat_n(0, n as usize));
                prop_assert!(outstanding.len() as u64 <= lines, "{}", pacer.name());
                // Some dials resolve.
                if i % 3 == 2 {
                    outstanding.truncate(outstanding.len() / 2);
                }
            }
        }
    }

    #[test]
    fn progressive_never_exceeds_idle_agents(
        idle in 0u32..1_000,
        outstanding in 0usize..1_000,
        waiting in 0u32..10,
    ) {
        let ages = vec![0u64; outstanding];
        let snap = Snapshot {
            now_ms: 0,
            idle_agents: idle,
            busy: &[],
            outstanding_ages_ms: &ages,
            waiting_calls: waiting,
        };
        let n = Progressive::new().poll_dials(&snap);
        prop_assert!(n as usize + outstanding <= idle as usize || n == 0);
        prop_assert!(n <= idle);
    }
}
