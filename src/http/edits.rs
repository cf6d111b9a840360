//! Editing task files from the page, when the server was started with `--allow-writes`:
//! `PATCH /api/tasks/{id}/priority` and `PATCH /api/tasks/{id}/specification`, with the
//! original dashboard's request and error shapes. Each changes one line of the YAML (see
//! [`crate::board::set_field`]), written atomically, and puts the task on the board at once, so
//! every client gets `task.updated` without waiting for the watcher.
//!
//! Which file: `{id}` with `.yaml`/`.yml` is that file name; without, the task with that `id`
//! (else the file so named); `?path=` (what the page sends) names the file exactly. A name that
//! several files answer to is a 409 listing their `paths`: an edit never picks one.
//!
//! Guarantees: a task in progress, done or failed is not changed; a request that names the
//! version it read (`If-Match: "<etag>"`, or the original's `last_modified`, a string) is refused
//! with 409 when the file changed since, up to the moment it is replaced; nothing another process
//! writes to the file meanwhile is lost (see [`crate::board::rewrite`]); edits are made one at a
//! time; the Origin check and the access token apply as to every write.
//!
//! Longer than most modules on purpose: both edits share every guarantee above (which file,
//! locked statuses, versions, one at a time) and the original's error shapes, kept in one place
//! so the two cannot drift apart.

use std::path::{Component, Path};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::patch;
use axum::{Json, Router};
use serde_json::Value;

use app::model::{EditAnswer, Field, PriorityEdit, SpecificationEdit};

use super::state::TaskFiles;
use super::{AppState, Error};
use crate::board::{content_tag, reread, rewrite, set_field, RewriteError, SharedStore};

/// The original's priority values (`normal` only in lower case, the others in any case).
const PRIORITIES: [&str; 4] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tasks/{id}/priority", patch(priority))
        .route("/api/tasks/{id}/specification", patch(specification))
}

/// `?path=inbox/x.yaml`: the file an edit changes, named exactly (the page sends it).
#[derive(Debug, serde::Deserialize)]
struct FileQuery {
    path: Option<String>,
}

/// `{"priority": "HIGH", "last_modified"?}` → `{"success": true, "task": {…}, "etag"}`.
async fn priority(
    State(board): State<SharedStore>,
    State(files): State<Arc<TaskFiles>>,
    UrlPath(id): UrlPath<String>,
    Query(file): Query<FileQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    files.check_writable()?;
    let body: PriorityEdit = json_body(&headers, &body)?;
    let priority = match &body.priority {
        Field::Absent => return Err(Error::bad_request("Missing priority field")),
        Field::Given(value) => parse_priority(value),
        Field::Null | Field::WrongType => None,
    }
    .ok_or_else(|| {
        Error::bad_field(
            "priority",
            "Invalid priority. Must be one of: CRITICAL, HIGH, LOW, MEDIUM, normal",
        )
    })?;
    let edit = Edit {
        id,
        path: file.path,
        fields: vec![("priority", priority)],
        status_refusal: |status| {
            Error::Conflict(format!(
                "Cannot edit task with status '{status}'. Tasks that are in_progress, done, or \
                 failed cannot be edited."
            ))
        },
    };
    edit.apply(&board, &files, &headers, &body.last_modified)
        .await
}

/// `{"specification": "specifications/x.md", "feature"?, "last_modified"?}`: links the task to
/// a specification (the original's orphan assignment).
async fn specification(
    State(board): State<SharedStore>,
    State(files): State<Arc<TaskFiles>>,
    UrlPath(id): UrlPath<String>,
    Query(file): Query<FileQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    files.check_writable()?;
    let body: SpecificationEdit = json_body(&headers, &body)?;
    let specification = match &body.specification {
        Field::Given(path) if !path.is_empty() => path.clone(),
        Field::Absent => return Err(Error::bad_request("Missing specification field")),
        _ => {
            return Err(Error::bad_field(
                "specification",
                "Invalid specification path: must be a string",
            ))
        }
    };
    check_specification(&files.repo, &specification)?;
    let mut fields = vec![("specification", specification)];
    match &body.feature {
        Field::Given(feature) if !feature.trim().is_empty() => {
            if feature.len() > 200 || feature.contains(['\n', '\r']) {
                return Err(Error::bad_field(
                    "feature",
                    "must be one line of at most 200 bytes",
                ));
            }
            fields.push(("feature", feature.trim().to_owned()));
        }
        Field::Given(_) | Field::Null | Field::Absent => {}
        Field::WrongType => return Err(Error::bad_field("feature", "must be a string")),
    }
    let edit = Edit {
        id,
        path: file.path,
        fields,
        status_refusal: |status| {
            Error::bad_request(format!(
                "Cannot assign tasks with status '{status}'. Tasks that are currently being \
                 worked on (in_progress, done, failed) cannot be reassigned."
            ))
        },
    };
    edit.apply(&board, &files, &headers, &body.last_modified)
        .await
}

