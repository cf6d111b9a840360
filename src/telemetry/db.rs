//! Connections, the original schema and our additive migrations.
//!
//! The database is shared with the original Python `TelemetryLogger` (and any other writer), so:
//! * we never rewrite or drop anything; migrations only add (a column, indexes, tables, triggers)
//!   and each one is recorded in the original `schema_version` table;
//! * every migration runs in a `BEGIN IMMEDIATE` transaction and re-checks `schema_version` inside
//!   it, so two processes opening the same file at once apply it exactly once;
//! * the rollups our aggregates read (`cost_rollup`, `task_costs`) are maintained by SQLite
//!   triggers, not by our ingest code, so rows written by another process are counted too.
//!
//! The DDL itself is in `migrations/sqlite/` (see `migrations/README.md`), included at compile
//! time; this module decides what runs when.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Executor, Row};

use super::error::TelemetryError;

/// How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Size of the read pool (aggregates, the HTTP GET handler).
pub(super) const READ_CONNECTIONS: u32 = 4;

/// The original `schema.sql` (version 1.0.0), used only when the file has no `invocations` table:
/// `migrations/sqlite/1.0.0-original.sql`.
const ORIGINAL_SCHEMA: &str = include_str!("../../migrations/sqlite/1.0.0-original.sql");

/// `schema_version` for a file from before it existed (1.0.0 recorded):
/// `migrations/sqlite/1.0.0-schema-version.sql`.
const SCHEMA_VERSION_TABLE: &str = include_str!("../../migrations/sqlite/1.0.0-schema-version.sql");

/// 1.1.0: the board task an invocation worked for, added only when missing:
/// `migrations/sqlite/1.1.0-task-id-column.sql`. One statement.
const TASK_ID_COLUMN: &str = include_str!("../../migrations/sqlite/1.1.0-task-id-column.sql");
/// 1.1.0: `migrations/sqlite/1.1.0-task-id-index.sql`. One statement.
const TASK_ID_INDEX: &str = include_str!("../../migrations/sqlite/1.1.0-task-id-index.sql");

/// 1.2.0: the julianday indexes, `cost_rollup` and `task_costs` kept by triggers:
/// `migrations/sqlite/1.2.0-rollups.sql`.
const ROLLUP_SCHEMA: &str = include_str!("../../migrations/sqlite/1.2.0-rollups.sql");

/// 1.3.0: `cost_rollup_hourly` kept by triggers: `migrations/sqlite/1.3.0-hourly-rollups.sql`.
const HOURLY_ROLLUP_SCHEMA: &str = include_str!("../../migrations/sqlite/1.3.0-hourly-rollups.sql");

/// 1.4.0: what the coding agents' own reports carry (see [`super::Invocation`]'s fields of that
/// version). Nullable, so the original writer keeps working; its rows read as before.
pub(super) const AGENT_COLUMNS: [(&str, &str); 7] = [
    ("source", "TEXT"),
    ("session_id", "TEXT"),
    ("cache_read_tokens", "INTEGER"),
    ("cache_write_tokens", "INTEGER"),
    ("reported_cost_usd", "REAL"),
    ("computed_cost_usd", "REAL"),
    ("attribution", "TEXT"),
];

/// 1.4.0, after [`AGENT_COLUMNS`]: the calls no price was found for:
/// `migrations/sqlite/1.4.0-unpriced-index.sql`. One statement.
const UNPRICED_INDEX: &str = include_str!("../../migrations/sqlite/1.4.0-unpriced-index.sql");

/// 1.4.0: each source's latest call and its calls today:
/// `migrations/sqlite/1.4.0-source-index.sql`. One statement.
const SOURCE_INDEX: &str = include_str!("../../migrations/sqlite/1.4.0-source-index.sql");

/// 1.5.0: a session's calls found at once: `migrations/sqlite/1.5.0-session-index.sql`. One
/// statement.
const SESSION_INDEX: &str = include_str!("../../migrations/sqlite/1.5.0-session-index.sql");

