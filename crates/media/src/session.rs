//! [`MediaLeg`]: the media of one call leg, sans-I/O. The shell owns the socket and latches
//! the remote address; this owns everything about the packets:
//!
//! - receiving: parse, count loss, decode audio, detect DTMF (RFC 4733), notice RTCP BYE and
//!   inactivity;
//! - sending: one continuous outgoing stream (our SSRC; sequence numbers and timestamps with
//!   no jump) whatever feeds it: a prompt, audio relayed from another leg (transcoded between
//!   μ-law and A-law when the legs differ), or DTMF we generate.
//!
//! Method grammar: `handle_*` in, `poll_*` out. After every input the shell drains
//! `poll_transmit(now)` and `poll_event()` and sleeps until `poll_timeout()`.
//!
//! Priorities on the outgoing stream: DTMF we send mutes everything else while an event is
//! in progress; a playing prompt replaces relayed audio (announcements, music on hold).

use std::collections::VecDeque;

use domain::Timestamp;
use thiserror::Error;

use crate::dtmf::{DtmfDigit, DtmfError, DtmfPacket, DtmfReceiver, DtmfSender};
use crate::g711::Law;
use crate::inactivity::InactivityTimer;
use crate::limits::{DTMF_PACKETS_QUEUED_MAX, MEDIA_EVENTS_QUEUED_MAX, TRANSMITS_QUEUED_MAX};
use crate::prompt::{Player, PlayerConfig, Prompt, FRAME_SAMPLES};
use crate::rtcp::{self, ReportBlock, RtcpError, RtcpPacket, SenderInfo};
use crate::rtp::{self, JitterEstimator, RtpError, RtpHeader, RtpPacket, SequenceTracker};
use crate::wav;

/// Length of the DTMF tones a leg sends.
pub const DTMF_SEND_DURATION_MS: u32 = 100;
/// Volume of the DTMF tones a leg sends, in -dBm0.
pub const DTMF_SEND_VOLUME: u8 = 10;
/// Pause between two queued digits.
pub const DTMF_SEND_GAP_MS: u64 = 60;
/// RFC 3389 comfort noise, accepted and ignored.
const PT_COMFORT_NOISE: u8 = 13;
const SAMPLES_PER_MS: u32 = 8;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum MediaError {
    #[error(transparent)]
    Rtp(#[from] RtpError),
    #[error(transparent)]
    Rtcp(#[from] RtcpError),
    #[error(transparent)]
    Dtmf(#[from] DtmfError),
    #[error("payload type {0} was not negotiated")]
    UnexpectedPayloadType(u8),
    #[error("telephone-event was not negotiated on this leg")]
    NoTelephoneEvent,
    #[error("too many DTMF digits queued")]
    DtmfQueueFull,
}

/// What was negotiated for the leg, and our stream's starting point (random in production,
/// chosen by the caller so that this crate stays deterministic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaLegConfig {
    pub law: Law,
    /// The dynamic payload type of telephone-event, if the peer accepted it.
    pub telephone_event_pt: Option<u8>,
    pub ssrc: u32,
    pub first_sequence: u16,
    pub first_timestamp: u32,
    /// No packet for this long and the media is declared dead.
    pub inactivity_ms: u64,
}

/// What the shell learns from a leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    Dtmf(DtmfDigit),
    /// The prompt started with [`MediaLeg::play`] played to its end.
    PromptFinished,
    /// Nothing received for `inactivity_ms`.
    Inactive,
    /// The peer sent RTCP BYE.
    Bye,
}

/// A received packet's media, to relay to another leg with [`MediaLeg::relay_from`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayFrame {
    pub kind: FrameKind,
    pub ssrc: u32,
    pub sequence: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    Audio(Law),
    TelephoneEvent,
}

impl RelayFrame {
    /// The audio as 16-bit samples (for the recorder); `None` for telephone-events.
    pub fn decode(&self) -> Option<Vec<i16>> {
        let FrameKind::Audio(law) = self.kind else { return None };
        let mut samples = Vec::with_capacity(self.payload.len());
        law.decode_into(&self.payload, &mut samples);
        Some(samples)
    }
}

/// Who feeds the outgoing stream; a change re-anchors the numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Prompt(u32),
    Dtmf,
    Relay(u32),
}

/// RFC 3550 comparison: `a` is after `b` modulo the field's size.
fn seq_after(a: u16, b: u16) -> bool {
    // Reinterpreting the wrapped difference as signed is the definition.
    (a.wrapping_sub(b) as i16) > 0
}

fn ts_after(a: u32, b: u32) -> bool {
    // As above, for 32-bit timestamps.
    (a.wrapping_sub(b) as i32) > 0
}

