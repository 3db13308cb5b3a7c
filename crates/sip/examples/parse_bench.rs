//! How fast `Message::parse` reads a typical INVITE (the baresip-style fixture with SDP,
//! compact headers and a folded line): a figure to compare before and after parser changes,
//! not a test. Also times the serializer and SDP parsing of the same message.
//!
//! `cargo run --release -p sip --example parse_bench [iterations]`

use std::hint::black_box;
use std::time::Instant;

use sip::sdp::SessionDescription;
use sip::Message;

const INVITE: &[u8] = include_bytes!("../test_data/invite.sip");
const ITERATIONS_DEFAULT: u32 = 200_000;

/// Runs `step` `iterations` times and prints the rate. Each step `black_box`es its input and
/// output so the optimizer cannot drop the work.
fn measure(label: &str, iterations: u32, bytes_each: usize, mut step: impl FnMut()) {
    // A short warm-up so the first figure is not the cold cache's.
    for _ in 0..iterations / 10 {
        step();
    }
    let started = Instant::now();
    for _ in 0..iterations {
        step();
    }
    let seconds = started.elapsed().as_secs_f64();
    let per_second = f64::from(iterations) / seconds;
    let mib_per_second = per_second * bytes_each as f64 / (1024.0 * 1024.0);
    println!(
        "{label:<22} {per_second:>12.0} messages/s  {mib_per_second:>8.1} MiB/s  \
         {:>7.2} µs each",
        seconds * 1e6 / f64::from(iterations)
    );
}

fn main() {
    let iterations = match std::env::args().nth(1) {
        Some(arg) => arg.parse().unwrap_or_else(|_| panic!("iterations is a number, not {arg}")),
        None => ITERATIONS_DEFAULT,
    };
    let message = Message::parse(INVITE).expect("the fixture parses");
    let body = message.body().to_vec();
    let serialized = message.to_bytes();
    println!("INVITE fixture: {} bytes, {} iterations", INVITE.len(), iterations);

    measure("parse", iterations, INVITE.len(), || {
        black_box(Message::parse(black_box(INVITE)).is_ok());
    });
    measure("serialize", iterations, serialized.len(), || {
        black_box(black_box(&message).to_bytes());
    });
    measure("parse SDP body", iterations, body.len(), || {
        black_box(SessionDescription::parse(black_box(&body)).is_ok());
    });
}
