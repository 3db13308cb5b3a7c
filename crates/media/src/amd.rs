//! Answering-machine detection (AMD): after an outbound call is answered, listen to the
//! callee's first words and tell a person from a recorded greeting.
//!
//! The idea is the one every dialer uses, in our own words: a person picks up and says
//! something short ("Hello?") and then waits for us; a machine starts talking after a pause
//! and goes on for several seconds ("Hi, you have reached ... please leave a message after
//! the tone"). So, on frames of 8 kHz audio classified as voice or silence by their energy:
//!
//! - no word within `initial_silence_ms_max` of the answer: a machine (a person says
//!   something; a machine that records at once is silent);
//! - a greeting (from its first word to its last voiced frame, short pauses included) longer
//!   than `greeting_ms_max`, or more than `words_max` words: a machine;
//! - a greeting followed by `after_greeting_silence_ms` of silence: a person, waiting;
//! - nothing decided after `total_ms_max` of audio: not sure (callers treat it as a person,
//!   so nobody is hung up on for a slow start).
//!
//! After a machine verdict the detector keeps listening for the end of the greeting (the
//! beep is short; what follows is the machine recording silence): `greeting_end_silence_ms`
//! of silence, or `greeting_end_ms_max` after the verdict at the latest. A message played
//! then lands on the recording whole.
//!
//! Time: the detector counts audio, 8 samples a millisecond, on its own timeline from the
//! answer. `now` only fills gaps: when frames stop coming (a peer that sends nothing, lost
//! packets), time beyond [`GAP_TOLERANCE_MS`] is counted as silence, so a verdict comes
//! even if no audio ever arrives. Nothing here reads a clock.

use std::collections::VecDeque;

use domain::Timestamp;
use thiserror::Error;

/// Samples a millisecond (G.711 telephony audio).
const SAMPLES_PER_MS: u64 = 8;
/// Largest frame accepted: 60 ms (RTP packets carry 10 to 60 ms of G.711).
pub const FRAME_SAMPLES_MAX: usize = 480;
/// A wall-clock gap beyond the audio timeline longer than this counts as silence.
pub const GAP_TOLERANCE_MS: u64 = 300;
/// Longest setting of any duration in [`AmdConfig`].
pub const SETTING_MS_MAX: u64 = 60_000;
/// Most words a config may allow before calling a machine.
pub const WORDS_MAX: u32 = 100;
/// Events held until polled (a verdict, then the end of the greeting).
const EVENTS_QUEUED_MAX: usize = 4;

/// The detector's thresholds. [`AmdConfig::default`] holds values measured on espeak-ng
/// greetings and short answers (see the tests).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AmdConfig {
    /// RMS (16-bit units) from which a frame is voice; below it is silence.
    pub voice_rms_min: f64,
    /// Voice must last this long to count as a word (clicks and noise bursts do not).
    pub word_ms_min: u64,
    /// Silence this long ends a word.
    pub between_words_silence_ms: u64,
    /// No word for this long after the answer: a machine.
    pub initial_silence_ms_max: u64,
    /// A greeting longer than this: a machine.
    pub greeting_ms_max: u64,
    /// More words than this in the greeting: a machine.
    pub words_max: u32,
    /// Silence this long after a short greeting: a person.
    pub after_greeting_silence_ms: u64,
    /// Audio analysed at most before the verdict is "not sure".
    pub total_ms_max: u64,
    /// After a machine verdict, silence this long ends its greeting.
    pub greeting_end_silence_ms: u64,
    /// After a machine verdict, its greeting counts as ended this long later anyway.
    pub greeting_end_ms_max: u64,
}

