//! The RFC 3261 §17 timers (and L and M from RFC 6026), as a small table indexed by an enum
//! per transaction.

use domain::Timestamp;

/// RFC 3261 Table 4 timers. A, B, C, D, M: INVITE client; E, F, K: non-INVITE client; G, H, I,
/// L: INVITE server; J: non-INVITE server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// INVITE request retransmit (unreliable only), doubling from T1.
    A,
    /// INVITE transaction timeout, 64*T1.
    B,
    /// INVITE client in Proceeding without a final response (RFC 3261 §16.6 step 11, which
    /// names it for proxies; a UA needs it too, or a peer that vanishes after 180 leaks the
    /// transaction). Restarted by every provisional response; shortened to 64*T1 when the TU
    /// sends a CANCEL (§9.1).
    C,
    /// Wait for response retransmits after a non-2xx, 32 s unreliable, 0 reliable.
    D,
    /// Non-INVITE request retransmit (unreliable only), doubling from T1 up to T2.
    E,
    /// Non-INVITE transaction timeout, 64*T1.
    F,
    /// INVITE final response retransmit (unreliable only), doubling from T1 up to T2.
    G,
    /// Wait for ACK, 64*T1.
    H,
    /// Wait for ACK retransmits, T4 unreliable, 0 reliable.
    I,
    /// Wait for non-INVITE request retransmits, 64*T1 unreliable, 0 reliable.
    J,
    /// Wait for non-INVITE response retransmits, T4 unreliable, 0 reliable.
    K,
    /// RFC 6026: INVITE server absorbs INVITE retransmissions after its 2xx, 64*T1.
    L,
    /// RFC 6026: INVITE client passes 2xx retransmissions to the TU, 64*T1.
    M,
}

impl Timer {
    const COUNT: usize = 13;

    fn index(self) -> usize {
        self as usize
    }
}

/// T1, T2 and T4 (RFC 3261 §17.1.1.1), from which the other timers derive, and timer C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip estimate.
    pub t1_ms: u64,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses.
    pub t2_ms: u64,
    /// Longest a message stays in the network.
    pub t4_ms: u64,
    /// Longest an INVITE may stay in Proceeding after its last provisional response.
    pub c_ms: u64,
}

impl TimerConfig {
    /// The RFC defaults, right for the public Internet.
    pub const RFC3261: TimerConfig =
        TimerConfig { t1_ms: 500, t2_ms: 4_000, t4_ms: 5_000, c_ms: 180_000 };

    /// Timers B, F, H, J, L and M.
    pub fn transaction_timeout_ms(&self) -> u64 {
        self.t1_ms.saturating_mul(64)
    }

    /// Timer D on unreliable transports: "at least 32 seconds".
    pub fn timer_d_ms(&self) -> u64 {
        self.transaction_timeout_ms().max(32_000)
    }
}

/// When each timer of one transaction fires, if it runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerTable([Option<Timestamp>; Timer::COUNT]);

impl TimerTable {
    pub fn get(&self, timer: Timer) -> Option<Timestamp> {
        self.0[timer.index()]
    }

    pub fn set(&mut self, timer: Timer, at: Option<Timestamp>) -> Option<Timestamp> {
        std::mem::replace(&mut self.0[timer.index()], at)
    }

    /// Every running timer, for removal from the layer's ordered index.
    pub fn running(&self) -> impl Iterator<Item = (Timer, Timestamp)> + '_ {
        const ALL: [Timer; Timer::COUNT] = [
            Timer::A,
            Timer::B,
            Timer::C,
            Timer::D,
            Timer::E,
            Timer::F,
            Timer::G,
            Timer::H,
            Timer::I,
            Timer::J,
            Timer::K,
            Timer::L,
            Timer::M,
        ];
        ALL.into_iter().filter_map(|t| self.get(t).map(|at| (t, at)))
    }
}
