//! The messages of the `/ws` socket, one serde-tagged enum each way.

use serde::{Deserialize, Serialize};

use super::lean::{self, FromJson, JsonValue, ReadError};
use super::{
    Alert, BudgetAlert, CostUpdate, Keyed, McpHealth, McpStatus, Problem, SessionSummary, Snapshot,
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
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub lanes: Keyed<usize>,
}

impl Envelope {
    /// An envelope without lane counts.
    pub fn new(seq: u64, event: ServerEvent) -> Envelope {
        Envelope {
            seq,
            event,
            lanes: Keyed::default(),
        }
    }
}

impl Envelope {
    /// Reads a server message in two steps, with the browser's lean reader ([`super::lean`]): its
    /// `seq`, `type` and `lanes` first, then the event's own fields by that type, from the same
    /// parsed value. The result is what the derived `Deserialize` gives (a test compares them on
    /// every event).
    pub fn from_json(text: &str) -> Result<Envelope, ReadError> {
        Envelope::from_value(&lean::parse(text)?)
    }

    fn from_value<J: JsonValue>(value: &J) -> Result<Envelope, ReadError> {
        #[derive(FromJson)]
        struct Head {
            seq: u64,
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            lanes: Keyed<usize>,
        }
        let Head { seq, kind, lanes } = Head::from_json(value)?;
        Ok(Envelope {
            seq,
            event: ServerEvent::from_value(&kind, value)?,
            lanes,
        })
    }
}

