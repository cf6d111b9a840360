//! `GET /api/connect`: what the "Connect your agents" page shows — the OTLP endpoint of this
//! server (its public URL, else the address it listens on, with the base path), whether a token
//! is needed, where prices come from, and what arrived from each coding agent (its latest call,
//! its calls today).

use app::model::{ConnectInfo, PriceSource};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;

use super::AppState;

/// The senders the page always lists (the `source` their calls are stored with).
pub(super) const AGENT_SOURCES: [&str; 3] = ["claude-code", "codex", "gemini-cli"];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/connect", get(connect))
}

async fn connect(State(state): State<AppState>) -> Json<ConnectInfo> {
    Json(build(&state).await)
}

/// The page's data; without the telemetry database the sources are empty and say why.
pub(super) async fn build(state: &AppState) -> ConnectInfo {
    let (sources, telemetry_error) = match state
        .telemetry
        .sources_seen(&AGENT_SOURCES, Utc::now())
        .await
    {
        Ok(sources) => (sources, None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    ConnectInfo {
        endpoint: format!("{}{}", state.endpoint, state.home),
        token_required: state.auth.required(),
        prices: PriceSource {
            source: state.prices.source.clone(),
            fetched: state.prices.fetched.clone(),
            models: state.prices.len() as u64,
        },
        sources,
        telemetry_error,
    }
}
