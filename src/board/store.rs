//! The board in memory: the single source of truth. Every change goes through one method that
//! updates the index, takes the next sequence number and publishes the event, all under one
//! lock, so a snapshot at `seq` plus the events after `seq` is always the current board.
//!
//! Longer than most modules on purpose: every method that changes the board holds the same lock
//! and publishes under it, and that rule is checked most easily with all of them in one place
//! (about 200 of its lines are tests).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use app::model::{
    lane_key, Budgets, Column, CostSummary, CostUpdate, Envelope, FilteredBoard, Keyed, LanePage,
    McpHealth, McpStatus, Problem, ServerEvent, SessionSummary, Task, TaskFilter, TaskPath,
    TaskSummary, LANE_WINDOW,
};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::broadcast;

use super::hub::{Frame, FrameText, Hub};
use super::startup::Startup;
use super::task_file::FileState;
use app::model::ScanProgress;

/// The path a missing board folder is reported under.
pub(crate) const BOARD_FOLDER: &str = "work/collaboration";

/// Files of the repository outside the task folder whose problems show among the task files'
/// (their paths are relative to the repository; no task path starts like them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProblemSource {
    /// `specifications/**/*.md`.
    Specifications,
    /// `.mcp.json`, `.vscode/mcp.json`.
    McpConfig,
    /// `work/collaboration` itself, when it is missing.
    BoardFolder,
}

impl ProblemSource {
    fn owns(self, path: &str) -> bool {
        match self {
            ProblemSource::Specifications => path.starts_with("specifications/"),
            ProblemSource::McpConfig => path == ".mcp.json" || path == ".vscode/mcp.json",
            ProblemSource::BoardFolder => path == BOARD_FOLDER,
        }
    }

    fn any_owns(path: &str) -> bool {
        [
            ProblemSource::Specifications,
            ProblemSource::McpConfig,
            ProblemSource::BoardFolder,
        ]
        .into_iter()
        .any(|source| source.owns(path))
    }
}

#[derive(Debug, Default)]
struct Board {
    seq: u64,
    tasks: BTreeMap<String, Task>,
    problems: BTreeMap<String, Problem>,
    /// Agent folders seen on disk (`assigned/<agent>`, `done/<agent>`), empty ones included.
    lanes: BTreeSet<(Column, String)>,
    /// How many tasks every lane (`inbox`, `assigned/<agent>`, …) holds; lanes without tasks are
    /// left out.
    lane_counts: BTreeMap<String, usize>,
    costs: Option<CostSummary>,
    budgets: Budgets,
    mcp: Option<McpHealth>,
    /// The MCP servers whose last check found them down, with the error it gave.
    mcp_down: BTreeMap<String, Option<String>>,
    /// The agent sessions going on (not ended), by id.
    sessions: BTreeMap<String, SessionSummary>,
}

#[derive(Debug, Default)]
pub struct Store {
    /// Names this process's sequence numbers (they start again with every start).
    instance: Instance,
    board: RwLock<Board>,
    hub: Hub,
    startup: Startup,
    /// The last `connection_ack` and `snapshot` messages, serialized once per `seq` and shared
    /// (the same bytes) by every client that needs one: a thousand clients connecting, or
    /// catching up after falling behind, cost one serialization, not a thousand.
    snapshots: Mutex<SnapshotCache>,
}

#[derive(Debug, Default)]
struct SnapshotCache {
    ack: Option<Frame>,
    snapshot: Option<Frame>,
}

/// A name for one run of the server: 16 hex digits from the clock and the process id.
#[derive(Debug)]
struct Instance(String);

impl Default for Instance {
    fn default() -> Instance {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or_default();
        let mixed =
            (nanos ^ (u64::from(std::process::id()) << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Instance(format!("{mixed:016x}"))
    }
}

/// What a client says it holds when it connects (`/ws?since=<seq>&instance=<instance>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Since {
    pub seq: u64,
    pub instance: String,
}

/// Borrowed form of [`app::model::Snapshot`]: the same JSON, without cloning the tasks.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    instance: &'a str,
    seq: u64,
    tasks: Vec<&'a TaskSummary>,
    lanes: &'a BTreeMap<String, usize>,
    problems: Vec<&'a Problem>,
    costs: Option<&'a CostSummary>,
    budgets: Budgets,
    #[serde(skip_serializing_if = "Option::is_none")]
    mcp: Option<McpHealth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reading: Option<ScanProgress>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sessions: Vec<&'a SessionSummary>,
}

