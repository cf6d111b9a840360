//! `execdash migrate --from sqlite://telemetry.db --to postgres://…`: copies a single machine's
//! history into the team's PostgreSQL store.
//!
//! * **Resumable**: rows are copied in the SQLite file's `id` order, a batch per PostgreSQL
//!   transaction that also records how far the copy got (`migration_progress`, keyed by the
//!   file's absolute path); a copy stopped at any point (Ctrl-C, kill -9, a lost connection) goes
//!   on from the last committed batch when run again, and a finished one copies only rows added
//!   since.
//! * **Idempotent**: an `invocation_id` already in PostgreSQL (copied before, or sent by a node)
//!   is not copied again: a duplicate when every column is the same, a conflict otherwise (the
//!   stored row is kept; the ids are listed in `migration_conflicts` and reported).
//! * **Checked**: at the end every `invocation_id` of the file is looked up in PostgreSQL, and
//!   the count and the cost of those rows are compared with the file's.
//! * **Attributed**: a SQLite file has no repository column, so every row is stored as the
//!   repository `--repo` names (by default the name of the folder the file is in, as `serve`'s
//!   `--repo-name` defaults to its root folder's, where `telemetry.db` is): `/api/repos` counts
//!   their cost under it. The repository is not the call's content: a row already stored under
//!   another one is no conflict (it keeps its own), and the file's rows stored without one (by a
//!   copy made before `--repo` existed) are given it.
//!
//! The file is opened read-only; nothing in it changes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::postgres::{self, StoredInvocation};

/// Rows copied per transaction unless told otherwise.
pub(crate) const DEFAULT_BATCH: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub(crate) enum MigrateError {
    #[error("--from must be a SQLite file (sqlite://PATH or a path): {0}")]
    Source(String),
    #[error("--to must be a PostgreSQL URL (postgres://…): {0}")]
    Target(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("--repo must name a repository (the name a node publishes with --repo-name)")]
    Repository,
    #[error("PostgreSQL: {0}")]
    Postgres(#[source] sqlx::Error),
}

/// What a run did, and what the check found.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct MigrateReport {
    /// Rows in the file.
    pub(crate) rows: u64,
    /// Copied by this run / by every run so far.
    pub(crate) copied_now: u64,
    pub(crate) copied: u64,
    /// Already in PostgreSQL with the same content (every run).
    pub(crate) duplicates: u64,
    /// Already in PostgreSQL with other content (every run): their ids.
    pub(crate) conflicts: Vec<String>,
    /// The repository the rows were stored as.
    pub(crate) repo: String,
    /// Rows of the file PostgreSQL held without a repository, given `repo` by this run.
    pub(crate) attributed: u64,
    /// Whether a node publishes `repo` (else `/api/repos` does not list its cost yet).
    pub(crate) repo_published: bool,
    /// Rows of the file whose `invocation_id` PostgreSQL does not have (0 after a good copy).
    pub(crate) missing: u64,
    /// The file's total cost, and that of the same invocations in PostgreSQL.
    pub(crate) cost_in_file: f64,
    pub(crate) cost_in_store: f64,
}

impl MigrateReport {
    /// Every row of the file is in PostgreSQL with its content.
    pub(crate) fn is_complete(&self) -> bool {
        self.missing == 0 && self.conflicts.is_empty()
    }
}

/// `sqlite://PATH` or a plain path.
fn sqlite_path(url: &str) -> Result<PathBuf, MigrateError> {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || url.contains("://") && !url.starts_with("sqlite://") {
        return Err(MigrateError::Source(url.to_owned()));
    }
    Ok(PathBuf::from(path))
}

/// The repository a file's rows belong to when `--repo` names none: the folder the file is in
/// (a repository's root, where `serve` keeps its `telemetry.db`).
pub(crate) fn default_repository(from: &str) -> Option<String> {
    let path = sqlite_path(from).ok()?;
    let path = std::path::absolute(&path).unwrap_or(path);
    let folder = path.parent()?.file_name()?.to_string_lossy().into_owned();
    Some(folder).filter(|name| !name.trim().is_empty())
}

