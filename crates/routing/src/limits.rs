//! Limits that only the router needs; shared ones live in [`domain::limits`]. Units come last.

use domain::limits::{QUEUES_MAX, SKILLS_PER_ENTITY_MAX, TEXT_FIELD_BYTES_MAX};

/// Overflow rules one queue may list.
pub const OVERFLOW_RULES_PER_QUEUE_MAX: usize = 16;
/// Distinct requirement signatures (queue skills merged with task skills) waiting in one queue.
/// A freed agent looks at the head of each, so this bounds the cost of one decision. Enforced
/// at enqueue; overflow and reconfiguration may go past it (they never refuse a task).
pub const SIGNATURES_PER_QUEUE_MAX: usize = 64;
/// Queues one agent may serve: a freed agent looks at each of them.
pub const QUEUES_PER_AGENT_MAX: usize = 256;
/// Departments one agent may belong to.
pub const DEPARTMENTS_PER_AGENT_MAX: usize = 64;
/// Agents remembered per task as having missed it, so that it goes to someone else first.
pub const MISSED_AGENTS_PER_TASK_MAX: usize = 4;
/// Aging step at most (about 49 days). Keeps the exact priority arithmetic inside `i128`.
pub const AGING_MS_PER_LEVEL_MAX: u64 = 1 << 32;
/// After-call work given on release at most.
pub const WRAP_UP_MS_MAX: u64 = 3_600_000;
/// Break reason text at most.
pub const BREAK_REASON_BYTES_MAX: usize = TEXT_FIELD_BYTES_MAX;

const _: () = assert!(SIGNATURES_PER_QUEUE_MAX >= 1);
const _: () = assert!(QUEUES_PER_AGENT_MAX <= QUEUES_MAX);
const _: () = assert!(MISSED_AGENTS_PER_TASK_MAX <= u8::MAX as usize);
// Effective priority compares (p * r + dt) * r' in i128: (2^31 * 2^32 + 2^64) * 2^32 < 2^127.
const _: () = assert!(AGING_MS_PER_LEVEL_MAX.ilog2() <= 32);
// A signature merges a queue's and a task's skill lists.
const _: () = assert!(2 * SKILLS_PER_ENTITY_MAX <= u8::MAX as usize);
