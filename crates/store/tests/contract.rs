//! One contract suite, run against SQLite and PostgreSQL. Each test gets a fresh database.

use std::sync::atomic::{AtomicU32, Ordering};

use domain::event::{AgentState, CallbackStatus, Event, EventKind, Outcome};
use domain::{AgentId, CallbackId, InteractionId, QueueId, Timestamp};
use serde_json::json;
use store::{InsertOutcome, NewCallback, NewUser, SettingsTable, Store, StoreError};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn pg_admin_url() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty database of the given kind. The temp dir keeps SQLite files alive.
async fn fresh(kind: &str) -> (Store, Option<tempfile::TempDir>) {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match kind {
        "sqlite" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (Store::connect(&url).await.expect("sqlite store"), Some(dir))
        }
        _ => {
            let name = format!("sb_contract_{}_{}", std::process::id(), n);
            let url = Store::create_postgres_database(&pg_admin_url(), &name)
                .await
                .expect("PostgreSQL must run for the store contract tests (see scripts/setup)");
            (Store::connect(&url).await.expect("pg store"), None)
        }
    }
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name("sqlite").await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name("postgres").await })*
        }
    };
}

contract!(
    users_round_trip_and_conflict,
    settings_tables_round_trip,
    callback_insert_dedupes_and_replays,
    events_project_the_callback_lifecycle,
    recovery_closes_open_interactions,
    sessions_expire_and_tokens_resolve,
    migrations_are_idempotent,
    campaigns_contacts_and_calls_project,
    dnc_lists_global_and_per_campaign,
    robocall_keys_machines_labels_and_actions_project,
);

fn new_user(login: &str) -> NewUser {
    NewUser {
        login: login.into(),
        name: "Ann Agent".into(),
        role: "agent".into(),
        password_hash: "hash".into(),
        profile: json!({ "skills": { "billing": 5 } }),
    }
}

async fn users_round_trip_and_conflict(kind: &str) {
    let (s, _d) = fresh(kind).await;
    let id = s.create_user(&new_user("ann")).await.unwrap();
    let u = s.user_by_login("ann").await.unwrap().expect("found");
    assert_eq!((u.id, u.role.as_str(), u.status.as_str()), (id, "agent", "offline"));
    assert_eq!(u.profile["skills"]["billing"], 5);
    assert!(matches!(s.create_user(&new_user("ann")).await, Err(StoreError::Conflict("login"))));
    let mut changed = new_user("ann");
    changed.name = "Ann B".into();
    changed.password_hash = "ignored".into();
    s.update_user(id, &changed, false).await.unwrap();
    let u = s.user(id).await.unwrap().expect("found");
    assert_eq!((u.name.as_str(), u.password_hash.as_str()), ("Ann B", "hash"));
    assert!(matches!(s.update_user(999, &changed, true).await, Err(StoreError::NotFound("user"))));
    assert_eq!(s.list_users().await.unwrap().len(), 1);
}

async fn settings_tables_round_trip(kind: &str) {
    let (s, _d) = fresh(kind).await;
    let d = s.create_department("Sales").await.unwrap();
    assert_eq!(s.list_departments().await.unwrap()[0].id, d);
    let q = s
        .create_settings(SettingsTable::Queues, "Callbacks", &json!({"priority": 80}))
        .await
        .unwrap();
    s.update_settings(SettingsTable::Queues, q, "Callbacks", &json!({"priority": 90}))
        .await
        .unwrap();
    let row = s.settings(SettingsTable::Queues, q).await.unwrap().expect("found");
    assert_eq!(row.settings["priority"], 90);
    assert!(matches!(
        s.create_settings(SettingsTable::Queues, "Callbacks", &json!({})).await,
        Err(StoreError::Conflict("queue"))
    ));
    let w = s
        .create_widget("shop", "Shop", q, &json!({"allowed_origins": ["http://a"]}))
        .await
        .unwrap();
    let wr = s.widget_by_key("shop").await.unwrap().expect("found");
    assert_eq!((wr.id, wr.queue_id), (w, q));
    assert!(s.widget_by_key("nope").await.unwrap().is_none());
}

