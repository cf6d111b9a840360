//! Telemetry: the `telemetry.db` SQLite file of the original Python logger, read and written in
//! place.
//!
//! * [`Telemetry::open`] opens (or creates) the file with the original schema and applies our
//!   additive migrations ([`db`]).
//! * [`Telemetry::ingest`] stores a batch of [`Invocation`]s in one transaction ([`ingest`]),
//!   with the batches that arrived while the last one was written (group commit: [`writer`]).
//! * [`Telemetry::summary`] computes the cost page, `Telemetry::daily_series` the days the
//!   forecast reads ([`queries`]).
//! * [`Telemetry::watch_changes`] reports commits by any connection or process ([`watch`]).
//! * [`import_jsonl`] imports a JSONL file; with the `bench-support` feature, `seed_synthetic`
//!   fills the database in bulk for benchmarks.
//!
//! Its HTTP routes are in `crate::http`; this module knows nothing of HTTP.
//!
//! The file is opened again when the path stops naming it (deleted or replaced while running:
//! [`connection`]); what fails is classified and kept for `/health` ([`Telemetry::problem`]).
//!
//! Connections: one writer (SQLite allows one writer at a time anyway; a pool of one serialises
//! our writes without SQLITE_BUSY between them), a small read pool, and one dedicated connection
//! for `PRAGMA data_version`. All use WAL, `busy_timeout` 5 s and `synchronous=NORMAL`.

mod connection;
mod db;
mod error;
mod export;
mod import;
mod ingest;
mod invocation;
mod meter;
mod migrate;
mod postgres;
mod queries;
mod rollup;
mod sessions;
#[cfg(feature = "bench-support")]
mod synthetic;
mod watch;
mod writer;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sqlx::sqlite::SqlitePool;
use tokio::sync::watch as tokio_watch;

use self::connection::Connection;
pub(crate) use self::connection::Pools;
pub use crate::runtime::Location;
pub use app::model::CostRange;
pub(crate) use error::{DatabaseProblem, ProblemKind};
pub use error::{IngestError, TelemetryError, ValidationError};
pub(crate) use export::ExportedInvocation;
pub use import::{import_jsonl, ImportReport};
pub use ingest::IngestReport;
pub(crate) use ingest::MAX_BATCH;
pub use invocation::Invocation;
pub use meter::MeterReport;
pub(crate) use meter::METERED_PREFIX;
pub(crate) use migrate::{default_repository, migrate, DEFAULT_BATCH as DEFAULT_MIGRATE_BATCH};
pub(crate) use postgres::explained as postgres_explained;
pub(crate) use postgres::listening as postgres_listener;
pub(crate) use queries::AgentUsage;
pub(crate) use sessions::SessionCalls;
#[cfg(feature = "bench-support")]
pub use synthetic::seed_synthetic;

/// After a failed open, the next attempt waits this long (requests meanwhile get the same error).
const REOPEN_PAUSE: Duration = Duration::from_secs(1);

