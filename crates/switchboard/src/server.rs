//! Wiring: store, engine rebuilt from the store, runtime task, HTTP listeners.

use std::net::SocketAddr;

use anyhow::Context;
use api::{AppState, EngineHandle, QueueSettings, UserProfile};
use domain::event::AgentState;
use domain::{AgentId, CallbackId, PhoneNumber, QueueId, Timestamp};
use engine::{CallbackSpec, Center, CenterConfig, Input};
use routing::RouterConfig;
use store::{SettingsTable, Store};
use telephony::SimNetwork;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::runtime::{clock, Runtime};

/// Notices buffered per console connection before it must resync.
const NOTICES_BUFFER_MAX: usize = 1_024;

pub struct Running {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets the runtime finish its current drain, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            t.await.context("task panicked")??;
        }
        Ok(())
    }

    /// Resolves when a task ends (an error, or shutdown).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        if self.tasks.is_empty() {
            return Ok(());
        }
        let (done, _, rest) = futures_select_all(std::mem::take(&mut self.tasks)).await;
        self.tasks = rest;
        done
    }
}

async fn futures_select_all(
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
) -> (anyhow::Result<()>, usize, Vec<JoinHandle<anyhow::Result<()>>>) {
    let mut tasks = tasks;
    loop {
        if let Some(i) = tasks.iter().position(|t| t.is_finished()) {
            let t = tasks.remove(i);
            let r = t.await.map_err(anyhow::Error::from).and_then(|r| r);
            return (r, i, tasks);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Feeds the engine everything the store knows: queues, agents and their status, open
/// callbacks. Runs before the API accepts requests.
async fn rebuild(
    center: &mut Center,
    store: &Store,
    state: &AppState,
    now: Timestamp,
) -> anyhow::Result<()> {
    let closed = store.recover_interrupted(now).await?;
    if closed > 0 {
        tracing::warn!(closed, "closed interactions left open by an unclean stop");
    }
    for q in store.list_settings(SettingsTable::Queues).await? {
        let settings: QueueSettings =
            serde_json::from_value(q.settings).with_context(|| format!("queue {}", q.id))?;
        let setup = settings
            .to_setup(q.id, &state.skills)
            .map_err(|e| anyhow::anyhow!("queue {}: {e}", q.id))?;
        center.handle_input(now, Input::UpsertQueue(Box::new(setup)))?;
    }
    for u in store.list_users().await? {
        let profile: UserProfile = serde_json::from_value(u.profile).unwrap_or_default();
        let agent = profile
            .to_agent(u.id, &state.skills)
            .map_err(|e| anyhow::anyhow!("user {}: {e}", u.id))?;
        center.handle_input(now, Input::UpsertAgent(agent))?;
        let status = match u.status.as_str() {
            "available" | "wrap_up" => Some(AgentState::Available),
            "break" => Some(AgentState::Break {
                reason: u.status_reason.unwrap_or_else(|| "break".into()),
            }),
            _ => None,
        };
        if let Some(status) = status {
            center
                .handle_input(now, Input::SetAgentStatus { agent: AgentId(u.id as u64), status })?;
        }
    }
    let open = store.open_callbacks().await?;
    let count = open.len();
    for cb in open {
        let Ok(phone) = PhoneNumber::from_e164_trusted(&cb.phone) else {
            tracing::error!(id = cb.id, "stored callback has a malformed phone; skipped");
            continue;
        };
        let spec = CallbackSpec {
            id: CallbackId(cb.id as u64),
            queue: QueueId(cb.queue_id as u64),
            phone,
            due_at: Timestamp::from_millis(cb.due_at).max(now),
            attempts: cb.attempts as u32,
        };
        if let Err(e) = center.handle_input(now, Input::CallbackAccepted(spec)) {
            tracing::error!(id = cb.id, error = %e, "could not rebuild callback");
        }
    }
    tracing::info!(callbacks = count, "engine rebuilt from the store");
    Ok(())
}

pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let store = Store::connect(&config.database.url).await.context("opening the database")?;
    let (engine, rx) = EngineHandle::channel();
    let (notices, _) = broadcast::channel(NOTICES_BUFFER_MAX);
    let limits = api::RateLimitConfig {
        callbacks_per_ip_per_minute: config.limits.callbacks_per_ip_per_minute,
        callbacks_per_phone_per_hour: config.limits.callbacks_per_phone_per_hour,
    };
    let state =
        AppState::new(store.clone(), engine, notices.clone(), config.server.secure_cookies, limits);

    if store.list_users().await?.is_empty() {
        if let Some(password) = &config.server.bootstrap_admin_password {
            let input: api::UserInput = serde_json::from_value(serde_json::json!({
                "login": "admin", "name": "Administrator", "role": "admin", "password": password
            }))?;
            let new = store::NewUser {
                login: input.login,
                name: input.name,
                role: input.role,
                password_hash: api::hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?,
                profile: serde_json::to_value(&input.profile)?,
            };
            store.create_user(&new).await?;
            tracing::info!("created the bootstrap admin user");
        }
    }

    let now = clock();
    let first_interaction_id = store.max_interaction_id().await? as u64 + 1;
    let mut center = Center::new(CenterConfig {
        router: RouterConfig { missed_offers_max: config.engine.missed_offers_max },
        first_interaction_id,
        agent_ring_ms: config.engine.agent_ring_ms,
    });
    rebuild(&mut center, &store, &state, now).await?;
    let mut runtime =
        Runtime { center, net: SimNetwork::new(config.sim()), store: store.clone(), notices };
    runtime.drain().await?;

    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(runtime.run(rx, shutdown_rx.clone())));

    let listener = TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let app = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut rx1 = shutdown_rx.clone();
    tasks.push(tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx1.changed().await;
            })
            .await?;
        Ok(())
    }));

    let mut metrics_addr = None;
    if !config.server.metrics_listen.is_empty() {
        let listener = TcpListener::bind(&config.server.metrics_listen)
            .await
            .with_context(|| format!("binding {}", config.server.metrics_listen))?;
        metrics_addr = Some(listener.local_addr()?);
        let app = api::metrics_router(state.clone());
        let mut rx2 = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx2.changed().await;
                })
                .await?;
            Ok(())
        }));
    }
    tracing::info!(%addr, "listening");
    Ok(Running { addr, metrics_addr, state, shutdown, tasks })
}
