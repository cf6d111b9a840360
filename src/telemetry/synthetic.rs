//! Synthetic invocations for benchmarks: rows are generated inside SQLite by a recursive CTE, so
//! a million rows need no round trip per row.
//!
//! The rows look like the original writer's: ISO timestamps with `+00:00` spread evenly over the
//! last 120 days (in insertion order, so index inserts are appends), 5 models, 6 agents (one of them NULL), 4 tools, ~3 % errors and timeouts, a
//! `task_id` on a quarter of them (500 tasks). Like any external writer, the seeder does not touch
//! `daily_costs`; the rollups our aggregates read are kept by the triggers.

use chrono::Utc;

use super::error::TelemetryError;
use super::{Pools, Telemetry};

/// Rows per transaction (keeps the write lock for about a second at a time).
const CHUNK: usize = 50_000;
const SPREAD_SECONDS: i64 = 120 * 86_400;

const INSERT: &str = r#"
WITH RECURSIVE seq(i) AS (
    SELECT ?1 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?2
)
INSERT INTO invocations (invocation_id, timestamp, agent_name, tool_name, model_name,
    prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, status,
    error_message, privacy_level, task_id)
SELECT
    'synthetic-' || ?3 || '-' || printf('%010d', i),
    strftime('%Y-%m-%dT%H:%M:%f', ?4 - ?5 + (i * ?5) / ?6 + ((i * 7919) % 1000) / 1000.0,
        'unixepoch') || '000+00:00',
    CASE (i / 7) % 6 WHEN 0 THEN 'backend-benny' WHEN 1 THEN 'frontend-freddy'
        WHEN 2 THEN 'architect-alphonso' WHEN 3 THEN 'reviewer-rita'
        WHEN 4 THEN 'writer-wendy' ELSE NULL END,
    CASE (i / 3) % 4 WHEN 0 THEN 'claude-code' WHEN 1 THEN 'codex' WHEN 2 THEN 'aider'
        ELSE 'gemini-cli' END,
    CASE i % 5 WHEN 0 THEN 'claude-sonnet-4' WHEN 1 THEN 'claude-opus-4' WHEN 2 THEN 'gpt-5'
        WHEN 3 THEN 'gpt-5-mini' ELSE 'gemini-2.5-pro' END,
    200 + (i * 37) % 4000,
    50 + (i * 53) % 1500,
    250 + (i * 37) % 4000 + (i * 53) % 1500,
    (250 + (i * 37) % 4000 + (i * 53) % 1500)
        * (CASE i % 5 WHEN 0 THEN 6 WHEN 1 THEN 30 WHEN 2 THEN 5 WHEN 3 THEN 1 ELSE 4 END) / 1000000.0,
    300 + (i * 97) % 20000,
    CASE WHEN i % 50 = 0 THEN 'error' WHEN i % 173 = 0 THEN 'timeout' ELSE 'success' END,
    CASE WHEN i % 50 = 0 THEN 'synthetic failure' END,
    'metadata',
    CASE WHEN i % 4 = 0 THEN 'task-' || ((i / 4) % 500) END
FROM seq
"#;

/// Inserts `n` synthetic invocations (ids unique per call) and returns how many were written.
pub async fn seed_synthetic(telemetry: &Telemetry, n: usize) -> Result<u64, TelemetryError> {
    let now = Utc::now();
    let Pools::Sqlite { writer, .. } = telemetry.pools().await? else {
        return Err(TelemetryError::NotAFile);
    };
    // A large page cache for the duration of the seed (the default 2 MB thrashes on 8 indexes).
    sqlx::query("PRAGMA cache_size = -262144")
        .execute(&writer)
        .await?;
    let seeded = insert_chunks(&writer, n, now.timestamp(), now.timestamp_micros()).await;
    sqlx::query("PRAGMA cache_size = -2000")
        .execute(&writer)
        .await?;
    let written = seeded?;
    if written > 0 {
        telemetry.notify_changed();
    }
    Ok(written)
}

async fn insert_chunks(
    writer: &sqlx::SqlitePool,
    n: usize,
    now: i64,
    run: i64,
) -> Result<u64, sqlx::Error> {
    let mut written = 0u64;
    let mut from = 0usize;
    while from < n {
        let to = (from + CHUNK).min(n);
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let result = sqlx::query(INSERT)
            .bind(from as i64)
            .bind(to as i64)
            .bind(run)
            .bind(now)
            .bind(SPREAD_SECONDS)
            .bind(n.max(1) as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        written += result.rows_affected();
        from = to;
        tracing::debug!(written, n, "seeding synthetic invocations");
    }
    Ok(written)
}
