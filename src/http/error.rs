//! The one error type of every HTTP route: a status and a JSON body `{"error", "field"?,
//! "index"?}`. Domain errors convert into it with `From`, so handlers return
//! `Result<Json<T>, Error>` and use `?`.

use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::telemetry::{
    DatabaseProblem, IngestError, ProblemKind, TelemetryError, ValidationError,
};

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("{0}")]
    NotFound(String),
    /// A bad request, naming the field (and the item of a batch) when there is one.
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
        index: Option<usize>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    MisdirectedRequest(String),
    #[error("an access token is needed: send `Authorization: Bearer TOKEN`, or log in")]
    Unauthorized,
    /// A token that is not the configured one, or a session that has ended.
    #[error("the access token sent is not right, or the session has ended: send the right one, or log in again")]
    WrongToken,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The same `invocation_id` is stored with other content.
    #[error("invocation_id {0:?} is already stored with other content; the stored one is kept")]
    DuplicateInvocation(String),
    /// The resource changed or is in a state that refuses the request.
    #[error("{0}")]
    Conflict(String),
    /// Several task files answer to the name a request gave; `paths` lists them.
    #[error("{message}")]
    Ambiguous { message: String, paths: Vec<String> },
    /// Well-formed, but cannot be done to this resource (a task file an edit cannot change).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Internal(String),
    /// The database cannot serve (corrupt, read-only, missing…): 503 with the reason.
    #[error("telemetry database {}: {}", .0.kind.as_str(), .0.message)]
    TelemetryUnavailable(DatabaseProblem),
    #[error("telemetry database is busy, retry")]
    DatabaseBusy,
    /// More is waiting to be stored than the server queues: 503 with `Retry-After`.
    #[error("{0}")]
    Overloaded(String),
    #[error("telemetry database error")]
    Database(#[source] sqlx::Error),
}

#[derive(Serialize)]
struct Body<'a> {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    /// The kind of database problem (`corrupt`, `read-only`, `locked`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// The files a name answers to, when it answers to several.
    #[serde(skip_serializing_if = "Option::is_none")]
    paths: Option<&'a [String]>,
}

impl Error {
    pub(crate) fn bad_request(message: impl Into<String>) -> Error {
        Error::BadRequest {
            message: message.into(),
            field: None,
            index: None,
        }
    }

    /// A 400 naming `field`.
    pub(crate) fn bad_field(field: &str, message: impl std::fmt::Display) -> Error {
        Error::BadRequest {
            message: format!("{field}: {message}"),
            field: Some(field.to_owned()),
            index: None,
        }
    }

    /// A 400 for an invalid invocation; `index` is its position when the body was an array.
    pub(crate) fn invalid(error: &ValidationError, index: Option<usize>) -> Error {
        Error::BadRequest {
            message: match index {
                Some(index) => format!("[{index}].{error}"),
                None => error.to_string(),
            },
            field: Some(error.field.clone()),
            index,
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
            Error::Unauthorized | Error::WrongToken => StatusCode::UNAUTHORIZED,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::DuplicateInvocation(_) | Error::Conflict(_) | Error::Ambiguous { .. } => {
                StatusCode::CONFLICT
            }
            Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::TelemetryUnavailable(_) | Error::DatabaseBusy | Error::Overloaded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Database(source) => tracing::error!(%source, "telemetry database error"),
            Error::DatabaseBusy => tracing::warn!("telemetry database busy"),
            Error::TelemetryUnavailable(problem) => {
                tracing::warn!(reason = problem.kind.as_str(), "{}", problem.message)
            }
            _ => {}
        }
        let (field, index) = match &self {
            Error::BadRequest { field, index, .. } => (field.as_deref(), *index),
            _ => (None, None),
        };
        let reason = match &self {
            Error::TelemetryUnavailable(problem) => Some(problem.kind.as_str()),
            Error::DatabaseBusy => Some(ProblemKind::Locked.as_str()),
            _ => None,
        };
        let paths = match &self {
            Error::Ambiguous { paths, .. } => Some(paths.as_slice()),
            _ => None,
        };
        let body = Body {
            error: self.to_string(),
            field,
            index,
            reason,
            paths,
        };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(
            self,
            Error::DatabaseBusy | Error::TelemetryUnavailable(_) | Error::Overloaded(_)
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Error {
        match DatabaseProblem::of(&error) {
            DatabaseProblem {
                kind: ProblemKind::Locked,
                ..
            } => Error::DatabaseBusy,
            DatabaseProblem {
                kind: ProblemKind::Other,
                ..
            } => Error::Database(error),
            problem => Error::TelemetryUnavailable(problem),
        }
    }
}

impl From<TelemetryError> for Error {
    fn from(error: TelemetryError) -> Error {
        match error {
            TelemetryError::Query(source)
            | TelemetryError::Open { source, .. }
            | TelemetryError::Migration { source, .. } => source.into(),
            other => Error::TelemetryUnavailable(other.problem()),
        }
    }
}

impl From<IngestError> for Error {
    fn from(error: IngestError) -> Error {
        match error {
            IngestError::Invalid { index, error } => Error::invalid(&error, Some(index)),
            IngestError::BatchTooLarge { max, .. } => {
                Error::PayloadTooLarge(format!("at most {max} invocations per request"))
            }
            IngestError::Database(source) => source.into(),
            IngestError::Unavailable(error) => error.into(),
            busy @ IngestError::Busy { .. } => Error::Overloaded(busy.to_string()),
        }
    }
}

impl From<BytesRejection> for Error {
    fn from(rejection: BytesRejection) -> Error {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge(format!(
                "the request body is larger than the limit of {} bytes",
                super::MAX_BODY_BYTES
            ))
        } else {
            Error::bad_request(rejection.body_text())
        }
    }
}

/// Any `/api/…` path no route takes.
pub(super) async fn no_such_endpoint(uri: Uri) -> Error {
    Error::NotFound(format!("no such endpoint: {}", uri.path()))
}
