//! The Switchboard server: configuration, wiring of store, engine, phone network and API, the
//! engine actor loop, the demo, and graceful shutdown.

pub mod actions;
pub mod bench;
mod campaign_demo;
pub mod config;
pub mod demo;
mod robocall;
pub mod runtime;
pub mod server;
