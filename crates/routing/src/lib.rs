//! Automatic contact distribution (ACD), sans-I/O.
//!
//! The [`Router`] holds queues, agents and tasks. Callers feed it inputs (`handle_*`, each with
//! `now`), then drain [`Router::poll_event`] and ask [`Router::poll_timeout`] when to call
//! [`Router::handle_timeout`] next.
//!
//! Architecture Invariant: no I/O, no clock, no randomness. Time is an argument.
//!
//! # Behaviour the API leaves open, decided here
//! - Order: effective priority `priority + waited / aging_ms_per_level`, exact (no rounding),
//!   then older, then enqueued first. Across queues it is compared at the decision's `now`.
//! - A new agent starts Offline. A profile may list only known queues; capacity may not drop
//!   below the current load. Available after Offline or Break restarts the agent's idle time
//!   and its missed-offer count; after after-call work it keeps idle time from the release.
//! - A rejected or timed-out task keeps its place and goes to another free eligible agent
//!   first; back to the same agent only when nobody else is free. The missed-offer break
//!   revokes the agent's other open offers.
//! - Release of a voice task starts wrap-up only if the agent is Available (or extends one
//!   already running); an agent on break or offline stays so.
//! - Overflow: see the `overflow` module (one step per task per `handle_timeout`; a step due
//!   while offered applies once the task waits again; a move into a full queue is skipped).
//! - [`Router::upsert_queue`] has no `now`: the matching it enables happens at the next input,
//!   and [`Router::poll_timeout`] asks for one at once.
//!
//! # Code map
//! - `config`, `event`, `error`, `view`: the public vocabulary (inputs, outputs, getters).
//! - `router`: the state and the pending-work plumbing shared by every input.
//! - `task`: enqueue, cancel, release; a task entering and leaving its queue's order.
//!   `task_table` stores tasks densely.
//! - `queue`: per-queue `partition`s of waiting tasks by requirement `signature`, each ordered by
//!   the static key from `aging`; overflow stages; the `free_index` of agents in strategy order.
//!   `sorted_deque` is the ordered set behind them (and offer timers) for keys that mostly
//!   arrive in order. `queue_table` stores queues densely.
//! - `agent`: profiles, status, load, and the agents' entries in the free indexes.
//!   `agent_table` stores agents densely.
//! - `offer`: offering, accepting, rejecting, revoking; missed-offer counting. `offer_table`
//!   stores open offers densely.
//! - `matching`: restores "no waiting task has a free eligible agent" after each input.
//! - `overflow`, `timers`: time-driven steps (overflow, offer expiry, end of after-call work).
//! - `invariants`: [`Router::check_invariants`], the full recount used by tests.
//! - `limits`: bounds only the router needs; `validate` checks configuration against them.
//! - `small_list`: short lists kept inside their owner (an agent's skills and offers).
//! - `id_hash`: hashing of ids, and the `SlotIndex` from id to slot behind the dense tables.

mod agent;
mod agent_table;
mod aging;
mod config;
mod error;
mod event;
mod free_index;
mod id_hash;
mod invariants;
pub mod limits;
mod matching;
mod offer;
mod offer_table;
mod overflow;
mod partition;
mod queue;
mod queue_table;
mod router;
mod signature;
mod small_list;
mod sorted_deque;
mod task;
mod task_table;
mod timers;
mod validate;
mod view;

pub use config::{
    AgentProfile, OverflowAction, OverflowRule, QueueConfig, RouterConfig, Strategy, TaskSpec,
    MISSED_OFFERS_REASON,
};
pub use error::RoutingError;
pub use event::{OfferEnd, RoutingEvent};
pub use router::Router;
pub use view::{AgentStatus, AgentView, QueueSnapshot, TaskState, TaskView};
