//! Keeps every configured MCP server checked: reads the configuration when it changes, checks
//! each server every interval (± 10 %, so servers configured together are not checked
//! together) and when asked, at most [`concurrent_checks`] at a time, keeps the last
//! [`MCP_HISTORY`] results, and publishes `mcp.server.status` / `mcp.tools.changed` on the
//! board's stream.
//!
//! Longer than most modules on purpose: every server's state, the schedule of its checks and the
//! managed servers' sessions are behind one lock and one task (see docs/ARCHITECTURE.md, "MCP
//! servers"); the configuration, one check and the supervisor are their own modules.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::{BuildHasher as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::{McpCheck, McpHealth, McpOverview, McpServer, McpStatus, Problem, MCP_HISTORY};
use chrono::{DateTime, SecondsFormat, Utc};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};

use super::config::{self, McpConfig, ServerSpec, Transport};
use super::managed::{Control, Launch, Supervisor};
use super::probe::{self, Outcome};
use crate::board::{ProblemSource, SharedStore};
use crate::runtime::McpOptions;
use crate::telemetry::Telemetry;

/// Checks running at once, whatever the number of servers: half the cores, 1 to 4. Starting a
/// server costs a core for a few hundred milliseconds (node: ~0.4 s); the other half stays the
/// dashboard's (BENCHMARKS.md, "MCP health checks").
fn concurrent_checks() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get() / 2)
        .clamp(1, 4)
}
/// Called tools compared with the servers' (the most called).
const CALLED_TOOLS: u32 = 200;
/// How long changes to the configuration files are gathered before they are read.
const SETTLE: Duration = Duration::from_millis(100);
/// How often the repository root's `.mcp.json` and `.vscode/` are looked at (a `stat` each).
/// Not an inotify watch on the root: the telemetry database's WAL is usually there, and every
/// frame written would wake the watcher (a tenth of a busy ingestion's time, BENCHMARKS.md).
const ROOT_POLL: Duration = Duration::from_secs(1);

/// The MCP servers' health; cloned into the HTTP handlers.
#[derive(Clone)]
pub(crate) struct McpMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    repo: PathBuf,
    options: McpOptions,
    store: SharedStore,
    telemetry: Telemetry,
    state: Mutex<State>,
    permits: Semaphore,
    /// The loop looks again: a check was asked for, one ended, or the configuration changed.
    wake: Notify,
    config_changed: std::sync::atomic::AtomicBool,
    /// On `.vscode/` whenever it exists (added when it appears).
    watcher: Mutex<Option<RecommendedWatcher>>,
    vscode_watched: std::sync::atomic::AtomicBool,
    /// `.mcp.json` and `.vscode/` in the root as last looked at (see [`ROOT_POLL`]).
    root_files: Mutex<[Option<FileStamp>; 2]>,
}

/// What tells a file's (or a folder's) change: its size, modification time and inode.
type FileStamp = (u64, Option<std::time::SystemTime>, u64);

fn stamp_of(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok(), metadata.ino()))
}

#[derive(Default)]
struct State {
    sources: Vec<String>,
    servers: BTreeMap<String, ServerState>,
}

struct ServerState {
    spec: ServerSpec,
    last: Option<Outcome>,
    checked_at: Option<DateTime<Utc>>,
    tools_gone: Vec<String>,
    history: VecDeque<McpCheck>,
    next_check: Instant,
    checking: bool,
    requested: bool,
    /// Run by execdash (`--mcp-managed`).
    supervisor: Option<Arc<Supervisor>>,
}

impl ServerState {
    fn new(spec: ServerSpec, supervisor: Option<Arc<Supervisor>>) -> ServerState {
        ServerState {
            supervisor,
            spec,
            last: None,
            checked_at: None,
            tools_gone: Vec::new(),
            history: VecDeque::new(),
            next_check: Instant::now(),
            checking: false,
            requested: false,
        }
    }

    fn status(&self) -> McpStatus {
        self.last
            .as_ref()
            .map_or(McpStatus::Unknown, |outcome| outcome.status)
    }
}

