//! One task whole, as the detail view shows it: `GET /api/board/task?path=…` or `?id=…`, and
//! the `/tasks/{id}` page (see [`super::page`]). The texts are rendered here (see
//! [`crate::documents::markdown`]), the file is read from disk as it is now, the cost from
//! telemetry.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use app::model::{Task, TaskDetails, TaskLink};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::state::TaskFiles;
use super::{AppState, Error};
use crate::board::{content_tag, SharedStore};
use crate::telemetry::Telemetry;

/// The fields whose values name other tasks.
const LINK_FIELDS: [&str; 4] = ["dependencies", "depends_on", "blocked_by", "blocks"];
/// The raw YAML shown is cut here.
const MAX_YAML_SHOWN: usize = 64 * 1024;
/// How many of a task's invocations are listed.
const RECENT_INVOCATIONS: u32 = 20;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/board/task", get(by_query))
}

/// Which task: by its path on the board, or by its id (else its file name without extension).
#[derive(Clone, Debug)]
pub(super) enum TaskRef {
    Path(String),
    Id(String),
}

#[derive(Debug, Deserialize)]
struct TaskQuery {
    path: Option<String>,
    id: Option<String>,
}

/// `?path=inbox/x.yaml` or `?id=T-1`: one task whole, with an `ETag` header (an edit sends it
/// back in `If-Match`).
async fn by_query(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
    State(files): State<Arc<TaskFiles>>,
    Query(query): Query<TaskQuery>,
) -> Result<Response, Error> {
    let which = match (query.path, query.id) {
        (Some(path), None) => TaskRef::Path(bounded("path", path)?),
        (None, Some(id)) => TaskRef::Id(bounded("id", id)?),
        _ => {
            return Err(Error::bad_request(
                "name the task with exactly one of ?path= or ?id=",
            ))
        }
    };
    let details = load(&board, &telemetry, &files, &which).await?;
    let etag = format!("\"{}\"", details.etag);
    Ok(([(header::ETAG, etag)], Json(details)).into_response())
}

fn bounded(field: &str, value: String) -> Result<String, Error> {
    if value.is_empty() || value.len() > 4096 {
        return Err(Error::bad_field(field, "must be 1 to 4096 bytes"));
    }
    Ok(value)
}

/// Everything the detail view shows of the task `which` names.
async fn load(
    board: &SharedStore,
    telemetry: &Telemetry,
    files: &TaskFiles,
    which: &TaskRef,
) -> Result<TaskDetails, Error> {
    let (task, same_id, links) = board
        .with_tasks(|tasks, _, _| {
            let (task, same_id) = find(tasks, which)?;
            let links = links_of(&task, tasks);
            Some((task, same_id, links))
        })
        .ok_or_else(|| {
            Error::NotFound(match which {
                TaskRef::Path(path) => format!("Task not found: {path}"),
                TaskRef::Id(id) => format!("Task not found: {id}"),
            })
        })?;
    let document = task.document.value();
    let texts = crate::documents::render_texts(&document);
    let read = match files.here() {
        Ok(()) => tokio::fs::read(files.dir.join(&task.path)).await,
        Err(elsewhere) => Err(std::io::Error::other(elsewhere.to_string())),
    };
    let (yaml, file_error, etag) = match read {
        Ok(bytes) => {
            let etag = content_tag(&bytes);
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            if text.len() > MAX_YAML_SHOWN {
                let mut end = MAX_YAML_SHOWN;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push_str("\n# … (cut: the file is longer)\n");
            }
            (Some(text), None, etag)
        }
        Err(error) => (None, Some(error.to_string()), String::new()),
    };
    let (cost, invocations, telemetry_error) =
        match telemetry.task_activity(&task.id, RECENT_INVOCATIONS).await {
            Ok((cost, invocations)) => (cost, invocations, None),
            Err(error) => (None, Vec::new(), Some(error.to_string())),
        };
    let feature = task
        .document
        .value()
        .get("feature")
        .and_then(|feature| feature.as_str().map(str::to_owned));
    Ok(TaskDetails {
        task,
        texts,
        feature,
        links,
        yaml,
        file_error,
        etag,
        cost,
        invocations,
        telemetry_error,
        same_id,
    })
}

/// The task `which` names and the paths of other files with the same id. By id: the task with
/// that `id`, else the one whose file is named so; among several, the newest activity.
/// The title of the task `which` names, when the board has it (a page's title).
pub(super) fn title_of(board: &SharedStore, which: &TaskRef) -> Option<String> {
    board.with_tasks(|tasks, _, _| find(tasks, which).map(|(task, _)| task.title.clone()))
}

pub(super) fn find(tasks: &BTreeMap<String, Task>, which: &TaskRef) -> Option<(Task, Vec<String>)> {
    match which {
        TaskRef::Path(path) => {
            let task = tasks.get(path)?.clone();
            let same_id = tasks
                .values()
                .filter(|t| t.id == task.id && t.path != task.path)
                .map(|t| t.path.clone())
                .collect();
            Some((task, same_id))
        }
        TaskRef::Id(id) => {
            let mut found: Vec<&Task> = tasks.values().filter(|t| &t.id == id).collect();
            if found.is_empty() {
                found = tasks.values().filter(|t| stem(&t.path) == id).collect();
            }
            found.sort_by(|a, b| a.board_order(b));
            let (first, rest) = found.split_first()?;
            Some((
                (*first).clone(),
                rest.iter().map(|t| t.path.clone()).collect(),
            ))
        }
    }
}

fn stem(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .unwrap_or(file)
}

/// The tasks the task names in its dependency fields, each with its title when it is on the
/// board.
fn links_of(task: &Task, tasks: &BTreeMap<String, Task>) -> Vec<TaskLink> {
    let document = task.document.value();
    let mut links: Vec<TaskLink> = Vec::new();
    for field in LINK_FIELDS {
        let named: Vec<String> = match document.get(field) {
            Some(Value::Array(items)) => items.iter().filter_map(named_id).collect(),
            Some(Value::String(text)) => text
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            Some(other) => named_id(other).into_iter().collect(),
            None => Vec::new(),
        };
        links.extend(named.into_iter().map(|id| TaskLink {
            field: field.to_owned(),
            id,
            title: None,
        }));
    }
    if links.is_empty() {
        return links;
    }
    let mut titles: HashMap<&str, &str> = HashMap::new();
    for other in tasks.values() {
        titles.entry(other.id.as_str()).or_insert(&other.title);
        titles.entry(stem(&other.path)).or_insert(&other.title);
    }
    for link in &mut links {
        link.title = titles.get(link.id.as_str()).map(|t| (*t).to_owned());
    }
    links
}

/// A dependency as written: a string or number, or a mapping's `id`/`task_id`.
fn named_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(map) => map
            .get("id")
            .or_else(|| map.get("task_id"))
            .and_then(named_id),
        _ => None,
    }
}