impl Default for AmdConfig {
    fn default() -> Self {
        AmdConfig {
            voice_rms_min: 400.0,
            word_ms_min: 100,
            between_words_silence_ms: 100,
            initial_silence_ms_max: 2_500,
            greeting_ms_max: 1_500,
            words_max: 3,
            after_greeting_silence_ms: 800,
            total_ms_max: 5_000,
            greeting_end_silence_ms: 1_000,
            greeting_end_ms_max: 20_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AmdError {
    #[error("{field} must be 1 to {max}")]
    Setting { field: &'static str, max: u64 },
    #[error("voice_rms_min must be between 1 and 32767")]
    Threshold,
    #[error("a frame holds 1 to {FRAME_SAMPLES_MAX} samples, not {0}")]
    FrameSize(usize),
}

impl AmdConfig {
    /// Checks every setting is within its bounds.
    pub fn validate(&self) -> Result<(), AmdError> {
        if !(1.0..32_768.0).contains(&self.voice_rms_min) {
            return Err(AmdError::Threshold);
        }
        let durations = [
            ("word_ms_min", self.word_ms_min),
            ("between_words_silence_ms", self.between_words_silence_ms),
            ("initial_silence_ms_max", self.initial_silence_ms_max),
            ("greeting_ms_max", self.greeting_ms_max),
            ("after_greeting_silence_ms", self.after_greeting_silence_ms),
            ("total_ms_max", self.total_ms_max),
            ("greeting_end_silence_ms", self.greeting_end_silence_ms),
            ("greeting_end_ms_max", self.greeting_end_ms_max),
        ];
        for (field, ms) in durations {
            if !(1..=SETTING_MS_MAX).contains(&ms) {
                return Err(AmdError::Setting { field, max: SETTING_MS_MAX });
            }
        }
        if !(1..=WORDS_MAX).contains(&self.words_max) {
            return Err(AmdError::Setting { field: "words_max", max: u64::from(WORDS_MAX) });
        }
        Ok(())
    }
}

/// Why the detector decided what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A short greeting, then silence: someone waiting for us to speak.
    Human,
    /// Nothing said for `initial_silence_ms_max`.
    MachineInitialSilence,
    /// A greeting longer than `greeting_ms_max`.
    MachineLongGreeting,
    /// More than `words_max` words.
    MachineManyWords,
    /// `total_ms_max` of audio without a decision.
    NotSure,
}

impl Verdict {
    pub const fn is_machine(self) -> bool {
        matches!(
            self,
            Verdict::MachineInitialSilence
                | Verdict::MachineLongGreeting
                | Verdict::MachineManyWords
        )
    }
}

/// What the detector reports, each once, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmdEvent {
    /// The decision, `at_ms` of audio after the answer.
    Verdict { verdict: Verdict, at_ms: u64 },
    /// After a machine verdict: its greeting is over (silence, or the cap), `at_ms` after the
    /// answer.
    GreetingEnded { at_ms: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No word heard yet.
    Initial,
    /// Listening to the greeting; `start` is its first voiced sample.
    Greeting {
        start: u64,
    },
    /// A machine: waiting for its greeting to end; `since` is the verdict.
    MachineGreeting {
        since: u64,
    },
    Done,
}

/// One call's detector: frames in (`handle_frame`), events out (`poll_event`).
#[derive(Clone, Debug)]
pub struct Detector {
    config: AmdConfig,
    /// When the call was answered: sample 0 of the timeline.
    start: Timestamp,
    /// Samples analysed so far (audio and gaps).
    position: u64,
    phase: Phase,
    voiced_run: u64,
    silent_run: u64,
    in_word: bool,
    words: u32,
    events: VecDeque<AmdEvent>,
}

impl Detector {
    /// A detector for a call answered at `start`.
    pub fn new(config: AmdConfig, start: Timestamp) -> Result<Detector, AmdError> {
        config.validate()?;
        Ok(Detector {
            config,
            start,
            position: 0,
            phase: Phase::Initial,
            voiced_run: 0,
            silent_run: 0,
            in_word: false,
            words: 0,
            events: VecDeque::new(),
        })
    }

    pub fn config(&self) -> &AmdConfig {
        &self.config
    }

    /// Words heard in the greeting so far.
    pub fn words(&self) -> u32 {
        self.words
    }

    /// True once the detector has nothing more to say.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// A frame of 8 kHz audio received at `now`. Frames must follow each other; a gap in
    /// time before this one counts as silence.
    pub fn handle_frame(&mut self, now: Timestamp, samples: &[i16]) -> Result<(), AmdError> {
        if samples.is_empty() || samples.len() > FRAME_SAMPLES_MAX {
            return Err(AmdError::FrameSize(samples.len()));
        }
        self.fill_gap(now);
        let voiced = crate::energy::rms(samples) >= self.config.voice_rms_min;
        self.step(samples.len() as u64, voiced);
        Ok(())
    }

    /// Time passes without frames: counts it as silence beyond the gap tolerance.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.fill_gap(now);
    }

    /// When to call `handle_timeout` if no frame comes before.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        if self.phase == Phase::Done {
            return None;
        }
        // Checking every 100 ms past the tolerance is enough: verdicts are 20 ms coarse.
        let at_ms = self.position / SAMPLES_PER_MS + GAP_TOLERANCE_MS + 100;
        Some(self.start.plus_ms(at_ms))
    }

