//! One LLM invocation, as a row of the original `invocations` table, and its validation.
//!
//! JSON from the network or from a JSONL file goes through [`Invocation::from_json`] rather than
//! serde's derive, so that a wrong type is reported with the name of the field (serde_json only
//! says "invalid type ... at line 1 column 40").
//!
//! Its length is mostly the per-field validation and its tests.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ValidationError;

pub(super) const MAX_ID_CHARS: usize = 200;
pub(super) const MAX_NAME_CHARS: usize = 200;
pub(super) const MAX_ERROR_MESSAGE_CHARS: usize = 10_000;
pub(super) const STATUSES: [&str; 3] = ["success", "error", "timeout"];
pub(super) const PRIVACY_LEVELS: [&str; 3] = ["metadata", "full", "none"];
pub(super) const ATTRIBUTIONS: [&str; 2] = ["sent", "inferred"];

/// The columns of `invocations` (without the autoincrement `id`), with the original names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    pub invocation_id: String,
    /// `None` means "now" (filled in by [`Invocation::validated`]).
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub agent_name: Option<String>,
    pub tool_name: String,
    pub model_name: String,
    #[serde(default)]
    pub prompt_tokens: i64,
    #[serde(default)]
    pub completion_tokens: i64,
    #[serde(default)]
    pub total_tokens: i64,
    #[serde(default)]
    pub cost_usd: f64,
    #[serde(default)]
    pub latency_ms: i64,
    pub status: String,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub privacy_level: Option<String>,
    /// Added in schema 1.1.0: the board task the invocation worked for.
    #[serde(default)]
    pub task_id: Option<String>,
    /// The repository the invocation worked for (a team's PostgreSQL store keeps it; the node
    /// that receives it fills in its own when it is missing). A SQLite file, which holds one
    /// repository, does not keep it.
    #[serde(default)]
    pub repo: Option<String>,
    /// Added in schema 1.4.0 (2.2.0 on PostgreSQL), all optional, so older writers keep working.
    /// What reported the call: `claude-code`, `codex`, `gemini-cli`, a GenAI instrumentation's
    /// scope; `None` for rows posted or written by the original logger.
    #[serde(default)]
    pub source: Option<String>,
    /// The agent's session (Claude Code's `session.id`, Codex's conversation).
    #[serde(default)]
    pub session_id: Option<String>,
    /// Input tokens read from the prompt cache (counted in `prompt_tokens` too).
    #[serde(default)]
    pub cache_read_tokens: Option<i64>,
    /// Input tokens written to the prompt cache (counted in `prompt_tokens` too).
    #[serde(default)]
    pub cache_write_tokens: Option<i64>,
    /// The cost the agent itself reported (Claude Code does), when it did.
    #[serde(default)]
    pub reported_cost_usd: Option<f64>,
    /// The cost execdash computed from its price table, when the model has a price.
    #[serde(default)]
    pub computed_cost_usd: Option<f64>,
    /// `sent` when the agent or task came with the call, `inferred` when execdash worked it out.
    #[serde(default)]
    pub attribution: Option<String>,
    /// Set by [`Invocation::validated`] when the timestamp was missing and became "now": a retry
    /// of the same request then gets another one, which is no conflict.
    #[serde(skip)]
    pub(crate) timestamp_defaulted: bool,
}

impl Invocation {
    /// A successful invocation with zero usage, for building values in code and tests.
    pub fn new(invocation_id: &str, tool_name: &str, model_name: &str) -> Invocation {
        Invocation {
            invocation_id: invocation_id.into(),
            timestamp: None,
            agent_name: None,
            tool_name: tool_name.into(),
            model_name: model_name.into(),
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cost_usd: 0.0,
            latency_ms: 0,
            status: "success".into(),
            error_message: None,
            privacy_level: None,
            task_id: None,
            repo: None,
            source: None,
            session_id: None,
            cache_read_tokens: None,
            cache_write_tokens: None,
            reported_cost_usd: None,
            computed_cost_usd: None,
            attribution: None,
            timestamp_defaulted: false,
        }
    }

