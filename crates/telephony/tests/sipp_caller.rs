//! sipp as a customer calling in (UAC): the shell answers, plays a synthesized greeting, hears
//! the caller's RFC 4733 key press, and reports the caller's hang-up.

mod common;

use std::sync::atomic::Ordering;

use common::{eventually, Sipp};
use domain::telephony::{LegEventKind, NetEvent, TelCommand};
use telephony::sipshell::SipShell;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_hears_the_greeting_and_the_key_press_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("caller.pcap");
    common::write_dtmf_pcap(&pcap, 1_000, 2, 2_000);
    // The carrier's address is the trunk: calls from elsewhere are refused.
    let mut config = common::config(0, 31_500, vec![]);
    config.tts_cache_dir = dir.path().join("tts");
    let mut shell = SipShell::start(config).await.expect("bind");
    let caller = Sipp::uac("uac_inbound.xml", Some(&pcap), shell.local_addr(), "sales");

    let (leg, caller_id, dialed) = match common::next_net_event(&mut shell, 15).await {
        NetEvent::Incoming { leg, caller, dialed } => (leg, caller, dialed),
        other => panic!("expected an incoming call, got {other:?}"),
    };
    assert_eq!((caller_id.as_str(), dialed.as_str()), ("+15550001", "sales"));
    let greeting = "tts:en:Thank you for calling. For sales, press 2.".to_string();
    assert!(shell.send(TelCommand::Play { leg, prompt: greeting, looping: false }).await);
    match common::next_net_event(&mut shell, 15).await {
        NetEvent::Dtmf { leg: pressed_on, digit } => assert_eq!((pressed_on, digit), (leg, '2')),
        other => panic!("expected the key press, got {other:?}"),
    }
    let stats = shell.stats();
    let played = eventually(5, || stats.rtp_packets_played.load(Ordering::Relaxed) >= 25).await;
    assert!(played, "the greeting was not sent: {stats:?}");
    match common::next_net_event(&mut shell, 20).await {
        NetEvent::Leg(e) => assert_eq!(e.kind, LegEventKind::HungUp { by_remote: true }),
        other => panic!("expected the caller's hang-up, got {other:?}"),
    }
    let (status, errors) = caller.wait(15);
    assert!(status.success(), "the caller's scenario failed: {errors}");
    let clean = eventually(10, || {
        stats.legs_alive.load(Ordering::Relaxed) == 0
            && stats.media_sockets_open.load(Ordering::Relaxed) == 0
            && stats.prompts_playing.load(Ordering::Relaxed) == 0
    })
    .await;
    assert!(clean, "leaked: {stats:?}");
}
