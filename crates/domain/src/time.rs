//! Time is a value passed in by the caller, never read from a clock here.

use std::fmt;

/// Milliseconds since the Unix epoch (UTC). Wall-clock time, because callbacks honour preferred
/// times and business hours; the shell reads the clock once per input and passes it down.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    pub const fn plus_ms(self, ms: u64) -> Self {
        // Saturate rather than wrap: a huge configured delay means "never", not "the past".
        let ms = if ms > i64::MAX as u64 { i64::MAX } else { ms as i64 };
        Timestamp(self.0.saturating_add(ms))
    }

    pub const fn minus_ms(self, ms: u64) -> Self {
        let ms = if ms > i64::MAX as u64 { i64::MAX } else { ms as i64 };
        Timestamp(self.0.saturating_sub(ms))
    }

    /// Milliseconds from `earlier` to `self`, zero if `earlier` is later.
    pub const fn ms_since(self, earlier: Timestamp) -> u64 {
        let d = self.0.saturating_sub(earlier.0);
        if d < 0 {
            0
        } else {
            d as u64
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_millis(1_000);
        assert_eq!(t.plus_ms(500).as_millis(), 1_500);
        assert_eq!(t.minus_ms(2_000).as_millis(), -1_000);
        assert_eq!(Timestamp::MAX.plus_ms(1), Timestamp::MAX);
        assert_eq!(t.ms_since(Timestamp::from_millis(400)), 600);
        assert_eq!(Timestamp::from_millis(400).ms_since(t), 0);
        assert_eq!(t.plus_ms(u64::MAX), Timestamp::MAX);
    }
}