impl TaskFiles {
    fn check_writable(&self) -> Result<(), Error> {
        if let Some(elsewhere) = &self.elsewhere {
            return Err(Error::Forbidden(format!(
                "the files of {elsewhere} are on the node that publishes it: change them there"
            )));
        }
        if self.writable {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "editing is off: this dashboard was started read-only (start it with \
                 --allow-writes to change priorities and specifications)"
                    .into(),
            ))
        }
    }
}

/// One edit: the fields to set on the task `id` names (or on the file `path` names).
struct Edit {
    id: String,
    path: Option<String>,
    fields: Vec<(&'static str, String)>,
    status_refusal: fn(&str) -> Error,
}

/// One edit at a time: the check of the file's version and the write are one step.
static EDITING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Edit {
    async fn apply(
        self,
        board: &SharedStore,
        files: &TaskFiles,
        headers: &HeaderMap,
        last_modified_read: &Field<String>,
    ) -> Result<Response, Error> {
        let _one_at_a_time = EDITING.lock().await;
        let path = target(board, &self.id, self.path.as_deref())?;
        let full = files.dir.join(&path);
        let precondition = Precondition {
            etag: if_match(headers)?,
            last_modified: last_modified(last_modified_read)?,
            status_refusal: self.status_refusal,
        };
        let fields = self.fields.clone();
        let write_path = full.clone();
        let edited = tokio::task::spawn_blocking(move || {
            rewrite(
                &write_path,
                |bytes| precondition.check(bytes),
                |bytes| {
                    let mut edited = task_text(bytes)?.to_owned();
                    for (field, value) in &fields {
                        edited = set_field(&edited, field, value)
                            .map_err(|error| Error::Unprocessable(error.to_string()))?;
                    }
                    Ok(edited.into_bytes())
                },
            )
        })
        .await
        .map_err(|error| Error::Internal(error.to_string()))?
        .map_err(|error| match error {
            RewriteError::Refused(error) => error,
            RewriteError::Io(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Error::NotFound(format!("Task not found: {}", self.id))
            }
            RewriteError::Io(error) => {
                tracing::warn!(path = %full.display(), %error, "could not write a task file");
                Error::Internal(format!("could not write the task file: {error}"))
            }
            other @ (RewriteError::ChangedMeanwhile | RewriteError::KeepsChanging) => {
                Error::Conflict(format!(
                    "Task was modified by another user: {other}. Reload it and try again."
                ))
            }
        })?;
        let collab = files.dir.clone();
        let store = board.clone();
        let relative = path.clone();
        tokio::task::spawn_blocking(move || reread(&store, &collab, &relative))
            .await
            .map_err(|error| Error::Internal(error.to_string()))?;
        let etag = content_tag(&edited);
        tracing::info!(%path, fields = ?self.fields, "task edited");
        let task = board
            .task(&path)
            .map(|t| t.document.value())
            .unwrap_or(Value::Null);
        Ok((
            [(header::ETAG, format!("\"{etag}\""))],
            Json(EditAnswer {
                success: true,
                task,
                path,
                etag,
            }),
        )
            .into_response())
    }
}

/// What must hold of the file for an edit to be made: checked on every version the edit is
/// made from (see [`rewrite`]).
struct Precondition {
    /// The version the client read (`If-Match`).
    etag: Option<String>,
    /// The original's optimistic lock: the file's `last_modified` the client read.
    last_modified: Option<String>,
    status_refusal: fn(&str) -> Error,
}

impl Precondition {
    fn check(&self, bytes: &[u8]) -> Result<(), Error> {
        let text = task_text(bytes)?;
        let document: Value = crate::board::parse_yaml(text).map_err(|error| {
            Error::Unprocessable(format!("the task file is not valid YAML: {error}"))
        })?;
        let status = document
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("pending")
            .to_ascii_lowercase();
        if app::model::status_is_locked(&status) {
            return Err((self.status_refusal)(&status));
        }
        if let Some(expected) = &self.etag {
            let current = content_tag(bytes);
            if *expected != current && expected != "*" {
                return Err(Error::Conflict(format!(
                    "Task was modified by another user: it changed since you read it (ETag \
                     \"{current}\", you sent \"{expected}\"). Reload it and try again."
                )));
            }
        }
        if let (Some(provided), Some(on_file)) = (
            &self.last_modified,
            document.get("last_modified").and_then(scalar_text),
        ) {
            if *provided != on_file {
                return Err(Error::Conflict(format!(
                    "Task was modified by another user. Current: {on_file}, Provided: {provided}"
                )));
            }
        }
        Ok(())
    }
}

fn task_text(bytes: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(bytes)
        .map_err(|_| Error::Unprocessable("the task file is not UTF-8 text".into()))
}

/// The body's `last_modified`: absent or `null`, else a string (another type is not taken for
/// absent: that would turn the lock off).
fn last_modified(field: &Field<String>) -> Result<Option<String>, Error> {
    match field {
        Field::Absent | Field::Null => Ok(None),
        Field::Given(text) => Ok(Some(text.clone())),
        Field::WrongType => Err(Error::bad_field(
            "last_modified",
            "must be a string: the task's last_modified as you read it",
        )),
    }
}

/// The body as `T`: the original accepts a body only with a JSON content type, and it is an
/// object (each field's own problems are the handler's to name, see [`Field`]).
fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Error> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
        });
    if !is_json {
        return Err(Error::bad_request("Request must be JSON"));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request("Request must be JSON"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => serde_json::from_value(value)
            .map_err(|error| Error::bad_request(format!("Request body: {error}"))),
        Ok(_) => Err(Error::bad_request("Request must be a JSON object")),
        Err(error) => Err(Error::bad_request(format!(
            "Request body is not valid JSON: {error}"
        ))),
    }
}

