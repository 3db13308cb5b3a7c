//! DTMF as RFC 4733 telephone-events: the 4-byte payload, digits and event codes, a
//! [`DtmfReceiver`] that reports each key press once, and a [`DtmfSender`] that lays out the
//! packets of one key press in time.
//!
//! One event is one RTP timestamp (its start); the sender repeats it every 20 ms with a growing
//! duration and sends the final packet (end bit set) three times.

use std::collections::VecDeque;

use domain::Timestamp;
use thiserror::Error;

use crate::limits::{
    DTMF_DIGITS_QUEUED_MAX, DTMF_DURATION_MS_MAX, DTMF_DURATION_MS_MIN, DTMF_END_WAIT_MS,
};

/// Telephone-event clock rate for 8 kHz G.711 calls.
pub const DTMF_CLOCK_HZ: u32 = 8_000;
/// Packets of one event are sent this often.
pub const DTMF_PACKET_MS: u32 = 20;
/// How often the final packet of an event is sent (RFC 4733 §2.5.1.4).
pub const DTMF_END_PACKETS: usize = 3;
const UNITS_PER_MS: u32 = DTMF_CLOCK_HZ / 1_000;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DtmfError {
    #[error("telephone-event payload of {0} bytes, expected at least 4")]
    TooShort(usize),
    #[error("{0:?} is not a DTMF digit")]
    NotADigit(char),
    #[error("DTMF duration {ms} ms outside {min}..={max} ms")]
    BadDuration { ms: u32, min: u32, max: u32 },
    #[error("DTMF volume {0} is above 63")]
    BadVolume(u8),
}

/// The RFC 4733 §2.3 payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// 0-9, 10 = `*`, 11 = `#`, 12-15 = A-D; higher codes are other tones.
    pub event: u8,
    pub end: bool,
    /// Power level in -dBm0, 0..=63.
    pub volume: u8,
    /// Length so far in clock units (1/8000 s).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first event of a payload (redundant events after it are ignored).
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let Some(b) = payload.get(..4) else {
            return Err(DtmfError::TooShort(payload.len()));
        };
        Ok(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The 4-byte payload (the reserved bit is zero; the volume is masked to 6 bits).
    pub fn to_bytes(&self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [self.event, u8::from(self.end) << 7 | (self.volume & 0x3f), d0, d1]
    }
}

/// The event code of a DTMF digit (`0`-`9`, `*`, `#`, `A`-`D`, case-insensitive).
pub fn event_of_digit(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        // to_digit(10) of '0'..='9' is 0..=9.
        d @ '0'..='9' => d.to_digit(10).map(|n| n as u8),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(12 + (d as u8 - b'A')),
        _ => None,
    }
}

/// The digit of a DTMF event code, `None` for other tones.
pub fn digit_of_event(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// One key press, reported once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfDigit {
    pub digit: char,
    /// The RTP timestamp that identifies the event.
    pub rtp_timestamp: u32,
    /// The last duration the sender reported, in ms.
    pub duration_ms: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OpenEvent {
    rtp_timestamp: u32,
    digit: char,
    duration: u16,
    last_packet_at: Timestamp,
}

/// Turns received telephone-event packets into digits, each exactly once: a digit is reported
/// when its first end packet arrives, when a later event starts without its end having been
/// seen, or [`DTMF_END_WAIT_MS`] after its last packet (see [`DtmfReceiver::handle_timeout`]).
#[derive(Clone, Debug, Default)]
pub struct DtmfReceiver {
    open: Option<OpenEvent>,
    /// The latest event already reported; its repeats and anything older are ignored.
    last_reported: Option<u32>,
    digits: VecDeque<DtmfDigit>,
}

/// `a` is before `b` in RTP timestamp order (modulo 2^32).
fn is_before(a: u32, b: u32) -> bool {
    // Reinterpreting the wrapped difference as signed is RFC 3550's comparison.
    (a.wrapping_sub(b) as i32) < 0
}

impl DtmfReceiver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a telephone-event payload and handles it; see [`DtmfReceiver::handle_event`].
    pub fn handle_payload(
        &mut self,
        now: Timestamp,
        rtp_timestamp: u32,
        payload: &[u8],
    ) -> Result<(), DtmfError> {
        let event = TelephoneEvent::parse(payload)?;
        self.handle_event(now, rtp_timestamp, &event);
        Ok(())
    }

    /// Handles one telephone-event packet received at `now`. Non-DTMF events are ignored.
    pub fn handle_event(&mut self, now: Timestamp, rtp_timestamp: u32, event: &TelephoneEvent) {
        let Some(digit) = digit_of_event(event.event) else { return };
        if let Some(done) = self.last_reported {
            if done == rtp_timestamp || is_before(rtp_timestamp, done) {
                return;
            }
        }
        match self.open {
            Some(open) if open.rtp_timestamp == rtp_timestamp => {
                let open = OpenEvent {
                    duration: open.duration.max(event.duration),
                    last_packet_at: now,
                    ..open
                };
                self.open = Some(open);
            }
            Some(open) if is_before(rtp_timestamp, open.rtp_timestamp) => return,
            Some(open) => {
                // A new event began; the previous one lost its end packets.
                self.report(open);
                self.open = Some(OpenEvent {
                    rtp_timestamp,
                    digit,
                    duration: event.duration,
                    last_packet_at: now,
                });
            }
            None => {
                self.open = Some(OpenEvent {
                    rtp_timestamp,
                    digit,
                    duration: event.duration,
                    last_packet_at: now,
                });
            }
        }
        if event.end {
            if let Some(open) = self.open.take() {
                self.report(open);
            }
        }
    }

    fn report(&mut self, open: OpenEvent) {
        self.last_reported = Some(open.rtp_timestamp);
        // A caller that never polls loses digits beyond the bound rather than memory.
        if self.digits.len() < DTMF_DIGITS_QUEUED_MAX {
            self.digits.push_back(DtmfDigit {
                digit: open.digit,
                rtp_timestamp: open.rtp_timestamp,
                duration_ms: u32::from(open.duration) / UNITS_PER_MS,
            });
        }
    }

    /// Reports an event whose end packets never came, once its wait is over.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if let Some(open) = self.open {
            if now >= open.last_packet_at.plus_ms(DTMF_END_WAIT_MS) {
                self.open = None;
                self.report(open);
            }
        }
    }

    /// When [`DtmfReceiver::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.open.map(|o| o.last_packet_at.plus_ms(DTMF_END_WAIT_MS))
    }

    /// The next completed digit.
    pub fn poll_digit(&mut self) -> Option<DtmfDigit> {
        self.digits.pop_front()
    }
}