/// 1.6.0: a batch's rollups added once per batch: `migrations/sqlite/1.6.0-batched-rollups.sql`
/// (the insert triggers stand aside while `rollup_batch` has its row; see `ingest::store`).
const BATCHED_ROLLUPS: &str = include_str!("../../migrations/sqlite/1.6.0-batched-rollups.sql");
/// 1.7.0: the original's indexes no query reads, dropped (each row inserted updated them):
/// `migrations/sqlite/1.7.0-unread-indexes.sql`.
const UNREAD_INDEXES: &str = include_str!("../../migrations/sqlite/1.7.0-unread-indexes.sql");

/// The versions we add, in order.
pub(super) const MIGRATIONS: [(&str, &str); 7] = [
    ("1.1.0", "execdash: invocations.task_id column and index"),
    (
        "1.2.0",
        "execdash: julianday indexes, cost_rollup and task_costs maintained by triggers",
    ),
    (
        "1.3.0",
        "execdash: cost_rollup_hourly maintained by triggers",
    ),
    (
        "1.4.0",
        "execdash: invocations' source, session, cache tokens, reported and computed cost, attribution",
    ),
    ("1.5.0", "execdash: invocations by session"),
    (
        "1.6.0",
        "execdash: rollups of a batch of inserts added once per batch",
    ),
    (
        "1.7.0",
        "execdash: indexes no query reads dropped (agent, tool, model, status)",
    ),
];

fn base_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(BUSY_TIMEOUT)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(false)
}

/// The single writer connection: creates the file if missing and switches it to WAL (a
/// persistent property of the file, which lets readers and the other process's writer proceed
/// while we write).
///
/// Its statement journals (the pages a multi-row `INSERT` changed, kept to undo that statement
/// alone) stay in memory rather than spilling into a temporary file: a batch's insert wrote
/// them to disk for nothing (6 % of the writer's time). Nothing committed is kept there.
///
/// It checkpoints the WAL itself only past [`WRITER_CHECKPOINT_PAGES`]: the change watch
/// checkpoints it on its own connection, on another thread, after the commits it sees (see
/// `watch`), so the writer does not copy pages and `fsync` between batches. Durability is what
/// WAL with `synchronous=NORMAL` gives either way: a commit survives the process at once, and a
/// power loss once the WAL is synced, which every checkpoint does (now within ~250 ms of a
/// commit, where it used to wait for 1 000 pages).
pub(super) fn writer_options(path: &Path) -> SqliteConnectOptions {
    base_options(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .pragma("temp_store", "MEMORY")
        .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string())
}

/// The WAL's length (in pages) at which the writer checkpoints after a commit: a backstop, ten
/// times SQLite's default, for when the change watch's checkpoints cannot keep up.
pub(super) const WRITER_CHECKPOINT_PAGES: u32 = 10_000;

/// Read connections: `query_only` so a bug in a query can never write to the shared file.
pub(super) fn reader_options(path: &Path) -> SqliteConnectOptions {
    base_options(path).pragma("query_only", "ON")
}

