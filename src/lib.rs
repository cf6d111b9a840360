//! execdash server: watches `work/collaboration`, keeps the board in memory, pushes every change
//! to browsers over a WebSocket, reads and writes the agents' `telemetry.db`, and renders the
//! dashboard with Leptos.
//!
//! `src/` is grouped by role. A folder is either one module split in files (`board/`, `http/`,
//! `team/`, …) or a group of small modules of one role (`runtime/`, `documents/`, `reports/`,
//! `feeds/`, `invocations/`), whose `mod.rs` says what the group is and re-exports what the rest
//! of the crate uses. A group is not a layer: each of its modules sits in its own.
//!
//! Layers, top first; a module uses only modules of the layers below its own (`tests/layout.rs`
//! checks it):
//!
//! ```text
//! runtime::cli                                    the command line
//! runtime::server                                 puts the pieces together, listens, stops
//! http                                            one router per resource, page, socket
//! alerts                                          rules → webhooks and a log
//! sessions                                        agent sessions, live
//! agent_logs, otlp, mcp, team, runtime::demo,     calls from transcripts and OTLP; MCP health;
//! feeds::{costs, initiatives},                    the team's boards; seed-demo; what changes
//! invocations::attribution                        outside the task files; a call's task
//! invocations::usage                              a call's tokens and cost
//! board, telemetry, documents::agent_profiles     task files (uses runtime::memory only); the
//!                                                 database (runtime::config only); profiles
//! runtime::{config, memory}, documents::{markdown, specifications}, invocations::prices,
//! reports::{initiatives, throughput, forecast}    leaves
//! ```
//!
//! The public surface is what the binary, the integration tests and the benchmarks use.

#![warn(unreachable_pub)]

mod agent_logs;
mod alerts;
mod board;
mod documents;
mod feeds;
mod http;
mod invocations;
mod mcp;
mod otlp;
mod reports;
mod runtime;
mod sessions;
mod team;
mod telemetry;

pub use board::watch as watch_board;
pub use board::{
    collaboration_dir, parse as parse_task_file, FileState, Frame, SharedStore, Since, Store,
    TaskCounts, WatchError, WatcherHandle, HUB_CAPACITY,
};
pub use documents::render_texts as render_task_texts;
pub use http::{serve_socket, SocketCounters};
pub use invocations::PricesError;
pub use runtime::{
    run, start, start_listening, Config, ConfigError, McpOptions, PublicUrl, RunningServer,
    ServeError, Webhook,
};
#[cfg(feature = "bench-support")]
pub use telemetry::seed_synthetic;
pub use telemetry::{
    import_jsonl, CostRange, ImportReport, IngestError, IngestReport, Invocation, Location,
    MeterReport, Telemetry, TelemetryError, ValidationError,
};