/// Running: dropped, checks stop (a check under way ends with its server killed) and the
/// managed servers are stopped.
pub(crate) struct MonitorTask {
    task: tokio::task::JoinHandle<()>,
    monitor: McpMonitor,
}

impl Drop for MonitorTask {
    fn drop(&mut self) {
        self.task.abort();
        self.monitor.inner.watcher.lock().take();
        self.monitor.inner.state.lock().servers.clear();
    }
}

/// Why a check or a control could not be asked for.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckError {
    #[error("no MCP server named '{0}' is configured")]
    Unknown(String),
    #[error("'{0}' is not run by execdash (start it with --mcp-managed {0}; stdio servers only)")]
    NotManaged(String),
    #[error("'{0}' has requests waiting already; try again in a moment")]
    Busy(String),
}

impl McpMonitor {
    pub(crate) fn new(
        repo: &Path,
        options: McpOptions,
        store: SharedStore,
        telemetry: Telemetry,
    ) -> McpMonitor {
        McpMonitor {
            inner: Arc::new(Inner {
                repo: repo.to_path_buf(),
                options,
                store,
                telemetry,
                state: Mutex::new(State::default()),
                permits: Semaphore::new(concurrent_checks()),
                wake: Notify::new(),
                config_changed: std::sync::atomic::AtomicBool::new(true),
                watcher: Mutex::new(None),
                vscode_watched: std::sync::atomic::AtomicBool::new(false),
                root_files: Mutex::new([None, None]),
            }),
        }
    }

    /// Reads the configuration and starts checking; watches the configuration files.
    pub(crate) fn spawn(&self) -> MonitorTask {
        *self.inner.watcher.lock() = self.watch_config();
        let monitor = self.clone();
        MonitorTask {
            task: tokio::spawn(async move { monitor.run().await }),
            monitor: self.clone(),
        }
    }

    /// A check of `name` as soon as a slot is free (one already queued or running counts).
    pub(crate) fn check_now(&self, name: &str) -> Result<(), CheckError> {
        let mut state = self.inner.state.lock();
        let server = state
            .servers
            .get_mut(name)
            .ok_or_else(|| CheckError::Unknown(name.to_owned()))?;
        if !server.checking {
            server.requested = true;
        }
        drop(state);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Starts, stops or restarts a managed server.
    pub(crate) fn control(&self, name: &str, control: Control) -> Result<(), CheckError> {
        let state = self.inner.state.lock();
        let server = state
            .servers
            .get(name)
            .ok_or_else(|| CheckError::Unknown(name.to_owned()))?;
        let supervisor = server
            .supervisor
            .as_ref()
            .ok_or_else(|| CheckError::NotManaged(name.to_owned()))?;
        if supervisor.control(control) {
            tracing::info!(server = %name, ?control, "managed MCP server: asked");
            Ok(())
        } else {
            Err(CheckError::Busy(name.to_owned()))
        }
    }

    /// Whether any server is managed (the page then offers start/stop/restart).
    pub(crate) fn manages_any(&self) -> bool {
        self.inner
            .state
            .lock()
            .servers
            .values()
            .any(|s| s.supervisor.is_some())
    }

    /// Every server as the page shows it, and the called tools no healthy server offers.
    pub(crate) async fn overview(&self) -> McpOverview {
        let called = self.inner.telemetry.called_tools(CALLED_TOOLS).await;
        let state = self.inner.state.lock();
        let servers: Vec<McpServer> = state.servers.values().map(view).collect();
        let any_checked = servers
            .iter()
            .any(|s| !matches!(s.status, McpStatus::Unknown | McpStatus::Disabled));
        let offered: BTreeSet<&str> = servers
            .iter()
            .filter(|s| s.status == McpStatus::Healthy)
            .flat_map(|s| s.tools.iter().map(|t| t.name.as_str()))
            .collect();
        let unavailable_tools = match called {
            Ok(called) if any_checked => called
                .into_iter()
                .filter(|tool| !offered.contains(tool.name.as_str()))
                .collect(),
            _ => Vec::new(),
        };
        McpOverview {
            servers,
            unavailable_tools,
            sources: state.sources.clone(),
            check_interval_s: self.inner.options.check_interval.as_secs(),
            controls: false,
            generated_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }

    fn watch_config(&self) -> Option<RecommendedWatcher> {
        let inner = Arc::downgrade(&self.inner);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            let relevant = event.paths.iter().any(|path| {
                path.file_name().is_some_and(|name| {
                    name == ".mcp.json" || name == "mcp.json" || name == ".vscode"
                })
            });
            if relevant && !event.kind.is_access() {
                if let Some(inner) = inner.upgrade() {
                    inner
                        .config_changed
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    inner.wake.notify_one();
                }
            }
        })
        .map_err(|error| tracing::warn!(%error, "MCP configuration cannot be watched"))
        .ok()?;
        // The root's files are looked at every ROOT_POLL (`root_changed`); `.vscode/` is watched
        // from the first reading on, and from when it appears: see `watch_vscode`.
        Some(watcher)
    }

