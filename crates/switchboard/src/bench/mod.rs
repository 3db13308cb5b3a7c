//! `switchboard bench ...`: benchmarks that print figures as JSON on stdout (progress on
//! stderr). They measure; they never assert.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

mod media;
mod sip_cps;

pub use media::{media, RelayKind};
pub use sip_cps::sip_cps;

use crate::config::Config;
use crate::demo::{start_demo, DEMO_WIDGET_KEY};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn bench_config() -> Config {
    let mut c = Config::default();
    c.server.listen = "127.0.0.1:0".into();
    c.server.metrics_listen = String::new();
    c.limits.callbacks_per_ip_per_minute = u32::MAX / 2;
    c.limits.callbacks_per_phone_per_hour = u32::MAX / 2;
    c.telephony.answer_probability = 1.0;
    c.telephony.ring_ms = [0, 0];
    c.telephony.agent_answer_ms = 0;
    c.telephony.talk_ms = Some([10, 10]);
    // Every number answers as a person and presses nothing.
    c.telephony.machine_suffixes.clear();
    c.telephony.key_presses.clear();
    c
}

fn phone(i: usize) -> String {
    // Distinct valid US numbers ending in 1..7, so none hits the simulated network's rules for
    // 0 (busy), 8 (fails) and 9 (never answers).
    format!("+1202555{:03}{}", (i / 7) % 1000, 1 + i % 7)
}

/// Callback requests accepted per second (each committed before its 202), with latency.
pub async fn intake(database: &str, requests: usize, concurrency: usize) -> anyhow::Result<Value> {
    let mut config = bench_config();
    // No agent takes the calls: the figure is intake alone.
    let demo = match database {
        "sqlite" => start_demo(config, "127.0.0.1:0", json!({})).await?,
        "postgres" => {
            let admin = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("sb_bench_{}", std::process::id());
            config.database.url = store::Store::create_postgres_database(&admin, &name).await?;
            crate::demo::start_demo_on(config, "127.0.0.1:0", json!({})).await?
        }
        other => anyhow::bail!("--db: use sqlite or postgres, not {other}"),
    };
    let base = demo.server.base_url();
    let origin = demo.shop_url.trim_end_matches('/').to_string();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(requests);
    let mut failures = 0usize;
    let mut next = 0usize;
    while next < requests {
        let batch: Vec<_> = (next..(next + concurrency).min(requests))
            .map(|i| {
                let client = client.clone();
                let url = format!("{base}/api/v1/public/callbacks");
                let origin = origin.clone();
                tokio::spawn(async move {
                    let body = json!({ "widget_key": DEMO_WIDGET_KEY, "name": "Bench", "phone": phone(i),
                        "consent": true });
                    let t = Instant::now();
                    let r = client.post(url).header("origin", origin).header("idempotency-key", format!("k{i}")).json(&body).send().await;
                    (t.elapsed().as_secs_f64() * 1000.0, r.map(|r| r.status().is_success()).unwrap_or(false))
                })
            })
            .collect();
        next += batch.len();
        for task in batch {
            let (ms, ok) = task.await?;
            latencies.push(ms);
            failures += usize::from(!ok);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    demo.server.stop().await?;
    Ok(json!({
        "bench": "intake", "database": database, "requests": requests, "concurrency": concurrency,
        "failures": failures, "elapsed_s": elapsed, "accepted_per_s": (requests - failures) as f64 / elapsed,
        "latency_ms_p50": percentile(&latencies, 0.5), "latency_ms_p99": percentile(&latencies, 0.99),
    }))
}

/// Time from sending a callback request to the customer's leg being dialed, with a free agent.
/// Measured from the request's start to the committed `customer_dialed` event.
/// With `agent_first`, the agent's (simulated, instantly answering) phone is connected first.
pub async fn dial_latency(samples: usize, order: &str) -> anyhow::Result<Value> {
    anyhow::ensure!(
        order == "agent_first" || order == "customer_first",
        "--order: agent_first or customer_first"
    );
    let overrides = json!({ "wrap_up_s": 0, "callback": { "order": order } });
    let demo = start_demo(bench_config(), "127.0.0.1:0", overrides).await?;
    let base = demo.server.base_url();
    let origin = demo.shop_url.trim_end_matches('/').to_string();
    let store = demo.server.state.store.clone();
    // Make every demo agent of the queue available.
    for login in ["alice", "bob", "carol"] {
        let http = reqwest::Client::builder().cookie_store(true).build()?;
        let r: Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "login": login, "password": crate::demo::DEMO_PASSWORD }))
            .send()
            .await?
            .json()
            .await?;
        let csrf = r["csrf_token"].as_str().context("csrf")?.to_string();
        http.post(format!("{base}/api/v1/agent/status"))
            .header("x-csrf-token", csrf)
            .json(&json!({ "status": "available" }))
            .send()
            .await?
            .error_for_status()?;
    }
    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(samples);
    let mut seen = 0i64;
    for i in 0..samples {
        let sent_ms = chrono::Utc::now().timestamp_micros() as f64 / 1000.0;
        let r = client.post(format!("{base}/api/v1/public/callbacks")).header("origin", &origin)
            .json(&json!({ "widget_key": DEMO_WIDGET_KEY, "name": "Bench", "phone": phone(i), "consent": true }))
            .send().await?;
        anyhow::ensure!(r.status().is_success(), "request {i} refused: {}", r.status());
        // Wait for the dial event of this request.
        let deadline = Instant::now() + Duration::from_secs(10);
        let dialed_at = loop {
            let events = store.events_after(seen, 1_000).await?;
            if let Some(e) = events.iter().find(|e| e.kind == "customer_dialed") {
                seen = e.seq;
                break e.at as f64;
            }
            if let Some(last) = events.last() {
                seen = last.seq;
            }
            anyhow::ensure!(Instant::now() < deadline, "request {i} was never dialed");
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let latency = (dialed_at - sent_ms).max(0.0);
        latencies.push(latency);
        // Let the short call end so an agent is free again.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    latencies.sort_by(f64::total_cmp);
    demo.server.stop().await?;
    Ok(json!({
        "bench": "dial_latency", "samples": samples, "order": order,
        "latency_ms_p50": percentile(&latencies, 0.5), "latency_ms_p99": percentile(&latencies, 0.99),
        "latency_ms_max": latencies.last().copied().unwrap_or(0.0),
        "note": "request sent -> customer_dialed event committed (ms clock resolution)",
    }))
}

/// Resident memory of an idle `switchboard serve` (fresh SQLite, no traffic).
pub async fn idle_rss(settle_s: u64) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .arg("serve")
        .env("SWITCHBOARD_SERVER__LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_SERVER__METRICS_LISTEN", "127.0.0.1:0")
        .env(
            "SWITCHBOARD_DATABASE__URL",
            format!("sqlite://{}", dir.path().join("idle.db").display()),
        )
        .env("SWITCHBOARD_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    tokio::time::sleep(Duration::from_secs(settle_s)).await;
    let pid = child.id().context("child pid")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc")?;
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (rss, hwm) = (kb("VmRSS:"), kb("VmHWM:"));
    child.kill().await?;
    Ok(
        json!({ "bench": "idle_rss", "settle_s": settle_s, "rss_mb": rss as f64 / 1024.0, "peak_rss_mb": hwm as f64 / 1024.0 }),
    )
}
