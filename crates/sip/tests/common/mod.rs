//! Fixture messages shared by the integration tests.

#![allow(dead_code)] // Each test binary uses a different subset.

pub const FIXTURES: &[&str] = &[
    "invite.sip",
    "register.sip",
    "ok200.sip",
    "ack.sip",
    "bye.sip",
    "cancel.sip",
    "options.sip",
    "unauthorized401.sip",
];

/// The raw bytes of `test_data/NAME`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
