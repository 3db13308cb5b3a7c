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

use crate::config::{AccountSection, Config, InboundSection};
use crate::runtime::{clock, Network, Runtime};

/// Notices buffered per console connection before it must resync.
const NOTICES_BUFFER_MAX: usize = 1_024;

pub struct Running {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    /// The SIP address, when the network is SIP.
    pub sip_addr: Option<SocketAddr>,
    /// The SIP shell's counters (legs, RTP played and relayed), when the network is SIP.
    pub sip_stats: Option<std::sync::Arc<telephony::sipshell::ShellStats>>,
    sip_accounts:
        Option<(telephony::sipshell::AccountsHandle, Vec<AccountSection>, Vec<InboundSection>)>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    /// The log SMS driver's messages, when that is the driver.
    pub sms_log: Option<std::sync::Arc<notify::LogSms>>,
}

impl Running {
    /// Re-reads which user each configured SIP account belongs to and which queue each
    /// inbound route names (after users and queues were added).
    pub async fn refresh_sip_accounts(&self) -> anyhow::Result<()> {
        let Some((handle, sections, inbound)) = &self.sip_accounts else { return Ok(()) };
        let accounts = resolve_accounts(&self.state.store, sections).await?;
        anyhow::ensure!(handle.set(accounts).await, "the SIP shell stopped");
        let routes = resolve_routes(&self.state.store, inbound).await?;
        self.state
            .engine
            .input(engine::Input::SetInboundRoutes(routes))
            .await
            .map_err(|e| anyhow::anyhow!("inbound routes: {e:?}"))?;
        Ok(())
    }

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
    let contacts = api::rebuild_campaigns(center, store, now).await?;
    tracing::info!(callbacks = count, contacts, "engine rebuilt from the store");
    Ok(())
}

/// Phone accounts for the users that exist; accounts naming unknown logins wait (with a
/// warning) until [`Running::refresh_sip_accounts`].
async fn resolve_accounts(
    store: &Store,
    sections: &[AccountSection],
) -> anyhow::Result<Vec<telephony::sipnet::SipAccount>> {
    let users = store.list_users().await?;
    let mut accounts = Vec::new();
    for account in sections {
        let Some(user) = users.iter().find(|u| u.login == account.login) else {
            tracing::warn!(login = %account.login, "SIP account for an unknown user; ignored");
            continue;
        };
        accounts.push(telephony::sipnet::SipAccount {
            agent: AgentId(user.id as u64),
            username: account.username.clone().unwrap_or_else(|| account.login.clone()),
            password: account.password.clone(),
        });
    }
    Ok(accounts)
}

/// Inbound routes with queue names resolved; routes naming unknown queues wait (with a
/// warning) until [`Running::refresh_sip_accounts`].
async fn resolve_routes(
    store: &Store,
    sections: &[InboundSection],
) -> anyhow::Result<Vec<engine::InboundRoute>> {
    let queues = store.list_settings(SettingsTable::Queues).await?;
    let id_of = |name: &str| queues.iter().find(|q| q.name == name).map(|q| QueueId(q.id as u64));
    let mut routes = Vec::new();
    'routes: for section in sections {
        let Some(queue) = id_of(&section.queue) else {
            tracing::warn!(queue = %section.queue, "inbound route to an unknown queue; ignored");
            continue;
        };
        let mut menu = Vec::new();
        for (key, name) in &section.menu {
            let (Some(digit), Some(target)) = (key.chars().next(), id_of(name)) else {
                tracing::warn!(queue = %name, "inbound menu names an unknown queue; route ignored");
                continue 'routes;
            };
            menu.push((digit, target));
        }
        routes.push(engine::InboundRoute {
            dialed: section.dialed.clone(),
            greeting: section.greeting.clone(),
            menu,
            queue,
            menu_timeout_ms: section.menu_timeout_ms,
            hold_prompt: section.hold_prompt.clone(),
            priority: section.priority,
        });
    }
    Ok(routes)
}

/// The configured phone network. For SIP, agents' accounts name console logins, which are
/// resolved to agent ids here; the console then shows whose phone is registered.
async fn network(config: &Config, store: &Store, state: &mut AppState) -> anyhow::Result<Network> {
    if config.telephony.network != "sip" {
        return Ok(Network::Sim(Box::new(SimNetwork::new(config.sim()))));
    }
    let mut sip = config.sip_base()?;
    sip.accounts = resolve_accounts(store, &config.telephony.sip.accounts).await?;
    if let Some(dir) = &sip.recordings_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the recordings directory {}", dir.display()))?;
    }
    let shell = telephony::sipshell::SipShell::start(sip.clone())
        .await
        .with_context(|| format!("binding SIP on {}", sip.signal_addr))?;
    tracing::info!(addr = %shell.local_addr(), "SIP listening");
    state.registered_phones = Some(shell.registered());
    state.recordings_dir = sip.recordings_dir.clone();
    state.prompts_dir = sip.prompts_dir.clone();
    Ok(Network::Sip(shell))
}

pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let store = Store::connect(&config.database.url).await.context("opening the database")?;
    let (engine, rx) = EngineHandle::channel();
    let (notices, _) = broadcast::channel(NOTICES_BUFFER_MAX);
    let limits = api::RateLimitConfig {
        callbacks_per_ip_per_minute: config.limits.callbacks_per_ip_per_minute,
        callbacks_per_phone_per_hour: config.limits.callbacks_per_phone_per_hour,
    };
    let mut state =
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
    let routes = resolve_routes(&store, &config.telephony.sip.inbound).await?;
    center.handle_input(now, Input::SetInboundRoutes(routes))?;
    let net = network(config, &store, &mut state).await?;
    let sip_stats = match &net {
        Network::Sip(shell) => Some(shell.stats()),
        Network::Sim(_) => None,
    };
    let (sip_addr, sip_accounts) = match &net {
        Network::Sip(shell) => (
            Some(shell.local_addr()),
            Some((
                shell.accounts(),
                config.telephony.sip.accounts.clone(),
                config.telephony.sip.inbound.clone(),
            )),
        ),
        Network::Sim(_) => (None, None),
    };
    let prompts_dir = state.prompts_dir.clone();
    let wake = crate::actions::ActionsWake::default();
    let actions = wake.clone();
    let mut runtime = Runtime { center, net, store: store.clone(), notices, prompts_dir, actions };
    runtime.drain().await?;

    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(runtime.run(rx, shutdown_rx.clone())));
    let (sms, sms_log) = crate::actions::sms_provider(&config.notify)?;
    let timeout = std::time::Duration::from_millis(config.notify.webhook_timeout_ms);
    let worker = crate::actions::ActionsWorker {
        store: store.clone(),
        sms,
        webhooks: notify::WebhookClient::new(timeout).map_err(|e| anyhow::anyhow!("{e}"))?,
        webhook_secret: Some(config.notify.webhook_secret.clone()),
        wake,
    };
    tasks.push(tokio::spawn(worker.run(shutdown_rx.clone())));

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
    Ok(Running {
        addr,
        metrics_addr,
        state,
        sip_addr,
        sip_stats,
        sip_accounts,
        shutdown,
        tasks,
        sms_log,
    })
}