/// A file's connection does not go stale as a network one does (a deleted or replaced file is
/// what `Connection::is_current` finds out): no round trip to test it before each use, which on
/// the writer was one more hand-over to its thread per transaction.
pub(super) async fn writer_pool(path: &Path) -> Result<SqlitePool, TelemetryError> {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .connect_with(writer_options(path))
        .await
        .map_err(|source| TelemetryError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Untested before use, as [`writer_pool`]'s.
pub(super) async fn reader_pool(path: &Path) -> Result<SqlitePool, TelemetryError> {
    SqlitePoolOptions::new()
        .max_connections(READ_CONNECTIONS)
        .test_before_acquire(false)
        .connect_with(reader_options(path))
        .await
        .map_err(|source| TelemetryError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Creates the original schema when the file has none, then applies the missing migrations.
pub(super) async fn prepare(pool: &SqlitePool, path: &Path) -> Result<(), TelemetryError> {
    let has = |table: &'static str| async move {
        sqlx::query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(table)
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some())
    };
    let open_error = |source| TelemetryError::Open {
        path: path.to_path_buf(),
        source,
    };
    if !has("invocations").await.map_err(open_error)? {
        tracing::info!(path = %path.display(), "creating telemetry database (schema 1.0.0)");
        let mut tx = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(open_error)?;
        // `Executor::execute(raw_sql)` rather than `raw_sql(..).execute(..)`: the latter's future
        // is not provably `Send` (launchbadge/sqlx#3150) and databases are reopened from tasks.
        (&mut *tx)
            .execute(sqlx::raw_sql(ORIGINAL_SCHEMA))
            .await
            .map_err(open_error)?;
        tx.commit().await.map_err(open_error)?;
    } else if !has("schema_version").await.map_err(open_error)? {
        // A file from before schema_version existed: add the table (additive) so that our
        // migrations can be recorded.
        tracing::info!(path = %path.display(), "adding schema_version to telemetry database");
        pool.execute(sqlx::raw_sql(SCHEMA_VERSION_TABLE))
            .await
            .map_err(open_error)?;
    }
    for (version, description) in MIGRATIONS {
        migrate(pool, version, description).await?;
    }
    Ok(())
}

async fn migrate(
    pool: &SqlitePool,
    version: &'static str,
    description: &'static str,
) -> Result<(), TelemetryError> {
    let fail = |source| TelemetryError::Migration { version, source };
    let applied = sqlx::query("SELECT 1 FROM schema_version WHERE version = ?")
        .bind(version)
        .fetch_optional(pool)
        .await
        .map_err(fail)?;
    // Cheap check first, so that a normal open takes no write lock at all.
    if applied.is_some() {
        return Ok(());
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
    let again = sqlx::query("SELECT 1 FROM schema_version WHERE version = ?")
        .bind(version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(fail)?;
    if again.is_some() {
        return Ok(());
    }
    tracing::info!(version, "applying telemetry schema migration");
    match version {
        "1.1.0" => {
            let columns = sqlx::query("PRAGMA table_info(invocations)")
                .fetch_all(&mut *tx)
                .await
                .map_err(fail)?;
            let has_task_id = columns
                .iter()
                .any(|row| row.try_get::<String, _>("name").ok().as_deref() == Some("task_id"));
            if !has_task_id {
                sqlx::query(TASK_ID_COLUMN)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
            }
            sqlx::query(TASK_ID_INDEX)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        "1.2.0" => {
            (&mut *tx)
                .execute(sqlx::raw_sql(ROLLUP_SCHEMA))
                .await
                .map_err(fail)?;
        }
        "1.3.0" => {
            (&mut *tx)
                .execute(sqlx::raw_sql(HOURLY_ROLLUP_SCHEMA))
                .await
                .map_err(fail)?;
        }
        "1.4.0" => {
            let existing: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info('invocations')")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(fail)?;
            for (column, kind) in AGENT_COLUMNS {
                if !existing.iter().any(|name| name == column) {
                    sqlx::query(&format!(
                        "ALTER TABLE invocations ADD COLUMN {column} {kind}"
                    ))
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                }
            }
            for index in [UNPRICED_INDEX, SOURCE_INDEX] {
                sqlx::query(index).execute(&mut *tx).await.map_err(fail)?;
            }
        }
        "1.5.0" => {
            sqlx::query(SESSION_INDEX)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        "1.6.0" => {
            (&mut *tx)
                .execute(sqlx::raw_sql(BATCHED_ROLLUPS))
                .await
                .map_err(fail)?;
        }
        "1.7.0" => {
            (&mut *tx)
                .execute(sqlx::raw_sql(UNREAD_INDEXES))
                .await
                .map_err(fail)?;
        }
        other => unreachable!("no migration code for {other}"),
    }
    sqlx::query("INSERT INTO schema_version (version, description) VALUES (?, ?)")
        .bind(version)
        .bind(description)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    Ok(())
}
