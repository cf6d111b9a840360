use leptos::prelude::*;

use super::use_dashboard;
use crate::edits::{change_priority, editable};
use crate::model::{Priority, TaskSummary};

const CHOICES: [Priority; 5] = [
    Priority::Critical,
    Priority::High,
    Priority::Medium,
    Priority::Normal,
    Priority::Low,
];

/// A task's priority: a badge, or a menu that changes it where the page may edit the task (the
/// menu is shown disabled, saying why, where it may not). `current` is the priority shown now
/// (it follows an edit, and its undoing).
#[component]
pub fn PriorityMenu(task: TaskSummary, current: Signal<Option<Priority>>) -> impl IntoView {
    let dashboard = use_dashboard();
    let writable = dashboard.settings.with_value(|s| s.writable);
    if !writable {
        return task
            .priority
            .map(|p| {
                view! { <span class=format!("badge priority priority-{}", p.as_str())>{p.as_str()}</span> }
            })
            .into_any();
    }
    let refusal = editable(&dashboard, &task).err();
    let initial = current.get_untracked();
    let class = move || {
        format!(
            "priority-menu priority-{}",
            current.get().map(|p| p.as_str()).unwrap_or("none")
        )
    };
    let on_change = move |ev: leptos::ev::Event| {
        if let Some(priority) = Priority::parse(&event_target_value(&ev)) {
            change_priority(dashboard, &task, priority);
        }
    };
    view! {
        <select
            class=class
            aria-label="Priority"
            title=refusal.unwrap_or("Change the priority (written to the task file)")
            disabled=refusal.is_some()
            on:click=|ev| ev.stop_propagation()
            on:keydown=|ev| ev.stop_propagation()
            on:change=on_change
            prop:value=move || current.get().map(|p| p.as_str()).unwrap_or("")
        >
            {initial.is_none().then(|| view! { <option value="" selected=true>"—"</option> })}
            {CHOICES
                .into_iter()
                .map(|p| view! { <option value=p.as_str() selected=initial == Some(p)>{p.as_str()}</option> })
                .collect_view()}
        </select>
    }
    .into_any()
}
