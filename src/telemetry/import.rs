//! `execdash import <file.jsonl>`: loads invocations from a JSON Lines file.
//!
//! Each non-blank line is one of:
//! * an **invocation**: an object with `invocation_id` and the original column names (e.g. an
//!   export of the `invocations` table);
//! * an **ADR-047 event** (an object with `event`). Only `cost_update` and `execution_complete`
//!   events describe spending; they become invocations when they carry a cost or token count.
//!   Every other event (`task_started`, ..., or one without usage) is counted as `skipped`.
//!
//! Event → invocation mapping (the ADR-047 `Event` has no usage fields of its own, so usage is
//! looked up, in this order, at the top level, in `summary` when it is an object, and in `usage`):
//!
//! | invocation | event |
//! |---|---|
//! | `invocation_id` | `"event:" + event_id` (required: it makes re-imports idempotent) |
//! | `timestamp` | `ts` |
//! | `agent_name` | `agent_role` |
//! | `tool_name` | `tool`, else `"unknown"` |
//! | `model_name` | `model_name` or `model`, else `"unknown"` |
//! | `prompt_tokens` / `completion_tokens` | `prompt_tokens` or `input_tokens` / `completion_tokens` or `output_tokens` |
//! | `total_tokens` | `total_tokens` or `tokens`, else prompt + completion |
//! | `cost_usd` | `cost_usd` or `cost` |
//! | `latency_ms` | `latency_ms` or `duration_ms` |
//! | `status` | `success`, except `failed`/`failure`/`error` → `error`, `timeout`/`timed_out` → `timeout` |
//! | `task_id` | `task_id` |
//!
//! Lines are stored in batches of [`IMPORT_BATCH`] (one transaction each) with `INSERT OR IGNORE`,
//! so an interrupted import is resumed by running it again: what is in is counted as duplicates.
//! A bad line (invalid JSON, invalid field) is reported with its line number and skipped.

use std::path::Path;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::error::{ImportError, ValidationError};
use super::invocation::Invocation;
use super::Telemetry;

/// Rows per transaction.
pub(super) const IMPORT_BATCH: usize = 1000;
/// Bad lines kept in [`ImportReport::errors`] (all are counted in `bad_lines`).
pub(super) const MAX_REPORTED_ERRORS: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Non-blank lines read.
    pub lines: u64,
    pub inserted: u64,
    /// Already in the database (or repeated in the file).
    pub duplicates: u64,
    /// Ids already in the database (or earlier in the file) with other content: not imported.
    #[serde(default)]
    pub conflicts: u64,
    /// Events that carry no cost (not errors).
    pub skipped: u64,
    pub bad_lines: u64,
    /// The first [`MAX_REPORTED_ERRORS`] bad lines.
    pub errors: Vec<LineError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// 1-based.
    pub line: u64,
    pub message: String,
}

/// What one line holds.
#[derive(Debug, PartialEq)]
pub(super) enum Parsed {
    Invocation(Box<Invocation>),
    Skipped,
}

/// Imports `path`, calling `progress(done_bytes, total_bytes)` after every batch and at the end.
pub async fn import_jsonl(
    telemetry: &Telemetry,
    path: &Path,
    mut progress: impl FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    let io_error = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = tokio::fs::File::open(path).await.map_err(io_error)?;
    let total = file.metadata().await.map_err(io_error)?.len();
    let mut reader = BufReader::new(file);
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let mut buffer = Vec::new();
    let mut done = 0u64;
    let mut line_number = 0u64;
    progress(0, total);
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .await
            .map_err(io_error)?;
        if read == 0 {
            break;
        }
        done += read as u64;
        line_number += 1;
        let line = match std::str::from_utf8(&buffer) {
            Ok(line) => line.trim(),
            Err(_) => {
                report.lines += 1;
                bad_line(&mut report, line_number, "not valid UTF-8".into());
                continue;
            }
        };
        if line.is_empty() {
            continue;
        }
        report.lines += 1;
        match parse_line(line) {
            Ok(Parsed::Invocation(invocation)) => batch.push(*invocation),
            Ok(Parsed::Skipped) => report.skipped += 1,
            Err(message) => bad_line(&mut report, line_number, message),
        }
        if batch.len() >= IMPORT_BATCH {
            store(telemetry, &mut batch, &mut report).await?;
            progress(done, total);
        }
    }
    store(telemetry, &mut batch, &mut report).await?;
    progress(done, total);
    tracing::info!(
        path = %path.display(),
        inserted = report.inserted,
        duplicates = report.duplicates,
        conflicts = report.conflicts,
        skipped = report.skipped,
        bad_lines = report.bad_lines,
        "telemetry import done"
    );
    Ok(report)
}

async fn store(
    telemetry: &Telemetry,
    batch: &mut Vec<Invocation>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    let stored = telemetry.ingest(std::mem::take(batch)).await?;
    report.inserted += stored.inserted;
    report.duplicates += stored.duplicates;
    report.conflicts += stored.conflicts.len() as u64;
    for id in stored.conflicts.iter().take(MAX_REPORTED_ERRORS) {
        tracing::warn!(invocation_id = %id, "stored already with other content: not imported");
    }
    Ok(())
}

