//! Campaign actions per final outcome over the real server and the simulated network: a
//! contact's label, an SMS through the HTTP gateway driver and a signed webhook, both received
//! by a real local HTTP server; retried with backoff, and neither lost nor sent again across
//! restarts.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::{fast_config, Session};
use serde_json::{json, Value};

const CAMPAIGN_SECRET: &str = "campaign-secret-0123456789";

#[derive(Default)]
struct Receiver {
    webhooks: Mutex<Vec<(HeaderMap, Bytes, StatusCode)>>,
    sms: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// Webhooks answered 503 before the receiver starts accepting.
    fail_first: AtomicUsize,
    /// Every webhook is answered 503 while set.
    down: AtomicBool,
}

async fn receiver(state: Arc<Receiver>) -> String {
    let hooks = state.clone();
    let sms = state.clone();
    let app = Router::new()
        .route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let state = hooks.clone();
                async move {
                    let failing = state.down.load(Ordering::SeqCst)
                        || state
                            .fail_first
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                    let status =
                        if failing { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
                    state.webhooks.lock().expect("not poisoned").push((headers, body, status));
                    status
                }
            }),
        )
        .route(
            "/sms",
            post(move |headers: HeaderMap, body: Bytes| {
                let state = sms.clone();
                async move {
                    state.sms.lock().expect("not poisoned").push((headers, body));
                    StatusCode::ACCEPTED
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn config(base: &str, db: &std::path::Path) -> switchboard::config::Config {
    let mut c = fast_config();
    c.database.url = format!("sqlite://{}", db.display());
    c.telephony.key_ms = 200;
    c.notify.sms.driver = "http".into();
    c.notify.sms.url = format!("{base}/sms");
    c.notify.sms.token = notify::Secret::new("gateway-token");
    c.notify.webhook_secret = notify::Secret::new("global-secret-0123456789");
    c
}

/// A robocall campaign: ...61 presses 1 (confirmed, a webhook), ...60 is busy and its one
/// attempt makes it final (failed: a label, an SMS and a webhook).
async fn campaign(sup: &Session, base: &str) -> i64 {
    let queue = sup.json("/api/v1/campaigns").await[0]["settings"]["queue_id"].as_i64();
    let settings = json!({
        "mode": "robocall", "queue_id": queue, "template": "parcel_waiting", "message_s": 5,
        "attempts_max": 1,
        "window": { "from": "00:00", "to": "23:59",
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
        "webhook_url": format!("{base}/hook"),
        "webhook_secret": CAMPAIGN_SECRET,
        "actions": {
            "confirmed": { "label": "confirmed by key", "webhook": true },
            "failed": { "label": "unreachable", "webhook": true,
                        "sms": "Hello {name}, parcel {parcel} waits at {office}." }
        }
    });
    let r = sup.post("/api/v1/campaigns", json!({ "name": "Actions", "settings": settings })).await;
    let body: Value = r.json().await.expect("json");
    let id = body["id"].as_i64().unwrap_or_else(|| panic!("created: {body:#}"));
    // The secret never reads back.
    let one = sup.json(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(one["settings"]["webhook_secret"], api::SECRET_MASK);
    let csv = "phone,name,parcel,office,days,return_date\n\
               +447911123461,Ann Key,P61,Camden,3,Friday\n\
               +447911123460,Bob Busy,P60,Hackney,3,Friday\n";
    let r = sup
        .http
        .post(format!("{}/api/v1/campaigns/{id}/contacts", sup.base))
        .header("x-csrf-token", &sup.csrf)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.json::<Value>().await.expect("json")["imported"], 2);
    sup.post(&format!("/api/v1/campaigns/{id}/start"), json!({})).await;
    id
}

/// Waits until `pred` holds for the campaign's action list; returns it.
async fn actions_when(
    sup: &Session,
    id: i64,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = sup.json(&format!("/api/v1/campaigns/{id}/actions")).await;
        let list = list.as_array().expect("actions").clone();
        if pred(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {list:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn all_sent(list: &[Value]) -> bool {
    list.len() == 3 && list.iter().all(|a| a["status"] == "sent")
}

#[tokio::test]
async fn final_outcomes_label_contacts_send_an_sms_and_signed_webhooks_with_retries() {
    let state = Arc::new(Receiver::default());
    state.fail_first.store(1, Ordering::SeqCst);
    let base = receiver(state.clone()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(&base, &dir.path().join("sb.db"));
    let demo = switchboard::demo::start_demo_on(config, "127.0.0.1:0", json!({}))
        .await
        .expect("demo starts");
    let sup = Session::login(&demo.server.base_url(), "sam").await;
    let id = campaign(&sup, &base).await;

    let actions = actions_when(&sup, id, "every action sent", all_sent).await;
    // The first webhook got a 503 and was sent again after the backoff.
    let attempts: Vec<i64> = actions
        .iter()
        .filter(|a| a["kind"] == "webhook")
        .map(|a| a["attempts"].as_i64().unwrap_or(0))
        .collect();
    assert!(attempts.contains(&2) && attempts.contains(&1), "{actions:#?}");
    let contacts = sup.json(&format!("/api/v1/campaigns/{id}/contacts")).await;
    let by_phone = |p: &str| {
        contacts
            .as_array()
            .expect("contacts")
            .iter()
            .find(|c| c["phone"] == p)
            .cloned()
            .expect("contact")
    };
    let ann = by_phone("+447911123461");
    assert_eq!(
        (ann["status"].as_str(), ann["label"].as_str()),
        (Some("confirmed"), Some("confirmed by key"))
    );
    let bob = by_phone("+447911123460");
    assert_eq!(
        (bob["status"].as_str(), bob["label"].as_str()),
        (Some("failed"), Some("unreachable"))
    );

    // Every webhook is signed with the campaign's secret over its timestamp and raw body.
    let hooks = state.webhooks.lock().expect("not poisoned").clone();
    assert_eq!(hooks.len(), 3, "two webhooks, one of them twice");
    let now_s = chrono_now_s();
    for (headers, body, _) in &hooks {
        let signature = headers["x-switchboard-signature"].to_str().expect("ascii");
        assert_eq!(notify::verify(CAMPAIGN_SECRET.as_bytes(), signature, body, now_s, 300), Ok(()));
        assert!(notify::verify(b"global-secret-0123456789", signature, body, now_s, 300).is_err());
        assert_eq!(headers["x-switchboard-event"], "contact.finished");
    }
    let delivered: Vec<Value> = hooks
        .iter()
        .filter(|(_, _, status)| *status == StatusCode::OK)
        .map(|(_, body, _)| serde_json::from_slice(body).expect("json"))
        .collect();
    let outcomes: std::collections::BTreeSet<&str> =
        delivered.iter().map(|b| b["outcome"].as_str().unwrap_or("")).collect();
    assert_eq!(outcomes.into_iter().collect::<Vec<_>>(), ["confirmed", "failed"]);
    let confirmed = delivered.iter().find(|b| b["outcome"] == "confirmed").expect("confirmed");
    assert_eq!(confirmed["contact"]["answer"], "confirm");
    assert_eq!(confirmed["contact"]["fields"]["parcel"], "P61");
    assert_eq!(confirmed["campaign"]["name"], "Actions");
    // The retry carried the same delivery id.
    let (first, retry) = (&hooks[0].0, hooks.iter().skip(1).map(|h| &h.0));
    assert!(retry
        .into_iter()
        .any(|h| h["x-switchboard-delivery"] == first["x-switchboard-delivery"]));

    // The SMS went to the gateway with its token, the fields filled in.
    let sms = state.sms.lock().expect("not poisoned").clone();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].0["authorization"], "Bearer gateway-token");
    let body: Value = serde_json::from_slice(&sms[0].1).expect("json");
    assert_eq!(body["to"], "+447911123460");
    assert_eq!(body["text"], "Hello Bob Busy, parcel P60 waits at Hackney.");
    demo.server.stop().await.expect("stop");
}

fn chrono_now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[tokio::test]
async fn queued_actions_survive_a_restart_and_are_not_sent_again() {
    let state = Arc::new(Receiver::default());
    state.down.store(true, Ordering::SeqCst);
    let base = receiver(state.clone()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(&base, &dir.path().join("sb.db"));
    let demo = switchboard::demo::start_demo_on(config.clone(), "127.0.0.1:0", json!({}))
        .await
        .expect("demo starts");
    let sup = Session::login(&demo.server.base_url(), "sam").await;
    let id = campaign(&sup, &base).await;
    // The receiver is down: both webhooks have failed once and wait for their retry.
    actions_when(&sup, id, "failed webhook attempts", |list| {
        list.iter().filter(|a| a["kind"] == "webhook" && a["attempts"] == 1).count() == 2
    })
    .await;
    demo.server.stop().await.expect("stop");

    // Restarted with the receiver up: the pending webhooks go out, each acknowledged once.
    state.down.store(false, Ordering::SeqCst);
    let server = switchboard::server::start(&config).await.expect("restart");
    let sup = Session::login(&server.base_url(), "sam").await;
    actions_when(&sup, id, "every action sent after the restart", all_sent).await;
    server.stop().await.expect("stop");
    let acked = |state: &Receiver| {
        state
            .webhooks
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|h| h.2 == StatusCode::OK)
            .count()
    };
    assert_eq!(acked(&state), 2);
    let requests = state.webhooks.lock().expect("not poisoned").len();

    // Another restart sends nothing again.
    let server = switchboard::server::start(&config).await.expect("restart");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.stop().await.expect("stop");
    assert_eq!(state.webhooks.lock().expect("not poisoned").len(), requests);
    assert_eq!(state.sms.lock().expect("not poisoned").len(), 1);
}
