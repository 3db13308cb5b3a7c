//! Phone networks behind the engine's telephony contract ([`domain::telephony`]).
//!
//! For now this holds the simulated network used by the demo, the tests and the benchmarks.
//! The SIP network (issue 3) will sit beside it behind the same commands and events.

pub mod simnet;

pub use simnet::{SimConfig, SimNetwork};
