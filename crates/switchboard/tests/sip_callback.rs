//! The website callback over real SIP: the agent's phone is baresip (digest REGISTER,
//! auto-answer), the carrier is sipp. A visitor's request rings the agent's phone, then the
//! customer over the trunk; they are bridged, the call is recorded, and the agent downloads
//! the recording from the console API.

mod common;
#[path = "../../telephony/tests/common/mod.rs"]
mod peers;

use std::time::Duration;

use common::{callback_body, demo_with, post_callback, shop_origin, Session};
use peers::{eventually, Baresip, Sipp};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_rings_the_agents_sip_phone_then_the_customer_and_is_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("customer.pcap");
    peers::write_pcap(&pcap, &peers::tone(1_000.0, 3_000, 8_000.0));
    let mic = dir.path().join("agent.wav");
    peers::write_wav(&mic, &peers::tone(440.0, 10_000, 6_000.0));
    let carrier = Sipp::uas("uas_answer.xml", Some(&pcap), 1);

    let config = common::sip_config(dir.path(), carrier.port, 32_000);
    let demo = demo_with(config).await;
    let base = demo.server.base_url();
    let sip_addr = demo.server.sip_addr.expect("SIP is on");

    let alice = Session::login(&base, "alice").await;
    let state = alice.json("/api/v1/agent/state").await;
    assert_eq!(state["phone"], "unregistered");
    let phone = alice
        .start_registered_phone(
            || Baresip::start(sip_addr, "alice", "alice-phone-1", &mic),
            Baresip::log,
        )
        .await;
    alice.available().await;

    let r = post_callback(&base, &shop_origin(&demo), callback_body("+4915112345678")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let state = alice
        .wait_state("a connected call", |s| s["interactions"][0]["state"] == "connected")
        .await;
    let ix = state["interactions"][0]["id"].as_u64().expect("an interaction id");
    // The agent's keypad sends key presses to the customer's leg; bad keys name the field.
    let keys = format!("/api/v1/interactions/{ix}/dtmf");
    assert_eq!(alice.post(&keys, json!({ "digits": "12#" })).await.status(), StatusCode::OK);
    let r = alice.post(&keys, json!({ "digits": "12x" })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let r = alice.post(&format!("/api/v1/interactions/{ix}/hangup"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, errors) = carrier.wait(15);
    assert!(status.success(), "the carrier's scenario failed: {errors}\n{}", phone.log());

    // The recording is linked from the card and downloadable by the agent who took the call.
    let path = format!("/api/v1/interactions/{ix}/recording");
    let file = dir.path().join(format!("recordings/interaction-{ix}.wav"));
    let found = eventually(10, || file.is_file()).await;
    assert!(found, "no recording written");
    let card = alice.json(&format!("/api/v1/interactions/{ix}")).await;
    assert_eq!(card["recording_url"], json!(path));
    let r = alice.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let bytes = r.bytes().await.expect("body");
    let file = dir.path().join("downloaded.wav");
    std::fs::write(&file, &bytes).expect("save");
    let rms = peers::channel_rms(&file);
    assert!(rms.len() == 2 && rms[0] > 1_000.0 && rms[1] > 1_000.0, "both sides: {rms:?}");
    assert!(peers::tone_power(&file, 1, 440.0) > 0.5, "the agent's voice is on the right");

    // Another agent may not download it.
    let bob = Session::login(&base, "bob").await;
    assert_eq!(bob.get(&path).await.status(), StatusCode::FORBIDDEN);
}
