//! Errors are caller input the router refuses; bugs are `assert!`s, never errors.

use domain::{AgentId, OfferId, QueueId, TaskId};
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RoutingError {
    #[error("unknown queue {0:?}")]
    UnknownQueue(QueueId),
    #[error("unknown agent {0:?}")]
    UnknownAgent(AgentId),
    #[error("unknown task {0:?}")]
    UnknownTask(TaskId),
    #[error("unknown or finished offer {0:?}")]
    UnknownOffer(OfferId),
    #[error("task {0:?} already exists")]
    DuplicateTask(TaskId),
    #[error("queue {0:?} is full")]
    QueueFull(QueueId),
    #[error("too many {0}")]
    TooMany(&'static str),
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    #[error("task {0:?} is not in a state that allows this")]
    WrongTaskState(TaskId),
}
