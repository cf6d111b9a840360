//! A task as the board shows it, read leniently from the YAML mapping agents write.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;
#[cfg(feature = "ssr")]
use serde_json::Value;

#[cfg(feature = "ssr")]
use super::TaskPath;
use super::{Column, Document};

/// Task priority. Parsed case-insensitively (`HIGH` = `high`); shown lower case.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, FromJson,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Critical,
    High,
    Medium,
    Normal,
    Low,
}

impl Priority {
    pub fn parse(text: &str) -> Option<Priority> {
        match text.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Priority::Critical),
            "high" => Some(Priority::High),
            "medium" => Some(Priority::Medium),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

/// Statuses whose tasks are not edited: the server refuses the edit, the page disables its menus.
pub const LOCKED_STATUSES: [&str; 3] = ["in_progress", "done", "failed"];

/// Whether a task with this status (lower-cased, as [`TaskSummary::status`]) is locked against
/// edits ([`LOCKED_STATUSES`]).
pub fn status_is_locked(status: &str) -> bool {
    LOCKED_STATUSES.contains(&status)
}

/// What a card shows of a task: every typed field but its long texts. Snapshots and live events
/// carry these; the detail view fetches the whole [`Task`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct TaskSummary {
    /// Path relative to `work/collaboration`, `/`-separated; unique on the board.
    pub path: String,
    pub column: Column,
    /// The agent folder the file sits in (`assigned/<lane>/`, `done/<lane>/`).
    pub lane: Option<String>,
    pub id: String,
    pub title: String,
    pub agent: Option<String>,
    /// As written (unknown values are kept), lower-cased.
    pub status: Option<String>,
    pub priority: Option<Priority>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub tags: Vec<String>,
    pub specification: Option<String>,
    pub estimated_hours: Option<f64>,
    /// `budget_usd`: what the task may cost in all (USD); alerts at 50, 80 and 100 % of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    pub blocked_reason: Option<String>,
    /// The `state` field (`blocked` marks a blocked card too).
    pub state: Option<String>,
    /// Unix milliseconds of the latest activity (`updated_at`, else `created_at`, else the file's
    /// modification time); orders cards and drives their age.
    pub activity_ms: Option<i64>,
    /// The repository the task is in, on the board of every repository together (`/all/`);
    /// `None` on one repository's board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
}

impl TaskSummary {
    /// Whether the card should stand out as blocked (`status`/`state` blocked or a `blocked` tag).
    pub fn is_blocked(&self) -> bool {
        self.status.as_deref() == Some("blocked")
            || self.state.as_deref() == Some("blocked")
            || self
                .tags
                .iter()
                .any(|tag| tag.eq_ignore_ascii_case("blocked"))
    }

    /// Who works on the task: the `agent` field, else the folder.
    pub fn owner(&self) -> Option<&str> {
        self.agent.as_deref().or(self.lane.as_deref())
    }

    /// The lane the card is listed in (see [`lane_key`]).
    pub fn lane_key(&self) -> String {
        lane_key(self.column, self.lane.as_deref())
    }

    /// The board's order within a lane: newest activity first, then by path.
    pub fn board_order(&self, other: &TaskSummary) -> std::cmp::Ordering {
        other
            .activity_ms
            .cmp(&self.activity_ms)
            .then_with(|| self.path.cmp(&other.path))
    }
}

/// The name of a lane, the folder its cards sit in: `inbox`, `assigned/<agent>`, `done/<agent>`.
pub fn lane_key(column: Column, lane: Option<&str>) -> String {
    match lane {
        Some(lane) => format!("{}/{lane}", column.folder()),
        None => column.folder().to_owned(),
    }
}

/// The column and agent folder a lane name (see [`lane_key`]) stands for; `None` when it names
/// no lane.
pub fn parse_lane_key(key: &str) -> Option<(Column, Option<String>)> {
    let at = super::TaskPath::parse(&format!("{key}/lane.yaml"))?;
    (lane_key(at.column, at.lane.as_deref()) == key).then_some((at.column, at.lane))
}

/// One task file on the board: its summary, its description and its whole document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Task {
    #[serde(flatten)]
    pub summary: TaskSummary,
    pub description: Option<String>,
    /// The whole YAML document as JSON, for the compatible `/api/tasks` (and the server's own
    /// reading). The page never reads it: its client leaves it out (empty), so the WASM carries
    /// no reader of arbitrary JSON; what the detail shows of it the server reads
    /// ([`super::TaskDetails::feature`]).
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub document: Document,
}

/// A task reads as its summary (`task.title`, `task.path`): the summary is what it is on the
/// board; the description and document are what it adds.
impl std::ops::Deref for Task {
    type Target = TaskSummary;

    fn deref(&self) -> &TaskSummary {
        &self.summary
    }
}

