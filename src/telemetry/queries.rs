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
use sqlx::sqlite::Sqlite;
use sqlx::{FromRow, Transaction};

use super::error::TelemetryError;
use super::Telemetry;
use app::model::{
    ActiveOperation, AgentCost, CalledTool, CostRange, CostSummary, CostTotals, DailyCost,
    ModelCost, TaskCost, ToolCost,
};

/// Latency percentiles use at most this many of a model's most recent invocations in the range.
pub(super) const LATENCY_SAMPLE: i64 = 1000;
/// How far back "active operations" look.
pub(super) const ACTIVE_WINDOW: Duration = Duration::minutes(5);
pub(super) const ACTIVE_LIMIT: i64 = 10;
pub(super) const TASK_LIMIT: i64 = 1000;

/// The range's rows, with the rollup's columns, as a subquery. `?1` is the start: a date for
/// rollup ranges, a Julian day number for the rolling 24 h.
fn source(range: CostRange) -> &'static str {
    match range {
        CostRange::Day1 => {
            "(SELECT COALESCE(date(timestamp), '') AS day, model_name, \
             COALESCE(agent_name, '') AS agent_name, tool_name, 1 AS invocations, \
             (status IS NOT 'success') AS errors, COALESCE(total_tokens, 0) AS total_tokens, \
             COALESCE(cost_usd, 0.0) AS cost_usd \
             FROM invocations INDEXED BY idx_invocations_julianday \
             WHERE julianday(timestamp) >= ?1)"
        }
        _ => "(SELECT * FROM cost_rollup WHERE day >= ?1)",
    }
}

/// The Julian day number of an instant, as SQLite's `julianday()` computes it.
pub(super) fn julian_day(instant: DateTime<Utc>) -> f64 {
    instant.timestamp_millis() as f64 / MILLIS_PER_DAY + UNIX_EPOCH_JULIAN_DAY
}

/// Milliseconds since the Unix epoch of a Julian day number (the inverse of [`julian_day`]).
fn julian_day_millis(julian: f64) -> i64 {
    ((julian - UNIX_EPOCH_JULIAN_DAY) * MILLIS_PER_DAY).round() as i64
}

const MILLIS_PER_DAY: f64 = 86_400_000.0;
/// The Julian day number of 1970-01-01T00:00:00Z.
const UNIX_EPOCH_JULIAN_DAY: f64 = 2_440_587.5;

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A range's start, bound as `?1` of [`source`].
enum Start {
    Day(String),
    Julian(f64),
}

fn start(range: CostRange, now: DateTime<Utc>) -> Start {
    match range {
        CostRange::Day1 => Start::Julian(julian_day(now - Duration::hours(24))),
        _ => Start::Day(day(
            now.date_naive() - Duration::days(i64::from(range.days()) - 1)
        )),
    }
}

