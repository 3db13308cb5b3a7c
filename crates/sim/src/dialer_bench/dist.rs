//! Time distributions of the scenario files, in seconds, sampled from a caller's stream.

use rand::Rng;
use serde::Deserialize;

/// Tries of the rejection samplers before settling for the mean (never reached in practice).
const REJECTION_TRIES_MAX: u32 = 1_000;

/// A distribution of a duration in seconds, as written in a scenario file:
/// `{ dist = "gamma", shift = 2.0, k = 3.0, theta = 2.5 }`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    Fixed {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    Exponential {
        mean: f64,
    },
    /// Parameterised by its mean and coefficient of variation.
    Lognormal {
        mean: f64,
        cv: f64,
    },
    /// `shift + Gamma(k, theta)`.
    Gamma {
        #[serde(default)]
        shift: f64,
        k: f64,
        theta: f64,
    },
}

impl Dist {
    /// Checks the parameters; `Err` names the offending one.
    pub fn validate(&self) -> Result<(), String> {
        let finite_nonneg = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number >= 0, got {v}"))
            }
        };
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number > 0, got {v}"))
            }
        };
        match *self {
            Dist::Fixed { value } => finite_nonneg("value", value),
            Dist::Uniform { min, max } => {
                finite_nonneg("min", min)?;
                finite_nonneg("max", max)?;
                if min > max {
                    return Err(format!("min ({min}) must not exceed max ({max})"));
                }
                Ok(())
            }
            Dist::Normal { mean, sd } => {
                finite_nonneg("mean", mean)?;
                finite_nonneg("sd", sd)
            }
            Dist::Exponential { mean } => positive("mean", mean),
            Dist::Lognormal { mean, cv } => {
                positive("mean", mean)?;
                finite_nonneg("cv", cv)
            }
            Dist::Gamma { shift, k, theta } => {
                finite_nonneg("shift", shift)?;
                positive("k", k)?;
                positive("theta", theta)
            }
        }
    }

    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, .. }
            | Dist::Exponential { mean }
            | Dist::Lognormal { mean, .. } => mean,
            Dist::Gamma { shift, k, theta } => shift + k * theta,
        }
    }

    /// A sample, never negative.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> f64 {
        let x = match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => min + (max - min) * rng.gen::<f64>(),
            Dist::Normal { mean, sd } => mean + sd * std_normal(rng),
            Dist::Exponential { mean } => -mean * (1.0 - rng.gen::<f64>()).ln(),
            Dist::Lognormal { mean, cv } => {
                let s2 = (1.0 + cv * cv).ln();
                (mean.ln() - s2 / 2.0 + s2.sqrt() * std_normal(rng)).exp()
            }
            Dist::Gamma { shift, k, theta } => shift + theta * gamma(rng, k),
        };
        if x.is_finite() {
            x.max(0.0)
        } else {
            self.mean()
        }
    }
}

fn std_normal<R: Rng>(rng: &mut R) -> f64 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u1 = 1.0 - rng.gen::<f64>();
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Gamma(k, 1) by Marsaglia and Tsang; k < 1 through the boost `G(k+1) * U^(1/k)`.
fn gamma<R: Rng>(rng: &mut R, k: f64) -> f64 {
    if k < 1.0 {
        let u = 1.0 - rng.gen::<f64>();
        return gamma(rng, k + 1.0) * u.powf(1.0 / k);
    }
    let d = k - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    for _ in 0..REJECTION_TRIES_MAX {
        let x = std_normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - rng.gen::<f64>();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sample_mean(d: Dist) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        (m, v.sqrt())
    }

    #[test]
    fn samplers_match_their_moments() {
        let (m, sd) = sample_mean(Dist::Gamma { shift: 2.0, k: 3.0, theta: 2.5 });
        assert!((m - 9.5).abs() < 0.15 && (sd - 4.33).abs() < 0.15, "{m} {sd}");
        let (m, sd) = sample_mean(Dist::Lognormal { mean: 180.0, cv: 1.0 });
        assert!((m - 180.0).abs() < 6.0 && (sd - 180.0).abs() < 20.0, "{m} {sd}");
        let (m, _) = sample_mean(Dist::Exponential { mean: 20.0 });
        assert!((m - 20.0).abs() < 0.6, "{m}");
        let (m, _) = sample_mean(Dist::Gamma { shift: 0.0, k: 0.5, theta: 2.0 });
        assert!((m - 1.0).abs() < 0.05, "{m}");
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = Dist::Uniform { min: 3.0, max: 1.0 }.validate().unwrap_err();
        assert!(e.contains("min"), "{e}");
        let e = Dist::Gamma { shift: 0.0, k: -1.0, theta: 1.0 }.validate().unwrap_err();
        assert!(e.starts_with('k'), "{e}");
    }
}
