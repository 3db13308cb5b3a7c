//! RTP packets (RFC 3550 §5.1): parsing without copying, serializing, and a
//! [`SequenceTracker`] that extends 16-bit sequence numbers and counts loss (RFC 3550 A.1).

use thiserror::Error;

use crate::limits::RTP_PACKET_BYTES_MAX;

/// The only RTP version in use.
pub const RTP_VERSION: u8 = 2;
/// Fixed header, before CSRCs and the extension.
pub const RTP_HEADER_BYTES: usize = 12;
/// At most 15 CSRCs fit in the 4-bit count.
pub const CSRCS_MAX: usize = 15;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RtpError {
    #[error("RTP packet of {len} bytes is shorter than its header needs ({needed} bytes)")]
    TooShort { len: usize, needed: usize },
    #[error("RTP packet of {len} bytes is longer than {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    #[error("RTP padding of {padding} bytes does not fit in {available} bytes after the header")]
    BadPadding { padding: usize, available: usize },
    #[error("payload type {0} does not fit in 7 bits")]
    BadPayloadType(u8),
}

/// The fields of an RTP header that a G.711 call uses. CSRCs and header extensions are
/// skipped when parsing and never written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// A parsed RTP packet borrowing the datagram it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub header: RtpHeader,
    /// Contributing sources as raw big-endian words; see [`RtpPacket::csrc`].
    csrcs: &'a [u8],
    /// Profile-defined id of the header extension, if one was present (it is skipped).
    pub extension_profile: Option<u16>,
    /// The payload without padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses one RTP datagram. Never panics; any malformed input is an [`RtpError`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RtpError> {
        if bytes.len() > RTP_PACKET_BYTES_MAX {
            return Err(RtpError::TooLong { len: bytes.len(), max: RTP_PACKET_BYTES_MAX });
        }
        let Some(fixed) = bytes.get(..RTP_HEADER_BYTES) else {
            return Err(RtpError::TooShort { len: bytes.len(), needed: RTP_HEADER_BYTES });
        };
        let version = fixed[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = fixed[0] & 0x20 != 0;
        let has_extension = fixed[0] & 0x10 != 0;
        let csrc_count = usize::from(fixed[0] & 0x0f);
        let header = RtpHeader {
            marker: fixed[1] & 0x80 != 0,
            payload_type: fixed[1] & 0x7f,
            sequence: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
        };
        let mut at = RTP_HEADER_BYTES + 4 * csrc_count;
        let csrcs = bytes
            .get(RTP_HEADER_BYTES..at)
            .ok_or(RtpError::TooShort { len: bytes.len(), needed: at })?;
        let mut extension_profile = None;
        if has_extension {
            let needed = at + 4;
            let ext =
                bytes.get(at..needed).ok_or(RtpError::TooShort { len: bytes.len(), needed })?;
            extension_profile = Some(u16::from_be_bytes([ext[0], ext[1]]));
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            at = needed + 4 * words;
            if at > bytes.len() {
                return Err(RtpError::TooShort { len: bytes.len(), needed: at });
            }
        }
        let mut end = bytes.len();
        if has_padding {
            // The last octet counts the padding, itself included (RFC 3550 §5.1).
            let padding = usize::from(bytes[end - 1]);
            let available = end - at;
            if padding == 0 || padding > available {
                return Err(RtpError::BadPadding { padding, available });
            }
            end -= padding;
        }
        Ok(RtpPacket { header, csrcs, extension_profile, payload: &bytes[at..end] })
    }

    /// Number of contributing sources.
    pub fn csrc_count(&self) -> usize {
        self.csrcs.len() / 4
    }

    /// The contributing source at `index`, if there is one.
    pub fn csrc(&self, index: usize) -> Option<u32> {
        let word = self.csrcs.get(4 * index..4 * index + 4)?;
        Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
    }
}