async fn setup_widget(s: &Store) -> (i64, i64) {
    let q = s.create_settings(SettingsTable::Queues, "Callbacks", &json!({})).await.unwrap();
    let w = s.create_widget("shop", "Shop", q, &json!({})).await.unwrap();
    (w, q)
}

fn new_callback(w: i64, q: i64, phone: &str, key: Option<&str>) -> NewCallback {
    NewCallback {
        widget_id: w,
        queue_id: q,
        name: "Ann".into(),
        phone: phone.into(),
        topic: "Delivery".into(),
        page_url: "https://shop.example/p/1".into(),
        custom_fields: json!({"order": "A-1"}),
        preferred_at: None,
        consent: true,
        status_token: "tok".into(),
        status: "waiting".into(),
        due_at: 1_000,
        idempotency_key: key.map(String::from),
        client_ip: "127.0.0.1".into(),
        now: 1_000,
    }
}

async fn callback_insert_dedupes_and_replays(kind: &str) {
    let (s, _d) = fresh(kind).await;
    let (w, q) = setup_widget(&s).await;
    let InsertOutcome::Created(a) =
        s.insert_callback(&new_callback(w, q, "+12025550147", Some("k1"))).await.unwrap()
    else {
        panic!("first insert creates");
    };
    assert_eq!(a.custom_fields["order"], "A-1");
    assert!(a.consent);
    let replay = s.insert_callback(&new_callback(w, q, "+12025550100", Some("k1"))).await.unwrap();
    assert_eq!(replay, InsertOutcome::Replayed(a.clone()));
    let dup = s.insert_callback(&new_callback(w, q, "+12025550147", None)).await.unwrap();
    assert_eq!(dup, InsertOutcome::Duplicate(a.clone()));
    // Once the first is finished, the same phone may ask again.
    let done = Event {
        at: Timestamp::from_millis(2_000),
        kind: EventKind::CallbackFinished {
            callback: CallbackId(a.id as u64),
            status: CallbackStatus::Done,
        },
    };
    s.append(&[done]).await.unwrap();
    assert!(matches!(
        s.insert_callback(&new_callback(w, q, "+12025550147", None)).await.unwrap(),
        InsertOutcome::Created(_)
    ));
    assert_eq!(s.open_callbacks().await.unwrap().len(), 1);
}

fn ev(at: i64, kind: EventKind) -> Event {
    Event { at: Timestamp::from_millis(at), kind }
}

