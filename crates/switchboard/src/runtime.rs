//! The engine actor: owns the `Center` and the phone network, feeds them time and events,
//! commits persisted events before executing commands, and publishes notices.

use std::time::Duration;

use anyhow::Context;
use api::EngineRequest;
use domain::event::Event;
use domain::Timestamp;
use engine::{Center, Input, Notice, Output};
use store::Store;
use telephony::SimNetwork;
use tokio::sync::{broadcast, mpsc, watch};

/// Append retries before the runtime gives up and stops (a restart rebuilds from the store).
const APPEND_ATTEMPTS_MAX: u32 = 5;
/// Longest sleep between wake-ups, so a clock jump is noticed.
const IDLE_WAKE_MS: u64 = 1_000;

pub fn clock() -> Timestamp {
    Timestamp::from_millis(chrono::Utc::now().timestamp_millis())
}

pub struct Runtime {
    pub center: Center,
    pub net: SimNetwork,
    pub store: Store,
    pub notices: broadcast::Sender<Notice>,
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
                    Some(f) => f(&mut self.center, clock()),
                    None => return Ok(()),
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
                if let Err(e) = self.center.handle_input(now, Input::Leg(event)) {
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
            for command in commands {
                self.net.handle_command(now, command);
            }
            for notice in notices {
                let _ = self.notices.send(notice);
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
