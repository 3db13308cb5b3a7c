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
}

impl AppState {
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
        }
    }
}
