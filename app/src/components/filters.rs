use leptos::prelude::*;

use super::use_dashboard;
use crate::model::Keyed;
use crate::model::{Priority, TaskFilter};
use crate::navigation::set_query;

/// Search and filters above the board. Every change is applied at once to the cards the page
/// holds, written to the address (`?q=…&agent=…`) and asked of the server for the whole board.
/// `/` focuses the search; Escape in it clears it.
#[component]
pub fn FilterBar() -> impl IntoView {
    let dashboard = use_dashboard();
    let filter = dashboard.filter;
    let change = move |edit: &dyn Fn(&mut TaskFilter)| {
        filter.update(|f| edit(f));
        set_query(&filter.get_untracked().to_query());
    };
    let text = |value: String| (!value.trim().is_empty()).then(|| value.trim().to_owned());
    let agents = move || {
        dashboard.board.with(|b| {
            let mut agents: Keyed<()> = b
                .lanes
                .keys()
                .filter_map(|k| k.split_once('/').map(|(_, a)| (a.to_owned(), ())))
                .collect();
            for agent in b.cards.values().filter_map(|c| c.task.agent.clone()) {
                agents.insert(agent, ());
            }
            agents.keys().map(str::to_owned).collect::<Vec<_>>()
        })
    };
    let statuses = move || {
        dashboard.board.with(|b| {
            let mut statuses: Keyed<()> = ["new", "in_progress", "blocked", "done"]
                .into_iter()
                .map(|status| (status.to_owned(), ()))
                .collect();
            for status in b.cards.values().filter_map(|c| c.task.status.clone()) {
                statuses.insert(status, ());
            }
            statuses.keys().map(str::to_owned).collect::<Vec<_>>()
        })
    };
    let tags = move || {
        dashboard.board.with(|b| {
            let tags: Keyed<()> = b
                .cards
                .values()
                .flat_map(|c| c.task.tags.iter().map(|tag| (tag.clone(), ())))
                .collect();
            tags.keys().map(str::to_owned).collect::<Vec<_>>()
        })
    };
    let matching = move || {
        let f = filter.get();
        (!f.is_empty()).then(|| {
            let shown: usize = dashboard.shown_lane_counts().values().sum();
            let total: usize = dashboard.board.with(|b| b.lanes.values().sum());
            format!("{shown} of {total} tasks match")
        })
    };
    let option = move |value: String, current: Option<String>| {
        let selected = current.as_deref() == Some(value.as_str());
        view! { <option value=value.clone() selected=selected>{value.replace('_', " ")}</option> }
    };
    view! {
        <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
            <input
                id="search"
                type="search"
                placeholder="Search title, id, description, tags  ( / )"
                aria-label="Search tasks"
                autocomplete="off"
                prop:value=move || filter.with(|f| f.q.clone().unwrap_or_default())
                value=filter.with_untracked(|f| f.q.clone().unwrap_or_default())
                on:input=move |ev| {
                    let q = text(event_target_value(&ev));
                    change(&|f| f.q = q.clone());
                }
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ev.stop_propagation();
                        change(&|f| f.q = None);
                    }
                }
            />
            <select aria-label="Agent" on:change=move |ev| {
                let agent = text(event_target_value(&ev));
                change(&|f| f.agent = agent.clone());
            }>
                <option value="">"Any agent"</option>
                {move || {
                    let current = filter.with(|f| f.agent.clone());
                    agents().into_iter().map(|a| option(a, current.clone())).collect_view()
                }}
            </select>
            <select aria-label="Priority" on:change=move |ev| {
                let priority = Priority::parse(&event_target_value(&ev));
                change(&|f| f.priority = priority);
            }>
                <option value="">"Any priority"</option>
                {move || {
                    let current = filter.with(|f| f.priority.map(|p| p.as_str().to_owned()));
                    [Priority::Critical, Priority::High, Priority::Medium, Priority::Normal, Priority::Low]
                        .into_iter()
                        .map(|p| option(p.as_str().to_owned(), current.clone()))
                        .collect_view()
                }}
            </select>
            <select aria-label="Status" on:change=move |ev| {
                let status = text(event_target_value(&ev));
                change(&|f| f.status = status.clone());
            }>
                <option value="">"Any status"</option>
                {move || {
                    let current = filter.with(|f| f.status.clone());
                    statuses().into_iter().map(|s| option(s, current.clone())).collect_view()
                }}
            </select>
            <select aria-label="Tag" on:change=move |ev| {
                let tag = text(event_target_value(&ev));
                change(&|f| f.tag = tag.clone());
            }>
                <option value="">"Any tag"</option>
                {move || {
                    let current = filter.with(|f| f.tag.clone());
                    tags().into_iter().map(|t| option(t, current.clone())).collect_view()
                }}
            </select>
            {move || matching().map(|text| view! {
                <span class="matching" role="status">{text}</span>
                <button type="button" class="clear-filters" on:click=move |_| change(&|f| *f = TaskFilter::default())>
                    "Clear"
                </button>
            })}
        </form>
    }
}
