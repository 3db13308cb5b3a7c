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
    /// Only "simulated" for now; "sip" arrives with the SIP issue.
    pub network: String,
    pub seed: u64,
    pub answer_probability: f64,
    pub ring_ms: [u64; 2],
    pub agent_answer_ms: u64,
    /// Customers hang up after this much talk; absent: they wait for the agent.
    pub talk_ms: Option<[u64; 2]>,
    pub reject_ms: u64,
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
            t.network == "simulated",
            "telephony.network: only \"simulated\" is available"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&t.answer_probability),
            "telephony.answer_probability: between 0 and 1"
        );
        anyhow::ensure!(t.ring_ms[0] <= t.ring_ms[1], "telephony.ring_ms: [min, max]");
        anyhow::ensure!(self.engine.agent_ring_ms >= 1_000, "engine.agent_ring_ms: at least 1000");
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

    pub fn sim(&self) -> telephony::SimConfig {
        let t = &self.telephony;
        telephony::SimConfig {
            seed: t.seed,
            answer_probability: t.answer_probability,
            ring_ms: (t.ring_ms[0], t.ring_ms[1]),
            agent_answer_ms: t.agent_answer_ms,
            talk_ms: t.talk_ms.map(|[a, b]| (a, b)),
            reject_ms: t.reject_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            jail.set_env("SWITCHBOARD_SERVER__NOPE", "1");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }
}
