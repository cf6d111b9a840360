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
//! Longer than most modules on purpose: most of it is the schema's DDL and the migrations' SQL,
//! which read best in one place.

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

/// The original `schema.sql` (version 1.0.0), used only when the file has no `invocations` table.
const ORIGINAL_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invocation_id TEXT UNIQUE NOT NULL,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
    agent_name TEXT,
    tool_name TEXT NOT NULL,
    model_name TEXT NOT NULL,
    prompt_tokens INTEGER DEFAULT 0,
    completion_tokens INTEGER DEFAULT 0,
    total_tokens INTEGER DEFAULT 0,
    cost_usd REAL DEFAULT 0.0,
    latency_ms INTEGER DEFAULT 0,
    status TEXT NOT NULL,
    error_message TEXT,
    privacy_level TEXT DEFAULT 'metadata'
);
CREATE TABLE IF NOT EXISTS daily_costs (
    date DATE NOT NULL,
    agent_name TEXT,
    tool_name TEXT NOT NULL,
    model_name TEXT NOT NULL,
    invocations INTEGER DEFAULT 0,
    total_tokens INTEGER DEFAULT 0,
    total_cost_usd REAL DEFAULT 0.0,
    PRIMARY KEY (date, agent_name, tool_name, model_name)
);
CREATE INDEX IF NOT EXISTS idx_invocations_timestamp ON invocations(timestamp);
CREATE INDEX IF NOT EXISTS idx_invocations_agent ON invocations(agent_name);
CREATE INDEX IF NOT EXISTS idx_invocations_tool ON invocations(tool_name);
CREATE INDEX IF NOT EXISTS idx_invocations_model ON invocations(model_name);
CREATE INDEX IF NOT EXISTS idx_invocations_status ON invocations(status);
CREATE INDEX IF NOT EXISTS idx_daily_costs_date ON daily_costs(date);
CREATE TABLE IF NOT EXISTS schema_version (
    version TEXT PRIMARY KEY,
    applied_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    description TEXT
);
INSERT OR IGNORE INTO schema_version (version, description)
VALUES ('1.0.0', 'Initial telemetry schema with invocations and daily_costs tables');
"#;

/// 1.1.0: the board task an invocation worked for. Nullable, so the original writer (which does
/// not know the column) keeps working.
const TASK_ID_COLUMN: &str = "ALTER TABLE invocations ADD COLUMN task_id TEXT";
const TASK_ID_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS idx_invocations_task_id ON invocations(task_id)";

/// 1.2.0: what makes every aggregate cheap at a million rows, whatever wrote the rows.
///
/// * `idx_invocations_julianday`: timestamps come in several formats (`...T...+00:00`, `...Z`,
///   `YYYY-MM-DD HH:MM:SS`), so windows must compare `julianday(timestamp)`, not the text. This
///   expression index makes those comparisons (last 24 h, last 5 minutes) index range scans.
/// * `idx_invocations_model_julianday`: the latency percentile sample (newest N of one model).
/// * `cost_rollup`: per (UTC day, model, agent, tool) sums. `agent_name` is `''` for NULL so that
///   NULL agents aggregate into one row (the original `daily_costs` duplicates them). `day` is `''`
///   for a timestamp SQLite cannot parse (counted in the all-time total only).
/// * `task_costs`: per task id sums (the board).
/// * Triggers on `invocations` keep both exact for inserts, updates and deletes from any
///   connection or process (they live in the database file). `daily_costs` is left to its
///   writers (the original logger upserts it itself; a trigger would count those rows twice).
const ROLLUP_SCHEMA: &str = r#"
CREATE INDEX IF NOT EXISTS idx_invocations_julianday ON invocations(julianday(timestamp));
CREATE INDEX IF NOT EXISTS idx_invocations_model_julianday
    ON invocations(model_name, julianday(timestamp));
