//! MCP servers as the dashboard sees them (`GET /api/mcp/servers`, the `/mcp` page): what the
//! repository configures, what the last health checks found, which tools exist where. Never a
//! server's `env` values or HTTP headers: only their names.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// How many checks a server's history keeps.
pub const MCP_HISTORY: usize = 20;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, FromJson)]
#[serde(rename_all = "lowercase")]
pub enum McpStatus {
    /// Answered `initialize` and every list it offers, in time.
    Healthy,
    /// Answered `initialize`, but a list failed or the handshake was slow.
    Degraded,
    /// Could not be started, connected or initialized.
    Down,
    /// Not checked: `disabled` in its configuration, or a transport execdash does not speak.
    Disabled,
    /// Configured, not checked yet.
    #[default]
    Unknown,
}

impl McpStatus {
    pub fn label(self) -> &'static str {
        match self {
            McpStatus::Healthy => "Healthy",
            McpStatus::Degraded => "Degraded",
            McpStatus::Down => "Down",
            McpStatus::Disabled => "Disabled",
            McpStatus::Unknown => "Not checked yet",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            McpStatus::Healthy => "healthy",
            McpStatus::Degraded => "degraded",
            McpStatus::Down => "down",
            McpStatus::Disabled => "disabled",
            McpStatus::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, FromJson)]
#[serde(rename_all = "lowercase")]
pub enum McpTransport {
    Stdio,
    Http,
    Sse,
}

/// The servers and what is missing (`GET /api/mcp/servers`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct McpOverview {
    /// By name.
    pub servers: Vec<McpServer>,
    /// Tools the agents called (the invocations' `tool_name`) that no healthy server offers
    /// now, most called first. Empty while no server has been checked.
    pub unavailable_tools: Vec<CalledTool>,
    /// The configuration files read (`.mcp.json`, `.vscode/mcp.json`); problems are on the
    /// board's Problems.
    pub sources: Vec<String>,
    /// Seconds between two checks of a server (before jitter).
    pub check_interval_s: u64,
    /// The server accepts start/stop/restart (`--allow-writes`).
    pub controls: bool,
    pub generated_at: String,
}

/// The header's compact status: how many configured servers are healthy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJson)]
pub struct McpHealth {
    pub healthy: usize,
    /// Checked at least once (neither disabled nor waiting for a first check).
    pub checked: usize,
    pub configured: usize,
}

impl McpHealth {
    pub fn of(statuses: impl IntoIterator<Item = McpStatus>) -> McpHealth {
        let mut health = McpHealth::default();
        for status in statuses {
            health.configured += 1;
            if !matches!(status, McpStatus::Disabled | McpStatus::Unknown) {
                health.checked += 1;
            }
            if status == McpStatus::Healthy {
                health.healthy += 1;
            }
        }
        health
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct McpServer {
    pub name: String,
    pub transport: Option<McpTransport>,
    /// Which file configures it.
    pub source: String,
    /// The command and its arguments, or the URL.
    pub target: String,
    /// The names of its configured environment variables or headers (never their values).
    pub secret_names: Vec<String>,
    pub status: McpStatus,
    /// Why it is not healthy.
    pub error: Option<String>,
    /// The last lines the server wrote to stderr when it failed (stdio).
    pub stderr_tail: Vec<String>,
    /// Connect + `initialize`, in milliseconds.
    pub latency_ms: Option<f64>,
    /// RFC 3339.
    pub checked_at: Option<String>,
    pub server_info: Option<McpServerInfo>,
    pub tools: Vec<McpTool>,
    /// Tools it offered at the check before and no longer does.
    pub tools_gone: Vec<String>,
    pub resources: Option<usize>,
    pub prompts: Option<usize>,
    /// The last [`MCP_HISTORY`] checks, newest first.
    pub history: Vec<McpCheck>,
    /// Healthy or degraded checks among those in `history`, in percent.
    pub uptime_percent: Option<f64>,
    /// A check is running or queued.
    pub checking: bool,
    /// Set when execdash runs this server itself (`--mcp-managed`).
    pub managed: Option<ManagedState>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct McpServerInfo {
    pub name: String,
    pub version: String,
    pub title: Option<String>,
    pub protocol_version: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct McpTool {
    pub name: String,
    pub description: Option<String>,
    /// The JSON Schema of its arguments (for `/api/mcp`'s callers: the page does not show it,
    /// so the browser leaves it out and carries no reader of arbitrary JSON).
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub input_schema: serde_json::Value,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct McpCheck {
    pub checked_at: String,
    pub status: McpStatus,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

/// A server execdash runs and supervises.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct ManagedState {
    pub running: bool,
    /// Stopped by a user (not restarted until started again).
    pub stopped: bool,
    pub pid: Option<u32>,
    /// Since the current process started, in seconds.
    pub uptime_s: Option<u64>,
    pub restarts: u32,
    /// When the supervisor starts it again after it exited (RFC 3339).
    pub next_start: Option<String>,
}

/// A tool the agents called.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct CalledTool {
    pub name: String,
    pub calls: u64,
    pub last_called: Option<String>,
}
