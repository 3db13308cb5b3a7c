//! Engine configuration: per-queue callback policy on top of the router's queue settings.

use domain::PhoneNumber;
use routing::{QueueConfig, RouterConfig};

use crate::hours::BusinessHours;

#[derive(Clone, Debug)]
pub struct CenterConfig {
    pub router: RouterConfig,
    /// First id handed to a new interaction; the shell passes the store's maximum plus one.
    pub first_interaction_id: u64,
    /// How long an agent's phone may ring before the leg gives up.
    pub agent_ring_ms: u64,
}

/// Which side of a callback is connected first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOrder {
    /// Reserve and connect the agent, then dial the customer (the default).
    AgentFirst,
    /// Dial the customer once an agent is reserved; connect the agent on answer.
    CustomerFirst,
}

/// How an offer reaches the agent's phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptMode {
    /// The agent's phone is called at once and auto-answers.
    Auto,
    /// The agent accepts in the console first; then the phone is called.
    Console,
}

#[derive(Clone, Debug)]
pub struct CallbackPolicy {
    pub order: CallOrder,
    pub accept: AcceptMode,
    /// Router priority of callback tasks (higher is more urgent).
    pub priority: i32,
    /// Dials of the customer at most, including the first.
    pub max_attempts: u32,
    /// Delay before dial k+1 after a failed dial k; the last entry repeats.
    pub retry_delays_ms: Vec<u64>,
    /// How long the customer's phone may ring.
    pub customer_ring_ms: u64,
    pub caller_id: Option<PhoneNumber>,
    /// Callbacks are dialed only while open. `None`: always open.
    pub hours: Option<BusinessHours>,
}

#[derive(Clone, Debug)]
pub struct QueueSetup {
    pub routing: QueueConfig,
    pub callback: CallbackPolicy,
}
