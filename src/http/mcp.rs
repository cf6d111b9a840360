//! `GET /api/mcp/servers`: the repository's MCP servers, their health, tools and history, and
//! the called tools no healthy server offers (never a server's `env` values or headers).
//! `POST /api/mcp/servers/{name}/check`: a check now (202; for every user of the page, with the
//! Origin check and the token that apply to every POST). `POST /api/mcp/servers/{name}/start`,
//! `…/stop`, `…/restart`: for the servers execdash runs (`--mcp-managed`), with `--allow-writes`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use std::sync::Arc;

use super::state::TaskFiles;
use super::{AppState, Error};
use crate::mcp::{CheckError, Control, McpMonitor};
use app::model::McpOverview;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/mcp/servers", get(servers))
        .route("/api/mcp/servers/{name}/{action}", post(act))
}

async fn servers(
    State(mcp): State<McpMonitor>,
    State(files): State<Arc<TaskFiles>>,
) -> Json<McpOverview> {
    Json(build(&mcp, &files).await)
}

/// The servers as the API and the page show them.
pub(super) async fn build(mcp: &McpMonitor, files: &TaskFiles) -> McpOverview {
    McpOverview {
        controls: files.writable && mcp.manages_any(),
        ..mcp.overview().await
    }
}

async fn act(
    State(mcp): State<McpMonitor>,
    State(files): State<Arc<TaskFiles>>,
    Path((name, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), Error> {
    let outcome = if action == "check" {
        mcp.check_now(&name)
    } else {
        let control: Control = action.parse().map_err(Error::NotFound)?;
        if !files.writable {
            return Err(Error::Forbidden(
                "controls are off: this dashboard was started read-only (start it with \
                 --allow-writes to start, stop and restart managed MCP servers)"
                    .into(),
            ));
        }
        mcp.control(&name, control)
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