async fn events_project_the_callback_lifecycle(kind: &str) {
    let (s, _d) = fresh(kind).await;
    let (w, q) = setup_widget(&s).await;
    let agent = s.create_user(&new_user("ann")).await.unwrap();
    let InsertOutcome::Created(cb) =
        s.insert_callback(&new_callback(w, q, "+12025550147", None)).await.unwrap()
    else {
        panic!()
    };
    let (c, i, a) = (CallbackId(cb.id as u64), InteractionId(7), AgentId(agent as u64));
    s.append(&[
        ev(
            1_000,
            EventKind::InteractionQueued { interaction: i, callback: c, queue: QueueId(q as u64) },
        ),
        ev(1_100, EventKind::AgentReserved { interaction: i, agent: a }),
        ev(1_900, EventKind::AgentConnected { interaction: i, agent: a }),
        ev(2_000, EventKind::CustomerDialed { interaction: i, callback: c, attempt: 1 }),
    ])
    .await
    .unwrap();
    let mid = s.callback(cb.id).await.unwrap().expect("found");
    assert_eq!((mid.status.as_str(), mid.attempts, mid.first_dial_at), ("calling", 1, Some(2_000)));
    s.append(&[
        ev(5_000, EventKind::CustomerAnswered { interaction: i }),
        ev(5_000, EventKind::Bridged { interaction: i }),
        ev(65_000, EventKind::InteractionEnded { interaction: i, outcome: Outcome::Completed }),
        ev(65_000, EventKind::CallbackFinished { callback: c, status: CallbackStatus::Done }),
        ev(
            65_000,
            EventKind::AgentStatusChanged {
                agent: a,
                state: AgentState::Break { reason: "lunch".into() },
            },
        ),
    ])
    .await
    .unwrap();
    let ix = s.interaction(7).await.unwrap().expect("found");
    assert_eq!(ix.agent_id, Some(agent));
    assert_eq!(
        (ix.dialed_at, ix.bridged_at, ix.ended_at),
        (Some(2_000), Some(5_000), Some(65_000))
    );
    assert_eq!(ix.outcome.as_deref(), Some("completed"));
    let done = s.callback(cb.id).await.unwrap().expect("found");
    assert_eq!((done.status.as_str(), done.finished_at), ("done", Some(65_000)));
    let u = s.user(agent).await.unwrap().expect("found");
    assert_eq!((u.status.as_str(), u.status_reason.as_deref()), ("break", Some("lunch")));
    s.save_wrap_up(7, agent, "resolved", "ok", &json!({"q1": "yes"})).await.unwrap();
    assert!(matches!(
        s.save_wrap_up(7, agent + 1, "x", "", &json!({})).await,
        Err(StoreError::NotFound(_))
    ));
    let hist = s.history_by_phone("+12025550147", 10).await.unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].1.answers, Some(json!({"q1": "yes"})));
    assert_eq!(s.agent_history(agent, 10).await.unwrap().len(), 1);
    let log = s.events_after(0, 100).await.unwrap();
    let kinds: Vec<&str> = log.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "interaction_queued",
            "agent_reserved",
            "agent_connected",
            "customer_dialed",
            "customer_answered",
            "bridged",
            "interaction_ended",
            "callback_finished",
            "agent_status_changed"
        ]
    );
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(s.max_interaction_id().await.unwrap(), 7);
    assert_eq!(s.stats_interactions(0, 10_000).await.unwrap().len(), 1);
    // Reserved 100 ms after it was queued: within a 1 s target, not within 50 ms.
    assert_eq!(s.service_level(q, 0, 1_000).await.unwrap(), (1, 1));
    assert_eq!(s.service_level(q, 0, 50).await.unwrap(), (1, 0));
    assert_eq!(s.service_level(q, 2_000, 1_000).await.unwrap(), (0, 0));
}

async fn recovery_closes_open_interactions(kind: &str) {
    let (s, _d) = fresh(kind).await;
    let (w, q) = setup_widget(&s).await;
    let InsertOutcome::Created(talked) =
        s.insert_callback(&new_callback(w, q, "+12025550147", None)).await.unwrap()
    else {
        panic!()
    };
    let InsertOutcome::Created(rang) =
        s.insert_callback(&new_callback(w, q, "+12025550146", None)).await.unwrap()
    else {
        panic!()
    };
    let (c1, c2) = (CallbackId(talked.id as u64), CallbackId(rang.id as u64));
    s.append(&[
        ev(
            1,
            EventKind::InteractionQueued {
                interaction: InteractionId(1),
                callback: c1,
                queue: QueueId(q as u64),
            },
        ),
        ev(
            2,
            EventKind::CustomerDialed { interaction: InteractionId(1), callback: c1, attempt: 1 },
        ),
        ev(3, EventKind::Bridged { interaction: InteractionId(1) }),
        ev(
            1,
            EventKind::InteractionQueued {
                interaction: InteractionId(2),
                callback: c2,
                queue: QueueId(q as u64),
            },
        ),
        ev(
            2,
            EventKind::CustomerDialed { interaction: InteractionId(2), callback: c2, attempt: 1 },
        ),
    ])
    .await
    .unwrap();
    assert_eq!(s.recover_interrupted(Timestamp::from_millis(10)).await.unwrap(), 2);
    assert_eq!(s.callback(talked.id).await.unwrap().unwrap().status, "done");
    let open = s.open_callbacks().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].id, open[0].attempts), (rang.id, 1));
    assert_eq!(s.interaction(2).await.unwrap().unwrap().outcome.as_deref(), Some("interrupted"));
    assert_eq!(s.recover_interrupted(Timestamp::from_millis(20)).await.unwrap(), 0);
}

