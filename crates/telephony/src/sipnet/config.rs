//! What the SIP network needs to know: where it listens, its trunk, its agents' accounts and
//! its limits. Built by the binary from its config file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use domain::AgentId;
use sip::transaction::TimerConfig;

#[derive(Clone, Debug)]
pub struct SipConfig {
    /// Where the SIP socket listens; also the address we advertise in Via and Contact.
    pub signal_addr: SocketAddr,
    /// The address put in our SDP for RTP.
    pub media_ip: IpAddr,
    /// RTP ports are taken from this inclusive range, even numbers only (RTCP is port + 1).
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Digest realm for agent phones.
    pub realm: String,
    pub trunk: Option<TrunkConfig>,
    pub accounts: Vec<SipAccount>,
    pub timers: TimerConfig,
    /// Transactions alive at once; requests beyond get 503.
    pub transactions_max: usize,
    /// Call legs alive at once; originates beyond fail, INVITEs beyond get 503.
    pub legs_max: usize,
    /// New inbound INVITEs accepted per second; a flood beyond gets 503.
    pub invites_per_second_max: u32,
    /// A call leg that sends no RTP for this long after answer is hung up.
    pub rtp_timeout_ms: u64,
    /// Where call recordings are written; `None` records nothing.
    pub recordings_dir: Option<PathBuf>,
    /// WAV prompts played by name (greetings, music on hold).
    pub prompts_dir: Option<PathBuf>,
    /// Where synthesized (`tts:`) prompts are cached.
    pub tts_cache_dir: PathBuf,
    /// Seeds tags, branches and Call-IDs.
    pub seed: u64,
    /// Keys registrar nonces; random at start.
    pub nonce_secret: String,
    /// Answering-machine detection thresholds, for calls whose originate asks for it.
    pub amd: media::amd::AmdConfig,
}

impl SipConfig {
    /// Defaults for a local setup: loopback, RFC timers, modest limits.
    pub fn local(signal_addr: SocketAddr, seed: u64) -> SipConfig {
        SipConfig {
            signal_addr,
            media_ip: signal_addr.ip(),
            rtp_port_min: 20_000,
            rtp_port_max: 29_998,
            realm: "switchboard".into(),
            trunk: None,
            accounts: Vec::new(),
            timers: TimerConfig::RFC3261,
            transactions_max: 10_000,
            legs_max: 2_000,
            invites_per_second_max: 200,
            rtp_timeout_ms: 30_000,
            recordings_dir: None,
            prompts_dir: None,
            tts_cache_dir: std::env::temp_dir().join("switchboard-tts"),
            seed,
            nonce_secret: format!("{seed:x}"),
            amd: media::amd::AmdConfig::default(),
        }
    }
}

/// A carrier or PBX we send customer calls to.
#[derive(Clone, Debug)]
pub struct TrunkConfig {
    /// Where requests go.
    pub proxy: SocketAddr,
    /// The host part of Request-URIs and To (the carrier's domain).
    pub domain: String,
    /// Credentials for the carrier's digest challenges, if it asks.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Our number as the carrier expects it, when the engine gives none.
    pub caller_id: Option<String>,
    pub number_format: NumberFormat,
    /// UDP, or TCP (one connection, opened on first use and reused).
    pub transport: sip::Transport,
    /// Register with the trunk for this many seconds (refreshed before it lapses); `None`:
    /// the carrier authenticates us by address and needs no registration.
    pub register_expires_s: Option<u32>,
}

/// How a customer's E.164 number is written in the Request-URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberFormat {
    /// `+4915112345678`
    E164,
    /// `4915112345678`
    E164NoPlus,
}

/// An agent's phone account: the phone registers as `username` with `password`.
#[derive(Clone, Debug)]
pub struct SipAccount {
    pub agent: AgentId,
    pub username: String,
    pub password: String,
}