/// One packet of an outgoing event: send its payload at `send_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfPacket {
    pub send_at: Timestamp,
    /// Set on the first packet of the event only.
    pub marker: bool,
    /// The same for every packet of the event.
    pub rtp_timestamp: u32,
    pub event: TelephoneEvent,
}

/// Lays out the packets of one key press. The caller numbers them (sequence, SSRC) with the
/// rest of its outgoing stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfSender {
    /// Tone length, within `DTMF_DURATION_MS_MIN..=DTMF_DURATION_MS_MAX`.
    pub duration_ms: u32,
    /// Power level in -dBm0, 0..=63 (10 is usual).
    pub volume: u8,
}

impl DtmfSender {
    pub fn new(duration_ms: u32, volume: u8) -> Result<Self, DtmfError> {
        if !(DTMF_DURATION_MS_MIN..=DTMF_DURATION_MS_MAX).contains(&duration_ms) {
            return Err(DtmfError::BadDuration {
                ms: duration_ms,
                min: DTMF_DURATION_MS_MIN,
                max: DTMF_DURATION_MS_MAX,
            });
        }
        if volume > 63 {
            return Err(DtmfError::BadVolume(volume));
        }
        Ok(DtmfSender { duration_ms, volume })
    }

    /// The packets of `digit` starting at `start` with event timestamp `rtp_timestamp`: one
    /// every 20 ms with the duration so far, the last one (end bit set) three times.
    pub fn packets(
        &self,
        digit: char,
        start: Timestamp,
        rtp_timestamp: u32,
    ) -> Result<Vec<DtmfPacket>, DtmfError> {
        let event = event_of_digit(digit).ok_or(DtmfError::NotADigit(digit))?;
        let steps = self.duration_ms.div_ceil(DTMF_PACKET_MS);
        // duration_ms <= DTMF_DURATION_MS_MAX keeps this within u16 (checked at compile time).
        let total = (self.duration_ms * UNITS_PER_MS) as u16;
        let mut packets = Vec::with_capacity(steps as usize + DTMF_END_PACKETS);
        let count = steps - 1 + DTMF_END_PACKETS as u32;
        for k in 0..count {
            let end = k + 1 >= steps;
            let duration =
                if end { total } else { ((k + 1) * DTMF_PACKET_MS * UNITS_PER_MS) as u16 };
            packets.push(DtmfPacket {
                send_at: start.plus_ms(u64::from(k * DTMF_PACKET_MS)),
                marker: k == 0,
                rtp_timestamp,
                event: TelephoneEvent { event, end, volume: self.volume, duration },
            });
        }
        Ok(packets)
    }
}

