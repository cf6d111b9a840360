//! Claude Code's hooks, as its `http` hooks send them (`POST` with the hook's JSON input): what
//! each says of its session's state. Only what the state and the timeline need is read — the
//! event's name, the session, where it runs, the tool's name, the notification's words, a
//! prompt's *size* (never its text) — and each is bounded.

use app::model::SessionEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{format_time, Live, TIMELINE};

/// The longest session id, tool name, notification or working directory kept.
const MAX_FIELD: usize = 512;

/// The hook events execdash takes (Claude Code's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HookKind {
    SessionStart,
    UserPromptSubmit,
    SubagentStart,
    PreToolUse,
    /// The agent asks a person for a tool's permission (the prompt; in `-p` mode it is denied).
    PermissionRequest,
    /// A permission was refused (by a rule, or by `-p` mode).
    PermissionDenied,
    PostToolUse,
    PostToolUseFailure,
    /// The tools of one model answer have all run.
    PostToolBatch,
    /// Part of the answer is shown (its text is not kept).
    MessageDisplay,
    Notification,
    Stop,
    /// The turn ended on an API error.
    StopFailure,
    SubagentStop,
    PreCompact,
    PostCompact,
    SessionEnd,
}

impl HookKind {
    pub(crate) const NAMES: [&'static str; 17] = [
        "SessionStart",
        "UserPromptSubmit",
        "SubagentStart",
        "PreToolUse",
        "PermissionRequest",
        "PermissionDenied",
        "PostToolUse",
        "PostToolUseFailure",
        "PostToolBatch",
        "MessageDisplay",
        "Notification",
        "Stop",
        "StopFailure",
        "SubagentStop",
        "PreCompact",
        "PostCompact",
        "SessionEnd",
    ];

    fn parse(name: &str) -> Option<HookKind> {
        Some(match name {
            "SessionStart" => HookKind::SessionStart,
            "UserPromptSubmit" => HookKind::UserPromptSubmit,
            "SubagentStart" => HookKind::SubagentStart,
            "PermissionDenied" => HookKind::PermissionDenied,
            "StopFailure" => HookKind::StopFailure,
            "PreToolUse" => HookKind::PreToolUse,
            "PermissionRequest" => HookKind::PermissionRequest,
            "PostToolUse" => HookKind::PostToolUse,
            "PostToolUseFailure" => HookKind::PostToolUseFailure,
            "PostToolBatch" => HookKind::PostToolBatch,
            "MessageDisplay" => HookKind::MessageDisplay,
            "Notification" => HookKind::Notification,
            "Stop" => HookKind::Stop,
            "SubagentStop" => HookKind::SubagentStop,
            "PreCompact" => HookKind::PreCompact,
            "PostCompact" => HookKind::PostCompact,
            "SessionEnd" => HookKind::SessionEnd,
            _ => return None,
        })
    }
}

/// One hook event, validated.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HookEvent {
    pub(crate) kind: HookKind,
    pub(crate) session_id: String,
    pub(crate) cwd: Option<String>,
    /// The tool (`PreToolUse`, `PostToolUse`).
    pub(crate) tool: Option<String>,
    /// The notification's words, the end's reason, the start's source.
    pub(crate) message: Option<String>,
    /// A prompt's length in characters (its text is not kept).
    pub(crate) prompt_chars: Option<usize>,
    /// The agent and task the endpoint's URL names (`?agent=`, `?task=`).
    pub(crate) agent: Option<String>,
    pub(crate) task: Option<String>,
}

