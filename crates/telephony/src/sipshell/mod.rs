//! The tokio shell around [`SipNetwork`]: the SIP socket, the wall clock, and one RTP relay
//! socket per leg. It owns no call logic: every decision is the network's.
//!
//! The engine side talks to it through [`SipShell`]: commands in, leg events and registration
//! notices out, over bounded channels.

mod media_relay;
mod prompts;
mod relay;
mod tcp;

pub use media_relay::MediaRelay;
pub use prompts::{PromptLibrary, PromptLoadError};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use domain::telephony::{NetEvent, TelCommand};
use domain::{AgentId, LegId, Timestamp};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::sipnet::{SipAccount, SipConfig, SipNetwork};
use relay::Relay;

/// Commands waiting for the shell; the engine blocks when the shell is this far behind.
pub const COMMAND_QUEUE_MAX: usize = 4_096;
/// Leg events waiting for the engine.
pub const EVENT_QUEUE_MAX: usize = 16_384;
/// Largest datagram we read (SIP over UDP stays under this; bigger is truncated and dropped).
const DATAGRAM_BYTES_MAX: usize = sip::limits::MESSAGE_BYTES_MAX;

/// Counters for leak checks and the benchmark.
#[derive(Debug, Default)]
pub struct ShellStats {
    pub legs_alive: AtomicUsize,
    pub ports_in_use: AtomicUsize,
    pub transactions_alive: AtomicUsize,
    pub media_sockets_open: AtomicUsize,
    pub rtp_packets_relayed: AtomicU64,
    /// Prompt frames sent (greetings, music on hold).
    pub rtp_packets_played: AtomicU64,
    pub prompts_playing: AtomicUsize,
    /// RFC 4733 packets sent for key presses.
    pub dtmf_packets_sent: AtomicU64,
    pub rtcp_packets_sent: AtomicU64,
    pub rtcp_packets_received: AtomicU64,
    pub rtp_packets_received: AtomicU64,
    pub sip_datagrams_received: AtomicU64,
    pub tcp_connections: AtomicUsize,
    /// 1 while the trunk holds a live registration from us.
    pub trunk_registered: AtomicUsize,
}

impl ShellStats {
    pub fn get(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::Relaxed)
    }
}

/// Media events from the relay tasks to the network.
#[derive(Clone, Copy, Debug)]
enum MediaEvent {
    Silent(LegId),
    BindFailed(LegId),
    Dtmf(LegId, char),
    /// Machine detection's outcome: `true` for a machine.
    Machine(LegId, bool),
}

/// Replaces the agents' phone accounts of a running shell (users are created at run time).
#[derive(Clone)]
pub struct AccountsHandle(mpsc::Sender<Vec<SipAccount>>);

impl AccountsHandle {
    pub async fn set(&self, accounts: Vec<SipAccount>) -> bool {
        self.0.send(accounts).await.is_ok()
    }
}

pub struct SipShell {
    commands: mpsc::Sender<TelCommand>,
    accounts: AccountsHandle,
    events: mpsc::Receiver<NetEvent>,
    registered: watch::Receiver<Vec<AgentId>>,
    stats: Arc<ShellStats>,
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

pub fn clock() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(ms)
}

impl SipShell {
    /// Binds the SIP socket and starts the shell task.
    pub async fn start(config: SipConfig) -> std::io::Result<SipShell> {
        let (socket, listener) = bind(config.signal_addr).await?;
        let local_addr = socket.local_addr()?;
        let mut config = config;
        if config.signal_addr.port() == 0 {
            config.signal_addr = local_addr;
        }
        let (commands_tx, commands_rx) = mpsc::channel(COMMAND_QUEUE_MAX);
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE_MAX);
        let (registered_tx, registered_rx) = watch::channel(Vec::new());
        let stats = Arc::new(ShellStats::default());
        let (media_tx, media_rx) = mpsc::channel(EVENT_QUEUE_MAX);
        let prompts = PromptLibrary::new(config.prompts_dir.clone(), config.tts_cache_dir.clone());
        let relay = Relay::new(
            config.media_ip,
            config.rtp_timeout_ms,
            config.recordings_dir.clone(),
            config.amd,
            prompts,
            media_tx,
            stats.clone(),
        );
        let (tcp_tx, tcp_rx) = mpsc::channel(EVENT_QUEUE_MAX);
        let worker = Worker {
            net: SipNetwork::new(config),
            socket,
            listener,
            tcp: tcp::Connections::new(tcp_tx),
            relay,
            events: events_tx,
            registered: registered_tx,
            stats: stats.clone(),
        };
        let (accounts_tx, accounts_rx) = mpsc::channel(4);
        let task = tokio::spawn(worker.run(commands_rx, media_rx, accounts_rx, tcp_rx));
        Ok(SipShell {
            commands: commands_tx,
            accounts: AccountsHandle(accounts_tx),
            events: events_rx,
            registered: registered_rx,
            stats,
            local_addr,
            task,
        })
    }

    /// The SIP socket's address (useful when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Queues an engine command; waits if the shell is behind.
    pub async fn send(&self, command: TelCommand) -> bool {
        self.commands.send(command).await.is_ok()
    }

    /// The next network event; `None` once the shell has stopped.
    pub async fn recv(&mut self) -> Option<NetEvent> {
        self.events.recv().await
    }

    pub fn try_recv(&mut self) -> Option<NetEvent> {
        self.events.try_recv().ok()
    }

    pub fn accounts(&self) -> AccountsHandle {
        self.accounts.clone()
    }

    /// Agents whose phones are registered now.
    pub fn registered(&self) -> watch::Receiver<Vec<AgentId>> {
        self.registered.clone()
    }

    pub fn stats(&self) -> Arc<ShellStats> {
        self.stats.clone()
    }
}

