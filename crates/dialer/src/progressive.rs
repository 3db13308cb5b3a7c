//! Progressive dialing: one outstanding dial per idle agent.

use crate::{Outcome, PacingPolicy, Snapshot};

#[derive(Clone, Debug, Default)]
pub struct Progressive;

impl Progressive {
    pub fn new() -> Progressive {
        Progressive
    }

    /// Dials that bring outstanding dials (and waiting calls) up to the idle agents.
    pub fn dials_for(snapshot: &Snapshot<'_>) -> u32 {
        let covered = snapshot.outstanding().saturating_add(snapshot.waiting_calls);
        snapshot.idle_agents.saturating_sub(covered)
    }
}

impl PacingPolicy for Progressive {
    fn name(&self) -> &'static str {
        "progressive"
    }

    fn handle_outcome(&mut self, _now_ms: u64, _outcome: Outcome) {}

    fn poll_dials(&mut self, snapshot: &Snapshot<'_>) -> u32 {
        Progressive::dials_for(snapshot)
    }
}