/// The event `$variant` from the fields of a message (any others, `seq` and `type` included,
/// are ignored).
macro_rules! fields {
    ($value:expr, $variant:ident { $($field:ident: $ty:ty),* $(,)? }) => {{
        #[derive(FromJson)]
        struct Fields {
            $($field: $ty),*
        }
        let Fields { $($field),* } = Fields::from_json($value)?;
        ServerEvent::$variant { $($field),* }
    }};
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

    /// The event of type `kind` (its wire name) from the fields of a message's text; see
    /// [`Envelope::from_json`].
    fn from_value<J: JsonValue>(kind: &str, text: &J) -> Result<ServerEvent, ReadError> {
        Ok(match kind {
            "connection_ack" => {
                fields!(text, ConnectionAck { version: String, snapshot: Option<Snapshot> })
            }
            "snapshot" => fields!(text, Snapshot { snapshot: Snapshot }),
            "pong" => fields!(text, Pong { timestamp: String }),
            "error" => fields!(text, Error { message: String }),
            "task.created" => fields!(text, TaskCreated { task: TaskSummary }),
            "task.updated" => fields!(text, TaskUpdated { task: TaskSummary }),
            "task.assigned" => fields!(
                text,
                TaskAssigned {
                    from: String,
                    task: TaskSummary
                }
            ),
            "task.completed" => fields!(
                text,
                TaskCompleted {
                    from: String,
                    task: TaskSummary
                }
            ),
            "task.moved" => fields!(
                text,
                TaskMoved {
                    from: String,
                    task: TaskSummary
                }
            ),
            "task.deleted" => fields!(text, TaskDeleted { path: String, moved_to: Option<String> }),
            "task.invalid" => fields!(text, TaskInvalid { problem: Problem }),
            "cost.update" => ServerEvent::CostUpdate(CostUpdate::from_json(text)?),
            "budget.alert" => ServerEvent::BudgetAlert(BudgetAlert::from_json(text)?),
            "portfolio.updated" => fields!(text, PortfolioUpdated { paths: Vec<String> }),
            "mcp.server.status" => fields!(
                text,
                McpServerStatus { name: String, status: McpStatus, error: Option<String>, health: McpHealth }
            ),
            "mcp.tools.changed" => fields!(
                text,
                McpToolsChanged { name: String, added: Vec<String>, removed: Vec<String> }
            ),
            "session.updated" => fields!(
                text,
                SessionUpdated {
                    session: SessionSummary
                }
            ),
            "alert" => fields!(text, Alert { alert: Alert }),
            other => return Err(ReadError::new(format!("unknown event type `{other}`"))),
        })
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

    /// One event of every type, with every optional field set, so that a field the two-step
    /// reader missed would come back as `None` and differ.
    fn one_of_each() -> Vec<ServerEvent> {
        let task: TaskSummary = serde_json::from_value(serde_json::json!({
            "path": "assigned/ada/t1.yaml", "column": "assigned", "lane": "ada", "id": "t1",
            "title": "Write the parser", "agent": "ada", "status": "in_progress",
            "priority": "high", "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-02T10:00:00Z", "started_at": "2026-12-01T11:00:00Z",
            "completed_at": null, "tags": ["parser"], "specification": "specifications/p.md",
            "estimated_hours": 2.5, "budget_usd": 4.0, "blocked_reason": null, "state": null,
            "activity_ms": 1_764_669_600_000_i64, "repo": "main"
        }))
        .unwrap();
        let problem = Problem {
            path: "inbox/bad.yaml".into(),
            line: Some(3),
            column: Some(7),
            reason: "mapping values are not allowed here".into(),
        };
        let snapshot = Snapshot {
            tasks: vec![task.clone()],
            problems: vec![problem.clone()],
            ..Snapshot::default()
        };
        let session = SessionSummary {
            id: "s-1".into(),
            agent: Some("ada".into()),
            cost_usd: 0.25,
            ..SessionSummary::default()
        };
        let events = vec![
            ServerEvent::ConnectionAck {
                version: "1.0.0".into(),
                snapshot: Some(snapshot.clone()),
            },
            ServerEvent::ConnectionAck {
                version: "1.0.0".into(),
                snapshot: None,
            },
            ServerEvent::Snapshot { snapshot },
            ServerEvent::Pong {
                timestamp: "2026-12-06T05:00:00Z".into(),
            },
            ServerEvent::Error {
                message: "unknown message type".into(),
            },
            ServerEvent::TaskCreated { task: task.clone() },
            ServerEvent::TaskUpdated { task: task.clone() },
            ServerEvent::TaskAssigned {
                from: "inbox/t1.yaml".into(),
                task: task.clone(),
            },
            ServerEvent::TaskCompleted {
                from: "assigned/ada/t1.yaml".into(),
                task: task.clone(),
            },
            ServerEvent::TaskMoved {
                from: "assigned/bob/t1.yaml".into(),
                task,
            },
            ServerEvent::TaskDeleted {
                path: "inbox/t2.yaml".into(),
                moved_to: Some("archive/t2.yaml".into()),
            },
            ServerEvent::TaskInvalid { problem },
            ServerEvent::CostUpdate(CostUpdate::default()),
            ServerEvent::BudgetAlert(BudgetAlert {
                period: crate::model::BudgetPeriod::Daily,
                limit_usd: 10.0,
                spent_usd: 10.5,
            }),
            ServerEvent::PortfolioUpdated {
                paths: vec!["specifications/p.md".into()],
            },
            ServerEvent::McpServerStatus {
                name: "files".into(),
                status: McpStatus::default(),
                error: Some("exited with status 1".into()),
                health: McpHealth::default(),
            },
            ServerEvent::McpToolsChanged {
                name: "files".into(),
                added: vec!["read".into()],
                removed: vec!["write".into()],
            },
            ServerEvent::SessionUpdated { session },
            ServerEvent::Alert {
                alert: Alert::default(),
            },
        ];
        // Fails to compile when an event type is added: add it above and to `from_json`.
        for event in &events {
            match event {
                ServerEvent::ConnectionAck { .. }
                | ServerEvent::Snapshot { .. }
                | ServerEvent::Pong { .. }
                | ServerEvent::Error { .. }
                | ServerEvent::TaskCreated { .. }
                | ServerEvent::TaskUpdated { .. }
                | ServerEvent::TaskAssigned { .. }
                | ServerEvent::TaskCompleted { .. }
                | ServerEvent::TaskMoved { .. }
                | ServerEvent::TaskDeleted { .. }
                | ServerEvent::TaskInvalid { .. }
                | ServerEvent::CostUpdate(_)
                | ServerEvent::BudgetAlert(_)
                | ServerEvent::PortfolioUpdated { .. }
                | ServerEvent::McpServerStatus { .. }
                | ServerEvent::McpToolsChanged { .. }
                | ServerEvent::SessionUpdated { .. }
                | ServerEvent::Alert { .. } => {}
            }
        }
        events
    }

    #[test]
    fn two_step_reader_reads_every_event_as_the_derived_one_does() {
        let events = one_of_each();
        let names: std::collections::BTreeSet<_> = events.iter().map(ServerEvent::name).collect();
        assert_eq!(names.len(), 18, "one event of each of the 18 types");
        for (seq, event) in events.into_iter().enumerate() {
            let mut envelope = Envelope::new(seq as u64 + 1, event);
            if envelope.event.name().starts_with("task.") {
                envelope.lanes.insert("assigned/ada".into(), 3);
            }
            let json = serde_json::to_string(&envelope).unwrap();
            let derived: Envelope = serde_json::from_str(&json).unwrap();
            let two_step = Envelope::from_json(&json)
                .unwrap_or_else(|e| panic!("{}: {e}", envelope.event.name()));
            assert_eq!(two_step, derived, "{json}");
            assert_eq!(two_step, envelope, "{json}");
        }
    }

    #[test]
    fn two_step_reader_refuses_what_the_derived_one_refuses() {
        for bad in [
            r#"{"seq":1,"type":"task.exploded"}"#,
            r#"{"seq":1,"type":"task.created"}"#,
            r#"{"seq":1,"type":"task.deleted","path":7}"#,
            r#"{"type":"pong","timestamp":"t"}"#,
            r#"{"seq":1,"timestamp":"t"}"#,
            r#"{"seq":1,"type":"pong","timestamp":"t""#,
        ] {
            assert!(
                serde_json::from_str::<Envelope>(bad).is_err(),
                "derived: {bad}"
            );
            assert!(Envelope::from_json(bad).is_err(), "two-step: {bad}");
        }
        let unknown = Envelope::from_json(r#"{"seq":1,"type":"task.exploded"}"#).unwrap_err();
        assert!(unknown.to_string().contains("task.exploded"), "{unknown}");
    }
}
