//! The dashboard's own view of the board, typed: `/api/snapshot` (what a client starts from: the
//! first cards of every lane and every lane's count), `/api/board/lane` (more of a lane's cards)
//! and `/api/board/task` (one task whole, for the detail view). All from memory.

use app::model::{parse_lane_key, LanePage, Task, LANE_WINDOW};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{AppState, Error};
use crate::board::SharedStore;

/// The most cards one lane page holds (summaries, about 0.4 KB each).
const MAX_PAGE: usize = 10_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/snapshot", get(snapshot))
        .route("/api/board/lane", get(lane))
        .route("/api/board/task", get(task))
}

/// The board as the socket's `connection_ack` carries it.
async fn snapshot(State(board): State<SharedStore>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        board.snapshot_body(),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct LaneQuery {
    lane: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

/// `?lane=done/agent-a&offset=0&limit=50`: a lane's cards in the board's order.
async fn lane(
    State(board): State<SharedStore>,
    Query(query): Query<LaneQuery>,
) -> Result<Json<LanePage>, Error> {
    let lane = query.lane.ok_or_else(|| {
        Error::bad_field("lane", "missing (inbox, assigned/<agent> or done/<agent>)")
    })?;
    let (column, agent) = parse_lane_key(&lane).ok_or_else(|| {
        Error::bad_field(
            "lane",
            format!("{lane:?} is not a lane (inbox, assigned/<agent> or done/<agent>)"),
        )
    })?;
    let offset = number("offset", query.offset.as_deref(), 0, usize::MAX)?;
    let limit = number("limit", query.limit.as_deref(), LANE_WINDOW, MAX_PAGE)?;
    Ok(Json(board.lane_page(
        column,
        agent.as_deref(),
        offset,
        limit,
    )))
}

fn number(field: &str, text: Option<&str>, default: usize, max: usize) -> Result<usize, Error> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    text.parse::<usize>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            Error::bad_field(
                field,
                format!("{text:?} is not a whole number from 0 to {max}"),
            )
        })
}

#[derive(Debug, Deserialize)]
struct TaskQuery {
    path: Option<String>,
}

/// `?path=inbox/x.yaml`: one task whole (summary, description, document).
async fn task(
    State(board): State<SharedStore>,
    Query(query): Query<TaskQuery>,
) -> Result<Json<Task>, Error> {
    let path = query
        .path
        .filter(|p| !p.is_empty() && p.len() <= 4096)
        .ok_or_else(|| Error::bad_field("path", "missing or longer than 4096 bytes"))?;
    board
        .task(&path)
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("Task not found: {path}")))
}
