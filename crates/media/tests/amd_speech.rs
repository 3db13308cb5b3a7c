//! Answering-machine detection on real speech: espeak-ng voicemail greetings and short
//! answers, made here (`scripts/setup --test` installs espeak-ng), fed in 20 ms frames as a
//! phone line would deliver them. The verdict times are printed (`--nocapture`) so the
//! thresholds' margins can be read off.

use std::process::Command;

use domain::Timestamp;
use media::amd::{AmdConfig, AmdEvent, Detector, Verdict};
use media::wav::{decode_8k_mono, WavLimits};

/// `text` spoken by espeak-ng at its default rate, as 8 kHz samples.
fn speech(text: &str) -> Vec<i16> {
    // A file, not --stdout: the streamed WAV header has no length.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("amd-speech-{}-{n}.wav", std::process::id()));
    let status = Command::new("espeak-ng")
        .args(["-v", "en", "-w"])
        .arg(&path)
        .arg("--")
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/setup --test)");
    assert!(status.success(), "espeak-ng failed");
    let bytes = std::fs::read(&path).expect("espeak-ng wrote the file");
    let _ = std::fs::remove_file(&path);
    decode_8k_mono(&bytes, &WavLimits::PROMPT).expect("espeak-ng writes a WAV")
}

fn silence(ms: usize) -> Vec<i16> {
    vec![0; ms * 8]
}

/// Low background noise (a fixed pseudo-random sequence), as a real line has.
fn with_noise(mut audio: Vec<i16>, amplitude: i32) -> Vec<i16> {
    let mut x: u32 = 7;
    for s in &mut audio {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (x >> 16) as i32 % (2 * amplitude + 1) - amplitude;
        *s = (i32::from(*s) + n).clamp(-32_768, 32_767) as i16;
    }
    audio
}

fn events(audio: &[i16]) -> Vec<AmdEvent> {
    let mut d = Detector::new(AmdConfig::default(), Timestamp::from_millis(0)).expect("valid");
    let mut out = Vec::new();
    for (i, frame) in audio.chunks(160).enumerate() {
        d.handle_frame(Timestamp::from_millis(i as i64 * 20 + 20), frame).expect("frame");
        out.extend(std::iter::from_fn(|| d.poll_event()));
    }
    out
}

fn verdict(events: &[AmdEvent]) -> (Verdict, u64) {
    events
        .iter()
        .find_map(|e| match e {
            AmdEvent::Verdict { verdict, at_ms } => Some((*verdict, *at_ms)),
            _ => None,
        })
        .expect("a verdict")
}

#[test]
fn voicemail_greetings_are_machines_and_their_end_is_found() {
    let greetings = [
        "Hello, you have reached the voicemail of John Smith. I cannot take your call right \
         now, please leave a message after the tone.",
        "Hi, this is Anna. Leave your name and number and I will call you back.",
        "The person you are calling is not available. Please record your message.",
    ];
    for text in greetings {
        let spoken = speech(text);
        let spoken_ms = spoken.len() as u64 / 8;
        let mut audio = silence(500);
        audio.extend(with_noise(spoken, 60));
        audio.extend(silence(3_000));
        let events = events(&audio);
        let (v, at) = verdict(&events);
        println!("machine greeting of {spoken_ms} ms: {v:?} at {at} ms; {events:?}");
        assert!(v.is_machine(), "{text}: {v:?}");
        assert!(at < 3_000, "decided early, not at the end: {at}");
        let ended = events.iter().find_map(|e| match e {
            AmdEvent::GreetingEnded { at_ms } => Some(*at_ms),
            _ => None,
        });
        let end = ended.expect("the greeting's end");
        // After the whole greeting, within a second and a half of its last word.
        assert!(end >= 500 + spoken_ms && end <= 500 + spoken_ms + 1_500, "{text}: end {end}");
    }
}

#[test]
fn short_answers_are_people() {
    for text in ["Hello?", "Yes?", "Hello, Maria speaking."] {
        let mut audio = silence(400);
        audio.extend(with_noise(speech(text), 60));
        audio.extend(with_noise(silence(3_000), 60));
        let events = events(&audio);
        let (v, at) = verdict(&events);
        println!("short answer {text:?}: {v:?} at {at} ms");
        assert_eq!(v, Verdict::Human, "{text}");
        assert_eq!(events.len(), 1);
    }
}

#[test]
fn a_machine_that_says_nothing_is_a_machine() {
    let (v, at) = verdict(&events(&with_noise(silence(4_000), 100)));
    assert_eq!((v, at), (Verdict::MachineInitialSilence, 2_500));
}