/// Builds a [`Task`] from a parsed document, leniently: missing title falls back to the id, the
/// id to the file stem; timestamps may be strings in several formats; `tags` may be a list or a
/// comma-separated string. `Err` only when the document is not a mapping.
#[cfg(feature = "ssr")]
pub fn task_from_document(
    path: &str,
    location: &TaskPath,
    document: Value,
    modified_ms: Option<i64>,
) -> Result<Task, String> {
    if !document.is_object() {
        return Err(format!(
            "the document is {}, not a mapping of task fields",
            kind_of(&document)
        ));
    }
    let id = text_field(&document, "id")
        .or_else(|| text_field(&document, "task_id"))
        .unwrap_or_else(|| location.stem.clone());
    let title = text_field(&document, "title").unwrap_or_else(|| id.clone());
    let timestamp = |key: &str| text_field(&document, key).map(|raw| timestamps::normalize(&raw));
    let created_at = timestamp("created_at").or_else(|| timestamp("created"));
    let updated_at = timestamp("updated_at").or_else(|| timestamp("last_modified"));
    let activity_ms = updated_at
        .as_deref()
        .or(created_at.as_deref())
        .and_then(timestamps::unix_ms)
        .or(modified_ms);
    let summary = TaskSummary {
        path: path.to_owned(),
        column: location.column,
        lane: location.lane.clone(),
        title,
        agent: text_field(&document, "agent"),
        status: text_field(&document, "status").map(|s| s.to_ascii_lowercase()),
        priority: text_field(&document, "priority").and_then(|p| Priority::parse(&p)),
        started_at: timestamp("started_at"),
        completed_at: timestamp("completed_at"),
        tags: tags(&document),
        specification: text_field(&document, "specification"),
        estimated_hours: number_field(&document, "estimated_hours"),
        budget_usd: number_field(&document, "budget_usd").filter(|b| b.is_finite() && *b > 0.0),
        blocked_reason: text_field(&document, "blocked_reason")
            .or_else(|| text_field(&document, "block_reason")),
        state: text_field(&document, "state").map(|s| s.to_ascii_lowercase()),
        created_at,
        updated_at,
        activity_ms,
        repo: None,
        id,
    };
    Ok(Task {
        summary,
        description: text_field(&document, "description"),
        document: Document::from_value(&document),
    })
}

#[cfg(feature = "ssr")]
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(feature = "ssr")]
/// A scalar field as text (numbers and booleans too); `None` when missing, null, empty or not a
/// scalar.
fn text_field(document: &Value, key: &str) -> Option<String> {
    let text = match document.get(key)? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(feature = "ssr")]
fn number_field(document: &Value, key: &str) -> Option<f64> {
    match document.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(feature = "ssr")]
fn tags(document: &Value) -> Vec<String> {
    match document.get("tags") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(feature = "ssr")]
mod timestamps {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

    /// ISO 8601 in UTC (`2026-02-09T20:00:00Z`) when the text is a timestamp in a known form,
    /// otherwise the text unchanged.
    pub fn normalize(raw: &str) -> String {
        parse(raw)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            .unwrap_or_else(|| raw.to_owned())
    }

    pub fn unix_ms(text: &str) -> Option<i64> {
        parse(text).map(|t| t.timestamp_millis())
    }

    /// RFC 3339 (`T` or space, `Z` or offset), naive date-times (taken as UTC) and plain dates.
    fn parse(raw: &str) -> Option<DateTime<Utc>> {
        let text = raw.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(t.with_timezone(&Utc));
        }
        for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
            if let Ok(t) = DateTime::parse_from_str(text, format) {
                return Some(t.with_timezone(&Utc));
            }
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
                return Some(t.and_utc());
            }
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(path: &str, document: Value) -> Task {
        let location = TaskPath::parse(path).unwrap();
        task_from_document(path, &location, document, Some(42)).unwrap()
    }

    #[test]
    fn lenient_fields() {
        let t = task(
            "assigned/python-pedro/2025-12-01T0511-parser.yaml",
            json!({"agent": "python-pedro", "status": "In_Progress", "priority": "HIGH",
                   "tags": "a, blocked", "estimated_hours": "2.5", "budget_usd": 1.5,
                   "created": "2026-02-09 20:00:00+00:00"}),
        );
        assert_eq!(t.id, "2025-12-01T0511-parser");
        assert_eq!(t.title, "2025-12-01T0511-parser");
        assert_eq!(t.priority, Some(Priority::High));
        assert_eq!(t.status.as_deref(), Some("in_progress"));
        assert_eq!(t.tags, vec!["a", "blocked"]);
        assert!(t.is_blocked());
        assert_eq!(t.estimated_hours, Some(2.5));
        assert_eq!(t.budget_usd, Some(1.5));
        assert_eq!(t.created_at.as_deref(), Some("2026-02-09T20:00:00Z"));
        assert_eq!(t.activity_ms, Some(1_770_667_200_000));
        assert_eq!(t.lane.as_deref(), Some("python-pedro"));
    }

    #[test]
    fn title_falls_back_to_id_and_mtime_orders() {
        let t = task("inbox/x.yml", json!({"id": "T-1", "priority": "urgent"}));
        assert_eq!(t.title, "T-1");
        assert_eq!(t.priority, None);
        assert_eq!(t.activity_ms, Some(42));
    }

    #[test]
    fn timestamps_in_every_form() {
        for (raw, expected) in [
            ("2025-11-23T19:34:00Z", "2025-11-23T19:34:00Z"),
            ("2025-11-23T20:34:00+01:00", "2025-11-23T19:34:00Z"),
            ("2025-11-23 19:34:00", "2025-11-23T19:34:00Z"),
            ("2025-11-23", "2025-11-23T00:00:00Z"),
            ("soon", "soon"),
        ] {
            assert_eq!(timestamps::normalize(raw), expected, "{raw}");
        }
    }

    #[test]
    fn non_mapping_is_an_error() {
        let location = TaskPath::parse("inbox/x.yaml").unwrap();
        let err = task_from_document("inbox/x.yaml", &location, json!(["a"]), None).unwrap_err();
        assert!(err.contains("a list"), "{err}");
    }
}
