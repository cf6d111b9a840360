use leptos::prelude::*;

use super::use_dashboard;
use crate::model::{Task, TaskSummary};

/// The side panel with every field of the selected task and its whole document. The fields come
/// from the card at once; the description and the document once the task is fetched.
#[component]
pub fn TaskDetail() -> impl IntoView {
    let dashboard = use_dashboard();
    let summary = Memo::new(move |_| {
        let path = dashboard.selected.get()?;
        dashboard
            .board
            .with(|b| b.cards.get(&path).map(|c| c.task.clone()))
            .or_else(|| {
                dashboard.detail.with(|d| {
                    d.as_ref()
                        .filter(|t| t.path == path)
                        .map(|t| t.summary.clone())
                })
            })
    });
    let whole = move || {
        let path = dashboard.selected.get()?;
        dashboard.detail.get().filter(|t| t.path == path)
    };
    let close = move || dashboard.selected.set(None);
    view! {
        <Show when=move || summary.with(Option::is_some)>
            <div class="detail-backdrop" on:click=move |_| close()></div>
            <aside class="detail" role="dialog" aria-modal="true" aria-label="Task details">
                <button class="close" aria-label="Close" on:click=move |_| close()>"×"</button>
                {move || summary.get().map(fields)}
                {move || match whole() {
                    Some(task) => texts(task).into_any(),
                    None => view! { <p class="loading">"Loading the task…"</p> }.into_any(),
                }}
            </aside>
        </Show>
    }
}

fn fields(task: TaskSummary) -> impl IntoView {
    let row = |label: &'static str, value: Option<String>| {
        value.map(|value| view! { <dt>{label}</dt><dd>{value}</dd> })
    };
    view! {
        <h2>{task.title.clone()}</h2>
        <dl class="fields">
            {row("ID", Some(task.id.clone()))}
            {row("File", Some(task.path.clone()))}
            {row("Agent", task.owner().map(str::to_owned))}
            {row("Status", task.status.clone())}
            {row("Priority", task.priority.map(|p| p.as_str().to_owned()))}
            {row("Created", task.created_at.clone())}
            {row("Updated", task.updated_at.clone())}
            {row("Started", task.started_at.clone())}
            {row("Completed", task.completed_at.clone())}
            {row("Estimated hours", task.estimated_hours.map(|h| h.to_string()))}
            {row("Specification", task.specification.clone())}
            {row("Tags", (!task.tags.is_empty()).then(|| task.tags.join(", ")))}
            {row("Blocked", task.blocked_reason.clone())}
        </dl>
    }
}

fn texts(task: Task) -> impl IntoView {
    let document = serde_json::to_string_pretty(&task.document.value()).unwrap_or_default();
    view! {
        {task.description.clone().map(|d| view! { <h3>"Description"</h3><p class="description">{d}</p> })}
        <details class="document">
            <summary>"Whole document"</summary>
            <pre>{document}</pre>
        </details>
    }
}
