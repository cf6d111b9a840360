//! The shared store of a team: the telemetry schema on PostgreSQL, its migrations, and storing
//! rows in bulk (idempotent on `invocation_id`, with the same duplicate/conflict rule as the
//! SQLite file).
//!
//! The schema is the SQLite one's, typed: `at` is the parsed time of `timestamp` (kept as
//! written), `repo` the repository an invocation worked for, and the rollups (`cost_rollup`,
//! with a repository dimension, and `task_costs`) are kept exact by statement-level triggers
//! over transition tables, so a multi-row insert updates each rollup row once, whatever
//! process wrote the rows. The original's `daily_costs` is not carried over: only its Python
//! logger (which writes SQLite) reads it.
//!
//! Migrations are recorded in `schema_version` and applied under a transaction-scoped advisory
//! lock, so several execdash nodes starting at once apply each exactly once. Their DDL is in
//! `migrations/postgres/` (see `migrations/README.md`), included at compile time.

use std::collections::{HashMap, HashSet};

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::Executor;
use tokio::sync::watch;

use super::ingest::Outcome;
use super::invocation::CopyFacts;

/// The channel the invocations' trigger notifies.
const CHANNEL: &str = "execdash_telemetry";

/// `schema_version`, made sure of in every migration's transaction under its lock:
/// `migrations/postgres/schema-version.sql`.
const BOOKKEEPING: &str = include_str!("../../migrations/postgres/schema-version.sql");

/// 2.0.0: the whole schema, as of the SQLite file's 1.2.0 plus `at` and `repo`:
/// `migrations/postgres/2.0.0-schema.sql`.
const SCHEMA_2_0_0: &str = include_str!("../../migrations/postgres/2.0.0-schema.sql");

/// 2.1.0: the boards every node publishes (see `crate::team`):
/// `migrations/postgres/2.1.0-boards.sql`.
const SCHEMA_2_1_0: &str = include_str!("../../migrations/postgres/2.1.0-boards.sql");

/// 2.2.0: the columns of the SQLite file's 1.4.0 (the coding agents' own reports):
/// `migrations/postgres/2.2.0-agent-columns.sql`.
const SCHEMA_2_2_0: &str = include_str!("../../migrations/postgres/2.2.0-agent-columns.sql");

/// 2.3.0: the SQLite file's 1.5.0 (invocations by session):
/// `migrations/postgres/2.3.0-session-index.sql`.
const SCHEMA_2_3_0: &str = include_str!("../../migrations/postgres/2.3.0-session-index.sql");

/// 2.4.0: the rollup triggers return at once for a statement that changed no row, metered rows
/// are indexed apart, the index by repository and time (read by no query) is dropped:
/// `migrations/postgres/2.4.0-less-write-work.sql`.
const SCHEMA_2_4_0: &str = include_str!("../../migrations/postgres/2.4.0-less-write-work.sql");

/// The versions, in order (the SQLite file's are 1.x).
const MIGRATIONS: [(&str, &str, &str); 5] = [
    (
        "2.0.0",
        "execdash: the telemetry schema on PostgreSQL, rollups kept by statement triggers",
        SCHEMA_2_0_0,
    ),
    (
        "2.1.0",
        "execdash: the boards the nodes publish (repos, repo_files)",
        SCHEMA_2_1_0,
    ),
    (
        "2.2.0",
        "execdash: invocations' source, session, cache tokens, reported and computed cost, attribution",
        SCHEMA_2_2_0,
    ),
    (
        "2.3.0",
        "execdash: invocations by session",
        SCHEMA_2_3_0,
    ),
    (
        "2.4.0",
        "execdash: no rollup work for statements that change no row; metered rows indexed apart; no index by repository",
        SCHEMA_2_4_0,
    ),
];

/// Any number, the same in every node: the advisory lock migrations take.
const MIGRATION_LOCK: i64 = 0x6578_6563_6461_7368; // "execdash"

/// How long a query waits for a connection (a new one included) before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the connection that finds out why the pool timed out waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A pool on the database `url` (`postgres://…`), with the schema brought up to date.
pub(crate) async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        // A database that does not answer is reported (`unreachable`, a 503) within seconds,
        // not after sqlx's default of 30 s (by then the request has timed out).
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await;
    let pool = match pool {
        Ok(pool) => pool,
        Err(sqlx::Error::PoolTimedOut) => return Err(why_no_connection(&options).await),
        Err(error) => return Err(error),
    };
    if let Err(error) = prepare(&pool).await {
        return Err(explained(&pool, error).await);
    }
    Ok(pool)
}

