//! Agent sessions: `GET /api/sessions` (filters `agent`, `task`, `state`, `since`),
//! `GET /api/sessions/{id}` (one with its timeline), and `POST /hooks/claude` (`?agent=`,
//! `?task=`), where Claude Code's `http` hooks send their events (`execdash hooks` prints the
//! settings). A hook body is JSON within the server's body limit (1 MiB: a `PostToolUse` carries
//! the tool's whole input and answer; larger is a `413`); an unknown event, a missing
//! session or a field of the wrong type is a `400` naming it, and changes nothing. The answer is
//! `200 {}` (Claude Code carries on; execdash never blocks or steers the agent).

use std::sync::Arc;

use app::model::{SessionDetail, SessionState, SessionSummary};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{AppState, Error};
use crate::sessions::{HookEvent, SessionFilter, Tracker};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/{id}", get(detail))
        .route("/hooks/claude", post(claude_hook))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    agent: Option<String>,
    task: Option<String>,
    state: Option<String>,
    since: Option<String>,
}

async fn list(
    State(tracker): State<Arc<Tracker>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<SessionSummary>>, Error> {
    let state = match query.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(SessionState::parse(text).ok_or_else(|| {
            Error::bad_request(format!(
                "state must be one of working, waiting, idle, stalled, ended, got '{text}'"
            ))
        })?),
    };
    let since = match query.since.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|_| {
                    Error::bad_request(format!(
                        "since must be an RFC 3339 time (2026-12-05T10:00:00Z), got '{text}'"
                    ))
                })?
                .with_timezone(&Utc),
        ),
    };
    let filter = SessionFilter {
        agent: query.agent.filter(|a| !a.is_empty()),
        task: query.task.filter(|t| !t.is_empty()),
        state,
        since,
    };
    Ok(Json(tracker.list(&filter, Utc::now())))
}

async fn detail(
    State(tracker): State<Arc<Tracker>>,
    Path(id): Path<String>,
) -> Result<Json<SessionDetail>, Error> {
    tracker
        .detail(&id, Utc::now())
        .await
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("no session '{id}'")))
}

#[derive(Deserialize, Default)]
struct HookQuery {
    agent: Option<String>,
    task: Option<String>,
}

async fn claude_hook(
    State(tracker): State<Arc<Tracker>>,
    Query(query): Query<HookQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, Error> {
    let body = body?;
    let event = HookEvent::parse(&body, query.agent, query.task)
        .map_err(|error| Error::bad_request(error.to_string()))?;
    tracker.hook(event, Utc::now());
    Ok(Json(serde_json::json!({})))
}
