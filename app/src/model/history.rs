//! The history page: tasks completed over time by agent, cycle times, work in progress
//! (`GET /api/history?range=…`), derived from the tasks' own dates.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// How far back the history goes: 30 days by day, 90 days or a year by week.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJson)]
pub enum HistoryRange {
    #[default]
    #[serde(rename = "30d")]
    Days30,
    #[serde(rename = "90d")]
    Days90,
    #[serde(rename = "1y")]
    Year,
}

impl HistoryRange {
    pub const ALL: [HistoryRange; 3] = [
        HistoryRange::Days30,
        HistoryRange::Days90,
        HistoryRange::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryRange::Days30 => "30d",
            HistoryRange::Days90 => "90d",
            HistoryRange::Year => "1y",
        }
    }

    pub fn parse(text: &str) -> Option<HistoryRange> {
        HistoryRange::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn days(self) -> i64 {
        match self {
            HistoryRange::Days30 => 30,
            HistoryRange::Days90 => 91,
            HistoryRange::Year => 364,
        }
    }

    /// Days per bar of the completions chart.
    pub fn bucket_days(self) -> i64 {
        match self {
            HistoryRange::Days30 => 1,
            _ => 7,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct History {
    pub range: HistoryRange,
    /// The first day (`YYYY-MM-DD`) of each bar of `completed`, oldest first.
    pub buckets: Vec<String>,
    /// The agents of `completed`, most completions first.
    pub agents: Vec<String>,
    /// `completed[bucket][agent]`: tasks completed (`completed_at`) in the bucket.
    pub completed: Vec<Vec<u32>>,
    /// Cycle time (created → completed) per agent, over the range, most tasks first.
    pub cycle: Vec<CycleTime>,
    /// Each day of the range (`YYYY-MM-DD`) and the tasks open at its end: created by then and
    /// not completed by then.
    pub wip: Vec<(String, u32)>,
    /// Done tasks without a readable `completed_at` (left out of the charts).
    pub undated: usize,
    pub generated_at: String,
}

/// Cycle times of one agent's tasks, in hours.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct CycleTime {
    pub agent: String,
    pub tasks: usize,
    pub p25_hours: f64,
    pub p50_hours: f64,
    pub p75_hours: f64,
    pub p90_hours: f64,
}
