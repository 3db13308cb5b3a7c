//! A few Prometheus counters, rendered in the text exposition format.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

#[derive(Clone, Default)]
pub struct Metrics(Arc<Counters>);

#[derive(Default)]
pub struct Counters {
    pub callbacks_accepted: AtomicU64,
    pub callbacks_rejected: AtomicU64,
    pub callbacks_deduplicated: AtomicU64,
    pub logins_failed: AtomicU64,
    pub ws_connections: AtomicU64,
}

impl Metrics {
    pub fn counters(&self) -> &Counters {
        &self.0
    }
}

pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub(crate) async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let c = state.metrics.counters();
    let open = state.engine.call(|center, _| center.open_callbacks()).await.unwrap_or(0);
    let lines = [
        (
            "switchboard_callbacks_accepted_total",
            "counter",
            c.callbacks_accepted.load(Ordering::Relaxed),
        ),
        (
            "switchboard_callbacks_rejected_total",
            "counter",
            c.callbacks_rejected.load(Ordering::Relaxed),
        ),
        (
            "switchboard_callbacks_deduplicated_total",
            "counter",
            c.callbacks_deduplicated.load(Ordering::Relaxed),
        ),
        ("switchboard_logins_failed_total", "counter", c.logins_failed.load(Ordering::Relaxed)),
        ("switchboard_ws_connections_total", "counter", c.ws_connections.load(Ordering::Relaxed)),
        ("switchboard_callbacks_open", "gauge", open as u64),
    ];
    let mut body = String::new();
    for (name, kind, value) in lines {
        body.push_str(&format!("# TYPE {name} {kind}\n{name} {value}\n"));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