/// Our outgoing numbering: maps each source's sequence numbers and timestamps onto one
/// continuous stream by offsets that are recomputed when the source changes.
#[derive(Clone, Debug)]
struct Outgoing {
    ssrc: u32,
    source: Option<Source>,
    seq_offset: u16,
    ts_offset: u32,
    /// The next sequence number and the earliest next timestamp, if anything was sent.
    next_seq: u16,
    ts_end: u32,
    /// The newest timestamp sent and when it was first sent, to follow wall time across a
    /// source change.
    anchor: Option<(u32, Timestamp)>,
}

impl Outgoing {
    fn new(config: &MediaLegConfig) -> Self {
        Outgoing {
            ssrc: config.ssrc,
            source: None,
            seq_offset: 0,
            ts_offset: 0,
            next_seq: config.first_sequence,
            ts_end: config.first_timestamp,
            anchor: None,
        }
    }

    /// Our stream's RTP timestamp for wall time `now` (for an SR).
    fn timestamp_at(&self, now: Timestamp) -> u32 {
        match self.anchor {
            Some((ts, at)) => {
                let elapsed = now.ms_since(at).min(u64::from(u32::MAX / SAMPLES_PER_MS));
                // Bounded above, so the product fits in u32.
                ts.wrapping_add(elapsed as u32 * SAMPLES_PER_MS)
            }
            None => self.ts_end,
        }
    }

    /// Numbers one packet from `source`; `span` is how many timestamp units it covers.
    // One call site per source; a parameter struct would only rename these fields.
    #[allow(clippy::too_many_arguments)]
    fn stamp(
        &mut self,
        now: Timestamp,
        source: Source,
        seq: u16,
        ts: u32,
        span: u32,
        marker: bool,
        payload_type: u8,
    ) -> RtpHeader {
        let switched = self.source != Some(source);
        if switched {
            let mut next_ts = self.ts_end;
            if self.anchor.is_some() {
                // Time went on since the newest timestamp was first sent.
                let by_time = self.timestamp_at(now);
                if ts_after(by_time, next_ts) {
                    next_ts = by_time;
                }
            }
            self.seq_offset = self.next_seq.wrapping_sub(seq);
            self.ts_offset = next_ts.wrapping_sub(ts);
            self.source = Some(source);
        }
        let out_seq = seq.wrapping_add(self.seq_offset);
        let out_ts = ts.wrapping_add(self.ts_offset);
        if !seq_after(self.next_seq, out_seq) {
            self.next_seq = out_seq.wrapping_add(1);
        }
        match self.anchor {
            Some((anchor_ts, _)) if !ts_after(out_ts, anchor_ts) => {}
            _ => self.anchor = Some((out_ts, now)),
        }
        let end = out_ts.wrapping_add(span);
        if ts_after(end, self.ts_end) {
            self.ts_end = end;
        }
        RtpHeader {
            marker: marker || switched,
            payload_type,
            sequence: out_seq,
            timestamp: out_ts,
            ssrc: self.ssrc,
        }
    }
}

/// The media of one call leg. See the module docs.
#[derive(Clone, Debug)]
pub struct MediaLeg {
    config: MediaLegConfig,
    out: Outgoing,
    remote_ssrc: Option<u32>,
    received: SequenceTracker,
    jitter: JitterEstimator,
    /// The middle of the NTP time of the peer's last SR, and when it arrived.
    last_sr: Option<(u32, Timestamp)>,
    packets_sent: u32,
    octets_sent: u32,
    dtmf_in: DtmfReceiver,
    inactivity: InactivityTimer,
    inactive_reported: bool,
    player: Option<Player>,
    prompt_generation: u32,
    dtmf_out: VecDeque<DtmfPacket>,
    dtmf_sending: bool,
    dtmf_sequence: u16,
    transmits: VecDeque<Vec<u8>>,
    transmits_dropped: u64,
    events: VecDeque<MediaEvent>,
}

