//! The agents pages: what each agent has on the board and what it spent (`GET /api/agents`,
//! `GET /api/agents/{name}`).

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

use super::{DailyCost, TaskSummary};

/// One agent: the tasks it owns (its folder, or its `agent` field in the inbox) and its calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct AgentOverview {
    pub name: String,
    pub inbox: usize,
    pub assigned: usize,
    pub done: usize,
    pub in_progress: usize,
    pub blocked: usize,
    /// `None` when the telemetry database is unavailable.
    pub cost_today: Option<f64>,
    pub cost_total: Option<f64>,
    pub invocations: u64,
    /// Unix milliseconds of its latest task activity or call day.
    pub last_activity_ms: Option<i64>,
    /// Its costliest models, all time, at most 3.
    pub top_models: Vec<ModelShare>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct ModelShare {
    pub model: String,
    pub cost_usd: f64,
}

/// `GET /api/agents`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct AgentList {
    /// By name.
    pub agents: Vec<AgentOverview>,
    /// Why costs are missing, when they are.
    pub telemetry_error: Option<String>,
    pub generated_at: String,
}

/// `GET /api/agents/{name}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct AgentPage {
    pub agent: AgentOverview,
    /// Every task it owns, newest activity first (at most [`AGENT_TASKS`]).
    pub tasks: Vec<TaskSummary>,
    /// Its daily cost by model over the last 30 days.
    pub daily: Vec<DailyCost>,
    pub telemetry_error: Option<String>,
    pub generated_at: String,
}

/// Tasks an agent's page lists at most.
pub const AGENT_TASKS: usize = 500;
