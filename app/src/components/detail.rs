use leptos::prelude::*;

use super::assign::{SpecificationPicker, SpecificationReader};
use super::priority::PriorityMenu;
use super::use_dashboard;
use crate::api::fresh_data;
use crate::format::{age_label, iso_ms};
use crate::model::{TaskDetails, TaskLink, TaskSummary};
use crate::navigation::{close_task, encode_segment, open_task, task_href};

/// The selected task over the board (at its own address, `/tasks/{id}`): every field, the texts
/// rendered from Markdown on the server, the tasks it names, its cost and invocations, and its
/// file. Escape, the back button, the backdrop and × close it. The `/tasks/:id` route's view,
/// after the board: its code and its data's come with the first task opened.
#[component]
pub fn TaskDetail() -> impl IntoView {
    let dashboard = use_dashboard();
    let close_button = NodeRef::<leptos::html::Button>::new();
    let open = move || dashboard.selected.with(Option::is_some);
    // The task whole: rendered by the server with the page, fetched again when its card changes
    // (so a live change shows the server's new rendering) or another task is opened.
    // The task shown: the selected one, the last one while the detail closes (so closing it
    // fetches nothing).
    let shown = Memo::new(move |last: Option<&String>| {
        dashboard
            .selected
            .get()
            .or_else(|| last.cloned())
            .unwrap_or_default()
    });
    let details = fresh_data(move || {
        let id = shown.get();
        let rev = dashboard.board.with(|b| b.card_with_id(&id).map(|c| c.rev));
        (format!("/api/board/task?id={}", encode_segment(&id)), rev)
    });
    dashboard.detail.set(Some(details));
    // The tab's title names the task once its data came.
    Effect::new(move |_| {
        let title = details.with(|d| match d {
            Some(Ok(details)) => Some(details.task.title.clone()),
            _ => None,
        });
        dashboard.task_title.set(title);
    });
    on_cleanup(move || {
        dashboard.detail.set(None);
        dashboard.task_title.set(None);
    });
    // Focus moves into the dialog when it opens.
    Effect::new(move |_| {
        if open() {
            if let Some(button) = close_button.get() {
                let _ = button.focus();
            }
        }
    });
    // Until the task is fetched, what its card shows.
    let summary = move || {
        let id = dashboard.selected.get()?;
        dashboard
            .board
            .with(|b| b.card_with_id(&id).map(|c| c.task.clone()))
    };
    let loading = move || {
        view! {
            {summary().map(|task| fields(task, None))}
            <p class="loading">"Loading the task…"</p>
        }
    };
    let close = move |_| close_task(dashboard);
    view! {
        <Show when=open>
            <div class="detail-backdrop" on:click=close></div>
            <aside class="detail" role="dialog" aria-modal="true" aria-labelledby="detail-title">
                <button class="close" aria-label="Close" node_ref=close_button on:click=close>
                    "×"
                </button>
                <Transition fallback=loading>
                    {move || Suspend::new(async move {
                        let answer = details.await;
                        let id = dashboard.selected.get().unwrap_or_default();
                        match answer {
                            Ok(details) if details.answers(&id) => whole(details).into_any(),
                            Ok(_) => loading().into_any(),
                            Err(reason) => view! {
                                <h2 id="detail-title">"Task not available"</h2>
                                <p class="detail-error" role="alert">{reason}</p>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </aside>
        </Show>
    }
}

fn whole(details: TaskDetails) -> impl IntoView {
    let TaskDetails {
        task,
        texts,
        links,
        feature,
        yaml,
        file_error,
        cost,
        invocations,
        telemetry_error,
        same_id,
        ..
    } = details;
    view! {
        {fields(task.summary.clone(), feature)}
        {(!links.is_empty()).then(|| view! {
            <h3>"Related tasks"</h3>
            <ul class="task-links">{links.into_iter().map(link).collect_view()}</ul>
        })}
        {texts
            .into_iter()
            .map(|text| view! {
                <section class="text" data-field=text.field.clone()>
                    <h3>{text.label}</h3>
                    <div class="markdown" inner_html=text.html></div>
                </section>
            })
            .collect_view()}
        <h3>"Cost"</h3>
        {match (cost, telemetry_error) {
            (_, Some(reason)) => view! {
                <p class="detail-error">{format!("Costs unavailable: {reason}")}</p>
            }
            .into_any(),
            (Some(cost), None) => view! {
                <p class="task-cost">
                    {format!(
                        "{} over {} invocation{} ({} tokens)",
                        crate::format::usd(cost.cost_usd),
                        cost.invocations,
                        if cost.invocations == 1 { "" } else { "s" },
                        cost.tokens,
                    )}
                </p>
            }
            .into_any(),
            (None, None) => view! { <p class="empty">"No LLM calls logged for this task."</p> }
                .into_any(),
        }}
        {(!invocations.is_empty()).then(|| view! {
            <table class="invocations">
                <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Model"</th><th scope="col">"Tool"</th><th scope="col" class="num">"Tokens"</th><th scope="col" class="num">"Cost"</th><th scope="col">"Status"</th></tr></thead>
                <tbody>
                    {invocations
                        .into_iter()
                        .map(|call| {
                            let (unpriced, cost) = (call.unpriced(), call.cost_label());
                            let inferred = call.attribution.as_deref() == Some("inferred");
                            view! {
                            <tr>
                                <td title=call.timestamp.clone()>{call_time(&call.timestamp)}</td>
                                <td>{call.model}</td>
                                <td>{call.tool}</td>
                                <td class="num">{call.total_tokens}</td>
                                <td class="num cost" class:unpriced=unpriced>{cost}</td>
                                <td>
                                    {call.status}
                                    {inferred.then(|| view! {
                                        <span class="badge inferred" title="Its task and agent were worked out from the board, not sent by the agent">"inferred"</span>
                                    })}
                                </td>
                            </tr>
                        }})
                        .collect_view()}
                </tbody>
            </table>
        })}
        {(!same_id.is_empty()).then(|| view! {
            <p class="same-id">
                {format!("Other files with the id {}: {}", task.id, same_id.join(", "))}
            </p>
        })}
        <details class="document">
            <summary>"The file"</summary>
            {match (yaml, file_error) {
                (Some(yaml), _) => view! { <pre class="yaml"><code>{yaml}</code></pre> }.into_any(),
                (None, reason) => view! {
                    <p class="detail-error">
                        {format!("The file could not be read: {}", reason.unwrap_or_default())}
                    </p>
                }
                .into_any(),
            }}
        </details>
    }
}

/// The task's fields; `feature` beside the specification when the document has one.
fn fields(task: TaskSummary, feature: Option<String>) -> impl IntoView {
    let dashboard = use_dashboard();
    let row = |label: &'static str, value: Option<String>| {
        value.map(|value| view! { <dt>{label}</dt><dd>{value}</dd> })
    };
    let date = move |label: &'static str, value: Option<String>| {
        value.map(|value| {
            let age = iso_ms(&value).map(|ms| move || format!(" ({})", age_label(ms, dashboard.now_ms.get())));
            view! { <dt>{label}</dt><dd><time datetime=value.clone()>{value.clone()}</time>{age}</dd> }
        })
    };
    let path = task.path.clone();
    let current = Signal::derive(move || {
        dashboard
            .detail
            .get()
            .and_then(|detail| {
                detail.with(|d| match d {
                    Some(Ok(details)) if details.task.path == path => Some(details.task.priority),
                    _ => None,
                })
            })
            .unwrap_or_else(|| {
                dashboard
                    .board
                    .with(|b| b.cards.get(&path).and_then(|c| c.task.priority))
            })
    });
    let status = task.status.clone().map(|s| {
        let class = format!(
            "badge status status-{}",
            s.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        );
        view! { <span class=class>{s.replace('_', " ")}</span> }
    });
    let specification = task.specification.clone().map(|spec| {
        let text = match feature {
            Some(feature) => format!("{spec} · {feature}"),
            None => spec.clone(),
        };
        view! {
            <dt>"Specification"</dt>
            <dd><span class="specification">{text}</span> <SpecificationReader path=spec/></dd>
        }
    });
    let tags = (!task.tags.is_empty()).then(|| {
        view! {
            <dt>"Tags"</dt>
            <dd><ul class="tags">{task.tags.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view()}</ul></dd>
        }
    });
    view! {
        <h2 id="detail-title">{task.title.clone()}</h2>
        <div class="detail-badges">
            <PriorityMenu task=task.clone() current/>
            {status}
            {task.is_blocked().then(|| view! { <span class="badge blocked-badge">"blocked"</span> })}
        </div>
        <dl class="fields">
            {row("ID", Some(task.id.clone()))}
            {row("File", Some(task.path.clone()))}
            {row("Column", Some(task.lane_key()))}
            {row("Agent", task.owner().map(str::to_owned))}
            {row("Status", task.status.clone())}
            {row("Priority", task.priority.map(|p| p.as_str().to_owned()))}
            {date("Created", task.created_at.clone())}
            {date("Updated", task.updated_at.clone())}
            {date("Started", task.started_at.clone())}
            {date("Completed", task.completed_at.clone())}
            {row("Estimated hours", task.estimated_hours.map(|h| crate::format::decimal(h, 2)))}
            {specification}
            {tags}
            {row("Blocked", task.blocked_reason.clone())}
        </dl>
        <SpecificationPicker task=task.clone()/>
    }
}

/// A task named by this one: a link to its detail, or marked missing.
fn link(link: TaskLink) -> impl IntoView {
    let dashboard = use_dashboard();
    let field = link.field.replace('_', " ");
    match link.title {
        Some(title) => {
            let href = task_href(&dashboard.settings.with_value(|s| s.base.clone()), &link.id);
            let id = link.id.clone();
            let follow = move |ev: leptos::ev::MouseEvent| {
                ev.prevent_default();
                open_task(dashboard, id.clone());
            };
            view! {
                <li>
                    <span class="link-kind">{field}</span>
                    <a href=href on:click=follow>{link.id.clone()}</a>
                    <span class="link-title">{title}</span>
                </li>
            }
            .into_any()
        }
        None => view! {
            <li class="missing">
                <span class="link-kind">{field}</span>
                <span class="link-id">{link.id}</span>
                <span class="link-title">"not on the board"</span>
            </li>
        }
        .into_any(),
    }
}

/// An invocation's time as the table shows it: `2026-11-03 15:13` for a UTC timestamp (`…Z`,
/// `…+00:00`, or SQLite's `YYYY-MM-DD HH:MM:SS`); any other text as it is stored. The whole
/// timestamp is the cell's title.
fn call_time(timestamp: &str) -> String {
    let utc = timestamp.ends_with('Z')
        || timestamp.ends_with("+00:00")
        || (timestamp.len() == 19 && timestamp.as_bytes().get(10) == Some(&b' '));
    let minute = timestamp.get(..16).filter(|m| {
        let bytes = m.as_bytes();
        matches!(bytes[10], b'T' | b' ')
            && bytes[4] == b'-'
            && bytes[13] == b':'
            && m.chars()
                .enumerate()
                .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13) || c.is_ascii_digit())
    });
    match (utc, minute) {
        (true, Some(minute)) => format!("{} {}", &minute[..10], &minute[11..]),
        _ => timestamp.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::call_time;

    #[test]
    fn call_times_are_shortened_only_when_utc() {
        assert_eq!(
            call_time("2026-11-03T15:13:14.104303+00:00"),
            "2026-11-03 15:13"
        );
        assert_eq!(call_time("2026-11-03T15:13:14Z"), "2026-11-03 15:13");
        assert_eq!(call_time("2026-11-03 15:13:14"), "2026-11-03 15:13");
        assert_eq!(
            call_time("2026-11-03T15:13:14+02:00"),
            "2026-11-03T15:13:14+02:00"
        );
        assert_eq!(call_time("yesterday"), "yesterday");
    }
}
