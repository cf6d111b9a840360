//! `GET /api/agents` and `GET /api/agents/{name}`: what each agent has on the board (the tasks
//! it owns: its folder, or its `agent` field) and what it spent (the rollup, per model). The
//! costs are `null`, with the reason, when the telemetry database is unavailable; the board part
//! is always there.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};

use super::state::TaskFiles;
use super::{now_iso, AppState, Error};
use crate::board::SharedStore;
use crate::documents::AgentProfiles;
use crate::telemetry::{AgentUsage, Telemetry};
use app::model::{AgentList, AgentOverview, AgentPage, Column, ModelShare, Task, AGENT_TASKS};

/// Days of an agent's cost chart.
const CHART_DAYS: i64 = 30;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/agents", get(list))
        .route("/api/agents/portfolio", get(profiles))
        .route("/api/agents/{name}", get(one))
}

/// The original's agent portfolio (profile files; see [`crate::documents::agent_profiles`]).
async fn profiles(State(files): State<Arc<TaskFiles>>) -> Result<Json<AgentProfiles>, Error> {
    files.here()?;
    let repo = files.repo.clone();
    tokio::task::spawn_blocking(move || crate::documents::load_agent_profiles(&repo, now_iso()))
        .await
        .map(Json)
        .map_err(|_| Error::Internal("Failed to load agent portfolio".into()))
}

async fn list(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
) -> Json<AgentList> {
    Json(build_list(&board, &telemetry).await)
}

async fn one(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
    Path(name): Path<String>,
) -> Result<Json<AgentPage>, Error> {
    build_page(&board, &telemetry, &name).await.map(Json)
}

/// Every agent, by name.
pub(super) async fn build_list(board: &SharedStore, telemetry: &Telemetry) -> AgentList {
    let (usage, telemetry_error) = usage(telemetry).await;
    let agents = board.with_tasks(|tasks, _, _| overviews(tasks.values(), usage.as_deref()));
    AgentList {
        agents: agents.into_values().collect(),
        telemetry_error,
        generated_at: now_iso(),
    }
}

/// One agent's page; `404` for a name with neither tasks nor calls.
pub(super) async fn build_page(
    board: &SharedStore,
    telemetry: &Telemetry,
    name: &str,
) -> Result<AgentPage, Error> {
    let (usage, mut telemetry_error) = usage(telemetry).await;
    let (agent, tasks) = board.with_tasks(|tasks, _, _| {
        let mine: Vec<&Task> = tasks.values().filter(|t| t.owner() == Some(name)).collect();
        let agent = overviews(mine.iter().copied(), usage.as_deref()).remove(name);
        let mut summaries: Vec<_> = mine.into_iter().map(|t| t.summary.clone()).collect();
        summaries.sort_by(|a, b| a.board_order(b));
        summaries.truncate(AGENT_TASKS);
        (agent, summaries)
    });
    // Calls without tasks on the board still make an agent.
    let agent = agent
        .or_else(|| {
            let usage = usage.as_deref()?;
            overviews(std::iter::empty(), Some(usage)).remove(name)
        })
        .ok_or_else(|| Error::NotFound(format!("No agent named {name}")))?;
    let daily = match telemetry.agent_daily(name, CHART_DAYS, Utc::now()).await {
        Ok(daily) => daily,
        Err(error) => {
            telemetry_error.get_or_insert_with(|| error.to_string());
            Vec::new()
        }
    };
    Ok(AgentPage {
        agent,
        tasks,
        daily,
        telemetry_error,
        generated_at: now_iso(),
    })
}

async fn usage(telemetry: &Telemetry) -> (Option<Vec<AgentUsage>>, Option<String>) {
    match telemetry.agent_usage(Utc::now()).await {
        Ok(usage) => (Some(usage), None),
        Err(error) => (None, Some(error.to_string())),
    }
}

/// The agents of `tasks` and `usage` (calls without an agent left out), by name.
fn overviews<'a>(
    tasks: impl Iterator<Item = &'a Task>,
    usage: Option<&[AgentUsage]>,
) -> BTreeMap<String, AgentOverview> {
    let mut agents: BTreeMap<String, AgentOverview> = BTreeMap::new();
    let costs_known = usage.is_some();
    for task in tasks {
        let Some(owner) = task.owner() else { continue };
        let agent = agent_mut(&mut agents, owner, costs_known);
        match task.column {
            Column::Inbox => agent.inbox += 1,
            Column::Assigned => agent.assigned += 1,
            Column::Done => agent.done += 1,
        }
        agent.in_progress += usize::from(task.status.as_deref() == Some("in_progress"));
        agent.blocked += usize::from(task.is_blocked());
        agent.last_activity_ms = agent.last_activity_ms.max(task.activity_ms);
    }
    for row in usage.unwrap_or_default() {
        if row.agent.is_empty() {
            continue;
        }
        let agent = agent_mut(&mut agents, &row.agent, costs_known);
        *agent.cost_today.get_or_insert(0.0) += row.today;
        *agent.cost_total.get_or_insert(0.0) += row.total;
        agent.invocations += u64::try_from(row.invocations).unwrap_or(0);
        // Today's latest call to the millisecond; an earlier day's calls only by their day.
        let called = row.last_call_today_ms.or_else(|| {
            NaiveDate::parse_from_str(&row.last_day, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
        });
        agent.last_activity_ms = agent.last_activity_ms.max(called);
        agent.top_models.push(ModelShare {
            model: row.model.clone(),
            cost_usd: row.total,
        });
    }
    for agent in agents.values_mut() {
        agent
            .top_models
            .sort_by(|a, b| b.cost_usd.total_cmp(&a.cost_usd));
        agent.top_models.truncate(3);
    }
    agents
}

fn agent_mut<'a>(
    agents: &'a mut BTreeMap<String, AgentOverview>,
    name: &str,
    costs_known: bool,
) -> &'a mut AgentOverview {
    agents
        .entry(name.to_owned())
        .or_insert_with(|| AgentOverview {
            name: name.to_owned(),
            cost_today: costs_known.then_some(0.0),
            cost_total: costs_known.then_some(0.0),
            ..AgentOverview::default()
        })
}
