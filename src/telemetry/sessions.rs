//! The calls of agent sessions, by session (`session_id`): what the live sessions spent, and one
//! session's calls in order.

use chrono::{DateTime, Utc};

use super::queries::julian_day;
use super::{Pools, Telemetry, TelemetryError};

/// What a session's calls add up to.
#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct SessionCalls {
    pub session_id: String,
    pub source: Option<String>,
    pub agent: Option<String>,
    pub task_id: Option<String>,
    pub attribution: Option<String>,
    /// Comma-separated.
    pub models: Option<String>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub calls: i64,
    pub tokens: i64,
    pub cost_usd: f64,
    /// Spent since the burn rate's start.
    pub recent_cost_usd: f64,
    pub cache_read_tokens: i64,
    pub prompt_tokens: i64,
    pub errors: i64,
}

/// One call of a session (its timeline).
#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct SessionCall {
    pub timestamp: Option<String>,
    pub model_name: String,
    pub status: String,
    pub total_tokens: i64,
    pub cost_usd: f64,
    pub error_message: Option<String>,
}

/// What each session adds up to, for the sessions the `WHERE` clause `$active` picks (`?1`:
/// where they start, `?2`: the burn rate's start).
macro_rules! sqlite_sessions {
    ($active:literal) => {
        concat!(
            "SELECT session_id, MIN(source) AS source, \
             MAX(agent_name) AS agent, MAX(task_id) AS task_id, MAX(attribution) AS attribution, \
             GROUP_CONCAT(DISTINCT model_name) AS models, MIN(timestamp) AS first, \
             MAX(timestamp) AS last, COUNT(*) AS calls, \
             CAST(COALESCE(SUM(total_tokens), 0) AS INTEGER) AS tokens, \
             CAST(COALESCE(SUM(cost_usd), 0.0) AS REAL) AS cost_usd, \
             CAST(COALESCE(SUM(CASE WHEN julianday(timestamp) >= ?2 THEN cost_usd END), 0.0) \
               AS REAL) AS recent_cost_usd, \
             CAST(COALESCE(SUM(cache_read_tokens), 0) AS INTEGER) AS cache_read_tokens, \
             CAST(COALESCE(SUM(prompt_tokens), 0) AS INTEGER) AS prompt_tokens, \
             CAST(COALESCE(SUM(status IS NOT 'success'), 0) AS INTEGER) AS errors \
             FROM invocations WHERE session_id IN (SELECT DISTINCT session_id FROM invocations \
               WHERE session_id IS NOT NULL AND julianday(timestamp) >= ?1",
            $active,
            ") GROUP BY session_id"
        )
    };
}

/// The same on PostgreSQL (`$1`, `$2` as timestamps).
macro_rules! postgres_sessions {
    ($active:literal) => {
        concat!(
            "SELECT session_id, MIN(source) AS source, \
             MAX(agent_name) AS agent, MAX(task_id) AS task_id, MAX(attribution) AS attribution, \
             string_agg(DISTINCT model_name, ',') AS models, MIN(timestamp) AS first, \
             MAX(timestamp) AS last, COUNT(*)::int8 AS calls, \
             COALESCE(SUM(total_tokens), 0)::int8 AS tokens, \
             COALESCE(SUM(cost_usd), 0.0)::float8 AS cost_usd, \
             COALESCE(SUM(CASE WHEN at >= $2::timestamptz THEN cost_usd END), 0.0)::float8 \
               AS recent_cost_usd, \
             COALESCE(SUM(cache_read_tokens), 0)::int8 AS cache_read_tokens, \
             COALESCE(SUM(prompt_tokens), 0)::int8 AS prompt_tokens, \
             COALESCE(SUM(CASE WHEN status IS DISTINCT FROM 'success' THEN 1 ELSE 0 END), 0)::int8 \
               AS errors \
             FROM invocations WHERE session_id IN (SELECT DISTINCT session_id FROM invocations \
               WHERE session_id IS NOT NULL AND at >= $1::timestamptz",
            $active,
            ") GROUP BY session_id"
        )
    };
}