    pub fn poll_event(&mut self) -> Option<AmdEvent> {
        self.events.pop_front()
    }

    fn fill_gap(&mut self, now: Timestamp) {
        let behind_ms = now.ms_since(self.start).saturating_sub(self.position / SAMPLES_PER_MS);
        if behind_ms <= GAP_TOLERANCE_MS {
            return;
        }
        // In 20 ms steps, so verdicts fall where they would with silent frames; bounded by
        // what the detector can still need.
        let cap_ms = self.config.total_ms_max + self.config.greeting_end_ms_max + 1_000;
        let mut left = behind_ms.min(cap_ms) * SAMPLES_PER_MS;
        while left > 0 && self.phase != Phase::Done {
            let n = left.min(160);
            self.step(n, false);
            left -= n;
        }
    }

    fn ms(&self, ms: u64) -> u64 {
        ms * SAMPLES_PER_MS
    }

    fn step(&mut self, n: u64, voiced: bool) {
        self.position = self.position.saturating_add(n);
        if voiced {
            self.voiced_run = self.voiced_run.saturating_add(n);
            self.silent_run = 0;
        } else {
            self.silent_run = self.silent_run.saturating_add(n);
            self.voiced_run = 0;
        }
        let c = self.config;
        match self.phase {
            Phase::Initial => {
                if self.voiced_run >= self.ms(c.word_ms_min) {
                    self.phase = Phase::Greeting { start: self.position - self.voiced_run };
                    self.in_word = true;
                    self.words = 1;
                } else if self.position >= self.ms(c.initial_silence_ms_max) {
                    self.decide(Verdict::MachineInitialSilence);
                }
            }
            Phase::Greeting { start } => {
                if voiced && !self.in_word && self.voiced_run >= self.ms(c.word_ms_min) {
                    self.in_word = true;
                    self.words = self.words.saturating_add(1);
                } else if !voiced && self.silent_run >= self.ms(c.between_words_silence_ms) {
                    self.in_word = false;
                }
                let greeting = (self.position - self.silent_run).saturating_sub(start);
                if self.words > c.words_max {
                    self.decide(Verdict::MachineManyWords);
                } else if greeting > self.ms(c.greeting_ms_max) {
                    self.decide(Verdict::MachineLongGreeting);
                } else if self.silent_run >= self.ms(c.after_greeting_silence_ms) {
                    self.decide(Verdict::Human);
                }
            }
            Phase::MachineGreeting { .. } => {
                self.check_greeting_end();
                return;
            }
            Phase::Done => return,
        }
        if matches!(self.phase, Phase::Initial | Phase::Greeting { .. })
            && self.position >= self.ms(c.total_ms_max)
        {
            self.decide(Verdict::NotSure);
        }
    }

    fn decide(&mut self, verdict: Verdict) {
        self.push(AmdEvent::Verdict { verdict, at_ms: self.position / SAMPLES_PER_MS });
        self.phase = if verdict.is_machine() {
            Phase::MachineGreeting { since: self.position }
        } else {
            Phase::Done
        };
        self.check_greeting_end();
    }

