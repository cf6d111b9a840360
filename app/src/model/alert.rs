//! Alerts that reach a person (`GET /api/alerts`, the Sessions page's log): a budget threshold
//! passed, a task blocked or finished, an agent waiting for input too long, a session stalled, an
//! MCP server down; each sent once to every webhook configured.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// One alert and what became of it at each destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Alert {
    /// What makes it this alert and no other (sent once: `waiting:<session>:<since>`, …).
    pub key: String,
    /// `budget`, `blocked`, `finished`, `waiting`, `stalled`, `mcp_down`, `test`.
    pub kind: String,
    pub title: String,
    pub text: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The page it is about, relative to the dashboard (`/tasks/T-42`, `/sessions?state=waiting`).
    #[serde(default)]
    pub link: Option<String>,
    pub deliveries: Vec<Delivery>,
}

/// An alert's delivery to one destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Delivery {
    /// Which destination (its place in the list of `AlertLog::destinations`).
    #[serde(default)]
    pub index: usize,
    /// The destination as shown (its format and host; never its URL, which may hold a secret).
    pub destination: String,
    /// `pending` (being tried), `sent`, `undelivered` (every attempt failed).
    pub status: String,
    pub attempts: u32,
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /api/alerts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct AlertLog {
    /// The rules are looked at (the board was read, and what was on it then taken as known).
    pub watching: bool,
    /// The destinations configured, as shown (a test button each).
    pub destinations: Vec<String>,
    /// The newest first.
    pub alerts: Vec<Alert>,
}