/// Every session with a call since `?1`.
const SQLITE_SESSIONS: &str = sqlite_sessions!("");
/// Only those with a row above the row id `?3` (written since the last read).
const SQLITE_SESSIONS_AFTER: &str = sqlite_sessions!(" AND id > ?3");
const POSTGRES_SESSIONS: &str = postgres_sessions!("");
const POSTGRES_SESSIONS_AFTER: &str = postgres_sessions!(" AND id > $3");

const SQLITE_CALLS: &str = "SELECT timestamp, model_name, status, \
     COALESCE(total_tokens, 0) AS total_tokens, COALESCE(cost_usd, 0.0) AS cost_usd, \
     error_message FROM invocations WHERE session_id = ?1 ORDER BY timestamp DESC LIMIT ?2";

const POSTGRES_CALLS: &str = "SELECT timestamp, model_name, status, \
     COALESCE(total_tokens, 0) AS total_tokens, COALESCE(cost_usd, 0.0) AS cost_usd, \
     error_message FROM invocations WHERE session_id = $1 ORDER BY at DESC LIMIT $2";

impl Telemetry {
    /// Every session with a call since `active_since`, all its calls added up (`recent_since`:
    /// the start of the burn rate's window); with `after_row`, only the sessions with a row
    /// above that row id (see [`Telemetry::last_row_id`]): those written since.
    pub async fn session_calls(
        &self,
        active_since: DateTime<Utc>,
        recent_since: DateTime<Utc>,
        after_row: Option<i64>,
    ) -> Result<Vec<SessionCalls>, TelemetryError> {
        let pools = self.pools().await?;
        let outcome = match pools {
            Pools::Sqlite { reader, .. } => {
                let sql = match after_row {
                    Some(_) => SQLITE_SESSIONS_AFTER,
                    None => SQLITE_SESSIONS,
                };
                let query = sqlx::query_as::<_, SessionCalls>(sql)
                    .bind(julian_day(active_since))
                    .bind(julian_day(recent_since));
                let query = match after_row {
                    Some(row) => query.bind(row),
                    None => query,
                };
                query.fetch_all(&reader).await
            }
            Pools::Postgres(pool) => {
                let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let sql = match after_row {
                    Some(_) => POSTGRES_SESSIONS_AFTER,
                    None => POSTGRES_SESSIONS,
                };
                let query = sqlx::query_as::<_, SessionCalls>(sql)
                    .bind(at(active_since))
                    .bind(at(recent_since));
                let query = match after_row {
                    Some(row) => query.bind(row),
                    None => query,
                };
                query.fetch_all(&pool).await
            }
        };
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// The highest row id of the calls (0 when there are none): a row written later has a
    /// higher one (on PostgreSQL, a transaction that took its ids earlier may commit later: the
    /// tracker reads every session again now and then for that).
    pub async fn last_row_id(&self) -> Result<i64, TelemetryError> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM invocations";
        let outcome = match self.pools().await? {
            Pools::Sqlite { reader, .. } => {
                sqlx::query_scalar::<_, i64>(sql).fetch_one(&reader).await
            }
            Pools::Postgres(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await,
        };
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// A session's latest `limit` calls, the newest first.
    pub async fn calls_of_session(
        &self,
        session: &str,
        limit: u32,
    ) -> Result<Vec<SessionCall>, TelemetryError> {
        let pools = self.pools().await?;
        let outcome = match pools {
            Pools::Sqlite { reader, .. } => {
                sqlx::query_as::<_, SessionCall>(SQLITE_CALLS)
                    .bind(session)
                    .bind(i64::from(limit))
                    .fetch_all(&reader)
                    .await
            }
            Pools::Postgres(pool) => {
                sqlx::query_as::<_, SessionCall>(POSTGRES_CALLS)
                    .bind(session)
                    .bind(i64::from(limit))
                    .fetch_all(&pool)
                    .await
            }
        };
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }
}
