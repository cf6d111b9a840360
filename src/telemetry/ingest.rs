//! Storing a batch of invocations: all or nothing, idempotent on `invocation_id`, conflicts
//! (same id, other content) reported.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqlitePool};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::error::{IngestError, TelemetryError};
use super::invocation::{CopyFacts, Invocation};
use super::rollup::{add_daily, day_of, DailyDelta, DailyKey, Rollups};
use super::{postgres, Pools, Telemetry};

/// The largest batch [`Telemetry::ingest`] accepts (one transaction holds the write lock, which
/// the other process's writer waits for; 10 000 rows take well under a second).
pub(crate) const MAX_BATCH: usize = 10_000;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Rows written.
    pub inserted: u64,
    /// Rows already stored with exactly the same content (a retry, or repeated in the batch):
    /// not written again.
    pub duplicates: u64,
    /// `invocation_id`s already stored (or earlier in the batch) with *other* content: not
    /// written, the stored row is kept.
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// Rows already stored from a copy of the same call that said less (a transcript's), now
    /// completed with this one's agent, task and reported cost (see
    /// [`CopyFacts::completes`]): the call still counts once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub completed: u64,
    /// Metered rows (a metrics-only sender's usage) of the sessions whose calls were stored,
    /// removed: the calls say the same, call by call (see `Telemetry::meter`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub superseded: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// How often a batch is stored again because the file was deleted or replaced during its
/// transaction (each time the path is opened afresh; more means someone keeps deleting it).
const ATTEMPTS: usize = 3;

impl Telemetry {
    /// Validates the whole batch first (nothing is written if one row is invalid), then inserts
    /// it in one `BEGIN IMMEDIATE` transaction with `INSERT OR IGNORE`, so that re-sending a
    /// batch (a client retry after a timeout) stores nothing twice; an `invocation_id` stored
    /// with other content is a conflict, reported and not written. The original `daily_costs`
    /// table is upserted in the same transaction for the rows actually inserted. Returns after
    /// the commit into the file `--db` names, and notifies [`Telemetry::watch_changes`] if
    /// anything was inserted. On SQLite the transaction may hold other batches that arrived
    /// meanwhile (group commit, see [`super::writer`]); the report is this batch's alone, as if stored
    /// alone after the batches before it. Waits for room when the writer's queue is full.
    pub async fn ingest(&self, batch: Vec<Invocation>) -> Result<IngestReport, IngestError> {
        let rows = validated(batch)?;
        if rows.is_empty() {
            return Ok(IngestReport::default());
        }
        self.written(rows, true).await
    }

    /// Like [`Telemetry::ingest`], but when the writer's queue is full (see
    /// [`super::writer::MAX_QUEUED_ROWS`]) the batch is refused at once with
    /// [`IngestError::Busy`] instead of waiting for room: what an HTTP receiver answers with
    /// `503` and `Retry-After`.
    pub async fn try_ingest(&self, batch: Vec<Invocation>) -> Result<IngestReport, IngestError> {
        let rows = validated(batch)?;
        if rows.is_empty() {
            return Ok(IngestReport::default());
        }
        self.written(rows, false).await
    }

    /// Stores `batches` in one transaction (the writer's group), each with its own report, as if
    /// each had been stored alone in turn. Returns after the commit into the file `--db` names,
    /// and notifies [`Telemetry::watch_changes`] if anything was written.
    pub(super) async fn store_batches(
        &self,
        batches: &[&[Invocation]],
    ) -> Result<Vec<IngestReport>, IngestError> {
        for _ in 0..ATTEMPTS {
            let connection = self.connection().await?;
            let outcome = match &connection.pools {
                Pools::Sqlite { writer, .. } => store(writer, batches).await,
                Pools::Postgres(pool) => store_in_postgres(pool, batches).await,
            };
            let outcome = self.explained(outcome).await;
            self.note_write(outcome.as_ref().map(|_| ()));
            let reports = outcome?;
            // Committed into the file we had open: if the path no longer names it (deleted
            // during the transaction), the rows would vanish with it, so they are stored again
            // in the file the path names now before anything is acknowledged.
            if !connection.is_current(self.location()) {
                tracing::warn!(
                    location = %self.location(),
                    "the telemetry database was deleted or replaced during a write: storing the batch again"
                );
                continue;
            }
            if reports
                .iter()
                .any(|r| r.inserted + r.completed + r.superseded > 0)
            {
                self.notify_changed();
            }
            tracing::debug!(
                batches = batches.len(),
                inserted = reports.iter().map(|r| r.inserted).sum::<u64>(),
                duplicates = reports.iter().map(|r| r.duplicates).sum::<u64>(),
                conflicts = reports.iter().map(|r| r.conflicts.len()).sum::<usize>(),
                "telemetry batches stored"
            );
            return Ok(reports);
        }
        Err(IngestError::Unavailable(TelemetryError::Vanished {
            path: self
                .location()
                .file()
                .unwrap_or(Path::new(""))
                .to_path_buf(),
        }))
    }
}

