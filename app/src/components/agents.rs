use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::initiatives::task_line;
use super::sessions::AgentSessions;
use super::{fetched, page_data, server_chart, use_dashboard, Follows};
use crate::api::PageData;
use crate::format::age_label;
use crate::model::{AgentList, AgentOverview, AgentPage, Charts, TaskSummary};
use crate::navigation::encode_segment;

/// `/agents`: one card per agent (its tasks, what it spent, when it was last active, its top
/// models), each leading to the agent's page. Rendered by the server; fetched again as the board
/// or the costs change.
#[component]
pub fn AgentsPage() -> impl IntoView {
    let agents = page_data::<AgentList>(Follows::BoardAndCosts, || "/api/agents".to_owned());
    view! {
        <main class="page agents" aria-labelledby="page-title">
            <div class="page-head">
                <h2 id="page-title">"Agents"</h2>
                <A href="/connect" attr:class="connect-link">"Connect your agents"</A>
            </div>
            {fetched(agents, "Reading the agents…", "The agents are unavailable: ", |list| view! {
                    <p class="visually-hidden" aria-live="polite">
                        {format!(
                            "{} agents, {} tasks in progress",
                            list.agents.len(),
                            list.agents.iter().map(|a| a.in_progress).sum::<usize>()
                        )}
                    </p>
                    {list.telemetry_error.map(|reason| view! {
                        <p class="detail-error">{format!("Costs unavailable: {reason}")}</p>
                    })}
                    {list.agents.is_empty().then(|| view! {
                        <p class="empty">"No agent yet: agents appear with their folders and calls."</p>
                    })}
                    <div class="agent-grid">
                        {list.agents.into_iter().map(|a| agent_card(a, true)).collect_view()}
                    </div>
                })}
        </main>
    }
    .into_any()
}

/// `/agents/{name}`: the agent's card, its cost over the last 30 days and its tasks.
#[component]
pub fn AgentDetailPage() -> impl IntoView {
    let dashboard = use_dashboard();
    let params = use_params_map();
    let name = Signal::derive(move || params.with(|p| p.get("name").unwrap_or_default()));
    let page = page_data::<AgentPage>(Follows::BoardAndCosts, move || {
        format!("/api/agents/{}", encode_segment(&name.get()))
    });
    let charts = page_data::<Charts>(Follows::Costs, move || {
        format!("/api/charts/agents/{}", encode_segment(&name.get()))
    });
    let base = dashboard.settings.with_value(|s| s.base.clone());
    view! {
        <main class="page agent-page" aria-labelledby="page-title">
            <p class="breadcrumb"><A href=format!("{base}/agents")>"← All agents"</A></p>
            <h2 id="page-title">{move || name.get()}</h2>
            <AgentSessions agent=name/>
            {fetched(page, "Reading the agent…", "", move |page| agent_page(page, charts))}
        </main>
    }
    .into_any()
}

fn agent_page(page: AgentPage, charts: PageData<Charts>) -> impl IntoView {
    let AgentPage {
        agent,
        tasks,
        telemetry_error,
        ..
    } = page;
    view! {
        {agent_card(agent, false)}
        {telemetry_error.map(|reason| view! { <p class="detail-error">{format!("Costs unavailable: {reason}")}</p> })}
        <figure class="chart-card wide" data-chart="agent-daily">
            <figcaption>"Daily cost by model, last 30 days"</figcaption>
            {server_chart(charts, "daily", "No calls in the last 30 days.")}
        </figure>
        <section class="agent-tasks" aria-labelledby="agent-tasks-title">
            <h3 id="agent-tasks-title">{format!("Tasks ({})", tasks.len())}</h3>
            <ul class="portfolio-tasks">{tasks.into_iter().map(task_item).collect_view()}</ul>
        </section>
    }
}

fn agent_card(agent: AgentOverview, linked: bool) -> impl IntoView {
    let dashboard = use_dashboard();
    let base = dashboard.settings.with_value(|s| s.base.clone());
    let href = format!("{base}/agents/{}", encode_segment(&agent.name));
    let money = |value: Option<f64>| {
        value
            .map(crate::format::usd)
            .unwrap_or_else(|| "–".to_owned())
    };
    let last = agent.last_activity_ms;
    let name = agent.name.clone();
    let title = if linked {
        view! { <h3><A href=href>{name}</A></h3> }.into_any()
    } else {
        ().into_any()
    };
    view! {
        <article class="agent-card" data-agent=agent.name.clone()>
            {title}
            <dl class="agent-counts">
                <div><dt>"Inbox"</dt><dd data-count="inbox">{agent.inbox}</dd></div>
                <div><dt>"Assigned"</dt><dd data-count="assigned">{agent.assigned}</dd></div>
                <div><dt>"Done"</dt><dd data-count="done">{agent.done}</dd></div>
                <div><dt>"In progress"</dt><dd data-count="in-progress">{agent.in_progress}</dd></div>
                <div><dt>"Blocked"</dt><dd data-count="blocked">{agent.blocked}</dd></div>
            </dl>
            <dl class="agent-costs">
                <div><dt>"Today"</dt><dd data-cost="today">{money(agent.cost_today)}</dd></div>
                <div><dt>"All time"</dt><dd data-cost="total">{money(agent.cost_total)}</dd></div>
                <div><dt>"Calls"</dt><dd data-cost="calls">{agent.invocations}</dd></div>
            </dl>
            <p class="last-activity">
                {move || match last {
                    Some(ms) => format!("Last active {}", age_label(ms, dashboard.now_ms.get())),
                    None => "No activity yet".to_owned(),
                }}
            </p>
            {(!agent.top_models.is_empty()).then(|| view! {
                <ul class="top-models" aria-label="Top models">
                    {agent
                        .top_models
                        .into_iter()
                        .map(|m| view! { <li><span>{m.model}</span> <span class="num">{crate::format::usd(m.cost_usd)}</span></li> })
                        .collect_view()}
                </ul>
            })}
        </article>
    }
}

fn task_item(task: TaskSummary) -> impl IntoView {
    let column = view! { <span class="task-agent">{task.column.label()}</span> };
    task_line(task.id, task.title, task.status, column)
}
