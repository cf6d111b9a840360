//! Changes the page asks the server to make to task files (only when it was started with
//! `--allow-writes`): shown at once, undone with a message when the server refuses.

use leptos::prelude::*;

use crate::model::{Priority, TaskSummary};
use crate::state::Dashboard;

/// Whether the page may offer to edit `task`; `Err` with the reason shown on the menu.
pub fn editable(dashboard: &Dashboard, task: &TaskSummary) -> Result<(), &'static str> {
    if !dashboard.settings.with_value(|s| s.writable) {
        return Err("Editing is off: the dashboard was started read-only");
    }
    if task
        .status
        .as_deref()
        .is_some_and(crate::model::status_is_locked)
    {
        return Err("Tasks in progress, done or failed cannot be edited");
    }
    Ok(())
}

/// The value the server takes for a priority (the original's: upper case, `normal` lower).
pub fn wire_priority(priority: Priority) -> &'static str {
    match priority {
        Priority::Critical => "CRITICAL",
        Priority::High => "HIGH",
        Priority::Medium => "MEDIUM",
        Priority::Normal => "normal",
        Priority::Low => "LOW",
    }
}

/// Sets `task`'s priority: on its card at once, then in the open detail and on the server
/// (`PATCH /api/tasks/{id}/priority`, with the detail's ETag when the detail is open); undone,
/// with a toast saying why, if the server refuses.
pub fn change_priority(dashboard: Dashboard, task: &TaskSummary, priority: Priority) {
    let path = task.path.clone();
    let mut before = task.priority;
    dashboard.board.update(|b| {
        if let Some(old) = b.set_priority(&path, Some(priority)) {
            before = old;
        }
    });
    #[cfg(feature = "hydrate")]
    wasm_bindgen_futures::spawn_local(send_priority(PriorityChange {
        dashboard,
        id: task.id.clone(),
        path,
        priority,
        before,
    }));
    #[cfg(not(feature = "hydrate"))]
    let _ = before;
}

/// A priority change shown on its card, to be sent.
#[cfg(feature = "hydrate")]
struct PriorityChange {
    dashboard: Dashboard,
    id: String,
    path: String,
    priority: Priority,
    /// What the card showed before, put back if the server refuses.
    before: Option<Priority>,
}

/// The rest of a priority change: the open detail follows, the server is asked, and both are
/// undone if it refuses. Its code (the request, the detail's update) is loaded on the first
/// change, not with the board.
#[cfg(feature = "hydrate")]
#[leptos::lazy]
async fn send_priority(change: PriorityChange) {
    let PriorityChange {
        dashboard,
        id,
        path,
        priority,
        before,
    } = change;
    let etag = detail_etag(dashboard, &path);
    set_detail_priority(dashboard, &path, Some(priority));
    let body = crate::model::PriorityEdit {
        priority: crate::model::Field::Given(wire_priority(priority).to_owned()),
        ..Default::default()
    };
    match send_patch(&id, &path, "priority", body, etag).await {
        Ok(etag) => set_detail_etag(dashboard, &path, etag),
        Err(reason) => {
            dashboard.board.update(|b| {
                b.set_priority(&path, before);
            });
            set_detail_priority(dashboard, &path, before);
            dashboard.toast(format!("The priority of {id} was not changed: {reason}"));
        }
    }
}

/// Links `task` to the specification at `path` (and one of its features), through
/// `PATCH /api/tasks/{id}/specification` with the detail's ETag; `done` gets the server's
/// refusal, if any. The board and the detail follow from the `task.updated` the server sends.
pub fn link_specification(
    dashboard: Dashboard,
    task: &TaskSummary,
    path: String,
    feature: Option<String>,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    let etag = detail_etag(dashboard, &task.path);
    let id = task.id.clone();
    let file = task.path.clone();
    #[cfg(feature = "hydrate")]
    wasm_bindgen_futures::spawn_local(async move {
        use crate::model::Field;
        let body = crate::model::SpecificationEdit {
            specification: Field::Given(path),
            feature: feature.map_or(Field::Absent, Field::Given),
            ..Default::default()
        };
        done(
            send_patch(&id, &file, "specification", body, etag)
                .await
                .map(|_| ()),
        );
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (dashboard, id, file, etag, path, feature, done);
}

/// The ETag of `path`'s file as the open detail read it.
fn detail_etag(dashboard: Dashboard, path: &str) -> Option<String> {
    dashboard
        .detail
        .get_untracked()?
        .with_untracked(|d| match d {
            Some(Ok(details)) if details.task.path == path => {
                Some(details.etag.clone()).filter(|e| !e.is_empty())
            }
            _ => None,
        })
}

/// Changes the open detail's task at `path` (when it is that task's) as an edit just did, until
/// the detail is fetched again.
#[cfg(feature = "hydrate")]
fn update_detail(
    dashboard: Dashboard,
    path: &str,
    change: impl FnOnce(&mut crate::model::TaskDetails),
) {
    if let Some(detail) = dashboard.detail.get_untracked() {
        detail.update(|d| {
            if let Some(Ok(details)) = d {
                if details.task.path == path {
                    change(details);
                }
            }
        });
    }
}

#[cfg(feature = "hydrate")]
fn set_detail_etag(dashboard: Dashboard, path: &str, etag: Option<String>) {
    let Some(etag) = etag else { return };
    update_detail(dashboard, path, |details| details.etag = etag);
}

/// `PATCH /api/tasks/{id}/{field}?path={file}` with `body` (and `If-Match` when the file's
/// version is known): the file's new ETag, or why the server refused. The file is named by its
/// path: two files may share an id.
#[cfg(feature = "hydrate")]
async fn send_patch(
    id: &str,
    file: &str,
    field: &str,
    body: impl serde::Serialize,
    etag: Option<String>,
) -> Result<Option<String>, String> {
    let url = format!(
        "{}/api/tasks/{}/{field}?path={}",
        crate::client::base_path(),
        crate::navigation::encode_segment(id),
        crate::navigation::encode_segment(file)
    );
    let mut request =
        gloo_net::http::Request::patch(&url).header("Content-Type", "application/json");
    if let Some(etag) = etag {
        request = request.header("If-Match", &format!("\"{etag}\""));
    }
    let response = request
        .json(&body)
        .map_err(crate::api::request_failure)?
        .send()
        .await
        .map_err(|e| {
            format!(
                "the server could not be reached ({})",
                crate::api::request_failure(e)
            )
        })?;
    if response.ok() {
        // The same version as the answer's `etag`, read from its header: the client has no use
        // for the rest of the answer (the task as it is now comes by the socket).
        return Ok(response
            .headers()
            .get("etag")
            .map(|tag| tag.trim_matches('"').to_owned()));
    }
    Err(crate::api::refusal(&response).await)
}

#[cfg(feature = "hydrate")]
fn set_detail_priority(dashboard: Dashboard, path: &str, priority: Option<Priority>) {
    update_detail(dashboard, path, |details| {
        details.task.summary.priority = priority;
    });
}