fn bad_line(report: &mut ImportReport, line: u64, message: String) {
    report.bad_lines += 1;
    tracing::debug!(line, %message, "bad telemetry import line");
    if report.errors.len() < MAX_REPORTED_ERRORS {
        report.errors.push(LineError { line, message });
    }
}

/// Parses and validates one line (see the module documentation).
pub(super) fn parse_line(line: &str) -> Result<Parsed, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(map) = &value else {
        return Err("expected a JSON object".into());
    };
    let invocation = if let Some(event) = map.get("event") {
        let Some(event) = event.as_str() else {
            return Err("event: expected a string".into());
        };
        match event_invocation(event, map).map_err(|e| e.to_string())? {
            Some(invocation) => invocation,
            None => return Ok(Parsed::Skipped),
        }
    } else if map.contains_key("invocation_id") {
        Invocation::from_json(&value).map_err(|e| e.to_string())?
    } else {
        return Err(
            "neither an invocation (no invocation_id) nor an ADR-047 event (no event)".into(),
        );
    };
    let invocation = invocation
        .validated(Utc::now())
        .map_err(|e| e.to_string())?;
    Ok(Parsed::Invocation(Box::new(invocation)))
}

/// The usage objects of an event, in lookup order.
fn usage_maps(map: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    let mut maps = vec![map];
    for key in ["summary", "usage"] {
        if let Some(Value::Object(inner)) = map.get(key) {
            maps.push(inner);
        }
    }
    maps
}

fn lookup<'a>(maps: &[&'a Map<String, Value>], keys: &[&str]) -> Option<(String, &'a Value)> {
    maps.iter().find_map(|map| {
        keys.iter().find_map(|key| {
            map.get(*key)
                .filter(|value| !value.is_null())
                .map(|value| ((*key).to_string(), value))
        })
    })
}

fn number(maps: &[&Map<String, Value>], keys: &[&str]) -> Result<Option<f64>, ValidationError> {
    match lookup(maps, keys) {
        None => Ok(None),
        Some((_, Value::Number(n))) => Ok(n.as_f64()),
        Some((key, _)) => Err(ValidationError::new(key, "expected a number")),
    }
}

fn integer(maps: &[&Map<String, Value>], keys: &[&str]) -> Result<Option<i64>, ValidationError> {
    match number(maps, keys)? {
        None => Ok(None),
        Some(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => Ok(Some(value as i64)),
        Some(value) => Err(ValidationError::new(
            keys[0],
            format!("expected an integer, got {value}"),
        )),
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, ValidationError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ValidationError::new(key, "expected a string")),
    }
}

fn text_in(maps: &[&Map<String, Value>], keys: &[&str]) -> Result<Option<String>, ValidationError> {
    match lookup(maps, keys) {
        None => Ok(None),
        Some((_, Value::String(text))) => Ok(Some(text.clone())),
        Some((key, _)) => Err(ValidationError::new(key, "expected a string")),
    }
}

/// An ADR-047 event as an invocation, or `None` when it carries no spending.
fn event_invocation(
    event: &str,
    map: &Map<String, Value>,
) -> Result<Option<Invocation>, ValidationError> {
    if !matches!(event, "cost_update" | "execution_complete") {
        return Ok(None);
    }
    let maps = usage_maps(map);
    let cost = number(&maps, &["cost_usd", "cost"])?;
    let prompt = integer(&maps, &["prompt_tokens", "input_tokens"])?;
    let completion = integer(&maps, &["completion_tokens", "output_tokens"])?;
    let total = integer(&maps, &["total_tokens", "tokens"])?;
    if cost.is_none() && prompt.is_none() && completion.is_none() && total.is_none() {
        return Ok(None);
    }
    let event_id = text(map, "event_id")?
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| {
            ValidationError::new("event_id", "is required to import an event idempotently")
        })?;
    let status = match text(map, "status")?.as_deref() {
        Some("failed" | "failure" | "error") => "error",
        Some("timeout" | "timed_out") => "timeout",
        _ => "success",
    };
    let prompt_tokens = prompt.unwrap_or(0);
    let completion_tokens = completion.unwrap_or(0);
    Ok(Some(Invocation {
        invocation_id: format!("event:{event_id}"),
        timestamp: text(map, "ts")?,
        agent_name: text(map, "agent_role")?,
        tool_name: text(map, "tool")?.unwrap_or_else(|| "unknown".into()),
        model_name: text_in(&maps, &["model_name", "model"])?.unwrap_or_else(|| "unknown".into()),
        prompt_tokens,
        completion_tokens,
        total_tokens: total.unwrap_or(prompt_tokens.saturating_add(completion_tokens)),
        cost_usd: cost.unwrap_or(0.0),
        latency_ms: integer(&maps, &["latency_ms", "duration_ms"])?.unwrap_or(0),
        status: status.into(),
        error_message: None,
        privacy_level: None,
        task_id: text(map, "task_id")?,
        ..Invocation::new("", "", "")
    }))
}
