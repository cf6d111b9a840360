use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{fetched, page_data, server_chart, use_dashboard, Follows};
use crate::api::PageData;
use crate::charts;
use crate::model::{Charts, History, HistoryRange};

/// `/history?range=30d|90d|1y`: tasks completed per day or week by agent, cycle time per agent,
/// and work in progress over time, drawn on the server and redrawn as the board changes.
#[component]
pub fn HistoryPage() -> impl IntoView {
    let dashboard = use_dashboard();
    let query = use_query_map();
    let range = Signal::derive(move || {
        query.with(|q| {
            q.get("range")
                .and_then(|r| HistoryRange::parse(&r))
                .unwrap_or_default()
        })
    });
    let history = page_data::<History>(Follows::Board, move || {
        format!("/api/history?range={}", range.get().as_str())
    });
    let charts = page_data::<Charts>(Follows::Board, move || {
        format!("/api/charts/history?range={}", range.get().as_str())
    });
    let base = dashboard.settings.with_value(|s| s.base.clone());
    let range_link = move |choice: HistoryRange| {
        let label = match choice {
            HistoryRange::Days30 => "30 days",
            HistoryRange::Days90 => "90 days",
            HistoryRange::Year => "1 year",
        };
        view! {
            <a
                class=move || if range.get() == choice { "range active" } else { "range" }
                aria-current=move || (range.get() == choice).then_some("true")
                data-range=choice.as_str()
                href=format!("{base}/history?range={}", choice.as_str())
            >
                {label}
            </a>
        }
    };
    view! {
        <main class="page history" aria-labelledby="page-title">
            <div class="page-head">
                <h2 id="page-title">"History"</h2>
                <nav class="ranges" aria-label="Range">
                    {HistoryRange::ALL.into_iter().map(range_link).collect_view()}
                </nav>
            </div>
            {fetched(history, "Reading the history…", "", move |history| history_view(history, charts))}
        </main>
    }
    .into_any()
}

fn history_view(history: History, charts: PageData<Charts>) -> impl IntoView {
    let total: u32 = history.completed.iter().flatten().sum();
    let per = if history.range.bucket_days() == 1 {
        "day"
    } else {
        "week"
    };
    let figure = move |id: &'static str, title: String, empty: &'static str| {
        view! {
            <figure class="chart-card wide" data-chart=id>
                <figcaption>{title}</figcaption>
                {server_chart(charts, id, empty)}
            </figure>
        }
    };
    view! {
        <p class="visually-hidden" aria-live="polite">
            {format!("{total} tasks completed in the last {}", history.range.as_str())}
        </p>
        <div class="history-charts">
            {figure(
                "completed",
                format!("Tasks completed per {per}, by agent ({total} in all)"),
                "No task was completed in this range.",
            )}
            <ul class="legend">
                {history
                    .agents
                    .iter()
                    .enumerate()
                    .map(|(i, agent)| view! {
                        <li><span class="swatch" style=format!("background:{}", charts::css_color(i))></span>{agent.clone()}</li>
                    })
                    .collect_view()}
            </ul>
            {figure("cycle", "Cycle time per agent, created → completed".to_owned(), "No completed task has both dates.")}
            {(!history.cycle.is_empty()).then(|| view! {
                <table class="cost-table cycle-table">
                    <thead><tr><th scope="col">"Agent"</th><th scope="col" class="num">"Tasks"</th><th scope="col" class="num">"25 %"</th><th scope="col" class="num">"Median"</th><th scope="col" class="num">"75 %"</th><th scope="col" class="num">"90 %"</th></tr></thead>
                    <tbody>
                        {history
                            .cycle
                            .iter()
                            .map(|c| view! {
                                <tr data-agent=c.agent.clone()>
                                    <th scope="row">{c.agent.clone()}</th>
                                    <td class="num">{c.tasks}</td>
                                    <td class="num">{crate::format::hours(c.p25_hours)}</td>
                                    <td class="num">{crate::format::hours(c.p50_hours)}</td>
                                    <td class="num">{crate::format::hours(c.p75_hours)}</td>
                                    <td class="num">{crate::format::hours(c.p90_hours)}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            })}
            {figure("wip", "Open tasks at the end of each day".to_owned(), "No task has a creation date.")}
            {(history.undated > 0).then(|| view! {
                <p class="hint">{format!(
                    "{} done task{} without a readable completed_at {} left out.",
                    history.undated,
                    if history.undated == 1 { "" } else { "s" },
                    if history.undated == 1 { "is" } else { "are" },
                )}</p>
            })}
        </div>
    }
}
