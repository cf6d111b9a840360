//! The cost page's aggregates.
//!
//! Where the numbers come from, and why each stays fast at a million invocations:
//! * Calendar-day windows (today, this month, all time, the `7d`/`30d`/`90d` ranges, per agent,
//!   per task) read the trigger-maintained rollups `cost_rollup` / `task_costs` (see
//!   [`super::db`]): one row per (UTC day, model, agent, tool) instead of one per invocation, and
//!   exact for rows written by any process because SQLite's triggers maintain them.
//! * Sub-day windows (the rolling `24h` range, the last 5 minutes) and the latency sample read
//!   `invocations` through the `julianday(timestamp)` expression indexes; those windows hold few
//!   rows.
//! * Days are UTC and derived by SQLite's `date()` / `julianday()` from whatever format the
//!   timestamp was stored in (`...T...+00:00`, `...Z`, `YYYY-MM-DD HH:MM:SS`): never a string
//!   comparison, which is what dropped rows from the original's month total.
//!
//! All queries of one summary run in one read transaction, so they see the same snapshot.
//!
//! Longer than most modules on purpose: the aggregates run in one read transaction and their SQL
//! is kept side by side, so the rollups they read and the indexes they need are seen together.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sqlx::FromRow;

use super::error::TelemetryError;
use super::{Pools, Telemetry};
use app::model::{
    ActiveOperation, AgentCost, CalledTool, CostRange, CostSummary, CostTotals, DailyCost,
    ModelCost, SourceSeen, TaskCost, ToolCost, UnpricedModel,
};

/// Latency percentiles use at most this many of a model's most recent invocations in the range.
pub(super) const LATENCY_SAMPLE: i64 = 1000;
/// How far back "active operations" look.
pub(super) const ACTIVE_WINDOW: Duration = Duration::minutes(5);
pub(super) const ACTIVE_LIMIT: i64 = 10;
pub(super) const TASK_LIMIT: i64 = 1000;

/// The SQL of every aggregate for one backend. Both are below, query by query: the same
/// columns, types and parameters in the same order (the telemetry tests run on both).
pub(super) struct Dialect {
    /// The rolling 24 h as rows with the rollup's columns; `?1`/`$1` is the start instant.
    last_24h: &'static str,
    /// A rollup range; `?1`/`$1` is the first day.
    rollup_range: &'static str,
    /// Casts of the breakdown's sums.
    sums: &'static str,
    totals_and_agents: &'static str,
    active: &'static str,
    per_task: &'static str,
    latency: &'static str,
    task_cost: &'static str,
    task_invocations: &'static str,
    all_task_costs: &'static str,
    called_tools: &'static str,
    agent_usage: &'static str,
    agent_latest_today: &'static str,
    agent_daily: &'static str,
    first_day: &'static str,
    daily_costs: &'static str,
    /// A source's latest call (`?1`/`$1` the source).
    source_latest: &'static str,
    /// A source's calls since `?2`/`$2`.
    source_calls_since: &'static str,
    /// The sources of the calls since `?1`/`$1`.
    sources_since: &'static str,
    /// The range's calls no price was found for (`?1`/`$1` the start instant), by model, through
    /// the partial index of unpriced rows (few, whatever the table's size).
    unpriced: &'static str,
    #[cfg(feature = "bench-support")]
    one_task_cost: &'static str,
}

