//! Helpers for the integration tests: a real temp workspace, the real watcher, a real server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::{Envelope, Snapshot};
use app::state::BoardModel;
use execdash::{watch_board, Config, Frame, RunningServer, SharedStore, Store, WatcherHandle};
use tokio::sync::broadcast;

/// How often [`eventually`] and [`eventually_blocking`] look again.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// What a check of [`eventually`] answers: `true` once the condition holds, or `Ok(())` once it
/// holds and `Err(what was seen instead)`, which the panic shows if it never holds in time.
pub trait Outcome {
    fn seen(self) -> Result<(), String>;
}

impl Outcome for bool {
    fn seen(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err(String::new())
        }
    }
}

impl Outcome for Result<(), String> {
    fn seen(self) -> Result<(), String> {
        self
    }
}

/// Runs `check` every 10 ms until it holds, and returns how long that took; panics naming `what`
/// and `within` (and what the last check saw, if it says) when it does not hold within `within`.
/// The one way the tests wait for something that happens on its own time.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future,
    Fut::Output: Outcome,
{
    let started = Instant::now();
    loop {
        let seen = match check().await.seen() {
            Ok(()) => return started.elapsed(),
            Err(seen) => seen,
        };
        timed_out(what, within, started, &seen);
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// [`eventually`] for code that must not await (a synchronous test, a constructor): sleeps the
/// thread between the checks.
#[track_caller]
pub fn eventually_blocking<C: Outcome>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> C,
) -> Duration {
    let started = Instant::now();
    loop {
        let seen = match check().seen() {
            Ok(()) => return started.elapsed(),
            Err(seen) => seen,
        };
        timed_out(what, within, started, &seen);
        std::thread::sleep(POLL_EVERY);
    }
}

#[track_caller]
fn timed_out(what: &str, within: Duration, started: Instant, seen: &str) {
    if started.elapsed() >= within {
        let seen = if seen.is_empty() {
            String::new()
        } else {
            format!("; last seen: {seen}")
        };
        panic!("not within {within:?}: {what}{seen}");
    }
}

/// The path of an MCP reference server from npm (`mcp-server-everything`, …) that
/// scripts/bootstrap installs.
pub fn npm_server(name: &str) -> String {
    let path = repo().join("end2end/node_modules/.bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/bootstrap (it installs the MCP reference servers)",
        path.display()
    );
    path.display().to_string()
}

/// `GET /api/sessions/{id}`, and the kinds of its events in order.
pub async fn session_detail(server: &RunningServer, id: &str) -> (serde_json::Value, Vec<String>) {
    let detail: serde_json::Value =
        reqwest::get(format!("http://{}/api/sessions/{id}", server.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let kinds = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    (detail, kinds)
}

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// An empty board (inbox/, assigned/, done/).
    pub fn empty() -> Workspace {
        let workspace = Workspace::bare();
        for folder in ["inbox", "assigned", "done"] {
            std::fs::create_dir_all(workspace.collab().join(folder)).unwrap();
        }
        workspace
    }

    /// No work/collaboration at all.
    pub fn bare() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A copy of the bundled demo workspace (the real fixtures and a few more, and the
    /// specifications they name).
    pub fn demo() -> Workspace {
        let workspace = Workspace::bare();
        for folder in ["work", "specifications"] {
            copy_dir(
                &repo().join("demo").join(folder),
                &workspace.root().join(folder),
            );
        }
        workspace
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn collab(&self) -> PathBuf {
        self.root().join("work/collaboration")
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.collab().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A loopback port nothing listens on now (for a server the test starts itself).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A real server for `workspace` on a free loopback port, with settings changed by `adjust`.
pub async fn start_server(
    workspace: &Workspace,
    adjust: impl FnOnce(&mut Config),
) -> RunningServer {
    let mut config = Config::new(workspace.root());
    config.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.site_root = Some(workspace.root().join("no-site"));
    adjust(&mut config);
    execdash::start(config).await.unwrap()
}

pub fn task_yaml(id: &str, title: &str) -> String {
    format!("id: {id}\ntitle: \"{title}\"\nagent: tester\nstatus: new\npriority: high\n")
}

/// The real watcher on a workspace, and a subscriber that records every event.
pub struct Watched {
    pub store: SharedStore,
    pub board: BoardModel,
    pub events: Vec<Envelope>,
    collab: PathBuf,
    sentinels: usize,
    receiver: broadcast::Receiver<Frame>,
    _watcher: WatcherHandle,
}

impl Watched {
    pub fn start(workspace: &Workspace) -> Watched {
        let store = Arc::new(Store::new());
        let watcher = watch_board(workspace.collab(), store.clone()).unwrap();
        let (ack, receiver) = store.subscribe(None);
        let ack: Envelope = serde_json::from_str(&ack.json).unwrap();
        let mut board = BoardModel::default();
        board.apply(ack);
        Watched {
            store,
            board,
            events: Vec::new(),
            collab: workspace.collab(),
            sentinels: 0,
            receiver,
            _watcher: watcher,
        }
    }

    /// Receives events until `done(self)` holds, or panics after 10 s (with the events so far).
    #[track_caller]
    pub fn wait_until(&mut self, what: &str, done: impl Fn(&Watched) -> bool) {
        eventually_blocking(what, Duration::from_secs(10), || {
            self.drain();
            if done(self) {
                Ok(())
            } else {
                Err(format!("events: {:?}", self.names()))
            }
        });
    }

    /// Receives everything the watcher had to say about the changes made so far, so that a test
    /// can show nothing extra came. A sentinel task is written and removed after them: the
    /// watcher handles events in order on one thread, so once the sentinel's `task.created` and
    /// `task.deleted` arrived, so did every event of the earlier changes. The sentinel's own two
    /// events are left out of `events`.
    pub fn settle(&mut self) {
        self.sentinels += 1;
        let relative = format!("inbox/zz-sentinel-{}.yaml", self.sentinels);
        let file = self.collab.join(&relative);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "id: sentinel\n").unwrap();
        let is_sentinel = |event: &Envelope| match &event.event {
            app::model::ServerEvent::TaskCreated { task } => task.path == relative,
            app::model::ServerEvent::TaskDeleted { path, .. } => *path == relative,
            _ => false,
        };
        self.wait_until("the sentinel task", |w| w.events.iter().any(is_sentinel));
        // Moved out of the tree, its removal waits for the rename's pair like every rename
        // before it, so every timer the watcher had running has fired by then.
        std::fs::rename(
            &file,
            self.collab
                .join(format!("../zz-sentinel-{}.yaml", self.sentinels)),
        )
        .unwrap();
        self.wait_until("the sentinel's removal", |w| {
            w.events.iter().filter(|e| is_sentinel(e)).count() == 2
        });
        self.events.retain(|event| !is_sentinel(event));
    }

    fn drain(&mut self) {
        while let Ok(frame) = self.receiver.try_recv() {
            let envelope: Envelope = serde_json::from_str(&frame.json).unwrap();
            assert_ne!(
                self.board.apply(envelope.clone()),
                app::state::Applied::Gap,
                "events must arrive without gaps"
            );
            self.events.push(envelope);
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.event.name()).collect()
    }

    pub fn clear(&mut self) {
        self.drain();
        self.events.clear();
    }

    pub fn snapshot(&self) -> Snapshot {
        self.store.snapshot()
    }

    /// Every task's path (the snapshot holds only the first cards of each lane).
    pub fn paths(&self) -> Vec<String> {
        self.store
            .tasks()
            .into_iter()
            .map(|t| t.path.clone())
            .collect()
    }

    /// The board built from the events equals the store, and the store equals a fresh scan of
    /// the disk.
    pub fn assert_consistent(&mut self, workspace: &Workspace) {
        self.drain();
        let snapshot = self.snapshot();
        assert_eq!(self.board.seq, snapshot.seq);
        let from_store = BoardModel::from_snapshot(snapshot);
        assert_eq!(
            shown(&self.board),
            shown(&from_store),
            "events replayed must show what the store shows"
        );
        let fresh = Arc::new(Store::new());
        let rescan = watch_board(workspace.collab(), fresh.clone()).unwrap();
        drop(rescan);
        let strip = |s: &Store| {
            let mut tasks: Vec<_> = s
                .tasks()
                .into_iter()
                .map(|t| (t.path.clone(), t.document.clone()))
                .collect();
            tasks.sort_by(|a, b| a.0.cmp(&b.0));
            let problems: Vec<_> = s.snapshot().problems.into_iter().map(|p| p.path).collect();
            (tasks, problems)
        };
        assert_eq!(
            strip(&self.store),
            strip(&fresh),
            "the store must equal the disk"
        );
    }
}

/// What a board shows: every lane's count and shown cards, the problems and the costs.
type Shown = (
    u64,
    app::model::Keyed<usize>,
    Vec<Vec<app::model::TaskSummary>>,
    Vec<String>,
    Option<app::model::CostSummary>,
);

fn shown(board: &BoardModel) -> Shown {
    let mut lanes = Vec::new();
    for column in app::model::Column::ALL {
        let names: Vec<Option<String>> = match column {
            app::model::Column::Inbox => vec![None],
            _ => board.lanes(column).into_iter().map(Some).collect(),
        };
        for lane in names {
            let cards = board.cards_in(column, lane.as_deref());
            lanes.push(cards.into_iter().map(|c| c.task).collect());
        }
    }
    (
        board.seq,
        board.lanes.clone(),
        lanes,
        board.problems.keys().map(str::to_owned).collect(),
        board.costs.clone(),
    )
}

/// A WebSocket client of a test server.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message as an envelope, or a panic after 10 s.
pub async fn next_envelope(socket: &mut Socket) -> Envelope {
    use futures_util::StreamExt;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("no socket error");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}
