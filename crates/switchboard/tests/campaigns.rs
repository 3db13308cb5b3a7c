//! Outbound campaigns over HTTP against the real server and the simulated network: CRUD with
//! field-naming errors, the streamed CSV import and its per-row report, roles, DNC, and a
//! progressive campaign that reaches an agent with the contact card and script popped.

mod common;

use std::time::{Duration, Instant};

use common::{demo, fast_config, Session};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn settings(queue: i64) -> Value {
    json!({
        "mode": "progressive",
        "queue_id": queue,
        "template": "parcel_waiting",
        "script": "Hello {name}, your parcel {parcel} waits at {office}.",
        "window": { "from": "00:00", "to": "23:59",
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
        "retry_delays": { "no_answer_s": 60, "busy_s": 60, "machine_s": 60,
                          "failed_s": 60, "abandoned_s": 60 }
    })
}

async fn queue_id(sup: &Session) -> i64 {
    let campaigns = sup.json("/api/v1/campaigns").await;
    campaigns[0]["settings"]["queue_id"].as_i64().expect("the demo campaign's queue")
}

async fn upload(sup: &Session, id: i64, query: &str, csv: &str) -> reqwest::Response {
    sup.http
        .post(format!("{}/api/v1/campaigns/{id}/contacts{query}", sup.base))
        .header("x-csrf-token", &sup.csrf)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .expect("upload")
}

#[tokio::test]
async fn campaigns_import_with_a_row_report_and_enforce_roles_and_fields() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let sup = Session::login(&base, "sam").await;
    let agent = Session::login(&base, "alice").await;
    let queue = queue_id(&sup).await;

    // The demo seeds one paused campaign with its contacts.
    let list = sup.json("/api/v1/campaigns").await;
    assert_eq!(list[0]["name"], "Parcel waiting");
    assert_eq!(list[0]["status"], "paused");
    assert_eq!(list[0]["counts"]["pending"], 8);

    // Agents may not touch campaigns.
    assert_eq!(agent.get("/api/v1/campaigns").await.status(), StatusCode::FORBIDDEN);
    let r =
        agent.post("/api/v1/campaigns", json!({ "name": "x", "settings": settings(queue) })).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        agent.post("/api/v1/campaigns/1/start", json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(agent.get("/api/v1/dnc").await.status(), StatusCode::FORBIDDEN);

    // Bad fields are named.
    let mut bad = settings(queue);
    bad["abandon_cap"] = json!(0.5);
    let r = sup.post("/api/v1/campaigns", json!({ "name": "Bad", "settings": bad })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "settings.abandon_cap");
    let mut bad = settings(queue);
    bad["no_answer_timeout_s"] = json!(10);
    let r = sup.post("/api/v1/campaigns", json!({ "name": "Bad", "settings": bad })).await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "settings.no_answer_timeout_s");
    let r = sup
        .post("/api/v1/campaigns", json!({ "name": "Bad", "settings": { "queue_id": 1 } }))
        .await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "settings.mode");

    let r = sup
        .post("/api/v1/campaigns", json!({ "name": "Reminders", "settings": settings(queue) }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.expect("json")["id"].as_i64().expect("id");

    // A global DNC number is rejected at import.
    let r = sup.post("/api/v1/dnc", json!({ "phone": "+447911123201" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = "Tel,Name,parcel,office,days,return_date,Zone\n\
               +447911123201,On Dnc,P1,Camden,3,Friday,Europe/London\n\
               not a phone,Bad Phone,P2,Camden,3,Friday,Europe/London\n\
               +447911123202,Missing Office,P3,,3,Friday,Europe/London\n\
               +447911123203,Good One,P4,Camden,3,Friday,Europe/London\n\
               +447911123203,Duplicate,P5,Camden,3,Friday,Europe/London\n\
               07911123204,National Format,P6,Camden,3,Friday,Europe/London\n";
    let r = upload(&sup, id, "?phone=Tel&name=Name&time_zone=Zone", csv).await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.expect("json");
    assert_eq!(
        (report["rows"].as_u64(), report["imported"].as_u64()),
        (Some(6), Some(2)),
        "{report:#}"
    );
    let kinds: Vec<&str> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["on_dnc", "bad_phone", "missing", "duplicate"], "{report:#}");
    assert_eq!(report["errors"][2]["column"], "office");
    // The same file again: every good row is now a duplicate of a stored contact.
    let report: Value =
        upload(&sup, id, "?phone=Tel&time_zone=Zone", csv).await.json().await.expect("json");
    assert_eq!(report["imported"], 0);
    // A file without the mapped phone column is refused whole, and nothing is stored.
    let report: Value = upload(&sup, id, "?phone=Mobile", csv).await.json().await.expect("json");
    assert!(report["aborted"].is_string(), "{report:#}");
    let one = sup.json(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(one["counts"]["pending"], 2);

    // DNC list and removal.
    let dnc = sup.json("/api/v1/dnc").await;
    assert_eq!(dnc[0]["phone"], "+447911123201");
    let r = sup.post("/api/v1/dnc/remove", json!({ "phone": "+447911123201" })).await;
    assert_eq!(r.json::<Value>().await.expect("json")["removed"], true);
    let r = sup.post("/api/v1/dnc", json!({ "phone": "hello" })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Controls: start, pause, stop; a stopped campaign cannot start again.
    let r = sup.post(&format!("/api/v1/campaigns/{id}/pause"), json!({})).await;
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "paused");
    let r = sup.post(&format!("/api/v1/campaigns/{id}/stop"), json!({})).await;
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "stopped");
    let r = sup.post(&format!("/api/v1/campaigns/{id}/start"), json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = upload(&sup, id, "?phone=Tel&time_zone=Zone", csv).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "no contacts for a stopped campaign");
    assert_eq!(sup.get("/api/v1/campaigns/999999").await.status(), StatusCode::NOT_FOUND);
    demo.server.stop().await.expect("stop");
}

#[tokio::test]
async fn a_progressive_campaign_reaches_an_agent_with_the_contact_card() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let sup = Session::login(&base, "sam").await;
    let alice = Session::login(&base, "alice").await;
    let id = sup.json("/api/v1/campaigns").await[0]["id"].as_i64().expect("demo campaign");
    alice.available().await;
    let r = sup.post(&format!("/api/v1/campaigns/{id}/start"), json!({})).await;
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "running");

    // The first contact answers and is bridged to alice, whose card shows its row and script.
    let deadline = Instant::now() + Duration::from_secs(15);
    let card = loop {
        let card = alice.json("/api/v1/agent/campaign-card").await;
        if card["phase"] == "bridged" {
            break card;
        }
        assert!(Instant::now() < deadline, "no bridged campaign call; last card {card:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(card["campaign_name"], "Parcel waiting");
    assert_eq!(card["fields"]["parcel"], "RB123456789GB");
    let script = card["script"].as_str().expect("script");
    assert!(script.contains("Olivia Brown") && script.contains("Camden High Street"), "{script}");
    let call = card["call"].as_u64().expect("call");
    // The wallboard shows alice on the campaign call.
    let overview = sup.json("/api/v1/supervisor/overview").await;
    let row = overview["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == "Alice Moreau")
        .cloned()
        .expect("alice");
    assert_eq!((row["interaction_id"].as_u64(), row["load_voice"].as_u64()), (Some(call), Some(1)));
    let r = alice.post(&format!("/api/v1/agent/campaign-card/{call}/hangup"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let p = sup.json(&format!("/api/v1/campaigns/{id}/progress")).await;
        if p["counts"]["reached"].as_i64() == Some(1) {
            assert!(p["dials"].as_i64().unwrap_or(0) >= 1);
            assert_eq!(p["kpis"]["acr"], 0.0, "{p:#}");
            assert!(p["kpis"]["asr"].as_f64().is_some(), "{p:#}");
            break;
        }
        assert!(Instant::now() < deadline, "contact not reached; progress {p:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    demo.server.stop().await.expect("stop");
}

/// Waits until the agent's campaign card is bridged; returns it.
async fn bridged_card(agent: &Session) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let card = agent.json("/api/v1/agent/campaign-card").await;
        if card["phase"] == "bridged" {
            return card;
        }
        assert!(Instant::now() < deadline, "no bridged campaign call; last card {card:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_running_campaign_survives_a_restart_and_goes_on_dialing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = fast_config();
    config.database.url = format!("sqlite://{}", dir.path().join("sb.db").display());
    let demo = switchboard::demo::start_demo_on(config.clone(), "127.0.0.1:0", json!({}))
        .await
        .expect("demo starts");
    let base = demo.server.base_url();
    let sup = Session::login(&base, "sam").await;
    let alice = Session::login(&base, "alice").await;
    let id = sup.json("/api/v1/campaigns").await[0]["id"].as_i64().expect("demo campaign");
    alice.available().await;
    sup.post(&format!("/api/v1/campaigns/{id}/start"), json!({})).await;
    let first = bridged_card(&alice).await;
    // Stopped mid-call: the open call is closed as cancelled and its contact goes back in line.
    demo.server.stop().await.expect("stop");

    let server = switchboard::server::start(&config).await.expect("restart");
    let base = server.base_url();
    let sup = Session::login(&base, "sam").await;
    let alice = Session::login(&base, "alice").await;
    let p = sup.json(&format!("/api/v1/campaigns/{id}/progress")).await;
    assert_eq!(p["status"], "running", "{p:#}");
    assert_eq!(
        p["counts"]["calling"].as_i64().unwrap_or(0) + p["counts"]["pending"].as_i64().unwrap_or(0),
        8
    );
    // Alice is available again after the restart and gets the same contact, a second attempt.
    let again = bridged_card(&alice).await;
    assert_eq!(again["phone"], first["phone"]);
    assert_eq!(again["attempt"], 2);
    server.stop().await.expect("stop");
}

#[tokio::test]
async fn a_predictive_campaign_bridges_answered_calls_to_free_agents_over_the_runtime() {
    let demo = demo().await;
    let base = demo.server.base_url();
    let sup = Session::login(&base, "sam").await;
    let agents = [Session::login(&base, "alice").await, Session::login(&base, "bob").await];
    let queue = queue_id(&sup).await;
    let mut s = settings(queue);
    s["mode"] = json!("predictive");
    s["lines_max"] = json!(4);
    let r = sup.post("/api/v1/campaigns", json!({ "name": "Predictive", "settings": s })).await;
    let id = r.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    // Numbers ending in 1-7 answer on the simulated network.
    let mut csv = String::from("phone,name,parcel,office,days,return_date,tz\n");
    for i in 0..12 {
        // Last digits 11-16 and 21-26: all distinct, none busy, failing or unanswered.
        let tail = 10 * (i / 6) + 11 + i % 6;
        csv += &format!("+4479111234{tail},Person {i},P{i},Camden,3,Friday,Europe/London\n");
    }
    let report: Value = upload(&sup, id, "?time_zone=tz", &csv).await.json().await.expect("json");
    assert_eq!(report["rejected"], 0, "{report:#}");
    for a in &agents {
        a.available().await;
    }
    sup.post(&format!("/api/v1/campaigns/{id}/start"), json!({})).await;
    // Agents end each call as soon as it is bridged, until every contact is final.
    let deadline = Instant::now() + Duration::from_secs(30);
    let progress = loop {
        for a in &agents {
            let card = a.json("/api/v1/agent/campaign-card").await;
            if card["phase"] == "bridged" && card["campaign_id"] == id {
                let call = card["call"].as_u64().expect("call");
                a.post(&format!("/api/v1/agent/campaign-card/{call}/hangup"), json!({})).await;
            }
        }
        let p = sup.json(&format!("/api/v1/campaigns/{id}/progress")).await;
        // The status is the engine's; the counts are the store's, committed a moment later.
        if p["status"] == "finished" && p["counts"]["reached"] == 12 {
            break p;
        }
        assert!(Instant::now() < deadline, "campaign did not finish; progress {p:#}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    };
    assert_eq!(progress["dials"], 12, "one dial each: {progress:#}");
    // Every live answer reached an agent in time, or counts against a cap it stayed under.
    let acr = progress["kpis"]["acr"].as_f64().expect("acr");
    assert!(acr <= 0.03, "{progress:#}");
    demo.server.stop().await.expect("stop");
}

/// Polls the campaign's contacts until every one is final; returns them by phone.
async fn final_contacts(sup: &Session, id: i64) -> std::collections::BTreeMap<String, Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let contacts = sup.json(&format!("/api/v1/campaigns/{id}/contacts")).await;
        let rows = contacts.as_array().expect("contacts").clone();
        if rows
            .iter()
            .all(|c| !["pending", "calling"].contains(&c["status"].as_str().unwrap_or("")))
        {
            return rows
                .into_iter()
                .map(|c| (c["phone"].as_str().unwrap_or("").to_string(), c))
                .collect();
        }
        assert!(Instant::now() < deadline, "contacts not final: {contacts:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn robocall_key_presses_and_machines_over_the_simulated_network() {
    let mut config = fast_config();
    // The simulated rules: ...61 presses 1, ...62 presses 9, ...63 presses 0, ...64 presses
    // 2 then 1, ...65 presses 4, ...66 is an answering machine.
    config.telephony.key_ms = 300;
    let demo = common::demo_with(config).await;
    let base = demo.server.base_url();
    let sup = Session::login(&base, "sam").await;
    let alice = Session::login(&base, "alice").await;
    let queue = queue_id(&sup).await;
    let mut s = settings(queue);
    s["mode"] = json!("robocall");
    s["message_s"] = json!(5);
    s["on_machine"] = json!("leave_message");
    let r = sup.post("/api/v1/campaigns", json!({ "name": "Robocall", "settings": s })).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let mut csv = String::from("phone,name,parcel,office,days,return_date,tz\n");
    for tail in 61..=64 {
        csv += &format!("+4479111234{tail},Person {tail},P{tail},Camden,3,Friday,Europe/London\n");
    }
    csv += "+447911123466,Machine,P66,Camden,3,Friday,Europe/London\n";
    let report: Value = upload(&sup, id, "?time_zone=tz", &csv).await.json().await.expect("json");
    assert_eq!(report["imported"], 5, "{report:#}");

    // A survey campaign beside it: the key is the answer.
    let mut survey = settings(queue);
    survey["mode"] = json!("robocall");
    survey["template"] = json!("survey_ces");
    survey["script"] = json!(null);
    let r = sup.post("/api/v1/campaigns", json!({ "name": "CES", "settings": survey })).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:#}", r.json::<Value>().await.expect("json"));
    let survey_id = sup
        .json("/api/v1/campaigns")
        .await
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["name"] == "CES")
        .expect("survey")["id"]
        .as_i64()
        .expect("id");
    let report: Value =
        upload(&sup, survey_id, "", "phone,name,company\n+447911123465,Sam Survey,Acme\n")
            .await
            .json()
            .await
            .expect("json");
    assert_eq!(report["imported"], 1, "{report:#}");

    alice.available().await;
    for c in [id, survey_id] {
        let r = sup.post(&format!("/api/v1/campaigns/{c}/start"), json!({})).await;
        assert_eq!(r.json::<Value>().await.expect("json")["status"], "running");
    }
    // The listener who pressed 0 reaches alice; she ends the call once bridged.
    let card = bridged_card(&alice).await;
    assert_eq!(
        (card["campaign_id"].as_i64(), card["phone"].as_str()),
        (Some(id), Some("+447911123463"))
    );
    let call = card["call"].as_u64().expect("call");
    alice.post(&format!("/api/v1/agent/campaign-card/{call}/hangup"), json!({})).await;

    let contacts = final_contacts(&sup, id).await;
    let status = |phone: &str| {
        let c = &contacts[phone];
        (c["status"].as_str().unwrap_or("").to_string(), c["answer"].as_str().map(str::to_string))
    };
    assert_eq!(status("+447911123461"), ("confirmed".into(), Some("confirm".into())));
    assert_eq!(status("+447911123462"), ("opted_out".into(), Some("opt_out".into())));
    assert_eq!(status("+447911123463"), ("reached".into(), Some("agent".into())));
    assert_eq!(status("+447911123464"), ("confirmed".into(), Some("confirm".into())));
    assert_eq!(status("+447911123466"), ("message_left".into(), None));
    // The call view has the keys; the machine's call is marked and left a message.
    let calls = sup.json(&format!("/api/v1/campaigns/{id}/calls")).await;
    let of = |phone: &str| {
        let contact = contacts[phone]["id"].as_i64();
        calls
            .as_array()
            .expect("calls")
            .iter()
            .find(|c| c["contact_id"].as_i64() == contact)
            .cloned()
            .expect("a call")
    };
    assert_eq!(
        (of("+447911123464")["keys"].as_str(), of("+447911123464")["answer"].as_str()),
        (Some("21"), Some("confirm"))
    );
    assert_eq!(of("+447911123466")["result"], "message_left");
    assert!(of("+447911123466")["machine_at"].is_i64());
    assert_eq!(of("+447911123463")["result"], "answered");
    // The opt-out is on the campaign's DNC list.
    let dnc = sup.json(&format!("/api/v1/dnc?campaign_id={id}")).await;
    assert_eq!(dnc[0]["phone"], "+447911123462", "{dnc:#}");

    let survey = final_contacts(&sup, survey_id).await;
    let c = &survey["+447911123465"];
    assert_eq!((c["status"].as_str(), c["answer"].as_str()), (Some("survey_answered"), Some("4")));
    demo.server.stop().await.expect("stop");
}

#[tokio::test]
async fn an_agent_sets_the_disposition_of_a_campaign_call_which_ends_after_call_work() {
    // The queue keeps agents in after-call work for a minute unless the disposition comes in.
    let demo =
        switchboard::demo::start_demo(fast_config(), "127.0.0.1:0", json!({ "wrap_up_s": 60 }))
            .await
            .expect("demo starts");
    let base = demo.server.base_url();
    let sup = Session::login(&base, "sam").await;
    let alice = Session::login(&base, "alice").await;
    let bob = Session::login(&base, "bob").await;
    let id = sup.json("/api/v1/campaigns").await[0]["id"].as_i64().expect("demo campaign");
    alice.available().await;
    sup.post(&format!("/api/v1/campaigns/{id}/start"), json!({})).await;
    let card = bridged_card(&alice).await;
    let call = card["call"].as_u64().expect("call");
    // The console shows alice on a call: the state carries the campaign call's phase.
    let state = alice.json("/api/v1/agent/state").await;
    assert_eq!(state["campaign_phase"], "bridged", "{state:#}");
    alice.post(&format!("/api/v1/agent/campaign-card/{call}/hangup"), json!({})).await;

    let card = alice.json("/api/v1/agent/campaign-card").await;
    assert_eq!((card["phase"].as_str(), card["call"].as_u64()), (Some("wrap_up"), Some(call)));
    let dispositions: Vec<String> =
        serde_json::from_value(card["dispositions"].clone()).expect("list");
    assert!(!dispositions.is_empty(), "{card:#}");
    let state = alice.wait_state("after-call work", |s| s["status"] == "wrap_up").await;
    assert!(state["campaign_phase"].is_null(), "{state:#}");
    let path = format!("/api/v1/agent/campaign-card/{call}/wrapup");
    let r = alice.post(&path, json!({ "disposition": "no such thing" })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.expect("json")["error"]["field"], "disposition");
    let r = bob.post(&path, json!({ "disposition": dispositions[0] })).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "not bob's call");
    let r = alice
        .post(&path, json!({ "disposition": dispositions[0], "notes": "wants redelivery" }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Stored with the call, and alice is back to work long before the queue's minute.
    let calls = sup.json(&format!("/api/v1/campaigns/{id}/calls")).await;
    let row = calls
        .as_array()
        .expect("calls")
        .iter()
        .find(|c| c["id"].as_u64() == Some(call))
        .cloned()
        .expect("the call");
    assert_eq!(
        (row["disposition"].as_str(), row["notes"].as_str()),
        (Some(dispositions[0].as_str()), Some("wants redelivery"))
    );
    alice.wait_state("back from after-call work", |s| s["status"] != "wrap_up").await;
    // The call is in alice's history, with its campaign, contact and disposition; not in bob's.
    let history = alice.json("/api/v1/agent/history").await;
    let item = history
        .as_array()
        .expect("history")
        .iter()
        .find(|h| h["interaction_id"].as_u64() == Some(call))
        .cloned()
        .unwrap_or_else(|| panic!("the campaign call is not in alice's history: {history:#}"));
    assert_eq!(
        (item["kind"].as_str(), item["outcome"].as_str(), item["disposition"].as_str()),
        (Some("campaign"), Some("answered"), Some(dispositions[0].as_str())),
        "{item:#}"
    );
    let topic = item["topic"].as_str().expect("topic");
    assert!(topic.starts_with("Parcel waiting · "), "{topic}");
    assert_eq!(item["agent_name"], "Alice Moreau", "{item:#}");
    let theirs = bob.json("/api/v1/agent/history").await;
    assert!(
        theirs
            .as_array()
            .expect("history")
            .iter()
            .all(|h| h["interaction_id"].as_u64() != Some(call)),
        "{theirs:#}"
    );
    demo.server.stop().await.expect("stop");
}