fn start_julian(range: CostRange, now: DateTime<Utc>) -> f64 {
    match start(range, now) {
        Start::Julian(julian) => julian,
        Start::Day(_) => {
            let first = now.date_naive() - Duration::days(i64::from(range.days()) - 1);
            julian_day(first.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        }
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
        let reader = self.reader().await?;
        let outcome = summarize(&reader, range, now).await;
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
        let reader = self.reader().await?;
        let outcome = task_activity(&reader, task_id, limit).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// What every task cost (all time), from the per-task rollup: at most `limit` tasks, the
    /// costliest first.
    pub async fn all_task_costs(&self, limit: u32) -> Result<Vec<TaskCost>, TelemetryError> {
        let reader = self.reader().await?;
        let outcome = sqlx::query_as::<_, TaskRow>(
            "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, \
             invocations FROM task_costs ORDER BY cost_usd DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&reader)
        .await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?.into_iter().map(task_cost).collect())
    }

    /// Every tool the invocations name (`tool_name`), with its calls and the latest day it was
    /// called: at most `limit`, the most called first; from the rollup.
    pub async fn called_tools(&self, limit: u32) -> Result<Vec<CalledTool>, TelemetryError> {
        let reader = self.reader().await?;
        let outcome = sqlx::query_as::<_, (String, i64, Option<String>)>(
            "SELECT tool_name, CAST(SUM(invocations) AS INTEGER), MAX(day) FROM cost_rollup \
             GROUP BY tool_name ORDER BY 2 DESC, 1 LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&reader)
        .await;
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
    /// today, from today's rows only (through the julianday index), in one read transaction.
    pub async fn agent_usage(&self, now: DateTime<Utc>) -> Result<Vec<AgentUsage>, TelemetryError> {
        let reader = self.reader().await?;
        let outcome = agent_usage(&reader, now).await;
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
        let reader = self.reader().await?;
        let first = now.date_naive() - Duration::days(days - 1);
        let outcome = sqlx::query_as::<_, BreakdownRow>(
            "SELECT 'daily' AS kind, model_name AS name, day, \
               CAST(SUM(invocations) AS INTEGER) AS invocations, \
               CAST(SUM(errors) AS INTEGER) AS errors, \
               CAST(SUM(total_tokens) AS INTEGER) AS tokens, CAST(SUM(cost_usd) AS REAL) AS cost \
             FROM cost_rollup WHERE agent_name = ?1 AND day >= ?2 \
             GROUP BY day, model_name ORDER BY day, model_name",
        )
        .bind(agent)
        .bind(day(first))
        .fetch_all(&reader)
        .await;
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
        let reader = self.reader().await?;
        let outcome = daily_series(&reader, first, last).await;
        self.note_read(outcome.as_ref().map(|_| ()));
        Ok(outcome?)
    }

    /// Cost of each given task (all time); tasks without invocations are left out.
    #[cfg(feature = "bench-support")]
    pub async fn task_costs(&self, task_ids: &[String]) -> Result<Vec<TaskCost>, TelemetryError> {
        let reader = self.reader().await?;
        let mut costs = Vec::new();
        for task_id in task_ids {
            let row = sqlx::query_as::<_, TaskRow>(
                "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, \
                 invocations FROM task_costs WHERE task_id = ?",
            )
            .bind(task_id)
            .fetch_optional(&reader)
            .await?;
            costs.extend(row.map(task_cost));
        }
        Ok(costs)
    }
}

/// Every aggregate of the cost page, in one read transaction.
async fn summarize(
    reader: &sqlx::SqlitePool,
    range: CostRange,
    now: DateTime<Utc>,
) -> Result<CostSummary, sqlx::Error> {
    let mut tx = reader.begin().await?;
    let (totals, per_agent) = totals_and_agents(&mut tx, now).await?;

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
            src = source(range),
            sums = "CAST(SUM(invocations) AS INTEGER) AS invocations, \
                    CAST(SUM(errors) AS INTEGER) AS errors, \
                    CAST(SUM(total_tokens) AS INTEGER) AS tokens, \
                    CAST(SUM(cost_usd) AS REAL) AS cost",
        );
    let rows = bind_start(
        sqlx::query_as::<_, BreakdownRow>(&breakdown_sql),
        &start(range, now),
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut models = Vec::new();
    let mut agents = Vec::new();
    let mut tools = Vec::new();
    let mut daily = Vec::new();
    for row in rows {
        let group = GroupRow {
            name: row.name,
            invocations: row.invocations,
            errors: row.errors,
            tokens: row.tokens,
            cost: row.cost,
        };
        match row.kind.as_str() {
            "model" => models.push(group),
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

    let since = start_julian(range, now);
    let mut by_model = Vec::new();
    for row in sorted(models) {
        let (p50, p95) = latency_percentiles(&mut tx, &row.name, since).await?;
        by_model.push(ModelCost {
            error_rate: rate(row.errors, row.invocations),
            model: row.name,
            invocations: count(row.invocations),
            tokens: count(row.tokens),
            cost_usd: row.cost,
            latency_p50_ms: p50,
            latency_p95_ms: p95,
        });
    }
    let agents = sorted(agents);
    let (errors, invocations) = agents
        .iter()
        .fold((0, 0), |(e, n), row| (e + row.errors, n + row.invocations));

    let summary = CostSummary {
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
        active: active(&mut tx, now).await?,
        per_task: per_task(&mut tx).await?,
        per_agent,
        error_rate: rate(errors, invocations),
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    tx.rollback().await?;
    Ok(summary)
}

async fn daily_series(
    reader: &sqlx::SqlitePool,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<DailyTotals, sqlx::Error> {
    let mut tx = reader.begin().await?;
    // `day` is '' for a timestamp SQLite cannot read: not a day of the series.
    let first_day: Option<String> =
        sqlx::query_scalar("SELECT MIN(day) FROM cost_rollup WHERE day != '' AND invocations > 0")
            .fetch_one(&mut *tx)
            .await?;
    let rows: Vec<(String, f64)> = sqlx::query_as(
        "SELECT day, CAST(SUM(cost_usd) AS REAL) FROM cost_rollup \
         WHERE day >= ?1 AND day <= ?2 GROUP BY day ORDER BY day",
    )
    .bind(day(first))
    .bind(day(last))
    .fetch_all(&mut *tx)
    .await?;
    tx.rollback().await?;
    let parse = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    Ok(DailyTotals {
        costs: rows
            .into_iter()
            .filter_map(|(date, cost)| Some((parse(&date)?, cost)))
            .collect(),
        first_day: first_day.as_deref().and_then(parse),
    })
}

async fn agent_usage(
    reader: &sqlx::SqlitePool,
    now: DateTime<Utc>,
) -> Result<Vec<AgentUsage>, sqlx::Error> {
    let mut tx = reader.begin().await?;
    let mut usage = sqlx::query_as::<_, AgentUsage>(
        "SELECT agent_name AS agent, model_name AS model, \
           CAST(COALESCE(SUM(CASE WHEN day = ?1 THEN cost_usd END), 0.0) AS REAL) AS today, \
           CAST(SUM(cost_usd) AS REAL) AS total, \
           CAST(SUM(invocations) AS INTEGER) AS invocations, \
           MAX(day) AS last_day \
         FROM cost_rollup GROUP BY agent_name, model_name",
    )
    .bind(day(now.date_naive()))
    .fetch_all(&mut *tx)
    .await?;
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let latest: Vec<(String, f64)> = sqlx::query_as(
        "SELECT COALESCE(agent_name, ''), MAX(julianday(timestamp)) \
         FROM invocations INDEXED BY idx_invocations_julianday \
         WHERE julianday(timestamp) >= ?1 GROUP BY 1",
    )
    .bind(julian_day(midnight))
    .fetch_all(&mut *tx)
    .await?;
    tx.rollback().await?;
    let latest: BTreeMap<String, i64> = latest
        .into_iter()
        .map(|(agent, julian)| (agent, julian_day_millis(julian)))
        .collect();
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

type Query<'q, T> = sqlx::query::QueryAs<'q, Sqlite, T, sqlx::sqlite::SqliteArguments<'q>>;

fn bind_start<'q, T>(query: Query<'q, T>, start: &Start) -> Query<'q, T> {
    match start {
        Start::Day(date) => query.bind(date.clone()),
        Start::Julian(julian) => query.bind(*julian),
    }
}

/// Today, this month and all time, and the all-time cost per agent: one pass over the rollup.
async fn totals_and_agents(
    tx: &mut Transaction<'static, Sqlite>,
    now: DateTime<Utc>,
) -> Result<(CostTotals, Vec<AgentCost>), sqlx::Error> {
    let today = now.date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let next_month = month_start
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month_start);
    let rows = sqlx::query_as::<_, AgentTotalsRow>(
        "SELECT agent_name, \
           CAST(COALESCE(SUM(CASE WHEN day = ?1 THEN cost_usd END), 0.0) AS REAL) AS today, \
           CAST(COALESCE(SUM(CASE WHEN day >= ?2 AND day < ?3 THEN cost_usd END), 0.0) AS REAL) AS month, \
           CAST(SUM(cost_usd) AS REAL) AS total, \
           CAST(SUM(invocations) AS INTEGER) AS invocations, \
           CAST(SUM(total_tokens) AS INTEGER) AS tokens \
         FROM cost_rollup GROUP BY agent_name",
    )
    .bind(day(today))
    .bind(day(month_start))
    .bind(day(next_month))
    .fetch_all(&mut **tx)
    .await?;
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
        });
    }
    agents.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.agent.cmp(&b.agent))
    });
    Ok((totals, agents))
}

