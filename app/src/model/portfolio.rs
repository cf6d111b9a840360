//! The portfolio: initiatives → specifications → features → tasks, with progress, and the
//! tasks linked to no known specification (`GET /api/portfolio`, the original's shape with
//! more fields).

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

use super::SpecificationProblem;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Portfolio {
    /// By title.
    pub initiatives: Vec<Initiative>,
    /// Tasks without a specification, or naming one that is not there.
    pub orphans: Vec<PortfolioTask>,
    /// Specification files that could not be read as such.
    pub problems: Vec<SpecificationProblem>,
    /// When it was built (RFC 3339).
    pub timestamp: String,
}

/// Specifications grouped by their `initiative`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Initiative {
    /// The name in lower case, spaces as `-`.
    pub id: String,
    pub title: String,
    /// The most advanced of its specifications' statuses.
    pub status: String,
    /// The highest of its specifications' priorities.
    pub priority: String,
    /// 0–100: its specifications' progress, each weighing as many tasks as it has (at least 1).
    pub progress: u8,
    pub spec_count: usize,
    pub task_count: usize,
    pub specifications: Vec<SpecificationProgress>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SpecificationProgress {
    pub id: Option<String>,
    pub title: String,
    pub initiative: String,
    pub status: Option<String>,
    /// As written, `MEDIUM` when it has none.
    pub priority: String,
    /// 0–100: `completion` when the specification sets one, else the mean of its tasks' weights
    /// (done 100, in progress 50, blocked 25, anything else 0); 0 without tasks.
    pub progress: u8,
    pub completion: Option<u8>,
    /// Relative to `specifications/` (the original's field).
    pub specification_path: String,
    /// Relative to the repository: what a task's `specification` names.
    pub path: String,
    pub task_count: usize,
    pub done_count: usize,
    pub features: Vec<FeatureProgress>,
    pub tasks: Vec<PortfolioTask>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct FeatureProgress {
    pub id: Option<String>,
    pub title: String,
    pub status: Option<String>,
    /// Tasks whose `feature` names it (by title or id).
    pub task_count: usize,
    pub progress: u8,
}

/// A task as the portfolio lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct PortfolioTask {
    pub id: String,
    pub title: String,
    pub agent: Option<String>,
    pub status: Option<String>,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `normal` or `LOW`.
    pub priority: Option<String>,
    pub feature: Option<String>,
    /// Relative to `work/collaboration`.
    pub path: String,
    /// What its `specification` says, for an orphan (none, or a path that is not there).
    pub specification: Option<String>,
}

/// How much a task counts towards progress (the original's weighted rule).
pub fn task_weight(status: Option<&str>) -> u32 {
    match status {
        Some("done") | Some("completed") => 100,
        Some("in_progress") => 50,
        Some("blocked") => 25,
        _ => 0,
    }
}

/// What the tasks of each initiative and specification cost (all time, through the invocations'
/// `task_id`): `GET /api/costs/initiatives`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct PortfolioCosts {
    /// In the portfolio's order; each one's specifications costliest first.
    pub initiatives: Vec<InitiativeCost>,
    /// Tasks in no specification (orphans, task ids no longer on the board).
    pub unlinked: CostShare,
    /// Every invocation that names a task (calls without a `task_id` are not in it).
    pub total: CostShare,
    pub generated_at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct InitiativeCost {
    pub id: String,
    pub title: String,
    #[serde(flatten)]
    pub cost: CostShare,
    pub specifications: Vec<SpecificationCost>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SpecificationCost {
    pub path: String,
    pub title: String,
    #[serde(flatten)]
    pub cost: CostShare,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct CostShare {
    pub cost_usd: f64,
    pub tokens: u64,
    pub invocations: u64,
}

impl CostShare {
    pub fn add(&mut self, other: CostShare) {
        self.cost_usd += other.cost_usd;
        self.tokens += other.tokens;
        self.invocations += other.invocations;
    }
}
