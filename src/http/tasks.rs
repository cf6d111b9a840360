//! `/api/tasks` (the original's shape, every task's whole YAML mapping: an export, streamed),
//! `/api/tasks/finished` (the original's finished work) and `/api/tasks/{id}`. All from memory.

use std::collections::BTreeMap;
use std::convert::Infallible;

use app::model::Document;
use app::model::{Column, Task, TaskFilter};
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use std::sync::Arc;

use super::{AppState, Error};
use crate::board::SharedStore;
use crate::team::{Mirrors, Team};

/// The size of the pieces `/api/tasks` is sent in. Large, because the answer is (22 MB at 10 000
/// realistic tasks): 64 KB pieces cost a wake-up of the server and the client each, and the p99
/// at 10 000 tasks went from 50 to 22 ms with 1 MB (BENCHMARKS.md, 2026-12-02). A request holds
/// at most the piece being filled and the one being sent.
const CHUNK: usize = 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tasks", get(list))
        .route("/api/tasks/finished", get(finished))
        .route("/api/tasks/{id}", get(one))
}

/// What `/api/tasks` and the task exports select: `include_done` (`true`, default, or
/// `false`, any case, as in the original) and a [`TaskFilter`] (`q`, `agent`, `priority`,
/// `status`, `tag`). A bad value is a 400 naming its parameter.
pub(super) struct BoardQuery {
    pub(super) include_done: bool,
    pub(super) filter: TaskFilter,
}

impl BoardQuery {
    pub(super) fn parse(query: Option<&str>) -> Result<BoardQuery, Error> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| Error::bad_request(format!("the query string is malformed: {e}")))?;
        let mut include_done = true;
        for (key, value) in &pairs {
            if key == "include_done" {
                include_done = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(Error::bad_field(
                            "include_done",
                            format!("{value:?} is neither true nor false"),
                        ))
                    }
                };
            }
        }
        let filter = TaskFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| Error::bad_field(e.field, e.message))?;
        Ok(BoardQuery {
            include_done,
            filter,
        })
    }
}

/// The original's shape: `{inbox: [doc…], assigned: {agent: [doc…]}, done: {agent: [doc…]},
/// timestamp}`, each task its whole YAML mapping, newest activity first; empty agent folders
/// are listed too. With `include_done=false`, `done` is empty and `error` is `{}`, as in the
/// original; the filter's parameters leave out the tasks it does not match. The documents are
/// gathered under the board's lock (shared, not copied) and written out after it is released,
/// in pieces of [`CHUNK`] bytes.
async fn list(
    State(local): State<SharedStore>,
    State(mirrors): State<Arc<Mirrors>>,
    State(team): State<Arc<Team>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Error> {
    let (board, query) = super::repos::board_for(query.as_deref(), local, &mirrors, &team).await?;
    let BoardQuery {
        include_done,
        filter,
    } = BoardQuery::parse(query.as_deref())?;
    let mut parts = Vec::new();
    board.with_tasks(|tasks, _, lanes| {
        let mut inbox = Vec::new();
        let mut groups: [BTreeMap<&str, Vec<&Task>>; 2] = Default::default();
        for (column, lane) in lanes {
            match column {
                Column::Assigned => groups[0].entry(lane.as_str()).or_default(),
                Column::Done if include_done => groups[1].entry(lane.as_str()).or_default(),
                _ => continue,
            };
        }
        for task in tasks
            .values()
            .filter(|t| filter.matches(t, t.description.as_deref()))
        {
            let lane = task.lane.as_deref().unwrap_or("");
            match task.column {
                Column::Inbox => inbox.push(task),
                Column::Assigned => groups[0].entry(lane).or_default().push(task),
                Column::Done if include_done => groups[1].entry(lane).or_default().push(task),
                Column::Done => {}
            }
        }
        let array = |parts: &mut Vec<Part>, mut list: Vec<&Task>| {
            list.sort_by(|a, b| a.board_order(b));
            parts.push(Part::Text("[".into()));
            for (i, task) in list.into_iter().enumerate() {
                if i > 0 {
                    parts.push(Part::Text(",".into()));
                }
                parts.push(Part::Document(task.document.clone()));
            }
            parts.push(Part::Text("]".into()));
        };
        parts.push(Part::Text(r#"{"inbox":"#.into()));
        array(&mut parts, inbox);
        for (name, group) in ["assigned", "done"].into_iter().zip(groups) {
            parts.push(Part::Text(format!(r#","{name}":{{"#)));
            for (i, (lane, list)) in group.into_iter().enumerate() {
                let key = serde_json::to_string(lane).expect("a string serializes");
                let comma = if i > 0 { "," } else { "" };
                parts.push(Part::Text(format!("{comma}{key}:")));
                array(&mut parts, list);
            }
            parts.push(Part::Text("}".into()));
        }
    });
    if !include_done {
        parts.push(Part::Text(r#","error":{}"#.into()));
    }
    parts.push(Part::Text(format!(
        r#","timestamp":"{}"}}"#,
        super::now_iso()
    )));
    let chunks = Chunks {
        parts: parts.into_iter(),
    };
    let body = Body::from_stream(futures_util::stream::iter(chunks.map(Ok::<_, Infallible>)));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A piece of the `/api/tasks` answer.
enum Part {
    Text(String),
    Document(Document),
}

/// The pieces joined into chunks of about [`CHUNK`] bytes.
struct Chunks {
    parts: std::vec::IntoIter<Part>,
}

impl Iterator for Chunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let mut chunk = Vec::with_capacity(CHUNK + 4096);
        for part in self.parts.by_ref() {
            match part {
                Part::Text(text) => chunk.extend_from_slice(text.as_bytes()),
                Part::Document(document) => chunk.extend_from_slice(document.json().as_bytes()),
            }
            if chunk.len() >= CHUNK {
                break;
            }
        }
        (!chunk.is_empty()).then(|| Bytes::from(chunk))
    }
}

/// The original's finished work: a flat array of the whole documents of every task whose
/// `status` is `done` or `error`, wherever its file is, in path order.
async fn finished(State(board): State<SharedStore>) -> Response {
    let mut parts = vec![Part::Text("[".into())];
    board.with_tasks(|tasks, _, _| {
        let finished = tasks
            .values()
            .filter(|t| matches!(t.status.as_deref(), Some("done") | Some("error")));
        for (i, task) in finished.enumerate() {
            if i > 0 {
                parts.push(Part::Text(",".into()));
            }
            parts.push(Part::Document(task.document.clone()));
        }
    });
    parts.push(Part::Text("]".into()));
    let chunks = Chunks {
        parts: parts.into_iter(),
    };
    let body = Body::from_stream(futures_util::stream::iter(chunks.map(Ok::<_, Infallible>)));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
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
