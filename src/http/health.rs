//! `/health`: whether the server runs, and a few figures about it (never behind a token).
//! `status` is `starting` while the board is read for the first time (with `startup:
//! {files_read, files_total}`), then `ok`, or `degraded` when a part does not work: `telemetry`
//! then says which kind of database problem (`missing`, `corrupt`, `read-only`, `locked`,
//! `unreadable`) and the message.
//! Always `200`: the server itself answers; a load balancer that wants more reads `status`.
//! With a token configured, a request without it is not told where the database is.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;
use crate::telemetry::DatabaseProblem;
use app::model::ScanProgress;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

#[derive(Serialize)]
struct Health {
    service: &'static str,
    status: &'static str,
    /// While the board is read for the first time.
    #[serde(skip_serializing_if = "Option::is_none")]
    startup: Option<ScanProgress>,
    telemetry: TelemetryHealth,
    version: &'static str,
    uptime_seconds: u64,
    seq: u64,
    clients: usize,
    timestamp: String,
}

#[derive(Serialize)]
struct TelemetryHealth {
    status: &'static str,
    /// The database's location (left out for a request without the token, when one is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    problem: Option<DatabaseProblem>,
}

async fn health(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Json<Health> {
    let mut problem = state.telemetry.check().await;
    let location = state.telemetry.location().to_string();
    let shown = state.auth.admits(&headers);
    if !shown {
        if let Some(problem) = &mut problem {
            problem.message = problem.message.replace(&location, "the database");
        }
    }
    let telemetry_status = if problem.is_some() { "degraded" } else { "ok" };
    let startup = state.board.startup().progress();
    let status = if startup.is_some() {
        "starting"
    } else {
        telemetry_status
    };
    Json(Health {
        service: "execdash",
        status,
        startup,
        telemetry: TelemetryHealth {
            status: telemetry_status,
            path: shown.then_some(location),
            problem,
        },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        seq: state.board.seq(),
        clients: state.metrics.sockets.open_now(),
        timestamp: super::now_iso(),
    })
}
