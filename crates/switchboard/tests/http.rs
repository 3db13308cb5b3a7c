//! The website callback through the real HTTP server: intake, routing, simulated calls, screen
//! pop, wrap-up, statistics; plus validation, limits, roles, CORS and the service endpoints.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn callback_reaches_a_free_agent_with_a_screen_pop_and_is_measured() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let alice = Session::login(&base, "alice").await;
    alice.available().await;

    let r = post_callback(&base, &shop_origin(&demo), callback_body("(202) 555-0147")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["access-control-allow-origin"], shop_origin(&demo).as_str());
    let accepted: Value = r.json().await.unwrap();
    let status_url = accepted["status_url"].as_str().unwrap().to_string();

    let state = alice
        .wait_state("a connected call", |s| s["interactions"][0]["state"] == "connected")
        .await;
    let card = &state["interactions"][0]["card"];
    assert_eq!(card["customer"]["name"], "Maria Garcia");
    assert_eq!(card["customer"]["phone"], "+12025550147");
    assert_eq!(card["topic"], "Where is my parcel?");
    assert_eq!(card["page_url"], "https://shop.example/orders/42");
    assert_eq!(card["custom_fields"]["order"], "A-42");
    assert_eq!(card["script"]["start"], "reason");
    assert_eq!(card["attempt"], 1);
    let ix = state["interactions"][0]["id"].as_u64().unwrap();

    let status: Value = Client::new()
        .get(format!("{base}{status_url}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "calling");

    // Wrap-up before hanging up is refused; after, it is stored with the script answers.
    let early = alice
        .post(&format!("/api/v1/interactions/{ix}/wrapup"), json!({ "disposition": "resolved" }))
        .await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    let r = alice.post(&format!("/api/v1/interactions/{ix}/hangup"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bad = alice
        .post(&format!("/api/v1/interactions/{ix}/wrapup"), json!({ "disposition": "nope" }))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answers = json!({ "reason": "Order status", "order": "A-42 shipped", "solved": "5" });
    let r = alice
        .post(
            &format!("/api/v1/interactions/{ix}/wrapup"),
            json!({ "disposition": "resolved", "notes": "ok", "answers": answers }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s = alice
        .wait_state("back to available", |s| {
            s["status"] == "available" && s["interactions"].as_array().unwrap().is_empty()
        })
        .await;
    assert_eq!(s["offers"], json!([]));

    let status: Value = Client::new()
        .get(format!("{base}{status_url}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "done");
    let history = alice.json("/api/v1/agent/history").await;
    assert_eq!(history[0]["disposition"], "resolved");
    assert_eq!(history[0]["answers"]["solved"], "5");
    assert_eq!(history[0]["outcome"], "completed");

    let sam = Session::login(&base, "sam").await;
    let overview = sam.json("/api/v1/supervisor/overview").await;
    assert_eq!(overview["queues"][0]["service_level"], 1.0, "answered at once: {overview}");
    let stats = sam.json("/api/v1/stats/callbacks?group_by=agent").await;
    let row = &stats["rows"][0];
    assert_eq!(row["label"], "Alice Moreau");
    assert_eq!((row["requests"].as_u64(), row["connected"].as_u64()), (Some(1), Some(1)));
    assert_eq!(row["connect_rate"], 1.0);
    assert!(row["first_dial_p50_s"].as_f64().unwrap() < 5.0);
    assert_eq!(stats["totals"]["asr"], 1.0);

    // A second request from the same phone shows the first in the card's history.
    let r = post_callback(&base, &shop_origin(&demo), callback_body("+12025550147")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let state =
        alice.wait_state("second call", |s| s["interactions"][0]["state"] == "connected").await;
    let hist = &state["interactions"][0]["card"]["history"];
    assert_eq!(hist[0]["disposition"], "resolved");
    demo.server.stop().await.unwrap();
}

#[tokio::test]
async fn busy_numbers_are_retried_then_fail() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let alice = Session::login(&base, "alice").await;
    alice.available().await;
    let r = post_callback(&base, &shop_origin(&demo), callback_body("+12025550140")).await;
    let accepted: Value = r.json().await.unwrap();
    let url = format!("{base}{}", accepted["status_url"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s: Value = Client::new().get(&url).send().await.unwrap().json().await.unwrap();
        if s["status"] == "failed" {
            assert_eq!(s["attempts"], 2, "max_attempts dials, no more");
            break;
        }
        assert!(Instant::now() < deadline, "never failed: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    demo.server.stop().await.unwrap();
}

#[tokio::test]
async fn intake_rejects_bad_input_naming_the_field_and_stores_nothing() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let origin = shop_origin(&demo);
    let with = |k: &str, v: Value| {
        let mut b = callback_body("+12025550147");
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = callback_body("+12025550147");
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases = [
        (without("name"), 422, "name"),
        (without("phone"), 422, "phone"),
        (with("phone", json!("call me maybe")), 422, "phone"),
        (with("phone", json!("123")), 422, "phone"),
        (with("name", json!(42)), 422, "name"),
        (with("name", json!("x".repeat(201))), 422, "name"),
        (with("widget_key", json!("nope")), 422, "widget_key"),
        (with("consent", json!(false)), 422, "consent"),
        (with("preferred_at", json!("2001-01-01T10:00:00Z")), 422, "preferred_at"),
        (with("preferred_at", json!("tomorrow")), 422, "preferred_at"),
        (with("page_url", json!("javascript:alert(1)")), 422, "page_url"),
        (with("custom_fields", json!({ "n": 1 })), 422, "custom_fields.n"),
        (with("extra", json!(1)), 422, "extra"),
    ];
    for (body, status, field) in cases {
        let r = post_callback(&base, &origin, body.clone()).await;
        assert_eq!(r.status().as_u16(), status, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().starts_with(field), "{e}");
    }
    let r = post_callback(&base, "https://evil.example", callback_body("+12025550147")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = Client::new()
        .post(format!("{base}/api/v1/public/callbacks"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(demo.server.state.store.open_callbacks().await.unwrap().is_empty(), "nothing stored");
    demo.server.stop().await.unwrap();
}

#[tokio::test]
async fn duplicates_idempotency_and_rate_limits() {
    // Default limits: 10 requests per IP per minute, 5 per phone per hour.
    let demo = demo_with(fast_config()).await;
    let base = demo.server.base_url();
    let origin = shop_origin(&demo);
    // No agent is available, so requests stay open.
    let keyed = |key: &str, phone: &str| {
        Client::new()
            .post(format!("{base}/api/v1/public/callbacks"))
            .header("origin", &origin)
            .header("idempotency-key", key)
            .json(&callback_body(phone))
    };
    let a = keyed("k-1", "+12025550101").send().await.unwrap();
    assert_eq!(a.status(), StatusCode::ACCEPTED);
    let a: Value = a.json().await.unwrap();
    let replay = keyed("k-1", "+12025550101").send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::ACCEPTED);
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], a["id"]);
    let dup = post_callback(&base, &origin, callback_body("+12025550101")).await;
    assert_eq!(dup.status(), StatusCode::OK);
    assert_eq!(dup.json::<Value>().await.unwrap()["id"], a["id"]);
    // Per-phone limit: 5 an hour (the three above count).
    for _ in 0..2 {
        assert_eq!(
            post_callback(&base, &origin, callback_body("+12025550101")).await.status(),
            StatusCode::OK
        );
    }
    let limited = post_callback(&base, &origin, callback_body("+12025550101")).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Per-IP limit: 10 a minute.
    let mut last = StatusCode::OK;
    for i in 0..10 {
        last =
            post_callback(&base, &origin, callback_body(&format!("+1202555012{i}"))).await.status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    demo.server.stop().await.unwrap();
}

#[tokio::test]
async fn roles_are_enforced_at_every_boundary() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let anon = Client::new();
    assert_eq!(
        anon.get(format!("{base}/api/v1/agent/state")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let bad = anon
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": "alice", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    let alice = Session::login(&base, "alice").await;
    let sam = Session::login(&base, "sam").await;
    let admin = Session::login(&base, "admin").await;
    assert_eq!(alice.get("/api/v1/agent/state").await.status(), StatusCode::OK);
    assert_eq!(alice.get("/api/v1/supervisor/overview").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(alice.get("/api/v1/stats/callbacks").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(sam.get("/api/v1/supervisor/overview").await.status(), StatusCode::OK);
    assert_eq!(sam.get("/api/v1/admin/users").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/api/v1/admin/users").await.status(), StatusCode::OK);
    assert_eq!(admin.get("/api/v1/supervisor/overview").await.status(), StatusCode::OK);

    // Cookie writes need the CSRF header.
    let no_csrf = alice
        .http
        .post(format!("{base}/api/v1/agent/status"))
        .json(&json!({"status": "available"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);

    // Bearer tokens carry a role and need no CSRF.
    let t: Value = admin
        .post("/api/v1/admin/tokens", json!({"name": "crm", "role": "supervisor"}))
        .await
        .json()
        .await
        .unwrap();
    let token = t["token"].as_str().unwrap();
    let crm = |path: &str| anon.get(format!("{base}{path}")).bearer_auth(token).send();
    assert_eq!(crm("/api/v1/supervisor/overview").await.unwrap().status(), StatusCode::OK);
    assert_eq!(crm("/api/v1/admin/users").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(crm("/api/v1/agent/state").await.unwrap().status(), StatusCode::FORBIDDEN);
    let wrong = anon
        .get(format!("{base}/api/v1/supervisor/overview"))
        .bearer_auth("sbk_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // Revoking the token ends its access.
    let listed: Value = admin.json("/api/v1/admin/tokens").await;
    assert_eq!(listed[0]["name"], "crm");
    assert!(listed[0].get("token").is_none(), "secrets are never listed");
    let id = t["id"].as_i64().unwrap();
    let r = admin
        .http
        .delete(format!("{base}/api/v1/admin/tokens/{id}"))
        .header("x-csrf-token", &admin.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        crm("/api/v1/supervisor/overview").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // Admin validation names the field.
    let r = admin.post("/api/v1/admin/queues", json!({"name": "Q2", "strategy": "random"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "strategy");
    let r = admin
        .post("/api/v1/admin/queues", json!({"name": "Q3", "callback": {"colour": "blue"}}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "callback.colour");
    let r = admin.post("/api/v1/admin/queues", json!({"name": "Q4", "priority": "high"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "priority");
    let r = admin
        .post("/api/v1/admin/scripts", json!({"name": "S", "definition": {"start": "a", "steps": [{"id": "a", "kind": "text", "prompt": "x", "next": "zz"}]}}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post(
            "/api/v1/admin/users",
            json!({"login": "alice", "name": "A", "role": "agent", "password": "longenough"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Logout ends the session.
    assert_eq!(alice.post("/api/v1/auth/logout", json!({})).await.status(), StatusCode::OK);
    assert_eq!(alice.get("/api/v1/agent/state").await.status(), StatusCode::UNAUTHORIZED);
    // Password guessing is slowed down per IP: 30 attempts a minute.
    let mut last = StatusCode::UNAUTHORIZED;
    for _ in 0..30 {
        last = anon
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"login": "alice", "password": "guess"}))
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    demo.server.stop().await.unwrap();
}

#[tokio::test]
async fn cors_openapi_metrics_health_and_websocket() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let origin = shop_origin(&demo);
    let pre = Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/public/callbacks"))
        .header("origin", &origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);
    assert_eq!(pre.headers()["access-control-allow-origin"], origin.as_str());
    let evil = Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/public/callbacks"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let w = widget_settings(&base, &origin).await;
    assert_eq!(
        (w["open_now"].as_bool(), w["button_text"].as_str()),
        (Some(true), Some("Call me back"))
    );

    let doc: Value = Client::new()
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/public/callbacks"]["post"].is_object());
    // Every route is documented, including path parameters and the admin surface.
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/agent/state",
        "/api/v1/interactions/{id}/wrapup",
        "/api/v1/admin/queues/{id}",
        "/api/v1/stats/callbacks",
        "/api/v1/ws",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
    assert!(paths.len() >= 25, "{} paths documented", paths.len());
    assert_eq!(
        Client::new().get(format!("{base}/healthz")).send().await.unwrap().text().await.unwrap(),
        "ok"
    );
    let metrics_addr = demo.server.metrics_addr.expect("metrics listener");
    let m = Client::new()
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("switchboard_callbacks_open 0"), "{m}");

    // The WebSocket pushes the agent's state on connect and on every change.
    let alice = Session::login(&base, "alice").await;
    let cookie = alice.http.get(format!("{base}/api/v1/auth/me")).send().await.unwrap();
    assert_eq!(cookie.status(), StatusCode::OK);
    let login = Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": "sam", "password": switchboard::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let session_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sb_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("session cookie");
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/api/v1/ws", demo.server.addr),
    )
    .unwrap();
    req.headers_mut().insert("cookie", session_cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws connects");
    let mut kinds = Vec::new();
    let first = ws.next().await.unwrap().unwrap().into_text().unwrap();
    kinds
        .push(serde_json::from_str::<Value>(&first).unwrap()["type"].as_str().unwrap().to_string());
    let second = ws.next().await.unwrap().unwrap().into_text().unwrap();
    kinds.push(
        serde_json::from_str::<Value>(&second).unwrap()["type"].as_str().unwrap().to_string(),
    );
    assert_eq!(kinds, ["agent_state", "overview"]);
    let r = Client::new()
        .post(format!("{base}/api/v1/agent/status"))
        .header("cookie", &session_cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"status": "break", "reason": "lunch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a push")
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(&msg.into_text().unwrap()).unwrap();
        if v["type"] == "agent_state" && v["state"]["status"] == "break" {
            assert_eq!(v["state"]["reason"], "lunch");
            break;
        }
        assert!(Instant::now() < deadline);
    }
    demo.server.stop().await.unwrap();
}

#[tokio::test]
async fn preferred_times_and_business_hours_schedule_the_dial() {
    // A queue open only on one weekday that is not today: every request waits for it.
    let today = chrono::Utc::now().format("%a").to_string().to_lowercase();
    let other = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .into_iter()
        .find(|d| *d != today)
        .unwrap();
    let overrides =
        json!({ "callback": { "time_zone": "UTC", "hours": { other: ["09:00", "17:00"] } } });
    let mut config = fast_config();
    config.limits.callbacks_per_ip_per_minute = 1_000;
    let demo = switchboard::demo::start_demo(config, "127.0.0.1:0", overrides).await.unwrap();
    let base = demo.server.base_url();
    let origin = shop_origin(&demo);
    let alice = Session::login(&base, "alice").await;
    alice.available().await;

    let w = widget_settings(&base, &origin).await;
    assert_eq!(w["open_now"], false);
    let next_open = w["next_open_at"].as_str().expect("the widget offers the next open slot");
    assert!(next_open.ends_with("T09:00:00.000Z"), "{next_open}");

    let r = post_callback(&base, &origin, callback_body("+12025550147")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "scheduled");
    assert_eq!(v["scheduled_for"], next_open);

    // A preferred time inside a later window is kept as asked.
    let mut body = callback_body("+12025550146");
    let in_a_week = chrono::DateTime::parse_from_rfc3339(next_open).unwrap()
        + chrono::Duration::days(7)
        + chrono::Duration::hours(3);
    body["preferred_at"] = json!(in_a_week.to_rfc3339());
    let v: Value = post_callback(&base, &origin, body).await.json().await.unwrap();
    assert_eq!(v["status"], "scheduled");
    let scheduled =
        chrono::DateTime::parse_from_rfc3339(v["scheduled_for"].as_str().unwrap()).unwrap();
    assert_eq!(scheduled, in_a_week);

    // Nothing is dialed before its time, although an agent is free.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = alice.json("/api/v1/agent/state").await;
    assert_eq!(state["interactions"], json!([]));
    assert_eq!(state["offers"], json!([]));
    demo.server.stop().await.unwrap();
}