/// As the original: `CRITICAL`/`HIGH`/`MEDIUM`/`LOW` in any case (written upper case), and
/// `normal` only so.
fn parse_priority(text: &str) -> Option<String> {
    if text == "normal" {
        return Some(text.to_owned());
    }
    let upper = text.to_ascii_uppercase();
    PRIORITIES.contains(&upper.as_str()).then_some(upper)
}

/// The original's task id rule: no path characters, letters, digits, `-` and `_`, an optional
/// `.yaml`/`.yml`.
fn check_task_id(id: &str) -> Result<(), Error> {
    if id.contains("..") || id.contains('/') || id.contains('\\') {
        return Err(Error::bad_request(format!(
            "Invalid task ID: contains path traversal characters: {id}"
        )));
    }
    let stem = id
        .strip_suffix(".yaml")
        .or_else(|| id.strip_suffix(".yml"))
        .unwrap_or(id);
    let valid = !stem.is_empty()
        && stem.len() <= 255
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Error::bad_request(format!(
            "Invalid task ID format: {id}. Must contain only alphanumeric characters, dashes, \
             underscores, and optional .yaml extension."
        )));
    }
    Ok(())
}

/// The original's specification path rules, and the file must be a real file inside
/// `<repo>/specifications` (a link out of it is refused too).
pub(super) fn check_specification(repo: &Path, specification: &str) -> Result<(), Error> {
    let invalid = |why: String| {
        Error::bad_field(
            "specification",
            format!("Invalid specification path: {why}"),
        )
    };
    if specification.contains("..") {
        return Err(invalid(format!("contains path traversal: {specification}")));
    }
    if specification.contains('\\') {
        return Err(invalid(format!("contains a backslash: {specification}")));
    }
    let drive = specification.as_bytes().get(1) == Some(&b':');
    if specification.starts_with('/') || drive {
        return Err(invalid(format!("must be relative: {specification}")));
    }
    if !specification.starts_with("specifications/") {
        return Err(invalid(format!(
            "must start with 'specifications/': {specification}"
        )));
    }
    if !specification.ends_with(".md") {
        return Err(invalid(format!("must be a .md file: {specification}")));
    }
    if specification.len() > 1024
        || specification.contains(['\n', '\r', '\0'])
        || Path::new(specification)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(invalid(format!(
            "not a plain relative path: {specification}"
        )));
    }
    let not_found = || {
        Error::bad_field(
            "specification",
            format!("Specification file not found: {specification}"),
        )
    };
    let full = repo.join(specification);
    let real = full.canonicalize().map_err(|_| not_found())?;
    let root = repo
        .join("specifications")
        .canonicalize()
        .map_err(|_| not_found())?;
    if !real.starts_with(&root) {
        return Err(invalid(format!(
            "leads out of specifications/: {specification}"
        )));
    }
    if !real.is_file() {
        return Err(Error::bad_field(
            "specification",
            format!("Specification path is not a file: {specification}"),
        ));
    }
    Ok(())
}