pub(super) const SQLITE: Dialect = Dialect {
    // As on PostgreSQL: the whole hours after the start from the hourly rollup, the start's
    // partial hour from `invocations` (`?1` is the start as a Julian day number).
    last_24h: "(SELECT substr(hour, 1, 10) AS day, model_name, agent_name, tool_name, \
           invocations, errors, total_tokens, cost_usd FROM cost_rollup_hourly \
         WHERE hour >= strftime('%Y-%m-%d %H:00:00', ?1, '+1 hour') \
         UNION ALL \
         SELECT COALESCE(date(timestamp), '') AS day, model_name, \
         COALESCE(agent_name, '') AS agent_name, tool_name, 1 AS invocations, \
         (status IS NOT 'success') AS errors, COALESCE(total_tokens, 0) AS total_tokens, \
         COALESCE(cost_usd, 0.0) AS cost_usd \
         FROM invocations INDEXED BY idx_invocations_julianday \
         WHERE julianday(timestamp) >= ?1 \
           AND julianday(timestamp) < julianday(strftime('%Y-%m-%d %H:00:00', ?1, '+1 hour')))",
    rollup_range: "(SELECT * FROM cost_rollup WHERE day >= ?1)",
    sums: "CAST(SUM(invocations) AS INTEGER) AS invocations, \
           CAST(SUM(errors) AS INTEGER) AS errors, \
           CAST(SUM(total_tokens) AS INTEGER) AS tokens, \
           CAST(SUM(cost_usd) AS REAL) AS cost",
    totals_and_agents: "SELECT agent_name, \
           CAST(COALESCE(SUM(CASE WHEN day = ?1 THEN cost_usd END), 0.0) AS REAL) AS today, \
           CAST(COALESCE(SUM(CASE WHEN day >= ?2 AND day < ?3 THEN cost_usd END), 0.0) AS REAL) AS month, \
           CAST(SUM(cost_usd) AS REAL) AS total, \
           CAST(SUM(invocations) AS INTEGER) AS invocations, \
           CAST(SUM(total_tokens) AS INTEGER) AS tokens \
         FROM cost_rollup GROUP BY agent_name",
    active: "SELECT invocation_id, CAST(timestamp AS TEXT) AS timestamp, agent_name, tool_name, \
         model_name, CAST(COALESCE(total_tokens, 0) AS INTEGER) AS total_tokens, \
         CAST(COALESCE(cost_usd, 0.0) AS REAL) AS cost_usd, \
         CAST(COALESCE(latency_ms, 0) AS INTEGER) AS latency_ms, status, task_id, \
         CAST(reported_cost_usd AS REAL) AS reported_cost_usd, \
         CAST(computed_cost_usd AS REAL) AS computed_cost_usd, attribution, source \
         FROM invocations WHERE julianday(timestamp) >= ?1 \
         ORDER BY julianday(timestamp) DESC, id DESC LIMIT ?2",
    per_task: "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, invocations \
         FROM task_costs WHERE invocations > 0 ORDER BY cost DESC, task_id LIMIT ?",
    latency: "SELECT CAST(latency_ms AS INTEGER) FROM invocations \
         WHERE model_name = ?1 AND julianday(timestamp) >= ?2 AND latency_ms IS NOT NULL \
         ORDER BY julianday(timestamp) DESC LIMIT ?3",
    task_cost: "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, invocations \
         FROM task_costs WHERE task_id = ? AND invocations > 0",
    task_invocations: "SELECT invocation_id, CAST(timestamp AS TEXT) AS timestamp, agent_name, tool_name, \
         model_name, CAST(COALESCE(total_tokens, 0) AS INTEGER) AS total_tokens, \
         CAST(COALESCE(cost_usd, 0.0) AS REAL) AS cost_usd, \
         CAST(COALESCE(latency_ms, 0) AS INTEGER) AS latency_ms, status, task_id, \
         CAST(reported_cost_usd AS REAL) AS reported_cost_usd, \
         CAST(computed_cost_usd AS REAL) AS computed_cost_usd, attribution, source \
         FROM invocations WHERE task_id = ? \
         ORDER BY julianday(timestamp) DESC, id DESC LIMIT ?",
    all_task_costs: "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, \
         invocations FROM task_costs ORDER BY cost_usd DESC LIMIT ?",
    called_tools: "SELECT tool_name, CAST(SUM(invocations) AS INTEGER), MAX(day) FROM cost_rollup \
         GROUP BY tool_name ORDER BY 2 DESC, 1 LIMIT ?",
    agent_usage: "SELECT agent_name AS agent, model_name AS model, \
           CAST(COALESCE(SUM(CASE WHEN day = ?1 THEN cost_usd END), 0.0) AS REAL) AS today, \
           CAST(SUM(cost_usd) AS REAL) AS total, \
           CAST(SUM(invocations) AS INTEGER) AS invocations, \
           MAX(day) AS last_day \
         FROM cost_rollup GROUP BY agent_name, model_name",
    agent_latest_today: "SELECT COALESCE(agent_name, ''), \
           CAST(ROUND((MAX(julianday(timestamp)) - 2440587.5) * 86400000.0) AS INTEGER) \
         FROM invocations INDEXED BY idx_invocations_julianday \
         WHERE julianday(timestamp) >= ?1 GROUP BY 1",
    agent_daily: "SELECT 'daily' AS kind, model_name AS name, day, \
           CAST(SUM(invocations) AS INTEGER) AS invocations, \
           CAST(SUM(errors) AS INTEGER) AS errors, \
           CAST(SUM(total_tokens) AS INTEGER) AS tokens, CAST(SUM(cost_usd) AS REAL) AS cost \
         FROM cost_rollup WHERE agent_name = ?1 AND day >= ?2 \
         GROUP BY day, model_name ORDER BY day, model_name",
    first_day: "SELECT MIN(day) FROM cost_rollup WHERE day != '' AND invocations > 0",
    source_latest: "SELECT CAST(timestamp AS TEXT) FROM invocations INDEXED BY idx_invocations_source \
         WHERE source = ?1 ORDER BY julianday(timestamp) DESC LIMIT 1",
    source_calls_since: "SELECT COUNT(*) FROM invocations INDEXED BY idx_invocations_source \
         WHERE source = ?1 AND julianday(timestamp) >= ?2",
    sources_since: "SELECT DISTINCT source FROM invocations INDEXED BY idx_invocations_julianday \
         WHERE julianday(timestamp) >= ?1 AND source IS NOT NULL",
    unpriced: "SELECT model_name, CAST(COUNT(*) AS INTEGER), \
         CAST(COALESCE(SUM(total_tokens), 0) AS INTEGER) FROM invocations INDEXED BY idx_invocations_unpriced \
         WHERE source IS NOT NULL AND reported_cost_usd IS NULL AND computed_cost_usd IS NULL \
           AND julianday(timestamp) >= ?1 \
         GROUP BY model_name ORDER BY 2 DESC, 1",
    daily_costs: "SELECT day, CAST(SUM(cost_usd) AS REAL) FROM cost_rollup \
         WHERE day >= ?1 AND day <= ?2 GROUP BY day ORDER BY day",
    #[cfg(feature = "bench-support")]
    one_task_cost: "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, \
         invocations FROM task_costs WHERE task_id = ?",
};

