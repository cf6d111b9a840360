//! Downloads, streamed: the tasks (the same filter as `/api/tasks`: `include_done`, `q`, `agent`,
//! `priority`, `status`, `tag`) and the invocations of a range (`range=24h|7d|30d|90d|all`), each
//! as CSV (RFC 4180 quoting, by the `csv` crate) or a JSON array.
//!
//! `GET /api/export/tasks.csv`, `/api/export/tasks.json`, `/api/export/invocations.csv`,
//! `/api/export/invocations.json`.

use std::convert::Infallible;

use app::model::{Column, TaskSummary};
use axum::body::{Body, Bytes};
use axum::extract::{Query, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::tasks::BoardQuery;
use super::{AppState, Error};
use crate::board::SharedStore;
use crate::telemetry::{CostRange, ExportedInvocation, Telemetry};

/// Rows are written out in pieces of about this size.
const CHUNK: usize = 64 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/export/tasks.csv", get(tasks_csv))
        .route("/api/export/tasks.json", get(tasks_json))
        .route("/api/export/invocations.csv", get(invocations_csv))
        .route("/api/export/invocations.json", get(invocations_json))
}

/// A task as exported: what its card shows, and its description.
#[derive(Serialize)]
struct ExportedTask {
    id: String,
    title: String,
    column: Column,
    agent: Option<String>,
    status: Option<String>,
    priority: Option<&'static str>,
    tags: Vec<String>,
    specification: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    completed_at: Option<String>,
    estimated_hours: Option<f64>,
    path: String,
    description: Option<String>,
}

const TASK_COLUMNS: [&str; 14] = [
    "id",
    "title",
    "column",
    "agent",
    "status",
    "priority",
    "tags",
    "specification",
    "created_at",
    "updated_at",
    "completed_at",
    "estimated_hours",
    "path",
    "description",
];

impl ExportedTask {
    fn new(task: &TaskSummary, description: Option<&str>) -> ExportedTask {
        ExportedTask {
            id: task.id.clone(),
            title: task.title.clone(),
            column: task.column,
            agent: task.owner().map(str::to_owned),
            status: task.status.clone(),
            priority: task.priority.map(|p| p.as_str()),
            tags: task.tags.clone(),
            specification: task.specification.clone(),
            created_at: task.created_at.clone(),
            updated_at: task.updated_at.clone(),
            completed_at: task.completed_at.clone(),
            estimated_hours: task.estimated_hours,
            path: task.path.clone(),
            description: description.map(str::to_owned),
        }
    }

    fn record(&self) -> [String; 14] {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        [
            self.id.clone(),
            self.title.clone(),
            self.column.folder().to_owned(),
            text(&self.agent),
            text(&self.status),
            self.priority.unwrap_or_default().to_owned(),
            self.tags.join(", "),
            text(&self.specification),
            text(&self.created_at),
            text(&self.updated_at),
            text(&self.completed_at),
            self.estimated_hours
                .map(|h| h.to_string())
                .unwrap_or_default(),
            self.path.clone(),
            text(&self.description),
        ]
    }
}

/// The tasks the query selects, in the board's order, gathered under the board's lock.
fn selected_tasks(board: &SharedStore, query: Option<&str>) -> Result<Vec<ExportedTask>, Error> {
    let query = BoardQuery::parse(query)?;
    Ok(board.with_tasks(|tasks, _, _| {
        let mut chosen: Vec<_> = tasks
            .values()
            .filter(|t| query.include_done || t.column != Column::Done)
            .filter(|t| query.filter.matches(t, t.description.as_deref()))
            .collect();
        chosen.sort_by(|a, b| {
            a.column
                .cmp(&b.column)
                .then_with(|| a.lane.cmp(&b.lane))
                .then_with(|| a.board_order(b))
        });
        chosen
            .into_iter()
            .map(|t| ExportedTask::new(t, t.description.as_deref()))
            .collect()
    }))
}

async fn tasks_csv(
    State(board): State<SharedStore>,
    RawQuery(query): RawQuery,
) -> Result<Response, Error> {
    let tasks = selected_tasks(&board, query.as_deref())?;
    let header = csv_line(TASK_COLUMNS.iter().map(|c| c.to_string()));
    let rows = tasks.into_iter().map(|t| csv_line(t.record()));
    Ok(download(
        "tasks.csv",
        "text/csv; charset=utf-8",
        chunked(std::iter::once(header).chain(rows)),
    ))
}

async fn tasks_json(
    State(board): State<SharedStore>,
    RawQuery(query): RawQuery,
) -> Result<Response, Error> {
    let tasks = selected_tasks(&board, query.as_deref())?;
    let items = tasks
        .into_iter()
        .map(|t| serde_json::to_string(&t).expect("a task serializes"));
    Ok(download(
        "tasks.json",
        "application/json",
        chunked(json_array(items)),
    ))
}