/// `error`, or why it happened when it is the pool's timeout. sqlx tries a refused connection
/// again until the pool's timeout and then says only "pool timed out while waiting for an open
/// connection", which reads like a busy database: one connection tried at once with the pool's
/// options gives PostgreSQL's own answer instead ("Connection refused", "the database system is
/// starting up", a wrong password…), or says that nothing answers. A timeout while PostgreSQL
/// does accept connections (every one of the pool's is busy) stays as it is.
pub(crate) async fn explained(pool: &PgPool, error: sqlx::Error) -> sqlx::Error {
    match error {
        sqlx::Error::PoolTimedOut => why_no_connection(&pool.connect_options()).await,
        error => error,
    }
}

async fn why_no_connection(options: &PgConnectOptions) -> sqlx::Error {
    use sqlx::{ConnectOptions as _, Connection as _};
    let server = format!(
        "PostgreSQL at {}:{}",
        options.get_host(),
        options.get_port()
    );
    match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            sqlx::Error::PoolTimedOut
        }
        Ok(Err(sqlx::Error::Io(error))) => sqlx::Error::Io(std::io::Error::new(
            error.kind(),
            format!("{server}: {error}"),
        )),
        Ok(Err(error)) => error,
        Err(_) => sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "{server} does not answer (no connection within {} s)",
                (ACQUIRE_TIMEOUT + PROBE_TIMEOUT).as_secs()
            ),
        )),
    }
}

/// Listens for commits to the invocations by any node or process: each bumps `changes`. A lost
/// connection is opened again, and once it listens again `changes` is bumped (notifications sent
/// while nobody listened are lost, so whoever follows `changes` reads again). The task ends when
/// aborted.
pub(crate) async fn listen(
    pool: &PgPool,
    changes: Arc<watch::Sender<u64>>,
) -> Result<tokio::task::AbortHandle, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let pool = pool.clone();
    let task = tokio::spawn(async move {
        loop {
            // `None`: the connection was lost.
            while let Ok(Some(_)) = listener.try_recv().await {
                changes.send_modify(|n| *n += 1);
            }
            tracing::warn!("the PostgreSQL notification connection was lost: reconnecting");
            listener = listening(&pool, CHANNEL).await;
            changes.send_modify(|n| *n += 1);
        }
    });
    Ok(task.abort_handle())
}

