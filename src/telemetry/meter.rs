//! Metered usage: what a sender that exports only metrics (Claude Code's `cost.usage` and
//! `token.usage` counters, without its `api_request` events) said a session spent, kept as
//! provisional rows until the session's own calls come.
//!
//! A metered row's id starts with [`METERED_PREFIX`]; it is written again with newer figures
//! (a cumulative counter's running total, or a delta's sum re-sent), never added twice. Once a
//! call of the same session is stored (its event, its transcript, a POST), the session's metered
//! rows are deleted in the same transaction (the calls say the same, call by call; see
//! `IngestReport::superseded`), and metrics for a session whose calls are stored are not kept:
//! each side writes, then removes what the other made redundant, so whichever comes last leaves
//! the session counted once. The rollups follow by their triggers; the original
//! logger's `daily_costs` is not kept for metered rows (it counts calls).

use chrono::Utc;

use super::error::IngestError;
use super::ingest::bind_row;
use super::invocation::Invocation;
use super::postgres;
use super::{Pools, Telemetry};

/// The start of every metered row's `invocation_id` (what the sender's source is follows).
pub(crate) const METERED_PREFIX: &str = "metered:";

/// The columns a metered row sets in a SQLite file, in the order `ingest::bind_row` binds them.
const COLUMNS: &str = "invocation_id, timestamp, agent_name, tool_name, model_name, \
     prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, status, \
     error_message, privacy_level, task_id, source, session_id, cache_read_tokens, \
     cache_write_tokens, reported_cost_usd, computed_cost_usd, attribution";

/// What it changes when written again: its figures, time and attribution.
const UPDATED: &str = "timestamp = excluded.timestamp, agent_name = excluded.agent_name, \
     prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, \
     total_tokens = excluded.total_tokens, cost_usd = excluded.cost_usd, \
     task_id = excluded.task_id, cache_read_tokens = excluded.cache_read_tokens, \
     cache_write_tokens = excluded.cache_write_tokens, \
     reported_cost_usd = excluded.reported_cost_usd, \
     computed_cost_usd = excluded.computed_cost_usd, attribution = excluded.attribution";

/// Sessions' metered rows, removed in the transaction that stores their calls: the sessions'
/// list follows (`(?, …)`). The ids between [`METERED_PREFIX`] and the same with its last
/// character's successor (`;` after `:`) are the metered ones, found on the unique index.
pub(super) const SUPERSEDED_SQLITE: &str = "DELETE FROM invocations \
     WHERE invocation_id >= 'metered:' AND invocation_id < 'metered;' AND +session_id IN";
/// The same for several sessions on PostgreSQL (`$1`: the sessions), through the partial index
/// of metered rows (`idx_invocations_metered`, 2.4.0), whose predicate this one must repeat for
/// the planner to use it.
pub(super) const SUPERSEDED_POSTGRES: &str =
    "DELETE FROM invocations WHERE session_id = ANY($1) AND invocation_id LIKE 'metered:%'";

/// The metered rows of sessions whose calls are stored.
const REDUNDANT: &str = "invocation_id LIKE 'metered:%' AND session_id IS NOT NULL \
     AND EXISTS (SELECT 1 FROM invocations AS call WHERE call.session_id = invocations.session_id \
     AND call.invocation_id NOT LIKE 'metered:%')";

/// What writing metered rows did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeterReport {
    /// Rows written or brought up to date.
    pub written: u64,
    /// Rows removed (or not kept) because their session's calls are stored.
    pub redundant: u64,
}

impl Telemetry {
    /// Writes metered rows (each id's newest figures), then removes those of sessions whose calls
    /// are stored.
    pub async fn meter(&self, rows: Vec<Invocation>) -> Result<MeterReport, IngestError> {
        let now = Utc::now();
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(index, row)| {
                debug_assert!(row.invocation_id.starts_with(METERED_PREFIX));
                row.validated(now)
                    .map_err(|error| IngestError::Invalid { index, error })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(MeterReport::default());
        }
        let sessions: Vec<String> = rows.iter().filter_map(|r| r.session_id.clone()).collect();
        let connection = self.connection().await?;
        let outcome = match &connection.pools {
            Pools::Sqlite { writer, .. } => meter_in_sqlite(writer, &rows, &sessions).await,
            Pools::Postgres(pool) => meter_in_postgres(pool, &rows, &sessions).await,
        };
        let outcome = self.explained(outcome).await;
        self.note_write(outcome.as_ref().map(|_| ()));
        let report = outcome?;
        if report.written > 0 || report.redundant > 0 {
            self.notify_changed();
        }
        Ok(report)
    }
}