/// PostgreSQL: `at` (the parsed time) where SQLite computes `julianday(timestamp)`; rollups
/// summed over repositories.
pub(super) const POSTGRES: Dialect = Dialect {
    // The whole hours after the start from the hourly rollup, the start's partial hour from
    // `invocations` (at 10 000 000 rows: 24 × ~20 rollup rows instead of ~100 000 rows).
    last_24h: "(SELECT to_char(hour, 'YYYY-MM-DD') AS day, model_name, agent_name, tool_name, \
           invocations, errors, total_tokens, cost_usd FROM cost_rollup_hourly \
         WHERE hour >= date_trunc('hour', $1::timestamptz AT TIME ZONE 'UTC') + interval '1 hour' \
         UNION ALL \
         SELECT COALESCE(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ''), \
           model_name, COALESCE(agent_name, ''), tool_name, 1::int8, \
           (CASE WHEN status IS DISTINCT FROM 'success' THEN 1 ELSE 0 END)::int8, \
           COALESCE(total_tokens, 0), COALESCE(cost_usd, 0.0) \
         FROM invocations WHERE at >= $1::timestamptz \
           AND at < (date_trunc('hour', $1::timestamptz AT TIME ZONE 'UTC') + interval '1 hour') AT TIME ZONE 'UTC')",
    rollup_range: "(SELECT * FROM cost_rollup WHERE day >= $1)",
    sums: "SUM(invocations)::int8 AS invocations, SUM(errors)::int8 AS errors, \
           SUM(total_tokens)::int8 AS tokens, SUM(cost_usd)::float8 AS cost",
    totals_and_agents: "SELECT agent_name, \
           COALESCE(SUM(CASE WHEN day = $1 THEN cost_usd END), 0.0)::float8 AS today, \
           COALESCE(SUM(CASE WHEN day >= $2 AND day < $3 THEN cost_usd END), 0.0)::float8 AS month, \
           SUM(cost_usd)::float8 AS total, SUM(invocations)::int8 AS invocations, \
           SUM(total_tokens)::int8 AS tokens \
         FROM cost_rollup GROUP BY agent_name",
    active: "SELECT invocation_id, COALESCE(timestamp, '') AS timestamp, agent_name, tool_name, \
         model_name, COALESCE(total_tokens, 0) AS total_tokens, \
         COALESCE(cost_usd, 0.0) AS cost_usd, COALESCE(latency_ms, 0) AS latency_ms, status, task_id, \
         reported_cost_usd, computed_cost_usd, attribution, source \
         FROM invocations WHERE at >= $1::timestamptz ORDER BY at DESC, id DESC LIMIT $2",
    per_task: "SELECT task_id, cost_usd AS cost, total_tokens AS tokens, invocations \
         FROM task_costs WHERE invocations > 0 ORDER BY cost DESC, task_id LIMIT $1",
    latency: "SELECT latency_ms FROM invocations \
         WHERE model_name = $1 AND at >= $2::timestamptz AND latency_ms IS NOT NULL \
         ORDER BY at DESC LIMIT $3",
    task_cost: "SELECT task_id, cost_usd AS cost, total_tokens AS tokens, invocations \
         FROM task_costs WHERE task_id = $1 AND invocations > 0",
    task_invocations: "SELECT invocation_id, COALESCE(timestamp, '') AS timestamp, agent_name, tool_name, \
         model_name, COALESCE(total_tokens, 0) AS total_tokens, \
         COALESCE(cost_usd, 0.0) AS cost_usd, COALESCE(latency_ms, 0) AS latency_ms, status, task_id, \
         reported_cost_usd, computed_cost_usd, attribution, source \
         FROM invocations WHERE task_id = $1 ORDER BY at DESC NULLS LAST, id DESC LIMIT $2",
    all_task_costs: "SELECT task_id, cost_usd AS cost, total_tokens AS tokens, \
         invocations FROM task_costs ORDER BY cost_usd DESC LIMIT $1",
    called_tools: "SELECT tool_name, SUM(invocations)::int8, MAX(day) FROM cost_rollup \
         GROUP BY tool_name ORDER BY 2 DESC, 1 LIMIT $1",
    agent_usage: "SELECT agent_name AS agent, model_name AS model, \
           COALESCE(SUM(CASE WHEN day = $1 THEN cost_usd END), 0.0)::float8 AS today, \
           SUM(cost_usd)::float8 AS total, SUM(invocations)::int8 AS invocations, \
           MAX(day) AS last_day \
         FROM cost_rollup GROUP BY agent_name, model_name",
    // Per agent seen today (the rollup), its latest call: one index step each.
    agent_latest_today: "SELECT agent_name, latest FROM ( \
           SELECT a.agent_name, (EXTRACT(EPOCH FROM CASE WHEN a.agent_name = '' \
             THEN (SELECT max(at) FROM invocations WHERE agent_name IS NULL AND at >= $1::timestamptz) \
             ELSE (SELECT max(at) FROM invocations WHERE agent_name = a.agent_name AND at >= $1::timestamptz) \
             END) * 1000)::int8 AS latest \
           FROM (SELECT DISTINCT agent_name FROM cost_rollup \
                 WHERE day = to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD')) AS a) AS l \
         WHERE latest IS NOT NULL",
    agent_daily: "SELECT 'daily' AS kind, model_name AS name, day, \
           SUM(invocations)::int8 AS invocations, SUM(errors)::int8 AS errors, \
           SUM(total_tokens)::int8 AS tokens, SUM(cost_usd)::float8 AS cost \
         FROM cost_rollup WHERE agent_name = $1 AND day >= $2 \
         GROUP BY day, model_name ORDER BY day, model_name",
    first_day: "SELECT MIN(day) FROM cost_rollup WHERE day != '' AND invocations > 0",
    source_latest: "SELECT timestamp FROM invocations WHERE source = $1 ORDER BY at DESC LIMIT 1",
    source_calls_since: "SELECT COUNT(*)::int8 FROM invocations \
         WHERE source = $1 AND at >= $2::timestamptz",
    sources_since: "SELECT DISTINCT source FROM invocations \
         WHERE at >= $1::timestamptz AND source IS NOT NULL",
    unpriced: "SELECT model_name, COUNT(*)::int8, COALESCE(SUM(total_tokens), 0)::int8 \
         FROM invocations \
         WHERE source IS NOT NULL AND reported_cost_usd IS NULL AND computed_cost_usd IS NULL \
           AND at >= $1::timestamptz \
         GROUP BY model_name ORDER BY 2 DESC, 1",
    daily_costs: "SELECT day, SUM(cost_usd)::float8 FROM cost_rollup \
         WHERE day >= $1 AND day <= $2 GROUP BY day ORDER BY day",
    #[cfg(feature = "bench-support")]
    one_task_cost: "SELECT task_id, cost_usd AS cost, total_tokens AS tokens, \
         invocations FROM task_costs WHERE task_id = $1",
};

