//! Every stored invocation of a time range, read row by row for an export: a task reads them and
//! hands them over through a bounded queue, so an export of any size holds a few hundred rows in
//! memory and a slow download slows the read instead of filling the memory.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use tokio::sync::mpsc;

use super::queries::julian_day;
use super::{CostRange, Pools, Telemetry, TelemetryError};
use futures_util::StreamExt;

/// How many rows wait for the download at most.
const QUEUE: usize = 256;

/// One invocation as exported (the stored columns, as stored).
#[derive(Debug, Serialize, FromRow)]
pub(crate) struct ExportedInvocation {
    pub(crate) invocation_id: String,
    pub(crate) timestamp: Option<String>,
    pub(crate) agent_name: Option<String>,
    pub(crate) tool_name: String,
    pub(crate) model_name: String,
    pub(crate) prompt_tokens: i64,
    pub(crate) completion_tokens: i64,
    pub(crate) total_tokens: i64,
    pub(crate) cost_usd: f64,
    pub(crate) latency_ms: i64,
    pub(crate) status: String,
    pub(crate) error_message: Option<String>,
    pub(crate) task_id: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) cache_read_tokens: Option<i64>,
    pub(crate) cache_write_tokens: Option<i64>,
    pub(crate) reported_cost_usd: Option<f64>,
    pub(crate) computed_cost_usd: Option<f64>,
    pub(crate) attribution: Option<String>,
}

impl ExportedInvocation {
    pub(crate) const COLUMNS: [&'static str; 20] = [
        "invocation_id",
        "timestamp",
        "agent_name",
        "tool_name",
        "model_name",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost_usd",
        "latency_ms",
        "status",
        "error_message",
        "task_id",
        "source",
        "session_id",
        "cache_read_tokens",
        "cache_write_tokens",
        "reported_cost_usd",
        "computed_cost_usd",
        "attribution",
    ];

    pub(crate) fn record(&self) -> [String; 20] {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let number = |value: Option<String>| value.unwrap_or_default();
        [
            self.invocation_id.clone(),
            text(&self.timestamp),
            text(&self.agent_name),
            self.tool_name.clone(),
            self.model_name.clone(),
            self.prompt_tokens.to_string(),
            self.completion_tokens.to_string(),
            self.total_tokens.to_string(),
            self.cost_usd.to_string(),
            self.latency_ms.to_string(),
            self.status.clone(),
            text(&self.error_message),
            text(&self.task_id),
            text(&self.source),
            text(&self.session_id),
            number(self.cache_read_tokens.map(|n| n.to_string())),
            number(self.cache_write_tokens.map(|n| n.to_string())),
            number(self.reported_cost_usd.map(|n| n.to_string())),
            number(self.computed_cost_usd.map(|n| n.to_string())),
            text(&self.attribution),
        ]
    }
}

/// The export's query: every stored column, oldest first; `$FILTER` becomes the range's
/// condition (`?1`/`$1` its start) or nothing.
const SQLITE_EXPORT: &str = "SELECT invocation_id, CAST(timestamp AS TEXT) AS timestamp, \
     agent_name, tool_name, model_name, COALESCE(prompt_tokens, 0) AS prompt_tokens, \
     COALESCE(completion_tokens, 0) AS completion_tokens, \
     COALESCE(total_tokens, 0) AS total_tokens, \
     CAST(COALESCE(cost_usd, 0.0) AS REAL) AS cost_usd, \
     COALESCE(latency_ms, 0) AS latency_ms, status, error_message, task_id, source, session_id, \
     CAST(cache_read_tokens AS INTEGER) AS cache_read_tokens, \
     CAST(cache_write_tokens AS INTEGER) AS cache_write_tokens, \
     CAST(reported_cost_usd AS REAL) AS reported_cost_usd, \
     CAST(computed_cost_usd AS REAL) AS computed_cost_usd, attribution \
     FROM invocations $FILTER ORDER BY id";
const SQLITE_RANGE: &str = "WHERE julianday(timestamp) >= ?1";
const POSTGRES_EXPORT: &str = "SELECT invocation_id, timestamp, agent_name, tool_name, \
     model_name, COALESCE(prompt_tokens, 0) AS prompt_tokens, \
     COALESCE(completion_tokens, 0) AS completion_tokens, \
     COALESCE(total_tokens, 0) AS total_tokens, COALESCE(cost_usd, 0.0) AS cost_usd, \
     COALESCE(latency_ms, 0) AS latency_ms, status, error_message, task_id, source, session_id, \
     cache_read_tokens, cache_write_tokens, reported_cost_usd, computed_cost_usd, attribution \
     FROM invocations $FILTER ORDER BY id";
const POSTGRES_RANGE: &str = "WHERE at >= $1::timestamptz";

impl Telemetry {
    /// The invocations of `range` (all of them with `None`) as of `now`, oldest first, through
    /// a bounded queue; the first error ends it.
    pub(crate) async fn export_invocations(
        &self,
        range: Option<CostRange>,
        now: DateTime<Utc>,
    ) -> Result<mpsc::Receiver<Result<ExportedInvocation, TelemetryError>>, TelemetryError> {
        let pools = self.pools().await?;
        let since = range.map(|r| now - chrono::Duration::days(i64::from(r.days())));
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            match pools {
                Pools::Sqlite { reader, .. } => {
                    let sql = SQLITE_EXPORT
                        .replace("$FILTER", if since.is_some() { SQLITE_RANGE } else { "" });
                    let mut query = sqlx::query_as::<_, ExportedInvocation>(&sql);
                    if let Some(since) = since {
                        query = query.bind(julian_day(since));
                    }
                    forward(query.fetch(&reader), sender).await;
                }
                Pools::Postgres(pool) => {
                    let sql = POSTGRES_EXPORT
                        .replace("$FILTER", if since.is_some() { POSTGRES_RANGE } else { "" });
                    let mut query = sqlx::query_as::<_, ExportedInvocation>(&sql);
                    if let Some(since) = since {
                        query =
                            query.bind(since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
                    }
                    forward(query.fetch(&pool), sender).await;
                }
            }
        });
        Ok(receiver)
    }
}

/// Hands rows over until the download goes away or a read fails (the error is handed over too).
async fn forward(
    mut rows: impl futures_util::Stream<Item = Result<ExportedInvocation, sqlx::Error>> + Unpin,
    sender: mpsc::Sender<Result<ExportedInvocation, TelemetryError>>,
) {
    while let Some(row) = rows.next().await {
        let failed = row.is_err();
        if sender
            .send(row.map_err(TelemetryError::from))
            .await
            .is_err()
            || failed
        {
            break;
        }
    }
}
