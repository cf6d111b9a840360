//! The dashboard's own view of the board, typed: `/api/snapshot` (what a client starts from: the
//! first cards of every lane and every lane's count), `/api/board/lane` (more of a lane's cards)
//! `/api/board/filtered` (the board as a search and filters see it; the detail view's
//! `/api/board/task` is in [`super::details`]). All from memory.

use app::model::{parse_lane_key, FilteredBoard, LanePage, FILTERED_WINDOW, LANE_WINDOW};
use axum::extract::{Query, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use std::sync::Arc;

use super::{AppState, Error};
use crate::board::SharedStore;
use crate::team::{Mirrors, Team};

/// The most cards one lane page holds (summaries, about 0.4 KB each).
const MAX_PAGE: usize = 10_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/snapshot", get(snapshot))
        .route("/api/board/lane", get(lane))
        .route("/api/board/filtered", get(filtered))
}

/// The board as the socket's `connection_ack` carries it.
/// `?repo=NAME`: another repository's (see `crate::team::Mirrors`).
async fn snapshot(
    State(local): State<SharedStore>,
    State(mirrors): State<Arc<Mirrors>>,
    State(team): State<Arc<Team>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Error> {
    let (board, _) = super::repos::board_for(query.as_deref(), local, &mirrors, &team).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        board.snapshot_body(),
    )
        .into_response())
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

/// `?q=…&agent=…&priority=…&status=…&tag=…`: the board as the filter sees it (descriptions
/// searched too), at most [`FILTERED_WINDOW`] cards a lane.
async fn filtered(
    State(board): State<SharedStore>,
    RawQuery(query): RawQuery,
) -> Result<Json<FilteredBoard>, Error> {
    let query = super::tasks::BoardQuery::parse(query.as_deref())?;
    Ok(Json(board.filtered(&query.filter, FILTERED_WINDOW)))
}
