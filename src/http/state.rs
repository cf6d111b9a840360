//! What the handlers share. Each handler takes only the part it needs (`State<SharedStore>`,
//! `State<Telemetry>`, …) through `FromRef`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use tokio::sync::watch;

use super::access::AccessPolicy;
use super::auth::Auth;
use super::metrics::Metrics;
use crate::board::SharedStore;
use crate::cost_feed::CostFeed;
use crate::mcp::McpMonitor;
use crate::telemetry::Telemetry;
use app::AssetVersion;

#[derive(Clone)]
pub(super) struct AppState {
    pub(super) board: SharedStore,
    /// The database may be unavailable (see `Telemetry::problem`); the board works without it.
    pub(super) telemetry: Telemetry,
    pub(super) costs: Arc<CostFeed>,
    pub(super) mcp: McpMonitor,
    pub(super) access: Arc<AccessPolicy>,
    pub(super) auth: Arc<Auth>,
    /// `""` or `/dashboard`: where the page's links point.
    pub(super) base_path: String,
    pub(super) assets: AssetVersion,
    /// cargo-leptos's reload port in development (see `Config::live_reload`).
    pub(super) live_reload: Option<u16>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) started: Instant,
    /// Becomes `true` when the server stops: sockets close.
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) files: Arc<TaskFiles>,
    /// This node's part in a team (its repository's name; the stale time).
    pub(super) team: Arc<crate::team::Team>,
    /// Other repositories' boards (a PostgreSQL database only).
    pub(super) mirrors: Arc<crate::team::Mirrors>,
}

/// Where the task files are, for what reads or changes them beside the board (the detail
/// view's raw YAML, edits).
pub(super) struct TaskFiles {
    /// `<root>/work/collaboration`.
    pub(super) dir: PathBuf,
    /// The repository (specifications are under `<repo>/specifications`).
    pub(super) repo: PathBuf,
    /// Started with `--allow-writes`.
    pub(super) writable: bool,
}

impl FromRef<AppState> for Arc<crate::team::Mirrors> {
    fn from_ref(state: &AppState) -> Arc<crate::team::Mirrors> {
        state.mirrors.clone()
    }
}

impl FromRef<AppState> for Arc<crate::team::Team> {
    fn from_ref(state: &AppState) -> Arc<crate::team::Team> {
        state.team.clone()
    }
}

impl FromRef<AppState> for Arc<TaskFiles> {
    fn from_ref(state: &AppState) -> Arc<TaskFiles> {
        state.files.clone()
    }
}

impl FromRef<AppState> for SharedStore {
    fn from_ref(state: &AppState) -> SharedStore {
        state.board.clone()
    }
}

impl FromRef<AppState> for Telemetry {
    fn from_ref(state: &AppState) -> Telemetry {
        state.telemetry.clone()
    }
}

impl FromRef<AppState> for McpMonitor {
    fn from_ref(state: &AppState) -> McpMonitor {
        state.mcp.clone()
    }
}

impl FromRef<AppState> for Arc<CostFeed> {
    fn from_ref(state: &AppState) -> Arc<CostFeed> {
        state.costs.clone()
    }
}

impl FromRef<AppState> for Arc<AccessPolicy> {
    fn from_ref(state: &AppState) -> Arc<AccessPolicy> {
        state.access.clone()
    }
}

impl FromRef<AppState> for Arc<Auth> {
    fn from_ref(state: &AppState) -> Arc<Auth> {
        state.auth.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Arc<Metrics> {
        state.metrics.clone()
    }
}
