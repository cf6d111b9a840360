//! `GET /api/mcp/servers`: the repository's MCP servers, their health, tools and history, and
//! the called tools no healthy server offers (never a server's `env` values or headers).
//! `POST /api/mcp/servers/{name}/check`: a check now (202; for every user of the page, with the
//! Origin check and the token that apply to every POST). `POST /api/mcp/servers/{name}/start`,
//! `…/stop`, `…/restart`: for the servers execdash runs (`--mcp-managed`), with `--allow-writes`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{AppState, Error};
use crate::mcp::{CheckError, Control};
use app::model::McpOverview;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/mcp/servers", get(servers))
        .route("/api/mcp/servers/{name}/{action}", post(act))
}

async fn servers(State(state): State<AppState>) -> Json<McpOverview> {
    Json(build(&state).await)
}

/// The servers as the API and the page show them.
pub(super) async fn build(state: &AppState) -> McpOverview {
    McpOverview {
        controls: state.files.writable && state.mcp.manages_any(),
        ..state.mcp.overview().await
    }
}

async fn act(
    State(state): State<AppState>,
    Path((name, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), Error> {
    let outcome = if action == "check" {
        state.mcp.check_now(&name)
    } else {
        let control: Control = action.parse().map_err(Error::NotFound)?;
        if !state.files.writable {
            return Err(Error::Forbidden(
                "controls are off: this dashboard was started read-only (start it with \
                 --allow-writes to start, stop and restart managed MCP servers)"
                    .into(),
            ));
        }
        state.mcp.control(&name, control)
    };
    outcome.map_err(|error| match error {
        CheckError::Unknown(_) => Error::NotFound(error.to_string()),
        CheckError::NotManaged(_) => Error::Conflict(error.to_string()),
        CheckError::Busy(_) => Error::Conflict(error.to_string()),
    })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "server": name, "action": action })),
    ))
}
