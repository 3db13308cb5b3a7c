//! The agent table: agents in a dense Vec, found by id through a [`SlotIndex`].
//!
//! Agents are never removed. A release reaches an agent that has been busy for minutes, cold in
//! cache: the index reads one bucket line, where a map holding agents by value reads a control
//! group and then a wide bucket.

use domain::AgentId;

use crate::agent::Agent;
use crate::id_hash::SlotIndex;

#[derive(Default)]
pub(crate) struct AgentTable {
    index: SlotIndex<AgentId>,
    slots: Vec<Agent>,
}

impl AgentTable {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn get(&self, id: &AgentId) -> Option<&Agent> {
        Some(&self.slots[self.index.get(id)? as usize])
    }

    pub(crate) fn get_mut(&mut self, id: &AgentId) -> Option<&mut Agent> {
        Some(&mut self.slots[self.index.get(id)? as usize])
    }

    /// An agent by its slot (its `slot` field).
    pub(crate) fn at(&self, slot: u32) -> &Agent {
        &self.slots[slot as usize]
    }

    pub(crate) fn at_mut(&mut self, slot: u32) -> &mut Agent {
        &mut self.slots[slot as usize]
    }

    /// Adds an agent whose id is not in the table (checked by the caller), setting its `slot`.
    pub(crate) fn insert(&mut self, id: AgentId, mut agent: Agent) {
        // Agents are bounded by AGENTS_MAX, far below u32::MAX.
        let slot = u32::try_from(self.slots.len()).expect("agent slots fit u32");
        assert!(self.index.insert(id, slot).is_none(), "agent {id:?} inserted twice");
        agent.slot = slot;
        self.slots.push(agent);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (AgentId, &Agent)> {
        self.slots.iter().map(|a| (a.id, a))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Agent> {
        self.slots.iter()
    }
}
