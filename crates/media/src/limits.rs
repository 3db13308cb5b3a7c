//! Every bound of the media layer. Units come last in the name.

/// Largest RTP or RTCP datagram accepted; G.711 at 20 ms is 172 bytes, so this is generous.
pub const RTP_PACKET_BYTES_MAX: usize = 1_500;
/// Packets in one compound RTCP datagram; real ones hold two or three.
pub const RTCP_PACKETS_MAX: usize = 16;
/// An SDES item's length is one octet.
pub const RTCP_CNAME_BYTES_MAX: usize = 255;
/// Shortest DTMF tone we send (ITU Q.24 asks for at least 40 ms).
pub const DTMF_DURATION_MS_MIN: u32 = 40;
/// Longest DTMF tone we send; the duration field must stay within 16 bits at 8 kHz.
pub const DTMF_DURATION_MS_MAX: u32 = 5_000;
/// An event whose end packets never come is reported this long after its last packet.
pub const DTMF_END_WAIT_MS: u64 = 1_000;
/// Digits a receiver holds until they are polled; more are dropped.
pub const DTMF_DIGITS_QUEUED_MAX: usize = 32;
/// Lowest sample rate of an input WAV.
pub const WAV_SAMPLE_RATE_HZ_MIN: u32 = 4_000;
/// Highest sample rate of an input WAV.
pub const WAV_SAMPLE_RATE_HZ_MAX: u32 = 384_000;
/// Channels of an input WAV; all are averaged into one.
pub const WAV_CHANNELS_MAX: u16 = 8;
/// Samples in one prompt: one hour at 8 kHz (58 MB of memory).
pub const PROMPT_SAMPLES_MAX: usize = 60 * 60 * 8_000;
/// A player skips frames that are later than this rather than sending a burst.
pub const PLAYER_LATE_MS_MAX: u64 = 100;
/// Longest recording of one call: four hours (2 x 230 MB in memory at worst).
pub const RECORDING_MS_MAX: u64 = 4 * 60 * 60 * 1_000;
/// A recorded frame this close to its side's write position is appended, not moved.
pub const RECORDER_JITTER_MS_MAX: u64 = 60;
/// A recorded side may run this far ahead of the clock before frames are dropped.
pub const RECORDER_AHEAD_MS_MAX: u64 = 200;
/// Packets a media leg holds for the shell to send (about a second of audio); beyond this
/// the oldest are dropped.
pub const TRANSMITS_QUEUED_MAX: usize = 64;
/// Events a media leg holds until they are polled; more are dropped.
pub const MEDIA_EVENTS_QUEUED_MAX: usize = 64;
/// Outgoing DTMF packets queued on one leg (about nine digits of 100 ms).
pub const DTMF_PACKETS_QUEUED_MAX: usize = 64;