    /// Reads one JSON object with the original column names. Unknown keys are ignored (the
    /// original `id` column, future fields). `total_tokens` defaults to prompt + completion.
    pub fn from_json(value: &Value) -> Result<Invocation, ValidationError> {
        let Value::Object(map) = value else {
            return Err(ValidationError::new(
                "invocation",
                format!("expected a JSON object, got {}", kind(value)),
            ));
        };
        let prompt_tokens = int_field(map, "prompt_tokens")?.unwrap_or(0);
        let completion_tokens = int_field(map, "completion_tokens")?.unwrap_or(0);
        let total_tokens = int_field(map, "total_tokens")?
            .unwrap_or_else(|| prompt_tokens.saturating_add(completion_tokens));
        Ok(Invocation {
            invocation_id: string_field(map, "invocation_id")?
                .ok_or_else(|| ValidationError::new("invocation_id", "is required"))?,
            timestamp: string_field(map, "timestamp")?,
            agent_name: string_field(map, "agent_name")?,
            tool_name: string_field(map, "tool_name")?
                .ok_or_else(|| ValidationError::new("tool_name", "is required"))?,
            model_name: string_field(map, "model_name")?
                .ok_or_else(|| ValidationError::new("model_name", "is required"))?,
            prompt_tokens,
            completion_tokens,
            total_tokens,
            cost_usd: float_field(map, "cost_usd")?.unwrap_or(0.0),
            latency_ms: int_field(map, "latency_ms")?.unwrap_or(0),
            status: string_field(map, "status")?
                .ok_or_else(|| ValidationError::new("status", "is required"))?,
            error_message: string_field(map, "error_message")?,
            privacy_level: string_field(map, "privacy_level")?,
            task_id: string_field(map, "task_id")?,
            repo: string_field(map, "repo")?,
            source: string_field(map, "source")?,
            session_id: string_field(map, "session_id")?,
            cache_read_tokens: int_field(map, "cache_read_tokens")?,
            cache_write_tokens: int_field(map, "cache_write_tokens")?,
            reported_cost_usd: float_field(map, "reported_cost_usd")?,
            computed_cost_usd: float_field(map, "computed_cost_usd")?,
            attribution: string_field(map, "attribution")?,
            timestamp_defaulted: false,
        })
    }

    /// Checks every field and returns the row as it will be stored: timestamp normalized (see
    /// [`parse_timestamp`], stored as [`format_timestamp`]) or set to `now`, empty optional strings turned into `None`.
    pub fn validated(mut self, now: DateTime<Utc>) -> Result<Invocation, ValidationError> {
        check_text("invocation_id", &self.invocation_id, MAX_ID_CHARS)?;
        check_text("tool_name", &self.tool_name, MAX_NAME_CHARS)?;
        check_text("model_name", &self.model_name, MAX_NAME_CHARS)?;
        self.agent_name = optional_text("agent_name", self.agent_name, MAX_NAME_CHARS)?;
        self.task_id = optional_text("task_id", self.task_id, MAX_ID_CHARS)?;
        self.repo = optional_text("repo", self.repo, MAX_NAME_CHARS)?;
        self.source = optional_text("source", self.source, MAX_NAME_CHARS)?;
        self.session_id = optional_text("session_id", self.session_id, MAX_ID_CHARS)?;
        for (field, value) in [
            ("cache_read_tokens", self.cache_read_tokens),
            ("cache_write_tokens", self.cache_write_tokens),
        ] {
            if let Some(value) = value.filter(|v| *v < 0) {
                return Err(ValidationError::new(
                    field,
                    format!("must be >= 0, got {value}"),
                ));
            }
        }
        for (field, value) in [
            ("reported_cost_usd", self.reported_cost_usd),
            ("computed_cost_usd", self.computed_cost_usd),
        ] {
            if let Some(value) = value.filter(|v| !v.is_finite() || *v < 0.0) {
                return Err(ValidationError::new(
                    field,
                    format!("must be a finite number >= 0, got {value}"),
                ));
            }
        }
        if let Some(how) = &self.attribution {
            if !ATTRIBUTIONS.contains(&how.as_str()) {
                return Err(ValidationError::new(
                    "attribution",
                    format!("must be one of sent, inferred, got '{how}'"),
                ));
            }
        }
        for (field, value) in [
            ("prompt_tokens", self.prompt_tokens),
            ("completion_tokens", self.completion_tokens),
            ("total_tokens", self.total_tokens),
            ("latency_ms", self.latency_ms),
        ] {
            if value < 0 {
                return Err(ValidationError::new(
                    field,
                    format!("must be >= 0, got {value}"),
                ));
            }
        }
        if !self.cost_usd.is_finite() || self.cost_usd < 0.0 {
            return Err(ValidationError::new(
                "cost_usd",
                format!("must be a finite number >= 0, got {}", self.cost_usd),
            ));
        }
        if !STATUSES.contains(&self.status.as_str()) {
            return Err(ValidationError::new(
                "status",
                format!(
                    "must be one of success, error, timeout, got '{}'",
                    self.status
                ),
            ));
        }
        if let Some(level) = &self.privacy_level {
            if !PRIVACY_LEVELS.contains(&level.as_str()) {
                return Err(ValidationError::new(
                    "privacy_level",
                    format!("must be one of metadata, full, none, got '{level}'"),
                ));
            }
        }
        if let Some(message) = &self.error_message {
            if message.chars().count() > MAX_ERROR_MESSAGE_CHARS {
                return Err(ValidationError::new(
                    "error_message",
                    format!("is longer than {MAX_ERROR_MESSAGE_CHARS} characters"),
                ));
            }
        }
        // `|=`: validating a validated row again (the HTTP handler, then `ingest`) keeps it.
        self.timestamp_defaulted |= self
            .timestamp
            .as_deref()
            .is_none_or(|text| text.trim().is_empty());
        let instant = match self.timestamp.as_deref() {
            None => now,
            Some(text) if text.trim().is_empty() => now,
            Some(text) => parse_timestamp(text).ok_or_else(|| {
                ValidationError::new(
                    "timestamp",
                    format!(
                        "'{text}' is not RFC 3339 (e.g. 2026-11-23T20:48:38Z) or 'YYYY-MM-DD HH:MM:SS'"
                    ),
                )
            })?,
        };
        self.timestamp = Some(format_timestamp(instant));
        Ok(self)
    }

