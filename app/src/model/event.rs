//! The messages of the `/ws` socket, one serde-tagged enum each way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    Alert, BudgetAlert, CostUpdate, McpHealth, McpStatus, Problem, SessionSummary, Snapshot,
    TaskSummary,
};

/// A server message: the event and the sequence number it carries. Change events carry their
/// own, strictly increasing by one; `connection_ack`, `snapshot` and `pong` carry the sequence
/// number of the last change they include, so a client can tell when it missed something.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    #[serde(flatten)]
    pub event: ServerEvent,
    /// For a task change: how many cards the lanes it touched hold now (a client holds only the
    /// first cards of a lane, so it cannot count them itself).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lanes: BTreeMap<String, usize>,
}

impl Envelope {
    /// An envelope without lane counts.
    pub fn new(seq: u64, event: ServerEvent) -> Envelope {
        Envelope {
            seq,
            event,
            lanes: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    /// First message on every connection: the board (the first cards of every lane), left out
    /// when the client connected with `?since=<seq>&instance=<instance>` naming the board as it
    /// is now (a page that just loaded: it holds that board already).
    #[serde(rename = "connection_ack")]
    ConnectionAck {
        version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot: Option<Snapshot>,
    },
    /// The board again: the answer to `resync`, and what a lagging client gets.
    #[serde(rename = "snapshot")]
    Snapshot { snapshot: Snapshot },
    #[serde(rename = "pong")]
    Pong { timestamp: String },
    /// A client message the server could not use (malformed, unknown type); the socket stays
    /// open. `seq` is the last one sent, as with `pong`.
    #[serde(rename = "error")]
    Error { message: String },
    #[serde(rename = "task.created")]
    TaskCreated { task: TaskSummary },
    #[serde(rename = "task.updated")]
    TaskUpdated { task: TaskSummary },
    /// Inbox → assigned.
    #[serde(rename = "task.assigned")]
    TaskAssigned { from: String, task: TaskSummary },
    /// Anything → done.
    #[serde(rename = "task.completed")]
    TaskCompleted { from: String, task: TaskSummary },
    /// Any other move or rename on the board.
    #[serde(rename = "task.moved")]
    TaskMoved { from: String, task: TaskSummary },
    /// The file is gone from the board (deleted, or moved out of it to `moved_to`).
    #[serde(rename = "task.deleted")]
    TaskDeleted {
        path: String,
        moved_to: Option<String>,
    },
    /// The file cannot be read; the last good version of its task, if any, stays on the board.
    #[serde(rename = "task.invalid")]
    TaskInvalid { problem: Problem },
    /// The costs changed (invocations ingested, or written by another process).
    #[serde(rename = "cost.update")]
    CostUpdate(CostUpdate),
    /// A daily or monthly budget reached 100 %.
    #[serde(rename = "budget.alert")]
    BudgetAlert(BudgetAlert),
    /// Specification files changed (created, edited, removed; paths relative to the
    /// repository): the portfolio is to be read again.
    #[serde(rename = "portfolio.updated")]
    PortfolioUpdated { paths: Vec<String> },
    /// An MCP server's health changed (or it was checked, configured, started or stopped): the
    /// MCP page reads `/api/mcp/servers` again; the header shows `healthy` of `checked`.
    #[serde(rename = "mcp.server.status")]
    McpServerStatus {
        name: String,
        status: McpStatus,
        error: Option<String>,
        health: McpHealth,
    },
    /// The tools a server offers changed since its last check.
    #[serde(rename = "mcp.tools.changed")]
    McpToolsChanged {
        name: String,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// An agent session started, changed state, or spent: its summary now (an ended one is
    /// sent once more, then leaves the board's list).
    #[serde(rename = "session.updated")]
    SessionUpdated { session: SessionSummary },
    /// An alert was raised, or its delivery changed (the page's log reads `/api/alerts` again;
    /// a tab in the background may show it as a notification).
    #[serde(rename = "alert")]
    Alert { alert: Alert },
}

impl ServerEvent {
    /// The task paths a change touched (where a card left and where it is now): their lanes'
    /// counts go with it in the envelope.
    pub fn task_paths(&self) -> Vec<&str> {
        match self {
            ServerEvent::TaskCreated { task } | ServerEvent::TaskUpdated { task } => {
                vec![&task.path]
            }
            ServerEvent::TaskAssigned { from, task }
            | ServerEvent::TaskCompleted { from, task }
            | ServerEvent::TaskMoved { from, task } => vec![from, &task.path],
            ServerEvent::TaskDeleted { path, .. } => vec![path],
            _ => Vec::new(),
        }
    }

    /// The event's wire name (`task.created`, …).
    pub fn name(&self) -> &'static str {
        match self {
            ServerEvent::ConnectionAck { .. } => "connection_ack",
            ServerEvent::Snapshot { .. } => "snapshot",
            ServerEvent::Pong { .. } => "pong",
            ServerEvent::Error { .. } => "error",
            ServerEvent::TaskCreated { .. } => "task.created",
            ServerEvent::TaskUpdated { .. } => "task.updated",
            ServerEvent::TaskAssigned { .. } => "task.assigned",
            ServerEvent::TaskCompleted { .. } => "task.completed",
            ServerEvent::TaskMoved { .. } => "task.moved",
            ServerEvent::TaskDeleted { .. } => "task.deleted",
            ServerEvent::TaskInvalid { .. } => "task.invalid",
            ServerEvent::CostUpdate(_) => "cost.update",
            ServerEvent::BudgetAlert(_) => "budget.alert",
            ServerEvent::PortfolioUpdated { .. } => "portfolio.updated",
            ServerEvent::McpServerStatus { .. } => "mcp.server.status",
            ServerEvent::McpToolsChanged { .. } => "mcp.tools.changed",
            ServerEvent::SessionUpdated { .. } => "session.updated",
            ServerEvent::Alert { .. } => "alert",
        }
    }
}

/// A client message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientMessage {
    #[serde(rename = "ping")]
    Ping,
    /// Ask for a fresh `snapshot` (after a gap in `seq`).
    #[serde(rename = "resync")]
    Resync,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_flat_and_tagged() {
        let envelope = Envelope::new(
            7,
            ServerEvent::TaskDeleted {
                path: "inbox/a.yaml".into(),
                moved_to: None,
            },
        );
        let json = serde_json::to_string(&envelope).unwrap();
        assert_eq!(
            json,
            r#"{"seq":7,"type":"task.deleted","path":"inbox/a.yaml","moved_to":null}"#
        );
        let back: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back, envelope);
        let ping: ClientMessage = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(ping, ClientMessage::Ping);
    }
}
