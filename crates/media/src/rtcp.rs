//! Minimal RTCP (RFC 3550 §6): build a compound Sender or Receiver Report with at most one
//! report block and an SDES CNAME, or a BYE; parse compound packets far enough to recognise
//! SR, RR, SDES CNAME and BYE. Other packet types are reported by number and skipped.

use domain::Timestamp;
use thiserror::Error;

use crate::limits::{RTCP_CNAME_BYTES_MAX, RTCP_PACKETS_MAX, RTP_PACKET_BYTES_MAX};
use crate::rtp::{SequenceTracker, RTP_VERSION};

pub const PT_SR: u8 = 200;
pub const PT_RR: u8 = 201;
pub const PT_SDES: u8 = 202;
pub const PT_BYE: u8 = 203;
const SDES_CNAME: u8 = 1;
const REPORT_BLOCK_BYTES: usize = 24;
const SENDER_INFO_BYTES: usize = 20;
/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RtcpError {
    #[error("RTCP packet truncated: {len} bytes, the header says {needed}")]
    Truncated { len: usize, needed: usize },
    #[error("RTCP compound of {len} bytes is longer than {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error("RTCP version {0}, expected 2")]
    BadVersion(u8),
    #[error("RTCP compound holds more than {max} packets")]
    TooManyPackets { max: usize },
    #[error("CNAME of {len} bytes is longer than {max} bytes")]
    CnameTooLong { len: usize, max: usize },
    #[error("empty RTCP compound")]
    Empty,
}

/// The sender information of an SR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (see [`ntp_from_timestamp`]).
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packet_count: u32,
    pub octet_count: u32,
}

/// Reception statistics about one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number lost, a signed 24-bit value on the wire (clamped to fit).
    pub cumulative_lost: i32,
    pub highest_sequence: u32,
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received from `ssrc`, or 0.
    pub last_sr: u32,
    /// Delay since that SR in 1/65536 s, or 0.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// A block about `ssrc` from a tracker's counts (jitter and SR timing left at 0); takes
    /// the tracker's fraction lost since its previous report.
    pub fn from_tracker(ssrc: u32, tracker: &mut SequenceTracker) -> Self {
        ReportBlock {
            ssrc,
            fraction_lost: tracker.take_fraction_lost(),
            cumulative_lost: i32::try_from(tracker.lost()).unwrap_or(i32::MAX),
            highest_sequence: tracker.highest_sequence(),
            jitter: 0,
            last_sr: 0,
            delay_since_last_sr: 0,
        }
    }
}

/// One packet of a parsed compound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport {
        ssrc: u32,
        info: SenderInfo,
        blocks: Vec<ReportBlock>,
    },
    ReceiverReport {
        ssrc: u32,
        blocks: Vec<ReportBlock>,
    },
    /// The CNAMEs of an SDES packet (other items are skipped).
    SourceDescription {
        cnames: Vec<(u32, String)>,
    },
    Bye {
        ssrcs: Vec<u32>,
        reason: Option<String>,
    },
    /// A packet type this crate does not interpret (APP, feedback, XR, ...).
    Other {
        packet_type: u8,
    },
}

/// The 64-bit NTP timestamp of a wall-clock time.
pub fn ntp_from_timestamp(at: Timestamp) -> u64 {
    let ms = at.as_millis();
    let seconds = ms.div_euclid(1_000);
    let millis = ms.rem_euclid(1_000) as u64;
    // Times before 1900 do not occur; saturate rather than wrap.
    let ntp_seconds = u64::try_from(seconds).unwrap_or(0).saturating_add(NTP_UNIX_OFFSET_S);
    let fraction = (millis << 32) / 1_000;
    (ntp_seconds << 32) | fraction
}

/// The "last SR" field a receiver echoes: the middle 32 bits of the SR's NTP time.
pub fn ntp_middle(ntp: u64) -> u32 {
    // Truncation is the definition (RFC 3550 §6.4.1).
    (ntp >> 16) as u32
}

