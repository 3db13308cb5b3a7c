//! Durability: the real binary is killed with SIGKILL while calls are in flight and started
//! again on the same SQLite file. Nothing accepted is lost, every request ends exactly once,
//! and no customer is dialed beyond the rules (never again after a conversation happened).

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const ADMIN_PASSWORD: &str = "admin-pass-1";
const MAX_ATTEMPTS: u64 = 3;

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("switchboard.toml");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
metrics_listen = ""
bootstrap_admin_password = "{ADMIN_PASSWORD}"

[database]
url = "sqlite://{}"

[telephony]
answer_probability = 1.0
ring_ms = [1000, 2500]
agent_answer_ms = 100
talk_ms = [1000, 2500]
reject_ms = 300

[limits]
callbacks_per_ip_per_minute = 1000
"#,
        dir.join("sb.db").display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Starts the binary and returns it with its base URL, read from its startup line.
async fn spawn(config: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--config"])
        .arg(config)
        .env("SWITCHBOARD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            if let Some(url) = line.strip_prefix("switchboard listening on ") {
                return url.trim().to_string();
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server listens within 30 s");
    // Keep draining so the server never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("server: {line}");
        }
    });
    (child, base)
}

async fn login(base: &str, login: &str, password: &str) -> (Client, String) {
    let http = Client::builder().cookie_store(true).build().expect("client");
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK, "login {login}");
    let csrf =
        r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    (http, csrf)
}

async fn post(http: &Client, csrf: &str, url: String, body: Value) -> Value {
    let r = http.post(url).header("x-csrf-token", csrf).json(&body).send().await.expect("post");
    assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
    r.json().await.expect("json")
}

#[tokio::test]
async fn sigkill_mid_flight_loses_nothing_and_dials_nothing_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = config(dir.path());
    let (mut child, base) = spawn(&cfg).await;

    let (admin, csrf) = login(&base, "admin", ADMIN_PASSWORD).await;
    let queue = post(
        &admin,
        &csrf,
        format!("{base}/api/v1/admin/queues"),
        json!({
            "name": "Callbacks", "wrap_up_s": 0,
            "callback": { "max_attempts": MAX_ATTEMPTS, "retry_delays_s": [1], "ring_s": 15 }
        }),
    )
    .await["id"]
        .as_i64()
        .expect("queue id");
    for i in 0..3 {
        post(
            &admin,
            &csrf,
            format!("{base}/api/v1/admin/users"),
            json!({
                "login": format!("agent{i}"), "name": format!("Agent {i}"), "role": "agent",
                "password": "agent-pass-1", "queue_ids": [queue]
            }),
        )
        .await;
        let (agent, agent_csrf) = login(&base, &format!("agent{i}"), "agent-pass-1").await;
        post(
            &agent,
            &agent_csrf,
            format!("{base}/api/v1/agent/status"),
            json!({ "status": "available" }),
        )
        .await;
    }
    post(
        &admin,
        &csrf,
        format!("{base}/api/v1/admin/widgets"),
        json!({
            "name": "Shop", "queue_id": queue, "key": "shop", "title": "Call me",
            "button_text": "Call me", "default_region": "US"
        }),
    )
    .await;

    // Mostly answering numbers, and a busy one (ends in 0) that retries.
    let phones = [
        "+12025550111",
        "+12025550112",
        "+12025550113",
        "+12025550114",
        "+12025550115",
        "+12025550120",
        "+12025550116",
        "+12025550117",
    ];
    let mut accepted = Vec::new();
    for phone in phones {
        let r = Client::new()
            .post(format!("{base}/api/v1/public/callbacks"))
            .json(&json!({ "widget_key": "shop", "name": "Customer", "phone": phone, "consent": true }))
            .send()
            .await
            .expect("post callback");
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        accepted.push((
            v["id"].as_i64().expect("id"),
            v["status_url"].as_str().expect("url").to_string(),
        ));
    }

    // Let calls get under way (agents rung, customers ringing or talking), then kill -9.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    child.kill().await.expect("SIGKILL");

    let (mut child, base) = spawn(&cfg).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut finals: HashMap<i64, String> = HashMap::new();
    while finals.len() < accepted.len() {
        assert!(Instant::now() < deadline, "not all requests finished after restart: {finals:?}");
        for (id, url) in &accepted {
            let s: Value = Client::new()
                .get(format!("{base}{url}"))
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("json");
            let status = s["status"].as_str().expect("status").to_string();
            if status == "done" || status == "failed" {
                finals.insert(*id, status);
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // A graceful stop: SIGTERM, exit status 0.
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("stops")
        .expect("wait");
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");

    // Read the log: per callback, dials and conversations.
    let store = store::Store::connect(&format!("sqlite://{}", dir.path().join("sb.db").display()))
        .await
        .expect("store");
    let events = store.events_after(0, 100_000).await.expect("events");
    let mut callback_of: HashMap<i64, i64> = HashMap::new();
    let mut dials: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut bridged: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut interrupted = 0;
    for e in &events {
        match e.kind.as_str() {
            "interaction_queued" => {
                callback_of.insert(e.interaction_id.expect("ix"), e.callback_id.expect("cb"));
            }
            "customer_dialed" => dials.entry(e.callback_id.expect("cb")).or_default().push(e.seq),
            "bridged" => {
                let cb = callback_of[&e.interaction_id.expect("ix")];
                bridged.entry(cb).or_default().push(e.seq);
            }
            "interaction_ended" if e.data["outcome"] == "interrupted" => interrupted += 1,
            _ => {}
        }
    }
    assert!(interrupted > 0, "the kill should have interrupted calls in flight");
    for (id, _) in &accepted {
        let row = store.callback(*id).await.expect("read").expect("nothing accepted is lost");
        assert!(
            row.status == "done" || row.status == "failed",
            "callback {id} ended: {}",
            row.status
        );
        let d = dials.get(id).cloned().unwrap_or_default();
        assert!(d.len() as u64 <= MAX_ATTEMPTS, "callback {id} dialed {} times", d.len());
        let b = bridged.get(id).cloned().unwrap_or_default();
        assert!(b.len() <= 1, "callback {id} was connected {} times", b.len());
        if let Some(first_talk) = b.first() {
            assert!(
                d.iter().all(|seq| seq < first_talk),
                "callback {id} dialed again after a conversation"
            );
        }
        assert_eq!(row.attempts as usize, d.len(), "attempt counter equals the dials in the log");
    }
    assert_eq!(finals[&accepted[5].0], "failed", "the busy number fails after its attempts");
    assert_eq!(dials[&accepted[5].0].len() as u64, MAX_ATTEMPTS);
    assert!(store.open_callbacks().await.expect("open").is_empty());
}