impl MediaLeg {
    pub fn new(now: Timestamp, config: MediaLegConfig) -> Self {
        MediaLeg {
            config,
            out: Outgoing::new(&config),
            remote_ssrc: None,
            received: SequenceTracker::new(),
            jitter: JitterEstimator::new(),
            last_sr: None,
            packets_sent: 0,
            octets_sent: 0,
            dtmf_in: DtmfReceiver::new(),
            inactivity: InactivityTimer::new(now, config.inactivity_ms),
            inactive_reported: false,
            player: None,
            prompt_generation: 0,
            dtmf_out: VecDeque::new(),
            dtmf_sending: false,
            dtmf_sequence: 0,
            transmits: VecDeque::new(),
            transmits_dropped: 0,
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &MediaLegConfig {
        &self.config
    }

    /// Reception statistics of the current remote SSRC.
    pub fn received(&self) -> &SequenceTracker {
        &self.received
    }

    /// Packets dropped because the shell did not drain `poll_transmit` in time.
    pub fn transmits_dropped(&self) -> u64 {
        self.transmits_dropped
    }

    fn push_event(&mut self, event: MediaEvent) {
        // A shell that never polls loses events beyond the bound rather than memory.
        if self.events.len() < MEDIA_EVENTS_QUEUED_MAX {
            self.events.push_back(event);
        }
    }

    fn push_transmit(&mut self, bytes: Vec<u8>) {
        if self.transmits.len() == TRANSMITS_QUEUED_MAX {
            self.transmits.pop_front();
            self.transmits_dropped += 1;
        }
        self.transmits.push_back(bytes);
    }

    /// A datagram received on the leg's RTP port (RTCP muxed on it is recognised too).
    /// Returns the media to relay to the other leg, if any.
    pub fn handle_rtp(
        &mut self,
        now: Timestamp,
        bytes: &[u8],
    ) -> Result<Option<RelayFrame>, MediaError> {
        if rtp::is_rtcp(bytes) {
            self.handle_rtcp(now, bytes)?;
            return Ok(None);
        }
        let packet = RtpPacket::parse(bytes)?;
        let h = packet.header;
        let kind = if Some(h.payload_type) == self.config.telephone_event_pt {
            FrameKind::TelephoneEvent
        } else if let Some(law) = Law::from_payload_type(h.payload_type) {
            FrameKind::Audio(law)
        } else if h.payload_type == PT_COMFORT_NOISE {
            self.inactivity.handle_packet(now);
            return Ok(None);
        } else {
            return Err(MediaError::UnexpectedPayloadType(h.payload_type));
        };
        if kind == FrameKind::TelephoneEvent {
            self.dtmf_in.handle_payload(now, h.timestamp, packet.payload)?;
            while let Some(digit) = self.dtmf_in.poll_digit() {
                self.push_event(MediaEvent::Dtmf(digit));
            }
        }
        self.inactivity.handle_packet(now);
        self.inactive_reported = false;
        if self.remote_ssrc != Some(h.ssrc) {
            self.remote_ssrc = Some(h.ssrc);
            self.received = SequenceTracker::new();
            self.jitter = JitterEstimator::new();
        }
        self.received.handle_sequence(h.sequence);
        if kind != FrameKind::TelephoneEvent {
            // Event packets repeat one timestamp; they would read as jitter.
            self.jitter.handle_packet(now.as_millis(), h.timestamp, wav::SAMPLE_RATE_HZ);
        }
        Ok(Some(RelayFrame {
            kind,
            ssrc: h.ssrc,
            sequence: h.sequence,
            timestamp: h.timestamp,
            marker: h.marker,
            payload: packet.payload.to_vec(),
        }))
    }

    /// A datagram received on the leg's RTCP port.
    pub fn handle_rtcp(&mut self, now: Timestamp, bytes: &[u8]) -> Result<(), MediaError> {
        let packets = rtcp::parse_compound(bytes)?;
        self.inactivity.handle_packet(now);
        for packet in &packets {
            match packet {
                RtcpPacket::Bye { .. } => self.push_event(MediaEvent::Bye),
                RtcpPacket::SenderReport { info, .. } => {
                    self.last_sr = Some((rtcp::ntp_middle(info.ntp), now));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// An RTCP compound report for the peer: SR if we have sent media, else RR, with a
    /// report block about the peer's stream once it has sent, and our CNAME. The shell sends
    /// one every few seconds (RFC 3550 §6.2: 5 s is the usual minimum).
    pub fn build_report(&mut self, now: Timestamp, cname: &str) -> Result<Vec<u8>, MediaError> {
        let sender = (self.packets_sent > 0).then(|| SenderInfo {
            ntp: rtcp::ntp_from_timestamp(now),
            rtp_timestamp: self.out.timestamp_at(now),
            packet_count: self.packets_sent,
            octet_count: self.octets_sent,
        });
        let block = self.remote_ssrc.map(|ssrc| {
            let (last_sr, delay_since_last_sr) = match self.last_sr {
                // Delay in 1/65536 s; saturates after 18 hours.
                Some((middle, at)) => {
                    let delay = now.ms_since(at).saturating_mul(65_536) / 1_000;
                    (middle, u32::try_from(delay).unwrap_or(u32::MAX))
                }
                None => (0, 0),
            };
            ReportBlock {
                jitter: self.jitter.jitter(),
                last_sr,
                delay_since_last_sr,
                ..ReportBlock::from_tracker(ssrc, &mut self.received)
            }
        });
        Ok(rtcp::build_report(self.config.ssrc, sender, block.as_ref(), cname)?)
    }

    /// Sends media received on another leg to this leg's peer: renumbered into our stream,
    /// transcoded to our law, telephone-events carried over if we negotiated them. Dropped
    /// while a prompt plays or a DTMF event is being sent.
    pub fn relay_from(&mut self, now: Timestamp, frame: &RelayFrame) {
        if self.player.is_some() || self.dtmf_sending {
            return;
        }
        let (payload_type, span, payload) = match frame.kind {
            FrameKind::Audio(law) => {
                let mut payload = frame.payload.clone();
                law.transcode_in_place(self.config.law, &mut payload);
                // A G.711 payload is one byte per sample; bounded by the packet size limit.
                (self.config.law.payload_type(), payload.len() as u32, payload)
            }
            FrameKind::TelephoneEvent => {
                let Some(pt) = self.config.telephone_event_pt else { return };
                (pt, 0, frame.payload.clone())
            }
        };
        let header = self.out.stamp(
            now,
            Source::Relay(frame.ssrc),
            frame.sequence,
            frame.timestamp,
            span,
            frame.marker,
            payload_type,
        );
        if let Ok(bytes) = header.to_bytes(&payload) {
            self.push_transmit(bytes);
        }
    }

    /// Plays `prompt` from `now` in this leg's law, replacing any prompt playing.
    pub fn play(&mut self, now: Timestamp, prompt: Prompt, looping: bool) {
        self.prompt_generation = self.prompt_generation.wrapping_add(1);
        let config = PlayerConfig {
            law: self.config.law,
            ssrc: 0,
            first_sequence: 0,
            first_timestamp: 0,
            looping,
        };
        self.player = Some(Player::new(prompt, config, now));
    }

    /// Stops the prompt (no `PromptFinished` event); relayed audio flows again.
    pub fn stop_prompt(&mut self) {
        self.player = None;
    }

    pub fn is_playing(&self) -> bool {
        self.player.is_some()
    }

    /// Queues one DTMF digit as RFC 4733 events, after any digit already queued.
    pub fn send_dtmf(&mut self, now: Timestamp, digit: char) -> Result<(), MediaError> {
        if self.config.telephone_event_pt.is_none() {
            return Err(MediaError::NoTelephoneEvent);
        }
        let sender = DtmfSender::new(DTMF_SEND_DURATION_MS, DTMF_SEND_VOLUME)?;
        let start = match self.dtmf_out.back() {
            Some(last) => last.send_at.plus_ms(DTMF_SEND_GAP_MS).max(now),
            None => now,
        };
        // The event timestamp is re-anchored to wall time when the event's first packet goes
        // out (see `poll_dtmf`), so the sender's own value does not matter.
        let packets = sender.packets(digit, start, 0)?;
        if self.dtmf_out.len() + packets.len() > DTMF_PACKETS_QUEUED_MAX {
            return Err(MediaError::DtmfQueueFull);
        }
        self.dtmf_out.extend(packets);
        Ok(())
    }

    /// The next packet to send at `now`, as bytes. Call until it returns `None`.
    pub fn poll_transmit(&mut self, now: Timestamp) -> Option<Vec<u8>> {
        let bytes = match self.transmits.pop_front() {
            Some(bytes) => bytes,
            None => match self.poll_dtmf(now) {
                Some(bytes) => bytes,
                None => self.poll_prompt(now)?,
            },
        };
        // RTCP's counters wrap modulo 2^32 by definition; packets are at most 1500 bytes.
        self.packets_sent = self.packets_sent.wrapping_add(1);
        let payload = bytes.len().saturating_sub(rtp::RTP_HEADER_BYTES) as u32;
        self.octets_sent = self.octets_sent.wrapping_add(payload);
        Some(bytes)
    }

    fn poll_dtmf(&mut self, now: Timestamp) -> Option<Vec<u8>> {
        let packet = *self.dtmf_out.front().filter(|p| p.send_at <= now)?;
        self.dtmf_out.pop_front();
        let pt = self.config.telephone_event_pt?;
        // Every event starts a new source so that its timestamp follows wall time.
        if packet.marker {
            self.out.source = None;
        }
        self.dtmf_sending = self.dtmf_out.front().is_some_and(|next| !next.marker);
        let header = self.out.stamp(
            packet.send_at,
            Source::Dtmf,
            self.dtmf_sequence,
            packet.rtp_timestamp,
            u32::from(packet.event.duration),
            packet.marker,
            pt,
        );
        self.dtmf_sequence = self.dtmf_sequence.wrapping_add(1);
        header.to_bytes(&packet.event.to_bytes()).ok()
    }

    fn poll_prompt(&mut self, now: Timestamp) -> Option<Vec<u8>> {
        loop {
            let player = self.player.as_mut()?;
            let Some(frame) = player.poll_transmit(now) else {
                if player.is_finished() {
                    self.player = None;
                    self.push_event(MediaEvent::PromptFinished);
                }
                return None;
            };
            if self.dtmf_sending {
                // Muted while our DTMF event is in progress; the prompt's time runs on.
                continue;
            }
            let h = frame.header;
            // Stamped at the time the frame was due, so a late drain does not shift the
            // stream's clock.
            let header = self.out.stamp(
                frame.send_at,
                Source::Prompt(self.prompt_generation),
                h.sequence,
                h.timestamp,
                FRAME_SAMPLES as u32,
                h.marker,
                h.payload_type,
            );
            return header.to_bytes(&frame.payload).ok();
        }
    }

    /// Time passed: reports digits whose end never came and inactivity.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.dtmf_in.handle_timeout(now);
        while let Some(digit) = self.dtmf_in.poll_digit() {
            self.push_event(MediaEvent::Dtmf(digit));
        }
        if !self.inactive_reported && self.inactivity.is_dead(now) {
            self.inactive_reported = true;
            self.push_event(MediaEvent::Inactive);
        }
    }

    /// The next thing that happened.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// When to call `handle_timeout` / `poll_transmit` next.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let inactivity = (!self.inactive_reported).then(|| self.inactivity.poll_timeout());
        [
            inactivity,
            self.dtmf_in.poll_timeout(),
            self.dtmf_out.front().map(|p| p.send_at),
            self.player.as_ref().and_then(Player::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf::TelephoneEvent;
    use proptest::prelude::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn config(law: Law) -> MediaLegConfig {
        MediaLegConfig {
            law,
            telephone_event_pt: Some(101),
            ssrc: 0xa11ce,
            first_sequence: 1_000,
            first_timestamp: 50_000,
            inactivity_ms: 5_000,
        }
    }

    fn audio(law: Law, ssrc: u32, seq: u16, ts: u32, value: i16) -> Vec<u8> {
        let header = RtpHeader {
            marker: false,
            payload_type: law.payload_type(),
            sequence: seq,
            timestamp: ts,
            ssrc,
        };
        header.to_bytes(&[law.encode(value); 160]).unwrap()
    }

    fn drain(leg: &mut MediaLeg, now: Timestamp) -> Vec<(RtpHeader, Vec<u8>)> {
        std::iter::from_fn(|| leg.poll_transmit(now))
            .map(|b| {
                let p = RtpPacket::parse(&b).unwrap();
                (p.header, p.payload.to_vec())
            })
            .collect()
    }

    #[test]
    fn relays_with_transcoding_and_renumbering() {
        let mut a = MediaLeg::new(t(0), config(Law::Pcmu));
        let mut b = MediaLeg::new(t(0), config(Law::Pcma));
        for i in 0..3u16 {
            let now = t(20 * i64::from(i));
            let bytes = audio(Law::Pcmu, 77, 9 + i, 3_200 + 160 * u32::from(i), 4_000);
            let frame = a.handle_rtp(now, &bytes).unwrap().unwrap();
            assert_eq!(frame.kind, FrameKind::Audio(Law::Pcmu));
            let samples = frame.decode().unwrap();
            assert!((samples[0] - 4_000).abs() < 200);
            b.relay_from(now, &frame);
        }
        let sent = drain(&mut b, t(40));
        let headers: Vec<_> =
            sent.iter().map(|(h, _)| (h.marker, h.payload_type, h.sequence, h.timestamp)).collect();
        assert_eq!(
            headers,
            vec![(true, 8, 1_000, 50_000), (false, 8, 1_001, 50_160), (false, 8, 1_002, 50_320)]
        );
        assert!(sent.iter().all(|(h, _)| h.ssrc == 0xa11ce));
        let decoded = Law::Pcma.decode(sent[0].1[0]);
        assert!((decoded - 4_000).abs() < 200);
        assert_eq!(a.received().received(), 3);
        assert_eq!(a.received().lost(), 0);
    }

    #[test]
    fn the_stream_stays_continuous_from_prompt_to_relay() {
        let mut leg = MediaLeg::new(t(0), config(Law::Pcmu));
        leg.play(t(0), Prompt::new(vec![100; 320]).unwrap(), false);
        let mut sent = drain(&mut leg, t(0));
        sent.extend(drain(&mut leg, t(20)));
        assert_eq!(leg.poll_timeout(), Some(t(5_000)));
        assert!(drain(&mut leg, t(40)).is_empty());
        assert_eq!(leg.poll_event(), Some(MediaEvent::PromptFinished));
        assert!(!leg.is_playing());
        // Another leg's audio, with its own numbering, arrives 40 ms later.
        let mut other = MediaLeg::new(t(0), config(Law::Pcmu));
        for i in 0..2u16 {
            let now = t(80 + 20 * i64::from(i));
            let bytes = audio(Law::Pcmu, 5, 40_000 + i, 999_999 + 160 * u32::from(i), 0);
            let frame = other.handle_rtp(now, &bytes).unwrap().unwrap();
            leg.relay_from(now, &frame);
        }
        sent.extend(drain(&mut leg, t(100)));
        let headers: Vec<_> =
            sent.iter().map(|(h, _)| (h.marker, h.sequence, h.timestamp)).collect();
        // Sequence numbers continue; the timestamp follows the 60 ms that passed.
        assert_eq!(
            headers,
            vec![
                (true, 1_000, 50_000),
                (false, 1_001, 50_160),
                (true, 1_002, 50_000 + 80 * 8),
                (false, 1_003, 50_000 + 100 * 8),
            ]
        );
    }

    #[test]
    fn a_prompt_replaces_relayed_audio_until_stopped() {
        let mut leg = MediaLeg::new(t(0), config(Law::Pcmu));
        leg.play(t(0), Prompt::new(vec![0; 1_600]).unwrap(), true);
        let frame = RelayFrame {
            kind: FrameKind::Audio(Law::Pcmu),
            ssrc: 1,
            sequence: 1,
            timestamp: 1,
            marker: false,
            payload: vec![0xff; 160],
        };
        leg.relay_from(t(0), &frame);
        assert_eq!(drain(&mut leg, t(0)).len(), 1);
        leg.stop_prompt();
        leg.relay_from(t(20), &frame);
        let sent = drain(&mut leg, t(20));
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].0.sequence, sent[0].0.timestamp), (1_001, 50_160));
        assert_eq!(leg.poll_event(), None);
    }

    #[test]
    fn detects_dtmf_once_and_relays_events() {
        let mut a = MediaLeg::new(t(0), config(Law::Pcmu));
        let mut b = MediaLeg::new(
            t(0),
            MediaLegConfig { telephone_event_pt: Some(96), ..config(Law::Pcmu) },
        );
        let sender = DtmfSender::new(100, 10).unwrap();
        for (i, p) in sender.packets('9', t(0), 8_000).unwrap().into_iter().enumerate() {
            let header = RtpHeader {
                marker: p.marker,
                payload_type: 101,
                sequence: i as u16,
                timestamp: p.rtp_timestamp,
                ssrc: 3,
            };
            let bytes = header.to_bytes(&p.event.to_bytes()).unwrap();
            let frame = a.handle_rtp(p.send_at, &bytes).unwrap().unwrap();
            assert_eq!(frame.kind, FrameKind::TelephoneEvent);
            assert_eq!(frame.decode(), None);
            b.relay_from(p.send_at, &frame);
        }
        assert_eq!(
            a.poll_event(),
            Some(MediaEvent::Dtmf(DtmfDigit {
                digit: '9',
                rtp_timestamp: 8_000,
                duration_ms: 100
            }))
        );
        assert_eq!(a.poll_event(), None);
        let sent = drain(&mut b, t(200));
        assert_eq!(sent.len(), 7);
        assert!(sent.iter().all(|(h, _)| h.payload_type == 96 && h.timestamp == 50_000));
        let sequences: Vec<u16> = sent.iter().map(|(h, _)| h.sequence).collect();
        assert_eq!(sequences, (1_000..1_007).collect::<Vec<_>>());
        // Legs without telephone-event drop relayed events.
        let mut c =
            MediaLeg::new(t(0), MediaLegConfig { telephone_event_pt: None, ..config(Law::Pcmu) });
        let frame = RelayFrame {
            kind: FrameKind::TelephoneEvent,
            ssrc: 3,
            sequence: 1,
            timestamp: 1,
            marker: true,
            payload: vec![1, 0, 0, 160],
        };
        c.relay_from(t(0), &frame);
        assert!(drain(&mut c, t(0)).is_empty());
        assert_eq!(c.send_dtmf(t(0), '1'), Err(MediaError::NoTelephoneEvent));
    }

    #[test]
    fn sends_dtmf_paced_and_muting_the_prompt() {
        let mut leg = MediaLeg::new(t(0), config(Law::Pcmu));
        leg.play(t(0), Prompt::new(vec![0; 8_000]).unwrap(), false);
        assert_eq!(drain(&mut leg, t(0)).len(), 1);
        leg.send_dtmf(t(20), '#').unwrap();
        leg.send_dtmf(t(20), '1').unwrap();
        let mut sent = Vec::new();
        let mut now = t(20);
        while now <= t(600) {
            sent.extend(drain(&mut leg, now));
            now = leg.poll_timeout().unwrap().max(now.plus_ms(1));
        }
        let events: Vec<_> = sent
            .iter()
            .filter(|(h, _)| h.payload_type == 101)
            .map(|(h, p)| (h.marker, h.timestamp, TelephoneEvent::parse(p).unwrap()))
            .collect();
        assert_eq!(events.len(), 14);
        // '#': marker on the first packet only, one timestamp, three end packets.
        assert!(events[0].0 && !events[1].0);
        assert_eq!(events[0].2.event, 11);
        assert!(events[..7].iter().all(|e| e.1 == events[0].1));
        assert_eq!(events[..7].iter().filter(|e| e.2.end).count(), 3);
        // '1' follows with a later timestamp.
        assert_eq!(events[7].2.event, 1);
        assert!(events[7].0 && ts_after(events[7].1, events[0].1 + 800));
        // No prompt audio between a first and a last event packet; sequence numbers are
        // consecutive across everything sent.
        let first = sent.iter().position(|(h, _)| h.payload_type == 101).unwrap();
        let last = sent.iter().rposition(|(h, _)| h.payload_type == 101).unwrap();
        let audio_inside = sent[first..last].iter().filter(|(h, _)| h.payload_type == 0).count();
        assert!(audio_inside <= 3, "{audio_inside} audio packets during DTMF");
        for w in sent.windows(2) {
            assert_eq!(w[1].0.sequence, w[0].0.sequence.wrapping_add(1));
        }
    }

    #[test]
    fn inactivity_bye_and_bad_packets() {
        let mut leg = MediaLeg::new(t(0), config(Law::Pcma));
        assert_eq!(leg.poll_timeout(), Some(t(5_000)));
        leg.handle_rtp(t(1_000), &audio(Law::Pcma, 1, 1, 1, 0)).unwrap();
        leg.handle_timeout(t(5_999));
        assert_eq!(leg.poll_event(), None);
        leg.handle_timeout(t(6_000));
        assert_eq!(leg.poll_event(), Some(MediaEvent::Inactive));
        leg.handle_timeout(t(7_000));
        assert_eq!(leg.poll_event(), None);
        assert_eq!(leg.poll_timeout(), None);
        let bye = rtcp::build_bye(1);
        assert_eq!(leg.handle_rtp(t(7_000), &bye), Ok(None));
        assert_eq!(leg.poll_event(), Some(MediaEvent::Bye));
        let h = RtpHeader { marker: false, payload_type: 18, sequence: 0, timestamp: 0, ssrc: 1 };
        assert_eq!(
            leg.handle_rtp(t(7_000), &h.to_bytes(&[0; 20]).unwrap()),
            Err(MediaError::UnexpectedPayloadType(18))
        );
        let cn = RtpHeader { payload_type: 13, ..h };
        assert_eq!(leg.handle_rtp(t(7_000), &cn.to_bytes(&[0]).unwrap()), Ok(None));
        assert!(leg.handle_rtp(t(7_000), &[0x80, 0]).is_err());
        let dtmf_short = RtpHeader { payload_type: 101, ..h };
        assert!(leg.handle_rtp(t(7_000), &dtmf_short.to_bytes(&[1]).unwrap()).is_err());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Advance(u8),
        Relay(u8),
        Play(bool),
        Stop,
        Dtmf,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..60).prop_map(Op::Advance),
            6 => (0u8..3).prop_map(Op::Relay),
            1 => any::<bool>().prop_map(Op::Play),
            1 => Just(Op::Stop),
            1 => Just(Op::Dtmf),
        ]
    }

    proptest! {
        #[test]
        fn handle_rtp_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut leg = MediaLeg::new(t(0), config(Law::Pcmu));
            let _ = leg.handle_rtp(t(0), &bytes);
            let mut v2 = bytes.clone();
            if let Some(b) = v2.first_mut() {
                *b = 0x80 | (*b & 0x3f);
            }
            if let Some(b) = v2.get_mut(1) {
                *b = [0u8, 8, 13, 101, 200, 203][usize::from(*b) % 6];
            }
            let _ = leg.handle_rtp(t(0), &v2);
            leg.handle_timeout(t(10_000));
            while leg.poll_event().is_some() {}
        }

        #[test]
        fn the_outgoing_stream_is_gapless_whatever_feeds_it(
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let mut leg = MediaLeg::new(t(0), config(Law::Pcma));
            let mut now = t(0);
            let mut sources = [(0u16, 0u32); 3];
            let mut sent: Vec<RtpHeader> = Vec::new();
            for op in ops {
                match op {
                    Op::Advance(ms) => now = now.plus_ms(u64::from(ms)),
                    Op::Relay(i) => {
                        let (seq, ts) = &mut sources[usize::from(i)];
                        let frame = RelayFrame {
                            kind: FrameKind::Audio(Law::Pcmu),
                            ssrc: u32::from(i) * 1_000,
                            sequence: *seq,
                            timestamp: *ts,
                            marker: false,
                            payload: vec![0xff; 160],
                        };
                        *seq = seq.wrapping_add(1);
                        *ts = ts.wrapping_add(160);
                        leg.relay_from(now, &frame);
                    }
                    Op::Play(looping) => {
                        leg.play(now, Prompt::new(vec![7; 500]).unwrap(), looping)
                    }
                    Op::Stop => leg.stop_prompt(),
                    Op::Dtmf => {
                        let _ = leg.send_dtmf(now, '5');
                    }
                }
                while let Some(bytes) = leg.poll_transmit(now) {
                    sent.push(RtpPacket::parse(&bytes).unwrap().header);
                }
            }
            for w in sent.windows(2) {
                prop_assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1));
                prop_assert!(!ts_after(w[0].timestamp, w[1].timestamp), "{:?}", w);
                prop_assert_eq!(w[1].ssrc, 0xa11ce);
            }
        }
    }

    #[test]
    fn reports_rtcp_with_our_counts_and_the_peers_loss() {
        let mut leg = MediaLeg::new(t(0), config(Law::Pcmu));
        let rr = rtcp::parse_compound(&leg.build_report(t(0), "leg@sb").unwrap()).unwrap();
        assert_eq!(rr[0], RtcpPacket::ReceiverReport { ssrc: 0xa11ce, blocks: vec![] });
        // The peer sends packets 0, 1, 3 (2 lost) and an SR.
        for seq in [0u16, 1, 3] {
            let at = t(20 * i64::from(seq));
            leg.handle_rtp(at, &audio(Law::Pcmu, 9, seq, 160 * u32::from(seq), 0)).unwrap();
        }
        let info = SenderInfo {
            ntp: 0x1111_2222_3333_4444,
            rtp_timestamp: 0,
            packet_count: 3,
            octet_count: 480,
        };
        let sr = rtcp::build_report(9, Some(info), None, "peer").unwrap();
        leg.handle_rtcp(t(100), &sr).unwrap();
        leg.play(t(100), Prompt::new(vec![0; 320]).unwrap(), false);
        assert_eq!(drain(&mut leg, t(120)).len(), 2);
        let report = rtcp::parse_compound(&leg.build_report(t(1_100), "leg@sb").unwrap()).unwrap();
        let RtcpPacket::SenderReport { ssrc, info, blocks } = &report[0] else {
            panic!("expected an SR, got {report:?}");
        };
        assert_eq!((*ssrc, info.packet_count, info.octet_count), (0xa11ce, 2, 320));
        assert_eq!(info.ntp, rtcp::ntp_from_timestamp(t(1_100)));
        // The prompt's first frame carried 50_000 at t=100; 1 s later the clock reads 58_000.
        assert_eq!(info.rtp_timestamp, 58_000);
        assert_eq!(blocks.len(), 1);
        let b = blocks[0];
        assert_eq!((b.ssrc, b.fraction_lost, b.cumulative_lost), (9, 64, 1));
        assert_eq!(b.highest_sequence & 0xffff, 3);
        assert_eq!(b.last_sr, 0x2222_3333);
        assert_eq!(b.delay_since_last_sr, 65_536);
        assert_eq!(
            report[1],
            RtcpPacket::SourceDescription { cnames: vec![(0xa11ce, "leg@sb".into())] }
        );
    }

    #[test]
    fn a_stalled_shell_loses_old_transmits_not_memory() {
        let mut leg = MediaLeg::new(t(0), config(Law::Pcmu));
        let frame = RelayFrame {
            kind: FrameKind::Audio(Law::Pcmu),
            ssrc: 1,
            sequence: 0,
            timestamp: 0,
            marker: false,
            payload: vec![0xff; 160],
        };
        for i in 0..(TRANSMITS_QUEUED_MAX as u16 + 5) {
            leg.relay_from(t(i64::from(i) * 20), &RelayFrame { sequence: i, ..frame.clone() });
        }
        assert_eq!(leg.transmits_dropped(), 5);
        assert_eq!(drain(&mut leg, t(0)).len(), TRANSMITS_QUEUED_MAX);
    }
}