/// The UDP socket and the TCP listener on the same address and port, as phones and trunks
/// expect. With port 0 the system picks a UDP port that may be taken for TCP: try a few.
async fn bind(addr: SocketAddr) -> std::io::Result<(UdpSocket, tokio::net::TcpListener)> {
    const ATTEMPTS_MAX: u32 = 20;
    let mut attempt = 0;
    loop {
        let socket = UdpSocket::bind(addr).await?;
        let local = socket.local_addr()?;
        match tokio::net::TcpListener::bind(local).await {
            Ok(listener) => return Ok((socket, listener)),
            Err(error) if addr.port() == 0 && attempt + 1 < ATTEMPTS_MAX => {
                tracing::debug!(%error, port = local.port(), "TCP port taken; trying another");
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

impl Drop for SipShell {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Worker {
    net: SipNetwork,
    socket: UdpSocket,
    listener: tokio::net::TcpListener,
    tcp: tcp::Connections,
    relay: Relay,
    events: mpsc::Sender<NetEvent>,
    registered: watch::Sender<Vec<AgentId>>,
    stats: Arc<ShellStats>,
}

impl Worker {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<TelCommand>,
        mut media: mpsc::Receiver<MediaEvent>,
        mut accounts: mpsc::Receiver<Vec<SipAccount>>,
        mut tcp_inputs: mpsc::Receiver<tcp::TcpInput>,
    ) {
        let mut buf = vec![0u8; DATAGRAM_BYTES_MAX];
        loop {
            if !self.flush().await {
                return;
            }
            let now = clock();
            let wait = self.net.poll_timeout().map_or(Duration::from_secs(1), |at| {
                Duration::from_millis(at.ms_since(now).min(1_000))
            });
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((len, from)) => {
                        self.stats.sip_datagrams_received.fetch_add(1, Ordering::Relaxed);
                        self.net.handle_datagram(clock(), from, &buf[..len]);
                    }
                    // ICMP port unreachable surfaces here on some systems; the transaction
                    // timers handle the silence.
                    Err(error) => tracing::debug!(%error, "SIP socket receive error"),
                },
                command = commands.recv() => match command {
                    Some(command) => self.net.handle_command(clock(), command),
                    None => return,
                },
                Some(list) = accounts.recv() => self.net.set_accounts(list),
                Some((stream, peer)) = tcp::accept(&self.listener) => {
                    self.tcp.accepted(stream, peer);
                }
                Some(input) = tcp_inputs.recv() => match input {
                    tcp::TcpInput::Message(peer, message) => {
                        self.net.handle_stream_message(clock(), peer, message);
                    }
                    tcp::TcpInput::Closed(peer) => self.tcp.closed(peer),
                },
                Some(event) = media.recv() => match event {
                    MediaEvent::Silent(leg) => self.net.handle_media_timeout(clock(), leg),
                    MediaEvent::BindFailed(leg) => self.net.handle_media_failure(clock(), leg),
                    MediaEvent::Dtmf(leg, digit) => self.net.handle_dtmf(leg, digit),
                    MediaEvent::Machine(leg, machine) => {
                        self.net.handle_machine_detection(leg, machine)
                    }
                },
                _ = tokio::time::sleep(wait) => self.net.handle_timeout(clock()),
            }
        }
    }

    /// Carries out everything the network asked for. `false` once the engine is gone.
    async fn flush(&mut self) -> bool {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.net.poll_transmit() {
                progressed = true;
                let peer = transmit.peer.addr;
                if transmit.peer.transport.is_reliable() {
                    self.tcp.send(peer, transmit.bytes);
                } else if let Err(error) = self.socket.send_to(&transmit.bytes, peer).await {
                    tracing::debug!(%error, %peer, "SIP send failed");
                }
            }
            while let Some(command) = self.net.poll_media() {
                progressed = true;
                self.relay.handle(command).await;
            }
            while let Some(event) = self.net.poll_event() {
                progressed = true;
                if self.events.send(event).await.is_err() {
                    return false;
                }
            }
            let mut registration_changed = false;
            while let Some(notice) = self.net.poll_notice() {
                progressed = true;
                registration_changed = true;
                tracing::info!(?notice, "agent phone registration");
            }
            if registration_changed {
                let _ = self.registered.send(self.net.registered_agents(clock()));
            }
            if !progressed {
                break;
            }
        }
        self.stats.legs_alive.store(self.net.legs_alive(), Ordering::Relaxed);
        self.stats.ports_in_use.store(self.net.ports_in_use(), Ordering::Relaxed);
        self.stats.transactions_alive.store(self.net.transactions_alive(), Ordering::Relaxed);
        self.stats.tcp_connections.store(self.tcp.len(), Ordering::Relaxed);
        let registered = usize::from(self.net.trunk_registered(clock()));
        self.stats.trunk_registered.store(registered, Ordering::Relaxed);
        true
    }
}
