//! The repositories of a team (`GET /api/repos`): what each node last published of its board, and
//! whether its node still sends heartbeats. The header's repository switcher reads it.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// One repository as `GET /api/repos` lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct RepoStatus {
    pub name: String,
    /// The node that publishes it.
    pub node: String,
    pub seq: i64,
    pub inbox: i64,
    pub assigned: i64,
    pub done: i64,
    pub problems: i64,
    /// RFC 3339.
    pub heartbeat_at: String,
    pub started_at: String,
    /// What the invocations tagged with this repository cost today (UTC) and in all (USD).
    pub cost_today: f64,
    pub cost_total: f64,
    /// No heartbeat for longer than the stale time: its node is gone (or cut off).
    pub stale: bool,
}

/// `GET /api/repos`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct RepoList {
    /// This node's repository (`None` on a viewer, which has none).
    pub local: Option<String>,
    pub repos: Vec<RepoStatus>,
}
