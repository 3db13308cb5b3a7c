//! A customer calls the trunk number (sipp as the carrier's caller), hears the synthesized
//! greeting, presses 2 for the demo's callback queue, waits with music on hold, and is bridged
//! to the first free agent's phone (baresip). The console shows the inbound call with the
//! caller's number; the call is recorded; the caller hangs up and the interaction ends.

mod common;
#[path = "../../telephony/tests/common/mod.rs"]
mod peers;

use std::collections::BTreeMap;

use common::{demo_with, Session};
use peers::{eventually, Baresip, Sipp};
use switchboard::config::InboundSection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_presses_a_key_waits_and_talks_to_the_agent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("caller.pcap");
    peers::write_dtmf_pcap(&pcap, 1_500, 2, 5_000);
    let mic = dir.path().join("agent.wav");
    peers::write_wav(&mic, &peers::tone(440.0, 10_000, 6_000.0));

    // Calls are accepted from the trunk's address (any port on 127.0.0.1).
    let mut config = common::sip_config(dir.path(), 5_099, 32_200);
    let sip = &mut config.telephony.sip;
    let queue = "Website callbacks".to_string();
    sip.inbound = vec![InboundSection {
        dialed: None,
        greeting: Some("tts:en:Thank you for calling. For orders, press 2.".into()),
        menu: BTreeMap::from([("2".to_string(), queue.clone())]),
        // Only the key press can queue the call within this test.
        queue,
        menu_timeout_ms: 60_000,
        hold_prompt: Some("tts:en:All our agents are busy. Please hold.".into()),
        priority: 100,
    }];
    let demo = demo_with(config).await;
    let base = demo.server.base_url();
    let sip_addr = demo.server.sip_addr.expect("SIP is on");

    let alice = Session::login(&base, "alice").await;
    let phone = alice
        .start_registered_phone(
            || Baresip::start(sip_addr, "alice", "alice-phone-1", &mic),
            Baresip::log,
        )
        .await;
    alice.available().await;

    let caller = Sipp::uac("uac_inbound.xml", Some(&pcap), sip_addr, "sales");
    let state = alice
        .wait_state("a connected inbound call", |s| {
            s["interactions"][0]["state"] == "connected"
                && s["interactions"][0]["kind"] == "inbound"
        })
        .await;
    let card = &state["interactions"][0]["card"];
    assert_eq!(card["customer"]["phone"], "+15550001");
    assert_eq!(card["queue_name"], "Website callbacks");
    assert!(card["script"].is_object(), "the queue's script pops with the call: {card}");
    let ix = state["interactions"][0]["id"].as_u64().expect("an id");

    let (status, errors) = caller.wait(20);
    assert!(status.success(), "the caller's scenario failed: {errors}\n{}", phone.log());
    alice.wait_state("the call ended", |s| s["interactions"][0]["state"] != "connected").await;
    let file = dir.path().join(format!("recordings/interaction-{ix}.wav"));
    assert!(eventually(10, || file.is_file()).await, "no recording");
    let rms = peers::channel_rms(&file);
    assert!(rms[0] > 500.0 && rms[1] > 500.0, "both sides recorded: {rms:?}");
}
