//! The SIP shell against sipp playing a carrier (UAS): answer, busy, no answer (our CANCEL),
//! and the carrier hanging up first. sipp's exit status says its side of the scenario passed;
//! the leg events say ours did; the shell's counters say nothing leaked.

mod common;

use std::sync::atomic::Ordering;

use common::{eventually, expect_events, Sipp};
use domain::telephony::{Endpoint, LegEventKind, NetEvent, TelCommand};
use domain::{LegId, PhoneNumber};
use telephony::sipshell::SipShell;

fn customer() -> Endpoint {
    Endpoint::Number(PhoneNumber::parse("+4915112345678", "DE").expect("valid number"))
}

fn dial(leg: u64, ring_ms_max: u64) -> TelCommand {
    TelCommand::Originate {
        leg: LegId(leg),
        to: customer(),
        caller_id: None,
        ring_ms_max,
        detect_machine: domain::telephony::MachineDetection::Off,
    }
}

async fn assert_clean(shell: &SipShell) {
    let stats = shell.stats();
    let clean = eventually(10, || {
        stats.legs_alive.load(Ordering::Relaxed) == 0
            && stats.ports_in_use.load(Ordering::Relaxed) == 0
            && stats.media_sockets_open.load(Ordering::Relaxed) == 0
    })
    .await;
    assert!(clean, "legs, ports or media sockets leaked: {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_answers_and_we_hang_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("tone.pcap");
    common::write_pcap(&pcap, &common::tone(440.0, 2_000, 8_000.0));
    let sipp = Sipp::uas("uas_answer.xml", Some(&pcap), 1);
    let mut shell = SipShell::start(common::config(sipp.port, 31_000, vec![])).await.expect("bind");
    assert!(shell.send(dial(1, 20_000)).await);
    expect_events(&mut shell, &[LegEventKind::Ringing, LegEventKind::Answered]).await;
    // The carrier's audio reaches our leg's socket.
    let stats = shell.stats();
    let heard = eventually(5, || stats.rtp_packets_received.load(Ordering::Relaxed) >= 20).await;
    assert!(heard, "no RTP from the carrier: {stats:?}");
    assert!(shell.send(TelCommand::Hangup { leg: LegId(1) }).await);
    expect_events(&mut shell, &[LegEventKind::HungUp { by_remote: false }]).await;
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "sipp's scenario failed: {errors}");
    assert_clean(&shell).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_carrier_is_a_busy_leg() {
    let sipp = Sipp::uas("uas_busy.xml", None, 1);
    let mut shell = SipShell::start(common::config(sipp.port, 31_100, vec![])).await.expect("bind");
    assert!(shell.send(dial(2, 20_000)).await);
    expect_events(&mut shell, &[LegEventKind::Busy]).await;
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "sipp's scenario failed: {errors}");
    assert_clean(&shell).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_call_is_cancelled_at_the_ring_limit() {
    let sipp = Sipp::uas("uas_no_answer.xml", None, 1);
    let mut shell = SipShell::start(common::config(sipp.port, 31_200, vec![])).await.expect("bind");
    assert!(shell.send(dial(3, 1_500)).await);
    expect_events(&mut shell, &[LegEventKind::Ringing, LegEventKind::NoAnswer]).await;
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "sipp expected our CANCEL and ACK: {errors}");
    assert_clean(&shell).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_hangs_up_first() {
    let sipp = Sipp::uas("uas_hangs_up.xml", None, 1);
    let mut shell = SipShell::start(common::config(sipp.port, 31_300, vec![])).await.expect("bind");
    assert!(shell.send(dial(4, 20_000)).await);
    expect_events(&mut shell, &[LegEventKind::Answered]).await;
    expect_events(&mut shell, &[LegEventKind::HungUp { by_remote: true }]).await;
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "sipp expected our 200 to its BYE: {errors}");
    assert_clean(&shell).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_trunk_carries_the_whole_dialog() {
    let sipp = Sipp::spawn("uas_hangs_up.xml", None, 1, &["-t", "t1"]);
    let mut config = common::config(sipp.port, 31_600, vec![]);
    if let Some(trunk) = config.trunk.as_mut() {
        trunk.transport = telephony::sipnet::Transport::Tcp;
    }
    let mut shell = SipShell::start(config).await.expect("bind");
    assert!(shell.send(dial(5, 20_000)).await);
    expect_events(&mut shell, &[LegEventKind::Answered]).await;
    assert_eq!(shell.stats().tcp_connections.load(Ordering::Relaxed), 1, "one connection");
    expect_events(&mut shell, &[LegEventKind::HungUp { by_remote: true }]).await;
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "sipp over TCP expected our 200 to its BYE: {errors}");
    assert_clean(&shell).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_the_trunk_answering_its_digest_challenge() {
    let sipp = Sipp::uas("uas_registrar.xml", None, 1);
    let mut config = common::config(sipp.port, 31_700, vec![]);
    if let Some(trunk) = config.trunk.as_mut() {
        trunk.username = Some("acct".into());
        trunk.password = Some("trunkpw".into());
        trunk.register_expires_s = Some(300);
    }
    let shell = SipShell::start(config).await.expect("bind");
    let stats = shell.stats();
    let registered = eventually(10, || stats.trunk_registered.load(Ordering::Relaxed) == 1).await;
    assert!(registered, "no registration with the trunk: {stats:?}");
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "the registrar's scenario failed: {errors}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_presses_sent_to_the_carrier_come_back_through_its_echo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("tone.pcap");
    common::write_pcap(&pcap, &common::tone(440.0, 4_000, 8_000.0));
    // sipp echoes every RTP packet it gets, so our own events return and are decoded.
    let sipp = Sipp::uas("uas_answer.xml", Some(&pcap), 1);
    let mut shell = SipShell::start(common::config(sipp.port, 31_800, vec![])).await.expect("bind");
    assert!(shell.send(dial(6, 20_000)).await);
    expect_events(&mut shell, &[LegEventKind::Ringing, LegEventKind::Answered]).await;
    let send = TelCommand::SendDtmf { leg: LegId(6), digits: "42#".into() };
    assert!(shell.send(send).await);
    let mut heard = String::new();
    while heard.len() < 3 {
        match common::next_net_event(&mut shell, 10).await {
            NetEvent::Dtmf { leg: LegId(6), digit } => heard.push(digit),
            other => panic!("expected the echoed key presses, got {other:?}"),
        }
    }
    assert_eq!(heard, "42#");
    // Five packets a 100 ms key at least; the last end packets may still be on their way.
    assert!(shell.stats().dtmf_packets_sent.load(Ordering::Relaxed) >= 3 * 5);
    assert!(shell.send(TelCommand::Hangup { leg: LegId(6) }).await);
    expect_events(&mut shell, &[LegEventKind::HungUp { by_remote: false }]).await;
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "sipp's scenario failed: {errors}");
    assert_clean(&shell).await;
}