async fn sessions_expire_and_tokens_resolve(kind: &str) {
    let (s, _d) = fresh(kind).await;
    let u = s.create_user(&new_user("ann")).await.unwrap();
    s.create_session("h1", u, "csrf", 100).await.unwrap();
    assert_eq!(s.session("h1", 99).await.unwrap().map(|r| r.user_id), Some(u));
    assert!(s.session("h1", 100).await.unwrap().is_none());
    s.delete_session("h1").await.unwrap();
    assert!(s.session("h1", 0).await.unwrap().is_none());
    let t = s.create_token("crm", "th", "supervisor", 5).await.unwrap();
    let row = s.token_by_hash("th").await.unwrap().expect("found");
    assert_eq!((row.id, row.role.as_str()), (t, "supervisor"));
    assert!(s.token_by_hash("other").await.unwrap().is_none());
    assert_eq!(s.list_tokens().await.unwrap().len(), 1);
    s.delete_token(t).await.unwrap();
    assert!(s.token_by_hash("th").await.unwrap().is_none());
    assert!(matches!(s.delete_token(t).await, Err(StoreError::NotFound("token"))));
}

async fn migrations_are_idempotent(kind: &str) {
    let (s, dir) = fresh(kind).await;
    s.create_department("Sales").await.unwrap();
    if let Some(dir) = &dir {
        // Reopening the same SQLite file keeps the data and applies nothing twice.
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let again = Store::connect(&url).await.unwrap();
        assert_eq!(again.list_departments().await.unwrap().len(), 1);
    }
}

fn new_contact(row: i64, phone: &str) -> store::NewContact {
    store::NewContact {
        row_number: row,
        phone: phone.into(),
        name: Some("Ann".into()),
        time_zone: "Europe/London".into(),
        language: Some("en".into()),
        fields: json!({ "parcel": format!("P{row}") }),
    }
}

