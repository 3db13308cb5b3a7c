//! Simulations and benchmarks that drive the real sans-I/O state machines with seeded
//! randomness. A seed reproduces a run.
//!
//! Unlike the core crates, this one may read a clock, but only to measure: simulated time is
//! still an argument, so results other than durations do not depend on the machine.
//!
//! - [`routing_bench`]: routing decisions per second and enqueue-to-offer latency of
//!   [`routing::Router`] at contact-center scale.
//! - [`callback_sim`]: the engine's callback flow against the simulated phone network, with
//!   random arrivals and agent behaviour, checked for safety and liveness after every step.
//! - [`dialer_bench`]: the predictive-dialer benchmark of `shared/dialer-benchmark.md`: the real
//!   pacing policies side by side on common random numbers.

pub mod callback_sim;
pub mod dialer_bench;
pub mod routing_bench;

pub use callback_sim::{run_callback_sim, CallbackSimConfig, CallbackSimReport};
pub use routing_bench::{run_routing_bench, RoutingBenchConfig, RoutingBenchReport};
