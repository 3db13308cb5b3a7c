//! WAV files in memory, through `hound` over a `Cursor` (no file I/O here): decode any PCM or
//! float WAV to the 8 kHz mono 16-bit audio a G.711 call carries, and encode samples to WAV
//! bytes. Size, duration, rate and channel count are bounded before decoding.

use std::io::Cursor;

use thiserror::Error;

use crate::limits::{WAV_CHANNELS_MAX, WAV_SAMPLE_RATE_HZ_MAX, WAV_SAMPLE_RATE_HZ_MIN};
use crate::resample::Resampler;

/// The rate of G.711 audio.
pub const SAMPLE_RATE_HZ: u32 = 8_000;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WavError {
    #[error("WAV of {bytes} bytes is larger than {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error("WAV of {ms} ms is longer than {max} ms")]
    TooLong { ms: u64, max: u64 },
    #[error("WAV sample rate {0} Hz is not supported")]
    BadSampleRate(u32),
    #[error("WAV with {0} channels is not supported")]
    BadChannels(u16),
    #[error("WAV with {bits}-bit {format} samples is not supported")]
    BadSampleFormat { bits: u16, format: &'static str },
    #[error("{samples} interleaved samples do not fill whole frames of {channels} channels")]
    PartialFrame { samples: usize, channels: u16 },
    #[error("bad WAV: {0}")]
    Format(String),
}

impl From<hound::Error> for WavError {
    fn from(e: hound::Error) -> Self {
        WavError::Format(e.to_string())
    }
}

/// Bounds on an input WAV; chosen by the caller (a prompt upload, a recording check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavLimits {
    pub wav_bytes_max: usize,
    pub duration_ms_max: u64,
}

impl WavLimits {
    /// For announcements and music on hold: 32 MiB, 15 minutes.
    pub const PROMPT: WavLimits =
        WavLimits { wav_bytes_max: 32 * 1024 * 1024, duration_ms_max: 15 * 60 * 1_000 };
}

/// Decoded audio, one `f32` buffer per channel in `[-1, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Channels {
    pub sample_rate_hz: u32,
    pub channels: Vec<Vec<f32>>,
}

/// Decodes every channel of a WAV: 8/16/24/32-bit integer or 32-bit float, any rate within
/// the limits of [`crate::limits`].
pub fn decode_channels(bytes: &[u8], limits: &WavLimits) -> Result<Channels, WavError> {
    if bytes.len() > limits.wav_bytes_max {
        return Err(WavError::TooLarge { bytes: bytes.len(), max: limits.wav_bytes_max });
    }
    let mut reader = hound::WavReader::new(Cursor::new(bytes))?;
    let spec = reader.spec();
    if !(WAV_SAMPLE_RATE_HZ_MIN..=WAV_SAMPLE_RATE_HZ_MAX).contains(&spec.sample_rate) {
        return Err(WavError::BadSampleRate(spec.sample_rate));
    }
    if spec.channels == 0 || spec.channels > WAV_CHANNELS_MAX {
        return Err(WavError::BadChannels(spec.channels));
    }
    let ms = u64::from(reader.duration()) * 1_000 / u64::from(spec.sample_rate);
    if ms > limits.duration_ms_max {
        return Err(WavError::TooLong { ms, max: limits.duration_ms_max });
    }
    let channel_count = usize::from(spec.channels);
    // The header's length may lie; never reserve more than the bytes could hold.
    let frames = (reader.duration() as usize).min(bytes.len() / channel_count);
    let mut channels = vec![Vec::with_capacity(frames); channel_count];
    let mut push = |i: usize, v: f32| channels[i % channel_count].push(v.clamp(-1.0, 1.0));
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f64;
            for (i, s) in reader.samples::<i32>().enumerate() {
                push(i, (f64::from(s?) * scale) as f32);
            }
        }
        (hound::SampleFormat::Float, 32) => {
            for (i, s) in reader.samples::<f32>().enumerate() {
                let s = s?;
                push(i, if s.is_finite() { s } else { 0.0 });
            }
        }
        (format, bits) => {
            let format = match format {
                hound::SampleFormat::Int => "integer",
                hound::SampleFormat::Float => "float",
            };
            return Err(WavError::BadSampleFormat { bits, format });
        }
    }
    Ok(Channels { sample_rate_hz: spec.sample_rate, channels })
}

