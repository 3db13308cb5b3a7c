//! The HTTP drivers against a real local server: the gateway's JSON and form bodies with the
//! bearer token, the webhook's signature, and which failures are worth a retry.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use notify::{
    verify, BodyFormat, HttpGateway, Secret, Sms, SmsError, SmsProvider, WebhookClient,
    WebhookError,
};

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A server that records every request and answers with the status its path names.
async fn server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = |status: StatusCode| {
        let seen = seen.clone();
        move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                seen.lock().expect("not poisoned").push((headers, body));
                status
            }
        }
    };
    let app = Router::new()
        .route("/ok", post(record(StatusCode::OK)))
        .route("/bad", post(record(StatusCode::BAD_REQUEST)))
        .route("/down", post(record(StatusCode::SERVICE_UNAVAILABLE)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

fn sms() -> Sms {
    Sms { to: "+447700900001".into(), text: "Hello & bye".into(), reference: "action-7".into() }
}

#[tokio::test]
async fn the_gateway_posts_json_or_form_with_the_token_and_classifies_failures() {
    let (base, seen) = server().await;
    let gateway = |path: &str, format| {
        let token = Some(Secret::new("tok-123"));
        let from = Some("Acme".to_string());
        HttpGateway::new(format!("{base}{path}"), token, format, from, Duration::from_secs(5))
            .expect("client")
    };
    gateway("/ok", BodyFormat::Json).send(&sms()).await.expect("sent");
    gateway("/ok", BodyFormat::Form).send(&sms()).await.expect("sent");
    let refused = gateway("/bad", BodyFormat::Json).send(&sms()).await;
    assert!(matches!(refused, Err(SmsError::Refused { status: 400, .. })), "{refused:?}");
    let down = gateway("/down", BodyFormat::Json).send(&sms()).await.expect_err("fails");
    assert!(down.is_retryable(), "{down:?}");
    let closed = HttpGateway::new(
        "http://127.0.0.1:9/sms".into(),
        None,
        BodyFormat::Json,
        None,
        Duration::from_secs(2),
    )
    .expect("client");
    assert!(closed.send(&sms()).await.expect_err("nobody listens").is_retryable());

    let seen = seen.lock().expect("not poisoned");
    let (headers, body) = &seen[0];
    assert_eq!(headers["authorization"], "Bearer tok-123");
    let json: serde_json::Value = serde_json::from_slice(body).expect("json body");
    assert_eq!(
        json,
        serde_json::json!({ "to": "+447700900001", "text": "Hello & bye", "from": "Acme",
                            "reference": "action-7" })
    );
    let (headers, body) = &seen[1];
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(
        std::str::from_utf8(body).expect("utf-8"),
        "to=%2B447700900001&text=Hello+%26+bye&from=Acme&reference=action-7"
    );
}

#[tokio::test]
async fn webhooks_are_signed_over_the_timestamp_and_body() {
    let (base, seen) = server().await;
    let client = WebhookClient::new(Duration::from_secs(5)).expect("client");
    let secret = Secret::new("whsec_0123456789abcdef");
    let body = br#"{"event":"contact.finished","id":7}"#.to_vec();
    let now = 1_800_000_000;
    client
        .post(&format!("{base}/ok"), &secret, "contact.finished", "7", body.clone(), now)
        .await
        .expect("sent");
    let refused = client.post(&format!("{base}/bad"), &secret, "e", "7", body.clone(), now).await;
    assert!(matches!(refused, Err(WebhookError::Refused { status: 400, .. })), "{refused:?}");
    let down = client.post(&format!("{base}/down"), &secret, "e", "7", body.clone(), now).await;
    assert!(down.expect_err("503").is_retryable());

    let seen = seen.lock().expect("not poisoned");
    let (headers, received) = &seen[0];
    assert_eq!(received.as_ref(), body.as_slice());
    assert_eq!(headers["x-switchboard-delivery"], "7");
    assert_eq!(headers["x-switchboard-event"], "contact.finished");
    let signature = headers["x-switchboard-signature"].to_str().expect("ascii");
    assert_eq!(verify(secret.expose().as_bytes(), signature, received, now + 5, 300), Ok(()));
    assert!(verify(b"wrong", signature, received, now, 300).is_err());
}