    /// Ends a machine's greeting after enough silence (already true when the verdict was
    /// initial silence) or at the cap.
    fn check_greeting_end(&mut self) {
        let Phase::MachineGreeting { since } = self.phase else { return };
        if self.silent_run >= self.ms(self.config.greeting_end_silence_ms)
            || self.position - since >= self.ms(self.config.greeting_end_ms_max)
        {
            self.push(AmdEvent::GreetingEnded { at_ms: self.position / SAMPLES_PER_MS });
            self.phase = Phase::Done;
        }
    }

    fn push(&mut self, event: AmdEvent) {
        if self.events.len() < EVENTS_QUEUED_MAX {
            self.events.push_back(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crude voice: a 300 Hz tone with a 5 Hz tremolo, loud enough to be voice.
    fn voice(ms: u64) -> Vec<i16> {
        (0..ms * 8)
            .map(|i| {
                let t = i as f64 / 8_000.0;
                let level = 6_000.0 * (0.6 + 0.4 * (2.0 * std::f64::consts::PI * 5.0 * t).sin());
                (level * (2.0 * std::f64::consts::PI * 300.0 * t).sin()) as i16
            })
            .collect()
    }

    fn silence(ms: u64) -> Vec<i16> {
        vec![0; (ms * 8) as usize]
    }

    /// Low noise from a fixed linear congruential sequence (well below the voice threshold).
    fn noise(ms: u64, amplitude: i32) -> Vec<i16> {
        let mut x: u32 = 12_345;
        (0..ms * 8)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((x >> 16) as i32 % (2 * amplitude + 1) - amplitude) as i16
            })
            .collect()
    }

    fn words(pattern: &[(u64, u64)]) -> Vec<i16> {
        let mut out = Vec::new();
        for &(on, off) in pattern {
            out.extend(voice(on));
            out.extend(silence(off));
        }
        out
    }

    /// Feeds `audio` in 20 ms frames in real time from t=0; returns every event.
    fn run(config: AmdConfig, audio: &[i16]) -> Vec<AmdEvent> {
        let mut d = Detector::new(config, Timestamp::from_millis(0)).expect("valid config");
        let mut events = Vec::new();
        for (i, frame) in audio.chunks(160).enumerate() {
            let now = Timestamp::from_millis(i as i64 * 20 + 20);
            d.handle_frame(now, frame).expect("a valid frame");
            events.extend(std::iter::from_fn(|| d.poll_event()));
        }
        events
    }

    fn verdict(events: &[AmdEvent]) -> Option<(Verdict, u64)> {
        events.iter().find_map(|e| match e {
            AmdEvent::Verdict { verdict, at_ms } => Some((*verdict, *at_ms)),
            _ => None,
        })
    }

    #[test]
    fn a_short_hello_then_silence_is_a_person() {
        let mut audio = silence(300);
        audio.extend(words(&[(450, 1_500)]));
        let events = run(AmdConfig::default(), &audio);
        // 300 ms before, 450 ms of hello, 800 ms of silence.
        assert_eq!(verdict(&events), Some((Verdict::Human, 1_560)), "{events:?}");
        assert_eq!(events.len(), 1, "nothing after a person: {events:?}");
    }

    #[test]
    fn two_short_words_are_still_a_person() {
        let audio = words(&[(300, 200), (350, 1_000)]);
        assert_eq!(verdict(&run(AmdConfig::default(), &audio)).map(|v| v.0), Some(Verdict::Human));
    }

    #[test]
    fn a_long_greeting_is_a_machine_and_its_end_is_reported() {
        // Words of 250 ms with 150 ms pauses for 4 s (the pauses do not end the greeting),
        // then a beep, then the machine records silence.
        let mut audio = silence(400);
        let config = AmdConfig { words_max: 50, ..AmdConfig::default() };
        audio.extend(words(&[(250, 150); 10]));
        audio.extend(voice(400));
        audio.extend(silence(2_000));
        let events = run(config, &audio);
        let (v, at) = verdict(&events).expect("a verdict");
        assert_eq!(v, Verdict::MachineLongGreeting);
        assert!((1_900..=2_100).contains(&at), "1.5 s into the greeting: {at}");
        // 400 + 4000 + 400 ms of audio, then 1 s of silence ends the greeting.
        assert_eq!(events.last(), Some(&AmdEvent::GreetingEnded { at_ms: 5_800 }));
    }

    #[test]
    fn many_short_words_are_a_machine() {
        let audio = words(&[(150, 120); 8]);
        let events = run(AmdConfig::default(), &audio);
        assert_eq!(verdict(&events).map(|v| v.0), Some(Verdict::MachineManyWords), "{events:?}");
    }

    #[test]
    fn silence_or_noise_from_the_start_is_a_machine() {
        let events = run(AmdConfig::default(), &noise(4_000, 200));
        assert_eq!(verdict(&events), Some((Verdict::MachineInitialSilence, 2_500)));
        assert_eq!(events.last(), Some(&AmdEvent::GreetingEnded { at_ms: 2_500 }));
        // Clicks shorter than a word do not count as speech.
        let mut clicks = Vec::new();
        for _ in 0..20 {
            clicks.extend(voice(40));
            clicks.extend(silence(160));
        }
        let events = run(AmdConfig::default(), &clicks);
        assert_eq!(verdict(&events).map(|v| v.0), Some(Verdict::MachineInitialSilence));
    }

    #[test]
    fn no_audio_at_all_still_gets_a_verdict_from_time() {
        let mut d = Detector::new(AmdConfig::default(), Timestamp::from_millis(10_000))
            .expect("valid config");
        let mut events = Vec::new();
        let mut now = Timestamp::from_millis(10_000);
        for _ in 0..200 {
            now = d.poll_timeout().expect("still listening").max(now);
            d.handle_timeout(now);
            events.extend(std::iter::from_fn(|| d.poll_event()));
            if d.is_done() {
                break;
            }
        }
        assert_eq!(verdict(&events).map(|v| v.0), Some(Verdict::MachineInitialSilence));
        assert!(d.is_done() && d.poll_timeout().is_none());
        assert!(now.ms_since(Timestamp::from_millis(10_000)) < 4_000, "{now:?}");
    }

    #[test]
    fn endless_talk_with_pauses_and_a_generous_config_ends_not_sure() {
        let config = AmdConfig { greeting_ms_max: 10_000, words_max: 100, ..Default::default() };
        let audio = words(&[(200, 300); 20]);
        assert_eq!(verdict(&run(config, &audio)), Some((Verdict::NotSure, 5_000)));
    }

    #[test]
    fn a_machine_greeting_that_never_ends_is_capped() {
        let config = AmdConfig { greeting_end_ms_max: 3_000, ..Default::default() };
        let events = run(config, &voice(8_000));
        let Some((Verdict::MachineLongGreeting, at)) = verdict(&events) else {
            panic!("{events:?}")
        };
        assert_eq!(events.last(), Some(&AmdEvent::GreetingEnded { at_ms: at + 3_000 }));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let start = Timestamp::from_millis(0);
        let bad = AmdConfig { greeting_ms_max: 0, ..Default::default() };
        assert!(matches!(Detector::new(bad, start), Err(AmdError::Setting { .. })));
        let bad = AmdConfig { voice_rms_min: f64::NAN, ..Default::default() };
        assert_eq!(Detector::new(bad, start).err(), Some(AmdError::Threshold));
        let bad = AmdConfig { words_max: 0, ..Default::default() };
        assert!(Detector::new(bad, start).is_err());
        let mut d = Detector::new(AmdConfig::default(), start).expect("valid");
        assert_eq!(d.handle_frame(start, &[]), Err(AmdError::FrameSize(0)));
        assert_eq!(d.handle_frame(start, &[0; 481]), Err(AmdError::FrameSize(481)));
        // Time going backwards or far ahead is no problem.
        d.handle_frame(Timestamp::from_millis(-5_000), &[0; 160]).expect("frame");
        d.handle_timeout(Timestamp::MAX);
        assert!(d.is_done());
    }
}