/// Converts `[-1, 1]` to 16-bit, rounding and saturating.
pub fn to_i16(x: f32) -> i16 {
    // The clamp keeps the cast in range; NaN casts to 0.
    (x * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

/// Decodes a WAV to 8 kHz mono 16-bit: channels are averaged, then resampled
/// (see [`crate::resample`]).
pub fn decode_8k_mono(bytes: &[u8], limits: &WavLimits) -> Result<Vec<i16>, WavError> {
    let decoded = decode_channels(bytes, limits)?;
    let frames = decoded.channels.first().map_or(0, Vec::len);
    let count = decoded.channels.len() as f32;
    let mono: Vec<f32> = (0..frames)
        // hound checks that the data holds whole frames, so every channel has `frames`.
        .map(|i| decoded.channels.iter().filter_map(|c| c.get(i)).sum::<f32>() / count)
        .collect();
    let resampler = Resampler::new(decoded.sample_rate_hz, SAMPLE_RATE_HZ)
        .ok_or(WavError::BadSampleRate(decoded.sample_rate_hz))?;
    Ok(resampler.process(&mono).into_iter().map(to_i16).collect())
}

/// Encodes interleaved 16-bit samples as a WAV file.
pub fn encode(samples: &[i16], channels: u16, sample_rate_hz: u32) -> Result<Vec<u8>, WavError> {
    if channels == 0 || channels > WAV_CHANNELS_MAX {
        return Err(WavError::BadChannels(channels));
    }
    if !(WAV_SAMPLE_RATE_HZ_MIN..=WAV_SAMPLE_RATE_HZ_MAX).contains(&sample_rate_hz) {
        return Err(WavError::BadSampleRate(sample_rate_hz));
    }
    if !samples.len().is_multiple_of(usize::from(channels)) {
        return Err(WavError::PartialFrame { samples: samples.len(), channels });
    }
    let spec = hound::WavSpec {
        channels,
        sample_rate: sample_rate_hz,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
    for &s in samples {
        writer.write_sample(s)?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wav_of<S: hound::Sample + Copy>(spec: hound::WavSpec, samples: &[S]) -> Vec<u8> {
        let mut cursor = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        cursor.into_inner()
    }

    fn spec(channels: u16, rate: u32, bits: u16, float: bool) -> hound::WavSpec {
        let sample_format =
            if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int };
        hound::WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format }
    }

    fn sine(i: usize, rate: u32) -> f64 {
        (2.0 * std::f64::consts::PI * 500.0 * i as f64 / f64::from(rate)).sin()
    }

    fn rms(x: &[i16]) -> f64 {
        let mid = &x[x.len() / 4..3 * x.len() / 4];
        (mid.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / mid.len() as f64).sqrt()
    }

    #[test]
    fn encode_then_decode_8k_is_lossless() {
        let samples: Vec<i16> = (0..800).map(|i| (sine(i, 8_000) * 20_000.0) as i16).collect();
        let bytes = encode(&samples, 1, 8_000).unwrap();
        assert_eq!(bytes.len(), 44 + 1_600);
        assert_eq!(decode_8k_mono(&bytes, &WavLimits::PROMPT).unwrap(), samples);
    }

    #[test]
    fn decodes_every_sample_format_and_downmixes() {
        let rate = 48_000;
        let n = 4_800;
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "8-bit mono",
                wav_of(
                    spec(1, rate, 8, false),
                    &(0..n).map(|i| (sine(i, rate) * 97.0) as i8).collect::<Vec<_>>(),
                ),
            ),
            (
                "16-bit stereo",
                wav_of(
                    spec(2, rate, 16, false),
                    &(0..2 * n).map(|i| (sine(i / 2, rate) * 24_904.0) as i16).collect::<Vec<_>>(),
                ),
            ),
            (
                "24-bit mono",
                wav_of(
                    spec(1, rate, 24, false),
                    &(0..n).map(|i| (sine(i, rate) * 6_375_342.0) as i32).collect::<Vec<_>>(),
                ),
            ),
            (
                "32-bit mono",
                wav_of(
                    spec(1, rate, 32, false),
                    &(0..n).map(|i| (sine(i, rate) * 1.632e9) as i32).collect::<Vec<_>>(),
                ),
            ),
            (
                "float stereo",
                wav_of(
                    spec(2, rate, 32, true),
                    &(0..2 * n).map(|i| (sine(i / 2, rate) * 0.76) as f32).collect::<Vec<_>>(),
                ),
            ),
        ];
        for (name, bytes) in cases {
            let out = decode_8k_mono(&bytes, &WavLimits::PROMPT).unwrap();
            assert_eq!(out.len(), 800, "{name}");
            // Every case is a 500 Hz sine at about 0.76 of full scale.
            let r = rms(&out);
            assert!((r - 0.76 * 32_768.0 / 2f64.sqrt()).abs() < 600.0, "{name}: rms {r}");
        }
        // Stereo with one silent side halves the amplitude.
        let half: Vec<i16> = (0..2 * n)
            .map(|i| if i % 2 == 0 { (sine(i / 2, rate) * 20_000.0) as i16 } else { 0 })
            .collect();
        let out =
            decode_8k_mono(&wav_of(spec(2, rate, 16, false), &half), &WavLimits::PROMPT).unwrap();
        assert!((rms(&out) - 10_000.0 / 2f64.sqrt()).abs() < 300.0);
    }

    #[test]
    fn enforces_limits_and_rejects_garbage() {
        let bytes = encode(&[0; 16_000], 1, 8_000).unwrap();
        let small = WavLimits { wav_bytes_max: 1_000, duration_ms_max: 10_000 };
        assert!(matches!(decode_8k_mono(&bytes, &small), Err(WavError::TooLarge { .. })));
        let short = WavLimits { wav_bytes_max: 1 << 20, duration_ms_max: 1_999 };
        assert_eq!(
            decode_8k_mono(&bytes, &short),
            Err(WavError::TooLong { ms: 2_000, max: 1_999 })
        );
        assert!(matches!(decode_8k_mono(b"RIFF", &WavLimits::PROMPT), Err(WavError::Format(_))));
        let slow = wav_of(spec(1, 100, 16, false), &[0i16; 10]);
        assert_eq!(decode_8k_mono(&slow, &WavLimits::PROMPT), Err(WavError::BadSampleRate(100)));
        let wide = wav_of(spec(9, 8_000, 16, false), &[0i16; 9]);
        assert_eq!(decode_8k_mono(&wide, &WavLimits::PROMPT), Err(WavError::BadChannels(9)));
        assert!(matches!(encode(&[0; 3], 2, 8_000), Err(WavError::PartialFrame { .. })));
        assert_eq!(encode(&[], 0, 8_000), Err(WavError::BadChannels(0)));
        // A truncated data chunk is an error, not a panic.
        assert!(decode_8k_mono(&bytes[..bytes.len() - 1], &WavLimits::PROMPT).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics_on_mutated_wavs(
            edits in proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
            cut in 0usize..120,
        ) {
            let mut bytes = encode(&[1, -2, 3, -4, 5, -6, 7, -8], 2, 16_000).unwrap();
            for (at, v) in edits {
                if let Some(b) = bytes.get_mut(at % 60) {
                    *b = v;
                }
            }
            bytes.truncate(cut);
            let _ = decode_8k_mono(&bytes, &WavLimits::PROMPT);
        }

        #[test]
        fn decode_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let _ = decode_8k_mono(&bytes, &WavLimits::PROMPT);
        }
    }
}
