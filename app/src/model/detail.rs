//! One task as its detail view shows it (`GET /api/board/task`, the `/tasks/{id}` page): the task,
//! its text fields rendered to safe HTML on the server, its file as written, the tasks it names
//! and what it cost.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

use super::{ActiveOperation, Task, TaskCost};

/// A text field (`description`, `context`, …) rendered from Markdown and sanitized on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct RenderedText {
    pub field: String,
    /// The heading it is shown under.
    pub label: String,
    /// Sanitized HTML, safe to insert as it is.
    pub html: String,
}

/// A task named in `dependencies`, `blocked_by` or `blocks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct TaskLink {
    /// The field it is named in.
    pub field: String,
    /// As written.
    pub id: String,
    /// Its title when the task is on the board; `None` when no task has this id.
    pub title: Option<String>,
}

/// Everything the detail view shows of one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct TaskDetails {
    pub task: Task,
    pub texts: Vec<RenderedText>,
    pub links: Vec<TaskLink>,
    /// The specification's feature the task's document names (`feature:`), shown beside its
    /// specification: read by the server, so the page needs no reader of the whole document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// The file as it is on disk now (`None` when it could not be read, with the reason in
    /// `file_error`). Long files are cut at 64 KB.
    pub yaml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_error: Option<String>,
    /// Identifies the file's content: an edit sent with it (`If-Match`) is refused with 409 if
    /// the file changed since.
    pub etag: String,
    /// The task's LLM cost, all time (`None` without telemetry or invocations).
    pub cost: Option<TaskCost>,
    /// Its latest invocations, newest first (at most 20).
    pub invocations: Vec<ActiveOperation>,
    /// Why the cost could not be read (the telemetry database is unavailable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_error: Option<String>,
    /// Other files that carry the same id.
    #[serde(default)]
    pub same_id: Vec<String>,
}

impl TaskDetails {
    /// Whether this is the task an address names by `id` (its id, or its file name without the
    /// extension).
    pub fn answers(&self, id: &str) -> bool {
        if self.task.id == id {
            return true;
        }
        let file = self.task.path.rsplit('/').next().unwrap_or("");
        file.strip_suffix(".yaml")
            .or_else(|| file.strip_suffix(".yml"))
            .is_some_and(|stem| stem == id)
    }
}
