//! Empirical distributions the predictive policy learns online, in 1 s bins.
//!
//! - [`DialModel`]: when dials resolve and how, with exponential forgetting so that a contact
//!   rate that drifts over the shift is followed.
//! - [`DurationModel`]: talk or wrap-up durations, counted without forgetting.

use crate::DialResult;

const BIN_MS: u64 = 1_000;
/// Dial ages tracked: up to the longest no-answer timeout, plus one overflow bin.
pub(crate) const DIAL_BINS: usize = (crate::NO_ANSWER_TIMEOUT_MS_MAX / BIN_MS) as usize + 2;
/// Talk and wrap durations tracked: four hours, the last bin holding everything longer.
pub(crate) const DURATION_BINS: usize = 4 * 3_600;
/// Each dial's weight grows by this factor: the memory is about 3,000 dials.
const DIAL_WEIGHT_GROWTH: f64 = 1.0 / (1.0 - 1.0 / 3_000.0);

fn bin_of(ms: u64, bins: usize) -> usize {
    usize::try_from(ms / BIN_MS).unwrap_or(usize::MAX).min(bins - 1)
}

/// Resolution times of dials, split into live answers and everything.
#[derive(Clone, Debug)]
pub(crate) struct DialModel {
    live: Vec<f64>,
    all: Vec<f64>,
    /// `all` summed from each bin to the end; rebuilt by `prepare`.
    surviving: Vec<f64>,
    weight: f64,
    observed: u64,
    live_observed: u64,
    dirty: bool,
}

impl DialModel {
    pub(crate) fn new() -> DialModel {
        DialModel {
            live: vec![0.0; DIAL_BINS],
            all: vec![0.0; DIAL_BINS],
            surviving: vec![0.0; DIAL_BINS + 1],
            weight: 1.0,
            observed: 0,
            live_observed: 0,
            dirty: false,
        }
    }

    pub(crate) fn observe(&mut self, result: DialResult, age_ms: u64) {
        let b = bin_of(age_ms, DIAL_BINS);
        self.all[b] += self.weight;
        if result == DialResult::Live {
            self.live[b] += self.weight;
            self.live_observed += 1;
        }
        self.observed += 1;
        self.weight *= DIAL_WEIGHT_GROWTH;
        if self.weight > 1e100 {
            // Rescaling keeps the ratios and avoids overflow.
            for x in self.live.iter_mut().chain(self.all.iter_mut()) {
                *x /= self.weight;
            }
            self.weight = 1.0;
        }
        self.dirty = true;
    }

    pub(crate) fn observed(&self) -> u64 {
        self.observed
    }

    pub(crate) fn live_observed(&self) -> u64 {
        self.live_observed
    }

    pub(crate) fn prepare(&mut self) {
        if !self.dirty {
            return;
        }
        let mut acc = 0.0;
        for b in (0..DIAL_BINS).rev() {
            acc += self.all[b];
            self.surviving[b] = acc;
        }
        self.dirty = false;
    }

    /// Writes into `out[t]` the chance that a dial now `age_ms` old is answered live by the end
    /// of bin `t` from now. Needs `prepare` first.
    pub(crate) fn live_by(&self, age_ms: u64, out: &mut [f64]) {
        let a = bin_of(age_ms, DIAL_BINS);
        let alive = self.surviving[a];
        let mut acc = 0.0;
        for (t, o) in out.iter_mut().enumerate() {
            if alive > 0.0 {
                if let Some(l) = self.live.get(a + t) {
                    acc += l / alive;
                }
            }
            *o = acc.min(1.0);
        }
    }
}

/// A duration distribution (talk or wrap-up).
#[derive(Clone, Debug)]
pub(crate) struct DurationModel {
    counts: Vec<u32>,
    /// Observations at or beyond each bin; rebuilt by `prepare`.
    at_least: Vec<f64>,
    observed: u64,
    sum_ms: u64,
    prepared_observed: u64,
}

impl DurationModel {
    pub(crate) fn new() -> DurationModel {
        DurationModel {
            counts: vec![0; DURATION_BINS],
            at_least: vec![0.0; DURATION_BINS + 1],
            observed: 0,
            sum_ms: 0,
            prepared_observed: 0,
        }
    }

    pub(crate) fn observe(&mut self, ms: u64) {
        let b = bin_of(ms, DURATION_BINS);
        self.counts[b] = self.counts[b].saturating_add(1);
        self.observed += 1;
        self.sum_ms = self.sum_ms.saturating_add(ms);
    }

    pub(crate) fn observed(&self) -> u64 {
        self.observed
    }

    /// Rebuilds the survival table when enough is new: every observation while there are few,
    /// then every 2%.
    pub(crate) fn prepare(&mut self) {
        let fresh = self.observed - self.prepared_observed;
        if fresh == 0 || (self.observed > 200 && fresh * 50 < self.observed) {
            return;
        }
        let mut acc = 0.0;
        for b in (0..DURATION_BINS).rev() {
            acc += f64::from(self.counts[b]);
            self.at_least[b] = acc;
        }
        self.prepared_observed = self.observed;
    }

    fn mean_s(&self) -> f64 {
        if self.observed == 0 {
            return 1.0;
        }
        (self.sum_ms as f64 / self.observed as f64 / 1_000.0).max(1.0)
    }

    /// Writes into `out[s]` the chance that a phase already `elapsed_ms` long ends during bin `s`
    /// from now. Past everything observed, a memoryless tail with the observed mean.
    pub(crate) fn ends_in(&self, elapsed_ms: u64, out: &mut [f64]) {
        let e = bin_of(elapsed_ms, DURATION_BINS);
        let alive = self.at_least[e];
        if alive < 1.0 {
            let hazard = 1.0 / self.mean_s();
            let mut left = 1.0;
            for o in out.iter_mut() {
                *o = left * hazard;
                left -= *o;
            }
            return;
        }
        for (s, o) in out.iter_mut().enumerate() {
            let here = self.at_least.get(e + s).copied().unwrap_or(0.0);
            let next = self.at_least.get(e + s + 1).copied().unwrap_or(0.0);
            *o = (here - next) / alive;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_chance_rises_with_age_once_fast_failures_are_past() {
        let mut m = DialModel::new();
        for _ in 0..100 {
            m.observe(DialResult::FastFail, 2_000);
            m.observe(DialResult::Live, 8_500);
            m.observe(DialResult::NoAnswer, 25_000);
        }
        m.prepare();
        let mut young = [0.0; 30];
        let mut old = [0.0; 30];
        m.live_by(0, &mut young);
        m.live_by(7_000, &mut old);
        assert!((young[29] - 1.0 / 3.0).abs() < 0.01, "{}", young[29]);
        assert!((old[29] - 0.5).abs() < 0.01, "{}", old[29]);
        assert_eq!(old[0], 0.0);
        assert!((old[1] - 0.5).abs() < 0.01);
    }

    #[test]
    fn durations_condition_on_elapsed_time() {
        let mut d = DurationModel::new();
        for s in 1..=100 {
            d.observe(s * 1_000);
        }
        d.prepare();
        let mut out = [0.0; 10];
        d.ends_in(95_000, &mut out);
        let total: f64 = out.iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "all end within 6 s: {total}");
        d.ends_in(10 * 3_600_000, &mut out);
        assert!(out.iter().all(|p| *p > 0.0 && *p < 0.02));
    }
}
