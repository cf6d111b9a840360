//! The MCP servers of the watched repository: their configuration (`.mcp.json`,
//! `.vscode/mcp.json`, watched), health checks with the official Rust SDK (`rmcp`), the tools
//! each one offers and the called tools none offers. Publishes on the board's stream; the HTTP
//! layer serves [`McpMonitor::overview`] and asks for checks.

mod config;
mod managed;
mod monitor;
mod probe;

pub(crate) use managed::Control;
pub(crate) use monitor::MonitorTask;
pub(crate) use monitor::{CheckError, McpMonitor};