/// Copies the file at `from` into the store at `to` as repository `repo` (see
/// [`default_repository`]), `batch` rows per transaction, calling `progress(done, total)` after
/// each.
pub(crate) async fn migrate(
    from: &str,
    to: &str,
    repo: &str,
    batch: usize,
    progress: impl Fn(u64, u64),
) -> Result<MigrateReport, MigrateError> {
    let path = sqlite_path(from)?;
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        return Err(MigrateError::Target(to.to_owned()));
    }
    let repo = repo.trim();
    if repo.is_empty() {
        return Err(MigrateError::Repository);
    }
    let path = std::path::absolute(&path).unwrap_or(path);
    let source = open_source(&path).await?;
    let read = |source| MigrateError::Read {
        path: path.clone(),
        source,
    };
    let store = postgres::connect(to)
        .await
        .map_err(MigrateError::Postgres)?;
    let key = path.display().to_string();
    let has_task_id =
        sqlx::query("SELECT 1 FROM pragma_table_info('invocations') WHERE name = 'task_id'")
            .fetch_optional(&source)
            .await
            .map_err(read)?
            .is_some();
    // Files execdash (1.4.0) wrote carry the agents' columns; the original's do not.
    let has_agent_columns = sqlx::query(
        "SELECT 1 FROM pragma_table_info('invocations') WHERE name = 'cache_read_tokens'",
    )
    .fetch_optional(&source)
    .await
    .map_err(read)?
    .is_some();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM invocations")
        .fetch_one(&source)
        .await
        .map_err(read)?;
    let mut report = MigrateReport {
        rows: rows as u64,
        repo: repo.to_owned(),
        ..MigrateReport::default()
    };
    let (mut last_id, copied, duplicates): (i64, i64, i64) = sqlx::query_as(
        "INSERT INTO migration_progress (source) VALUES ($1) ON CONFLICT (source) DO UPDATE \
         SET source = excluded.source RETURNING last_id, copied, duplicates",
    )
    .bind(&key)
    .fetch_one(&store)
    .await
    .map_err(MigrateError::Postgres)?;
    let done_before: i64 = sqlx::query_scalar("SELECT count(*) FROM invocations WHERE id <= ?")
        .bind(last_id)
        .fetch_one(&source)
        .await
        .map_err(read)?;
    report.copied = copied as u64;
    report.duplicates = duplicates as u64;
    let mut done = done_before as u64;
    progress(done, report.rows);
    let started = Instant::now();
    loop {
        let rows = read_batch(&source, last_id, batch, has_task_id, has_agent_columns)
            .await
            .map_err(read)?;
        let Some(&(next_id, _)) = rows.last() else {
            break;
        };
        let invocations: Vec<StoredInvocation> = rows
            .into_iter()
            .map(|(_, row)| StoredInvocation {
                repo: Some(repo.to_owned()),
                any_repo: true,
                ..row
            })
            .collect();
        let mut tx = store.begin().await.map_err(MigrateError::Postgres)?;
        let stored = postgres::store(&mut tx, &invocations)
            .await
            .map_err(MigrateError::Postgres)?;
        sqlx::query(
            "UPDATE migration_progress SET last_id = $2, copied = copied + $3, \
             duplicates = duplicates + $4, updated_at = now() WHERE source = $1",
        )
        .bind(&key)
        .bind(next_id)
        .bind(stored.inserted as i64)
        .bind(stored.duplicates as i64)
        .execute(&mut *tx)
        .await
        .map_err(MigrateError::Postgres)?;
        for id in &stored.conflicts {
            sqlx::query(
                "INSERT INTO migration_conflicts (source, invocation_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&key)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(MigrateError::Postgres)?;
        }
        tx.commit().await.map_err(MigrateError::Postgres)?;
        last_id = next_id;
        report.copied_now += stored.inserted;
        report.copied += stored.inserted;
        report.duplicates += stored.duplicates;
        done += invocations.len() as u64;
        progress(done.min(report.rows), report.rows);
    }
    tracing::debug!(copied = report.copied_now, elapsed = ?started.elapsed(), "copied");
    report.conflicts = sqlx::query_scalar(
        "SELECT invocation_id FROM migration_conflicts WHERE source = $1 ORDER BY invocation_id",
    )
    .bind(&key)
    .fetch_all(&store)
    .await
    .map_err(MigrateError::Postgres)?;
    check(&path, &source, &store, &mut report).await?;
    report.repo_published = sqlx::query("SELECT 1 FROM repos WHERE name = $1")
        .bind(repo)
        .fetch_optional(&store)
        .await
        .map_err(MigrateError::Postgres)?
        .is_some();
    source.close().await;
    store.close().await;
    Ok(report)
}

