//! How the API reaches the engine: closures run on the engine's own task, in order.

use domain::Timestamp;
use engine::{Center, EngineError, Input};
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// A closure the engine actor runs with exclusive access and the current time. It returns
/// the reply, which the actor sends only after the events it caused are committed.
pub type EngineRequest = Box<dyn FnOnce(&mut Center, Timestamp) -> EngineReply + Send>;

/// Sends a request's result to its caller.
pub type EngineReply = Box<dyn FnOnce() + Send>;

/// Requests waiting for the engine at most; beyond, callers get 503.
pub const ENGINE_INBOX_MAX: usize = 4_096;

#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<EngineRequest>,
}

impl EngineHandle {
    pub fn channel() -> (EngineHandle, mpsc::Receiver<EngineRequest>) {
        let (tx, rx) = mpsc::channel(ENGINE_INBOX_MAX);
        (EngineHandle { tx }, rx)
    }

    /// Runs `f` on the engine and returns its result.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Center, Timestamp) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, rx) = oneshot::channel();
        let request: EngineRequest = Box::new(move |center, now| {
            let result = f(center, now);
            Box::new(move || {
                let _ = reply.send(result);
            })
        });
        self.tx.try_send(request).map_err(|_| ApiError::Unavailable("engine is busy".into()))?;
        rx.await.map_err(|_| ApiError::Unavailable("engine stopped".into()))
    }

    /// Feeds one input; engine errors become API errors.
    pub async fn input(&self, input: Input) -> Result<(), ApiError> {
        self.call(move |c, now| c.handle_input(now, input))
            .await?
            .map_err(|e: EngineError| ApiError::from(e))
    }
}
