//! The process: its command line ([`run`]), its settings ([`Config`]), the server that puts the
//! pieces together ([`start`]), the demo data of `execdash seed-demo`, and one allocator helper.
//!
//! Why one group: these are what a run of the binary is made of, from the flags to the listening
//! socket, and none of them is a feature of the dashboard. The group spans the layers, which is
//! why its files are kept apart rather than merged: `config` and `memory` are leaves that almost
//! every module uses (where telemetry lives, webhooks, cache files; giving freed memory back
//! after the startup scan), `demo` writes through the board and the telemetry, `server` is the
//! top of the library and `cli` the top of all. A module below `server` uses only `config` and
//! `memory` from here (`tests/layout.rs` checks it).
//!
//! * `cli`: the command line, each subcommand's arguments and what it does.
//! * `config`: the settings from flags, `EXECDASH_*` variables and a TOML file.
//! * `server`: builds the board, the telemetry, the feeds and the router; listens; stops.
//! * `demo`: `execdash seed-demo`, a month of plausible invocations for the demo workspace.
//! * `memory`: returns freed heap memory to the OS (glibc keeps it otherwise); one malloc arena
//!   per core.

mod cli;
mod config;
mod demo;
mod memory;
mod server;

pub use cli::run;
pub(crate) use config::{repository_cache_file, SessionTiming, WebhookFormat};
pub use config::{Config, ConfigError, Location, McpOptions, PublicUrl, Webhook};
pub(crate) use memory::release_free_memory;
pub use server::{start, start_listening, RunningServer, ServeError};
