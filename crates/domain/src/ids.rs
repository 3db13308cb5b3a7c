//! Typed identifiers. Each is a plain `u64` so that engine tables stay compact and hashing is
//! cheap; the store hands out the values.

use std::fmt;

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident = $prefix:literal;)*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}

id_type! {
    /// A person who handles contacts (a user with the agent role or above).
    AgentId = "agent";
    /// A unit of routable work: a call, a callback, a chat.
    TaskId = "task";
    QueueId = "queue";
    DepartmentId = "dept";
    /// One offer of a task to an agent; a re-offer gets a new id.
    OfferId = "offer";
    /// One leg of a call (agent side or customer side).
    LegId = "leg";
    CallbackId = "cb";
    /// One attempt to connect a contact with an agent (for a callback: one dial attempt).
    InteractionId = "ix";
    UserId = "user";
    ScriptId = "script";
    WidgetId = "widget";
}
