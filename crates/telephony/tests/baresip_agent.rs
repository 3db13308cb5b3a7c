//! An agent's phone (baresip) registers with digest auth and auto-answers; a carrier (sipp)
//! answers the customer leg; the two are bridged and media flows both ways through our relay.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{eventually, Baresip, Sipp};
use domain::telephony::{Endpoint, LegEventKind, TelCommand};
use domain::{AgentId, InteractionId, LegId, PhoneNumber};
use telephony::sipnet::SipAccount;
use telephony::sipshell::SipShell;

async fn until_answered(shell: &mut SipShell, leg: LegId) {
    loop {
        let event = common::next_event(shell, 15).await;
        assert_eq!(event.leg, leg);
        match event.kind {
            LegEventKind::Ringing => continue,
            LegEventKind::Answered => return,
            other => panic!("leg {leg:?} ended with {other:?} instead of answering"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_phone_registers_answers_and_talks_to_the_customer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("customer.pcap");
    common::write_pcap(&pcap, &common::tone(1_000.0, 4_000, 8_000.0));
    let mic = dir.path().join("agent.wav");
    common::write_wav(&mic, &common::tone(440.0, 8_000, 6_000.0));

    let sipp = Sipp::uas("uas_answer.xml", Some(&pcap), 1);
    let account =
        SipAccount { agent: AgentId(7), username: "alice".into(), password: "s3cret".into() };
    let mut config = common::config(sipp.port, 31_400, vec![account]);
    config.recordings_dir = Some(dir.path().to_path_buf());
    let mut shell = SipShell::start(config).await.expect("bind");
    let phone = Baresip::start(shell.local_addr(), "alice", "s3cret", &mic);

    let mut registered = shell.registered();
    let ok = tokio::time::timeout(Duration::from_secs(15), async {
        while !registered.borrow_and_update().contains(&AgentId(7)) {
            registered.changed().await.expect("shell alive");
        }
    })
    .await;
    assert!(ok.is_ok(), "baresip did not register:\n{}", phone.log());

    let agent = TelCommand::Originate {
        leg: LegId(1),
        to: Endpoint::Agent(AgentId(7)),
        caller_id: None,
        ring_ms_max: 20_000,
        detect_machine: domain::telephony::MachineDetection::Off,
    };
    assert!(shell.send(agent).await);
    until_answered(&mut shell, LegId(1)).await;
    let number = PhoneNumber::parse("+4915112345678", "DE").expect("valid");
    let customer = TelCommand::Originate {
        leg: LegId(2),
        to: Endpoint::Number(number),
        caller_id: None,
        ring_ms_max: 20_000,
        detect_machine: domain::telephony::MachineDetection::Off,
    };
    assert!(shell.send(customer).await);
    until_answered(&mut shell, LegId(2)).await;
    assert!(shell.send(TelCommand::Bridge { a: LegId(1), b: LegId(2) }).await);
    let record =
        TelCommand::Record { interaction: InteractionId(42), customer: LegId(2), agent: LegId(1) };
    assert!(shell.send(record).await);

    // 2.5 s of 20 ms packets each way is about 250 relayed packets.
    let stats = shell.stats();
    let flowing = eventually(10, || stats.rtp_packets_relayed.load(Ordering::Relaxed) >= 200).await;
    assert!(flowing, "media is not flowing through the relay: {stats:?}\n{}", phone.log());
    // RTCP both ways on the ports above RTP: our reports out, the phone's and sipp's in.
    let rtcp = eventually(10, || {
        stats.rtcp_packets_sent.load(Ordering::Relaxed) >= 2
            && stats.rtcp_packets_received.load(Ordering::Relaxed) >= 1
    })
    .await;
    assert!(rtcp, "no RTCP exchange: {stats:?}");

    assert!(shell.send(TelCommand::Hangup { leg: LegId(2) }).await);
    assert!(shell.send(TelCommand::Hangup { leg: LegId(1) }).await);
    let (status, errors) = sipp.wait(15);
    assert!(status.success(), "sipp's scenario failed: {errors}");
    let clean = eventually(10, || {
        stats.legs_alive.load(Ordering::Relaxed) == 0
            && stats.media_sockets_open.load(Ordering::Relaxed) == 0
    })
    .await;
    assert!(clean, "leaked: {stats:?}");

    // The recording: the carrier's 1 kHz tone on the left (customer), the phone's 440 Hz on
    // the right (agent), both loud; and the phone heard the carrier through the relay.
    let path = dir.path().join("interaction-42.wav");
    assert!(eventually(5, || path.exists()).await, "no recording written");
    let rms = common::channel_rms(&path);
    assert_eq!(rms.len(), 2, "stereo");
    assert!(rms[0] > 1_000.0 && rms[1] > 1_000.0, "both sides recorded: {rms:?}");
    let left = common::tone_power(&path, 0, 1_000.0);
    let right = common::tone_power(&path, 1, 440.0);
    assert!(left > 0.5 && right > 0.5, "each side carries its own tone: {left} {right}");
    let heard =
        eventually(5, || phone.dumps().iter().any(|p| p.to_string_lossy().ends_with("dec.wav")))
            .await;
    assert!(heard, "baresip dumped nothing");
    let dec = phone.dumps().into_iter().find(|p| p.to_string_lossy().ends_with("dec.wav"));
    let dec = dec.expect("checked above");
    assert!(
        eventually(5, || common::channel_rms(&dec)[0] > 1_000.0).await,
        "the phone heard silence"
    );
}