fn header(out: &mut Vec<u8>, count: u8, packet_type: u8, body_words: usize) {
    out.push(RTP_VERSION << 6 | (count & 0x1f));
    out.push(packet_type);
    // Bodies built here are at most a few hundred bytes; the length field never overflows.
    let words = u16::try_from(body_words).unwrap_or(u16::MAX);
    out.extend_from_slice(&words.to_be_bytes());
}

fn write_block(out: &mut Vec<u8>, b: &ReportBlock) {
    out.extend_from_slice(&b.ssrc.to_be_bytes());
    out.push(b.fraction_lost);
    let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff);
    out.extend_from_slice(&lost.to_be_bytes()[1..]);
    out.extend_from_slice(&b.highest_sequence.to_be_bytes());
    out.extend_from_slice(&b.jitter.to_be_bytes());
    out.extend_from_slice(&b.last_sr.to_be_bytes());
    out.extend_from_slice(&b.delay_since_last_sr.to_be_bytes());
}

/// A compound report: an SR if `sender` is given, else an RR, with at most one report block,
/// followed by an SDES packet carrying `cname`.
pub fn build_report(
    ssrc: u32,
    sender: Option<SenderInfo>,
    block: Option<&ReportBlock>,
    cname: &str,
) -> Result<Vec<u8>, RtcpError> {
    if cname.len() > RTCP_CNAME_BYTES_MAX {
        return Err(RtcpError::CnameTooLong { len: cname.len(), max: RTCP_CNAME_BYTES_MAX });
    }
    let mut out = Vec::with_capacity(64 + cname.len());
    let blocks = usize::from(block.is_some());
    let count = u8::from(block.is_some());
    match sender {
        Some(info) => {
            let body = 4 + SENDER_INFO_BYTES + blocks * REPORT_BLOCK_BYTES;
            header(&mut out, count, PT_SR, body / 4);
            out.extend_from_slice(&ssrc.to_be_bytes());
            out.extend_from_slice(&info.ntp.to_be_bytes());
            out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
            out.extend_from_slice(&info.packet_count.to_be_bytes());
            out.extend_from_slice(&info.octet_count.to_be_bytes());
        }
        None => {
            header(&mut out, count, PT_RR, (4 + blocks * REPORT_BLOCK_BYTES) / 4);
            out.extend_from_slice(&ssrc.to_be_bytes());
        }
    }
    if let Some(b) = block {
        write_block(&mut out, b);
    }
    // SDES: one chunk = SSRC, CNAME item (type, length, text), a null item, padding to 32 bits.
    let item = 2 + cname.len();
    let chunk = (4 + item + 1).div_ceil(4) * 4;
    header(&mut out, 1, PT_SDES, chunk / 4);
    let start = out.len();
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.push(SDES_CNAME);
    // Checked above against RTCP_CNAME_BYTES_MAX, which is at most 255.
    out.push(cname.len() as u8);
    out.extend_from_slice(cname.as_bytes());
    out.resize(start + chunk, 0);
    Ok(out)
}

/// A BYE for `ssrc`, to append to a report (a compound should start with SR or RR).
pub fn build_bye(ssrc: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    header(&mut out, 1, PT_BYE, 1);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out
}

fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(w) => u32::from_be_bytes([w[0], w[1], w[2], w[3]]),
        None => 0,
    }
}

fn parse_blocks(body: &[u8], count: usize) -> Vec<ReportBlock> {
    body.chunks_exact(REPORT_BLOCK_BYTES)
        .take(count)
        .map(|b| {
            // Sign-extend the 24-bit cumulative loss.
            let lost = i32::from_be_bytes([b[5], b[6], b[7], 0]) >> 8;
            ReportBlock {
                ssrc: be32(b, 0),
                fraction_lost: b[4],
                cumulative_lost: lost,
                highest_sequence: be32(b, 8),
                jitter: be32(b, 12),
                last_sr: be32(b, 16),
                delay_since_last_sr: be32(b, 20),
            }
        })
        .collect()
}