/// A handle on one telemetry database. Cheap to clone (all clones share the pools and watcher).
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    location: Location,
    /// The open file; `None` until an open succeeds.
    connection: RwLock<Option<Arc<Connection>>>,
    /// One (re)open at a time.
    opening: tokio::sync::Mutex<()>,
    /// The last failed open and when it was tried.
    open_failure: Mutex<Option<(Instant, DatabaseProblem)>>,
    /// The last failure of a read and of a write; cleared by the next success of the same kind.
    read_failure: Mutex<Option<DatabaseProblem>>,
    write_failure: Mutex<Option<DatabaseProblem>>,
    changes: Arc<tokio_watch::Sender<u64>>,
    /// The batches waiting for the writer (group commit: [`writer`]).
    queue: writer::Queue,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Opens `path`, creating it with the original 1.0.0 schema when missing, and applies the
    /// migrations that are not recorded in `schema_version` yet. Existing rows are never
    /// modified. Starts the `data_version` watcher (needs a Tokio runtime).
    pub async fn open(location: impl Into<Location>) -> Result<Telemetry, TelemetryError> {
        let telemetry = Telemetry::unopened(location.into());
        telemetry.connection().await?;
        Ok(telemetry)
    }

    /// Like [`Telemetry::open`], but a database that cannot be opened now is not an error: every
    /// operation tries again (at most once a second) and fails with the reason meanwhile, which
    /// [`Telemetry::problem`] reports. The server uses this, so a broken file never stops the
    /// board and is picked up once it is mended.
    pub async fn attach(location: impl Into<Location>) -> Telemetry {
        let telemetry = Telemetry::unopened(location.into());
        if let Err(error) = telemetry.connection().await {
            tracing::error!(location = %telemetry.inner.location, "telemetry unavailable: {error}");
        }
        telemetry
    }

    fn unopened(location: Location) -> Telemetry {
        let (sender, _) = tokio_watch::channel(0u64);
        Telemetry {
            inner: Arc::new(Inner {
                location,
                connection: RwLock::new(None),
                opening: tokio::sync::Mutex::new(()),
                open_failure: Mutex::new(None),
                read_failure: Mutex::new(None),
                write_failure: Mutex::new(None),
                changes: Arc::new(sender),
                queue: writer::Queue::new(),
            }),
        }
    }

    /// Where the telemetry is (`--db`).
    pub fn location(&self) -> &Location {
        &self.inner.location
    }

    /// The connection to the database the location names now: the open one, or a new one when
    /// the file was deleted or replaced since (a deleted file is created again, empty).
    async fn connection(&self) -> Result<Arc<Connection>, TelemetryError> {
        let location = &self.inner.location;
        let current = self.current();
        if let Some(connection) = &current {
            if connection.is_current(location) {
                return Ok(connection.clone());
            }
        }
        let _opening = self.inner.opening.lock().await;
        let current = self.current();
        if let Some(connection) = &current {
            if connection.is_current(location) {
                return Ok(connection.clone());
            }
        }
        if let Some((at, problem)) = &*lock(&self.inner.open_failure) {
            if at.elapsed() < REOPEN_PAUSE {
                return Err(TelemetryError::Unavailable(problem.clone()));
            }
        }
        if let Some(stale) = current {
            tracing::warn!(
                %location,
                "the telemetry database file was deleted or replaced: opening the path again"
            );
            *write(&self.inner.connection) = None;
            stale.close().await;
        }
        match Connection::open(location, self.inner.changes.clone()).await {
            Ok(connection) => {
                let connection = Arc::new(connection);
                *write(&self.inner.connection) = Some(connection.clone());
                *lock(&self.inner.open_failure) = None;
                *lock(&self.inner.read_failure) = None;
                *lock(&self.inner.write_failure) = None;
                self.notify_changed();
                tracing::debug!(%location, "telemetry database open");
                Ok(connection)
            }
            Err(error) => {
                *lock(&self.inner.open_failure) =
                    Some((Instant::now(), self.classify(error.problem())));
                Err(error)
            }
        }
    }

    fn current(&self) -> Option<Arc<Connection>> {
        self.inner
            .connection
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// What is wrong with the database now, if anything: it cannot be opened, or the last read or
    /// write failed (and nothing of that kind succeeded since). Checks that the path still names
    /// the open file (reopening it if not) and reads its schema, so a file that was deleted,
    /// replaced or overwritten with garbage is noticed even when nothing else touched it.
    pub async fn check(&self) -> Option<DatabaseProblem> {
        match self.connection().await {
            Ok(connection) => {
                let probe = match &connection.pools {
                    Pools::Sqlite { reader, .. } => {
                        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master")
                            .fetch_one(reader)
                            .await
                    }
                    Pools::Postgres(pool) => {
                        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM schema_version")
                            .fetch_one(pool)
                            .await
                    }
                };
                let probe = self.explained(probe).await;
                self.note_read(probe.as_ref().map(|_| ()));
            }
            Err(error) => return Some(error.problem()),
        }
        // A file this process cannot write is read-only now, not at the first write.
        if let Location::File(path) = &self.inner.location {
            if let Some(problem) = not_writable(path) {
                return Some(problem);
            }
        }
        self.problem()
    }

    /// The problem last seen, without touching the database (see [`Telemetry::check`]).
    pub fn problem(&self) -> Option<DatabaseProblem> {
        if self.current().is_none() {
            if let Some((_, problem)) = &*lock(&self.inner.open_failure) {
                return Some(problem.clone());
            }
        }
        let write_failure = lock(&self.inner.write_failure).clone();
        write_failure.or_else(|| lock(&self.inner.read_failure).clone())
    }

    /// `outcome`, with a PostgreSQL pool's timeout replaced by why no connection could be
    /// opened (see [`postgres::explained`]): "Connection refused", not a busy database.
    pub(crate) async fn explained<T>(
        &self,
        outcome: Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        match (outcome, self.current()) {
            (Err(sqlx::Error::PoolTimedOut), Some(connection)) => match &connection.pools {
                Pools::Postgres(pool) => {
                    Err(postgres::explained(pool, sqlx::Error::PoolTimedOut).await)
                }
                Pools::Sqlite { .. } => Err(sqlx::Error::PoolTimedOut),
            },
            (outcome, _) => outcome,
        }
    }

    pub(crate) fn note_read(&self, outcome: Result<(), &sqlx::Error>) {
        let problem = outcome.err().map(|e| self.classify(DatabaseProblem::of(e)));
        *lock(&self.inner.read_failure) = problem;
    }

    pub(crate) fn note_write(&self, outcome: Result<(), &sqlx::Error>) {
        let problem = outcome.err().map(|e| self.classify(DatabaseProblem::of(e)));
        *lock(&self.inner.write_failure) = problem;
    }

    /// A problem as this kind of database has it (see [`DatabaseProblem::on_server`]).
    fn classify(&self, problem: DatabaseProblem) -> DatabaseProblem {
        match self.inner.location {
            Location::File(_) => problem,
            Location::Postgres(_) => problem.on_server(),
        }
    }

    /// A receiver whose value increases whenever the database changed: after our own ingest
    /// (at once) and after a commit by any other connection or process (within ~100 ms).
    pub fn watch_changes(&self) -> tokio_watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// How many changes [`Telemetry::watch_changes`] has reported so far.
    pub fn changes_seen(&self) -> u64 {
        *self.inner.changes.borrow()
    }

    /// The read pool of the file the path names now, for ad-hoc queries (tools, tests).
    /// Connections are `query_only`. A SQLite file only.
    pub async fn reader(&self) -> Result<SqlitePool, TelemetryError> {
        match self.pools().await? {
            Pools::Sqlite { reader, .. } => Ok(reader),
            Pools::Postgres(_) => Err(TelemetryError::NotAFile),
        }
    }

    /// The pools of the database the location names now.
    pub(crate) async fn pools(&self) -> Result<Pools, TelemetryError> {
        Ok(self.connection().await?.pools.clone())
    }

    pub(crate) fn notify_changed(&self) {
        self.inner.changes.send_modify(|count| *count += 1);
    }

    /// Closes the pools (waits for their connections to finish) and stops the watcher.
    pub async fn close(&self) {
        let connection = write(&self.inner.connection).take();
        if let Some(connection) = connection {
            connection.close().await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why this process could not write the SQLite file at `path` (or the journal beside it), if it
/// could not: `access(2)`, which also sees an immutable file and a read-only mount.
fn not_writable(path: &std::path::Path) -> Option<DatabaseProblem> {
    use std::os::unix::ffi::OsStrExt;
    let writable = |path: &std::path::Path| {
        std::ffi::CString::new(path.as_os_str().as_bytes())
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
    };
    let folder = path
        .parent()
        .filter(|f| !f.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    let why = if path.exists() && !writable(path) {
        format!("{} cannot be written by this process (its owner, mode or immutable flag, or a read-only mount): no call can be stored", path.display())
    } else if !wal.exists() && !writable(folder) {
        format!("the folder {} cannot be written by this process: SQLite cannot make its journal there, so no call can be stored", folder.display())
    } else {
        return None;
    };
    Some(DatabaseProblem {
        kind: error::ProblemKind::ReadOnly,
        message: why,
    })
}