    /// What [`CopyFacts::completes`] compares of this copy.
    pub(crate) fn facts(&self) -> CopyFacts<'_> {
        CopyFacts {
            source: self.source.as_deref(),
            model_name: &self.model_name,
            total_tokens: self.total_tokens,
            attribution: self.attribution.as_deref(),
            reported_cost_usd: self.reported_cost_usd,
        }
    }

    /// A validated invocation as PostgreSQL stores it.
    pub(crate) fn stored(&self) -> super::postgres::StoredInvocation {
        let at = self
            .timestamp
            .as_deref()
            .and_then(parse_timestamp)
            .map(|instant| instant.to_rfc3339_opts(SecondsFormat::Micros, true));
        super::postgres::StoredInvocation {
            invocation_id: self.invocation_id.clone(),
            timestamp: self.timestamp.clone(),
            at,
            agent_name: self.agent_name.clone(),
            tool_name: self.tool_name.clone(),
            model_name: self.model_name.clone(),
            prompt_tokens: Some(self.prompt_tokens),
            completion_tokens: Some(self.completion_tokens),
            total_tokens: Some(self.total_tokens),
            cost_usd: Some(self.cost_usd),
            latency_ms: Some(self.latency_ms),
            status: self.status.clone(),
            error_message: self.error_message.clone(),
            privacy_level: self.privacy_level.clone(),
            task_id: self.task_id.clone(),
            repo: self.repo.clone(),
            source: self.source.clone(),
            session_id: self.session_id.clone(),
            cache_read_tokens: self.cache_read_tokens,
            cache_write_tokens: self.cache_write_tokens,
            reported_cost_usd: self.reported_cost_usd,
            computed_cost_usd: self.computed_cost_usd,
            attribution: self.attribution.clone(),
            any_timestamp: self.timestamp_defaulted,
            any_repo: false,
        }
    }
}

/// Parses the timestamp formats found in telemetry databases: RFC 3339 with `Z` or an offset
/// (what Python's `isoformat()` writes for aware datetimes), and zone-less
/// `YYYY-MM-DD HH:MM:SS[.ffffff]` / `YYYY-MM-DDTHH:MM:SS[.ffffff]` (SQLite's `CURRENT_TIMESTAMP`,
/// naive `isoformat()`), which are taken as UTC like SQLite's date functions do.
pub(super) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }
    None
}

