//! Two-channel call recording: left = customer, right = agent, 8 kHz 16-bit. Frames are placed
//! on one timeline by the time they arrive, so that silence (no packets: hold, DTX, a leg not
//! yet connected) becomes zeros and the channels stay aligned.
//!
//! Placement: each side has a write cursor. A frame whose time is within
//! [`RECORDER_JITTER_MS_MAX`] of the cursor is appended at the cursor (network jitter must
//! not cut or stretch audio); one later than that starts after a gap of zeros; one more than
//! [`RECORDER_AHEAD_MS_MAX`] behind the cursor is dropped (the sender runs fast or sends a
//! burst, and the channels would drift apart).

use domain::Timestamp;

use crate::limits::{RECORDER_AHEAD_MS_MAX, RECORDER_JITTER_MS_MAX, RECORDING_MS_MAX};
use crate::wav::{self, WavError, SAMPLE_RATE_HZ};

const SAMPLES_PER_MS: u64 = SAMPLE_RATE_HZ as u64 / 1_000;

/// Which party a frame comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Left channel.
    Customer,
    /// Right channel.
    Agent,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Customer => 0,
            Side::Agent => 1,
        }
    }
}

/// Records both sides of a call in memory, up to `recording_ms_max`.
#[derive(Clone, Debug)]
pub struct Recorder {
    start: Timestamp,
    samples_max: usize,
    channels: [Vec<i16>; 2],
    truncated: bool,
    dropped_frames: u64,
}

fn samples_of_ms(ms: u64) -> usize {
    usize::try_from(ms.saturating_mul(SAMPLES_PER_MS)).unwrap_or(usize::MAX)
}

impl Recorder {
    /// Starts the timeline at `start`. `recording_ms_max` is capped at [`RECORDING_MS_MAX`].
    pub fn new(start: Timestamp, recording_ms_max: u64) -> Self {
        let samples_max = samples_of_ms(recording_ms_max.min(RECORDING_MS_MAX));
        Recorder {
            start,
            samples_max,
            channels: [Vec::new(), Vec::new()],
            truncated: false,
            dropped_frames: 0,
        }
    }

    /// Adds decoded samples from `side` whose first sample belongs at `at` (for a received
    /// packet, its arrival time: both sides are treated alike).
    pub fn handle_frame(&mut self, side: Side, at: Timestamp, samples: &[i16]) {
        let samples_max = self.samples_max;
        let channel = &mut self.channels[side.index()];
        let cursor = channel.len();
        let position = samples_of_ms(at.ms_since(self.start));
        if position > cursor.saturating_add(samples_of_ms(RECORDER_JITTER_MS_MAX)) {
            channel.resize(position.min(samples_max), 0);
        } else if cursor > position.saturating_add(samples_of_ms(RECORDER_AHEAD_MS_MAX)) {
            self.dropped_frames += 1;
            return;
        }
        let room = samples_max.saturating_sub(channel.len());
        if samples.len() > room || position > samples_max {
            self.truncated = true;
        }
        channel.extend_from_slice(&samples[..samples.len().min(room)]);
    }

    /// Length of the longer channel so far.
    pub fn duration_ms(&self) -> u64 {
        let samples = self.channels.iter().map(Vec::len).max().unwrap_or(0);
        samples as u64 / SAMPLES_PER_MS
    }