/// Runs `$body` with `$pool` the backend's read pool, `$sql` its [`Dialect`] and `$at` the
/// function that turns an instant into what its SQL compares times with (a Julian day number
/// for SQLite, RFC 3339 text for PostgreSQL): one body for both backends, compiled for each.
macro_rules! on_backend {
    ($pools:expr, |$pool:ident, $sql:ident, $at:ident| $body:expr) => {
        match $pools {
            Pools::Sqlite { reader: $pool, .. } => {
                let $sql: &Dialect = &SQLITE;
                let $at = |instant: DateTime<Utc>| julian_day(instant);
                $body
            }
            Pools::Postgres($pool) => {
                let $sql: &Dialect = &POSTGRES;
                let $at = |instant: DateTime<Utc>| {
                    instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                };
                $body
            }
        }
    };
}

/// The Julian day number of an instant, as SQLite's `julianday()` computes it.
pub(super) fn julian_day(instant: DateTime<Utc>) -> f64 {
    instant.timestamp_millis() as f64 / MILLIS_PER_DAY + UNIX_EPOCH_JULIAN_DAY
}

const MILLIS_PER_DAY: f64 = 86_400_000.0;
/// The Julian day number of 1970-01-01T00:00:00Z.
const UNIX_EPOCH_JULIAN_DAY: f64 = 2_440_587.5;

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The first day of a rollup range (the rolling 24 h has none).
fn first_day(range: CostRange, now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - Duration::days(i64::from(range.days()) - 1)
}

/// When a range starts: 24 h ago, or its first day's midnight (UTC).
fn start_instant(range: CostRange, now: DateTime<Utc>) -> DateTime<Utc> {
    match range {
        CostRange::Day1 => now - Duration::hours(24),
        _ => first_day(range, now)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc(),
    }
}

