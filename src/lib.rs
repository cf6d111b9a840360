//! execdash server: watches `work/collaboration`, keeps the board in memory, pushes every change
//! to browsers over a WebSocket, reads and writes the agents' `telemetry.db`, and renders the
//! dashboard with Leptos.
//!
//! Layers, dependencies pointing down only:
//!
//! ```text
//! cli ─► server ─► http ─┬─► board      (task files, scan, watcher, store, hub)
//!          │             └─► telemetry  (SQLite: schema, ingest, queries, import)
//!          ├─► cost_feed ─► board, telemetry
//!          ├─► mcp ─► board, telemetry   (MCP configuration, health checks with rmcp)
//!          ├─► otlp ─► telemetry          (OTLP/HTTP exports of coding agents → invocations)
//!          └─► portfolio_feed ─► board, specifications
//! config, memory, markdown, specifications, portfolio, history, forecast: leaves used by the
//! layers above
//! ```
//!
//! The public surface is what the binary, the integration tests and the benchmarks use.

#![warn(unreachable_pub)]

mod agent_logs;
mod agent_profiles;
mod alerts;
mod attribution;
mod board;
mod cli;
mod config;
mod cost_feed;
mod demo;
mod forecast;
mod history;
mod http;
mod markdown;
mod mcp;
mod memory;
mod otlp;
mod portfolio;
mod portfolio_feed;
mod prices;
mod server;
mod sessions;
mod specifications;
mod team;
mod telemetry;
mod usage;

pub use board::watch as watch_board;
pub use board::{
    collaboration_dir, parse as parse_task_file, FileState, Frame, SharedStore, Since, Store,
    TaskCounts, WatchError, WatcherHandle, HUB_CAPACITY,
};
pub use cli::run;
pub use config::{Config, ConfigError, McpOptions, PublicUrl, Webhook};
pub use http::{serve_socket, SocketCounters};
pub use markdown::render_texts as render_task_texts;
pub use prices::PricesError;
pub use server::{start, start_listening, RunningServer, ServeError};
#[cfg(feature = "bench-support")]
pub use telemetry::seed_synthetic;
pub use telemetry::{
    import_jsonl, CostRange, ImportReport, IngestError, IngestReport, Invocation, Location,
    MeterReport, Telemetry, TelemetryError, ValidationError,
};