/// The batch validated (all of it, or the first invalid row's error), within [`MAX_BATCH`].
fn validated(batch: Vec<Invocation>) -> Result<Vec<Invocation>, IngestError> {
    if batch.len() > MAX_BATCH {
        return Err(IngestError::BatchTooLarge {
            len: batch.len(),
            max: MAX_BATCH,
        });
    }
    let now = Utc::now();
    batch
        .into_iter()
        .enumerate()
        .map(|(index, invocation)| {
            invocation
                .validated(now)
                .map_err(|error| IngestError::Invalid { index, error })
        })
        .collect()
}

/// What became of one row of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Inserted,
    Duplicate,
    Conflict,
    Completed,
}

/// The reports of `batches` from the outcomes of their rows (in the same order, all batches
/// one after the other) and the metered rows each one superseded.
pub(super) fn reports_of(
    batches: &[&[Invocation]],
    outcomes: &[Outcome],
    superseded: &[u64],
) -> Vec<IngestReport> {
    let mut outcomes = outcomes.iter();
    batches
        .iter()
        .zip(superseded)
        .map(|(batch, superseded)| {
            let mut report = IngestReport {
                superseded: *superseded,
                ..IngestReport::default()
            };
            for (row, outcome) in batch.iter().zip(outcomes.by_ref()) {
                match outcome {
                    Outcome::Inserted => report.inserted += 1,
                    Outcome::Duplicate => report.duplicates += 1,
                    Outcome::Completed => report.completed += 1,
                    Outcome::Conflict => report.conflicts.push(row.invocation_id.clone()),
                }
            }
            report
        })
        .collect()
}

/// Rows in one multi-row `INSERT` (21 parameters each, within SQLite's 32 766) or one lookup.
const ROWS_PER_INSERT: usize = 1_000;

/// One transaction: every row is inserted unless its `invocation_id` is stored already (a few
/// multi-row `INSERT OR IGNORE`s, and the ids that went in asked only when fewer did than were
/// offered: each statement is a hand-over to the connection's thread and back, and the driver
/// hands over each row a statement returns on its own); a row not inserted is compared with the
/// stored one to tell a duplicate from a conflict. The group's rollups are summed in memory
/// (see `rollup`).
async fn store(
    writer: &SqlitePool,
    batches: &[&[Invocation]],
) -> Result<Vec<IngestReport>, sqlx::Error> {
    let rows: Vec<&Invocation> = batches.iter().flat_map(|batch| batch.iter()).collect();
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let mut daily: HashMap<DailyKey, DailyDelta> = HashMap::new();
    // The first row of each id in the group is offered; `OR IGNORE` skips the ids stored already.
    // The others are compared below.
    let mut first: HashSet<&str> = HashSet::with_capacity(rows.len());
    let offered: Vec<&Invocation> = rows
        .iter()
        .copied()
        .filter(|row| first.insert(row.invocation_id.as_str()))
        .collect();
    let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM invocations")
        .fetch_one(&mut *tx)
        .await?;
    // The insert triggers stand aside while `rollup_batch` holds a row: the rollups of the new
    // rows are added once below (see `rollup`), before anything updates or deletes a row (their
    // triggers expect the rows counted).
    sqlx::query("INSERT INTO rollup_batch (id) VALUES (1)")
        .execute(&mut *tx)
        .await?;
    let mut written = 0;
    for chunk in offered.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT OR IGNORE INTO invocations (invocation_id, timestamp, agent_name, tool_name, \
             model_name, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, \
             status, error_message, privacy_level, task_id, source, session_id, \
             cache_read_tokens, cache_write_tokens, reported_cost_usd, computed_cost_usd, \
             attribution) VALUES ",
        );
        for index in 0..chunk.len() {
            if index > 0 {
                sql.push(',');
            }
            sql.push_str(
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, 'metadata'), ?, ?, ?, ?, ?, ?, \
                 ?, ?)",
            );
        }
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = bind_row(query, row, None);
        }
        written += query.execute(&mut *tx).await?.rows_affected();
    }
    // Usually every one was new; otherwise the new ones are those given a row id above the
    // largest before (`AUTOINCREMENT`, and no other writer meanwhile: the lock is ours).
    let new: Vec<&Invocation> = if written == offered.len() as u64 {
        offered
    } else {
        let ids: HashSet<String> =
            sqlx::query_scalar("SELECT invocation_id FROM invocations WHERE id > ?")
                .bind(before)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        offered
            .into_iter()
            .filter(|row| ids.contains(&row.invocation_id))
            .collect()
    };
    let inserted: HashSet<&str> = new.iter().map(|row| row.invocation_id.as_str()).collect();
    let rollups = Rollups::of(&new);
    rollups.add_to(&mut tx).await?;
    rollups.add_original_to(&mut daily);
    sqlx::query("DELETE FROM rollup_batch")
        .execute(&mut *tx)
        .await?;
    let mut first_seen = HashSet::with_capacity(inserted.len());
    for &row in &rows {
        let id = row.invocation_id.as_str();
        if !(inserted.contains(id) && first_seen.insert(id)) {
            if complete(&mut tx, row, &mut daily).await? {
                outcomes.push(Outcome::Completed);
                continue;
            }
            // Every column the client sent must match; a timestamp it left out (so "now") does
            // not count.
            let same = sqlx::query(
                "SELECT 1 FROM invocations WHERE invocation_id = ? \
                 AND (? OR timestamp IS ?) \
                 AND agent_name IS ? AND tool_name IS ? AND model_name IS ? \
                 AND prompt_tokens IS ? AND completion_tokens IS ? AND total_tokens IS ? \
                 AND cost_usd IS ? AND latency_ms IS ? AND status IS ? AND error_message IS ? \
                 AND privacy_level IS COALESCE(?, 'metadata') AND task_id IS ? \
                 AND source IS ? AND session_id IS ? AND cache_read_tokens IS ? \
                 AND cache_write_tokens IS ? AND reported_cost_usd IS ? \
                 AND computed_cost_usd IS ? AND attribution IS ?",
            );
            let same = bind_row(same, row, Some(row.timestamp_defaulted));
            outcomes.push(if same.fetch_optional(&mut *tx).await?.is_some() {
                Outcome::Duplicate
            } else {
                Outcome::Conflict
            });
            continue;
        }
        outcomes.push(Outcome::Inserted);
    }
    add_daily(&mut tx, &daily).await?;
    let superseded = supersede_metered(&mut tx, batches).await?;
    tx.commit().await?;
    Ok(reports_of(batches, &outcomes, &superseded))
}

