//! Cost and usage aggregates of the telemetry database, as sent to the browser (`GET /api/costs`
//! and the `cost.update` event). Plain data: the server computes them (`execdash::telemetry`).
//!
//! Dates are `YYYY-MM-DD` (UTC) and instants are RFC 3339 strings, so that these types need no
//! date library on the browser side.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// The window the range-dependent aggregates cover. On the wire: `"24h"`, `"7d"`, `"30d"`, `"90d"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, FromJson)]
pub enum CostRange {
    /// The last 24 hours (a rolling window, to the second).
    #[serde(rename = "24h")]
    Day1,
    /// Today and the 6 UTC days before it.
    #[default]
    #[serde(rename = "7d")]
    Days7,
    /// Today and the 29 UTC days before it.
    #[serde(rename = "30d")]
    Days30,
    /// Today and the 89 UTC days before it.
    #[serde(rename = "90d")]
    Days90,
}

impl CostRange {
    pub const ALL: [CostRange; 4] = [
        CostRange::Day1,
        CostRange::Days7,
        CostRange::Days30,
        CostRange::Days90,
    ];

    /// The wire name (`"24h"`, `"7d"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CostRange::Day1 => "24h",
            CostRange::Days7 => "7d",
            CostRange::Days30 => "30d",
            CostRange::Days90 => "90d",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(text: &str) -> Option<CostRange> {
        CostRange::ALL
            .into_iter()
            .find(|range| range.as_str() == text.trim())
    }

    /// How many UTC calendar days the range covers (`Day1` is a rolling window: 1).
    pub fn days(self) -> u32 {
        match self {
            CostRange::Day1 => 1,
            CostRange::Days7 => 7,
            CostRange::Days30 => 30,
            CostRange::Days90 => 90,
        }
    }
}

impl std::fmt::Display for CostRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CostRange {
    type Err = String;

    fn from_str(text: &str) -> Result<CostRange, String> {
        CostRange::parse(text)
            .ok_or_else(|| format!("unknown range '{text}' (expected 24h, 7d, 30d or 90d)"))
    }
}

/// Everything the cost page shows, for one range.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct CostSummary {
    pub range: CostRange,
    /// Not range-dependent: today, this month, all time.
    pub totals: CostTotals,
    /// Over the range, most expensive first.
    pub by_model: Vec<ModelCost>,
    /// Over the range, most expensive first.
    pub by_agent: Vec<AgentCost>,
    /// Over the range, most expensive first.
    pub by_tool: Vec<ToolCost>,
    /// Over the range: one entry per (date, model), by date then model (a stacked chart).
    pub daily: Vec<DailyCost>,
    /// Invocations of the last 5 minutes, newest first, at most 10.
    pub active: Vec<ActiveOperation>,
    /// All time, per task id (for the board), most expensive first, at most 1000.
    pub per_task: Vec<TaskCost>,
    /// All time, per agent (for the board), most expensive first.
    pub per_agent: Vec<AgentCost>,
    /// Over the range: the calls of models without a price (a coding agent that reports no cost
    /// and a model the price table lacks), by model, most calls first. Their cost is unknown:
    /// not counted in any total, and never shown as $0.
    #[serde(default)]
    pub unpriced: Vec<UnpricedModel>,
    /// Share of the range's invocations whose status is not `success` (0.0 when there are none).
    pub error_rate: f64,
    /// When the summary was computed (RFC 3339, UTC).
    pub generated_at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct UnpricedModel {
    pub model: String,
    pub invocations: u64,
    pub tokens: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct CostTotals {
    /// Cost of the current UTC day.
    pub today: f64,
    /// Cost of the current UTC calendar month.
    pub month: f64,
    /// Cost of all invocations ever recorded.
    pub total: f64,
    /// Number of invocations ever recorded.
    pub invocations: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct ModelCost {
    pub model: String,
    pub invocations: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    /// Median latency over (at most) the model's most recent 1000 invocations of the range.
    pub latency_p50_ms: Option<u64>,
    /// 95th percentile, same sample as `latency_p50_ms`.
    pub latency_p95_ms: Option<u64>,
    pub error_rate: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct AgentCost {
    /// `None`: invocations logged without an agent name.
    pub agent: Option<String>,
    pub invocations: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    /// The current UTC day's and month's, in `per_agent` (what an agent's budgets bound); 0 in
    /// `by_agent` (a range's breakdown).
    #[serde(default)]
    pub today_usd: f64,
    #[serde(default)]
    pub month_usd: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct ToolCost {
    pub tool: String,
    pub invocations: u64,
    pub tokens: u64,
    pub cost_usd: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct DailyCost {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub model: String,
    pub cost_usd: f64,
    pub tokens: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct ActiveOperation {
    pub invocation_id: String,
    /// As stored (the original writer's ISO format, or `YYYY-MM-DD HH:MM:SS`).
    pub timestamp: String,
    pub agent: Option<String>,
    pub tool: String,
    pub model: String,
    pub total_tokens: u64,
    pub cost_usd: f64,
    pub latency_ms: u64,
    pub status: String,
    pub task_id: Option<String>,
    /// The cost the agent reported itself (Claude Code does), when it did.
    #[serde(default)]
    pub reported_cost_usd: Option<f64>,
    /// The price table's cost of its tokens, when its model has a price.
    #[serde(default)]
    pub computed_cost_usd: Option<f64>,
    /// `sent` or `inferred`: how its agent and task were known.
    #[serde(default)]
    pub attribution: Option<String>,
    /// What reported it (`claude-code`, a GenAI instrumentation…); `None` for calls posted or
    /// written with their cost.
    #[serde(default)]
    pub source: Option<String>,
}

impl ActiveOperation {
    /// A call of an agent's whose cost neither the agent nor the price table gave: its
    /// `cost_usd` of 0 means unknown.
    pub fn unpriced(&self) -> bool {
        self.source.is_some()
            && self.reported_cost_usd.is_none()
            && self.computed_cost_usd.is_none()
    }

    /// What its cost column says: the cost, which one it is when both are known, or unpriced.
    pub fn cost_label(&self) -> String {
        match (self.reported_cost_usd, self.computed_cost_usd) {
            _ if self.unpriced() => "unpriced".to_owned(),
            (Some(reported), Some(computed)) if (reported - computed).abs() >= 0.000_005 => {
                format!(
                    "{} reported (used) · {} by the price table",
                    crate::format::usd(reported),
                    crate::format::usd(computed)
                )
            }
            _ => crate::format::usd(self.cost_usd),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct TaskCost {
    pub task_id: String,
    pub cost_usd: f64,
    pub tokens: u64,
    pub invocations: u64,
}

/// Payload of the `cost.update` event: sent when the telemetry database changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct CostUpdate {
    pub summary: CostSummary,
}
