//! RTP inactivity: a call whose peer has sent nothing for a while is dead (the peer vanished
//! without a BYE). The shell feeds every received packet's time and hangs up when told.

use domain::Timestamp;

/// Declares the media dead `timeout_ms` after the last packet (or after the start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InactivityTimer {
    timeout_ms: u64,
    last_packet_at: Timestamp,
}

impl InactivityTimer {
    /// Starts counting at `now`, as if a packet had arrived then.
    pub fn new(now: Timestamp, timeout_ms: u64) -> Self {
        InactivityTimer { timeout_ms, last_packet_at: now }
    }

    /// A packet arrived at `now`. Out-of-order times never move the deadline back.
    pub fn handle_packet(&mut self, now: Timestamp) {
        self.last_packet_at = self.last_packet_at.max(now);
    }

    /// When the media will be dead if nothing arrives before.
    pub fn poll_timeout(&self) -> Timestamp {
        self.last_packet_at.plus_ms(self.timeout_ms)
    }

    pub fn is_dead(&self, now: Timestamp) -> bool {
        now >= self.poll_timeout()
    }

    pub fn last_packet_at(&self) -> Timestamp {
        self.last_packet_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn dies_after_the_timeout_without_packets() {
        let mut timer = InactivityTimer::new(t(1_000), 30_000);
        assert_eq!(timer.poll_timeout(), t(31_000));
        assert!(!timer.is_dead(t(30_999)));
        timer.handle_packet(t(20_000));
        assert!(!timer.is_dead(t(31_000)));
        timer.handle_packet(t(10_000));
        assert_eq!(timer.poll_timeout(), t(50_000));
        assert!(timer.is_dead(t(50_000)));
        assert_eq!(timer.last_packet_at(), t(20_000));
        assert_eq!(InactivityTimer::new(t(0), u64::MAX).poll_timeout(), Timestamp::MAX);
    }
}
