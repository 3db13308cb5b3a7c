//! The abandon cap holds: a seeded random arrival model, driven purely in this test, runs
//! aggressive policies behind a `CapGuard` and measures the abandon rate independently.

use dialer::{
    AbandonLedger, AbandonRule, AgentPhase, BusyAgent, CapGuard, DialResult, Outcome, Pacer,
    PacingLimits, PacingPolicy, Predictive, PredictiveConfig, Snapshot, StaticRatio,
};
use proptest::prelude::*;

/// SplitMix64: a tiny seeded generator, enough for a test model.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

struct Dial {
    placed_s: u64,
    resolves_s: u64,
    live: bool,
}

struct Agent {
    /// Second its call ends (talk then wrap), or `None` when idle.
    busy_until: Option<u64>,
    busy_since: u64,
}

struct Measured {
    live: u64,
    abandoned: u64,
}

/// One shift of `seconds` with `agents` agents; every decision once a second.
fn run(seed: u64, agents: usize, p_live: f64, seconds: u64, pacer: &mut Pacer) -> Measured {
    let mut rng = Rng(seed);
    let mut dials: Vec<Dial> = Vec::new();
    let mut waiting: Vec<u64> = Vec::new(); // answer second of each waiting live call
    let mut staff: Vec<Agent> =
        (0..agents).map(|_| Agent { busy_until: None, busy_since: 0 }).collect();
    let mut measured = Measured { live: 0, abandoned: 0 };
    let mut ledger = AbandonLedger::new(AbandonRule::Us).expect("valid");
    for now in 0..seconds {
        let now_ms = now * 1_000;
        // Dials that resolve now.
        let mut i = 0;
        while i < dials.len() {
            if dials[i].resolves_s == now {
                let d = dials.swap_remove(i);
                let result = if d.live { DialResult::Live } else { DialResult::NoAnswer };
                let age_ms = (now - d.placed_s) * 1_000;
                pacer.handle_outcome(now_ms, Outcome::DialResolved { result, age_ms });
                if d.live {
                    waiting.push(now);
                }
            } else {
                i += 1;
            }
        }
        // Agents finishing.
        for a in &mut staff {
            if a.busy_until == Some(now) {
                a.busy_until = None;
                let total_ms = (now - a.busy_since) * 1_000;
                let outcome =
                    Outcome::CallCompleted { talk_ms: total_ms * 9 / 10, wrap_ms: total_ms / 10 };
                pacer.handle_outcome(now_ms, outcome);
            }
        }
        // Bridge waiting calls, oldest first, to idle agents.
        waiting.sort_unstable();
        let mut still = Vec::new();
        for answered in waiting.drain(..) {
            if let Some(a) = staff.iter_mut().find(|a| a.busy_until.is_none()) {
                a.busy_since = now;
                a.busy_until = Some(now + rng.between(20, 400));
                measured.live += 1;
                ledger.handle_live_answer(now_ms, false);
                pacer.handle_outcome(now_ms, Outcome::LiveHandled { abandoned: false });
            } else if now >= answered + 2 {
                // Not bridged within 2 s of the answer: abandoned.
                measured.live += 1;
                measured.abandoned += 1;
                ledger.handle_live_answer(now_ms, true);
                pacer.handle_outcome(now_ms, Outcome::LiveHandled { abandoned: true });
            } else {
                still.push(answered);
            }
        }
        waiting = still;
        // Ask for dials.
        let idle = staff.iter().filter(|a| a.busy_until.is_none()).count() as u32;
        let busy: Vec<BusyAgent> = staff
            .iter()
            .filter(|a| a.busy_until.is_some())
            .map(|a| BusyAgent {
                phase: AgentPhase::Talk,
                elapsed_ms: (now - a.busy_since) * 1_000,
            })
            .collect();
        let ages: Vec<u64> = dials.iter().map(|d| (now - d.placed_s) * 1_000).collect();
        let snapshot = Snapshot {
            now_ms,
            idle_agents: idle,
            busy: &busy,
            outstanding_ages_ms: &ages,
            waiting_calls: waiting.len() as u32,
        };
        for _ in 0..pacer.poll_dials(&snapshot) {
            let live = rng.unit() < p_live;
            let after = if live { rng.between(3, 20) } else { rng.between(2, 25) };
            dials.push(Dial { placed_s: now, resolves_s: now + after, live });
        }
    }
    assert_eq!(ledger.abandoned(), measured.abandoned);
    measured
}

fn guarded(policy: Box<dyn PacingPolicy + Send>, cap: f64) -> Pacer {
    let guard = CapGuard::new(policy, AbandonRule::Us, cap).expect("valid cap");
    Pacer::new(Box::new(guard), PacingLimits::new(1_000, 25_000).expect("valid limits"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Over many seeds, an over-dialing policy behind the guard stays within the cap.
    #[test]
    fn the_guard_keeps_the_abandon_rate_under_the_cap(
        seed in any::<u64>(),
        agents in 1usize..30,
        p_live in 0.05f64..0.6,
        ratio in 1.5f64..6.0,
        cap in prop::sample::select(vec![0.01, 0.03, 0.05]),
        predictive in any::<bool>(),
    ) {
        let policy: Box<dyn PacingPolicy + Send> = if predictive {
            Box::new(Predictive::new(PredictiveConfig::new(cap, 25_000)))
        } else {
            Box::new(StaticRatio::new(ratio))
        };
        let mut pacer = guarded(policy, cap);
        let m = run(seed, agents, p_live, 3_600, &mut pacer);
        prop_assert!(
            m.abandoned as f64 <= cap * m.live as f64,
            "{} abandons of {} live answers over a {cap} cap", m.abandoned, m.live
        );
    }
}

/// The guard does not merely stop dialing: it over-dials within its budget.
#[test]
fn the_guarded_policy_still_dials_ahead_and_unguarded_it_breaks_the_cap() {
    let cap = 0.05;
    let mut unguarded = Pacer::new(
        Box::new(StaticRatio::new(4.0)),
        PacingLimits::new(1_000, 25_000).expect("valid limits"),
    );
    let wild = run(7, 20, 0.3, 2 * 3_600, &mut unguarded);
    assert!(wild.abandoned as f64 > cap * wild.live as f64, "the model does abandon calls");
    let mut progressive = Pacer::new(
        Box::new(dialer::Progressive::new()),
        PacingLimits::new(1_000, 25_000).expect("valid limits"),
    );
    let base = run(7, 20, 0.3, 2 * 3_600, &mut progressive);
    assert_eq!(base.abandoned, 0);
    let mut pacer = guarded(Box::new(StaticRatio::new(4.0)), cap);
    let m = run(7, 20, 0.3, 2 * 3_600, &mut pacer);
    assert!(m.abandoned as f64 <= cap * m.live as f64);
    assert!(m.abandoned > 0, "it used some of its budget");
    assert!(m.live > base.live, "more live contacts than progressive: {} vs {}", m.live, base.live);
}
