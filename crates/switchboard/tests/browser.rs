//! The website callback in real browsers: headless Chromium (driven by playwright-core from
//! `web/e2e/callback.e2e.mjs`) submits the widget on the demo shop page, an agent handles the
//! call in the console, a supervisor reads the statistics. The demo server runs in-process; this
//! test then checks from the server side what the browsers submitted.
//!
//! Needs node, Debian's chromium, `web/node_modules` and a built `web/dist`: `scripts/setup
//! --test` installs them. Missing pieces fail the test; they never skip it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};

/// Bound on the whole browser run (the script bounds itself at 60 s and then closes Chromium).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);
const SCRIPT: &str = "web/e2e/callback.e2e.mjs";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> PathBuf {
    std::env::var_os("SB_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Fails with a message saying how to fix it when something the browser run needs is missing.
fn preflight(root: &Path) {
    let setup = "run `scripts/setup --test` from the workspace root";
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node is not installed or does not run ({node:?}): {setup}"
    );
    let chromium = chromium();
    assert!(
        chromium.is_file(),
        "Chromium is missing at {} (set SB_CHROMIUM to use another binary): {setup}",
        chromium.display()
    );
    assert!(
        root.join("web/dist/index.html").is_file(),
        "web/dist/index.html is missing, so the console is not embedded in the server: {setup}, \
         then run the tests again (cargo re-embeds web/dist)"
    );
    assert!(
        root.join("web/node_modules/playwright-core/package.json").is_file(),
        "web/node_modules/playwright-core is missing: run `npm ci` in web/ ({setup} installs \
         node_modules only when the folder is absent)"
    );
    assert!(root.join(SCRIPT).is_file(), "{SCRIPT} is missing");
}

/// Runs the browser script against the demo; returns its `E2E_RESULT` JSON.
async fn run_script(root: &Path, base: &str, shop: &str) -> Value {
    let child = tokio::process::Command::new("node")
        .arg(root.join(SCRIPT))
        .current_dir(root.join("web"))
        .env("SB_BASE_URL", base)
        .env("SB_SHOP_URL", shop)
        .env("SB_CHROMIUM", chromium())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node for the browser script");
    let started = Instant::now();
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{SCRIPT} did not finish within {SCRIPT_TIMEOUT:?} (killed)"))
        .expect("wait for the browser script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- {SCRIPT} ({:.1?}) stdout ---\n{stdout}", started.elapsed());
    if !stderr.trim().is_empty() {
        println!("--- {SCRIPT} stderr ---\n{stderr}");
    }
    assert!(
        out.status.success(),
        "the browser test failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("E2E_RESULT "))
        .unwrap_or_else(|| panic!("no E2E_RESULT line in the script's output:\n{stdout}"));
    serde_json::from_str(line).expect("E2E_RESULT is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_callback_screen_pop_wrap_up_and_stats_in_headless_chromium() {
    let root = workspace_root();
    preflight(&root);
    let demo = demo().await;
    let base = demo.server.base_url();

    // The embedded console must be served (rust-embed tolerates a missing web/dist).
    let r = Client::new().get(format!("{base}/")).send().await.expect("GET /");
    let html = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("text/html")));
    assert!(
        r.status() == StatusCode::OK && html,
        "the server does not serve the console at / ({}): web/dist was not embedded; run \
         `scripts/setup` and rebuild",
        r.status()
    );

    let got = run_script(&root, &base, &demo.shop_url).await;

    // What the browsers did is what the server stored.
    let store = &demo.server.state.store;
    let id = got["interaction_id"].as_i64().expect("interaction_id in E2E_RESULT");
    let ix = store.interaction(id).await.expect("read interaction").expect("interaction exists");
    let alice = store.user_by_login("alice").await.expect("read user").expect("alice exists");
    assert_eq!(ix.agent_id, Some(alice.id), "handled by alice: {ix:?}");
    assert_eq!(ix.outcome.as_deref(), Some("completed"), "{ix:?}");
    assert!(ix.bridged_at.is_some() && ix.ended_at.is_some(), "connected, then ended: {ix:?}");
    assert_eq!(ix.disposition.as_deref(), Some("resolved"), "{ix:?}");
    assert_eq!(ix.disposition.as_deref(), got["disposition"].as_str(), "{ix:?}");
    assert_eq!(ix.notes.as_deref(), got["notes"].as_str(), "{ix:?}");
    assert_eq!(
        ix.answers,
        Some(json!({ "reason": "Order status", "order": "A-42 shipped today", "solved": "5" })),
        "the script answers on the path taken"
    );
    assert_eq!(ix.answers.as_ref(), Some(&got["answers"]), "answers as the script gave them");

    let cb = store.callback(ix.callback_id).await.expect("read callback").expect("callback");
    assert_eq!(cb.name, "Maria Garcia");
    assert_eq!(cb.phone, "+12025550147", "stored in E.164");
    assert_eq!(Some(cb.topic.as_str()), got["topic"].as_str());
    assert_eq!(cb.page_url, demo.shop_url, "the widget sends the shop page's URL");
    assert!(cb.consent);
    assert_eq!(cb.status, "done");
    assert_eq!(cb.attempts, 1);
    assert_eq!(store.interactions_of_callback(cb.id).await.expect("interactions").len(), 1);

    demo.server.stop().await.expect("server stops");
}