#[derive(Debug, Deserialize)]
struct RangeQuery {
    range: Option<String>,
}

/// `range`: one of the cost ranges, or `all` (the default).
fn range_of(query: &RangeQuery) -> Result<Option<CostRange>, Error> {
    match query.range.as_deref().map(str::trim) {
        None | Some("") | Some("all") => Ok(None),
        Some(text) => CostRange::parse(text).map(Some).ok_or_else(|| {
            Error::bad_field(
                "range",
                format!("{text:?} is not a range (24h, 7d, 30d, 90d or all)"),
            )
        }),
    }
}

async fn invocations_csv(
    State(telemetry): State<Telemetry>,
    Query(query): Query<RangeQuery>,
) -> Result<Response, Error> {
    let rows = invocation_rows(&telemetry, &query).await?;
    let header = csv_line(ExportedInvocation::COLUMNS.iter().map(|c| c.to_string()));
    let lines = rows.map(|row| match row {
        Ok(row) => csv_line(row.record()),
        Err(error) => failed_midway(&error),
    });
    let parts = futures_util::stream::once(async move { header }).chain(lines);
    Ok(download(
        "invocations.csv",
        "text/csv; charset=utf-8",
        streamed(parts),
    ))
}

async fn invocations_json(
    State(telemetry): State<Telemetry>,
    Query(query): Query<RangeQuery>,
) -> Result<Response, Error> {
    let rows = invocation_rows(&telemetry, &query).await?;
    let mut first = true;
    let items = rows.map(move |row| {
        let comma = if std::mem::take(&mut first) { "" } else { "," };
        match row {
            Ok(row) => format!(
                "{comma}{}",
                serde_json::to_string(&row).expect("a row serializes")
            ),
            Err(error) => failed_midway(&error),
        }
    });
    let parts = futures_util::stream::once(async { "[".to_owned() })
        .chain(items)
        .chain(futures_util::stream::once(async { "]".to_owned() }));
    Ok(download(
        "invocations.json",
        "application/json",
        streamed(parts),
    ))
}

/// The invocations of the range the query names, as the telemetry reader hands them over.
async fn invocation_rows(
    telemetry: &Telemetry,
    query: &RangeQuery,
) -> Result<
    impl futures_util::Stream<Item = Result<ExportedInvocation, crate::telemetry::TelemetryError>>,
    Error,
> {
    let range = range_of(query)?;
    let rows = telemetry
        .export_invocations(range, chrono::Utc::now())
        .await?;
    Ok(queued(rows))
}

/// A body sent as the pieces come, a few hundred at a time.
fn streamed(parts: impl futures_util::Stream<Item = String> + Send + 'static) -> Body {
    Body::from_stream(
        parts
            .ready_chunks(256)
            .map(|parts| Ok::<_, Infallible>(Bytes::from(parts.concat()))),
    )
}

/// A read that fails after the answer started cannot change its status: the download ends with
/// a line saying so (and the log has it), so a truncated file never looks complete.
fn failed_midway(error: &crate::telemetry::TelemetryError) -> String {
    tracing::warn!(%error, "an invocation export failed midway");
    format!("\n# export failed midway: {error}\n")
}

fn csv_line<I: IntoIterator<Item = String>>(fields: I) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(fields.into_iter().collect::<Vec<_>>())
        .expect("writing to memory succeeds");
    String::from_utf8(writer.into_inner().expect("flushing to memory succeeds"))
        .expect("CSV of UTF-8 fields is UTF-8")
}

fn json_array(items: impl Iterator<Item = String>) -> impl Iterator<Item = String> {
    let mut first = true;
    std::iter::once("[".to_owned())
        .chain(items.map(move |item| {
            if std::mem::take(&mut first) {
                item
            } else {
                format!(",{item}")
            }
        }))
        .chain(std::iter::once("]".to_owned()))
}

/// Pieces joined into chunks of about [`CHUNK`] bytes, as a streamed body.
fn chunked(pieces: impl Iterator<Item = String> + Send + 'static) -> Body {
    let mut pieces = pieces.peekable();
    let chunks = std::iter::from_fn(move || {
        let mut chunk = String::new();
        while chunk.len() < CHUNK {
            match pieces.next() {
                Some(piece) => chunk.push_str(&piece),
                None => break,
            }
        }
        (!chunk.is_empty()).then(|| Ok::<_, Infallible>(Bytes::from(chunk)))
    });
    Body::from_stream(futures_util::stream::iter(chunks))
}

fn download(name: &str, content_type: &'static str, body: Body) -> Response {
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let disposition = format!("attachment; filename=\"execdash-{date}-{name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The rows the export task hands over, as a stream.
fn queued<T>(receiver: tokio::sync::mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}
