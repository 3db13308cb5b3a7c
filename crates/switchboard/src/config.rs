//! Configuration: defaults, then a TOML file, then `SWITCHBOARD_` environment variables
//! (`SWITCHBOARD_SERVER__LISTEN=...`). Unknown keys are an error.

use std::path::Path;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub telephony: TelephonyConfig,
    pub engine: EngineConfig,
    pub limits: LimitsConfig,
    pub notify: NotifyConfig,
}

/// `[notify]`: how campaign actions reach people and systems.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// The HMAC-SHA256 key of webhooks whose campaign sets none (16+ characters). A secret.
    pub webhook_secret: notify::Secret,
    pub webhook_timeout_ms: u64,
    pub sms: SmsSection,
}

/// `[notify.sms]`: the SMS driver.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSection {
    /// "log" (writes to the log; the default) or "http" (a gateway at `url`).
    pub driver: String,
    /// The gateway's endpoint, which gets one POST per message.
    pub url: String,
    /// Sent as `Authorization: Bearer <token>`; empty: none. A secret.
    pub token: notify::Secret,
    /// "json" or "form" (`to`, `text`, `from`, `reference` fields).
    pub format: String,
    /// Sender name or number; empty: the gateway's default.
    pub from: String,
    pub timeout_ms: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            webhook_secret: notify::Secret::default(),
            webhook_timeout_ms: 10_000,
            sms: SmsSection::default(),
        }
    }
}

