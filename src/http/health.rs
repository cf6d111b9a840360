//! `/health`: whether the server runs, and a few figures about it (never behind a token).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

#[derive(Serialize)]
struct Health {
    service: &'static str,
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
    seq: u64,
    clients: usize,
    timestamp: String,
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        service: "execdash",
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        seq: state.board.seq(),
        clients: state.board.subscribers(),
        timestamp: super::now_iso(),
    })
}