/// Borrowed form of a `connection_ack` / `snapshot` [`Envelope`].
#[derive(Serialize)]
struct SnapshotMessage<'a> {
    seq: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<SnapshotRef<'a>>,
}

/// The counts `/api/stats` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TaskCounts {
    pub inbox: usize,
    pub assigned: usize,
    pub done: usize,
    pub total: usize,
}

impl Board {
    fn snapshot_ref<'a>(
        &'a self,
        instance: &'a Instance,
        reading: Option<ScanProgress>,
    ) -> SnapshotRef<'a> {
        SnapshotRef {
            instance: &instance.0,
            seq: self.seq,
            tasks: self.windows(),
            lanes: &self.lane_counts,
            problems: self.problems.values().collect(),
            costs: self.costs.as_ref(),
            budgets: self.budgets,
            mcp: self.mcp,
            reading,
            sessions: self.shown_sessions().collect(),
        }
    }

    /// The sessions the board shows now (going on, or ended lately).
    fn shown_sessions(&self) -> impl Iterator<Item = &SessionSummary> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        self.sessions.values().filter(move |s| s.shown_at(now_ms))
    }

    /// The first [`LANE_WINDOW`] tasks of every lane, each lane in the board's order.
    fn windows(&self) -> Vec<&TaskSummary> {
        let mut by_lane: BTreeMap<(Column, Option<&str>), Vec<&TaskSummary>> = BTreeMap::new();
        for task in self.tasks.values() {
            by_lane
                .entry((task.column, task.lane.as_deref()))
                .or_default()
                .push(&task.summary);
        }
        by_lane
            .into_values()
            .flat_map(|mut lane| {
                lane.sort_by(|a, b| a.board_order(b));
                lane.truncate(LANE_WINDOW);
                lane
            })
            .collect()
    }

    /// The tasks of one lane in the board's order.
    fn lane(&self, column: Column, lane: Option<&str>) -> Vec<&TaskSummary> {
        let mut tasks: Vec<&TaskSummary> = self
            .tasks
            .values()
            .map(|t| &t.summary)
            .filter(|t| t.column == column && t.lane.as_deref() == lane)
            .collect();
        tasks.sort_by(|a, b| a.board_order(b));
        tasks
    }

    fn insert(&mut self, path: String, task: Task) -> Option<Task> {
        *self.lane_counts.entry(task.lane_key()).or_default() += 1;
        let old = self.tasks.insert(path, task);
        if let Some(old) = &old {
            self.uncount(&old.lane_key());
        }
        old
    }

    fn remove(&mut self, path: &str) -> Option<Task> {
        let old = self.tasks.remove(path);
        if let Some(old) = &old {
            self.uncount(&old.lane_key());
        }
        old
    }

    fn uncount(&mut self, lane: &str) {
        if let Some(count) = self.lane_counts.get_mut(lane) {
            *count -= 1;
            if *count == 0 {
                self.lane_counts.remove(lane);
            }
        }
    }

    /// The counts of the lanes `paths` sit in (0 for a lane left empty), for an event's envelope.
    fn counts_of(&self, paths: &[&str]) -> Keyed<usize> {
        paths
            .iter()
            .filter_map(|path| TaskPath::parse(path))
            .map(|at| {
                let lane = lane_key(at.column, at.lane.as_deref());
                let count = self.lane_counts.get(&lane).copied().unwrap_or(0);
                (lane, count)
            })
            .collect()
    }

    /// A `connection_ack` or `snapshot` message; without the board when `snapshot` is false (an
    /// ack to a client that holds it already).
    fn snapshot_json(
        &self,
        kind: &'static str,
        instance: &Instance,
        reading: Option<ScanProgress>,
        snapshot: bool,
    ) -> FrameText {
        let message = SnapshotMessage {
            seq: self.seq,
            kind,
            version: (kind == "connection_ack").then_some(env!("CARGO_PKG_VERSION")),
            snapshot: snapshot.then(|| self.snapshot_ref(instance, reading)),
        };
        serde_json::to_string(&message)
            .expect("snapshot serializes")
            .into()
    }
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    pub fn seq(&self) -> u64 {
        self.board.read().seq
    }

    /// This run's name (in snapshots, so a client can tell a restarted server).
    pub fn instance(&self) -> &str {
        &self.instance.0
    }

    /// The first scan of the board: progress, and when it is over.
    pub fn startup(&self) -> &Startup {
        &self.startup
    }

    /// The first scan is over: snapshots taken during it (which say "reading") are let go.
    pub(crate) fn finish_startup(&self) {
        let mut cache = self.snapshots.lock();
        self.startup.finish();
        *cache = SnapshotCache::default();
    }

    /// The board as a client starts from it (the first cards of every lane), cloned.
    pub fn snapshot(&self) -> app::model::Snapshot {
        let board = self.board.read();
        app::model::Snapshot {
            instance: self.instance.0.clone(),
            seq: board.seq,
            tasks: board.windows().into_iter().cloned().collect(),
            lanes: board
                .lane_counts
                .iter()
                .map(|(lane, count)| (lane.clone(), *count))
                .collect(),
            problems: board.problems.values().cloned().collect(),
            costs: board.costs.clone(),
            budgets: board.budgets,
            mcp: board.mcp,
            reading: self.startup.progress(),
            sessions: board.shown_sessions().cloned().collect(),
        }
    }

    /// A new subscriber: its `connection_ack` (the board now) and the receiver of every event
    /// after it. Taken under one lock, so nothing falls between the two. A client that holds the
    /// board as it is now (`since`) gets an ack without it: a page that just loaded has it, and
    /// a thousand of them then cost a thousand small messages, not a thousand copies of the board
    /// in their sockets' write buffers.
    pub fn subscribe(&self, since: Option<&Since>) -> (Frame, broadcast::Receiver<Frame>) {
        let board = self.board.read();
        let receiver = self.hub.subscribe();
        let current =
            since.is_some_and(|since| since.seq == board.seq && since.instance == self.instance.0);
        let frame = if current {
            Frame {
                seq: board.seq,
                json: board.snapshot_json("connection_ack", &self.instance, None, false),
            }
        } else {
            self.cached(&board, "connection_ack")
        };
        (frame, receiver)
    }

    /// A `snapshot` message of the board now.
    pub fn snapshot_frame(&self) -> Frame {
        let board = self.board.read();
        self.cached(&board, "snapshot")
    }

    /// The `kind` message of `board` (read-locked by the caller, so its `seq` names its content).
    fn cached(&self, board: &Board, kind: &'static str) -> Frame {
        let mut cache = self.snapshots.lock();
        let slot = if kind == "connection_ack" {
            &mut cache.ack
        } else {
            &mut cache.snapshot
        };
        match slot {
            Some(frame) if frame.seq == board.seq => frame.clone(),
            _ => {
                let frame = Frame {
                    seq: board.seq,
                    json: board.snapshot_json(kind, &self.instance, self.startup.progress(), true),
                };
                *slot = Some(frame.clone());
                frame
            }
        }
    }

    /// Every task, whole (cloned).
    pub fn tasks(&self) -> Vec<Task> {
        self.board.read().tasks.values().cloned().collect()
    }

    /// One task, whole, by its path.
    pub fn task(&self, path: &str) -> Option<Task> {
        self.board.read().tasks.get(path).cloned()
    }

    /// The cards `filter` matches (their descriptions searched too): at most `per_lane` of each
    /// lane in the board's order, and every lane's count of matches.
    pub fn filtered(&self, filter: &TaskFilter, per_lane: usize) -> FilteredBoard {
        let board = self.board.read();
        let mut by_lane: BTreeMap<String, Vec<&TaskSummary>> = BTreeMap::new();
        for task in board.tasks.values() {
            if filter.matches(task, task.description.as_deref()) {
                by_lane
                    .entry(task.lane_key())
                    .or_default()
                    .push(&task.summary);
            }
        }
        let mut lanes = Keyed::default();
        let mut tasks = Vec::new();
        for (lane, mut matching) in by_lane {
            lanes.insert(lane, matching.len());
            matching.sort_by(|a, b| a.board_order(b));
            tasks.extend(matching.into_iter().take(per_lane).cloned());
        }
        FilteredBoard {
            filter: filter.clone(),
            seq: board.seq,
            tasks,
            lanes,
        }
    }

    /// Up to `limit` cards of a lane from `offset` on, in the board's order.
    pub fn lane_page(
        &self,
        column: Column,
        lane: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> LanePage {
        let board = self.board.read();
        let tasks = board.lane(column, lane);
        LanePage {
            seq: board.seq,
            lane: lane_key(column, lane),
            count: tasks.len(),
            offset,
            tasks: tasks
                .into_iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
        }
    }

    /// Serializes the snapshot (typed form) without cloning.
    pub fn snapshot_body(&self) -> String {
        let board = self.board.read();
        let reading = self.startup.progress();
        serde_json::to_string(&board.snapshot_ref(&self.instance, reading))
            .expect("snapshot serializes")
    }

    pub fn subscribers(&self) -> usize {
        self.hub.subscribers()
    }

    /// Runs `f` with read access to tasks, problems and lanes.
    pub fn with_tasks<R>(
        &self,
        f: impl FnOnce(
            &BTreeMap<String, Task>,
            &BTreeMap<String, Problem>,
            &BTreeSet<(Column, String)>,
        ) -> R,
    ) -> R {
        let board = self.board.read();
        f(&board.tasks, &board.problems, &board.lanes)
    }

    /// How many files are problems now.
    pub fn problem_count(&self) -> usize {
        self.board.read().problems.len()
    }

    pub fn counts(&self) -> TaskCounts {
        let board = self.board.read();
        let mut counts = TaskCounts::default();
        for task in board.tasks.values() {
            match task.column {
                Column::Inbox => counts.inbox += 1,
                Column::Assigned => counts.assigned += 1,
                Column::Done => counts.done += 1,
            }
        }
        counts.total = board.tasks.len();
        counts
    }

    /// Whether the board knows `relative` (as a task or a problem).
    pub fn knows(&self, relative: &str) -> bool {
        let board = self.board.read();
        board.tasks.contains_key(relative) || board.problems.contains_key(relative)
    }

    /// Paths the board knows at or below `prefix` (a file or a folder, relative).
    pub fn known_under(&self, prefix: &str) -> Vec<String> {
        let board = self.board.read();
        let folder = format!("{prefix}/");
        // Specification and MCP configuration problems are not the task folder's: a scan of the
        // whole folder must not take them for files that vanished.
        let under = |p: &&String| {
            !ProblemSource::any_owns(p)
                && (p.as_str() == prefix || p.starts_with(&folder) || prefix.is_empty())
        };
        let mut paths: BTreeSet<String> = board.tasks.keys().filter(under).cloned().collect();
        paths.extend(board.problems.keys().filter(under).cloned());
        paths.into_iter().collect()
    }

    /// Known task paths with this file name (for pairing a file that appeared with one that
    /// vanished: a move whose halves were seen apart).
    pub fn paths_named(&self, file_name: &str) -> Vec<String> {
        let board = self.board.read();
        board
            .tasks
            .keys()
            .filter(|p| p.rsplit('/').next() == Some(file_name))
            .cloned()
            .collect()
    }

    /// Records which agent folders exist.
    pub fn set_lane(&self, column: Column, lane: &str, exists: bool) {
        let mut board = self.board.write();
        let key = (column, lane.to_owned());
        if exists {
            board.lanes.insert(key);
        } else {
            board.lanes.remove(&key);
        }
    }

    pub fn set_budgets(&self, budgets: Budgets) {
        let mut board = self.board.write();
        board.budgets = budgets;
        // Budgets are in the snapshots but change no `seq`.
        *self.snapshots.lock() = SnapshotCache::default();
    }

    pub fn budgets(&self) -> Budgets {
        self.board.read().budgets
    }

    /// The MCP servers down at their last check (removed from the configuration: no longer),
    /// with the error each gave.
    pub fn mcp_servers_down(&self) -> Vec<(String, Option<String>)> {
        let board = self.board.read();
        board
            .mcp_down
            .iter()
            .map(|(name, error)| (name.clone(), error.clone()))
            .collect()
    }

    pub fn costs(&self) -> Option<CostSummary> {
        self.board.read().costs.clone()
    }

    /// New cost figures: publishes `cost.update` when they differ from the last ones (the time
    /// they were computed aside), and `budget.alert` for each budget they newly exceed.
    pub fn set_costs(&self, summary: CostSummary) -> Vec<u64> {
        let mut board = self.board.write();
        if let Some(old) = &board.costs {
            let unchanged = CostSummary {
                generated_at: old.generated_at.clone(),
                ..summary.clone()
            } == *old;
            if unchanged {
                return Vec::new();
            }
        }
        let alerts = board
            .budgets
            .newly_exceeded(board.costs.as_ref().map(|c| &c.totals), &summary.totals);
        board.costs = Some(summary);
        let mut published = vec![self.publish(&mut board, |b| {
            ServerEvent::CostUpdate(CostUpdate {
                summary: b.costs.clone().unwrap_or_default(),
            })
        })];
        for alert in alerts {
            tracing::warn!(?alert.period, alert.limit_usd, alert.spent_usd, "budget exceeded");
            published.push(self.publish(&mut board, |_| ServerEvent::BudgetAlert(alert)));
        }
        published
    }

    /// The files of `source` that cannot be read, now: each new or changed one is published as
    /// `task.invalid`, each one mended or gone as `task.deleted` (no task path starts like
    /// theirs), so they show in Problems like task files.
    pub(crate) fn set_problems_of(
        &self,
        source: ProblemSource,
        problems: Vec<Problem>,
    ) -> Vec<u64> {
        let mut board = self.board.write();
        let mut published = Vec::new();
        let gone: Vec<String> = board
            .problems
            .keys()
            .filter(|p| source.owns(p) && !problems.iter().any(|n| n.path == **p))
            .cloned()
            .collect();
        for path in gone {
            board.problems.remove(&path);
            published.push(self.publish(&mut board, |_| ServerEvent::TaskDeleted {
                path,
                moved_to: None,
            }));
        }
        for problem in problems.into_iter().filter(|p| source.owns(&p.path)) {
            if board.problems.get(&problem.path) == Some(&problem) {
                continue;
            }
            board.problems.insert(problem.path.clone(), problem.clone());
            published.push(self.publish(&mut board, |_| ServerEvent::TaskInvalid { problem }));
        }
        published
    }

    /// Specification files changed (`paths`, relative to the repository): publishes
    /// `portfolio.updated`.
    pub fn specifications_changed(&self, paths: Vec<String>) -> u64 {
        let mut board = self.board.write();
        self.publish(&mut board, |_| ServerEvent::PortfolioUpdated { paths })
    }

    /// An MCP server's status after a check (or a change of the configuration, a start, a
    /// stop): published as `mcp.server.status`, with every server's `health` for the header.
    pub fn mcp_status(
        &self,
        name: String,
        status: McpStatus,
        error: Option<String>,
        health: McpHealth,
    ) -> u64 {
        let mut board = self.board.write();
        board.mcp = (health.configured > 0).then_some(health);
        if status == McpStatus::Down {
            board.mcp_down.insert(name.clone(), error.clone());
        } else {
            board.mcp_down.remove(&name);
        }
        self.publish(&mut board, |_| ServerEvent::McpServerStatus {
            name,
            status,
            error,
            health,
        })
    }

    /// An agent session's summary changed: `session.updated`. The board keeps the sessions it
    /// shows: going on, or ended lately (`SessionSummary::shown_at`).
    pub fn session_updated(&self, session: SessionSummary) -> u64 {
        let mut board = self.board.write();
        let now_ms = chrono::Utc::now().timestamp_millis();
        board.sessions.insert(session.id.clone(), session.clone());
        board.sessions.retain(|_, s| s.shown_at(now_ms));
        self.publish(&mut board, |_| ServerEvent::SessionUpdated { session })
    }

    /// An alert was raised or its delivery changed: `alert`.
    pub fn alert(&self, alert: app::model::Alert) -> u64 {
        let mut board = self.board.write();
        self.publish(&mut board, |_| ServerEvent::Alert { alert })
    }

    /// The tools an MCP server offers changed since its last check: `mcp.tools.changed`.
    pub fn mcp_tools_changed(&self, name: String, added: Vec<String>, removed: Vec<String>) -> u64 {
        let mut board = self.board.write();
        self.publish(&mut board, |_| ServerEvent::McpToolsChanged {
            name,
            added,
            removed,
        })
    }

    /// The disk says `relative` is now `state`: update and publish, if anything changed.
    pub fn set(&self, relative: &str, state: FileState) -> Option<u64> {
        self.set_on(&mut self.board.write(), relative, state)
    }

    /// [`Store::set`] for many files under one lock (a scan's thousands).
    pub fn set_all(&self, states: impl IntoIterator<Item = (String, FileState)>) {
        let mut board = self.board.write();
        for (relative, state) in states {
            self.set_on(&mut board, &relative, state);
        }
    }

    fn set_on(&self, board: &mut Board, relative: &str, state: FileState) -> Option<u64> {
        let path = relative.to_owned();
        match state {
            FileState::Task(task) => {
                let had_problem = board.problems.remove(relative).is_some();
                let existed = match board.tasks.get(relative) {
                    // Same content: no change, even if the file was rewritten (its mtime moved).
                    Some(old) if old.document == task.document && !had_problem => return None,
                    Some(_) => true,
                    None => false,
                };
                board.insert(path.clone(), *task);
                Some(self.publish(board, |b| {
                    let task = b.tasks[&path].summary.clone();
                    if existed {
                        ServerEvent::TaskUpdated { task }
                    } else {
                        ServerEvent::TaskCreated { task }
                    }
                }))
            }
            FileState::Invalid(problem) => {
                if board.problems.get(relative) == Some(&problem) {
                    return None;
                }
                board.problems.insert(path.clone(), problem);
                Some(self.publish(board, |b| ServerEvent::TaskInvalid {
                    problem: b.problems[&path].clone(),
                }))
            }
            FileState::Absent => {
                let had_task = board.remove(relative).is_some();
                let had_problem = board.problems.remove(relative).is_some();
                if !had_task && !had_problem {
                    return None;
                }
                Some(self.publish(board, |_| ServerEvent::TaskDeleted {
                    path,
                    moved_to: None,
                }))
            }
        }
    }

    /// The file at `from` is now at `to`, where the disk says `state`.
    pub fn moved(&self, from: &str, to: &str, state: FileState) -> Vec<u64> {
        if !self.knows(from) {
            return self.set(to, state).into_iter().collect();
        }
        let mut board = self.board.write();
        let from_column = board.remove(from).map(|t| t.column);
        board.problems.remove(from);
        let (from, to) = (from.to_owned(), to.to_owned());
        let mut published = Vec::new();
        match state {
            FileState::Task(task) => {
                board.problems.remove(&to);
                let to_column = task.column;
                board.insert(to.clone(), *task);
                published.push(self.publish(&mut board, |b| {
                    let task = b.tasks[&to].summary.clone();
                    match (from_column, to_column) {
                        (Some(Column::Inbox), Column::Assigned) => {
                            ServerEvent::TaskAssigned { from, task }
                        }
                        (Some(c), Column::Done) if c != Column::Done => {
                            ServerEvent::TaskCompleted { from, task }
                        }
                        _ => ServerEvent::TaskMoved { from, task },
                    }
                }));
            }
            FileState::Invalid(problem) => {
                let moved_to = Some(to.clone());
                published.push(self.publish(&mut board, |_| ServerEvent::TaskDeleted {
                    path: from,
                    moved_to,
                }));
                board.problems.insert(to.clone(), problem);
                published.push(self.publish(&mut board, |b| ServerEvent::TaskInvalid {
                    problem: b.problems[&to].clone(),
                }));
            }
            FileState::Absent => {
                let moved_to = TaskPath::parse(&to).is_none().then_some(to);
                published.push(self.publish(&mut board, |_| ServerEvent::TaskDeleted {
                    path: from,
                    moved_to,
                }));
            }
        }
        published
    }

    /// Takes the next sequence number and, when anyone listens, builds the event, serializes it
    /// once and sends it to the hub. Called with the write lock held, so `seq` order is
    /// broadcast order. (Nobody can subscribe meanwhile: subscribing takes the read lock.)
    /// A task change carries the new counts of the lanes it touched.
    fn publish(&self, board: &mut Board, event: impl FnOnce(&Board) -> ServerEvent) -> u64 {
        board.seq += 1;
        // The cached snapshots no longer describe the board: let them go now (a large board's
        // are megabytes), not when the next client asks.
        *self.snapshots.lock() = SnapshotCache::default();
        if self.hub.subscribers() > 0 {
            let event = event(board);
            let envelope = Envelope {
                lanes: board.counts_of(&event.task_paths()),
                ..Envelope::new(board.seq, event)
            };
            let json = serde_json::to_string(&envelope).expect("events serialize");
            self.hub.publish(Frame {
                seq: board.seq,
                json: json.into(),
            });
        }
        board.seq
    }
}