#[derive(FromRow)]
struct BreakdownRow {
    kind: String,
    name: String,
    day: String,
    invocations: i64,
    errors: i64,
    tokens: i64,
    cost: f64,
}

/// One agent's use of one model (see [`Telemetry::agent_usage`]).
#[derive(Clone, Debug, FromRow)]
pub struct AgentUsage {
    /// `""` for calls logged without an agent.
    pub agent: String,
    pub model: String,
    pub today: f64,
    pub total: f64,
    pub invocations: i64,
    /// `YYYY-MM-DD` (`""` when no timestamp could be read).
    pub last_day: String,
    /// The agent's latest call today, in milliseconds since the epoch (any model): the rollup
    /// knows only the day, which made a call a minute ago read as "15 h ago" (midnight).
    #[sqlx(default)]
    pub last_call_today_ms: Option<i64>,
}

/// What each UTC day cost (see [`Telemetry::daily_series`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DailyTotals {
    /// Cost per day of the range asked for; a day not here has no invocations.
    pub(crate) costs: BTreeMap<NaiveDate, f64>,
    /// The first day with any invocation in the whole database.
    pub(crate) first_day: Option<NaiveDate>,
}

#[derive(FromRow)]
struct AgentTotalsRow {
    agent_name: String,
    today: f64,
    month: f64,
    total: f64,
    invocations: i64,
    tokens: i64,
}

struct GroupRow {
    name: String,
    invocations: i64,
    errors: i64,
    tokens: i64,
    cost: f64,
}

/// Most expensive first, then by name.
fn sorted(mut rows: Vec<GroupRow>) -> Vec<GroupRow> {
    rows.sort_by(|a, b| b.cost.total_cmp(&a.cost).then_with(|| a.name.cmp(&b.name)));
    rows
}

#[derive(FromRow)]
struct ActiveRow {
    invocation_id: String,
    timestamp: String,
    agent_name: Option<String>,
    tool_name: String,
    model_name: String,
    total_tokens: i64,
    cost_usd: f64,
    latency_ms: i64,
    status: String,
    task_id: Option<String>,
    reported_cost_usd: Option<f64>,
    computed_cost_usd: Option<f64>,
    attribution: Option<String>,
    source: Option<String>,
}

#[derive(FromRow)]
struct TaskRow {
    task_id: String,
    cost: f64,
    tokens: i64,
    invocations: i64,
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn rate(errors: i64, invocations: i64) -> f64 {
    if invocations > 0 {
        errors as f64 / invocations as f64
    } else {
        0.0
    }
}

fn agent(name: String) -> Option<String> {
    (!name.is_empty()).then_some(name)
}

impl Telemetry {
    /// The cost page for `range`, as of `now` (the caller passes `Utc::now()`; tests pass a fixed
    /// instant).
    pub async fn summary(
        &self,
        range: CostRange,
        now: DateTime<Utc>,
    ) -> Result<CostSummary, TelemetryError> {
        let pools = self.pools().await?;
        let outcome = summarize(pools, range, now).await;
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// What one task cost (all time; `None` without invocations) and its latest `limit`
    /// invocations, newest first by their timestamps (the order they were logged in need not
    /// be theirs: a batch posted later may hold older calls).
    pub async fn task_activity(
        &self,
        task_id: &str,
        limit: u32,
    ) -> Result<(Option<TaskCost>, Vec<ActiveOperation>), TelemetryError> {
        let pools = self.pools().await?;
        let outcome = task_activity(pools, task_id, i64::from(limit)).await;
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// What every task cost (all time), from the per-task rollup: at most `limit` tasks, the
    /// costliest first.
    pub async fn all_task_costs(&self, limit: u32) -> Result<Vec<TaskCost>, TelemetryError> {
        let pools = self.pools().await?;
        let outcome = on_backend!(pools, |pool, sql, _at| {
            sqlx::query_as::<_, TaskRow>(sql.all_task_costs)
                .bind(i64::from(limit))
                .fetch_all(&pool)
                .await
        });
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?.into_iter().map(task_cost).collect())
    }

    /// Every tool the invocations name (`tool_name`), with its calls and the latest day it was
    /// called: at most `limit`, the most called first; from the rollup.
    pub async fn called_tools(&self, limit: u32) -> Result<Vec<CalledTool>, TelemetryError> {
        let pools = self.pools().await?;
        let outcome = on_backend!(pools, |pool, sql, _at| {
            sqlx::query_as::<_, (String, i64, Option<String>)>(sql.called_tools)
                .bind(i64::from(limit))
                .fetch_all(&pool)
                .await
        });
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?
            .into_iter()
            .map(|(name, calls, last_day)| CalledTool {
                name,
                calls: calls.max(0) as u64,
                last_called: last_day.filter(|d| !d.is_empty()),
            })
            .collect())
    }

