//! `GET /api/mcp/servers`: the repository's MCP servers, their health, tools and history, and
//! the called tools no healthy server offers (never a server's `env` values or headers).
//! `POST /api/mcp/servers/{name}/check`: a check now (202; for every user of the page, with the
//! Origin check and the token that apply to every POST).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{AppState, Error};
use crate::mcp::{CheckError, McpMonitor};
use app::model::McpOverview;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/mcp/servers", get(servers))
        .route("/api/mcp/servers/{name}/check", post(check_now))
}

async fn servers(State(state): State<AppState>) -> Json<McpOverview> {
    Json(build(&state).await)
}

/// The servers as the API and the page show them.
pub(super) async fn build(state: &AppState) -> McpOverview {
    McpOverview {
        controls: state.files.writable,
        ..state.mcp.overview().await
    }
}

async fn check_now(
    State(mcp): State<McpMonitor>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), Error> {
    mcp.check_now(&name).map_err(|error| match error {
        CheckError::Unknown(_) => Error::NotFound(error.to_string()),
    })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "queued": name })),
    ))
}
