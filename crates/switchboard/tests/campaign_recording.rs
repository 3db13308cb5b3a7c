//! A robocall campaign's recorded message: uploaded as a WAV over HTTP to a server running
//! the SIP network, checked the way the player will load it, stored in the prompts directory
//! (replacing an earlier one), downloadable and removable by supervisors only.

mod common;
#[path = "../../telephony/tests/common/mod.rs"]
mod peers;

use common::{demo_with, Session};
use reqwest::StatusCode;
use serde_json::Value;

async fn put_wav(session: &Session, campaign: i64, body: Vec<u8>) -> reqwest::Response {
    session
        .http
        .put(format!("{}/api/v1/campaigns/{campaign}/recording", session.base))
        .header("x-csrf-token", &session.csrf)
        .header("content-type", "audio/wav")
        .body(body)
        .send()
        .await
        .expect("upload")
}

fn stored(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_campaign_recording_is_validated_stored_replaced_and_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prompts = dir.path().join("prompts");
    let mut config = common::sip_config(dir.path(), 9, 33_000);
    config.telephony.sip.prompts_dir = prompts.display().to_string();
    let demo = demo_with(config).await;
    let base = demo.server.base_url();
    let sup = Session::login(&base, "sam").await;
    let agent = Session::login(&base, "alice").await;
    let campaigns = sup.json("/api/v1/campaigns").await;
    let id = campaigns[0]["id"].as_i64().expect("the demo campaign");
    let path = format!("/api/v1/campaigns/{id}/recording");

    // Not a WAV: 422 naming the body, nothing stored.
    let r = put_wav(&sup, id, b"RIFF not really".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "body");
    assert!(stored(&prompts).is_empty());
    assert_eq!(sup.get(&path).await.status(), StatusCode::NOT_FOUND);

    // A 16 kHz WAV of one second is accepted (the player resamples it).
    let wav = dir.path().join("message.wav");
    write_wav_16k(&wav, &peers::tone(440.0, 1_000, 6_000.0));
    let bytes = std::fs::read(&wav).expect("wav");
    let r = put_wav(&sup, id, bytes.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    let first = body["prompt"].as_str().expect("a prompt name").to_string();
    assert!(first.starts_with(&format!("campaign-{id}-")), "{first}");
    assert_eq!(body["duration_ms"], 1_000);
    assert_eq!(stored(&prompts), vec![first.clone()]);
    let r = sup.get(&path).await;
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert_eq!(r.bytes().await.expect("body").to_vec(), bytes);

    // Agents may not read or change it; an unknown campaign is 404.
    assert_eq!(agent.get(&path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(put_wav(&agent, id, bytes.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(put_wav(&sup, 999_999, bytes).await.status(), StatusCode::NOT_FOUND);

    // A new recording replaces the old under a new name (the player caches by name).
    write_wav_16k(&wav, &peers::tone(660.0, 2_000, 6_000.0));
    let r = put_wav(&sup, id, std::fs::read(&wav).expect("wav")).await;
    let body: Value = r.json().await.expect("json");
    let second = body["prompt"].as_str().expect("a prompt name").to_string();
    assert_ne!(second, first);
    assert_eq!(stored(&prompts), vec![second]);

    let r = sup
        .http
        .delete(format!("{base}{path}"))
        .header("x-csrf-token", &sup.csrf)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(stored(&prompts).is_empty());
    assert_eq!(sup.get(&path).await.status(), StatusCode::NOT_FOUND);
}

fn write_wav_16k(path: &std::path::Path, samples_8k: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create wav");
    // Each 8 kHz sample twice: the same tone at 16 kHz.
    for &s in samples_8k {
        writer.write_sample(s).expect("sample");
        writer.write_sample(s).expect("sample");
    }
    writer.finalize().expect("finalize");
}