impl RtpHeader {
    /// Appends the header and `payload` to `out`: version 2, no padding, no extension, no
    /// CSRCs. Fails if the payload type needs more than 7 bits or the packet would exceed
    /// [`RTP_PACKET_BYTES_MAX`].
    pub fn write(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), RtpError> {
        if self.payload_type > 0x7f {
            return Err(RtpError::BadPayloadType(self.payload_type));
        }
        let len = RTP_HEADER_BYTES + payload.len();
        if len > RTP_PACKET_BYTES_MAX {
            return Err(RtpError::TooLong { len, max: RTP_PACKET_BYTES_MAX });
        }
        out.reserve(len);
        out.push(RTP_VERSION << 6);
        out.push(u8::from(self.marker) << 7 | self.payload_type);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(payload);
        Ok(())
    }

    /// The packet as a new buffer; see [`RtpHeader::write`].
    pub fn to_bytes(&self, payload: &[u8]) -> Result<Vec<u8>, RtpError> {
        let mut out = Vec::new();
        self.write(payload, &mut out)?;
        Ok(out)
    }
}

/// True if a datagram on a muxed RTP/RTCP port is RTCP (RFC 5761 §4: the second octet is an
/// RTCP packet type, 192..=223, which as RTP would be payload types 64..=95).
pub fn is_rtcp(bytes: &[u8]) -> bool {
    matches!(bytes.get(1), Some(192..=223))
}

/// Sequence numbers this far ahead of the highest seen still count as in order (RFC 3550 A.1).
pub const SEQUENCE_DROPOUT_MAX: u16 = 3_000;
/// Sequence numbers this far behind the highest seen count as late or duplicate.
pub const SEQUENCE_MISORDER_MAX: u16 = 100;

/// What [`SequenceTracker::handle_sequence`] made of a sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceStatus {
    /// The newest packet so far, with its extended (32+-bit) sequence number.
    InOrder(u64),
    /// Older than the newest packet: reordered or duplicated.
    Late(u64),
    /// A jump too large to be loss or reordering: the sender restarted its numbering, so the
    /// statistics start again from this packet.
    Restarted(u64),
}

/// Extended sequence numbers and loss counting for one incoming SSRC (RFC 3550 A.1,
/// simplified: a large jump restarts the count at once instead of after two packets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceTracker {
    /// Extended sequence number of the first packet; `None` before any packet.
    base: Option<u64>,
    /// Highest extended sequence number seen.
    max: u64,
    received: u64,
    /// `expected()` and `received` at the last report, for the fraction lost.
    expected_prior: u64,
    received_prior: u64,
}

impl SequenceTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one received packet and extends its sequence number.
    pub fn handle_sequence(&mut self, sequence: u16) -> SequenceStatus {
        let Some(_) = self.base else {
            return self.restart(sequence);
        };
        // Truncation to 16 bits is the point: the distance modulo 2^16.
        let delta = sequence.wrapping_sub(self.max as u16);
        if delta < SEQUENCE_DROPOUT_MAX {
            self.max += u64::from(delta);
            self.received += 1;
            SequenceStatus::InOrder(self.max)
        } else if delta >= u16::MAX - SEQUENCE_MISORDER_MAX {
            let behind = u64::from(u16::MAX - delta) + 1;
            self.received += 1;
            SequenceStatus::Late(self.max.saturating_sub(behind))
        } else {
            match self.restart(sequence) {
                SequenceStatus::InOrder(ext) => SequenceStatus::Restarted(ext),
                other => other,
            }
        }
    }

    fn restart(&mut self, sequence: u16) -> SequenceStatus {
        // Start one cycle up so that a late packet from before the first never underflows.
        let ext = (1 << 16) + u64::from(sequence);
        *self = SequenceTracker {
            base: Some(ext),
            max: ext,
            received: 1,
            expected_prior: 0,
            received_prior: 0,
        };
        SequenceStatus::InOrder(ext)
    }

    /// Packets received, duplicates included.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets the sender sent from the first seen to the highest seen.
    pub fn expected(&self) -> u64 {
        match self.base {
            Some(base) => self.max - base + 1,
            None => 0,
        }
    }

    /// Packets lost (never negative: duplicates do not make up for losses here).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// Highest extended sequence number seen, as RTCP's 32-bit field.
    pub fn highest_sequence(&self) -> u32 {
        // RTCP carries the low 32 bits by definition; the cycle count wraps there too.
        self.max as u32
    }

    /// Fraction of packets lost since the previous call, in 1/256 (RTCP "fraction lost").
    pub fn take_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost = expected_interval.saturating_sub(received_interval);
        if expected_interval == 0 || lost == 0 {
            return 0;
        }
        // lost <= expected_interval, so the quotient is at most 256; clamp to 255.
        ((lost << 8) / expected_interval).min(255) as u8
    }
}

