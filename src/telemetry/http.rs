//! axum handlers. They take `State<Telemetry>`, so the router can use any state `S` with
//! `impl FromRef<S> for Telemetry`. The body size limit is the router's job (a layer).
//!
//! * `POST` [`post_invocations`]: one invocation object or an array of them (original column
//!   names). `200 {"inserted":n,"duplicates":m}` once committed; re-posting the same ids is
//!   harmless (`inserted: 0`). `400 {"error","field","index"?}` for bad JSON or an invalid field
//!   (nothing is written), `413` for more than [`MAX_BATCH`] items, `415` for a non-JSON
//!   `Content-Type` (a missing one is accepted), `503` when the database is busy.
//! * `GET` [`get_costs`]: `?range=24h|7d|30d|90d` (default `7d`) → [`app::model::CostSummary`].

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{IngestError, TelemetryError, ValidationError};
use super::ingest::MAX_BATCH;
use super::invocation::Invocation;
use super::Telemetry;
use app::model::CostRange;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A 400 naming the field, and the item's position when the body was an array.
fn invalid(error: &ValidationError, index: Option<usize>) -> Response {
    let mut body = json!({ "error": error.to_string(), "field": error.field });
    if let Some(index) = index {
        body["error"] = json!(format!("[{index}].{error}"));
        body["index"] = json!(index);
    }
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn database_error(error: &sqlx::Error) -> Response {
    let busy = matches!(error, sqlx::Error::Database(db)
        if db.message().contains("locked") || db.message().contains("busy"));
    if busy {
        tracing::warn!(%error, "telemetry database busy");
        error_response_busy()
    } else {
        tracing::error!(%error, "telemetry database error");
        self::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "telemetry database error",
        )
    }
}

fn error_response_busy() -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "telemetry database is busy, retry",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .map(|text| {
                let mime = text
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false),
    }
}

/// `POST /api/telemetry/invocations` (or wherever it is mounted).
pub async fn post_invocations(
    State(telemetry): State<Telemetry>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_json(&headers) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")),
    };
    let (items, is_array) = match value {
        Value::Array(items) => (items, true),
        object @ Value::Object(_) => (vec![object], false),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "expected an invocation object or an array of them",
            )
        }
    };
    if items.len() > MAX_BATCH {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_BATCH} invocations per request"),
        );
    }
    let now = Utc::now();
    let mut batch = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match Invocation::from_json(item).and_then(|invocation| invocation.validated(now)) {
            Ok(invocation) => batch.push(invocation),
            Err(e) => return invalid(&e, is_array.then_some(index)),
        }
    }
    match telemetry.ingest(batch).await {
        Ok(report) => (StatusCode::OK, Json(report)).into_response(),
        Err(IngestError::Invalid { index, error: e }) => invalid(&e, is_array.then_some(index)),
        Err(IngestError::BatchTooLarge { max, .. }) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {max} invocations per request"),
        ),
        Err(IngestError::Database(e)) => database_error(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CostsQuery {
    pub range: Option<String>,
}

/// `GET /api/costs?range=7d`.
pub async fn get_costs(
    State(telemetry): State<Telemetry>,
    Query(query): Query<CostsQuery>,
) -> Response {
    let range = match query.range.as_deref() {
        None | Some("") => CostRange::default(),
        Some(text) => match text.parse::<CostRange>() {
            Ok(range) => range,
            Err(message) => {
                let body = json!({ "error": format!("range: {message}"), "field": "range" });
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
        },
    };
    match telemetry.summary(range, Utc::now()).await {
        Ok(summary) => Json(summary).into_response(),
        Err(TelemetryError::Query(e)) => database_error(&e),
        Err(e) => {
            tracing::error!(error = %e, "cost summary failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "telemetry database error",
            )
        }
    }
}
