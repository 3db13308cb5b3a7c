//! Pure vocabulary shared by every Switchboard crate: identifiers, time as an explicit value,
//! channels, skills, priorities, E.164 phone numbers, personal-data redaction and limits.
//!
//! Architecture Invariant: this crate does no I/O and never reads a clock.

pub mod campaign;
pub mod channel;
pub mod event;
pub mod ids;
pub mod limits;
pub mod phone;
pub mod pii;
pub mod skill;
pub mod telephony;
pub mod time;

pub use channel::Channel;
pub use ids::*;
pub use phone::{PhoneError, PhoneNumber};
pub use pii::Pii;
pub use skill::{SkillId, SkillLevel, SkillLevelError};
pub use time::Timestamp;
