//! Error types of the telemetry module: one enum per operation, so callers (HTTP, CLI) can map
//! each case to a status code or exit message without string matching.

use std::path::PathBuf;

/// An invocation (or one of its fields) that cannot be stored. `field` is the original column
/// name, so the message can point at the offending JSON key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ValidationError {
        ValidationError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Opening the database or applying its migrations failed.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot open telemetry database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("telemetry schema migration {version} failed: {source}")]
    Migration {
        version: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("telemetry query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// Why a batch was not stored. Nothing of the batch is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("batch of {len} invocations is larger than the limit of {max}")]
    BatchTooLarge { len: usize, max: usize },
    /// `index` is the position in the batch (0-based).
    #[error("invocation {index}: {error}")]
    Invalid {
        index: usize,
        #[source]
        error: ValidationError,
    },
    #[error("telemetry database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// An import that could not run at all (bad lines are reported, not raised).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("import into the telemetry database failed: {0}")]
    Ingest(#[from] IngestError),
}
