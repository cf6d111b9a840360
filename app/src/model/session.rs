//! A coding agent's session, live: what it is doing now, what it spent, whether it waits for a
//! person (`GET /api/sessions`, the `session.updated` event, the Sessions page, the cards).

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// What a session is doing now.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    FromJson,
)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// The agent asked a person (a permission prompt, a notification) and nothing came since.
    Waiting,
    /// A model call, a tool or a prompt within the last few seconds (`--working-within`).
    Working,
    /// Its task is in progress, but nothing came for minutes (`--stalled-after`).
    Stalled,
    /// Between turns: nothing came lately, nothing asked.
    #[default]
    Idle,
    /// The session ended (its end hook, or nothing for an hour).
    Ended,
}

impl SessionState {
    pub const ALL: [SessionState; 5] = [
        SessionState::Waiting,
        SessionState::Working,
        SessionState::Stalled,
        SessionState::Idle,
        SessionState::Ended,
    ];

    /// Its wire name (`waiting`, …), also the filter's.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Waiting => "waiting",
            SessionState::Working => "working",
            SessionState::Stalled => "stalled",
            SessionState::Idle => "idle",
            SessionState::Ended => "ended",
        }
    }

    /// As a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            SessionState::Waiting => "waiting for input",
            SessionState::Working => "working",
            SessionState::Stalled => "stalled",
            SessionState::Idle => "idle",
            SessionState::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<SessionState> {
        SessionState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One agent session (Claude Code's `session.id`, a Codex conversation, a transcript).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SessionSummary {
    pub id: String,
    /// Which coding agent (`claude-code`, `codex`, `gemini-cli`, …).
    pub source: String,
    /// The board's agent it works as, when known.
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub task_id: Option<String>,
    /// `sent` (the agent said) or `inferred` (the board told): how the task is known.
    #[serde(default)]
    pub attribution: Option<String>,
    #[serde(default)]
    pub models: Vec<String>,
    /// Where it runs (its working directory), when a hook said.
    #[serde(default)]
    pub cwd: Option<String>,
    /// RFC 3339, UTC.
    pub started: String,
    pub last_event: String,
    pub state: SessionState,
    /// Since when it is in `state`.
    pub state_since: String,
    /// What it waits for (the agent's own words), while `waiting`.
    #[serde(default)]
    pub waiting_for: Option<String>,
    pub calls: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    /// Dollars an hour over the last 10 minutes.
    pub burn_rate_usd_per_hour: f64,
    /// Input tokens read from the cache, of all input tokens (`None`: no input yet).
    #[serde(default)]
    pub cache_hit_rate: Option<f64>,
    pub errors: u64,
    /// Tools used (its hooks' `PostToolUse`).
    #[serde(default)]
    pub tools: u64,
}

/// How long an ended session stays on the board (its card says "ended").
pub const ENDED_SHOWN_MS: i64 = 15 * 60 * 1000;

impl SessionSummary {
    /// Whether it is still going (not ended).
    pub fn live(&self) -> bool {
        self.state != SessionState::Ended
    }

    /// Whether the board shows it at `now_ms`: going on, or ended within [`ENDED_SHOWN_MS`].
    pub fn shown_at(&self, now_ms: i64) -> bool {
        self.live()
            || crate::format::iso_ms(&self.state_since)
                .is_some_and(|ended| now_ms - ended < ENDED_SHOWN_MS)
    }
}

/// What happened in a session, in order (the Sessions page's timeline).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SessionEvent {
    /// RFC 3339, UTC.
    pub at: String,
    /// `call`, `prompt`, `tool`, `notification`, `start`, `stop`, `end`, `error`.
    pub kind: String,
    /// The tool's or model's name, the notification's text, a prompt's size ("412 characters":
    /// never its text).
    pub detail: String,
    #[serde(default)]
    pub tokens: Option<u64>,
    #[serde(default)]
    pub cost_usd: Option<f64>,
}

/// `GET /api/sessions/{id}`: a session and its timeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SessionDetail {
    pub session: SessionSummary,
    pub events: Vec<SessionEvent>,
}
