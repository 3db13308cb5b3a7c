//! Signal energy: RMS of samples or of each channel of a WAV, in 16-bit units. Tests use it
//! to show which channel of a recording holds the audio.

use crate::wav::{self, WavError, WavLimits};

/// Root mean square of 16-bit samples (0 for none).
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// RMS of each channel of a WAV, scaled to 16-bit units whatever the sample format.
pub fn wav_rms_per_channel(bytes: &[u8], limits: &WavLimits) -> Result<Vec<f64>, WavError> {
    let decoded = wav::decode_channels(bytes, limits)?;
    Ok(decoded
        .channels
        .iter()
        .map(|c| {
            if c.is_empty() {
                return 0.0;
            }
            let sum: f64 = c.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
            (sum / c.len() as f64).sqrt() * 32_768.0
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_of_known_signals() {
        assert_eq!(rms(&[]), 0.0);
        assert_eq!(rms(&[3, -3, 3, -3]), 3.0);
        let wav = wav::encode(&[1_000, 0, -1_000, 0], 2, 8_000).unwrap();
        let per_channel = wav_rms_per_channel(&wav, &WavLimits::PROMPT).unwrap();
        assert_eq!(per_channel, vec![1_000.0, 0.0]);
    }
}