/// Interarrival jitter (RFC 3550 §6.4.1 and A.8), in timestamp units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct JitterEstimator {
    /// Arrival time minus RTP timestamp of the previous packet, in timestamp units.
    last_transit: Option<i64>,
    jitter: f64,
}

impl JitterEstimator {
    pub fn new() -> Self {
        Self::default()
    }

    /// A packet with RTP timestamp `rtp_timestamp` arrived at `arrival_ms` (any epoch, the
    /// same for every call) on a `clock_hz` clock.
    pub fn handle_packet(&mut self, arrival_ms: i64, rtp_timestamp: u32, clock_hz: u32) {
        let arrival = arrival_ms.saturating_mul(i64::from(clock_hz)) / 1_000;
        // Only differences matter, and they are taken modulo 2^32 like the timestamps.
        let transit = i64::from(arrival.wrapping_sub(i64::from(rtp_timestamp)) as i32);
        if let Some(last) = self.last_transit {
            let d = (i64::from(transit.wrapping_sub(last) as i32)).abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    /// The current estimate, as RTCP's 32-bit field.
    pub fn jitter(&self) -> u32 {
        // Non-negative by construction; the cast saturates.
        self.jitter.round() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 0xfffe,
            timestamp: 0xdead_beef,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn writes_the_fixed_header_big_endian() {
        let bytes = header().to_bytes(&[1, 2, 3]).unwrap();
        assert_eq!(
            bytes,
            [0x80, 0x88, 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0x56, 0x78, 1, 2, 3]
        );
    }

    #[test]
    fn parses_csrcs_extension_and_padding() {
        let mut bytes = vec![0x80 | 0x20 | 0x10 | 2, 0x00, 0, 7, 0, 0, 0, 160, 0, 0, 0, 9];
        bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // two CSRCs
        bytes.extend_from_slice(&[0xbe, 0xde, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd]); // one-word ext
        bytes.extend_from_slice(&[0x55; 5]); // payload
        bytes.extend_from_slice(&[0, 0, 3]); // padding of 3
        let packet = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(packet.header.sequence, 7);
        assert_eq!(packet.header.timestamp, 160);
        assert_eq!(packet.header.ssrc, 9);
        assert!(!packet.header.marker);
        assert_eq!(packet.csrc_count(), 2);
        assert_eq!(packet.csrc(1), Some(2));
        assert_eq!(packet.csrc(2), None);
        assert_eq!(packet.extension_profile, Some(0xbede));
        assert_eq!(packet.payload, &[0x55; 5]);
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::TooShort { len: 11, needed: 12 }));
        let mut v1 = header().to_bytes(&[]).unwrap();
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::BadVersion(1)));
        let mut csrcs = header().to_bytes(&[0; 4]).unwrap();
        csrcs[0] |= 2;
        assert_eq!(RtpPacket::parse(&csrcs), Err(RtpError::TooShort { len: 16, needed: 20 }));
        let mut ext = header().to_bytes(&[0, 0, 0, 5]).unwrap();
        ext[0] |= 0x10;
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::TooShort { len: 16, needed: 36 }));
        let mut pad = header().to_bytes(&[1, 9]).unwrap();
        pad[0] |= 0x20;
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding { padding: 9, available: 2 }));
        let mut zero_pad = header().to_bytes(&[0]).unwrap();
        zero_pad[0] |= 0x20;
        assert!(matches!(RtpPacket::parse(&zero_pad), Err(RtpError::BadPadding { .. })));
        let big = vec![0x80; RTP_PACKET_BYTES_MAX + 1];
        assert!(matches!(RtpPacket::parse(&big), Err(RtpError::TooLong { .. })));
        let bad_pt = RtpHeader { payload_type: 128, ..header() };
        assert_eq!(bad_pt.to_bytes(&[]), Err(RtpError::BadPayloadType(128)));
    }

    #[test]
    fn recognises_rtcp_on_a_muxed_port() {
        assert!(is_rtcp(&[0x80, 200, 0, 6]));
        assert!(!is_rtcp(&header().to_bytes(&[]).unwrap()));
        assert!(!is_rtcp(&[0x80]));
    }

    #[test]
    fn tracker_extends_across_wrap_and_counts_loss() {
        let mut t = SequenceTracker::new();
        assert_eq!(t.handle_sequence(65_534), SequenceStatus::InOrder(65_536 + 65_534));
        assert_eq!(t.handle_sequence(65_535), SequenceStatus::InOrder(65_536 + 65_535));
        assert_eq!(t.handle_sequence(1), SequenceStatus::InOrder(2 * 65_536 + 1));
        assert_eq!(t.expected(), 4);
        assert_eq!(t.received(), 3);
        assert_eq!(t.lost(), 1);
        assert_eq!(t.take_fraction_lost(), 64);
        // The missing packet arrives late: nothing lost any more.
        assert_eq!(t.handle_sequence(0), SequenceStatus::Late(2 * 65_536));
        assert_eq!(t.lost(), 0);
        assert_eq!(t.take_fraction_lost(), 0);
        assert_eq!(t.highest_sequence(), 2 * 65_536 + 1);
    }

    #[test]
    fn tracker_restarts_on_a_large_jump() {
        let mut t = SequenceTracker::new();
        t.handle_sequence(10);
        t.handle_sequence(12);
        assert_eq!(t.lost(), 1);
        assert_eq!(t.handle_sequence(40_000), SequenceStatus::Restarted(65_536 + 40_000));
        assert_eq!((t.expected(), t.received(), t.lost()), (1, 1, 0));
    }

    #[test]
    fn jitter_is_zero_for_regular_arrivals_and_grows_with_variation() {
        let mut j = JitterEstimator::new();
        for i in 0..50u32 {
            j.handle_packet(
                1_000 + 20 * i64::from(i),
                (u32::MAX - 1_000).wrapping_add(160 * i),
                8_000,
            );
        }
        assert_eq!(j.jitter(), 0);
        for i in 50..250u32 {
            let wobble = if i % 2 == 0 { 10 } else { 0 };
            let ts = (u32::MAX - 1_000).wrapping_add(160 * i);
            j.handle_packet(1_000 + 20 * i64::from(i) + wobble, ts, 8_000);
        }
        // Every transit differs from the previous one by 10 ms = 80 units.
        assert!((75..=80).contains(&j.jitter()), "{}", j.jitter());
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = RtpPacket::parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_version_2(
            first in 0x80u8..0xc0,
            rest in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let mut bytes = vec![first];
            bytes.extend(rest);
            if let Ok(p) = RtpPacket::parse(&bytes) {
                prop_assert!(p.payload.len() <= bytes.len());
            }
        }

        #[test]
        fn serialize_then_parse_roundtrips(
            marker in any::<bool>(),
            payload_type in 0u8..128,
            sequence in any::<u16>(),
            timestamp in any::<u32>(),
            ssrc in any::<u32>(),
            payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let h = RtpHeader { marker, payload_type, sequence, timestamp, ssrc };
            let bytes = h.to_bytes(&payload).unwrap();
            let p = RtpPacket::parse(&bytes).unwrap();
            prop_assert_eq!(p.header, h);
            prop_assert_eq!(p.payload, &payload[..]);
            prop_assert_eq!(p.csrc_count(), 0);
        }

        #[test]
        fn tracker_never_panics_and_lost_is_bounded(
            seqs in proptest::collection::vec(any::<u16>(), 1..200),
        ) {
            let mut t = SequenceTracker::new();
            for s in seqs {
                t.handle_sequence(s);
                prop_assert!(t.lost() < t.expected() || t.expected() == 0 || t.lost() == 0);
                let _ = t.take_fraction_lost();
            }
        }
    }
}
