//! `POST /api/invocations`: one invocation object or an array of them (the original's column
//! names, plus `task_id`). `200 {"inserted", "duplicates", "conflicts"}` once committed;
//! re-posting the same invocations is harmless (`duplicates`). The same `invocation_id` with other
//! content is a conflict: `409` for a single object; in an array it is listed in `conflicts` and
//! the rest is stored (the stored row is kept either way). `400 {"error","field","index"?}` for
//! bad JSON or an invalid field (nothing is written), `413` for a body over the limit or more than
//! [`MAX_BATCH`] items, `415` for a non-JSON `Content-Type` (a missing one is accepted), `503
//! {"error","reason"}` when the database is busy or unavailable.
//!
//! The answer comes after the commit and after any cost computation that began before it, so
//! `/api/stats`, `/api/costs` and every later `cost.update` include the write.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::Value;

use std::sync::Arc;

use super::metrics::Metrics;
use super::{AppState, Error};
use crate::feeds::CostFeed;
use crate::telemetry::{IngestReport, Invocation, Telemetry, MAX_BATCH};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/invocations", post(post_invocations))
}

async fn post_invocations(
    State(telemetry): State<Telemetry>,
    State(costs): State<Arc<CostFeed>>,
    State(metrics): State<Arc<Metrics>>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReport>, Error> {
    if !is_json(&headers) {
        return Err(Error::UnsupportedMediaType(
            "Content-Type must be application/json".into(),
        ));
    }
    let value: Value = serde_json::from_slice(&body?)
        .map_err(|e| Error::bad_request(format!("invalid JSON: {e}")))?;
    let (items, is_array) = match value {
        Value::Array(items) => (items, true),
        object @ Value::Object(_) => (vec![object], false),
        _ => {
            return Err(Error::bad_request(
                "expected an invocation object or an array of them",
            ))
        }
    };
    if items.len() > MAX_BATCH {
        return Err(Error::PayloadTooLarge(format!(
            "at most {MAX_BATCH} invocations per request"
        )));
    }
    let repo = repository_of(&state);
    let now = Utc::now();
    let batch = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            Invocation::from_json(item)
                .map(|mut invocation| {
                    if invocation.repo.is_none() {
                        invocation.repo = repo.clone();
                    }
                    invocation
                })
                .and_then(|invocation| invocation.validated(now))
                .map_err(|e| Error::invalid(&e, is_array.then_some(index)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let report = telemetry.ingest(batch).await.map_err(|error| match error {
        // A single object has no position to report.
        crate::telemetry::IngestError::Invalid { index, error } => {
            Error::invalid(&error, is_array.then_some(index))
        }
        other => other.into(),
    })?;
    metrics.ingested(report.inserted);
    costs.after_write().await;
    match report.conflicts.first() {
        Some(id) if !is_array => Err(Error::DuplicateInvocation(id.clone())),
        _ => Ok(Json(report)),
    }
}

/// The repository an invocation without one is counted in: the one this site is of (another
/// repository's at `/repos/NAME/`; none together or on a viewer).
pub(super) fn repository_of(state: &AppState) -> Option<String> {
    match &state.repo {
        Some(name) if name != app::ALL_REPOSITORIES => Some(name.clone()),
        Some(_) => None,
        None => (!state.team.viewer).then(|| state.team.repo.clone()),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    value.to_str().is_ok_and(|text| {
        let mime = text
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        mime == "application/json" || mime.ends_with("+json")
    })
}
