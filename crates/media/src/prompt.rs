//! Prompt playback: a [`Prompt`] holds 8 kHz mono audio; a [`Player`] cuts it into 20 ms
//! G.711 frames with RTP numbering, each due at its own time. The caller passes `now`:
//! `poll_transmit(now)` returns every frame that is due, `poll_timeout()` says when the next
//! one will be.

use std::sync::Arc;

use domain::Timestamp;
use thiserror::Error;

use crate::g711::Law;
use crate::limits::{PLAYER_LATE_MS_MAX, PROMPT_SAMPLES_MAX};
use crate::rtp::{RtpError, RtpHeader};
use crate::wav::{self, WavError, WavLimits};

/// One frame of audio lasts this long.
pub const FRAME_MS: u64 = 20;
/// Samples (and G.711 bytes) in one frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PromptError {
    #[error("prompt of {samples} samples is longer than {max}")]
    TooLong { samples: usize, max: usize },
    #[error(transparent)]
    Wav(#[from] WavError),
}

/// 8 kHz mono 16-bit audio to play; cheap to clone (shared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl Prompt {
    pub fn new(samples: Vec<i16>) -> Result<Self, PromptError> {
        if samples.len() > PROMPT_SAMPLES_MAX {
            return Err(PromptError::TooLong { samples: samples.len(), max: PROMPT_SAMPLES_MAX });
        }
        Ok(Prompt { samples: samples.into() })
    }

    /// A prompt from WAV bytes of any common format (see [`wav::decode_8k_mono`]).
    pub fn from_wav(bytes: &[u8], limits: &WavLimits) -> Result<Self, PromptError> {
        Prompt::new(wav::decode_8k_mono(bytes, limits)?)
    }

    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1_000 / u64::from(wav::SAMPLE_RATE_HZ)
    }
}

/// An RTP packet to send at `send_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpFrame {
    pub send_at: Timestamp,
    pub header: RtpHeader,
    pub payload: Vec<u8>,
}

impl RtpFrame {
    pub fn to_bytes(&self) -> Result<Vec<u8>, RtpError> {
        self.header.to_bytes(&self.payload)
    }
}

/// How a [`Player`] numbers and encodes its frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlayerConfig {
    pub law: Law,
    pub ssrc: u32,
    pub first_sequence: u16,
    pub first_timestamp: u32,
    /// Start again at the end (music on hold) instead of finishing.
    pub looping: bool,
}

/// Plays one prompt from `start`: frame `i` is due at `start + 20 ms * i` and carries RTP
/// timestamp `first_timestamp + 160 * i`. A frame more than [`PLAYER_LATE_MS_MAX`] late is
/// skipped (its timestamp is not reused; the sequence number is, so the receiver sees no
/// loss, and the next frame carries the marker bit).
#[derive(Clone, Debug)]
pub struct Player {
    prompt: Prompt,
    config: PlayerConfig,
    start: Timestamp,
    /// Index of the next frame in time.
    frame: u64,
    /// Frames sent, for sequence numbers.
    sent: u64,
    marker_next: bool,
}

impl Player {
    pub fn new(prompt: Prompt, config: PlayerConfig, start: Timestamp) -> Self {
        Player { prompt, config, start, frame: 0, sent: 0, marker_next: true }
    }

    /// Frames in one pass over the prompt (the last one padded with silence).
    fn frames_per_pass(&self) -> u64 {
        self.prompt.samples.len().div_ceil(FRAME_SAMPLES) as u64
    }

    pub fn is_finished(&self) -> bool {
        let per_pass = self.frames_per_pass();
        per_pass == 0 || (!self.config.looping && self.frame >= per_pass)
    }

    fn due_at(&self, frame: u64) -> Timestamp {
        self.start.plus_ms(frame.saturating_mul(FRAME_MS))
    }