async fn meter_in_sqlite(
    writer: &sqlx::SqlitePool,
    rows: &[Invocation],
    sessions: &[String],
) -> Result<MeterReport, sqlx::Error> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let mut report = MeterReport::default();
    for row in rows {
        let statement = format!(
            "INSERT INTO invocations ({COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, 'metadata'), ?, ?, ?, ?, ?, ?, \
                     ?, ?) \
             ON CONFLICT (invocation_id) DO UPDATE SET {UPDATED} \
             WHERE invocations.total_tokens IS NOT excluded.total_tokens \
             OR invocations.cost_usd IS NOT excluded.cost_usd \
             OR invocations.task_id IS NOT excluded.task_id \
             OR invocations.agent_name IS NOT excluded.agent_name"
        );
        let written = bind_row(sqlx::query(&statement), row, None)
            .execute(&mut *tx)
            .await?;
        report.written += written.rows_affected();
    }
    report.redundant = remove_redundant_sqlite(&mut tx, sessions).await?;
    tx.commit().await?;
    Ok(report)
}

async fn remove_redundant_sqlite(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    sessions: &[String],
) -> Result<u64, sqlx::Error> {
    let mut removed = 0;
    for session in sessions {
        removed += sqlx::query(&format!(
            "DELETE FROM invocations WHERE session_id = ? AND {REDUNDANT}"
        ))
        .bind(session)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(removed)
}

async fn meter_in_postgres(
    pool: &sqlx::PgPool,
    rows: &[Invocation],
    sessions: &[String],
) -> Result<MeterReport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut report = MeterReport::default();
    for row in rows.iter().map(Invocation::stored) {
        let statement = format!(
            "INSERT INTO invocations ({}) \
             VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                     COALESCE($14, 'metadata'), $15, $16, $17, $18, $19, $20, $21, $22, $23) \
             ON CONFLICT (invocation_id) DO UPDATE SET {UPDATED}, at = excluded.at \
             WHERE invocations.total_tokens IS DISTINCT FROM excluded.total_tokens \
             OR invocations.cost_usd IS DISTINCT FROM excluded.cost_usd \
             OR invocations.task_id IS DISTINCT FROM excluded.task_id \
             OR invocations.agent_name IS DISTINCT FROM excluded.agent_name",
            postgres::STORED_COLUMNS
        );
        let written = postgres::bind_stored(sqlx::query(&statement), &row)
            .execute(&mut *tx)
            .await?;
        report.written += written.rows_affected();
    }
    tx.commit().await?;
    report.redundant = remove_redundant_postgres(pool, sessions).await?;
    Ok(report)
}

async fn remove_redundant_postgres(
    pool: &sqlx::PgPool,
    sessions: &[String],
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(&format!(
        "DELETE FROM invocations WHERE session_id = ANY($1) AND {REDUNDANT}"
    ))
    .bind(sessions)
    .execute(pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The range `SUPERSEDED_SQLITE` deletes is exactly the ids that start with the prefix.
    #[test]
    fn the_superseded_range_is_the_metered_prefix() {
        let mut after = METERED_PREFIX.to_owned();
        let last = after.pop().expect("a prefix");
        after.push(char::from_u32(last as u32 + 1).expect("a character"));
        assert!(SUPERSEDED_SQLITE.contains(&format!(">= '{METERED_PREFIX}'")));
        assert!(SUPERSEDED_SQLITE.contains(&format!("< '{after}'")));
    }

    /// A session's calls can be thousands of rows and its metered rows a few: SQLite finds the
    /// metered ones on the unique index of ids, not through the session index.
    #[tokio::test]
    async fn metered_rows_are_found_by_their_ids_not_by_session() {
        let dir = tempfile::tempdir().unwrap();
        let telemetry = Telemetry::open(&dir.path().join("telemetry.db"))
            .await
            .unwrap();
        let reader = telemetry.reader().await.unwrap();
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {SUPERSEDED_SQLITE} (?, ?)"))
                .bind("a session")
                .bind("another")
                .fetch_all(&reader)
                .await
                .unwrap();
        let plan: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert_eq!(
            plan,
            [
                "SEARCH invocations USING INDEX sqlite_autoindex_invocations_1 \
              (invocation_id>? AND invocation_id<?)"
            ],
        );
    }
}
