//! The oracle baseline: the static ratio whose mean long-run abandon rate, on the very
//! replications it will be measured on, is as close to the cap as a bisection gets from below.

use super::world::{Cell, PolicyKind};
use super::{run_replications, Scenario};

const RATIO_LOW: f64 = 1.0;
const RATIO_HIGH: f64 = 20.0;
const BISECTION_STEPS: u32 = 12;

fn mean_abandon(s: &Scenario, cell: Cell, ratio: f64, seeds: &[u64]) -> f64 {
    let reps = run_replications(s, cell, PolicyKind::StaticRatio(ratio), seeds);
    reps.iter().map(|m| m.abandon_rate).sum::<f64>() / reps.len().max(1) as f64
}

/// The highest ratio found whose mean abandon rate is at or under the cap.
pub fn tune_static_ratio(s: &Scenario, cell: Cell, seeds: &[u64]) -> f64 {
    if mean_abandon(s, cell, RATIO_HIGH, seeds) <= cell.cap {
        return RATIO_HIGH;
    }
    let (mut lo, mut hi) = (RATIO_LOW, RATIO_HIGH);
    for _ in 0..BISECTION_STEPS {
        let mid = (lo + hi) / 2.0;
        if mean_abandon(s, cell, mid, seeds) <= cell.cap {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}