/// Deletes the metered rows of the sessions whose calls `batches` hold (the calls say the same,
/// call by call); how many each batch superseded (a session counts for the first batch that has
/// it, which would have deleted them stored alone before the others). One statement per
/// thousand sessions, which finds metered rows by their ids' prefix (the unique index on
/// `invocation_id`; `+session_id` keeps SQLite off the session index): a session's calls can be
/// thousands of rows, its metered rows are a few.
async fn supersede_metered(
    tx: &mut Transaction<'static, Sqlite>,
    batches: &[&[Invocation]],
) -> Result<Vec<u64>, sqlx::Error> {
    let sessions = sessions_by_batch(batches);
    let first: HashMap<&str, usize> = sessions.iter().map(|&(index, s)| (s, index)).collect();
    let mut superseded = vec![0; batches.len()];
    for chunk in sessions.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Sqlite>::new(super::meter::SUPERSEDED_SQLITE);
        query.push(" (");
        let mut list = query.separated(", ");
        for (_, session) in chunk {
            list.push_bind(*session);
        }
        query.push(") RETURNING session_id");
        let deleted: Vec<String> = query.build_query_scalar().fetch_all(&mut **tx).await?;
        for session in deleted {
            if let Some(&index) = first.get(session.as_str()) {
                superseded[index] += 1;
            }
        }
    }
    Ok(superseded)
}

/// The sessions of the calls in `rows` (not of metered rows), once each.
pub(super) fn sessions_of(rows: &[Invocation]) -> Vec<&str> {
    let mut sessions: Vec<&str> = rows
        .iter()
        .filter(|row| !row.invocation_id.starts_with(super::meter::METERED_PREFIX))
        .filter_map(|row| row.session_id.as_deref())
        .collect();
    sessions.sort_unstable();
    sessions.dedup();
    sessions
}

/// The sessions of the calls in `batches`, each with the first batch that has it (which
/// supersedes its metered rows, as it would stored alone before the others).
fn sessions_by_batch<'a>(batches: &[&'a [Invocation]]) -> Vec<(usize, &'a str)> {
    let mut seen = HashSet::new();
    let mut sessions = Vec::new();
    for (index, batch) in batches.iter().enumerate() {
        for session in sessions_of(batch) {
            if seen.insert(session) {
                sessions.push((index, session));
            }
        }
    }
    sessions
}