/// Why a hook body was refused (400).
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum HookError {
    #[error("the body is not a JSON object with the hook's fields: {0}")]
    Malformed(String),
    #[error("`hook_event_name` '{0}' is not a hook execdash knows (one of {known})", known = HookKind::NAMES.join(", "))]
    UnknownEvent(String),
    #[error("`{0}` is missing or empty")]
    Missing(&'static str),
    #[error("`{field}` is longer than {MAX_FIELD} characters")]
    TooLong { field: &'static str },
}

#[derive(Deserialize)]
struct RawHook {
    hook_event_name: Option<String>,
    session_id: Option<String>,
    cwd: Option<String>,
    tool_name: Option<String>,
    message: Option<String>,
    prompt: Option<String>,
    reason: Option<String>,
    source: Option<String>,
}

impl HookEvent {
    /// Reads a hook's JSON body; `agent` and `task` from the endpoint's query.
    pub(crate) fn parse(
        body: &[u8],
        agent: Option<String>,
        task: Option<String>,
    ) -> Result<HookEvent, HookError> {
        let raw: RawHook =
            serde_json::from_slice(body).map_err(|e| HookError::Malformed(e.to_string()))?;
        let name = raw
            .hook_event_name
            .filter(|n| !n.is_empty())
            .ok_or(HookError::Missing("hook_event_name"))?;
        let kind = HookKind::parse(&name)
            .ok_or_else(|| HookError::UnknownEvent(name.chars().take(64).collect()))?;
        let session_id = raw
            .session_id
            .filter(|s| !s.is_empty())
            .ok_or(HookError::Missing("session_id"))?;
        let bounded = |field: &'static str, value: Option<String>| match value {
            Some(v) if v.chars().count() > MAX_FIELD => Err(HookError::TooLong { field }),
            other => Ok(other),
        };
        let message = match kind {
            HookKind::SessionEnd => raw.reason,
            HookKind::SessionStart => raw.source,
            _ => raw.message,
        };
        Ok(HookEvent {
            kind,
            session_id: bounded("session_id", Some(session_id))?.unwrap_or_default(),
            cwd: bounded("cwd", raw.cwd)?,
            tool: bounded("tool_name", raw.tool_name)?,
            // The words of a notification are shown; a long one is cut, not refused.
            message: message.map(|m| m.chars().take(MAX_FIELD).collect()),
            prompt_chars: raw.prompt.map(|p| p.chars().count()),
            agent: bounded("agent", agent.filter(|a| !a.is_empty()))?,
            task: bounded("task", task.filter(|t| !t.is_empty()))?,
        })
    }
}

/// What `event` says of its session.
pub(super) fn apply(live: &mut Live, event: HookEvent, now: DateTime<Utc>) {
    let summary = &mut live.summary;
    if summary.id.is_empty() {
        summary.id = event.session_id.clone();
        summary.source = "claude-code".into();
    }
    if summary.started.is_empty() {
        summary.started = format_time(now);
    }
    if event.cwd.is_some() {
        summary.cwd = event.cwd.clone();
    }
    if event.agent.is_some() {
        live.hook_agent = event.agent.clone();
    }
    if event.task.is_some() {
        live.hook_task = event.task.clone();
    }
    live.last_event = Some(now);
    let (kind, detail) = match event.kind {
        HookKind::SessionStart => {
            live.last_activity = Some(now);
            live.ended = None;
            live.waiting = None;
            live.stopped = false;
            ("start", event.message.unwrap_or_default())
        }
        HookKind::UserPromptSubmit => {
            live.last_activity = Some(now);
            live.waiting = None;
            live.stopped = false;
            let size = event.prompt_chars.unwrap_or_default();
            ("prompt", format!("{size} characters"))
        }
        HookKind::PreToolUse | HookKind::PostToolUse => {
            live.last_activity = Some(now);
            live.waiting = None;
            live.stopped = false;
            if event.kind == HookKind::PostToolUse {
                summary.tools += 1;
            }
            let tool = event.tool.unwrap_or_else(|| "a tool".into());
            if event.kind == HookKind::PreToolUse {
                ("tool", format!("{tool} …"))
            } else {
                ("tool", tool)
            }
        }
        HookKind::PermissionRequest => {
            let tool = event.tool.unwrap_or_else(|| "a tool".into());
            let message = format!("permission to use {tool}");
            live.waiting = Some((message.clone(), now));
            ("permission", message)
        }
        HookKind::PostToolUseFailure => {
            live.last_activity = Some(now);
            live.waiting = None;
            live.stopped = false;
            summary.tools += 1;
            let tool = event.tool.unwrap_or_else(|| "a tool".into());
            ("error", format!("{tool} failed"))
        }
        HookKind::SubagentStart => {
            live.last_activity = Some(now);
            live.stopped = false;
            ("start", "a sub-agent started".into())
        }
        HookKind::PermissionDenied => {
            live.waiting = None;
            let tool = event.tool.unwrap_or_else(|| "a tool".into());
            ("permission", format!("permission to use {tool} refused"))
        }
        HookKind::StopFailure => {
            live.stopped = true;
            live.waiting = None;
            ("error", "the turn ended on an API error".into())
        }
        HookKind::PostToolBatch | HookKind::MessageDisplay => {
            live.last_activity = Some(now);
            live.waiting = None;
            return;
        }
        HookKind::Notification => {
            let message = event
                .message
                .unwrap_or_else(|| "Claude Code needs your attention".into());
            live.waiting = Some((message.clone(), now));
            ("notification", message)
        }
        HookKind::Stop => {
            live.stopped = true;
            live.waiting = None;
            ("stop", "the turn ended".into())
        }
        HookKind::SubagentStop => ("stop", "a sub-agent finished".into()),
        HookKind::PreCompact => ("compact", "the context is compacted".into()),
        HookKind::PostCompact => ("compact", "the context was compacted".into()),
        HookKind::SessionEnd => {
            live.ended = Some(now);
            live.waiting = None;
            ("end", event.message.unwrap_or_default())
        }
    };
    if live.events.len() >= TIMELINE {
        live.events.pop_front();
    }
    live.events.push_back(SessionEvent {
        at: format_time(now),
        kind: kind.into(),
        detail,
        tokens: None,
        cost_usd: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_body_is_read_and_bad_ones_say_why() {
        let event = HookEvent::parse(
            br#"{"session_id":"s-1","transcript_path":"/x.jsonl","cwd":"/work/repo","hook_event_name":"UserPromptSubmit","prompt":"write the tests"}"#,
            Some("dev".into()),
            None,
        )
        .unwrap();
        assert_eq!(event.kind, HookKind::UserPromptSubmit);
        assert_eq!(event.prompt_chars, Some(15));
        assert_eq!(event.agent.as_deref(), Some("dev"));
        assert!(matches!(
            HookEvent::parse(
                br#"{"session_id":"s","hook_event_name":"Teleport"}"#,
                None,
                None
            ),
            Err(HookError::UnknownEvent(_))
        ));
        assert_eq!(
            HookEvent::parse(br#"{"hook_event_name":"Stop"}"#, None, None),
            Err(HookError::Missing("session_id"))
        );
        assert!(matches!(
            HookEvent::parse(br#"{"session_id":5,"hook_event_name":"Stop"}"#, None, None),
            Err(HookError::Malformed(_))
        ));
        assert!(matches!(
            HookEvent::parse(br#"[1]"#, None, None),
            Err(HookError::Malformed(_))
        ));
        let long = format!(
            r#"{{"session_id":"{}","hook_event_name":"Stop"}}"#,
            "s".repeat(600)
        );
        assert_eq!(
            HookEvent::parse(long.as_bytes(), None, None),
            Err(HookError::TooLong {
                field: "session_id"
            })
        );
    }
}