/// The file an edit changes. `path` (`?path=`, what the page sends) names it exactly, and must be
/// a task the id names too. Else `id` with `.yaml`/`.yml` is a file name; without, the task whose
/// `id` it is, else whose file is named so. Several files answering is a 409 naming them all:
/// an edit never picks one.
fn target(board: &SharedStore, id: &str, path: Option<&str>) -> Result<String, Error> {
    match path {
        // The board's own key: nothing outside the board can be named.
        Some(path) if path.is_empty() || path.len() > 4096 => {
            return Err(Error::bad_field("path", "must be 1 to 4096 bytes"))
        }
        Some(_) => {}
        None => check_task_id(id)?,
    }
    let not_found = || Error::NotFound(format!("Task not found: {id}"));
    let has_extension = id.ends_with(".yaml") || id.ends_with(".yml");
    let stem = id
        .strip_suffix(".yaml")
        .or_else(|| id.strip_suffix(".yml"))
        .unwrap_or(id);
    let candidates: Vec<String> = board.with_tasks(|tasks, _, _| {
        if let Some(path) = path {
            return tasks
                .get(path)
                .filter(|task| {
                    task.id == stem || file_name(&task.path) == id || file_stem(&task.path) == stem
                })
                .map(|task| vec![task.path.clone()])
                .unwrap_or_default();
        }
        let paths = |matches: &dyn Fn(&app::model::Task) -> bool| -> Vec<String> {
            tasks
                .values()
                .filter(|task| matches(task))
                .map(|task| task.path.clone())
                .collect()
        };
        if has_extension {
            return paths(&|task| file_name(&task.path) == id);
        }
        let by_id = paths(&|task| task.id == id);
        if by_id.is_empty() {
            paths(&|task| file_stem(&task.path) == id)
        } else {
            by_id
        }
    });
    match candidates.as_slice() {
        [] if path.is_some() => Err(Error::NotFound(format!(
            "Task not found: {id} at {}",
            path.unwrap_or_default()
        ))),
        [] => Err(not_found()),
        [one] => Ok(one.clone()),
        several => Err(Error::Ambiguous {
            message: format!(
                "{} task files answer to {id:?}: {}. Name one by its path (?path=) or file name; \
                 nothing was changed.",
                several.len(),
                several.join(", ")
            ),
            paths: several.to_vec(),
        }),
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn file_stem(path: &str) -> &str {
    let name = file_name(path);
    name.strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name)
}

/// The version named by `If-Match` (its quotes and a weak `W/` taken off).
fn if_match(headers: &HeaderMap) -> Result<Option<String>, Error> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| Error::bad_field("If-Match", "not ASCII"))?;
    Ok(Some(
        text.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned(),
    ))
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_as_the_original_accepts_them() {
        for (given, written) in [
            ("HIGH", Some("HIGH")),
            ("high", Some("HIGH")),
            ("Critical", Some("CRITICAL")),
            ("normal", Some("normal")),
            ("NORMAL", None),
            ("Normal", None),
            ("urgent", None),
            ("", None),
        ] {
            assert_eq!(parse_priority(given).as_deref(), written, "{given:?}");
        }
    }

    #[test]
    fn task_ids_as_the_original_checks_them() {
        assert!(check_task_id("2026-02-06T1148-dashboard").is_ok());
        assert!(check_task_id("task_1.yaml").is_ok());
        for bad in ["../etc", "a/b", "a\\b", "a.b", "", "a b"] {
            assert!(check_task_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn specification_paths_stay_inside_specifications() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("specifications/demo")).unwrap();
        std::fs::write(repo.path().join("specifications/demo/a.md"), "---\n").unwrap();
        std::fs::write(repo.path().join("secret.md"), "x").unwrap();
        std::os::unix::fs::symlink(
            repo.path().join("secret.md"),
            repo.path().join("specifications/link.md"),
        )
        .unwrap();
        let message = |spec: &str| match check_specification(repo.path(), spec) {
            Ok(()) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        assert_eq!(message("specifications/demo/a.md"), "ok");
        for (spec, expected) in [
            ("../../../etc/passwd", "contains path traversal"),
            ("/etc/passwd.md", "must be relative"),
            ("C:/x.md", "must be relative"),
            ("demo/a.md", "must start with 'specifications/'"),
            ("specifications/demo/a.txt", "must be a .md file"),
            (
                "specifications/nonexistent.md",
                "Specification file not found",
            ),
            ("specifications/link.md", "leads out of specifications/"),
            ("specifications/demo", "must be a .md file"),
        ] {
            assert!(
                message(spec).contains(expected),
                "{spec}: {}",
                message(spec)
            );
        }
    }
}