    /// The limit was reached and audio was cut.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Frames dropped because their side ran ahead of the clock.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped_frames
    }

    /// The recorded samples of one side.
    pub fn samples(&self, side: Side) -> &[i16] {
        &self.channels[side.index()]
    }

    /// The recording as a stereo WAV (the shorter channel padded with silence).
    pub fn finish(self) -> Result<Vec<u8>, WavError> {
        let [left, right] = &self.channels;
        let frames = left.len().max(right.len());
        let mut interleaved = Vec::with_capacity(2 * frames);
        for i in 0..frames {
            interleaved.push(left.get(i).copied().unwrap_or(0));
            interleaved.push(right.get(i).copied().unwrap_or(0));
        }
        wav::encode(&interleaved, 2, SAMPLE_RATE_HZ)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy;
    use crate::wav::WavLimits;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn tone(n: usize) -> Vec<i16> {
        (0..n).map(|i| ((i as f64 * 0.3).sin() * 10_000.0) as i16).collect()
    }

    #[test]
    fn customer_left_agent_right_and_aligned_in_time() {
        let mut r = Recorder::new(t(1_000), 60_000);
        // The customer talks for the first second; the agent answers 2 s in, for 1 s.
        for i in 0..50 {
            r.handle_frame(Side::Customer, t(1_000 + 20 * i), &tone(160));
        }
        for i in 0..50 {
            r.handle_frame(Side::Agent, t(3_000 + 20 * i), &tone(160));
        }
        assert_eq!(r.samples(Side::Customer).len(), 8_000);
        assert_eq!(r.samples(Side::Agent).len(), 24_000);
        assert!(r.samples(Side::Agent)[..16_000].iter().all(|&s| s == 0));
        assert_eq!(r.duration_ms(), 3_000);
        let wav = r.finish().unwrap();
        let rms = energy::wav_rms_per_channel(&wav, &WavLimits::PROMPT).unwrap();
        assert_eq!(rms.len(), 2);
        // Same audio, one second each, over three seconds: equal energy on both sides.
        assert!(rms[0] > 3_000.0 && (rms[0] - rms[1]).abs() < 10.0, "{rms:?}");
        let decoded = wav::decode_channels(&wav, &WavLimits::PROMPT).unwrap();
        assert_eq!(decoded.channels[0].len(), 24_000);
    }

    #[test]
    fn jitter_does_not_cut_audio_but_gaps_become_silence() {
        let mut r = Recorder::new(t(0), 60_000);
        for at in [0, 27, 38, 66, 80] {
            r.handle_frame(Side::Customer, t(at), &[1; 160]);
        }
        assert_eq!(r.samples(Side::Customer), &[1; 800][..]);
        // Nothing for 400 ms (DTX, hold): zeros up to the next frame's time.
        r.handle_frame(Side::Customer, t(500), &[2; 160]);
        let c = r.samples(Side::Customer);
        assert_eq!(c.len(), 4_000 + 160);
        assert!(c[800..4_000].iter().all(|&s| s == 0));
        assert_eq!(c[4_000], 2);
    }

    #[test]
    fn a_side_running_ahead_is_held_back_and_the_limit_holds() {
        let mut r = Recorder::new(t(0), 1_000);
        // A burst of 30 frames at one instant: 200 ms of lead are kept, the rest dropped.
        for _ in 0..30 {
            r.handle_frame(Side::Agent, t(0), &[3; 160]);
        }
        assert_eq!(r.samples(Side::Agent).len(), 160 * 11);
        assert_eq!(r.dropped_frames(), 19);
        for i in 0..100 {
            r.handle_frame(Side::Customer, t(20 * i), &[4; 160]);
        }
        assert_eq!(r.samples(Side::Customer).len(), 8_000);
        assert!(r.is_truncated());
        r.handle_frame(Side::Customer, t(50_000), &[4; 160]);
        assert_eq!(r.samples(Side::Customer).len(), 8_000);
        assert_eq!(Recorder::new(t(0), u64::MAX).samples_max, samples_of_ms(RECORDING_MS_MAX));
    }

    #[test]
    fn frames_before_the_start_count_as_at_the_start() {
        let mut r = Recorder::new(t(1_000), 1_000);
        r.handle_frame(Side::Customer, t(0), &[5; 160]);
        assert_eq!(r.samples(Side::Customer), &[5; 160][..]);
        let wav = r.finish().unwrap();
        let rms = energy::wav_rms_per_channel(&wav, &WavLimits::PROMPT).unwrap();
        assert!(rms[0] > 4.0 && rms[1] == 0.0);
    }
}