async fn campaigns_contacts_and_calls_project(kind: &str) {
    use domain::campaign::{
        CallResult, CampaignEvent as C, CampaignId, CampaignState, ContactId, ContactStatus,
    };
    let (s, _d) = fresh(kind).await;
    let settings = json!({ "mode": "progressive" });
    let id = s.create_campaign("Parcels", &settings, 10).await.unwrap();
    assert!(matches!(
        s.create_campaign("Parcels", &settings, 10).await,
        Err(StoreError::Conflict("campaign"))
    ));
    let row = s.campaign(id).await.unwrap().expect("found");
    assert_eq!(
        (row.status.as_str(), row.settings["mode"].as_str()),
        ("paused", Some("progressive"))
    );
    s.update_campaign(id, "Parcels 2", &json!({ "mode": "preview" }), 20).await.unwrap();
    assert!(matches!(
        s.update_campaign(id + 1, "x", &settings, 20).await,
        Err(StoreError::NotFound("campaign"))
    ));
    let ids = s
        .insert_contacts(
            id,
            &[new_contact(2, "+447700900001"), new_contact(3, "+447700900002")],
            30,
        )
        .await
        .unwrap();
    assert!(ids.iter().all(Option::is_some));
    // The same phone again in a later upload is a duplicate, not an error.
    let again = s.insert_contacts(id, &[new_contact(2, "+447700900001")], 31).await.unwrap();
    assert_eq!(again, vec![None]);
    let (c1, c2) = (ids[0].unwrap(), ids[1].unwrap());
    let contact = s.contact(c1).await.unwrap().expect("found");
    assert_eq!(contact.fields["parcel"], "P2");
    assert_eq!((contact.status.as_str(), contact.next_at), ("pending", 30));

    let (camp, call) = (CampaignId(id as u64), InteractionId(500));
    let ev = |at, e| Event { at: Timestamp::from_millis(at), kind: EventKind::Campaign(e) };
    s.append(&[
        ev(1_000, C::StateChanged { campaign: camp, state: CampaignState::Running }),
        ev(
            1_000,
            C::Dialed {
                campaign: camp,
                contact: ContactId(c1 as u64),
                call,
                attempt: 1,
                agent: None,
            },
        ),
        ev(4_000, C::Answered { call }),
        ev(5_000, C::Bridged { call, agent: AgentId(3) }),
        ev(65_000, C::CallEnded { call, result: CallResult::Answered }),
        ev(
            65_000,
            C::ContactFinished {
                campaign: camp,
                contact: ContactId(c1 as u64),
                status: ContactStatus::Reached,
            },
        ),
        ev(
            66_000,
            C::Dialed {
                campaign: camp,
                contact: ContactId(c2 as u64),
                call: InteractionId(501),
                attempt: 1,
                agent: None,
            },
        ),
        ev(67_000, C::Answered { call: InteractionId(501) }),
        ev(69_000, C::CallEnded { call: InteractionId(501), result: CallResult::Abandoned }),
        ev(
            69_000,
            C::ContactScheduled {
                campaign: camp,
                contact: ContactId(c2 as u64),
                due_at: Timestamp::from_millis(500_000),
                attempts: 1,
            },
        ),
    ])
    .await
    .unwrap();
    assert_eq!(s.campaign(id).await.unwrap().expect("found").status, "running");
    let reached = s.contact(c1).await.unwrap().expect("found");
    assert_eq!(
        (reached.status.as_str(), reached.attempts, reached.last_result.as_deref()),
        ("reached", 1, Some("answered"))
    );
    let retry = s.contact(c2).await.unwrap().expect("found");
    assert_eq!(
        (retry.status.as_str(), retry.next_at, retry.last_result.as_deref()),
        ("pending", 500_000, Some("abandoned"))
    );
    let counts = s.contact_counts(id).await.unwrap();
    assert_eq!((counts.get("reached"), counts.get("pending")), (Some(&1), Some(&1)));
    let f = s.call_figures(id, 0).await.unwrap();
    assert_eq!((f.dials, f.answered, f.bridged, f.abandoned), (2, 2, 1, 1));
    assert_eq!((f.answer_delay_ms_sum, f.talk_ms_sum, f.talks_ended), (1_000, 60_000, 1));
    assert_eq!(s.call_figures(id, 66_000).await.unwrap().dials, 1);
    assert_eq!(s.call_series(id, 0).await.unwrap()[1], (66_000, Some("abandoned".into())));
    // The agent's disposition of the bridged call; not of the unbridged one, nor by another.
    assert_eq!(s.campaign_call_wrappable(500, 3).await.unwrap(), Some(id));
    assert_eq!(s.campaign_call_wrappable(500, 4).await.unwrap(), None);
    assert_eq!(s.campaign_call_wrappable(501, 3).await.unwrap(), None);
    s.save_campaign_wrap_up(500, 3, "interested", "call on Friday").await.unwrap();
    assert!(matches!(s.save_campaign_wrap_up(500, 4, "x", "").await, Err(StoreError::NotFound(_))));
    let calls = s.list_calls(id, None, 0, 10).await.unwrap();
    assert_eq!(
        (calls[0].disposition.as_deref(), calls[0].notes.as_deref()),
        (Some("interested"), Some("call on Friday"))
    );
    // Agent 3's history has the bridged call with its campaign and contact; agent 4's is empty.
    let mine = s.agent_campaign_calls(3, 10).await.unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(
        (mine[0].id, mine[0].campaign_name.as_str(), mine[0].phone.as_str()),
        (500, "Parcels 2", "+447700900001")
    );
    assert_eq!((mine[0].campaign_id, mine[0].contact_name.as_deref()), (id, Some("Ann")));
    assert_eq!(
        (mine[0].dialed_at, mine[0].bridged_at, mine[0].ended_at),
        (1_000, Some(5_000), 65_000)
    );
    assert_eq!(
        (mine[0].result.as_deref(), mine[0].disposition.as_deref()),
        (Some("answered"), Some("interested"))
    );
    assert!(s.agent_campaign_calls(4, 10).await.unwrap().is_empty());
    assert!(s.agent_campaign_calls(3, 0).await.unwrap().is_empty(), "the limit is honoured");
    let open = s.open_contacts(id, 10).await.unwrap();
    assert_eq!(open.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c2]);
    // Campaign calls share the interaction numbering.
    assert_eq!(s.max_interaction_id().await.unwrap(), 501);
    // A call left open by a crash is cancelled and its contact goes back to pending.
    s.append(&[ev(
        70_000,
        C::Dialed {
            campaign: camp,
            contact: ContactId(c2 as u64),
            call: InteractionId(502),
            attempt: 2,
            agent: None,
        },
    )])
    .await
    .unwrap();
    assert_eq!(s.contact(c2).await.unwrap().expect("found").status, "calling");
    assert_eq!(s.recover_campaign_calls(80_000).await.unwrap(), 1);
    assert_eq!(s.contact(c2).await.unwrap().expect("found").status, "pending");
    assert_eq!(s.list_contacts(id, c1, 10).await.unwrap().len(), 1);
    s.delete_campaign(id).await.unwrap();
    assert!(s.campaign(id).await.unwrap().is_none());
    assert!(s.contact(c1).await.unwrap().is_none());
    assert!(matches!(s.delete_campaign(id).await, Err(StoreError::NotFound("campaign"))));
}

