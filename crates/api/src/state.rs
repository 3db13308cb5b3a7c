//! Shared state of the HTTP handlers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::SkillId;
use engine::Notice;
use store::Store;
use tokio::sync::broadcast;

use crate::handle::EngineHandle;
use crate::metrics::Metrics;
use crate::ratelimit::{RateLimitConfig, RateLimits};

/// Interns skill names to the engine's compact ids. Names are case-insensitive.
#[derive(Clone, Default)]
pub struct SkillNames(Arc<Mutex<HashMap<String, u32>>>);

/// Distinct skill names at most.
pub const SKILL_NAMES_MAX: usize = 10_000;

impl SkillNames {
    pub fn id(&self, name: &str) -> Option<SkillId> {
        let key = name.trim().to_lowercase();
        // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = map.get(&key) {
            return Some(SkillId(*id));
        }
        if map.len() >= SKILL_NAMES_MAX {
            return None;
        }
        let id = map.len() as u32 + 1;
        map.insert(key, id);
        Some(SkillId(id))
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub engine: EngineHandle,
    pub notices: broadcast::Sender<Notice>,
    pub skills: SkillNames,
    pub metrics: Metrics,
    pub(crate) limits: RateLimits,
    /// Set the `Secure` flag on cookies (behind HTTPS).
    pub secure_cookies: bool,
    /// Agents whose SIP phones are registered; `None` on the simulated network.
    pub registered_phones: Option<tokio::sync::watch::Receiver<Vec<domain::AgentId>>>,
    /// Where call recordings are, named `interaction-<id>.wav`; `None`: no recordings.
    pub recordings_dir: Option<std::path::PathBuf>,
    /// The SIP prompts directory, where campaigns' recorded messages are stored.
    pub prompts_dir: Option<std::path::PathBuf>,
}

impl AppState {
    /// The agent's phone as the console shows it: `simulated`, `registered` or `unregistered`.
    pub fn phone_status(&self, agent: domain::AgentId) -> &'static str {
        match &self.registered_phones {
            None => "simulated",
            Some(phones) if phones.borrow().contains(&agent) => "registered",
            Some(_) => "unregistered",
        }
    }

    /// The recording file of an interaction, if one was written.
    pub fn recording_path(&self, interaction: i64) -> Option<std::path::PathBuf> {
        let path = self.recordings_dir.as_ref()?.join(format!("interaction-{interaction}.wav"));
        path.is_file().then_some(path)
    }

    pub fn new(
        store: Store,
        engine: EngineHandle,
        notices: broadcast::Sender<Notice>,
        secure_cookies: bool,
        limits: RateLimitConfig,
    ) -> AppState {
        AppState {
            store,
            engine,
            notices,
            skills: SkillNames::default(),
            metrics: Metrics::default(),
            limits: RateLimits::new(limits),
            secure_cookies,
            registered_phones: None,
            recordings_dir: None,
            prompts_dir: None,
        }
    }
}
