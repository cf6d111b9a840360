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
    #[error("telemetry database {path} vanished while it was being opened")]
    Vanished { path: PathBuf },
    #[error("this is a PostgreSQL database, not a SQLite file")]
    NotAFile,
    #[error("cannot use the telemetry database {location}: {source}")]
    Connect {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    /// Opening failed a moment ago; the next attempt waits (see [`DatabaseProblem`]).
    #[error("telemetry database unavailable ({}): {}", .0.kind.as_str(), .0.message)]
    Unavailable(DatabaseProblem),
}

impl TelemetryError {
    /// What is wrong with the database, in the terms `/health` reports.
    pub fn problem(&self) -> DatabaseProblem {
        match self {
            TelemetryError::Open { source, .. }
            | TelemetryError::Connect { source, .. }
            | TelemetryError::Migration { source, .. }
            | TelemetryError::Query(source) => DatabaseProblem::of(source),
            TelemetryError::Vanished { .. } => DatabaseProblem {
                kind: ProblemKind::Missing,
                message: self.to_string(),
            },
            TelemetryError::Unavailable(problem) => problem.clone(),
            TelemetryError::NotAFile => DatabaseProblem {
                kind: ProblemKind::Other,
                message: self.to_string(),
            },
        }
    }
}

/// Why the database does not work, as `/health` and `/api/stats` report it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DatabaseProblem {
    pub kind: ProblemKind,
    pub message: String,
}

/// The kinds of database failure a user can act on differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The file cannot be opened or created (its folder is gone, a path component is a file).
    Missing,
    /// Not a database, or a damaged one.
    Corrupt,
    /// The file or its folder cannot be written.
    ReadOnly,
    /// Another connection holds the write lock longer than the busy timeout.
    Locked,
    /// Permissions, I/O errors.
    Unreadable,
    /// The database server does not answer (PostgreSQL: refused, down, restarting).
    Unreachable,
    Other,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Missing => "missing",
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::ReadOnly => "read-only",
            ProblemKind::Locked => "locked",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::Unreachable => "unreachable",
            ProblemKind::Other => "error",
        }
    }
}

impl DatabaseProblem {
    /// Classifies an error by SQLite's primary result code.
    pub fn of(error: &sqlx::Error) -> DatabaseProblem {
        let postgres = match error {
            sqlx::Error::Database(database) => database
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .map(|pg| pg.code().to_owned()),
            _ => None,
        };
        let kind = match (error, postgres.as_deref()) {
            // PostgreSQL's SQLSTATE classes.
            (_, Some(code)) => match code {
                "25006" => ProblemKind::ReadOnly,
                "55P03" | "40P01" | "40001" => ProblemKind::Locked,
                "XX001" | "XX002" => ProblemKind::Corrupt,
                "3D000" | "42P01" => ProblemKind::Missing,
                "42501" | "28000" | "28P01" => ProblemKind::Unreadable,
                code if code.starts_with("08") || code.starts_with("57P") => {
                    ProblemKind::Unreachable
                }
                _ => ProblemKind::Other,
            },
            (sqlx::Error::Database(database), None) => {
                match database
                    .code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .map(|code| code & 0xff)
                {
                    Some(5 | 6) => ProblemKind::Locked,
                    Some(8) => ProblemKind::ReadOnly,
                    Some(11 | 26) => ProblemKind::Corrupt,
                    Some(14) => ProblemKind::Missing,
                    Some(3 | 10 | 23) => ProblemKind::Unreadable,
                    _ => ProblemKind::Other,
                }
            }
            // A server that refuses, resets or does not answer (PostgreSQL; see
            // `postgres::explained`).
            (sqlx::Error::Io(io), None) if is_network(io.kind()) => ProblemKind::Unreachable,
            (sqlx::Error::Io(_), None) => ProblemKind::Unreadable,
            (sqlx::Error::PoolTimedOut, None) => ProblemKind::Locked,
            _ => ProblemKind::Other,
        };
        let message = match error {
            sqlx::Error::Database(database) => database.message().to_owned(),
            other => other.to_string(),
        };
        DatabaseProblem { kind, message }
    }
}

/// An I/O error of a connection to a server, not of a file.
fn is_network(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        kind,
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | NotConnected
            | TimedOut
            | HostUnreachable
            | NetworkUnreachable
            | NetworkDown
            | AddrNotAvailable
            | BrokenPipe
            | UnexpectedEof
    )
}

impl DatabaseProblem {
    /// The same problem met on a database server: a failed connection or an exhausted pool
    /// means the server does not answer, not a file that cannot be read or a lock.
    pub(crate) fn on_server(self) -> DatabaseProblem {
        match self.kind {
            ProblemKind::Unreadable | ProblemKind::Locked | ProblemKind::Other
                if !self.message.contains("permission") =>
            {
                DatabaseProblem {
                    kind: ProblemKind::Unreachable,
                    ..self
                }
            }
            _ => self,
        }
    }
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
    #[error(transparent)]
    Unavailable(#[from] TelemetryError),
    /// The writer's queue is full (`queued` rows wait or are being written): nothing was
    /// stored; send again later.
    #[error("the telemetry writer is busy ({queued} rows queued): retry later")]
    Busy { queued: usize },
}

impl IngestError {
    /// The database's fault, if it is one (not the batch's).
    pub fn problem(&self) -> Option<DatabaseProblem> {
        match self {
            IngestError::Database(source) => Some(DatabaseProblem::of(source)),
            IngestError::Unavailable(error) => Some(error.problem()),
            IngestError::BatchTooLarge { .. }
            | IngestError::Invalid { .. }
            | IngestError::Busy { .. } => None,
        }
    }
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
