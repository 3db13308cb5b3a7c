//! Sans-I/O media for Switchboard's SIP calls: RTP and RTCP packets, G.711 (PCMU/PCMA),
//! RFC 4733 DTMF, prompt playback, two-channel call recording and WAV files.
//!
//! Nothing here touches a socket, a file or a clock. The `telephony` shell receives datagrams
//! and passes their bytes in with the current time (`domain::Timestamp`); it sends what the
//! `poll_*` methods return and sleeps until `poll_timeout()`.
//!
//! Architecture Invariant: this crate does no I/O, reads no clock, draws no random numbers
//! (SSRCs and initial sequence numbers come from the caller) and has no `async`.
//!
//! Errors are input: bytes from the network or from a WAV file return an error, never a
//! panic. Every buffer has a bound in [`limits`].
//!
//! Code map:
//! - [`amd`]: answering-machine `Detector` over 8 kHz frames (`AmdConfig` thresholds).
//! - [`rtp`]: RTP packets (RFC 3550), `SequenceTracker` (extended sequence numbers, loss),
//!   `JitterEstimator`.
//! - [`g711`]: `Law` (PCMU/PCMA) encode, decode and transcode with `const` tables.
//! - [`rtcp`]: build SR/RR + SDES CNAME and BYE; parse compound packets.
//! - [`dtmf`]: RFC 4733 telephone-events, `DtmfReceiver` (each press once), `DtmfSender`.
//! - [`wav`]: decode any PCM/float WAV to 8 kHz mono i16 (`hound` over a `Cursor`); encode.
//! - [`resample`]: windowed-sinc `Resampler` with an anti-aliasing cutoff.
//! - [`prompt`]: `Prompt` (8 kHz audio) and `Player` (paced 20 ms G.711 frames, looping).
//! - [`recorder`]: stereo `Recorder` (left customer, right agent) aligned by arrival time.
//! - [`energy`]: RMS of samples or per WAV channel.
//! - [`inactivity`]: `InactivityTimer` for RTP timeouts.
//! - [`session`]: `MediaLeg`, one leg's media: receive (decode, DTMF, BYE, inactivity)
//!   and one continuous outgoing stream fed by prompts, relay (transcoded) and DTMF.
//! - [`pcap`]: RTP packets as a pcap file, for scripting a caller with sipp.
//! - [`limits`]: every bound of the crate, unit last.

pub mod amd;
pub mod dtmf;
pub mod energy;
pub mod g711;
pub mod inactivity;
pub mod limits;
pub mod pcap;
pub mod prompt;
pub mod recorder;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod wav;

pub use amd::{AmdConfig, AmdError, AmdEvent, Detector, Verdict};
pub use dtmf::{DtmfDigit, DtmfError, DtmfReceiver, DtmfSender, TelephoneEvent};
pub use g711::Law;
pub use inactivity::InactivityTimer;
pub use prompt::{Player, PlayerConfig, Prompt, PromptError, RtpFrame};
pub use recorder::{Recorder, Side};
pub use rtp::{JitterEstimator, RtpError, RtpHeader, RtpPacket, SequenceStatus, SequenceTracker};
pub use session::{FrameKind, MediaError, MediaEvent, MediaLeg, MediaLegConfig, RelayFrame};
pub use wav::{WavError, WavLimits};