fn parse_sdes(body: &[u8], count: usize) -> Vec<(u32, String)> {
    let mut cnames = Vec::new();
    let mut at = 0;
    for _ in 0..count {
        let Some(ssrc_bytes) = body.get(at..at + 4) else { break };
        let ssrc = be32(ssrc_bytes, 0);
        at += 4;
        // Items until a null octet; then skip to the next 32-bit boundary.
        loop {
            let Some(&kind) = body.get(at) else { return cnames };
            if kind == 0 {
                at = (at + 1).div_ceil(4) * 4;
                break;
            }
            let Some(&len) = body.get(at + 1) else { return cnames };
            let Some(text) = body.get(at + 2..at + 2 + usize::from(len)) else {
                return cnames;
            };
            if kind == SDES_CNAME {
                cnames.push((ssrc, String::from_utf8_lossy(text).into_owned()));
            }
            at += 2 + usize::from(len);
        }
    }
    cnames
}

fn parse_bye(body: &[u8], count: usize) -> RtcpPacket {
    let ssrcs: Vec<u32> = body.chunks_exact(4).take(count).map(|w| be32(w, 0)).collect();
    let rest = body.get(4 * count..).unwrap_or(&[]);
    let reason = rest.split_first().and_then(|(&len, text)| {
        text.get(..usize::from(len)).map(|t| String::from_utf8_lossy(t).into_owned())
    });
    RtcpPacket::Bye { ssrcs, reason }
}

