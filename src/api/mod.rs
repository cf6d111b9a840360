//! The JSON API. Shapes of `/api/tasks` and `/api/stats` follow the original dashboard; every
//! answer comes from memory.

mod error;
mod health;
mod problems;
mod stats;
mod tasks;

use axum::routing::get;
use axum::Router;

use crate::server::AppState;

pub use error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/api/tasks", get(tasks::list))
        .route("/api/tasks/{id}", get(tasks::one))
        .route("/api/snapshot", get(tasks::snapshot))
        .route("/api/stats", get(stats::stats))
        .route("/api/problems", get(problems::list))
        .route("/api/{*rest}", axum::routing::any(error::not_found))
}

/// `/api/invocations` and `/api/costs` when the telemetry database could not be opened.
pub async fn telemetry_unavailable() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(
            serde_json::json!({ "error": "telemetry database unavailable; see the server log" }),
        ),
    )
        .into_response()
}

/// ISO 8601 UTC, for the `timestamp` fields.
pub fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
