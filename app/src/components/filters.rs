use leptos::prelude::*;

use super::use_dashboard;
use crate::model::Keyed;
use crate::model::{Priority, TaskFilter};
use crate::navigation::set_query;
use crate::state::BoardModel;

/// Search and filters above the board. Every change is applied at once to the cards the page
/// holds, written to the address (`?q=…&agent=…`) and asked of the server for the whole board.
/// `/` focuses the search; Escape in it clears it.
#[component]
pub fn FilterBar() -> impl IntoView {
    let dashboard = use_dashboard();
    let filter = dashboard.filter;
    let matching = move || {
        let f = filter.get();
        (!f.is_empty()).then(|| {
            let shown: usize = dashboard.shown_lane_counts().values().sum();
            let total: usize = dashboard.board.with(|b| b.lanes.values().sum());
            format!("{shown} of {total} tasks match")
        })
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
                    change(filter, &|f| f.q = q.clone());
                }
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ev.stop_propagation();
                        change(filter, &|f| f.q = None);
                    }
                }
            />
            {menu(AGENT)}
            {menu(PRIORITY)}
            {menu(STATUS)}
            {menu(TAG)}
            {move || matching().map(|text| view! {
                <span class="matching" role="status">{text}</span>
                <button type="button" class="clear-filters" on:click=move |_| change(filter, &|f| *f = TaskFilter::default())>
                    "Clear"
                </button>
            })}
        </form>
    }
}

/// Applies `edit` to the filter and writes it to the address.
fn change(filter: RwSignal<TaskFilter>, edit: &dyn Fn(&mut TaskFilter)) {
    filter.update(|f| edit(f));
    set_query(&filter.get_untracked().to_query());
}

/// A value typed or chosen: `None` when blank.
fn text(value: String) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.trim().to_owned())
}

/// One of the filter's menus: "Any …", then the values the board offers; the one the filter
/// names is selected. (Plain function pointers: the four menus are one view type, so their
/// code is in the WASM once.)
struct Menu {
    label: &'static str,
    any: &'static str,
    /// The values to offer, from the board.
    values: fn(&BoardModel) -> Vec<String>,
    /// The value the filter names.
    read: fn(&TaskFilter) -> Option<String>,
    /// Names `value` (`None`: any) in the filter.
    write: fn(&mut TaskFilter, Option<String>),
}

const AGENT: Menu = Menu {
    label: "Agent",
    any: "Any agent",
    values: agents,
    read: |f| f.agent.clone(),
    write: |f, value| f.agent = value,
};

const PRIORITY: Menu = Menu {
    label: "Priority",
    any: "Any priority",
    values: priorities,
    read: |f| f.priority.map(|p| p.as_str().to_owned()),
    write: |f, value| f.priority = value.as_deref().and_then(Priority::parse),
};

const STATUS: Menu = Menu {
    label: "Status",
    any: "Any status",
    values: statuses,
    read: |f| f.status.clone(),
    write: |f, value| f.status = value,
};

const TAG: Menu = Menu {
    label: "Tag",
    any: "Any tag",
    values: tags,
    read: |f| f.tag.clone(),
    write: |f, value| f.tag = value,
};

fn menu(menu: Menu) -> impl IntoView {
    let dashboard = use_dashboard();
    let filter = dashboard.filter;
    let Menu {
        label,
        any,
        values,
        read,
        write,
    } = menu;
    view! {
        <select aria-label=label on:change=move |ev| {
            let value = text(event_target_value(&ev));
            change(filter, &|f| write(f, value.clone()));
        }>
            <option value="">{any}</option>
            {move || {
                let current = filter.with(read);
                dashboard.board.with(values).into_iter().map(|value| {
                    let selected = current.as_deref() == Some(value.as_str());
                    view! { <option value=value.clone() selected=selected>{value.replace('_', " ")}</option> }
                }).collect_view()
            }}
        </select>
    }
}

/// The agents of the board's lanes and cards, by name.
fn agents(board: &BoardModel) -> Vec<String> {
    let mut agents: Keyed<()> = board
        .lanes
        .keys()
        .filter_map(|k| k.split_once('/').map(|(_, a)| (a.to_owned(), ())))
        .collect();
    for agent in board.cards.values().filter_map(|c| c.task.agent.clone()) {
        agents.insert(agent, ());
    }
    agents.keys().map(str::to_owned).collect()
}

/// Every priority, the most pressing first.
fn priorities(_: &BoardModel) -> Vec<String> {
    [
        Priority::Critical,
        Priority::High,
        Priority::Medium,
        Priority::Normal,
        Priority::Low,
    ]
    .into_iter()
    .map(|p| p.as_str().to_owned())
    .collect()
}

/// The usual statuses and any other the cards have, by name.
fn statuses(board: &BoardModel) -> Vec<String> {
    let mut statuses: Keyed<()> = ["new", "in_progress", "blocked", "done"]
        .into_iter()
        .map(|status| (status.to_owned(), ()))
        .collect();
    for status in board.cards.values().filter_map(|c| c.task.status.clone()) {
        statuses.insert(status, ());
    }
    statuses.keys().map(str::to_owned).collect()
}

/// The cards' tags, by name.
fn tags(board: &BoardModel) -> Vec<String> {
    let tags: Keyed<()> = board
        .cards
        .values()
        .flat_map(|c| c.task.tags.iter().map(|tag| (tag.clone(), ())))
        .collect();
    tags.keys().map(str::to_owned).collect()
}
