//! Sample-rate conversion by windowed sinc: a Hann-windowed sinc kernel with
//! [`ZERO_CROSSINGS`] zero crossings on each side, read from a precomputed table with linear
//! interpolation between its entries. When downsampling, the kernel is stretched so that its
//! cutoff sits at 90% of the output's Nyquist frequency: that is the anti-aliasing low-pass.
//! Output is normalized by the sum of the weights, so DC passes unchanged even at the edges.
//!
//! Quality is well past what G.711 can carry (an 8-bit logarithmic codec); speed is about
//! `2 * ZERO_CROSSINGS * from_hz / to_hz` multiply-adds per output sample.

/// Zero crossings of the sinc on each side of the kernel's centre.
pub const ZERO_CROSSINGS: usize = 8;
/// Table entries per zero crossing; the kernel is linearly interpolated between them.
const TABLE_STEPS_PER_CROSSING: usize = 256;
/// When downsampling, the cutoff as a fraction of the output's Nyquist frequency.
const CUTOFF_FRACTION: f64 = 0.9;

/// A converter from one sample rate to another; build once, use for many buffers.
#[derive(Clone, Debug)]
pub struct Resampler {
    from_hz: u32,
    to_hz: u32,
    /// Cutoff relative to the input's Nyquist frequency (1.0 = no low-pass).
    cutoff: f64,
    /// The kernel on `[0, ZERO_CROSSINGS]` zero crossings, one entry past the end.
    table: Vec<f32>,
}

impl Resampler {
    /// `None` if either rate is zero.
    pub fn new(from_hz: u32, to_hz: u32) -> Option<Self> {
        if from_hz == 0 || to_hz == 0 {
            return None;
        }
        let cutoff = if to_hz < from_hz {
            f64::from(to_hz) / f64::from(from_hz) * CUTOFF_FRACTION
        } else {
            1.0
        };
        let len = ZERO_CROSSINGS * TABLE_STEPS_PER_CROSSING + 2;
        let table = (0..len)
            .map(|i| {
                let u = i as f64 / TABLE_STEPS_PER_CROSSING as f64;
                let sinc = if u == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * u).sin() / (std::f64::consts::PI * u)
                };
                let v = (u / ZERO_CROSSINGS as f64).min(1.0);
                let hann = 0.5 * (1.0 + (std::f64::consts::PI * v).cos());
                (sinc * hann) as f32
            })
            .collect();
        Some(Resampler { from_hz, to_hz, cutoff, table })
    }

    fn kernel(&self, crossings: f64) -> f64 {
        let pos = crossings * TABLE_STEPS_PER_CROSSING as f64;
        // pos >= 0; the float-to-int cast saturates, and `get` bounds the index.
        let i = pos as usize;
        let frac = pos - i as f64;
        match (self.table.get(i), self.table.get(i + 1)) {
            (Some(&a), Some(&b)) => f64::from(a) + (f64::from(b) - f64::from(a)) * frac,
            _ => 0.0,
        }
    }

    /// Number of output samples for `input_len` input samples.
    pub fn output_len(&self, input_len: usize) -> usize {
        let n = input_len as u128 * u128::from(self.to_hz) / u128::from(self.from_hz);
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    /// Converts a whole buffer (mono, any scale).
    pub fn process(&self, input: &[f32]) -> Vec<f32> {
        if self.from_hz == self.to_hz {
            return input.to_vec();
        }
        let step = f64::from(self.from_hz) / f64::from(self.to_hz);
        let half_width = ZERO_CROSSINGS as f64 / self.cutoff;
        let last = input.len() as f64 - 1.0;
        (0..self.output_len(input.len()))
            .map(|j| {
                let t = j as f64 * step;
                let first = (t - half_width).ceil().max(0.0) as usize;
                let end = (t + half_width).floor().min(last).max(0.0) as usize;
                let (mut sum, mut weights) = (0.0, 0.0);
                for (i, &x) in input.iter().enumerate().take(end + 1).skip(first) {
                    let w = self.kernel((t - i as f64).abs() * self.cutoff);
                    sum += f64::from(x) * w;
                    weights += w;
                }
                if weights.abs() < 1e-9 {
                    0.0
                } else {
                    (sum / weights) as f32
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, rate: u32, seconds: f64) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    /// RMS of the middle half, away from edge effects.
    fn rms_middle(x: &[f32]) -> f64 {
        let mid = &x[x.len() / 4..3 * x.len() / 4];
        (mid.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / mid.len() as f64).sqrt()
    }

    fn zero_crossings(x: &[f32]) -> usize {
        x.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count()
    }

    #[test]
    fn downsampling_keeps_speech_band_tones() {
        for from in [44_100, 48_000, 16_000, 11_025] {
            let r = Resampler::new(from, 8_000).unwrap();
            let out = r.process(&tone(1_000.0, from, 1.0));
            assert_eq!(out.len(), 8_000);
            let rms = rms_middle(&out);
            assert!((rms - 0.5f64.sqrt()).abs() < 0.02, "{from}: rms {rms}");
            // 1 kHz for one second: about 2000 zero crossings.
            let zc = zero_crossings(&out) as i64;
            assert!((zc - 2_000).abs() <= 4, "{from}: {zc} crossings");
        }
    }

    #[test]
    fn downsampling_removes_what_would_alias() {
        // 6 kHz at 48 kHz would fold to 2 kHz at 8 kHz without the low-pass.
        let r = Resampler::new(48_000, 8_000).unwrap();
        let out = r.process(&tone(6_000.0, 48_000, 0.5));
        assert!(rms_middle(&out) < 0.01, "rms {}", rms_middle(&out));
    }

    #[test]
    fn upsampling_and_identity() {
        let r = Resampler::new(8_000, 16_000).unwrap();
        let input = tone(440.0, 8_000, 0.5);
        let out = r.process(&input);
        assert_eq!(out.len(), 8_000);
        // Input samples fall on even output samples.
        for (i, &x) in input.iter().enumerate().skip(100).take(3_000) {
            assert!((out[2 * i] - x).abs() < 1e-3);
        }
        let same = Resampler::new(8_000, 8_000).unwrap();
        assert_eq!(same.process(&input), input);
        assert!(Resampler::new(0, 8_000).is_none());
        assert!(r.process(&[]).is_empty());
        assert_eq!(Resampler::new(48_000, 8_000).unwrap().process(&[0.5; 12]), vec![0.5; 2]);
    }

    #[test]
    fn dc_passes_unchanged() {
        let r = Resampler::new(22_050, 8_000).unwrap();
        for &v in &r.process(&[0.25; 2_000]) {
            assert!((v - 0.25).abs() < 1e-5);
        }
    }
}