/// A listener on `channel`, tried again every second until PostgreSQL answers. Whatever is
/// notified from the moment it returns is received.
pub(crate) async fn listening(pool: &PgPool, channel: &str) -> PgListener {
    loop {
        let error = match PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(channel).await {
                Ok(()) => return listener,
                Err(error) => error,
            },
            Err(error) => error,
        };
        let error = explained(pool, error).await;
        tracing::warn!(channel, "PostgreSQL notifications: {error}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Applies the migrations not recorded in `schema_version` yet, each in a transaction that holds
/// the migration lock.
pub(crate) async fn prepare(pool: &PgPool) -> Result<(), sqlx::Error> {
    for (version, description, sql) in MIGRATIONS {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        // Only when missing: `CREATE TABLE IF NOT EXISTS` on an existing table makes PostgreSQL
        // send a notice ("already exists, skipping"), logged at every start otherwise.
        let bookkept: bool = sqlx::query_scalar("SELECT to_regclass('schema_version') IS NOT NULL")
            .fetch_one(&mut *tx)
            .await?;
        if !bookkept {
            (&mut *tx).execute(sqlx::raw_sql(BOOKKEEPING)).await?;
        }
        let applied = sqlx::query("SELECT 1 FROM schema_version WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !applied {
            tracing::info!(version, "applying the PostgreSQL telemetry migration");
            (&mut *tx).execute(sqlx::raw_sql(sql)).await?;
            sqlx::query("INSERT INTO schema_version (version, description) VALUES ($1, $2)")
                .bind(version)
                .bind(description)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

impl StoredInvocation {
    fn facts(&self) -> CopyFacts<'_> {
        CopyFacts {
            source: self.source.as_deref(),
            model_name: &self.model_name,
            total_tokens: self.total_tokens.unwrap_or_default(),
            attribution: self.attribution.as_deref(),
            reported_cost_usd: self.reported_cost_usd,
        }
    }
}

/// Every column of a stored invocation, in the order [`bind_stored`] binds them.
pub(super) const STORED_COLUMNS: &str = "invocation_id, timestamp, at, agent_name, tool_name, \
     model_name, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, status, \
     error_message, privacy_level, task_id, repo, source, session_id, cache_read_tokens, \
     cache_write_tokens, reported_cost_usd, computed_cost_usd, attribution";

/// Binds every column of `row` as `$1`…`$23`, in the order of [`STORED_COLUMNS`].
pub(super) fn bind_stored<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    row: &'q StoredInvocation,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(&row.invocation_id)
        .bind(&row.timestamp)
        .bind(&row.at)
        .bind(&row.agent_name)
        .bind(&row.tool_name)
        .bind(&row.model_name)
        .bind(row.prompt_tokens)
        .bind(row.completion_tokens)
        .bind(row.total_tokens)
        .bind(row.cost_usd)
        .bind(row.latency_ms)
        .bind(&row.status)
        .bind(&row.error_message)
        .bind(&row.privacy_level)
        .bind(&row.task_id)
        .bind(&row.repo)
        .bind(&row.source)
        .bind(&row.session_id)
        .bind(row.cache_read_tokens)
        .bind(row.cache_write_tokens)
        .bind(row.reported_cost_usd)
        .bind(row.computed_cost_usd)
        .bind(&row.attribution)
}

/// The stored copy of `row`'s call replaced by `row`, which completes it (the rollups follow by
/// their triggers).
async fn complete(tx: &mut sqlx::PgConnection, row: &StoredInvocation) -> Result<(), sqlx::Error> {
    let update = sqlx::query(
        "UPDATE invocations SET timestamp = COALESCE($2, timestamp), \
         at = COALESCE($3::timestamptz, at), agent_name = $4, tool_name = $5, model_name = $6, \
         prompt_tokens = $7, completion_tokens = $8, total_tokens = $9, cost_usd = $10, \
         latency_ms = $11, status = $12, error_message = $13, \
         privacy_level = COALESCE($14, 'metadata'), task_id = $15, repo = COALESCE(repo, $16), \
         source = $17, session_id = $18, cache_read_tokens = $19, cache_write_tokens = $20, \
         reported_cost_usd = $21, computed_cost_usd = $22, attribution = $23 \
         WHERE invocation_id = $1",
    );
    bind_stored(update, row).execute(&mut *tx).await?;
    Ok(())
}

/// One invocation as stored, every column as the SQLite file may hold it (read from either
/// database by the column names).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub(crate) struct StoredInvocation {
    pub invocation_id: String,
    pub timestamp: Option<String>,
    /// `timestamp` parsed, RFC 3339 in UTC; `None` when it is not a time.
    pub at: Option<String>,
    pub agent_name: Option<String>,
    pub tool_name: String,
    pub model_name: String,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub total_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub latency_ms: Option<i64>,
    pub status: String,
    pub error_message: Option<String>,
    pub privacy_level: Option<String>,
    pub task_id: Option<String>,
    /// Not in a SQLite file.
    #[sqlx(default)]
    pub repo: Option<String>,
    /// Schema 1.4.0 / 2.2.0 (absent from older SQLite files a migration reads).
    #[sqlx(default)]
    pub source: Option<String>,
    #[sqlx(default)]
    pub session_id: Option<String>,
    #[sqlx(default)]
    pub cache_read_tokens: Option<i64>,
    #[sqlx(default)]
    pub cache_write_tokens: Option<i64>,
    #[sqlx(default)]
    pub reported_cost_usd: Option<f64>,
    #[sqlx(default)]
    pub computed_cost_usd: Option<f64>,
    #[sqlx(default)]
    pub attribution: Option<String>,
    /// The timestamp was not given (so "now"): another one is no conflict.
    #[sqlx(skip)]
    pub any_timestamp: bool,
    /// The repository was assumed, not given (a migrated file's rows): a row stored under
    /// another one, or none, is no conflict.
    #[sqlx(skip)]
    pub any_repo: bool,
}

/// What storing a batch did.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct StoreReport {
    pub inserted: u64,
    /// Already stored with the same content.
    pub duplicates: u64,
    /// Already stored with other content: left as stored.
    pub conflicts: Vec<String>,
    /// Already stored from a copy that said less: completed (see `Invocation::completes`).
    pub completed: u64,
}

/// Stores `rows` with one multi-row insert in the transaction `tx`: a row whose
/// `invocation_id` is stored already is a duplicate when every column is the same, else a
/// conflict (the stored row is kept).
pub(crate) async fn store(
    tx: &mut sqlx::PgConnection,
    rows: &[StoredInvocation],
) -> Result<StoreReport, sqlx::Error> {
    let mut report = StoreReport::default();
    for (row, outcome) in rows.iter().zip(store_rows(tx, rows).await?) {
        match outcome {
            Outcome::Inserted => report.inserted += 1,
            Outcome::Duplicate => report.duplicates += 1,
            Outcome::Completed => report.completed += 1,
            Outcome::Conflict => report.conflicts.push(row.invocation_id.clone()),
        }
    }
    Ok(report)
}

/// [`store`], what became of each row, in order.
pub(super) async fn store_rows(
    tx: &mut sqlx::PgConnection,
    rows: &[StoredInvocation],
) -> Result<Vec<Outcome>, sqlx::Error> {
    macro_rules! column {
        ($field:ident) => {
            rows.iter().map(|r| r.$field.clone()).collect::<Vec<_>>()
        };
    }
    let inserted: HashSet<String> = sqlx::query_scalar(
        "INSERT INTO invocations (invocation_id, timestamp, at, agent_name, tool_name, \
         model_name, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, \
         status, error_message, privacy_level, task_id, repo, source, session_id, \
         cache_read_tokens, cache_write_tokens, reported_cost_usd, computed_cost_usd, \
         attribution) \
         SELECT i, ts, a::timestamptz, ag, tl, m, pt, ct, tt, c, l, s, e, COALESCE(p, 'metadata'), t, r, \
                so, se, cr, cw, rc, cc, at \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                     $7::int8[], $8::int8[], $9::int8[], $10::float8[], $11::int8[], \
                     $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], \
                     $17::text[], $18::text[], $19::int8[], $20::int8[], $21::float8[], \
                     $22::float8[], $23::text[]) \
              AS u(i, ts, a, ag, tl, m, pt, ct, tt, c, l, s, e, p, t, r, so, se, cr, cw, rc, cc, at) \
         ON CONFLICT (invocation_id) DO NOTHING RETURNING invocation_id",
    )
    .bind(column!(invocation_id))
    .bind(column!(timestamp))
    .bind(column!(at))
    .bind(column!(agent_name))
    .bind(column!(tool_name))
    .bind(column!(model_name))
    .bind(column!(prompt_tokens))
    .bind(column!(completion_tokens))
    .bind(column!(total_tokens))
    .bind(column!(cost_usd))
    .bind(column!(latency_ms))
    .bind(column!(status))
    .bind(column!(error_message))
    .bind(column!(privacy_level))
    .bind(column!(task_id))
    .bind(column!(repo))
    .bind(column!(source))
    .bind(column!(session_id))
    .bind(column!(cache_read_tokens))
    .bind(column!(cache_write_tokens))
    .bind(column!(reported_cost_usd))
    .bind(column!(computed_cost_usd))
    .bind(column!(attribution))
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    // A batch may hold an id twice: the first of them was inserted, the others are compared.
    let mut first_seen = HashSet::new();
    let mut outcomes: Vec<Outcome> = rows
        .iter()
        .map(|r| {
            if inserted.contains(&r.invocation_id) && first_seen.insert(&r.invocation_id) {
                Outcome::Inserted
            } else {
                // Compared below.
                Outcome::Duplicate
            }
        })
        .collect();
    let skipped: Vec<(usize, &StoredInvocation)> = rows
        .iter()
        .enumerate()
        .filter(|(index, _)| outcomes[*index] != Outcome::Inserted)
        .collect();
    if skipped.is_empty() {
        return Ok(outcomes);
    }
    let ids: Vec<&str> = skipped
        .iter()
        .map(|(_, r)| r.invocation_id.as_str())
        .collect();
    let stored: HashMap<String, StoredInvocation> = sqlx::query_as::<_, StoredInvocation>(
        "SELECT invocation_id, timestamp, \
         to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at, agent_name, \
         tool_name, model_name, prompt_tokens, completion_tokens, total_tokens, cost_usd, \
         latency_ms, status, error_message, privacy_level, task_id, repo, source, session_id, \
         cache_read_tokens, cache_write_tokens, reported_cost_usd, computed_cost_usd, \
         attribution \
         FROM invocations WHERE invocation_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|stored| (stored.invocation_id.clone(), stored))
    .collect();
    for (index, row) in skipped {
        let same = stored.get(&row.invocation_id).is_some_and(|stored| {
            let as_stored = StoredInvocation {
                privacy_level: row.privacy_level.clone().or(Some("metadata".into())),
                at: stored.at.clone(),
                timestamp: if row.any_timestamp {
                    stored.timestamp.clone()
                } else {
                    row.timestamp.clone()
                },
                repo: if row.any_repo {
                    stored.repo.clone()
                } else {
                    row.repo.clone()
                },
                any_timestamp: false,
                any_repo: false,
                ..row.clone()
            };
            *stored == as_stored
        });
        let completes = stored
            .get(&row.invocation_id)
            .is_some_and(|stored| row.facts().completes(&stored.facts()));
        outcomes[index] = if same {
            Outcome::Duplicate
        } else if completes {
            complete(&mut *tx, row).await?;
            Outcome::Completed
        } else {
            Outcome::Conflict
        };
    }
    Ok(outcomes)
}
