use serde::{Deserialize, Serialize};

use super::lean::FromJson;

use super::{
    Budgets, CostSummary, Keyed, McpHealth, Problem, SessionSummary, TaskFilter, TaskSummary,
};

/// How many cards of each lane a snapshot (and so the page) carries: the newest ones. The rest
/// of a lane is fetched when the user asks for it, so the page stays small at any board size.
pub const LANE_WINDOW: usize = 50;

/// How many cards a Done lane shows until the user asks for all: finished work is mostly
/// history, the newest few say what just happened.
pub const DONE_WINDOW: usize = 10;

/// The board at one sequence number: what a client starts from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Snapshot {
    /// The server process the sequence numbers belong to (they start again with every start): a
    /// client that reconnects names it with its `seq` (`/ws?since=<seq>&instance=<instance>`).
    #[serde(default)]
    pub instance: String,
    /// The sequence number of the last change included.
    pub seq: u64,
    /// The first [`LANE_WINDOW`] cards of every lane, in the board's order.
    pub tasks: Vec<TaskSummary>,
    /// How many cards every lane holds (`inbox`, `assigned/<agent>`, `done/<agent>`).
    #[serde(default)]
    pub lanes: Keyed<usize>,
    pub problems: Vec<Problem>,
    /// The cost summary (7 days), when telemetry is available.
    #[serde(default)]
    pub costs: Option<CostSummary>,
    #[serde(default)]
    pub budgets: Budgets,
    /// How many MCP servers are healthy (the header's compact status); `None`: none configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpHealth>,
    /// While the server reads the board for the first time: how far it got (the page says
    /// "reading N files" and fills when it is done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<ScanProgress>,
    /// The agent sessions going on (not ended): the cards' and lanes' states, the header's
    /// "agents need you".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<SessionSummary>,
}

/// How far the server's first reading of the board got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJson)]
pub struct ScanProgress {
    pub files_read: usize,
    pub files_total: usize,
}

/// A page of one lane's cards beyond the snapshot's window (`GET /api/board/lane`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct LanePage {
    /// The board's sequence number the page was read at.
    pub seq: u64,
    pub lane: String,
    /// How many cards the lane holds.
    pub count: usize,
    pub offset: usize,
    pub tasks: Vec<TaskSummary>,
}

/// The board as a filter sees it (`GET /api/board/filtered?q=…`): the matching cards of every
/// lane (at most [`FILTERED_WINDOW`] each, in the board's order) and how many match per lane.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct FilteredBoard {
    pub filter: TaskFilter,
    /// The board's sequence number it was read at.
    pub seq: u64,
    pub tasks: Vec<TaskSummary>,
    /// Matching cards per lane (lanes without a match left out).
    pub lanes: Keyed<usize>,
}

/// How many matching cards of a lane a [`FilteredBoard`] carries.
pub const FILTERED_WINDOW: usize = 500;