CREATE TABLE IF NOT EXISTS cost_rollup (
    day TEXT NOT NULL,
    model_name TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    invocations INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0.0,
    PRIMARY KEY (day, model_name, agent_name, tool_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_costs (
    task_id TEXT PRIMARY KEY,
    invocations INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0.0
) WITHOUT ROWID;
DELETE FROM cost_rollup;
DELETE FROM task_costs;
INSERT INTO cost_rollup (day, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
SELECT COALESCE(date(timestamp), ''), model_name, COALESCE(agent_name, ''), tool_name,
       COUNT(*), SUM(status IS NOT 'success'), SUM(COALESCE(total_tokens, 0)),
       SUM(COALESCE(cost_usd, 0.0))
FROM invocations GROUP BY 1, 2, 3, 4;
INSERT INTO task_costs (task_id, invocations, total_tokens, cost_usd)
SELECT task_id, COUNT(*), SUM(COALESCE(total_tokens, 0)), SUM(COALESCE(cost_usd, 0.0))
FROM invocations WHERE task_id IS NOT NULL GROUP BY task_id;

CREATE TRIGGER IF NOT EXISTS trg_invocations_rollup_insert AFTER INSERT ON invocations
BEGIN
    INSERT INTO cost_rollup (day, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    VALUES (COALESCE(date(NEW.timestamp), ''), NEW.model_name, COALESCE(NEW.agent_name, ''),
            NEW.tool_name, 1, NEW.status IS NOT 'success', COALESCE(NEW.total_tokens, 0),
            COALESCE(NEW.cost_usd, 0.0))
    ON CONFLICT (day, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
    INSERT INTO task_costs (task_id, invocations, total_tokens, cost_usd)
    SELECT NEW.task_id, 1, COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0)
    WHERE NEW.task_id IS NOT NULL
    ON CONFLICT (task_id) DO UPDATE SET
        invocations = invocations + 1,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
END;

CREATE TRIGGER IF NOT EXISTS trg_invocations_rollup_delete AFTER DELETE ON invocations
BEGIN
    UPDATE cost_rollup SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    DELETE FROM cost_rollup
    WHERE day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name
      AND invocations <= 0;
    UPDATE task_costs SET
        invocations = invocations - 1,
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE task_id = OLD.task_id;
    DELETE FROM task_costs WHERE task_id = OLD.task_id AND invocations <= 0;
END;

CREATE TRIGGER IF NOT EXISTS trg_invocations_rollup_update
AFTER UPDATE OF timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, status, task_id
ON invocations
BEGIN
    UPDATE cost_rollup SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    INSERT INTO cost_rollup (day, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    VALUES (COALESCE(date(NEW.timestamp), ''), NEW.model_name, COALESCE(NEW.agent_name, ''),
            NEW.tool_name, 1, NEW.status IS NOT 'success', COALESCE(NEW.total_tokens, 0),
            COALESCE(NEW.cost_usd, 0.0))
    ON CONFLICT (day, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
    DELETE FROM cost_rollup WHERE invocations <= 0
      AND day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    UPDATE task_costs SET
        invocations = invocations - 1,
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE task_id = OLD.task_id;
    INSERT INTO task_costs (task_id, invocations, total_tokens, cost_usd)
    SELECT NEW.task_id, 1, COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0)
    WHERE NEW.task_id IS NOT NULL
    ON CONFLICT (task_id) DO UPDATE SET
        invocations = invocations + 1,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
    DELETE FROM task_costs WHERE task_id = OLD.task_id AND invocations <= 0;
END;
"#;

/// 1.3.0: `cost_rollup_hourly`, per (UTC hour, model, agent, tool), kept by triggers of its own
/// beside 1.2.0's. The rolling 24 h reads its whole hours from it and only the partial hour at
/// its start from `invocations` (at 10 000 000 rows over three months: ~100 000 rows → a few
/// hundred). A timestamp SQLite cannot parse has no hour (it is in the all-time total only).
/// `hour` is `YYYY-MM-DD HH:00:00`, UTC.
const HOURLY_ROLLUP_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS cost_rollup_hourly (
    hour TEXT NOT NULL,
    model_name TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    invocations INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0.0,
    PRIMARY KEY (hour, model_name, agent_name, tool_name)
) WITHOUT ROWID;
DELETE FROM cost_rollup_hourly;
INSERT INTO cost_rollup_hourly (hour, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
SELECT strftime('%Y-%m-%d %H:00:00', timestamp), model_name, COALESCE(agent_name, ''), tool_name,
       COUNT(*), SUM(status IS NOT 'success'), SUM(COALESCE(total_tokens, 0)),
       SUM(COALESCE(cost_usd, 0.0))
FROM invocations WHERE strftime('%Y-%m-%d %H:00:00', timestamp) IS NOT NULL GROUP BY 1, 2, 3, 4;

CREATE TRIGGER IF NOT EXISTS trg_invocations_hourly_insert AFTER INSERT ON invocations
WHEN strftime('%Y-%m-%d %H:00:00', NEW.timestamp) IS NOT NULL
BEGIN
    INSERT INTO cost_rollup_hourly (hour, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    VALUES (strftime('%Y-%m-%d %H:00:00', NEW.timestamp), NEW.model_name,
            COALESCE(NEW.agent_name, ''), NEW.tool_name, 1, NEW.status IS NOT 'success',
            COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0))
    ON CONFLICT (hour, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
END;

CREATE TRIGGER IF NOT EXISTS trg_invocations_hourly_delete AFTER DELETE ON invocations
WHEN strftime('%Y-%m-%d %H:00:00', OLD.timestamp) IS NOT NULL
BEGIN
    UPDATE cost_rollup_hourly SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    DELETE FROM cost_rollup_hourly
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name
      AND invocations <= 0;
END;

-- An update is the old row out and the new row in (each only when its time parses).
CREATE TRIGGER IF NOT EXISTS trg_invocations_hourly_update
AFTER UPDATE OF timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, status
ON invocations
BEGIN
    UPDATE cost_rollup_hourly SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    DELETE FROM cost_rollup_hourly
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name
      AND invocations <= 0;
    INSERT INTO cost_rollup_hourly (hour, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    SELECT strftime('%Y-%m-%d %H:00:00', NEW.timestamp), NEW.model_name,
           COALESCE(NEW.agent_name, ''), NEW.tool_name, 1, NEW.status IS NOT 'success',
           COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0)
    WHERE strftime('%Y-%m-%d %H:00:00', NEW.timestamp) IS NOT NULL
    ON CONFLICT (hour, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
END;
"#;

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

/// The calls no price was found for (few): the cost page lists them apart.
const UNPRICED_INDEX: &str = "CREATE INDEX IF NOT EXISTS idx_invocations_unpriced \
     ON invocations(model_name) \
     WHERE source IS NOT NULL AND reported_cost_usd IS NULL AND computed_cost_usd IS NULL";

/// Each source's latest call and its calls today (the "Connect your agents" page).
const SOURCE_INDEX: &str = "CREATE INDEX IF NOT EXISTS idx_invocations_source \
     ON invocations(source, julianday(timestamp)) WHERE source IS NOT NULL";

/// 1.5.0: a session's calls found at once (a metrics-only sender's provisional rows are
/// removed when its session's calls come; the Sessions page).
const SESSION_INDEX: &str = "CREATE INDEX IF NOT EXISTS idx_invocations_session \
     ON invocations(session_id) WHERE session_id IS NOT NULL";

/// The versions we add, in order.
pub(super) const MIGRATIONS: [(&str, &str); 5] = [
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
pub(super) fn writer_options(path: &Path) -> SqliteConnectOptions {
    base_options(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
}

/// Read connections: `query_only` so a bug in a query can never write to the shared file.
pub(super) fn reader_options(path: &Path) -> SqliteConnectOptions {
    base_options(path).pragma("query_only", "ON")
}

pub(super) async fn writer_pool(path: &Path) -> Result<SqlitePool, TelemetryError> {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .connect_with(writer_options(path))
        .await
        .map_err(|source| TelemetryError::Open {
            path: path.to_path_buf(),
            source,
        })
}

pub(super) async fn reader_pool(path: &Path) -> Result<SqlitePool, TelemetryError> {
    SqlitePoolOptions::new()
        .max_connections(READ_CONNECTIONS)
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
        pool.execute(sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_version (version TEXT PRIMARY KEY, \
             applied_at DATETIME DEFAULT CURRENT_TIMESTAMP, description TEXT); \
             INSERT OR IGNORE INTO schema_version (version, description) VALUES ('1.0.0', \
             'Initial telemetry schema with invocations and daily_costs tables');",
        ))
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
