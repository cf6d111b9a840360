//! What the handlers share. Each handler takes only the part it needs (`State<SharedStore>`,
//! `State<Telemetry>`, …) through `FromRef`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use tokio::sync::watch;

use super::access::AccessPolicy;
use super::assets::LazyModules;
use super::auth::Auth;
use super::metrics::Metrics;
use crate::board::SharedStore;
use crate::feeds::CostFeed;
use crate::invocations::PriceTable;
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
    /// Where this server is reached, without the base path: the first public URL's origin, else
    /// `http://` and the address it listens on.
    pub(super) endpoint: Arc<str>,
    /// Model prices: what a call that reports no cost cost (see [`crate::invocations::prices`]).
    pub(super) prices: Arc<PriceTable>,
    /// The agent sessions, live (see [`crate::sessions`]).
    pub(super) sessions: Arc<crate::sessions::Tracker>,
    pub(super) alerts: Arc<crate::alerts::Alerts>,
    pub(super) access: Arc<AccessPolicy>,
    pub(super) auth: Arc<Auth>,
    /// `""` or `/dashboard`: where the page's links point (`…/repos/{name}` for another
    /// repository's pages).
    pub(super) base_path: String,
    /// Where the site is (`""` or `/dashboard`): this node's own board and the assets.
    pub(super) home: String,
    /// The repository another node publishes that this state serves (`/repos/{name}/…`);
    /// `None` for this node's own.
    pub(super) repo: Option<String>,
    pub(super) assets: AssetVersion,
    /// The files of each lazily loaded route: a page preloads its own with the HTML.
    pub(super) lazy_modules: Arc<LazyModules>,
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
    /// The routes of each other repository's pages, built once (see `repos::serve`).
    pub(super) repo_sites: Arc<parking_lot::Mutex<HashMap<String, RepoSite>>>,
}

/// The pages and API of another repository: the routes over a state with its board.
#[derive(Clone)]
pub(super) struct RepoSite {
    pub(super) board: SharedStore,
    pub(super) routes: axum::Router,
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
    /// Another node's repository (`repository "alpha"`, or every repository together): its
    /// files are on the node that publishes it, not here.
    pub(super) elsewhere: Option<String>,
}

impl TaskFiles {
    /// This node's files: under its root, or none on a viewer (whose working directory is no
    /// repository: it reads no specifications, profiles or task files there).
    pub(super) fn of(config: &crate::runtime::Config) -> TaskFiles {
        if config.viewer {
            return TaskFiles {
                elsewhere: Some("the team's repositories".to_owned()),
                ..TaskFiles::of_repository("")
            };
        }
        TaskFiles {
            dir: crate::board::collaboration_dir(&config.root),
            repo: config.root.clone(),
            writable: config.allow_writes,
            elsewhere: None,
        }
    }

    /// The files of another node's repository (`app::ALL_REPOSITORIES`: of every repository
    /// together): none here, nothing writable.
    pub(super) fn of_repository(name: &str) -> TaskFiles {
        let elsewhere = if name == app::ALL_REPOSITORIES {
            "every repository".to_owned()
        } else {
            format!("repository {name:?}")
        };
        TaskFiles {
            dir: PathBuf::new(),
            repo: PathBuf::new(),
            writable: false,
            elsewhere: Some(elsewhere),
        }
    }

    /// `404` when the files are on another node (its specifications, profiles, task files).
    pub(super) fn here(&self) -> Result<(), super::Error> {
        match &self.elsewhere {
            None => Ok(()),
            Some(elsewhere) => Err(super::Error::NotFound(format!(
                "the files of {elsewhere} are on the node that publishes it: only its board is shared"
            ))),
        }
    }
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

impl FromRef<AppState> for Arc<crate::sessions::Tracker> {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

impl FromRef<AppState> for Arc<crate::alerts::Alerts> {
    fn from_ref(state: &AppState) -> Self {
        state.alerts.clone()
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