async fn active(
    tx: &mut Transaction<'static, Sqlite>,
    now: DateTime<Utc>,
) -> Result<Vec<ActiveOperation>, sqlx::Error> {
    let rows = sqlx::query_as::<_, ActiveRow>(
        "SELECT invocation_id, CAST(timestamp AS TEXT) AS timestamp, agent_name, tool_name, \
         model_name, CAST(COALESCE(total_tokens, 0) AS INTEGER) AS total_tokens, \
         CAST(COALESCE(cost_usd, 0.0) AS REAL) AS cost_usd, \
         CAST(COALESCE(latency_ms, 0) AS INTEGER) AS latency_ms, status, task_id \
         FROM invocations WHERE julianday(timestamp) >= ?1 \
         ORDER BY julianday(timestamp) DESC, id DESC LIMIT ?2",
    )
    .bind(julian_day(now - ACTIVE_WINDOW))
    .bind(ACTIVE_LIMIT)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(operation).collect())
}

async fn task_activity(
    reader: &sqlx::SqlitePool,
    task_id: &str,
    limit: u32,
) -> Result<(Option<TaskCost>, Vec<ActiveOperation>), sqlx::Error> {
    let mut tx = reader.begin().await?;
    let cost = sqlx::query_as::<_, TaskRow>(
        "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, invocations \
         FROM task_costs WHERE task_id = ? AND invocations > 0",
    )
    .bind(task_id)
    .fetch_optional(&mut *tx)
    .await?
    .map(task_cost);
    let rows = sqlx::query_as::<_, ActiveRow>(
        "SELECT invocation_id, CAST(timestamp AS TEXT) AS timestamp, agent_name, tool_name, \
         model_name, CAST(COALESCE(total_tokens, 0) AS INTEGER) AS total_tokens, \
         CAST(COALESCE(cost_usd, 0.0) AS REAL) AS cost_usd, \
         CAST(COALESCE(latency_ms, 0) AS INTEGER) AS latency_ms, status, task_id \
         FROM invocations WHERE task_id = ? \
         ORDER BY julianday(timestamp) DESC, id DESC LIMIT ?",
    )
    .bind(task_id)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    Ok((cost, rows.into_iter().map(operation).collect()))
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
    }
}