    /// When the next frame is due; `None` once finished.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        (!self.is_finished()).then(|| self.due_at(self.frame))
    }

    /// The sequence number the next frame will carry.
    pub fn next_sequence(&self) -> u16 {
        // Sequence numbers wrap modulo 2^16 by definition.
        self.config.first_sequence.wrapping_add(self.sent as u16)
    }

    /// The RTP timestamp the next frame will carry.
    pub fn next_timestamp(&self) -> u32 {
        // RTP timestamps wrap modulo 2^32 by definition.
        self.config.first_timestamp.wrapping_add((self.frame * FRAME_SAMPLES as u64) as u32)
    }

    /// The next frame if it is due at `now`. Call until it returns `None`.
    pub fn poll_transmit(&mut self, now: Timestamp) -> Option<RtpFrame> {
        if self.is_finished() || self.due_at(self.frame) > now {
            return None;
        }
        if now.ms_since(self.due_at(self.frame)) > PLAYER_LATE_MS_MAX {
            // Skip to the frame due now; keep finished prompts finished.
            let mut target = now.ms_since(self.start) / FRAME_MS;
            if !self.config.looping {
                target = target.min(self.frames_per_pass());
            }
            self.frame = target.max(self.frame);
            self.marker_next = true;
            if self.is_finished() {
                return None;
            }
        }
        let samples = self.prompt.samples();
        let len = samples.len() as u64;
        let base = self.frame.saturating_mul(FRAME_SAMPLES as u64);
        let mut payload = Vec::with_capacity(FRAME_SAMPLES);
        for k in 0..FRAME_SAMPLES as u64 {
            // Loops run on through the end into the start, so music has no gap; a prompt
            // ends in silence. `len > 0` here: an empty prompt is finished.
            let at = if self.config.looping { (base + k) % len } else { base + k };
            let sample = usize::try_from(at).ok().and_then(|i| samples.get(i)).copied();
            payload.push(self.config.law.encode(sample.unwrap_or(0)));
        }
        let frame = RtpFrame {
            send_at: self.due_at(self.frame),
            header: RtpHeader {
                marker: self.marker_next,
                payload_type: self.config.law.payload_type(),
                sequence: self.next_sequence(),
                timestamp: self.next_timestamp(),
                ssrc: self.config.ssrc,
            },
            payload,
        };
        self.marker_next = false;
        self.frame += 1;
        self.sent += 1;
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::ULAW_SILENCE;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn config(looping: bool) -> PlayerConfig {
        PlayerConfig {
            law: Law::Pcmu,
            ssrc: 42,
            first_sequence: 65_535,
            first_timestamp: u32::MAX - 159,
            looping,
        }
    }

    fn drain(p: &mut Player, now: Timestamp) -> Vec<RtpFrame> {
        std::iter::from_fn(|| p.poll_transmit(now)).collect()
    }

    #[test]
    fn frames_are_paced_numbered_and_padded() {
        // 2.5 frames of a constant value.
        let prompt = Prompt::new(vec![1_000; 400]).unwrap();
        assert_eq!(prompt.duration_ms(), 50);
        let mut p = Player::new(prompt, config(false), t(10_000));
        assert_eq!(p.poll_timeout(), Some(t(10_000)));
        assert!(drain(&mut p, t(9_999)).is_empty());
        let first = drain(&mut p, t(10_000));
        assert_eq!(first.len(), 1);
        assert_eq!(p.poll_timeout(), Some(t(10_020)));
        let rest = drain(&mut p, t(10_045));
        assert_eq!(rest.len(), 2);
        let frames: Vec<_> = first.into_iter().chain(rest).collect();
        let headers: Vec<_> = frames
            .iter()
            .map(|f| {
                (f.send_at.as_millis(), f.header.marker, f.header.sequence, f.header.timestamp)
            })
            .collect();
        assert_eq!(
            headers,
            vec![
                (10_000, true, 65_535, u32::MAX - 159),
                (10_020, false, 0, 0),
                (10_040, false, 1, 160),
            ]
        );
        assert!(frames.iter().all(|f| f.payload.len() == FRAME_SAMPLES));
        assert!(frames.iter().all(|f| f.header.payload_type == 0 && f.header.ssrc == 42));
        let encoded = Law::Pcmu.encode(1_000);
        assert!(frames[2].payload[..80].iter().all(|&b| b == encoded));
        assert!(frames[2].payload[80..].iter().all(|&b| b == ULAW_SILENCE));
        assert!(p.is_finished());
        assert_eq!(p.poll_timeout(), None);
        assert!(drain(&mut p, t(20_000)).is_empty());
    }

    #[test]
    fn looping_wraps_samples_without_a_gap() {
        let samples: Vec<i16> = (0..240).map(|i| i * 100).collect();
        let prompt = Prompt::new(samples.clone()).unwrap();
        let mut p = Player::new(prompt, PlayerConfig { law: Law::Pcma, ..config(true) }, t(0));
        let frames = drain(&mut p, t(100));
        assert_eq!(frames.len(), 6);
        assert!(!p.is_finished());
        // Frame 1 holds samples 160..240 then 0..80 again.
        let mut decoded = Vec::new();
        Law::Pcma.decode_into(&frames[1].payload, &mut decoded);
        let expected: Vec<i16> = samples[160..].iter().chain(&samples[..80]).copied().collect();
        for (d, e) in decoded.iter().zip(&expected) {
            assert!((d - e).abs() <= e.abs() / 16 + 16);
        }
        decoded.clear();
        Law::Pcma.decode_into(&frames[2].payload, &mut decoded);
        for (d, e) in decoded.iter().zip(&samples[80..]) {
            assert!((d - e).abs() <= e.abs() / 16 + 16);
        }
        assert_eq!(frames[5].header.payload_type, 8);
    }

    #[test]
    fn late_frames_are_skipped_and_marked() {
        let prompt = Prompt::new(vec![0; 160 * 100]).unwrap();
        let mut p = Player::new(prompt, config(false), t(0));
        assert_eq!(drain(&mut p, t(0)).len(), 1);
        // The shell stalls for a second.
        let frames = drain(&mut p, t(1_000));
        assert_eq!(frames.len(), 1);
        assert!(frames[0].header.marker);
        assert_eq!(frames[0].header.sequence, 0);
        assert_eq!(frames[0].header.timestamp, (u32::MAX - 159).wrapping_add(50 * 160));
        assert_eq!(frames[0].send_at, t(1_000));
        // Stalling past the end finishes the prompt.
        assert!(drain(&mut p, t(60_000)).is_empty());
        assert!(p.is_finished());
    }

    #[test]
    fn empty_prompts_finish_at_once_and_bounds_hold() {
        let mut p = Player::new(Prompt::new(vec![]).unwrap(), config(true), t(0));
        assert!(p.is_finished());
        assert_eq!(p.poll_transmit(t(0)), None);
        assert!(matches!(
            Prompt::new(vec![0; PROMPT_SAMPLES_MAX + 1]),
            Err(PromptError::TooLong { .. })
        ));
        let wav = wav::encode(&[5; 320], 1, 8_000).unwrap();
        let prompt = Prompt::from_wav(&wav, &WavLimits::PROMPT).unwrap();
        assert_eq!(prompt.samples(), &[5; 320][..]);
        assert!(Prompt::from_wav(b"nope", &WavLimits::PROMPT).is_err());
    }
}