    /// Watches `.vscode/` when it exists and is not watched yet (a removed folder's watch ends
    /// with it: watched again when it comes back).
    fn watch_vscode(&self) {
        use std::sync::atomic::Ordering;
        let folder = self.inner.repo.join(".vscode");
        if !folder.is_dir() {
            self.inner.vscode_watched.store(false, Ordering::SeqCst);
            return;
        }
        if self.inner.vscode_watched.load(Ordering::SeqCst) {
            return;
        }
        if let Some(watcher) = self.inner.watcher.lock().as_mut() {
            match watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => self.inner.vscode_watched.store(true, Ordering::SeqCst),
                Err(error) => tracing::warn!(%error, "`.vscode/` cannot be watched"),
            }
        }
    }

    /// Whether `.mcp.json` or `.vscode/` in the root changed (appeared, went, was written or
    /// replaced) since the last look.
    fn root_changed(&self) -> bool {
        let now = [
            stamp_of(&self.inner.repo.join(".mcp.json")),
            stamp_of(&self.inner.repo.join(".vscode")),
        ];
        let mut last = self.inner.root_files.lock();
        let changed = *last != now;
        *last = now;
        changed
    }

    async fn run(self) {
        // The first reading reads whatever is there.
        self.root_changed();
        loop {
            if self.root_changed() {
                self.inner
                    .config_changed
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
            if self
                .inner
                .config_changed
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                tokio::time::sleep(SETTLE).await;
                self.inner
                    .config_changed
                    .store(false, std::sync::atomic::Ordering::SeqCst);
                self.reload().await;
            }
            let next = self.start_due_checks();
            let wait = next
                .map_or(ROOT_POLL, |at| at.saturating_duration_since(Instant::now()))
                .min(ROOT_POLL);
            tokio::select! {
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Reads the configuration again: new servers are checked at once, removed ones
    /// forgotten, changed ones checked again; its problems go to the board's Problems.
    async fn reload(&self) {
        self.watch_vscode();
        let repo = self.inner.repo.clone();
        let Ok(config) = tokio::task::spawn_blocking(move || config::read(&repo)).await else {
            return;
        };
        let McpConfig {
            servers,
            problems,
            sources,
        } = config;
        self.inner.store.set_problems_of(
            ProblemSource::McpConfig,
            problems
                .into_iter()
                .map(|p| Problem {
                    path: p.path.to_owned(),
                    line: p.line,
                    column: p.column,
                    reason: p.reason,
                })
                .collect(),
        );
        let mut changed = Vec::new();
        {
            let mut state = self.inner.state.lock();
            state.sources = sources;
            let names: BTreeSet<String> = servers.iter().map(|s| s.name.clone()).collect();
            let removed: Vec<String> = state
                .servers
                .keys()
                .filter(|name| !names.contains(*name))
                .cloned()
                .collect();
            for name in removed {
                state.servers.remove(&name);
                changed.push((name, McpStatus::Unknown));
            }
            for spec in servers {
                match state.servers.get_mut(&spec.name) {
                    Some(server) if server.spec == spec => {}
                    Some(server) => {
                        tracing::info!(server = %spec.name, "MCP server configuration changed");
                        // A managed server runs its new command from now on.
                        server.supervisor = None;
                        server.supervisor = self.supervise(&spec);
                        server.spec = spec;
                        server.requested = true;
                        changed.push((server.spec.name.clone(), server.status()));
                    }
                    None => {
                        tracing::info!(server = %spec.name, "MCP server configured");
                        changed.push((spec.name.clone(), McpStatus::Unknown));
                        let supervisor = self.supervise(&spec);
                        state
                            .servers
                            .insert(spec.name.clone(), ServerState::new(spec, supervisor));
                    }
                }
            }
        }
        for (name, status) in changed {
            self.publish_status(name, status, None);
        }
    }

    /// A supervisor for `spec` when it is to be managed (a stdio server named in the options).
    fn supervise(&self, spec: &ServerSpec) -> Option<Arc<Supervisor>> {
        if !self.inner.options.managed.contains(&spec.name) || spec.disabled {
            return None;
        }
        let Transport::Stdio {
            command,
            args,
            env,
            cwd,
        } = &spec.transport
        else {
            tracing::warn!(server = %spec.name, "only stdio MCP servers can be managed; this one is checked only");
            return None;
        };
        let launch = Launch {
            command: command.clone(),
            args: args.clone(),
            env: env.clone(),
            cwd: cwd.clone(),
            repo: self.inner.repo.clone(),
        };
        let inner = Arc::downgrade(&self.inner);
        let name = spec.name.clone();
        // Started or stopped: checked at once (through its session), so the page follows.
        let changed = move || {
            if let Some(inner) = inner.upgrade() {
                if let Some(server) = inner.state.lock().servers.get_mut(&name) {
                    server.requested = true;
                }
                inner.wake.notify_one();
            }
        };
        Some(Arc::new(Supervisor::start(
            launch,
            self.inner.options.timeout,
            changed,
        )))
    }

    /// Starts the checks that are due; returns when the next one is.
    fn start_due_checks(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut state = self.inner.state.lock();
        let mut next: Option<Instant> = None;
        for (name, server) in state.servers.iter_mut() {
            if server.checking {
                continue;
            }
            if server.requested || server.next_check <= now {
                server.requested = false;
                server.checking = true;
                let monitor = self.clone();
                let spec = server.spec.clone();
                let name = name.clone();
                let supervisor = server.supervisor.clone();
                tokio::spawn(async move { monitor.check(name, spec, supervisor).await });
            } else {
                next = Some(next.map_or(server.next_check, |n| n.min(server.next_check)));
            }
        }
        next
    }

    async fn check(self, name: String, spec: ServerSpec, supervisor: Option<Arc<Supervisor>>) {
        let mut outcome = {
            let Ok(_permit) = self.inner.permits.acquire().await else {
                return;
            };
            let timeout = self.inner.options.timeout;
            match supervisor {
                Some(supervisor) => supervisor.check(timeout).await,
                None => probe::check(&spec, &self.inner.repo, timeout).await,
            }
        };
        // What the check reports reaches the page, the API and the log: without the secrets of
        // the server's configuration, which errors (a URL) and servers (their settings) quote.
        let secrets = spec.secret_values();
        outcome.error = outcome.error.map(|error| config::redact(&error, &secrets));
        for line in &mut outcome.stderr_tail {
            *line = config::redact(line, &secrets);
        }
        tracing::debug!(server = %name, status = ?outcome.status, error = ?outcome.error, "MCP server checked");
        let checked_at = Utc::now();
        let (status, error, tools_changed) = {
            let mut state = self.inner.state.lock();
            let Some(server) = state.servers.get_mut(&name) else {
                return;
            };
            server.checking = false;
            server.next_check = Instant::now() + jittered(self.inner.options.check_interval);
            if server.spec != spec {
                // Reconfigured while it was checked: this result is not the new one's.
                server.requested = true;
                return;
            }
            let before: BTreeSet<String> = server
                .last
                .as_ref()
                .filter(|last| !last.tools.is_empty() || last.status == McpStatus::Healthy)
                .map(|last| last.tools.iter().map(|t| t.name.clone()).collect())
                .unwrap_or_default();
            let answered = matches!(outcome.status, McpStatus::Healthy | McpStatus::Degraded);
            let now: BTreeSet<String> = outcome.tools.iter().map(|t| t.name.clone()).collect();
            let tools_changed = if answered && server.last.is_some() && before != now {
                let added: Vec<String> = now.difference(&before).cloned().collect();
                let removed: Vec<String> = before.difference(&now).cloned().collect();
                server.tools_gone = removed.clone();
                Some((added, removed))
            } else {
                if answered && before == now {
                    server.tools_gone.clear();
                }
                None
            };
            server.history.push_front(McpCheck {
                checked_at: checked_at.to_rfc3339_opts(SecondsFormat::Millis, true),
                status: outcome.status,
                latency_ms: outcome.latency.map(millis),
                error: outcome.error.clone(),
            });
            server.history.truncate(MCP_HISTORY);
            server.checked_at = Some(checked_at);
            let status = outcome.status;
            let error = outcome.error.clone();
            // A server that did not answer keeps its last known tools on the page.
            let mut outcome = outcome;
            if !answered {
                if let Some(last) = &server.last {
                    outcome.tools = last.tools.clone();
                    outcome.server_info = last.server_info.clone();
                }
            }
            server.last = Some(outcome);
            (status, error, tools_changed)
        };
        if let Some((added, removed)) = tools_changed {
            tracing::info!(server = %name, ?added, ?removed, "MCP server's tools changed");
            self.inner
                .store
                .mcp_tools_changed(name.clone(), added, removed);
        }
        if status == McpStatus::Down {
            tracing::warn!(server = %name, error = ?error, "MCP server down");
        }
        self.publish_status(name, status, error);
        self.inner.wake.notify_one();
    }

    fn publish_status(&self, name: String, status: McpStatus, error: Option<String>) {
        let health = {
            let state = self.inner.state.lock();
            McpHealth::of(state.servers.values().map(ServerState::status))
        };
        self.inner.store.mcp_status(name, status, error, health);
    }
}

fn view(server: &ServerState) -> McpServer {
    let spec = &server.spec;
    let last = server.last.as_ref();
    let answered = server
        .history
        .iter()
        .filter(|c| matches!(c.status, McpStatus::Healthy | McpStatus::Degraded))
        .count();
    let counted = server
        .history
        .iter()
        .filter(|c| c.status != McpStatus::Disabled)
        .count();
    McpServer {
        name: spec.name.clone(),
        transport: Some(spec.transport_kind()),
        source: spec.source.to_owned(),
        target: spec.target(),
        secret_names: spec.secret_names(),
        status: server.status(),
        error: last.and_then(|l| l.error.clone()),
        stderr_tail: last.map(|l| l.stderr_tail.clone()).unwrap_or_default(),
        latency_ms: last.and_then(|l| l.latency).map(millis),
        checked_at: server
            .checked_at
            .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true)),
        server_info: last.and_then(|l| l.server_info.clone()),
        tools: last.map(|l| l.tools.clone()).unwrap_or_default(),
        tools_gone: server.tools_gone.clone(),
        resources: last.and_then(|l| l.resources),
        prompts: last.and_then(|l| l.prompts),
        history: server.history.iter().cloned().collect(),
        uptime_percent: (counted > 0).then(|| answered as f64 * 100.0 / counted as f64),
        checking: server.checking || server.requested,
        managed: server.supervisor.as_ref().map(|s| s.state()),
    }
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 100_000.0).round() / 100.0
}

/// `interval` ± 10 %, at random.
fn jittered(interval: Duration) -> Duration {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(Instant::now().elapsed().as_nanos() as u64);
    let unit = (hasher.finish() % 10_000) as f64 / 10_000.0;
    interval.mul_f64(0.9 + 0.2 * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent_and_varies() {
        let interval = Duration::from_secs(60);
        let samples: BTreeSet<u128> = (0..50)
            .map(|_| jittered(interval).as_millis())
            .inspect(|ms| assert!((54_000..=66_000).contains(ms), "{ms}"))
            .collect();
        assert!(samples.len() > 10, "{samples:?}");
    }
}