/// Shared handle.
pub type SharedStore = Arc<Store>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::task_file;

    #[test]
    fn specification_problems_come_and_go_and_no_folder_scan_takes_them() {
        let store = Store::new();
        store.set("inbox/a.yaml", state("inbox/a.yaml", "id: a\ntitle: A\n"));
        let broken = Problem {
            path: "specifications/x.md".into(),
            line: Some(3),
            column: Some(1),
            reason: "front matter is not valid YAML".into(),
        };
        assert_eq!(
            store
                .set_problems_of(ProblemSource::Specifications, vec![broken.clone()])
                .len(),
            1
        );
        assert!(
            store
                .set_problems_of(ProblemSource::Specifications, vec![broken])
                .is_empty(),
            "unchanged: nothing published"
        );
        assert_eq!(store.snapshot().problems.len(), 1);
        // A scan of the whole task folder compares what it finds with these paths only.
        assert_eq!(store.known_under(""), ["inbox/a.yaml"]);
        assert_eq!(
            store
                .set_problems_of(ProblemSource::Specifications, Vec::new())
                .len(),
            1,
            "mended"
        );
        assert!(store.snapshot().problems.is_empty());
    }

    fn state(path: &str, yaml: &str) -> FileState {
        let location = TaskPath::parse(path).unwrap();
        match task_file::parse(path, &location, yaml.as_bytes(), None) {
            Ok(task) => FileState::Task(Box::new(task)),
            Err(problem) => FileState::Invalid(problem),
        }
    }

    #[test]
    fn one_event_per_real_change_and_snapshot_agrees() {
        let store = Store::new();
        let (_, mut events) = store.subscribe(None);
        assert_eq!(
            store.set("inbox/a.yaml", state("inbox/a.yaml", "id: a\n")),
            Some(1)
        );
        assert_eq!(
            store.set("inbox/a.yaml", state("inbox/a.yaml", "id: a\n")),
            None
        );
        assert_eq!(
            store.set("inbox/a.yaml", state("inbox/a.yaml", "id: a\ntitle: b\n")),
            Some(2)
        );
        let moved = store.moved(
            "inbox/a.yaml",
            "assigned/bob/a.yaml",
            state("assigned/bob/a.yaml", "id: a\ntitle: b\n"),
        );
        assert_eq!(moved, vec![3]);
        let names: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
            .map(|f| {
                serde_json::from_str::<Envelope>(&f.json)
                    .unwrap()
                    .event
                    .name()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, ["task.created", "task.updated", "task.assigned"]);
        let snapshot = store.snapshot();
        assert_eq!(snapshot.seq, 3);
        assert_eq!(snapshot.tasks[0].path, "assigned/bob/a.yaml");
        let ack: Envelope = serde_json::from_str(&store.subscribe(None).0.json).unwrap();
        assert_eq!(
            ack.event,
            ServerEvent::ConnectionAck {
                version: env!("CARGO_PKG_VERSION").into(),
                snapshot: Some(snapshot)
            }
        );
    }

    #[test]
    fn clients_at_one_seq_share_one_snapshot_and_a_change_makes_a_new_one() {
        let store = Store::new();
        store.set("inbox/a.yaml", state("inbox/a.yaml", "id: a\n"));
        let (first, _) = store.subscribe(None);
        let (second, _) = store.subscribe(None);
        assert_eq!(first.json.as_str().as_ptr(), second.json.as_str().as_ptr());
        assert!(store.snapshots.lock().ack.is_some());

        store.set("inbox/b.yaml", state("inbox/b.yaml", "id: b\n"));
        assert!(
            store.snapshots.lock().ack.is_none(),
            "a stale snapshot is let go"
        );
        let (third, _) = store.subscribe(None);
        assert_eq!(third.seq, 2);
        assert!(third.json.as_str().contains("inbox/b.yaml"));
        assert_eq!(store.snapshot_frame().seq, 2);
    }

    #[test]
    fn snapshots_carry_each_lanes_first_cards_and_events_the_counts_they_change() {
        let store = Store::new();
        let total = LANE_WINDOW + 7;
        for n in 0..total {
            let path = format!("done/bob/t{n:03}.yaml");
            let yaml = format!(
                "id: t{n}\nupdated_at: 2026-01-01T00:{:02}:{:02}Z\n",
                n / 60,
                n % 60
            );
            store.set(&path, state(&path, &yaml));
        }
        store.set("inbox/a.yaml", state("inbox/a.yaml", "id: a\n"));
        let snapshot = store.snapshot();
        assert_eq!(snapshot.tasks.len(), LANE_WINDOW + 1);
        assert_eq!(snapshot.lanes["done/bob"], total);
        assert_eq!(snapshot.lanes["inbox"], 1);
        let done: Vec<&str> = snapshot
            .tasks
            .iter()
            .filter(|t| t.column == Column::Done)
            .map(|t| t.path.as_str())
            .collect();
        assert_eq!(
            done[0],
            format!("done/bob/t{:03}.yaml", total - 1),
            "newest first"
        );
        assert_eq!(done.len(), LANE_WINDOW);

        let page = store.lane_page(Column::Done, Some("bob"), LANE_WINDOW, 100);
        assert_eq!((page.count, page.tasks.len()), (total, 7));
        assert_eq!(page.tasks.last().unwrap().path, "done/bob/t000.yaml");

        let (_, mut events) = store.subscribe(None);
        store.moved(
            "inbox/a.yaml",
            "done/bob/a.yaml",
            state("done/bob/a.yaml", "id: a\n"),
        );
        store.set("done/bob/t000.yaml", FileState::Absent);
        let counts: Vec<Keyed<usize>> = std::iter::from_fn(|| events.try_recv().ok())
            .map(|f| serde_json::from_str::<Envelope>(&f.json).unwrap().lanes)
            .collect();
        assert_eq!(
            counts,
            [
                Keyed::from_iter([("done/bob".to_owned(), total + 1), ("inbox".to_owned(), 0)]),
                Keyed::from_iter([("done/bob".to_owned(), total)]),
            ]
        );
        assert!(
            !store.snapshot().lanes.contains_key("inbox"),
            "an empty lane is left out"
        );
        assert!(store
            .task("done/bob/a.yaml")
            .is_some_and(|t| t.document.json().contains("\"a\"")));
    }

    #[test]
    fn a_broken_file_keeps_its_last_good_task() {
        let store = Store::new();
        store.set("inbox/a.yaml", state("inbox/a.yaml", "id: a\n"));
        store.set("inbox/a.yaml", state("inbox/a.yaml", "id: [\n"));
        let snapshot = store.snapshot();
        assert_eq!(snapshot.tasks.len(), 1);
        assert_eq!(snapshot.problems.len(), 1);
        store.set("inbox/a.yaml", FileState::Absent);
        let snapshot = store.snapshot();
        assert!(snapshot.tasks.is_empty() && snapshot.problems.is_empty());
        assert_eq!(snapshot.seq, 3);
    }

    #[test]
    fn completed_and_moved_out() {
        let store = Store::new();
        store.set("assigned/x/a.yaml", state("assigned/x/a.yaml", "id: a\n"));
        let (_, mut events) = store.subscribe(None);
        store.moved(
            "assigned/x/a.yaml",
            "done/x/a.yaml",
            state("done/x/a.yaml", "id: a\n"),
        );
        store.moved("done/x/a.yaml", "archive/a.yaml", FileState::Absent);
        let messages: Vec<Envelope> = std::iter::from_fn(|| events.try_recv().ok())
            .map(|f| serde_json::from_str(&f.json).unwrap())
            .collect();
        assert_eq!(messages[0].event.name(), "task.completed");
        assert_eq!(
            messages[1].event,
            ServerEvent::TaskDeleted {
                path: "done/x/a.yaml".into(),
                moved_to: Some("archive/a.yaml".into())
            }
        );
    }

    #[test]
    fn cost_figures_publish_only_when_they_change_and_alert_once_per_budget() {
        use app::model::{BudgetAlert, BudgetPeriod, CostTotals};
        let store = Store::new();
        store.set_budgets(Budgets {
            daily_usd: Some(1.0),
            monthly_usd: None,
        });
        let (_, mut events) = store.subscribe(None);
        let summary = |today: f64, generated_at: &str| CostSummary {
            totals: CostTotals {
                today,
                month: today,
                total: today,
                invocations: 1,
            },
            generated_at: generated_at.into(),
            ..Default::default()
        };
        assert_eq!(store.set_costs(summary(0.5, "10:00")), vec![1]);
        assert!(
            store.set_costs(summary(0.5, "10:01")).is_empty(),
            "the same figures computed again are no change"
        );
        assert_eq!(store.set_costs(summary(1.5, "10:02")), vec![2, 3]);
        assert_eq!(
            store.set_costs(summary(1.7, "10:03")),
            vec![4],
            "a budget already exceeded alerts no more"
        );
        let messages: Vec<Envelope> = std::iter::from_fn(|| events.try_recv().ok())
            .map(|f| serde_json::from_str(&f.json).unwrap())
            .collect();
        let names: Vec<&str> = messages.iter().map(|m| m.event.name()).collect();
        assert_eq!(
            names,
            ["cost.update", "cost.update", "budget.alert", "cost.update"]
        );
        assert_eq!(
            messages[2].event,
            ServerEvent::BudgetAlert(BudgetAlert {
                period: BudgetPeriod::Daily,
                limit_usd: 1.0,
                spent_usd: 1.5
            })
        );
        assert_eq!(store.costs().unwrap().totals.today, 1.7);
    }
}
