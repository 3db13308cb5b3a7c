//! The RTP relay on its own, driven by [`MediaCommand`]s without any signalling: what the
//! media benchmark measures (`switchboard bench media`), the same code a SIP call uses.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::relay::Relay;
use super::{PromptLibrary, ShellStats, EVENT_QUEUE_MAX};
use crate::sipnet::MediaCommand;

pub struct MediaRelay {
    relay: Relay,
    stats: Arc<ShellStats>,
    drain: tokio::task::JoinHandle<()>,
}

impl MediaRelay {
    /// A relay binding its legs' sockets on `ip`; legs silent for `timeout_ms` are only
    /// reported (and the reports dropped), since nothing here hangs up.
    pub fn new(ip: IpAddr, timeout_ms: u64) -> MediaRelay {
        let stats = Arc::new(ShellStats::default());
        let (events, mut received) = mpsc::channel(EVENT_QUEUE_MAX);
        let drain = tokio::spawn(async move { while received.recv().await.is_some() {} });
        let prompts = PromptLibrary::new(None, std::env::temp_dir());
        let relay =
            Relay::new(ip, timeout_ms, None, Default::default(), prompts, events, stats.clone());
        MediaRelay { relay, stats, drain }
    }

    pub async fn handle(&mut self, command: MediaCommand) {
        self.relay.handle(command).await;
    }

    pub fn stats(&self) -> Arc<ShellStats> {
        self.stats.clone()
    }
}

impl Drop for MediaRelay {
    fn drop(&mut self) {
        self.drain.abort();
    }
}
