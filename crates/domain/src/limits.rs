//! Limits that more than one crate must agree on. Units come last in the name.

/// Raw phone input longer than this is rejected before parsing.
pub const PHONE_INPUT_BYTES_MAX: usize = 64;
/// Tasks waiting in one queue; enqueueing beyond this is refused (HTTP 503).
pub const QUEUE_DEPTH_MAX: usize = 200_000;
/// Tasks alive in the whole engine at once.
pub const TASKS_MAX: usize = 1_000_000;
/// Agents known to the engine.
pub const AGENTS_MAX: usize = 100_000;
/// Queues known to the engine.
pub const QUEUES_MAX: usize = 10_000;
/// Concurrent tasks one agent may hold on one channel (chat dialogs).
pub const CAPACITY_PER_CHANNEL_MAX: u32 = 16;
/// Skills one agent or task may list.
pub const SKILLS_PER_ENTITY_MAX: usize = 32;
/// Longest an offer may ring before it times out.
pub const OFFER_MS_MAX: u64 = 120_000;
/// Longest a customer leg may ring before the network gives up.
pub const RING_MS_MAX: u64 = 90_000;
/// Dial attempts for one callback request.
pub const CALLBACK_ATTEMPTS_MAX: u32 = 10;
/// Free-text fields (name, topic) in a public request.
pub const TEXT_FIELD_BYTES_MAX: usize = 200;
/// Page URL in a callback request.
pub const URL_BYTES_MAX: usize = 2_048;
/// Custom fields in one callback request.
pub const CUSTOM_FIELDS_MAX: usize = 20;
/// Whole body of a public HTTP request.
pub const PUBLIC_BODY_BYTES_MAX: usize = 16 * 1024;

const _: () = assert!(RING_MS_MAX < OFFER_MS_MAX);
const _: () = assert!(QUEUE_DEPTH_MAX <= TASKS_MAX);
