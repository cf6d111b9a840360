//! Changes the page asks the server to make to task files (only when it was started with
//! `--allow-writes`): shown at once, undone with a message when the server refuses.

use leptos::prelude::*;

use crate::model::{Priority, TaskSummary};
use crate::state::Dashboard;

/// Statuses whose tasks the server does not edit (the menus are disabled for them).
pub const LOCKED_STATUSES: [&str; 3] = ["in_progress", "done", "failed"];

/// Whether the page may offer to edit `task`; `Err` with the reason shown on the menu.
pub fn editable(dashboard: &Dashboard, task: &TaskSummary) -> Result<(), &'static str> {
    if !dashboard.settings.with_value(|s| s.writable) {
        return Err("Editing is off: the dashboard was started read-only");
    }
    if task
        .status
        .as_deref()
        .is_some_and(|s| LOCKED_STATUSES.contains(&s))
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

/// Sets `task`'s priority: on its card and in the detail at once, then on the server
/// (`PATCH /api/tasks/{id}/priority`, with the detail's ETag when the detail is open); undone,
/// with a toast saying why, if the server refuses.
pub fn change_priority(dashboard: Dashboard, task: &TaskSummary, priority: Priority) {
    let path = task.path.clone();
    let id = task.id.clone();
    let mut before = task.priority;
    dashboard.board.update(|b| {
        if let Some(old) = b.set_priority(&path, Some(priority)) {
            before = old;
        }
    });
    let etag = dashboard.detail.with_untracked(|d| match d {
        Some(Ok(details)) if details.task.path == path => {
            Some(details.etag.clone()).filter(|e| !e.is_empty())
        }
        _ => None,
    });
    set_detail_priority(dashboard, &path, Some(priority));
    #[cfg(feature = "hydrate")]
    wasm_bindgen_futures::spawn_local(async move {
        let url = format!(
            "{}/api/tasks/{}/priority",
            crate::client::base_path(),
            crate::navigation::encode_segment(&id)
        );
        let body = serde_json::json!({ "priority": wire_priority(priority) }).to_string();
        let mut request =
            gloo_net::http::Request::patch(&url).header("Content-Type", "application/json");
        if let Some(etag) = etag {
            request = request.header("If-Match", &format!("\"{etag}\""));
        }
        let outcome = match request.body(body) {
            Ok(request) => request.send().await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let failure = match outcome {
            Ok(response) if response.ok() => {
                if let Ok(answer) = response.json::<serde_json::Value>().await {
                    if let Some(etag) = answer.get("etag").and_then(|e| e.as_str()) {
                        let etag = etag.to_owned();
                        dashboard.detail.update(|d| {
                            if let Some(Ok(details)) = d {
                                if details.task.path == path {
                                    details.etag = etag;
                                }
                            }
                        });
                    }
                }
                None
            }
            Ok(response) => {
                let status = response.status();
                let reason = response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| format!("HTTP {status}"));
                Some(reason)
            }
            Err(error) => Some(format!("the server could not be reached ({error})")),
        };
        if let Some(reason) = failure {
            dashboard.board.update(|b| {
                b.set_priority(&path, before);
            });
            set_detail_priority(dashboard, &path, before);
            dashboard.toast(format!("The priority of {id} was not changed: {reason}"));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, etag, before);
}

fn set_detail_priority(dashboard: Dashboard, path: &str, priority: Option<Priority>) {
    dashboard.detail.update(|d| {
        if let Some(Ok(details)) = d {
            if details.task.path == path {
                details.task.summary.priority = priority;
            }
        }
    });
}
