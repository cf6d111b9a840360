//! Telemetry: the `telemetry.db` SQLite file of the original Python logger, read and written in
//! place.
//!
//! * [`Telemetry::open`] opens (or creates) the file with the original schema and applies our
//!   additive migrations ([`db`]).
//! * [`Telemetry::ingest`] stores a batch of [`Invocation`]s in one transaction ([`ingest`]).
//! * [`Telemetry::summary`] computes the cost page ([`queries`]).
//! * [`Telemetry::watch_changes`] reports commits by any connection or process ([`watch`]).
//! * [`import_jsonl`] imports a JSONL file; with the `bench-support` feature, `seed_synthetic`
//!   fills the database in bulk for benchmarks.
//!
//! Its HTTP routes are in `crate::http`; this module knows nothing of HTTP.
//!
//! Connections: one writer (SQLite allows one writer at a time anyway; a pool of one serialises
//! our writes without SQLITE_BUSY between them), a small read pool, and one dedicated connection
//! for `PRAGMA data_version`. All use WAL, `busy_timeout` 5 s and `synchronous=NORMAL`.

mod db;
mod error;
mod import;
mod ingest;
mod invocation;
mod queries;
#[cfg(feature = "bench-support")]
mod synthetic;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::sqlite::SqlitePool;
use tokio::sync::watch as tokio_watch;

pub use app::model::CostRange;
pub use error::{IngestError, TelemetryError, ValidationError};
pub use import::{import_jsonl, ImportReport};
pub use ingest::IngestReport;
pub(crate) use ingest::MAX_BATCH;
pub use invocation::Invocation;
#[cfg(feature = "bench-support")]
pub use synthetic::seed_synthetic;

/// A handle on one telemetry database. Cheap to clone (all clones share the pools and watcher).
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
    changes: Arc<tokio_watch::Sender<u64>>,
    watcher: tokio::task::AbortHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Opens `path`, creating it with the original 1.0.0 schema when missing, and applies the
    /// migrations that are not recorded in `schema_version` yet. Existing rows are never
    /// modified. Starts the `data_version` watcher (needs a Tokio runtime).
    pub async fn open(path: &Path) -> Result<Telemetry, TelemetryError> {
        let writer = db::writer_pool(path).await?;
        db::prepare(&writer, path).await?;
        let reader = db::reader_pool(path).await?;
        let (sender, _) = tokio_watch::channel(0u64);
        let changes = Arc::new(sender);
        let watcher = watch::spawn(path, changes.clone()).await?;
        tracing::debug!(path = %path.display(), "telemetry database open");
        Ok(Telemetry {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer,
                reader,
                changes,
                watcher,
            }),
        })
    }

    /// A receiver whose value increases whenever the database changed: after our own ingest
    /// (at once) and after a commit by any other connection or process (within ~100 ms).
    pub fn watch_changes(&self) -> tokio_watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// The read pool, for ad-hoc queries (tools, tests). Connections are `query_only`.
    pub fn reader(&self) -> &SqlitePool {
        &self.inner.reader
    }

    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.inner.writer
    }

    pub(crate) fn notify_changed(&self) {
        self.inner.changes.send_modify(|count| *count += 1);
    }

    /// Closes the pools (waits for their connections to finish) and stops the watcher.
    pub async fn close(&self) {
        self.inner.watcher.abort();
        self.inner.writer.close().await;
        self.inner.reader.close().await;
    }
}
