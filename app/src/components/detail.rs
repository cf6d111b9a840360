use leptos::prelude::*;

use super::use_dashboard;
use crate::model::Task;

/// The side panel with every field of the selected task and its whole document.
#[component]
pub fn TaskDetail() -> impl IntoView {
    let dashboard = use_dashboard();
    let task = Memo::new(move |_| {
        let path = dashboard.selected.get()?;
        dashboard
            .board
            .with(|b| b.cards.get(&path).map(|c| c.task.clone()))
    });
    let close = move || dashboard.selected.set(None);
    view! {
        <Show when=move || task.with(Option::is_some)>
            <div class="detail-backdrop" on:click=move |_| close()></div>
            <aside class="detail" role="dialog" aria-modal="true" aria-label="Task details">
                <button class="close" aria-label="Close" on:click=move |_| close()>"×"</button>
                {move || task.get().map(detail_body)}
            </aside>
        </Show>
    }
}

fn detail_body(task: Task) -> impl IntoView {
    let row = |label: &'static str, value: Option<String>| {
        value.map(|value| view! { <dt>{label}</dt><dd>{value}</dd> })
    };
    let document = serde_json::to_string_pretty(&task.document.value()).unwrap_or_default();
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
        {task.description.clone().map(|d| view! { <h3>"Description"</h3><p class="description">{d}</p> })}
        <details class="document">
            <summary>"Whole document"</summary>
            <pre>{document}</pre>
        </details>
    }
}