const _: () = assert!(DTMF_DURATION_MS_MAX * UNITS_PER_MS <= u16::MAX as u32);
const _: () = assert!(DTMF_DURATION_MS_MIN >= DTMF_PACKET_MS);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn payload_roundtrip_and_layout() {
        let e = TelephoneEvent { event: 11, end: true, volume: 10, duration: 800 };
        assert_eq!(e.to_bytes(), [11, 0x8a, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Ok(e));
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), Err(DtmfError::TooShort(3)));
        // The reserved bit is ignored.
        assert_eq!(TelephoneEvent::parse(&[5, 0x40, 0, 0]).unwrap().volume, 0);
    }

    #[test]
    fn digits_map_to_events_and_back() {
        let digits = "0123456789*#ABCD";
        for (code, digit) in digits.chars().enumerate() {
            assert_eq!(event_of_digit(digit), Some(code as u8));
            assert_eq!(digit_of_event(code as u8), Some(digit));
        }
        assert_eq!(event_of_digit('b'), Some(13));
        assert_eq!(event_of_digit('E'), None);
        assert_eq!(digit_of_event(16), None);
    }

    #[test]
    fn sender_lays_out_marker_durations_and_three_ends() {
        let sender = DtmfSender::new(100, 10).unwrap();
        let packets = sender.packets('5', t(1_000), 4_000).unwrap();
        let summary: Vec<_> = packets
            .iter()
            .map(|p| {
                (p.send_at.as_millis(), p.marker, p.event.end, p.event.duration, p.rtp_timestamp)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1_000, true, false, 160, 4_000),
                (1_020, false, false, 320, 4_000),
                (1_040, false, false, 480, 4_000),
                (1_060, false, false, 640, 4_000),
                (1_080, false, true, 800, 4_000),
                (1_100, false, true, 800, 4_000),
                (1_120, false, true, 800, 4_000),
            ]
        );
        assert!(packets.iter().all(|p| p.event.event == 5 && p.event.volume == 10));
        assert_eq!(sender.packets('x', t(0), 0), Err(DtmfError::NotADigit('x')));
        assert!(DtmfSender::new(10, 10).is_err());
        assert!(DtmfSender::new(100, 64).is_err());
    }

    #[test]
    fn receiver_reports_each_press_once_despite_repeats() {
        let sender = DtmfSender::new(100, 10).unwrap();
        let mut rx = DtmfReceiver::new();
        let mut packets = sender.packets('1', t(0), 1_000).unwrap();
        // The start packet repeats (a retransmission) and everything is handled twice.
        packets.insert(1, packets[0]);
        packets.extend(sender.packets('#', t(500), 5_000).unwrap());
        let mut digits = Vec::new();
        for p in packets.iter().chain(packets.iter()) {
            rx.handle_payload(p.send_at, p.rtp_timestamp, &p.event.to_bytes()).unwrap();
            while let Some(d) = rx.poll_digit() {
                digits.push(d);
            }
        }
        assert_eq!(
            digits,
            vec![
                DtmfDigit { digit: '1', rtp_timestamp: 1_000, duration_ms: 100 },
                DtmfDigit { digit: '#', rtp_timestamp: 5_000, duration_ms: 100 },
            ]
        );
        assert_eq!(rx.poll_timeout(), None);
    }

    #[test]
    fn receiver_reports_events_whose_end_was_lost() {
        let mut rx = DtmfReceiver::new();
        let start = TelephoneEvent { event: 7, end: false, volume: 10, duration: 160 };
        rx.handle_event(t(0), 100, &start);
        assert_eq!(rx.poll_digit(), None);
        // A new event supersedes the open one.
        rx.handle_event(t(300), 2_000, &TelephoneEvent { event: 8, ..start });
        assert_eq!(rx.poll_digit().map(|d| d.digit), Some('7'));
        assert_eq!(rx.poll_timeout(), Some(t(300 + DTMF_END_WAIT_MS as i64)));
        rx.handle_timeout(t(300));
        assert_eq!(rx.poll_digit(), None);
        rx.handle_timeout(t(300 + DTMF_END_WAIT_MS as i64));
        assert_eq!(rx.poll_digit().map(|d| d.digit), Some('8'));
        // Late packets of reported events are ignored; so are non-DTMF events.
        rx.handle_event(t(2_000), 100, &start);
        rx.handle_event(t(2_000), 3_000, &TelephoneEvent { event: 70, ..start });
        assert_eq!(rx.poll_timeout(), None);
    }

    #[test]
    fn receiver_handles_timestamp_wrap() {
        let mut rx = DtmfReceiver::new();
        let end = TelephoneEvent { event: 1, end: true, volume: 10, duration: 800 };
        rx.handle_event(t(0), u32::MAX - 10, &end);
        rx.handle_event(t(500), 100, &TelephoneEvent { event: 2, ..end });
        let digits: Vec<_> = std::iter::from_fn(|| rx.poll_digit()).map(|d| d.digit).collect();
        assert_eq!(digits, vec!['1', '2']);
    }

    proptest! {
        #[test]
        fn receiver_never_reports_a_timestamp_twice(
            events in proptest::collection::vec(
                (0u32..6, any::<[u8; 4]>()), 0..60),
        ) {
            let mut rx = DtmfReceiver::new();
            let mut seen = std::collections::BTreeSet::new();
            for (i, (ts, payload)) in events.into_iter().enumerate() {
                rx.handle_payload(t(i as i64 * 20), ts * 800, &payload).unwrap();
                rx.handle_timeout(t(i as i64 * 20));
                while let Some(d) = rx.poll_digit() {
                    prop_assert!(seen.insert(d.rtp_timestamp));
                }
            }
        }
    }
}