/// Parses a compound RTCP datagram. Never panics; truncated packets and bad versions are
/// errors, unknown packet types are [`RtcpPacket::Other`].
pub fn parse_compound(bytes: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if bytes.len() > RTP_PACKET_BYTES_MAX {
        return Err(RtcpError::TooLong { len: bytes.len(), max: RTP_PACKET_BYTES_MAX });
    }
    if bytes.is_empty() {
        return Err(RtcpError::Empty);
    }
    let mut packets = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if packets.len() == RTCP_PACKETS_MAX {
            return Err(RtcpError::TooManyPackets { max: RTCP_PACKETS_MAX });
        }
        let Some(h) = bytes.get(at..at + 4) else {
            return Err(RtcpError::Truncated { len: bytes.len(), needed: at + 4 });
        };
        let version = h[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtcpError::BadVersion(version));
        }
        let count = usize::from(h[0] & 0x1f);
        let packet_type = h[1];
        let end = at + 4 + 4 * usize::from(u16::from_be_bytes([h[2], h[3]]));
        let Some(body) = bytes.get(at + 4..end) else {
            return Err(RtcpError::Truncated { len: bytes.len(), needed: end });
        };
        let packet = match packet_type {
            PT_SR if body.len() >= 4 + SENDER_INFO_BYTES => RtcpPacket::SenderReport {
                ssrc: be32(body, 0),
                info: SenderInfo {
                    ntp: u64::from(be32(body, 4)) << 32 | u64::from(be32(body, 8)),
                    rtp_timestamp: be32(body, 12),
                    packet_count: be32(body, 16),
                    octet_count: be32(body, 20),
                },
                blocks: parse_blocks(&body[4 + SENDER_INFO_BYTES..], count),
            },
            PT_RR if body.len() >= 4 => RtcpPacket::ReceiverReport {
                ssrc: be32(body, 0),
                blocks: parse_blocks(&body[4..], count),
            },
            PT_SR | PT_RR => {
                return Err(RtcpError::Truncated { len: bytes.len(), needed: end + 4 })
            }
            PT_SDES => RtcpPacket::SourceDescription { cnames: parse_sdes(body, count) },
            PT_BYE => parse_bye(body, count),
            other => RtcpPacket::Other { packet_type: other },
        };
        packets.push(packet);
        at = end;
    }
    Ok(packets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block() -> ReportBlock {
        ReportBlock {
            ssrc: 0xabcd,
            fraction_lost: 25,
            cumulative_lost: -3,
            highest_sequence: 70_000,
            jitter: 12,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65_536,
        }
    }

    #[test]
    fn sender_report_with_block_and_cname_roundtrips() {
        let info = SenderInfo {
            ntp: 0x0102_0304_0506_0708,
            rtp_timestamp: 160,
            packet_count: 50,
            octet_count: 8_000,
        };
        let bytes = build_report(7, Some(info), Some(&block()), "agent@switchboard").unwrap();
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(&bytes[..4], &[0x81, 200, 0, 12]);
        let packets = parse_compound(&bytes).unwrap();
        assert_eq!(
            packets,
            vec![
                RtcpPacket::SenderReport { ssrc: 7, info, blocks: vec![block()] },
                RtcpPacket::SourceDescription {
                    cnames: vec![(7, "agent@switchboard".to_string())]
                },
            ]
        );
    }

    #[test]
    fn receiver_report_and_bye() {
        let mut bytes = build_report(9, None, None, "x").unwrap();
        bytes.extend(build_bye(9));
        let packets = parse_compound(&bytes).unwrap();
        assert_eq!(packets[0], RtcpPacket::ReceiverReport { ssrc: 9, blocks: vec![] });
        assert_eq!(packets[2], RtcpPacket::Bye { ssrcs: vec![9], reason: None });
        // Every CNAME length pads to a whole word.
        for len in 0..8 {
            let bytes = build_report(1, None, None, &"c".repeat(len)).unwrap();
            assert_eq!(bytes.len() % 4, 0);
            let parsed = parse_compound(&bytes).unwrap();
            assert_eq!(
                parsed[1],
                RtcpPacket::SourceDescription { cnames: vec![(1, "c".repeat(len))] }
            );
        }
    }

    #[test]
    fn bye_with_reason_and_unknown_types() {
        let bytes = [0x81, 203, 0, 2, 0, 0, 0, 5, 2, b'o', b'k', 0, 0x80, 204, 0, 0];
        assert_eq!(
            parse_compound(&bytes).unwrap(),
            vec![
                RtcpPacket::Bye { ssrcs: vec![5], reason: Some("ok".to_string()) },
                RtcpPacket::Other { packet_type: 204 },
            ]
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::Empty));
        assert_eq!(parse_compound(&[0x40, 200, 0, 0]), Err(RtcpError::BadVersion(1)));
        assert_eq!(
            parse_compound(&[0x80, 201, 0, 1]),
            Err(RtcpError::Truncated { len: 4, needed: 8 })
        );
        assert!(parse_compound(&[0x80, 200, 0, 1, 0, 0, 0, 1]).is_err());
        let many: Vec<u8> = (0..RTCP_PACKETS_MAX + 1).flat_map(|_| [0x80, 204, 0, 0]).collect();
        assert!(matches!(parse_compound(&many), Err(RtcpError::TooManyPackets { .. })));
        let long = "c".repeat(RTCP_CNAME_BYTES_MAX + 1);
        assert!(matches!(build_report(1, None, None, &long), Err(RtcpError::CnameTooLong { .. })));
    }

    #[test]
    fn ntp_time_and_tracker_blocks() {
        let ntp = ntp_from_timestamp(Timestamp::from_millis(1_500));
        assert_eq!(ntp >> 32, NTP_UNIX_OFFSET_S + 1);
        assert_eq!(ntp & 0xffff_ffff, 1 << 31);
        assert_eq!(ntp_middle(ntp), ((NTP_UNIX_OFFSET_S + 1) << 16) as u32 | 0x8000);
        let mut t = SequenceTracker::new();
        for s in [1, 2, 4] {
            t.handle_sequence(s);
        }
        let b = ReportBlock::from_tracker(3, &mut t);
        assert_eq!((b.ssrc, b.fraction_lost, b.cumulative_lost), (3, 64, 1));
        assert_eq!(b.highest_sequence & 0xffff, 4);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = parse_compound(&bytes);
        }

        #[test]
        fn parse_never_panics_on_plausible_headers(
            words in proptest::collection::vec(
                (0u8..32, 198u8..206, 0u16..8, proptest::collection::vec(any::<u8>(), 0..40)),
                1..5,
            ),
        ) {
            let mut bytes = Vec::new();
            for (count, pt, len, body) in words {
                bytes.extend_from_slice(&[0x80 | count, pt]);
                bytes.extend_from_slice(&len.to_be_bytes());
                bytes.extend(body);
            }
            let _ = parse_compound(&bytes);
        }
    }
}
