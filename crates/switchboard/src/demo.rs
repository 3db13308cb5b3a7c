//! `switchboard demo`: a temporary database, the simulated network, a seeded organisation, and
//! a demo shop page (on its own origin) carrying the widget.

use std::net::SocketAddr;

use anyhow::Context;
use api::{AppState, QueueSettings, ScriptInput, UserInput, WidgetInput};
use axum::response::Html;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::server::{start, Running};

pub const DEMO_PASSWORD: &str = "demo1234";
pub const DEMO_WIDGET_KEY: &str = "demo-shop";

fn e(err: api::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

/// Seeds two departments, a script, a callback queue, six agents, a supervisor, an admin and
/// the shop's widget. Returns the queue id.
pub async fn seed(
    state: &AppState,
    shop_origin: &str,
    queue_overrides: serde_json::Value,
) -> anyhow::Result<i64> {
    let sales = state.store.create_department("Sales").await?;
    let support = state.store.create_department("Support").await?;
    let script = ScriptInput {
        name: "Callback greeting".into(),
        definition: serde_json::from_value(json!({
            "start": "reason",
            "steps": [
                { "id": "reason", "kind": "choice", "prompt": "Greet the customer by name. What is the call about?",
                  "options": ["Order status", "Delivery problem", "Something else"],
                  "branches": { "Order status": "order", "Delivery problem": "delivery", "Something else": "notes" } },
                { "id": "order", "kind": "text", "prompt": "Ask for the order number and read out its status.", "next": "solved" },
                { "id": "delivery", "kind": "yes_no", "prompt": "Did the parcel arrive damaged?", "branches": { "yes": "refund", "no": "solved" } },
                { "id": "refund", "kind": "yes_no", "prompt": "Offer a replacement. Did the customer accept?", "next": "solved" },
                { "id": "notes", "kind": "text", "prompt": "Note what the customer needs.", "next": "solved" },
                { "id": "solved", "kind": "number", "prompt": "How easy was it for the customer (1 = very hard, 5 = very easy)?", "next": "end" },
                { "id": "end", "kind": "end", "prompt": "Thank the customer and say goodbye." }
            ]
        }))?,
    };
    let script_id = api::save_script(state, None, &script).await.map_err(e)?;
    let mut settings = json!({ "department_id": sales, "script_id": script_id, "wrap_up_s": 60,
        "callback": { "max_attempts": 3, "retry_delays_s": [60, 300] } });
    if let (Some(s), Some(o)) = (settings.as_object_mut(), queue_overrides.as_object()) {
        for (k, v) in o {
            s.insert(k.clone(), v.clone());
        }
    }
    let settings: QueueSettings = serde_json::from_value(settings).context("queue settings")?;
    let queue = api::save_queue(state, None, "Website callbacks", &settings).await.map_err(e)?;
    let people = [
        ("alice", "Alice Moreau", "agent", sales, 8),
        ("bob", "Bob Okafor", "agent", sales, 6),
        ("carol", "Carol Ito", "agent", sales, 4),
        ("dave", "Dave Lindqvist", "agent", support, 7),
        ("erin", "Erin Novak", "agent", support, 5),
        ("frank", "Frank Silva", "agent", support, 3),
        ("sam", "Sam Supervisor", "supervisor", sales, 9),
        ("admin", "Ada Admin", "admin", support, 9),
    ];
    for (login, name, role, dept, level) in people {
        let input: UserInput = serde_json::from_value(json!({
            "login": login, "name": name, "role": role, "password": DEMO_PASSWORD,
            "skills": { "orders": level, "delivery": (11 - level).clamp(1, 10) },
            "department_ids": [dept], "queue_ids": if dept == sales { vec![queue] } else { vec![] },
            "chat_capacity": if level >= 7 { 5 } else { 2 }
        }))?;
        api::save_user(state, None, input).await.map_err(e)?;
    }
    let widget: WidgetInput = serde_json::from_value(json!({
        "name": "Acme Parcel Shop", "queue_id": queue, "key": DEMO_WIDGET_KEY,
        "title": "We call you back in seconds", "button_text": "Call me back",
        "default_region": "US", "allowed_origins": [shop_origin]
    }))?;
    api::create_widget_row(state, &widget).await.map_err(e)?;
    crate::campaign_demo::seed_campaign(state, queue).await?;
    Ok(queue)
}

/// Serves the demo shop page on its own listener (another origin than the API).
pub fn serve_shop(
    listener: TcpListener,
    api_origin: String,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let addr = listener.local_addr()?;
    let page = api::assets::shop_page(&api_origin).unwrap_or_else(|| {
        format!("<!doctype html><title>Acme</title><p>Build the web console first (scripts/setup).</p>\
                 <script src=\"{api_origin}/widget.js\" data-key=\"{DEMO_WIDGET_KEY}\" async></script>")
    });
    let app = axum::Router::new().route("/", get(move || async move { Html(page) }));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await?;
        Ok(())
    });
    Ok((addr, task))
}

pub struct Demo {
    pub server: Running,
    pub shop_url: String,
    /// The temporary database directory, removed when the demo is dropped.
    pub _dir: Option<tempfile::TempDir>,
}

pub async fn start_demo(
    mut config: Config,
    shop_listen: &str,
    queue_overrides: serde_json::Value,
) -> anyhow::Result<Demo> {
    let dir = tempfile::tempdir()?;
    config.database.url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let mut demo = start_demo_on(config, shop_listen, queue_overrides).await?;
    demo._dir = Some(dir);
    Ok(demo)
}

/// The demo on the database `config` names (which must be empty).
pub async fn start_demo_on(
    config: Config,
    shop_listen: &str,
    queue_overrides: serde_json::Value,
) -> anyhow::Result<Demo> {
    // The shop's origin must be known before the widget is seeded: bind it first.
    let shop =
        TcpListener::bind(shop_listen).await.with_context(|| format!("binding {shop_listen}"))?;
    let shop_origin = format!("http://{}", shop.local_addr()?);
    let server = start(&config).await?;
    seed(&server.state, &shop_origin, queue_overrides).await?;
    server.refresh_sip_accounts().await?;
    let (addr, _task) = serve_shop(shop, server.base_url())?;
    Ok(Demo { server, shop_url: format!("http://{addr}/"), _dir: None })
}
