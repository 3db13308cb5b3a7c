//! Robocall campaigns over real SIP: the carrier is sipp, answering and playing a pcap built
//! here (espeak-ng speech, silence, RFC 4733 key presses). The campaign is created through
//! the API; answering-machine detection (on by default for robocalls) listens to what the
//! callee says first, the message is played over RTP, a key press decides the contact, and
//! the call ends with our BYE.

mod common;
#[path = "../../telephony/tests/common/mod.rs"]
mod peers;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{demo_with, Session};
use peers::{eventually, Sipp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PHONE: &str = "+447911123461";

/// A person: "Hello?" after a short pause, then silence while our message plays, then `key`
/// 4.5 s after the answer (machine detection needs about 1.6 s), then silence.
fn person_pressing(key: char) -> (Vec<i16>, Vec<(u32, char)>) {
    let mut audio = peers::silence(300);
    audio.extend(peers::speech("Hello?"));
    let key_at = 4_500;
    audio.resize(key_at as usize * 8, 0);
    audio.extend(peers::silence(6_000));
    (audio, vec![(key_at, key)])
}

/// A voicemail greeting, its beep, then the silence of the machine recording.
fn voicemail() -> Vec<i16> {
    let mut audio = peers::silence(500);
    audio.extend(peers::speech(
        "Hello, you have reached the voicemail of John Smith. I cannot take your call right \
         now, please leave a message after the tone.",
    ));
    audio.extend(peers::silence(300));
    audio.extend(peers::tone(1_000.0, 400, 8_000.0));
    audio.extend(peers::silence(12_000));
    audio
}

/// The demo on SIP with a robocall campaign calling `PHONE` over the sipp trunk at
/// `trunk_port`; returns the server, a supervisor session and the campaign id.
async fn robocall(
    dir: &std::path::Path,
    trunk_port: u16,
    rtp_base: u16,
    extra: Value,
) -> (switchboard::demo::Demo, Session, i64) {
    let config = common::sip_config(dir, trunk_port, rtp_base);
    let demo = demo_with(config).await;
    let sup = Session::login(&demo.server.base_url(), "sam").await;
    let campaigns = sup.json("/api/v1/campaigns").await;
    let queue = campaigns[0]["settings"]["queue_id"].as_i64().expect("the demo's queue");
    let mut settings = json!({
        "mode": "robocall",
        "queue_id": queue,
        "message": "Hello {name}, your parcel is waiting. Press 1 to confirm, or 9 to opt out.",
        "message_s": 20,
        "window": { "from": "00:00", "to": "23:59",
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
        "retry_delays": { "no_answer_s": 60, "busy_s": 60, "machine_s": 600,
                          "failed_s": 60, "abandoned_s": 60 }
    });
    if let (Some(s), Some(e)) = (settings.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    let r = sup.post("/api/v1/campaigns", json!({ "name": "SIP robocall", "settings": settings }));
    let r = r.await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let r = sup
        .http
        .post(format!("{}/api/v1/campaigns/{id}/contacts", sup.base))
        .header("x-csrf-token", &sup.csrf)
        .header("content-type", "text/csv")
        .body(format!("phone,name\n{PHONE},Maria\n"))
        .send()
        .await
        .expect("upload");
    let report: Value = r.json().await.expect("json");
    assert_eq!(report["imported"], 1, "{report:#}");
    let r = sup.post(&format!("/api/v1/campaigns/{id}/start"), json!({})).await;
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "running");
    (demo, sup, id)
}

/// Polls the campaign's only contact until its status leaves pending/calling (or is `want`).
async fn contact_when(sup: &Session, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let contacts = sup.json(&format!("/api/v1/campaigns/{id}/contacts")).await;
        let contact = contacts[0].clone();
        if done(&contact) {
            return contact;
        }
        assert!(Instant::now() < deadline, "contact never got there: {contacts:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn only_call(sup: &Session, id: i64) -> Value {
    let calls = sup.json(&format!("/api/v1/campaigns/{id}/calls")).await;
    assert_eq!(calls.as_array().map(Vec::len), Some(1), "{calls:#}");
    calls[0].clone()
}

fn is_final(c: &Value) -> bool {
    !["pending", "calling"].contains(&c["status"].as_str().unwrap_or(""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_hears_the_message_and_confirms_with_a_key_press() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("person.pcap");
    let (audio, keys) = person_pressing('1');
    peers::write_speech_dtmf_pcap(&pcap, &audio, &keys);
    let carrier = Sipp::uas("uas_answer.xml", Some(&pcap), 1);
    let (demo, sup, id) = robocall(dir.path(), carrier.port, 33_000, json!({})).await;
    let stats = demo.server.sip_stats.clone().expect("SIP is on");

    let contact = contact_when(&sup, id, is_final).await;
    assert_eq!(
        (contact["status"].as_str(), contact["answer"].as_str()),
        (Some("confirmed"), Some("confirm")),
        "{contact:#}"
    );
    // The message went out as RTP before the key came (~2.5 s of it at 50 packets a second).
    let played = stats.rtp_packets_played.load(Ordering::Relaxed);
    assert!(played >= 50, "message packets sent: {played}");
    let call = only_call(&sup, id).await;
    assert_eq!((call["result"].as_str(), call["keys"].as_str()), (Some("delivered"), Some("1")));
    assert!(call["machine_at"].is_null(), "a person, not a machine: {call:#}");
    let answered = call["answered_at"].as_i64().zip(call["dialed_at"].as_i64());
    println!("person: answer reported {:?} ms after the dial", answered.map(|(a, d)| a - d));
    // We hung up with a BYE, which the carrier's scenario waits for.
    let (status, errors) = carrier.wait(30);
    assert!(status.success(), "the carrier's scenario failed: {errors}");
    assert!(eventually(10, || stats.legs_alive.load(Ordering::Relaxed) == 0).await, "leg leak");
    demo.server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_pressing_9_opts_out_onto_the_campaigns_dnc_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("opt-out.pcap");
    let (audio, keys) = person_pressing('9');
    peers::write_speech_dtmf_pcap(&pcap, &audio, &keys);
    let carrier = Sipp::uas("uas_answer.xml", Some(&pcap), 1);
    let (demo, sup, id) = robocall(dir.path(), carrier.port, 33_200, json!({})).await;

    let contact = contact_when(&sup, id, is_final).await;
    assert_eq!(contact["status"], "opted_out", "{contact:#}");
    let dnc = sup.json(&format!("/api/v1/dnc?campaign_id={id}")).await;
    assert_eq!(dnc[0]["phone"], PHONE, "{dnc:#}");
    let (status, errors) = carrier.wait(30);
    assert!(status.success(), "the carrier's scenario failed: {errors}");
    demo.server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_greeting_is_a_machine_that_gets_the_message_after_its_greeting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("voicemail.pcap");
    let audio = voicemail();
    peers::write_pcap(&pcap, &audio);
    let carrier = Sipp::uas("uas_answer.xml", Some(&pcap), 1);
    let extra = json!({ "on_machine": "leave_message", "message_s": 5 });
    let (demo, sup, id) = robocall(dir.path(), carrier.port, 33_400, extra).await;
    let stats = demo.server.sip_stats.clone().expect("SIP is on");

    let contact = contact_when(&sup, id, is_final).await;
    assert_eq!(contact["status"], "message_left", "{contact:#}");
    let call = only_call(&sup, id).await;
    assert_eq!(call["result"], "message_left", "{call:#}");
    // Reported once the greeting (7 s of speech after 0.5 s) and its beep were over.
    let (dialed, machine) = (call["dialed_at"].as_i64(), call["machine_at"].as_i64());
    let (Some(dialed), Some(machine)) = (dialed, machine) else { panic!("times: {call:#}") };
    let greeting_ms = (audio.len() as i64 - 12_000 * 8) / 8;
    assert!(machine - dialed >= greeting_ms, "reported {} ms after the dial", machine - dialed);
    println!("machine: reported {} ms after the dial; greeting {greeting_ms} ms", machine - dialed);
    assert!(stats.rtp_packets_played.load(Ordering::Relaxed) >= 100, "the message was played");
    let (status, errors) = carrier.wait(40);
    assert!(status.success(), "the carrier's scenario failed: {errors}");
    demo.server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_greeting_is_a_machine_called_again_later_with_retry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("voicemail.pcap");
    peers::write_pcap(&pcap, &voicemail());
    let carrier = Sipp::uas("uas_answer.xml", Some(&pcap), 1);
    let (demo, sup, id) = robocall(dir.path(), carrier.port, 33_600, json!({})).await;
    let stats = demo.server.sip_stats.clone().expect("SIP is on");

    let contact = contact_when(&sup, id, |c| c["last_result"] == "machine").await;
    assert_eq!(
        (contact["status"].as_str(), contact["attempts"].as_i64()),
        (Some("pending"), Some(1))
    );
    assert!(contact["next_at"].is_i64(), "a retry is scheduled: {contact:#}");
    let call = only_call(&sup, id).await;
    assert_eq!(call["result"], "machine", "{call:#}");
    let at = call["machine_at"].as_i64().zip(call["dialed_at"].as_i64()).map(|(m, d)| m - d);
    println!("machine (retry): reported {at:?} ms after the dial");
    // Hung up at the verdict (about 2 s into the greeting), without playing anything.
    let (status, errors) = carrier.wait(30);
    assert!(status.success(), "the carrier's scenario failed: {errors}");
    assert_eq!(stats.rtp_packets_played.load(Ordering::Relaxed), 0);
    demo.server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_who_hangs_up_while_detection_listens_is_retried_and_not_abandoned() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The carrier answers, says nothing and hangs up 1 s later: before any verdict (a
    // machine needs 2.5 s of silence, a person a word and 0.8 s of silence after it).
    let carrier = Sipp::uas("uas_hangs_up.xml", None, 1);
    let (demo, sup, id) = robocall(dir.path(), carrier.port, 33_800, json!({})).await;

    let contact = contact_when(&sup, id, |c| c["last_result"] == "hung_up_early").await;
    assert_eq!(
        (contact["status"].as_str(), contact["attempts"].as_i64()),
        (Some("pending"), Some(1))
    );
    assert!(contact["next_at"].is_i64(), "a retry is scheduled: {contact:#}");
    let call = only_call(&sup, id).await;
    assert_eq!(call["result"], "hung_up_early", "{call:#}");
    // Never reported answered, so it is outside the abandon rate's live answers.
    assert!(call["answered_at"].is_null(), "{call:#}");
    let progress = sup.json(&format!("/api/v1/campaigns/{id}/progress")).await;
    assert_eq!(progress["dials"], 1, "{progress:#}");
    assert!(progress["kpis"]["acr"].is_null(), "no live answer, no abandon rate: {progress:#}");
    let (status, errors) = carrier.wait(30);
    assert!(status.success(), "the carrier's scenario failed: {errors}");
    demo.server.stop().await.expect("stop");
}
