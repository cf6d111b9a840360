//! `execdash seed-demo`: fills the demo workspace's telemetry.db with a month of plausible
//! invocations for its agents and tasks, dated relative to now, so a newcomer sees live charts and
//! costs on the cards. Deterministic (a fixed pseudo-random sequence); idempotent per day.

use std::path::Path;

use chrono::{Duration, Utc};

use crate::board;
use crate::telemetry::{IngestError, Invocation, Telemetry, TelemetryError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum DemoError {
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    #[error("cannot store the demo invocations: {0}")]
    Ingest(#[from] IngestError),
}

const MODELS: [(&str, f64); 4] = [
    ("claude-sonnet-4", 6.0),
    ("gpt-5", 5.0),
    ("claude-haiku-4", 1.2),
    ("gemini-2.5-pro", 4.0),
];
const TOOLS: [&str; 3] = ["claude-code", "codex", "aider"];

/// Writes `count` invocations over the last 30 days, for the tasks found under `root`.
pub(crate) async fn seed(root: &Path, db: &Path, count: usize) -> Result<u64, DemoError> {
    let tasks: Vec<(String, Option<String>)> = board::read_tasks(&board::collaboration_dir(root))
        .into_iter()
        .map(|task| (task.id.clone(), task.owner().map(str::to_owned)))
        .collect();
    let telemetry = Telemetry::open(db).await?;
    let now = Utc::now();
    let day = now.format("%Y%m%d").to_string();
    let mut random = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    let mut batch = Vec::with_capacity(count);
    for i in 0..count {
        let (model, price_per_mtok) = MODELS[(next() % MODELS.len() as u64) as usize];
        let (task_id, agent) = match tasks.get((next() % (tasks.len() as u64 + 3)) as usize) {
            Some((id, agent)) => (Some(id.clone()), agent.clone()),
            None => (None, None),
        };
        let prompt = 500 + (next() % 6000) as i64;
        let completion = 100 + (next() % 2000) as i64;
        // Older calls are sparser: most of the activity is recent.
        let age_minutes = ((next() % 1000) as f64 / 1000.0).powi(2) * 30.0 * 24.0 * 60.0;
        let mut invocation =
            Invocation::new(&format!("demo-{day}-{i:05}"), TOOLS[i % TOOLS.len()], model);
        invocation.timestamp = Some((now - Duration::minutes(age_minutes as i64)).to_rfc3339());
        invocation.agent_name = agent;
        invocation.task_id = task_id;
        invocation.prompt_tokens = prompt;
        invocation.completion_tokens = completion;
        invocation.total_tokens = prompt + completion;
        invocation.cost_usd =
            ((prompt + completion) as f64 * price_per_mtok / 1_000_000.0 * 10_000.0).round()
                / 10_000.0;
        invocation.latency_ms = 400 + (next() % 9000) as i64;
        invocation.status = if next() % 40 == 0 {
            "error".into()
        } else {
            "success".into()
        };
        batch.push(invocation);
    }
    let report = telemetry.ingest(batch).await?;
    telemetry.close().await;
    Ok(report.inserted)
}
