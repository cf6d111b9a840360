use leptos::prelude::*;

use super::card::CardView;
use super::use_dashboard;
use crate::model::{lane_key, Column, LANE_WINDOW};

/// The Kanban board: Inbox, Assigned (by agent), Done (by agent).
#[component]
pub fn Board() -> impl IntoView {
    let dashboard = use_dashboard();
    let reading = move || dashboard.board.with(|b| b.reading);
    view! {
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
        <section class="board" aria-label="Task board">
            <ColumnView column=Column::Inbox/>
            <ColumnView column=Column::Assigned/>
            <ColumnView column=Column::Done/>
        </section>
    }
}

#[component]
fn ColumnView(column: Column) -> impl IntoView {
    let dashboard = use_dashboard();
    let count = Memo::new(move |_| dashboard.board.with(|b| b.count(column)));
    let body = match column {
        Column::Inbox => view! { <CardList column lane=None/> }.into_any(),
        Column::Assigned | Column::Done => view! {
            <For
                each=move || dashboard.board.with(|b| b.lanes(column))
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
                    <p class="empty">{format!("No {} tasks", column.label().to_lowercase())}</p>
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
        move || {
            dashboard
                .board
                .with(|b| b.count_in_lane(column, Some(&lane)))
        }
    };
    let cost = {
        let lane = lane.clone();
        move || {
            dashboard
                .board
                .with(|b| b.agent_cost(&lane))
                .filter(|c| *c > 0.0)
        }
    };
    let avatar = initials(&lane);
    let name = lane.clone();
    let data_lane = lane.clone();
    view! {
        <section class="lane" data-lane=data_lane>
            <header class="lane-header">
                <span class="avatar" aria-hidden="true">{avatar}</span>
                <h3>{name}</h3>
                {move || cost().map(|c| view! { <span class="lane-cost" title="LLM cost of this agent, all time">{crate::charts::usd(c)}</span> })}
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
    let cards = {
        let lane = lane.clone();
        move || {
            dashboard
                .board
                .with(|b| b.cards_in(column, lane.as_deref()))
        }
    };
    view! {
        <ul class="cards">
            <For each=cards key=|card| (card.task.path.clone(), card.rev) let:card>
                <CardView card/>
            </For>
        </ul>
        <ShowMore column lane/>
    }
    .into_any()
}

/// "Show 50 more" under a lane that holds more cards than it shows.
#[component]
fn ShowMore(column: Column, lane: Option<String>) -> impl IntoView {
    let dashboard = use_dashboard();
    let key = lane_key(column, lane.as_deref());
    let hidden = {
        let key = key.clone();
        move || {
            dashboard.board.with(|b| {
                b.count_in_lane(column, lane.as_deref())
                    .saturating_sub(b.shown_in(&key))
            })
        }
    };
    let show_more = move |_| {
        dashboard.board.update(|b| {
            let shown = b.shown_in(&key) + LANE_WINDOW;
            b.shown.insert(key.clone(), shown);
        })
    };
    move || {
        let hidden = hidden();
        (hidden > 0).then(|| {
            let next = hidden.min(LANE_WINDOW);
            view! {
                <button class="show-more" on:click=show_more.clone()>
                    {format!("Show {next} more")}
                    <span class="hidden-count">{format!(" ({hidden} hidden)")}</span>
                </button>
            }
        })
    }
}

fn initials(name: &str) -> String {
    name.split(['-', '_', ' '])
        .filter_map(|part| part.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}