async fn per_task(tx: &mut Transaction<'static, Sqlite>) -> Result<Vec<TaskCost>, sqlx::Error> {
    let rows = sqlx::query_as::<_, TaskRow>(
        "SELECT task_id, CAST(cost_usd AS REAL) AS cost, total_tokens AS tokens, invocations \
         FROM task_costs WHERE invocations > 0 ORDER BY cost DESC, task_id LIMIT ?",
    )
    .bind(TASK_LIMIT)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(task_cost).collect())
}

/// Nearest-rank p50 and p95 of the model's newest [`LATENCY_SAMPLE`] latencies since `since`
/// (a Julian day). A bounded sample keeps this O(sample) through `idx_invocations_model_julianday`.
async fn latency_percentiles(
    tx: &mut Transaction<'static, Sqlite>,
    model: &str,
    since: f64,
) -> Result<(Option<u64>, Option<u64>), sqlx::Error> {
    let mut latencies: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(latency_ms AS INTEGER) FROM invocations \
         WHERE model_name = ?1 AND julianday(timestamp) >= ?2 AND latency_ms IS NOT NULL \
         ORDER BY julianday(timestamp) DESC LIMIT ?3",
    )
    .bind(model)
    .bind(since)
    .bind(LATENCY_SAMPLE)
    .fetch_all(&mut **tx)
    .await?;
    latencies.sort_unstable();
    Ok((percentile(&latencies, 0.50), percentile(&latencies, 0.95)))
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