/// The original writer's format: UTC `isoformat()` with `+00:00`. Always with microseconds (Python
/// drops them when zero) so that stored values also sort correctly as strings.
pub(super) fn format_timestamp(instant: DateTime<Utc>) -> String {
    instant
        .to_rfc3339_opts(SecondsFormat::Micros, false)
        .replace('Z', "+00:00")
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(())
}

fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value {
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => {
            check_text(field, &text, max)?;
            Ok(Some(text))
        }
        None => Ok(None),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string field; `null` and absent are `None`.
fn string_field(map: &Map<String, Value>, field: &str) -> Result<Option<String>, ValidationError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ValidationError::new(
            field,
            format!("expected a string, got {}", kind(other)),
        )),
    }
}

/// An integer field (a float with no fractional part is accepted, as Python may write `12.0`).
fn int_field(map: &Map<String, Value>, field: &str) -> Result<Option<i64>, ValidationError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => {
            if let Some(value) = number.as_i64() {
                return Ok(Some(value));
            }
            match number.as_f64() {
                Some(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => {
                    Ok(Some(value as i64))
                }
                _ => Err(ValidationError::new(
                    field,
                    format!("expected an integer, got {number}"),
                )),
            }
        }
        Some(other) => Err(ValidationError::new(
            field,
            format!("expected an integer, got {}", kind(other)),
        )),
    }
}

fn float_field(map: &Map<String, Value>, field: &str) -> Result<Option<f64>, ValidationError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => Ok(number.as_f64()),
        Some(other) => Err(ValidationError::new(
            field,
            format!("expected a number, got {}", kind(other)),
        )),
    }
}

/// What decides whether one copy of a call completes another (see [`CopyFacts::completes`]).
pub(crate) struct CopyFacts<'a> {
    pub source: Option<&'a str>,
    pub model_name: &'a str,
    pub total_tokens: i64,
    pub attribution: Option<&'a str>,
    pub reported_cost_usd: Option<f64>,
}

impl CopyFacts<'_> {
    /// Whether this copy of a call completes `stored`, another copy of the same call (by id)
    /// from the same source with the same model and tokens: it says at least as much (the agent
    /// and task as sent, the cost as the agent reported it) and more. A transcript's copy is
    /// stored first when the agent's telemetry comes later (Claude Code exports every few
    /// seconds); the telemetry's copy then completes it, and the call still counts once.
    pub(crate) fn completes(&self, stored: &CopyFacts<'_>) -> bool {
        let sent = |attribution: Option<&str>| attribution == Some("sent");
        let (new_sent, old_sent) = (sent(self.attribution), sent(stored.attribution));
        let (new_cost, old_cost) = (
            self.reported_cost_usd.is_some(),
            stored.reported_cost_usd.is_some(),
        );
        self.source.is_some()
            && self.source == stored.source
            && self.model_name == stored.model_name
            && self.total_tokens == stored.total_tokens
            && (new_sent || !old_sent)
            && (new_cost || !old_cost)
            && (new_sent, new_cost) != (old_sent, old_cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_normalized_to_the_original_format() {
        for (input, stored) in [
            (
                "2026-11-23T20:48:38.498411+00:00",
                "2026-11-23T20:48:38.498411+00:00",
            ),
            ("2026-11-23T20:48:38Z", "2026-11-23T20:48:38.000000+00:00"),
            (
                "2026-11-23T21:48:38.5+01:00",
                "2026-11-23T20:48:38.500000+00:00",
            ),
            ("2026-11-23 20:48:38", "2026-11-23T20:48:38.000000+00:00"),
        ] {
            assert_eq!(
                parse_timestamp(input).map(format_timestamp).as_deref(),
                Some(stored),
                "{input}"
            );
        }
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let value = serde_json::json!({"invocation_id": "a", "tool_name": "t", "model_name": "m",
            "status": "success", "prompt_tokens": "12"});
        let error = Invocation::from_json(&value).unwrap_err();
        assert_eq!(error.field, "prompt_tokens");
    }
}
