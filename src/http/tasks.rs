//! `/api/tasks` (the original's shape, every task's whole YAML mapping), `/api/tasks/{id}` and
//! `/api/snapshot` (the dashboard's typed form). All from memory.

use std::collections::BTreeMap;

use app::model::Document;
use app::model::{Column, Task};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{AppState, Error};
use crate::board::SharedStore;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tasks", get(list))
        .route("/api/tasks/{id}", get(one))
        .route("/api/snapshot", get(snapshot))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    /// `true` (default) or anything else, as in the original.
    include_done: Option<String>,
}

/// The original's shape: `{inbox: [doc…], assigned: {agent: [doc…]}, done: {agent: [doc…]},
/// timestamp}`, each task its whole YAML mapping. Empty agent folders are listed too.
#[derive(Serialize)]
struct TaskLists<'a> {
    inbox: Vec<&'a Document>,
    assigned: BTreeMap<&'a str, Vec<&'a Document>>,
    done: BTreeMap<&'a str, Vec<&'a Document>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<BTreeMap<&'a str, Vec<&'a Document>>>,
    timestamp: String,
}

async fn list(State(board): State<SharedStore>, Query(query): Query<ListQuery>) -> Response {
    let include_done = query
        .include_done
        .as_deref()
        .is_none_or(|v| v.eq_ignore_ascii_case("true"));
    let body = board.with_tasks(|tasks, _, lanes| {
        let mut lists = TaskLists {
            inbox: Vec::new(),
            assigned: BTreeMap::new(),
            done: BTreeMap::new(),
            error: (!include_done).then(BTreeMap::new),
            timestamp: super::now_iso(),
        };
        for (column, lane) in lanes {
            match column {
                Column::Assigned => lists.assigned.entry(lane.as_str()).or_default(),
                Column::Done if include_done => lists.done.entry(lane.as_str()).or_default(),
                _ => continue,
            };
        }
        let mut ordered: Vec<&Task> = tasks.values().collect();
        ordered.sort_by(|a, b| b.activity_ms.cmp(&a.activity_ms).then(a.path.cmp(&b.path)));
        for task in ordered {
            let lane = task.lane.as_deref().unwrap_or("");
            match task.column {
                Column::Inbox => lists.inbox.push(&task.document),
                Column::Assigned => lists.assigned.entry(lane).or_default().push(&task.document),
                Column::Done if include_done => {
                    lists.done.entry(lane).or_default().push(&task.document)
                }
                Column::Done => {}
            }
        }
        serde_json::to_string(&lists).expect("task lists serialize")
    });
    json_response(body)
}

/// One task (typed form) by its `id`, or by its file name without extension.
async fn one(
    State(board): State<SharedStore>,
    Path(id): Path<String>,
) -> Result<Json<Task>, Error> {
    if id.is_empty() || id.len() > 512 {
        return Err(Error::bad_field(
            "id",
            "the task id must be 1 to 512 characters",
        ));
    }
    let stem = id.trim_end_matches(".yaml").trim_end_matches(".yml");
    board
        .with_tasks(|tasks, _, _| {
            tasks
                .values()
                .find(|t| t.id == id)
                .or_else(|| {
                    tasks.values().find(|t| {
                        t.path.rsplit('/').next().is_some_and(|file| {
                            file.trim_end_matches(".yaml").trim_end_matches(".yml") == stem
                        })
                    })
                })
                .cloned()
        })
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("Task not found: {id}")))
}

/// The board in the typed form the dashboard itself uses (tasks, problems, seq).
async fn snapshot(State(board): State<SharedStore>) -> Response {
    json_response(board.snapshot_body())
}

fn json_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
