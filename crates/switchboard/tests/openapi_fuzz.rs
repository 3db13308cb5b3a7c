//! schemathesis generates requests from the OpenAPI document and sends them to the real server
//! (as an admin, through a bearer token): no input may cause a server error, and every response
//! must match the document's status codes. scripts/setup installs it into .tools/venv.

mod common;

use std::time::Duration;

use common::{demo, Session};
use serde_json::{json, Value};

#[tokio::test]
async fn generated_requests_never_cause_a_server_error() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let st = root.join(".tools/venv/bin/st");
    assert!(st.is_file(), "{} is missing: run scripts/setup --test", st.display());
    let demo = demo().await;
    let base = demo.server.base_url();
    let admin = Session::login(&base, "admin").await;
    let token: Value = admin
        .post("/api/v1/admin/tokens", json!({"name": "fuzz", "role": "admin"}))
        .await
        .json()
        .await
        .expect("json");
    let token = token["token"].as_str().expect("token").to_string();
    let run = tokio::process::Command::new(&st)
        .args(["run", &format!("{base}/api/v1/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error,status_code_conformance"])
        .args(["--exclude-path", "/api/v1/ws", "--max-examples", "25", "--seed", "1"])
        .args(["--request-timeout", "10"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("schemathesis finishes")
        .expect("schemathesis runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
    assert!(text.contains("passed"), "{text}");
    demo.server.stop().await.expect("stop");
}
