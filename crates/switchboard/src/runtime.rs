//! The engine actor: owns the `Center` and the phone network, feeds them time and events,
//! commits persisted events before executing commands, and publishes notices.

use std::time::Duration;

use anyhow::Context;
use api::EngineRequest;
use domain::event::Event;
use domain::telephony::{NetEvent, TelCommand};
use domain::Timestamp;
use engine::{Center, Input, Notice, Output};
use store::Store;
use telephony::sipshell::SipShell;
use telephony::SimNetwork;
use tokio::sync::{broadcast, mpsc, watch};

/// Append retries before the runtime gives up and stops (a restart rebuilds from the store).
const APPEND_ATTEMPTS_MAX: u32 = 5;
/// Longest sleep between wake-ups, so a clock jump is noticed.
const IDLE_WAKE_MS: u64 = 1_000;

pub fn clock() -> Timestamp {
    Timestamp::from_millis(chrono::Utc::now().timestamp_millis())
}

/// The phone network the engine drives: simulated in-process, or SIP through its shell task.
pub enum Network {
    Sim(Box<SimNetwork>),
    Sip(SipShell),
}

impl Network {
    async fn handle_command(&mut self, now: Timestamp, command: TelCommand) {
        match self {
            Network::Sim(net) => net.handle_command(now, command),
            Network::Sip(shell) => {
                if !shell.send(command).await {
                    tracing::error!("the SIP shell stopped; a command was lost");
                }
            }
        }
    }

    fn poll_event(&mut self) -> Option<NetEvent> {
        match self {
            Network::Sim(net) => net.poll_event(),
            Network::Sip(shell) => shell.try_recv(),
        }
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        match self {
            Network::Sim(net) => net.poll_timeout(),
            Network::Sip(_) => None,
        }
    }

    fn handle_timeout(&mut self, now: Timestamp) {
        if let Network::Sim(net) = self {
            net.handle_timeout(now);
        }
    }

    /// The next event from a network that delivers them by itself (SIP); never for the
    /// simulated one, which the runtime polls.
    async fn next_event(&mut self) -> Option<NetEvent> {
        match self {
            Network::Sim(_) => std::future::pending().await,
            Network::Sip(shell) => shell.recv().await,
        }
    }
}

fn input_of(event: NetEvent) -> Input {
    match event {
        NetEvent::Leg(event) => Input::Leg(event),
        NetEvent::Incoming { leg, caller, dialed } => Input::Incoming { leg, caller, dialed },
        NetEvent::Dtmf { leg, digit } => Input::Dtmf { leg, digit },
    }
}

pub struct Runtime {
    pub center: Center,
    pub net: Network,
    pub store: Store,
    pub notices: broadcast::Sender<Notice>,
    /// Where campaigns' recorded messages are (SIP prompts directory).
    pub prompts_dir: Option<std::path::PathBuf>,
    /// Woken after a commit that queued campaign actions (see `crate::actions`).
    pub actions: crate::actions::ActionsWake,
}

impl Runtime {
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<EngineRequest>,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        loop {
            self.drain().await?;
            let now = clock();
            let next =
                [self.center.poll_timeout(), self.net.poll_timeout()].into_iter().flatten().min();
            let wait_ms = next.map_or(IDLE_WAKE_MS, |t| t.ms_since(now).min(IDLE_WAKE_MS));
            tokio::select! {
                request = rx.recv() => match request {
                    Some(f) => {
                        let reply = f(&mut self.center, clock());
                        // Commit before acknowledging: the caller hears back only after the
                        // events its request caused are in the store.
                        self.drain().await?;
                        reply();
                    }
                    None => return Ok(()),
                },
                event = self.net.next_event() => match event {
                    Some(event) => {
                        if let Err(e) = self.center.handle_input(clock(), input_of(event)) {
                            tracing::warn!(error = %e, "network event refused");
                        }
                    }
                    None => anyhow::bail!("the SIP shell stopped"),
                },
                _ = tokio::time::sleep(Duration::from_millis(wait_ms)) => {
                    let now = clock();
                    self.net.handle_timeout(now);
                    if let Err(e) = self.center.handle_input(now, Input::Tick) {
                        tracing::warn!(error = %e, "tick failed");
                    }
                }
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    /// Runs engine and network against each other until both are quiet.
    pub async fn drain(&mut self) -> anyhow::Result<()> {
        loop {
            let now = clock();
            let mut progressed = false;
            while let Some(event) = self.net.poll_event() {
                progressed = true;
                if let Err(e) = self.center.handle_input(now, input_of(event)) {
                    tracing::warn!(error = %e, "leg event refused");
                }
            }
            let (mut batch, mut commands, mut notices) = (Vec::new(), Vec::new(), Vec::new());
            while let Some(output) = self.center.poll_output() {
                match output {
                    Output::Persist(e) => batch.push(e),
                    Output::Telephony(c) => commands.push(c),
                    Output::Notify(n) => notices.push(n),
                }
            }
            if !progressed && batch.is_empty() && commands.is_empty() && notices.is_empty() {
                return Ok(());
            }
            // Durability before action: nothing is dialed unless its event is committed.
            self.append(&batch).await?;
            let queued = |e: &Event| {
                matches!(
                    e.kind,
                    domain::event::EventKind::Campaign(
                        domain::campaign::CampaignEvent::ActionQueued { .. }
                    )
                )
            };
            if batch.iter().any(queued) {
                // Never waits: the worker runs on its own task.
                self.actions.notify_one();
            }
            for command in commands {
                self.net.handle_command(now, command).await;
            }
            while let Some(message) = self.center.poll_robocall_message() {
                if let Some(prompt) = self.robocall_prompt(&message).await {
                    let play = TelCommand::Play { leg: message.leg, prompt, looping: false };
                    self.net.handle_command(now, play).await;
                }
            }
            for notice in notices {
                let _ = self.notices.send(notice);
            }
        }
    }

    /// The spoken message of a robocall that was answered (see `crate::robocall`).
    async fn robocall_prompt(&self, message: &engine::RobocallMessage) -> Option<String> {
        // An uploaded recording replaces the spoken template.
        if let Some(dir) = &self.prompts_dir {
            let campaign = message.campaign.0 as i64;
            if let Some(name) = api::campaign_recording::recording_name(dir, campaign).await {
                return Some(name);
            }
        }
        let lookup = async {
            let campaign = self.store.campaign(message.campaign.0 as i64).await?;
            let contact = self.store.contact(message.contact.0 as i64).await?;
            Ok::<_, store::StoreError>((campaign, contact))
        };
        match lookup.await {
            Ok((Some(campaign), Some(contact))) => {
                let settings: api::CampaignSettings =
                    serde_json::from_value(campaign.settings).ok()?;
                crate::robocall::prompt(&settings, &contact)
            }
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "cannot read a robocall's message");
                None
            }
        }
    }

    async fn append(&self, batch: &[Event]) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            match self.store.append(batch).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt + 1 < APPEND_ATTEMPTS_MAX => {
                    attempt += 1;
                    tracing::error!(error = %e, attempt, "event append failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => {
                    return Err(e).context(
                        "cannot commit events; stopping so a restart rebuilds from the store",
                    )
                }
            }
        }
    }
}