async fn open_source(path: &Path) -> Result<SqlitePool, MigrateError> {
    if !path.is_file() {
        return Err(MigrateError::Source(format!(
            "{}: no such file",
            path.display()
        )));
    }
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .read_only(true)
                .busy_timeout(super::db::BUSY_TIMEOUT),
        )
        .await
        .map_err(|source| MigrateError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// The next `batch` rows after `last_id`, with their ids. Columns are cast as the schema
/// declares them (SQLite stores what a writer gave), and the timestamp is parsed by SQLite
/// itself, as the file's own rollups parse it.
async fn read_batch(
    source: &SqlitePool,
    last_id: i64,
    batch: usize,
    has_task_id: bool,
    has_agent_columns: bool,
) -> Result<Vec<(i64, StoredInvocation)>, sqlx::Error> {
    let task_id = if has_task_id { "task_id" } else { "NULL" };
    let agent_columns = if has_agent_columns {
        ", source, session_id, CAST(cache_read_tokens AS INTEGER) AS cache_read_tokens, \
         CAST(cache_write_tokens AS INTEGER) AS cache_write_tokens, \
         CAST(reported_cost_usd AS REAL) AS reported_cost_usd, \
         CAST(computed_cost_usd AS REAL) AS computed_cost_usd, attribution"
    } else {
        ""
    };
    let sql = format!(
        "SELECT id, invocation_id, CAST(timestamp AS TEXT) AS timestamp, \
         strftime('%Y-%m-%dT%H:%M:%fZ', timestamp) AS at, agent_name, tool_name, model_name, \
         CAST(prompt_tokens AS INTEGER) AS prompt_tokens, \
         CAST(completion_tokens AS INTEGER) AS completion_tokens, \
         CAST(total_tokens AS INTEGER) AS total_tokens, CAST(cost_usd AS REAL) AS cost_usd, \
         CAST(latency_ms AS INTEGER) AS latency_ms, status, error_message, privacy_level, \
         {task_id} AS task_id{agent_columns} \
         FROM invocations WHERE id > ? ORDER BY id LIMIT ?"
    );
    let rows = sqlx::query_as::<_, Numbered>(&sql)
        .bind(last_id)
        .bind(batch as i64)
        .fetch_all(source)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.id, row.invocation))
        .collect())
}

/// A row of the file with its `id` (the copy's progress).
#[derive(sqlx::FromRow)]
struct Numbered {
    id: i64,
    #[sqlx(flatten)]
    invocation: StoredInvocation,
}

/// Looks every `invocation_id` of the file up in PostgreSQL (10 000 at a time): how many are
/// missing, and the cost of the file's rows against that of the stored ones. On the way, the
/// file's rows stored without a repository are given `report.repo`.
async fn check(
    path: &Path,
    source: &SqlitePool,
    store: &sqlx::PgPool,
    report: &mut MigrateReport,
) -> Result<(), MigrateError> {
    let mut last_id = 0_i64;
    loop {
        let rows: Vec<(i64, String, f64)> = sqlx::query_as(
            "SELECT id, invocation_id, COALESCE(CAST(cost_usd AS REAL), 0.0) FROM invocations \
             WHERE id > ? ORDER BY id LIMIT 10000",
        )
        .bind(last_id)
        .fetch_all(source)
        .await
        .map_err(|source| MigrateError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let Some(&(next, _, _)) = rows.last() else {
            return Ok(());
        };
        last_id = next;
        let ids: Vec<&str> = rows.iter().map(|(_, id, _)| id.as_str()).collect();
        let attributed = sqlx::query(
            "UPDATE invocations SET repo = $2 WHERE invocation_id = ANY($1) AND repo IS NULL",
        )
        .bind(&ids)
        .bind(&report.repo)
        .execute(store)
        .await
        .map_err(MigrateError::Postgres)?;
        report.attributed += attributed.rows_affected();
        report.cost_in_file += rows.iter().map(|(_, _, cost)| cost).sum::<f64>();
        // An id may be in the file twice (no UNIQUE in a hand-made file): count it as often.
        let (found, cost): (i64, f64) = sqlx::query_as(
            "SELECT count(*), COALESCE(sum(COALESCE(i.cost_usd, 0.0)), 0.0) \
             FROM UNNEST($1::text[]) AS f(id) JOIN invocations i ON i.invocation_id = f.id",
        )
        .bind(&ids)
        .fetch_one(store)
        .await
        .map_err(MigrateError::Postgres)?;
        report.missing += ids.len() as u64 - found as u64;
        report.cost_in_store += cost;
    }
}
