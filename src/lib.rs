//! execdash server: watches `work/collaboration`, keeps the board in memory, pushes every change
//! to browsers over a WebSocket and renders the dashboard with Leptos.
//!
//! Data path: [`watcher`] → [`task_file`] → [`store`] → [`hub`] → [`ws`] (and [`api`] for HTTP).

pub mod api;
pub mod assets;
pub mod cli;
pub mod config;
pub mod cost_feed;
pub mod demo;
pub mod hub;
pub mod memory;
pub mod origin;
pub mod page;
pub mod scan;
pub mod server;
pub mod store;
pub mod task_file;
pub mod telemetry;
pub mod watcher;
pub mod write_guard;
pub mod ws;
