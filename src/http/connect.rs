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
use crate::invocations::PriceTable;
use crate::telemetry::Telemetry;

/// The senders the page always lists (the `source` their calls are stored with).
pub(super) const AGENT_SOURCES: [&str; 3] = ["claude-code", "codex", "gemini-cli"];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/connect", get(connect))
}

async fn connect(State(state): State<AppState>) -> Json<ConnectInfo> {
    Json(
        build(
            &state.telemetry,
            endpoint_of(&state),
            state.auth.required(),
            &state.prices,
        )
        .await,
    )
}

/// Where agents export to: this server's public origin (else its address) and its path.
pub(super) fn endpoint_of(state: &AppState) -> String {
    format!("{}{}", state.endpoint, state.home)
}

/// The page's data; without the telemetry database the sources are empty and say why.
pub(super) async fn build(
    telemetry: &Telemetry,
    endpoint: String,
    token_required: bool,
    prices: &PriceTable,
) -> ConnectInfo {
    let (sources, telemetry_error) = match telemetry.sources_seen(&AGENT_SOURCES, Utc::now()).await
    {
        Ok(sources) => (sources, None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    ConnectInfo {
        endpoint,
        token_required,
        prices: PriceSource {
            source: prices.source.clone(),
            fetched: prices.fetched.clone(),
            models: prices.len() as u64,
        },
        sources,
        telemetry_error,
    }
}
