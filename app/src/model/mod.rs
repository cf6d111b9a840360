//! Types shared by the server and the browser. The JSON on the wire is their serde form.

mod agent;
mod alert;
mod budget;
mod chart;
mod connect;
mod cost;
mod detail;
mod document;
mod edit;
mod event;
mod filter;
mod forecast;
mod history;
mod keyed;
pub mod lean;
mod mcp;
mod portfolio;
mod problem;
mod repos;
mod session;
mod snapshot;
mod specification;
mod task;
mod task_path;

pub use agent::{AgentList, AgentOverview, AgentPage, ModelShare, AGENT_TASKS};
pub use alert::{Alert, AlertLog, Delivery};
pub use budget::{BudgetAlert, BudgetPeriod, BudgetUse, Budgets};
pub use chart::Charts;
pub use connect::{ConnectInfo, PriceSource, SourceSeen};
pub use cost::{
    ActiveOperation, AgentCost, CostRange, CostSummary, CostTotals, CostUpdate, DailyCost,
    ModelCost, TaskCost, ToolCost, UnpricedModel,
};
pub use detail::{RenderedText, TaskDetails, TaskLink};
pub use document::Document;
pub use edit::{EditAnswer, Field, PriorityEdit, Refusal, SpecificationEdit};
pub use event::{ClientMessage, Envelope, ServerEvent};
pub use filter::{FilterError, TaskFilter, MAX_QUERY_BYTES};
pub use forecast::{BudgetOutlook, BurnDownDay, Forecast, ForecastBasis, PeriodForecast};
pub use history::{CycleTime, History, HistoryRange};
pub use keyed::Keyed;
pub use mcp::{
    CalledTool, ManagedState, McpCheck, McpHealth, McpOverview, McpServer, McpServerInfo,
    McpStatus, McpTool, McpTransport, MCP_HISTORY,
};
pub use portfolio::{
    task_weight, CostShare, FeatureProgress, Initiative, InitiativeCost, Portfolio, PortfolioCosts,
    PortfolioTask, SpecificationCost, SpecificationProgress,
};
pub use problem::Problem;
pub use repos::{RepoList, RepoStatus};
pub use session::{SessionDetail, SessionEvent, SessionState, SessionSummary, ENDED_SHOWN_MS};
pub use snapshot::{
    FilteredBoard, LanePage, ScanProgress, Snapshot, DONE_WINDOW, FILTERED_WINDOW, LANE_WINDOW,
};
pub use specification::{
    FeatureRef, SpecificationDocument, SpecificationList, SpecificationProblem, SpecificationRef,
};
#[cfg(feature = "ssr")]
pub use task::task_from_document;
pub use task::{
    lane_key, parse_lane_key, status_is_locked, Priority, Task, TaskSummary, LOCKED_STATUSES,
};
pub use task_path::{Column, TaskPath};