/// The batches in one PostgreSQL transaction, one multi-row insert: the same rule as [`store`]
/// (a timestamp the client left out does not count in the comparison).
async fn store_in_postgres(
    pool: &sqlx::PgPool,
    batches: &[&[Invocation]],
) -> Result<Vec<IngestReport>, sqlx::Error> {
    let stored: Vec<_> = batches
        .iter()
        .flat_map(|batch| batch.iter())
        .map(Invocation::stored)
        .collect();
    let mut tx = pool.begin().await?;
    let outcomes = postgres::store_rows(&mut tx, &stored).await?;
    let mut superseded = vec![0; batches.len()];
    let sessions = sessions_by_batch(batches);
    if !sessions.is_empty() {
        // One statement for all; each session's rows counted for the batch that has it first.
        let names: Vec<&str> = sessions.iter().map(|(_, s)| *s).collect();
        let returning = format!("{} RETURNING session_id", super::meter::SUPERSEDED_POSTGRES);
        let removed: Vec<Option<String>> = sqlx::query_scalar(&returning)
            .bind(&names)
            .fetch_all(&mut *tx)
            .await?;
        let first: HashMap<&str, usize> = sessions.iter().map(|(i, s)| (*s, *i)).collect();
        for session in removed.iter().flatten() {
            if let Some(index) = first.get(session.as_str()) {
                superseded[*index] += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(reports_of(batches, &outcomes, &superseded))
}

/// The stored copy of `row`'s call replaced by `row` when `row` completes it (its `daily_costs`
/// moved along; see [`CopyFacts::completes`]); whether it did.
async fn complete(
    tx: &mut Transaction<'static, Sqlite>,
    row: &Invocation,
    daily: &mut HashMap<DailyKey, DailyDelta>,
) -> Result<bool, sqlx::Error> {
    type Stored = (
        Option<String>,
        Option<String>,
        String,
        String,
        i64,
        f64,
        Option<String>,
        Option<String>,
        Option<f64>,
    );
    let stored: Option<Stored> = sqlx::query_as(
        "SELECT timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, source, \
         attribution, reported_cost_usd FROM invocations WHERE invocation_id = ?",
    )
    .bind(&row.invocation_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((timestamp, agent, tool, model, tokens, cost, source, attribution, reported)) = stored
    else {
        return Ok(false);
    };
    let stored = CopyFacts {
        source: source.as_deref(),
        model_name: &model,
        total_tokens: tokens,
        attribution: attribution.as_deref(),
        reported_cost_usd: reported,
    };
    if !row.facts().completes(&stored) {
        return Ok(false);
    }
    let update = sqlx::query(
        "UPDATE invocations SET timestamp = ?2, agent_name = ?3, tool_name = ?4, \
         model_name = ?5, prompt_tokens = ?6, completion_tokens = ?7, total_tokens = ?8, \
         cost_usd = ?9, latency_ms = ?10, status = ?11, error_message = ?12, \
         privacy_level = COALESCE(?13, 'metadata'), task_id = ?14, source = ?15, \
         session_id = ?16, cache_read_tokens = ?17, cache_write_tokens = ?18, \
         reported_cost_usd = ?19, computed_cost_usd = ?20, attribution = ?21 \
         WHERE invocation_id = ?1",
    );
    bind_row(update, row, None).execute(&mut **tx).await?;
    let date = day_of(timestamp.as_deref()).into_owned();
    let old = daily.entry((date, agent, tool, model)).or_default();
    old.invocations -= 1;
    old.tokens -= tokens;
    old.cost -= cost;
    let new = daily
        .entry((
            day_of(row.timestamp.as_deref()).into_owned(),
            row.agent_name.clone(),
            row.tool_name.clone(),
            row.model_name.clone(),
        ))
        .or_default();
    new.invocations += 1;
    new.tokens += row.total_tokens;
    new.cost += row.cost_usd;
    Ok(true)
}

/// Binds every column of `row`, in the order of the statements above (`any_timestamp`, when
/// given, before the timestamp).
pub(super) fn bind_row<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    row: &'q Invocation,
    any_timestamp: Option<bool>,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    let query = query.bind(&row.invocation_id);
    let query = match any_timestamp {
        Some(any) => query.bind(any),
        None => query,
    };
    query
        .bind(&row.timestamp)
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
        .bind(&row.source)
        .bind(&row.session_id)
        .bind(row.cache_read_tokens)
        .bind(row.cache_write_tokens)
        .bind(row.reported_cost_usd)
        .bind(row.computed_cost_usd)
        .bind(&row.attribution)
}