    /// Per agent (`""` for calls without one) and model: cost today (as of `now`), all time,
    /// calls, and the latest day with a call, from the rollup; and each agent's latest call
    /// today, from today's rows only (through the time index), in one read transaction.
    pub async fn agent_usage(&self, now: DateTime<Utc>) -> Result<Vec<AgentUsage>, TelemetryError> {
        let pools = self.pools().await?;
        let outcome = agent_usage(pools, now).await;
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// One agent's daily cost by model over the `days` up to `now`'s day.
    pub async fn agent_daily(
        &self,
        agent: &str,
        days: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<DailyCost>, TelemetryError> {
        let pools = self.pools().await?;
        let first = now.date_naive() - Duration::days(days - 1);
        let outcome = on_backend!(pools, |pool, sql, _at| {
            sqlx::query_as::<_, BreakdownRow>(sql.agent_daily)
                .bind(agent)
                .bind(day(first))
                .fetch_all(&pool)
                .await
        });
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?
            .into_iter()
            .map(|row| DailyCost {
                date: row.day,
                model: row.name,
                cost_usd: row.cost,
                tokens: count(row.tokens),
            })
            .collect())
    }

    /// What each UTC day from `first` to `last` (both included) cost, and the first day with
    /// any invocation at all (for the forecast: days before it are unknown, not free). From the
    /// rollup, in one read transaction.
    pub(crate) async fn daily_series(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<DailyTotals, TelemetryError> {
        let pools = self.pools().await?;
        let outcome = daily_series(pools, first, last).await;
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// What arrived from each of `known` (always listed) and from any other source today (as
    /// of `now`): its latest call and its calls today. Through the source index: a few index
    /// steps a source, whatever the table's size.
    pub async fn sources_seen(
        &self,
        known: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Vec<SourceSeen>, TelemetryError> {
        let pools = self.pools().await?;
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        let outcome: Result<Vec<SourceSeen>, sqlx::Error> = on_backend!(pools, |pool, sql, at| {
            let mut tx = pool.begin().await?;
            let mut sources: Vec<String> = known.iter().map(|s| (*s).to_owned()).collect();
            let today: Vec<String> = sqlx::query_scalar(sql.sources_since)
                .bind(at(midnight))
                .fetch_all(&mut *tx)
                .await?;
            for source in today {
                if !sources.contains(&source) {
                    sources.push(source);
                }
            }
            let mut seen = Vec::with_capacity(sources.len());
            for source in sources {
                let last_seen: Option<String> = sqlx::query_scalar(sql.source_latest)
                    .bind(&source)
                    .fetch_optional(&mut *tx)
                    .await?
                    .flatten();
                let calls: i64 = sqlx::query_scalar(sql.source_calls_since)
                    .bind(&source)
                    .bind(at(midnight))
                    .fetch_one(&mut *tx)
                    .await?;
                seen.push(SourceSeen {
                    source,
                    last_seen,
                    calls_today: count(calls),
                });
            }
            tx.rollback().await?;
            Ok(seen)
        });
        let outcome = self.explained(outcome).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// Cost of each given task (all time); tasks without invocations are left out.
    #[cfg(feature = "bench-support")]
    pub async fn task_costs(&self, task_ids: &[String]) -> Result<Vec<TaskCost>, TelemetryError> {
        let pools = self.pools().await?;
        let mut costs = Vec::new();
        for task_id in task_ids {
            let row = on_backend!(pools.clone(), |pool, sql, _at| {
                sqlx::query_as::<_, TaskRow>(sql.one_task_cost)
                    .bind(task_id)
                    .fetch_optional(&pool)
                    .await?
            });
            costs.extend(row.map(task_cost));
        }
        Ok(costs)
    }
}

/// What the cost page reads, in one read transaction: the totals per agent, the range's rows
/// grouped four ways (by model, agent, tool, and day × model), each model's latency sample, the
/// last minutes' invocations and the costliest tasks.
struct SummaryRows {
    agent_totals: Vec<AgentTotalsRow>,
    breakdown: Vec<BreakdownRow>,
    latencies: Vec<Vec<i64>>,
    active: Vec<ActiveRow>,
    tasks: Vec<TaskRow>,
    unpriced: Vec<(String, i64, i64)>,
}

/// Every aggregate of the cost page, in one read transaction.
async fn summarize(
    pools: Pools,
    range: CostRange,
    now: DateTime<Utc>,
) -> Result<CostSummary, sqlx::Error> {
    let today = now.date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let next_month = month_start
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month_start);
    let since = start_instant(range, now);
    let rows = on_backend!(pools, |pool, sql, at| {
        let mut tx = pool.begin().await?;
        let agent_totals = sqlx::query_as::<_, AgentTotalsRow>(sql.totals_and_agents)
            .bind(day(today))
            .bind(day(month_start))
            .bind(day(next_month))
            .fetch_all(&mut *tx)
            .await?;
        // The range's rows are read once (a materialised CTE: one index range scan for `24h`,
        // ~120 rollup rows per day otherwise) and grouped four ways in the same statement, so
        // only the few hundred result rows cross into Rust.
        let breakdown_sql = format!(
            "WITH src AS MATERIALIZED {src} \
             SELECT 'model' AS kind, model_name AS name, '' AS day, {sums} FROM src GROUP BY model_name \
             UNION ALL SELECT 'agent', agent_name, '', {sums} FROM src GROUP BY agent_name \
             UNION ALL SELECT 'tool', tool_name, '', {sums} FROM src GROUP BY tool_name \
             UNION ALL SELECT 'daily', model_name, day, {sums} FROM src WHERE day != '' \
             GROUP BY day, model_name",
            src = match range {
                CostRange::Day1 => sql.last_24h,
                _ => sql.rollup_range,
            },
            sums = sql.sums,
        );
        let breakdown = sqlx::query_as::<_, BreakdownRow>(&breakdown_sql);
        let breakdown = match range {
            CostRange::Day1 => breakdown.bind(at(since)),
            _ => breakdown.bind(day(first_day(range, now))),
        }
        .fetch_all(&mut *tx)
        .await?;
        let mut latencies = Vec::new();
        for model in breakdown.iter().filter(|row| row.kind == "model") {
            let sample: Vec<i64> = sqlx::query_scalar(sql.latency)
                .bind(&model.name)
                .bind(at(since))
                .bind(LATENCY_SAMPLE)
                .fetch_all(&mut *tx)
                .await?;
            latencies.push(sample);
        }
        let active = sqlx::query_as::<_, ActiveRow>(sql.active)
            .bind(at(now - ACTIVE_WINDOW))
            .bind(ACTIVE_LIMIT)
            .fetch_all(&mut *tx)
            .await?;
        let tasks = sqlx::query_as::<_, TaskRow>(sql.per_task)
            .bind(TASK_LIMIT)
            .fetch_all(&mut *tx)
            .await?;
        let unpriced = sqlx::query_as::<_, (String, i64, i64)>(sql.unpriced)
            .bind(at(since))
            .fetch_all(&mut *tx)
            .await?;
        tx.rollback().await?;
        SummaryRows {
            agent_totals,
            breakdown,
            latencies,
            active,
            tasks,
            unpriced,
        }
    });
    Ok(assemble(range, now, rows))
}

/// The cost page from its rows.
fn assemble(range: CostRange, now: DateTime<Utc>, rows: SummaryRows) -> CostSummary {
    let (totals, per_agent) = totals_and_agents(rows.agent_totals);
    let mut models = Vec::new();
    let mut agents = Vec::new();
    let mut tools = Vec::new();
    let mut daily = Vec::new();
    let mut latencies = rows.latencies.into_iter();
    for row in rows.breakdown {
        let group = GroupRow {
            name: row.name,
            invocations: row.invocations,
            errors: row.errors,
            tokens: row.tokens,
            cost: row.cost,
        };
        match row.kind.as_str() {
            "model" => {
                let mut sample = latencies.next().unwrap_or_default();
                sample.sort_unstable();
                models.push((group, sample));
            }
            "agent" => agents.push(group),
            "tool" => tools.push(group),
            _ => daily.push(DailyCost {
                date: row.day,
                model: group.name,
                cost_usd: group.cost,
                tokens: count(group.tokens),
            }),
        }
    }
    daily.sort_by(|a, b| (&a.date, &a.model).cmp(&(&b.date, &b.model)));
    models.sort_by(|(a, _), (b, _)| b.cost.total_cmp(&a.cost).then_with(|| a.name.cmp(&b.name)));
    let by_model = models
        .into_iter()
        .map(|(row, sample)| ModelCost {
            error_rate: rate(row.errors, row.invocations),
            model: row.name,
            invocations: count(row.invocations),
            tokens: count(row.tokens),
            cost_usd: row.cost,
            latency_p50_ms: percentile(&sample, 0.50),
            latency_p95_ms: percentile(&sample, 0.95),
        })
        .collect();
    let agents = sorted(agents);
    let (errors, invocations) = agents
        .iter()
        .fold((0, 0), |(e, n), row| (e + row.errors, n + row.invocations));
    CostSummary {
        range,
        totals,
        by_model,
        by_agent: agents.into_iter().map(agent_cost).collect(),
        by_tool: sorted(tools)
            .into_iter()
            .map(|row| ToolCost {
                tool: row.name,
                invocations: count(row.invocations),
                tokens: count(row.tokens),
                cost_usd: row.cost,
            })
            .collect(),
        daily,
        active: rows.active.into_iter().map(operation).collect(),
        per_task: rows.tasks.into_iter().map(task_cost).collect(),
        per_agent,
        unpriced: rows
            .unpriced
            .into_iter()
            .map(|(model, calls, tokens)| UnpricedModel {
                model,
                invocations: count(calls),
                tokens: count(tokens),
            })
            .collect(),
        error_rate: rate(errors, invocations),
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}

async fn daily_series(
    pools: Pools,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<DailyTotals, sqlx::Error> {
    let (first_day, rows) = on_backend!(pools, |pool, sql, _at| {
        let mut tx = pool.begin().await?;
        // `day` is '' for a timestamp that cannot be read: not a day of the series.
        let first_day: Option<String> = sqlx::query_scalar(sql.first_day)
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<(String, f64)> = sqlx::query_as(sql.daily_costs)
            .bind(day(first))
            .bind(day(last))
            .fetch_all(&mut *tx)
            .await?;
        tx.rollback().await?;
        (first_day, rows)
    });
    let parse = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    Ok(DailyTotals {
        costs: rows
            .into_iter()
            .filter_map(|(date, cost)| Some((parse(&date)?, cost)))
            .collect(),
        first_day: first_day.as_deref().and_then(parse),
    })
}

async fn agent_usage(pools: Pools, now: DateTime<Utc>) -> Result<Vec<AgentUsage>, sqlx::Error> {
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let (mut usage, latest) = on_backend!(pools, |pool, sql, at| {
        let mut tx = pool.begin().await?;
        let usage = sqlx::query_as::<_, AgentUsage>(sql.agent_usage)
            .bind(day(now.date_naive()))
            .fetch_all(&mut *tx)
            .await?;
        let latest: Vec<(String, i64)> = sqlx::query_as(sql.agent_latest_today)
            .bind(at(midnight))
            .fetch_all(&mut *tx)
            .await?;
        tx.rollback().await?;
        (usage, latest)
    });
    let latest: BTreeMap<String, i64> = latest.into_iter().collect();
    for row in &mut usage {
        row.last_call_today_ms = latest.get(&row.agent).copied();
    }
    Ok(usage)
}

fn agent_cost(row: GroupRow) -> AgentCost {
    AgentCost {
        agent: agent(row.name),
        invocations: count(row.invocations),
        tokens: count(row.tokens),
        cost_usd: row.cost,
        // The range's breakdown: today and the month are in `per_agent`.
        ..AgentCost::default()
    }
}

fn task_cost(row: TaskRow) -> TaskCost {
    TaskCost {
        task_id: row.task_id,
        cost_usd: row.cost,
        tokens: count(row.tokens),
        invocations: count(row.invocations),
    }
}

/// Today, this month and all time, and the all-time cost per agent, from one pass over the
/// rollup (one row per agent).
fn totals_and_agents(rows: Vec<AgentTotalsRow>) -> (CostTotals, Vec<AgentCost>) {
    let mut totals = CostTotals::default();
    let mut agents = Vec::with_capacity(rows.len());
    for row in rows {
        totals.today += row.today;
        totals.month += row.month;
        totals.total += row.total;
        totals.invocations += count(row.invocations);
        agents.push(AgentCost {
            agent: agent(row.agent_name),
            invocations: count(row.invocations),
            tokens: count(row.tokens),
            cost_usd: row.total,
            today_usd: row.today,
            month_usd: row.month,
        });
    }
    agents.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.agent.cmp(&b.agent))
    });
    (totals, agents)
}

async fn task_activity(
    pools: Pools,
    task_id: &str,
    limit: i64,
) -> Result<(Option<TaskCost>, Vec<ActiveOperation>), sqlx::Error> {
    let (cost, rows) = on_backend!(pools, |pool, sql, _at| {
        let mut tx = pool.begin().await?;
        let cost = sqlx::query_as::<_, TaskRow>(sql.task_cost)
            .bind(task_id)
            .fetch_optional(&mut *tx)
            .await?;
        let rows = sqlx::query_as::<_, ActiveRow>(sql.task_invocations)
            .bind(task_id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.rollback().await?;
        (cost, rows)
    });
    Ok((
        cost.map(task_cost),
        rows.into_iter().map(operation).collect(),
    ))
}

fn operation(row: ActiveRow) -> ActiveOperation {
    ActiveOperation {
        invocation_id: row.invocation_id,
        timestamp: row.timestamp,
        agent: row.agent_name,
        tool: row.tool_name,
        model: row.model_name,
        total_tokens: count(row.total_tokens),
        cost_usd: row.cost_usd,
        latency_ms: count(row.latency_ms),
        status: row.status,
        task_id: row.task_id,
        reported_cost_usd: row.reported_cost_usd,
        computed_cost_usd: row.computed_cost_usd,
        attribution: row.attribution,
        source: row.source,
    }
}

/// Nearest-rank percentile of sorted values.
pub(super) fn percentile(sorted: &[i64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    Some(count(sorted[index]))
}