impl Default for SmsSection {
    fn default() -> Self {
        SmsSection {
            driver: "log".into(),
            url: String::new(),
            token: notify::Secret::default(),
            format: "json".into(),
            from: String::new(),
            timeout_ms: 10_000,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub callbacks_per_ip_per_minute: u32,
    pub callbacks_per_phone_per_hour: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { callbacks_per_ip_per_minute: 10, callbacks_per_phone_per_hour: 5 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    /// Prometheus `/metrics`; empty disables it.
    pub metrics_listen: String,
    pub secure_cookies: bool,
    /// If the store has no users, an `admin` user is created with this password. A secret:
    /// never logged.
    pub bootstrap_admin_password: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://...`. A secret when it holds a password.
    pub url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TelephonyConfig {
    /// "simulated" (the demo's network) or "sip" (real phones and a trunk, see `sip`).
    pub network: String,
    pub seed: u64,
    pub answer_probability: f64,
    pub ring_ms: [u64; 2],
    pub agent_answer_ms: u64,
    /// Customers hang up after this much talk; absent: they wait for the agent.
    pub talk_ms: Option<[u64; 2]>,
    pub reject_ms: u64,
    /// Simulated network: answered numbers ending so are answering machines.
    pub machine_suffixes: Vec<String>,
    /// Simulated network: answered numbers ending in a key press its value's keys
    /// (`{ "61" = "1" }`), one every `key_ms`.
    pub key_presses: std::collections::BTreeMap<String, String>,
    pub key_ms: u64,
    pub sip: SipSection,
}

/// `[telephony.sip]`: used when `telephony.network = "sip"`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SipSection {
    /// UDP address for SIP; also advertised in Via and Contact, so not 0.0.0.0.
    pub listen: String,
    /// Address for RTP in our SDP; empty: the listen address.
    pub media_ip: String,
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Digest realm for agent phones.
    pub realm: String,
    /// Where call recordings go; empty: calls are not recorded.
    pub recordings_dir: String,
    pub rtp_timeout_ms: u64,
    pub invites_per_second_max: u32,
    pub legs_max: usize,
    pub trunk: Option<TrunkSection>,
    /// Agents' phone accounts: `{ login = "alice", password = "..." }`; the phone registers
    /// as `username` (default: the login).
    pub accounts: Vec<AccountSection>,
    /// WAV prompts named in `inbound` (greetings, hold music); empty: only `tts:` prompts.
    pub prompts_dir: String,
    /// Where `tts:` prompts are cached; empty: a directory under the system's temp dir.
    pub tts_cache_dir: String,
    /// Routes for calls arriving from the trunk.
    pub inbound: Vec<InboundSection>,
    /// Answering-machine detection thresholds (campaigns with `detect_machine`).
    pub amd: AmdSection,
}

/// `[telephony.sip.amd]`: answering-machine detection (see `media::amd`); the defaults are
/// `media::amd::AmdConfig::default()`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AmdSection {
    /// RMS (16-bit units) from which a 20 ms frame is voice.
    pub voice_rms_min: f64,
    pub word_ms_min: u64,
    pub between_words_silence_ms: u64,
    /// No word for this long after the answer: a machine.
    pub initial_silence_ms_max: u64,
    /// A greeting longer than this: a machine.
    pub greeting_ms_max: u64,
    /// More words than this: a machine.
    pub words_max: u32,
    /// Silence this long after a short greeting: a person.
    pub after_greeting_silence_ms: u64,
    /// No decision after this much audio: a person.
    pub total_ms_max: u64,
    /// A machine's greeting is over after this much silence...
    pub greeting_end_silence_ms: u64,
    /// ...or this long after the verdict.
    pub greeting_end_ms_max: u64,
}

impl Default for AmdSection {
    fn default() -> Self {
        let d = media::amd::AmdConfig::default();
        AmdSection {
            voice_rms_min: d.voice_rms_min,
            word_ms_min: d.word_ms_min,
            between_words_silence_ms: d.between_words_silence_ms,
            initial_silence_ms_max: d.initial_silence_ms_max,
            greeting_ms_max: d.greeting_ms_max,
            words_max: d.words_max,
            after_greeting_silence_ms: d.after_greeting_silence_ms,
            total_ms_max: d.total_ms_max,
            greeting_end_silence_ms: d.greeting_end_silence_ms,
            greeting_end_ms_max: d.greeting_end_ms_max,
        }
    }
}

impl AmdSection {
    /// The detector's config, validated.
    pub fn to_config(&self) -> anyhow::Result<media::amd::AmdConfig> {
        let config = media::amd::AmdConfig {
            voice_rms_min: self.voice_rms_min,
            word_ms_min: self.word_ms_min,
            between_words_silence_ms: self.between_words_silence_ms,
            initial_silence_ms_max: self.initial_silence_ms_max,
            greeting_ms_max: self.greeting_ms_max,
            words_max: self.words_max,
            after_greeting_silence_ms: self.after_greeting_silence_ms,
            total_ms_max: self.total_ms_max,
            greeting_end_silence_ms: self.greeting_end_silence_ms,
            greeting_end_ms_max: self.greeting_end_ms_max,
        };
        config.validate().context("telephony.sip.amd")?;
        Ok(config)
    }
}

/// `[[telephony.sip.inbound]]`: where calls to one dialed number go.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InboundSection {
    /// The dialed number (Request-URI user) this route serves; absent: any.
    #[serde(default)]
    pub dialed: Option<String>,
    /// A WAV file in `prompts_dir`, or `tts:<language>:<text>`; it should announce the menu.
    #[serde(default)]
    pub greeting: Option<String>,
    /// Key to queue name: `{ "1" = "Sales", "2" = "Support" }`. Empty: straight to `queue`.
    #[serde(default)]
    pub menu: std::collections::BTreeMap<String, String>,
    /// Queue name for calls without a menu, an unknown key, or no key before the timeout.
    pub queue: String,
    #[serde(default = "default_menu_timeout_ms")]
    pub menu_timeout_ms: u64,
    /// Looped while the caller waits.
    #[serde(default)]
    pub hold_prompt: Option<String>,
    /// Task priority; keep it above the queue's callback priority so callers come first.
    #[serde(default = "default_inbound_priority")]
    pub priority: i32,
}

fn default_menu_timeout_ms() -> u64 {
    8_000
}

fn default_inbound_priority() -> i32 {
    100
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrunkSection {
    /// `host:port` of the carrier's SIP proxy.
    pub proxy: String,
    /// Host part of the Request-URI; default: the proxy's host.
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub caller_id: Option<String>,
    /// "e164" (+4915...) or "e164_no_plus" (4915...).
    #[serde(default = "default_number_format")]
    pub number_format: String,
    /// "udp" or "tcp".
    #[serde(default = "default_transport")]
    pub transport: String,
    /// Register with the carrier for this many seconds; absent: no registration.
    #[serde(default)]
    pub register_expires_s: Option<u32>,
}

fn default_transport() -> String {
    "udp".into()
}

fn default_number_format() -> String {
    "e164".into()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountSection {
    /// The console login of the agent who owns the phone.
    pub login: String,
    #[serde(default)]
    pub username: Option<String>,
    pub password: String,
}

impl Default for SipSection {
    fn default() -> Self {
        SipSection {
            listen: "127.0.0.1:5060".into(),
            media_ip: String::new(),
            rtp_port_min: 20_000,
            rtp_port_max: 29_998,
            realm: "switchboard".into(),
            recordings_dir: "recordings".into(),
            rtp_timeout_ms: 30_000,
            invites_per_second_max: 200,
            legs_max: 2_000,
            trunk: None,
            accounts: Vec::new(),
            prompts_dir: String::new(),
            tts_cache_dir: String::new(),
            inbound: Vec::new(),
            amd: AmdSection::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    pub missed_offers_max: u32,
    pub agent_ring_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig::default(),
            database: DatabaseConfig { url: "sqlite://switchboard.db".into() },
            telephony: TelephonyConfig::default(),
            engine: EngineConfig::default(),
            limits: LimitsConfig::default(),
            notify: NotifyConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: "127.0.0.1:9090".into(),
            secure_cookies: false,
            bootstrap_admin_password: None,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: "sqlite://switchboard.db".into() }
    }
}

impl Default for TelephonyConfig {
    fn default() -> Self {
        let demo = telephony::SimConfig::demo(1);
        TelephonyConfig {
            network: "simulated".into(),
            seed: demo.seed,
            answer_probability: demo.answer_probability,
            ring_ms: [demo.ring_ms.0, demo.ring_ms.1],
            agent_answer_ms: demo.agent_answer_ms,
            talk_ms: demo.talk_ms.map(|(a, b)| [a, b]),
            reject_ms: demo.reject_ms,
            machine_suffixes: demo.machine_suffixes,
            key_presses: demo.key_presses.into_iter().collect(),
            key_ms: demo.key_ms,
            sip: SipSection::default(),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { missed_offers_max: 3, agent_ring_ms: 15_000 }
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            anyhow::ensure!(f.is_file(), "config file {} does not exist", f.display());
            fig = fig.merge(Toml::file(f));
        }
        let config: Config = fig.merge(Self::env()).extract().context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// `SWITCHBOARD_SECTION__KEY` variables. Names without `__` (`SWITCHBOARD_LOG`, test
    /// settings) are not configuration and are left alone.
    fn env() -> Env {
        Env::prefixed("SWITCHBOARD_").filter(|k| k.as_str().contains("__")).split("__")
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let t = &self.telephony;
        anyhow::ensure!(
            t.network == "simulated" || t.network == "sip",
            "telephony.network: \"simulated\" or \"sip\""
        );
        if t.network == "sip" {
            self.sip_base().context("telephony.sip")?;
        }
        anyhow::ensure!(
            (0.0..=1.0).contains(&t.answer_probability),
            "telephony.answer_probability: between 0 and 1"
        );
        anyhow::ensure!(t.ring_ms[0] <= t.ring_ms[1], "telephony.ring_ms: [min, max]");
        let suffix_ok =
            |s: &String| (1..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        for s in &t.machine_suffixes {
            anyhow::ensure!(suffix_ok(s), "telephony.machine_suffixes: {s:?} is not 1-15 digits");
        }
        for (s, keys) in &t.key_presses {
            anyhow::ensure!(suffix_ok(s), "telephony.key_presses: {s:?} is not 1-15 digits");
            let keys_ok = (1..=domain::telephony::DTMF_DIGITS_MAX).contains(&keys.len())
                && keys.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#');
            anyhow::ensure!(keys_ok, "telephony.key_presses.{s}: 1-32 keys of 0-9 * #");
        }
        anyhow::ensure!(self.engine.agent_ring_ms >= 1_000, "engine.agent_ring_ms: at least 1000");
        let n = &self.notify;
        let secret = n.webhook_secret.expose();
        anyhow::ensure!(
            secret.is_empty() || (16..=2_048).contains(&secret.len()),
            "notify.webhook_secret: 16 to 2048 characters (or empty)"
        );
        anyhow::ensure!(
            (100..=120_000).contains(&n.webhook_timeout_ms),
            "notify.webhook_timeout_ms: 100 to 120000"
        );
        anyhow::ensure!(
            (100..=120_000).contains(&n.sms.timeout_ms),
            "notify.sms.timeout_ms: 100 to 120000"
        );
        anyhow::ensure!(
            n.sms.format == "json" || n.sms.format == "form",
            "notify.sms.format: \"json\" or \"form\""
        );
        match n.sms.driver.as_str() {
            "log" => {}
            "http" => anyhow::ensure!(
                n.sms.url.starts_with("http://") || n.sms.url.starts_with("https://"),
                "notify.sms.url: the gateway's http:// or https:// URL"
            ),
            _ => anyhow::bail!("notify.sms.driver: \"log\" or \"http\""),
        }
        let l = &self.limits;
        anyhow::ensure!(
            l.callbacks_per_ip_per_minute >= 1,
            "limits.callbacks_per_ip_per_minute: at least 1"
        );
        anyhow::ensure!(
            l.callbacks_per_phone_per_hour >= 1,
            "limits.callbacks_per_phone_per_hour: at least 1"
        );
        Ok(())
    }

    /// The SIP network's settings, without the accounts (those need user ids from the store).
    pub fn sip_base(&self) -> anyhow::Result<telephony::SipConfig> {
        use telephony::sipnet::{NumberFormat, TrunkConfig};
        let s = &self.telephony.sip;
        let listen: std::net::SocketAddr = s.listen.parse().context("listen: not host:port")?;
        anyhow::ensure!(!listen.ip().is_unspecified(), "listen: give the address phones reach");
        let mut config = telephony::SipConfig::local(listen, self.telephony.seed ^ random_u64());
        if !s.media_ip.is_empty() {
            config.media_ip = s.media_ip.parse().context("media_ip: not an IP address")?;
        }
        anyhow::ensure!(
            s.rtp_port_min >= 1_024 && s.rtp_port_min + 2 <= s.rtp_port_max,
            "rtp_port_min..rtp_port_max: a range above 1023 with room for a call"
        );
        config.rtp_port_min = s.rtp_port_min;
        config.rtp_port_max = s.rtp_port_max;
        config.realm = s.realm.clone();
        config.rtp_timeout_ms = s.rtp_timeout_ms.max(5_000);
        config.invites_per_second_max = s.invites_per_second_max.max(1);
        config.legs_max = s.legs_max.clamp(2, 100_000);
        config.amd = s.amd.to_config()?;
        config.nonce_secret = format!("{:x}{:x}", random_u64(), random_u64());
        config.recordings_dir =
            (!s.recordings_dir.is_empty()).then(|| std::path::PathBuf::from(&s.recordings_dir));
        config.prompts_dir =
            (!s.prompts_dir.is_empty()).then(|| std::path::PathBuf::from(&s.prompts_dir));
        if !s.tts_cache_dir.is_empty() {
            config.tts_cache_dir = std::path::PathBuf::from(&s.tts_cache_dir);
        }
        for (i, route) in s.inbound.iter().enumerate() {
            for key in route.menu.keys() {
                let ok = key.len() == 1 && key.chars().all(|c| "0123456789*#".contains(c));
                anyhow::ensure!(ok, "inbound[{i}].menu: key {key:?} is not one of 0-9 * #");
            }
            anyhow::ensure!(
                (1_000..=120_000).contains(&route.menu_timeout_ms),
                "inbound[{i}].menu_timeout_ms: 1000 to 120000"
            );
        }
        if let Some(t) = &s.trunk {
            let proxy: std::net::SocketAddr =
                t.proxy.parse().context("trunk.proxy: not host:port")?;
            let number_format = match t.number_format.as_str() {
                "e164" => NumberFormat::E164,
                "e164_no_plus" => NumberFormat::E164NoPlus,
                _ => anyhow::bail!("trunk.number_format: \"e164\" or \"e164_no_plus\""),
            };
            config.trunk = Some(TrunkConfig {
                proxy,
                domain: t.domain.clone().unwrap_or_else(|| proxy.ip().to_string()),
                username: t.username.clone(),
                password: t.password.clone(),
                caller_id: t.caller_id.clone(),
                number_format,
                transport: match t.transport.as_str() {
                    "udp" => telephony::sipnet::Transport::Udp,
                    "tcp" => telephony::sipnet::Transport::Tcp,
                    _ => anyhow::bail!("trunk.transport: \"udp\" or \"tcp\""),
                },
                register_expires_s: t.register_expires_s.map(|s| s.clamp(60, 86_400)),
            });
        }
        for (i, a) in s.accounts.iter().enumerate() {
            anyhow::ensure!(a.password.len() >= 8, "accounts[{i}].password: at least 8 characters");
        }
        Ok(config)
    }

    pub fn sim(&self) -> telephony::SimConfig {
        let t = &self.telephony;
        telephony::SimConfig {
            seed: t.seed,
            answer_probability: t.answer_probability,
            ring_ms: (t.ring_ms[0], t.ring_ms[1]),
            agent_answer_ms: t.agent_answer_ms,
            talk_ms: t.talk_ms.map(|[a, b]| (a, b)),
            reject_ms: t.reject_ms,
            machine_suffixes: t.machine_suffixes.clone(),
            // Longest suffixes first, so the most specific rule wins.
            key_presses: {
                let mut rules: Vec<(String, String)> =
                    t.key_presses.iter().map(|(s, k)| (s.clone(), k.clone())).collect();
                rules.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
                rules
            },
            key_ms: t.key_ms,
        }
    }
}

/// A random number from the standard library's per-process hasher keys (seeded by the OS).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type.
    fn sip_section_with_trunk_accounts_and_inbound_routes_parses_and_is_checked() {
        figment::Jail::expect_with(|jail| {
            let text = r#"
                [telephony]
                network = "sip"
                [telephony.sip]
                listen = "127.0.0.1:5062"
                accounts = [ { login = "alice", password = "alice-phone-secret" } ]
                [telephony.sip.trunk]
                proxy = "127.0.0.1:5080"
                username = "acct"
                password = "secret"
                transport = "tcp"
                register_expires_s = 600
                [telephony.sip.amd]
                greeting_ms_max = 2000
                [[telephony.sip.inbound]]
                greeting = "tts:en:Press 1 for orders."
                menu = { "1" = "Orders" }
                queue = "Orders"
            "#;
            jail.create_file("sip.toml", text)?;
            let c = Config::load(Some(Path::new("sip.toml"))).expect("valid");
            let sip = c.sip_base().expect("builds");
            let trunk = sip.trunk.expect("a trunk");
            assert_eq!(trunk.transport, telephony::sipnet::Transport::Tcp);
            assert_eq!((trunk.domain.as_str(), trunk.register_expires_s), ("127.0.0.1", Some(600)));
            assert_eq!(c.telephony.sip.inbound[0].menu_timeout_ms, 8_000);
            let amd = media::amd::AmdConfig { greeting_ms_max: 2_000, ..Default::default() };
            assert_eq!(sip.amd, amd, "set keys override, the rest keep their defaults");
            jail.create_file("amd.toml", &text.replace("greeting_ms_max = 2000", "words_max = 0"))?;
            let err = Config::load(Some(Path::new("amd.toml"))).expect_err("no words allowed");
            assert!(format!("{err:#}").contains("telephony.sip.amd"), "{err:#}");
            jail.create_file("bad.toml", &text.replace("\"1\" = ", "\"x\" = "))?;
            let err = Config::load(Some(Path::new("bad.toml"))).expect_err("bad menu key");
            assert!(format!("{err:#}").contains("inbound[0].menu"), "{err:#}");
            jail.create_file("any.toml", &text.replace("127.0.0.1:5062", "0.0.0.0:5062"))?;
            let err = Config::load(Some(Path::new("any.toml"))).expect_err("unspecified");
            assert!(format!("{err:#}").contains("listen"), "{err:#}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type.
    fn file_and_env_layer_over_defaults_and_unknown_keys_fail() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("sb.toml", "[server]\nlisten = \"0.0.0.0:9000\"\n")?;
            jail.set_env("SWITCHBOARD_DATABASE__URL", "sqlite://x.db");
            let c = Config::load(Some(Path::new("sb.toml"))).expect("valid");
            assert_eq!(c.server.listen, "0.0.0.0:9000");
            assert_eq!(c.database.url, "sqlite://x.db");
            assert_eq!(c.engine, EngineConfig::default());
            jail.create_file("bad.toml", "[server]\nlisten = \"x\"\ncolour = \"blue\"\n")?;
            let err = Config::load(Some(Path::new("bad.toml"))).expect_err("unknown key");
            assert!(format!("{err:#}").contains("colour"), "{err:#}");
            jail.set_env("SWITCHBOARD_LOG", "debug");
            assert!(Config::load(None).is_ok(), "the log filter is not a config key");
            let sms = "[notify]\nwebhook_secret = \"0123456789abcdef\"\n[notify.sms]\n\
                       driver = \"http\"\nurl = \"https://sms.example/send\"\ntoken = \"t\"\n";
            jail.create_file("sms.toml", sms)?;
            let c = Config::load(Some(Path::new("sms.toml"))).expect("valid");
            assert_eq!(
                (c.notify.sms.driver.as_str(), c.notify.sms.format.as_str()),
                ("http", "json")
            );
            assert!(!format!("{c:?}").contains("0123456789abcdef"), "secrets are redacted");
            jail.create_file("sms2.toml", &format!("{sms}retries = 3\n"))?;
            let err = Config::load(Some(Path::new("sms2.toml"))).expect_err("unknown key");
            assert!(format!("{err:#}").contains("retries"), "{err:#}");
            jail.create_file("sms3.toml", &sms.replace("https://sms.example/send", ""))?;
            let err = Config::load(Some(Path::new("sms3.toml"))).expect_err("no url");
            assert!(format!("{err:#}").contains("notify.sms.url"), "{err:#}");
            jail.set_env("SWITCHBOARD_SERVER__NOPE", "1");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }
}
