//! The console in real browsers: headless Chromium, driven by playwright-core scripts in
//! `web/e2e/`, against a server running in-process; each test then checks from the server side
//! what the browsers submitted.
//! - `callback.e2e.mjs`: a visitor submits the widget on the demo shop page, an agent handles
//!   the call in the console, a supervisor reads the statistics.
//! - `campaign.e2e.mjs`: a supervisor creates a robocall campaign from a CSV, uploads its
//!   recorded message, starts and pauses it.
//! - `campaign-agent.e2e.mjs`: an agent gets a campaign call's card with the contact's row and
//!   the filled-in script, hangs up and saves the outcome in the wrap-up form.
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
const CALLBACK_SCRIPT: &str = "web/e2e/callback.e2e.mjs";
const CAMPAIGN_SCRIPT: &str = "web/e2e/campaign.e2e.mjs";
const CAMPAIGN_AGENT_SCRIPT: &str = "web/e2e/campaign-agent.e2e.mjs";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> PathBuf {
    std::env::var_os("SB_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Fails with a message saying how to fix it when something the browser run needs is missing.
fn preflight(root: &Path, script: &str) {
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
    assert!(root.join(script).is_file(), "{script} is missing");
}

/// Runs a browser script against the server; returns its `E2E_RESULT` JSON.
async fn run_script(root: &Path, script: &str, base: &str, shop: &str) -> Value {
    let child = tokio::process::Command::new("node")
        .arg(root.join(script))
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
        .unwrap_or_else(|_| panic!("{script} did not finish within {SCRIPT_TIMEOUT:?} (killed)"))
        .expect("wait for the browser script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- {script} ({:.1?}) stdout ---\n{stdout}", started.elapsed());
    if !stderr.trim().is_empty() {
        println!("--- {script} stderr ---\n{stderr}");
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
    preflight(&root, CALLBACK_SCRIPT);
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

    let got = run_script(&root, CALLBACK_SCRIPT, &base, &demo.shop_url).await;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_from_csv_with_a_recorded_message_started_and_paused_in_headless_chromium() {
    let root = workspace_root();
    preflight(&root, CAMPAIGN_SCRIPT);
    // SIP on (recordings live in its prompts directory); the trunk points at a closed port, so
    // the robocalls dialed between start and pause fail fast.
    let dir = tempfile::tempdir().expect("temp dir");
    let prompts = dir.path().join("prompts");
    let mut config = sip_config(dir.path(), 9, 34_000);
    config.telephony.sip.prompts_dir = prompts.display().to_string();
    let demo = demo_with(config).await;
    let base = demo.server.base_url();

    let got = run_script(&root, CAMPAIGN_SCRIPT, &base, &demo.shop_url).await;

    let id = got["campaign_id"].as_i64().expect("campaign_id in E2E_RESULT");
    let store = &demo.server.state.store;
    let campaign = store.campaign(id).await.expect("read campaign").expect("campaign exists");
    assert_eq!(campaign.name, "Parcels by robocall");
    assert_eq!(campaign.status, "paused", "{campaign:?}");
    assert_eq!(campaign.settings["mode"], "robocall", "{campaign:?}");
    assert_eq!(campaign.settings["on_machine"], "leave_message", "{campaign:?}");
    assert_eq!(campaign.settings["detect_machine"], true, "{campaign:?}");
    let contacts = store.list_contacts(id, 0, 10).await.expect("read contacts");
    assert_eq!(contacts.len(), 1, "only the valid row is imported: {contacts:?}");
    assert_eq!(contacts[0].phone, "+447911123301");
    // The recording is stored under the campaign's name; the refused file did not replace it.
    let stored: Vec<String> = std::fs::read_dir(&prompts)
        .expect("prompts directory")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].starts_with(&format!("campaign-{id}-")), "{stored:?}");
    let wav = std::fs::read(prompts.join(&stored[0])).expect("read the recording");
    assert!(
        wav.starts_with(b"RIFF") && wav.len() > 8_000,
        "a second of audio: {} bytes",
        wav.len()
    );

    demo.server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_call_card_and_wrap_up_in_headless_chromium() {
    let root = workspace_root();
    preflight(&root, CAMPAIGN_AGENT_SCRIPT);
    // A minute of after-call work, so that alice's return to available shows the saved wrap-up.
    let demo =
        switchboard::demo::start_demo(fast_config(), "127.0.0.1:0", json!({ "wrap_up_s": 60 }))
            .await
            .expect("demo starts");
    let base = demo.server.base_url();

    let got = run_script(&root, CAMPAIGN_AGENT_SCRIPT, &base, &demo.shop_url).await;

    // The outcome the browser saved is stored with the call, and the contact is reached.
    let sup = Session::login(&base, "sam").await;
    let id = sup.json("/api/v1/campaigns").await[0]["id"].as_i64().expect("demo campaign");
    let contacts = sup.json(&format!("/api/v1/campaigns/{id}/contacts")).await;
    let contact = contacts
        .as_array()
        .expect("contacts")
        .iter()
        .find(|c| c["phone"] == got["phone"])
        .cloned()
        .expect("the contact called");
    assert_eq!(contact["status"], "reached", "{contact:#}");
    let calls = sup.json(&format!("/api/v1/campaigns/{id}/calls")).await;
    let answered: Vec<&Value> = calls
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["contact_id"] == contact["id"])
        .collect();
    assert_eq!(answered.len(), 1, "one call to the contact: {calls:#}");
    assert_eq!(answered[0]["result"], "answered", "{calls:#}");
    assert_eq!(
        (answered[0]["disposition"].as_str(), answered[0]["notes"].as_str()),
        (got["disposition"].as_str(), got["notes"].as_str()),
        "{calls:#}"
    );
    let campaign = demo.server.state.store.campaign(id).await.expect("read").expect("campaign");
    assert_eq!(campaign.status, "paused", "{campaign:?}");

    demo.server.stop().await.expect("server stops");
}
