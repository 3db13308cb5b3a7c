//! Phone networks behind the engine's telephony contract ([`domain::telephony`]).
//!
//! - [`simnet`]: the seeded simulated network for the demo, tests and benchmarks.
//! - [`sipnet`]: the SIP network, a sans-I/O B2BUA and registrar over the `sip` crate.
//! - [`sipshell`]: the tokio shell that gives `sipnet` its sockets, clock and RTP relay.
//!
//! Which network runs is the binary's choice, from config.

pub mod simnet;
pub mod sipnet;
pub mod sipshell;

pub use simnet::{SimConfig, SimNetwork};
pub use sipnet::{SipConfig, SipNetwork};
