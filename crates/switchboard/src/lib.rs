//! The Switchboard server: configuration, wiring of store, engine, phone network and API, the
//! engine actor loop, the demo, and graceful shutdown.

pub mod bench;
pub mod config;
pub mod demo;
pub mod runtime;
pub mod server;
