use leptos::prelude::*;

use super::card::CardView;
use super::sessions::LaneState;
use super::use_dashboard;
use crate::format::uppercase;
use crate::model::{lane_key, Column, LANE_WINDOW};
use crate::state::{default_window, Card};

/// The Kanban board: Inbox, Assigned (by agent), Done (by agent).
#[component]
pub fn Board() -> impl IntoView {
    let dashboard = use_dashboard();
    let reading = move || dashboard.board.with(|b| b.reading);
    // The export follows the filter.
    let export_href = move |format: &'static str| {
        move || {
            let query = dashboard.filter.with(|f| f.to_query());
            let base = dashboard.settings.with_value(|s| s.base.clone());
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            format!("{base}/api/export/tasks.{format}{query}")
        }
    };
    view! {
        <div class="board-area">
        {move || {
            reading()
                .map(|progress| {
                    view! {
                        <p class="reading" role="status">
                            {format!(
                                "Reading the board: {} of {} files…",
                                progress.files_read,
                                progress.files_total,
                            )}
                        </p>
                    }
                })
        }}
        <div class="board-tools">
            <super::FilterBar/>
            <nav class="exports" aria-label="Export the tasks">
                "Export "
                <a download href=export_href("csv")>"CSV"</a>
                " · "
                <a download href=export_href("json")>"JSON"</a>
            </nav>
        </div>
        <section class="board" aria-label="Task board">
            <ColumnView column=Column::Inbox/>
            <ColumnView column=Column::Assigned/>
            <ColumnView column=Column::Done/>
        </section>
        </div>
    }
}

#[component]
fn ColumnView(column: Column) -> impl IntoView {
    let dashboard = use_dashboard();
    let count = Memo::new(move |_| dashboard.shown_count(column));
    let lanes = Memo::new(move |_| dashboard.shown_lanes(column));
    let body = match column {
        Column::Inbox => view! { <CardList column lane=None/> }.into_any(),
        Column::Assigned | Column::Done => view! {
            <For
                each=move || lanes.get()
                key=|lane| lane.clone()
                let:lane
            >
                <LaneGroup column lane/>
            </For>
        }
        .into_any(),
    };
    view! {
        <div class="column" data-column=column.folder()>
            <header class="column-header">
                <h2>{column.label()}</h2>
                <span class="count">{count}</span>
            </header>
            <div class="column-body">
                {body}
                <Show when=move || count.get() == 0>
                    <p class="empty">{format!("No {} tasks", column.label().to_ascii_lowercase())}</p>
                </Show>
            </div>
        </div>
    }
}

/// The cards of one agent in Assigned or Done, under a header with the agent and its count.
#[component]
fn LaneGroup(column: Column, lane: String) -> impl IntoView {
    let dashboard = use_dashboard();
    let count = {
        let lane = lane.clone();
        Memo::new(move |_| dashboard.shown_count_in_lane(column, Some(&lane)))
    };
    let cost = {
        let lane = lane.clone();
        Memo::new(move |_| {
            dashboard
                .board
                .with(|b| b.agent_cost(&lane))
                .filter(|c| *c > 0.0)
        })
    };
    let avatar = initials(&lane);
    let name = lane.clone();
    let data_lane = lane.clone();
    view! {
        <section class="lane" data-lane=data_lane>
            <header class="lane-header">
                <span class="avatar" aria-hidden="true">{avatar}</span>
                <h3>{name}</h3>
                {(column == Column::Assigned).then(|| view! { <LaneState agent=lane.clone()/> })}
                {move || cost.get().map(|c| view! { <span class="lane-cost" title="LLM cost of this agent, all time">{crate::format::usd(c)}</span> })}
                <span class="count">{count}</span>
            </header>
            <CardList column lane=Some(lane)/>
        </section>
    }
}

/// A lane's cards: the first [`LANE_WINDOW`] (or as many as the user asked for), and a button
/// for the next ones, fetched on demand.
#[component]
fn CardList(column: Column, lane: Option<String>) -> impl IntoView {
    let dashboard = use_dashboard();
    // A memo: a change on the board that leaves this lane's cards as they were (a session, a
    // cost, another lane) does not make the list compare its keys again.
    let cards = {
        let lane = lane.clone();
        Memo::new(move |_| dashboard.shown_cards(column, lane.as_deref()))
    };
    view! {
        <ul class="cards">
            <For each=move || cards.get() key=|card| card_key(card) let:card>
                <CardView card/>
            </For>
        </ul>
        <ShowMore column lane/>
    }
    .into_any()
}

/// Under a lane that holds more cards than it shows: "Show 50 more" (fetched on demand); in
/// Done, "Show all N" and, once open, "Show fewer".
#[component]
fn ShowMore(column: Column, lane: Option<String>) -> impl IntoView {
    let dashboard = use_dashboard();
    let key = lane_key(column, lane.as_deref());
    let counts = {
        let key = key.clone();
        Memo::new(move |_| {
            let count = dashboard.shown_count_in_lane(column, lane.as_deref());
            (count, dashboard.board.with(|b| b.shown_in(&key)))
        })
    };
    let set_shown = move |key: String, shown: Option<usize>| {
        dashboard.board.update(|b| match shown {
            Some(shown) => {
                b.shown.insert(key, shown);
            }
            None => {
                b.shown.remove(&key);
            }
        })
    };
    move || {
        let (count, shown) = counts.get();
        let hidden = count.saturating_sub(shown);
        // The button's class, its label, and how many cards the lane shows once it is pressed
        // (`None`: as many as by default).
        let (class, label, after) = match column {
            Column::Done if hidden > 0 => {
                ("show-more", format!("Show all {count}"), Some(usize::MAX))
            }
            Column::Done if count > default_window(&key) => (
                "show-fewer",
                format!("Show the newest {}", default_window(&key)),
                None,
            ),
            _ if hidden > 0 => (
                "show-more",
                format!("Show {} more", hidden.min(LANE_WINDOW)),
                Some(shown + LANE_WINDOW),
            ),
            _ => return None,
        };
        let key = key.clone();
        Some(view! {
            <button class=class on:click=move |_| set_shown(key.clone(), after)>
                {label}
                {(hidden > 0).then(|| view! { <span class="hidden-count">{format!(" ({hidden} hidden)")}</span> })}
            </button>
        })
    }
}

fn initials(name: &str) -> String {
    let letters = name
        .split(['-', '_', ' '])
        .filter_map(|part| part.chars().next())
        .take(2)
        .collect::<String>();
    uppercase(&letters)
}

/// A card's key in its list: its file and its last change (a changed card is drawn anew). Text,
/// as the lanes' keys are: one kind of key for the board's lists, so their diffing code is there
/// once in the WASM.
fn card_key(card: &Card) -> String {
    format!("{}#{}", card.task.path, card.rev)
}