async fn dnc_lists_global_and_per_campaign(kind: &str) {
    let (s, _d) = fresh(kind).await;
    assert!(s.dnc_add(None, "+447700900001", 1).await.unwrap());
    assert!(!s.dnc_add(None, "+447700900001", 2).await.unwrap(), "already listed");
    assert!(s.dnc_add(Some(7), "+447700900001", 3).await.unwrap());
    assert!(s.dnc_add(Some(7), "+447700900002", 4).await.unwrap());
    let all = s.dnc_list(None, 0, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].campaign_id, None);
    let seven = s.dnc_list(Some(Some(7)), 0, 10).await.unwrap();
    assert_eq!(
        seven.iter().map(|d| d.phone.as_str()).collect::<Vec<_>>(),
        ["+447700900001", "+447700900002"]
    );
    assert_eq!(s.dnc_list(Some(Some(7)), 1, 10).await.unwrap().len(), 1);
    assert!(s.dnc_remove(Some(7), "+447700900001").await.unwrap());
    assert!(!s.dnc_remove(Some(7), "+447700900001").await.unwrap());
    assert_eq!(s.dnc_list(Some(None), 0, 10).await.unwrap().len(), 1);
}

async fn robocall_keys_machines_labels_and_actions_project(kind: &str) {
    use domain::campaign::{
        ActionKind, CallResult, CampaignEvent as C, CampaignId, ContactId, ContactStatus, KeyAnswer,
    };
    let (s, _d) = fresh(kind).await;
    let id = s.create_campaign("Robo", &json!({ "mode": "robocall" }), 10).await.unwrap();
    let ids = s
        .insert_contacts(
            id,
            &[new_contact(2, "+447700900001"), new_contact(3, "+447700900002")],
            30,
        )
        .await
        .unwrap();
    let (c1, c2) = (ContactId(ids[0].unwrap() as u64), ContactId(ids[1].unwrap() as u64));
    let camp = CampaignId(id as u64);
    let (call1, call2) = (InteractionId(600), InteractionId(601));
    let ev = |at, e| Event { at: Timestamp::from_millis(at), kind: EventKind::Campaign(e) };
    let dialed =
        |contact, call| C::Dialed { campaign: camp, contact, call, attempt: 1, agent: None };
    let key = |contact, call, digit, answer| C::KeyPressed {
        campaign: camp,
        contact,
        call,
        digit,
        answer,
    };
    s.append(&[
        ev(1_000, dialed(c1, call1)),
        ev(2_000, C::Answered { call: call1 }),
        ev(3_000, key(c1, call1, '7', None)),
        ev(3_500, key(c1, call1, '2', Some(KeyAnswer::Repeat))),
        ev(4_000, key(c1, call1, '9', Some(KeyAnswer::OptOut))),
        ev(4_000, C::CallEnded { call: call1, result: CallResult::Delivered }),
        ev(
            4_000,
            C::ContactFinished { campaign: camp, contact: c1, status: ContactStatus::OptedOut },
        ),
        ev(4_000, C::ContactLabeled { campaign: camp, contact: c1, label: "do not call".into() }),
        ev(
            4_000,
            C::ActionQueued {
                campaign: camp,
                contact: c1,
                action: ActionKind::Webhook,
                status: ContactStatus::OptedOut,
            },
        ),
        ev(5_000, dialed(c2, call2)),
        ev(6_000, C::MachineAnswered { call: call2 }),
        ev(16_000, C::CallEnded { call: call2, result: CallResult::MessageLeft }),
        ev(
            16_000,
            C::ContactFinished { campaign: camp, contact: c2, status: ContactStatus::MessageLeft },
        ),
    ])
    .await
    .unwrap();
    let c = s.contact(c1.0 as i64).await.unwrap().expect("found");
    assert_eq!(
        (c.status.as_str(), c.label.as_deref(), c.answer.as_deref()),
        ("opted_out", Some("do not call"), Some("opt_out"))
    );
    // The opt-out put the number on the campaign's own list.
    let dnc = s.dnc_list(Some(Some(id)), 0, 10).await.unwrap();
    assert_eq!(dnc.iter().map(|d| d.phone.as_str()).collect::<Vec<_>>(), ["+447700900001"]);
    let calls = s.list_calls(id, None, 0, 10).await.unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].key_presses.as_deref(), calls[0].answer.as_deref(), calls[0].machine_at),
        (Some("729"), Some("opt_out"), None)
    );
    assert_eq!(
        (calls[1].machine_at, calls[1].answered_at, calls[1].result.as_deref()),
        (Some(6_000), None, Some("message_left"))
    );
    assert_eq!(s.list_calls(id, Some(c2.0 as i64), 0, 10).await.unwrap().len(), 1);

    // The queued action: once per contact and kind, even if the event is replayed.
    let replay = C::ActionQueued {
        campaign: camp,
        contact: c1,
        action: ActionKind::Webhook,
        status: ContactStatus::OptedOut,
    };
    s.append(&[ev(4_500, replay)]).await.unwrap();
    let sms = C::ActionQueued {
        campaign: camp,
        contact: c2,
        action: ActionKind::Sms,
        status: ContactStatus::MessageLeft,
    };
    s.append(&[ev(16_000, sms)]).await.unwrap();
    assert_eq!(s.list_actions(id, 0, 10).await.unwrap().len(), 2);
    assert_eq!(s.next_action_at().await.unwrap(), Some(4_000));
    let due = s.due_actions(10_000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "the SMS is not due before 16 000");
    let webhook = &due[0];
    assert_eq!((webhook.kind.as_str(), webhook.outcome.as_str()), ("webhook", "opted_out"));
    s.action_retry(webhook.id, 20_000, "HTTP 503").await.unwrap();
    assert!(s.due_actions(19_999, 10).await.unwrap().iter().all(|a| a.id != webhook.id));
    s.action_sent(webhook.id, 20_000).await.unwrap();
    let sent = s.action(webhook.id).await.unwrap().expect("found");
    assert_eq!(
        (sent.status.as_str(), sent.attempts, sent.done_at, sent.last_error.as_deref()),
        ("sent", 2, Some(20_000), Some("HTTP 503"))
    );
    // Sent is final: it is never due again nor marked twice.
    assert!(matches!(s.action_sent(webhook.id, 21_000).await, Err(StoreError::NotFound(_))));
    let due = s.due_actions(30_000, 10).await.unwrap();
    assert_eq!(due.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>(), ["sms"]);
    s.action_failed(due[0].id, 30_000, "field parcel is missing").await.unwrap();
    assert!(s.due_actions(i64::MAX, 10).await.unwrap().is_empty());
    assert_eq!(s.next_action_at().await.unwrap(), None);
    s.delete_campaign(id).await.unwrap();
    assert!(s.list_actions(id, 0, 10).await.unwrap().is_empty());
}
