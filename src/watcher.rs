//! Watches `work/collaboration` with notify (inotify on Linux) and turns what happens on disk into
//! store changes. It reacts at once to a finished write (close-write) and to renames, so a plain
//! write gives one event and an atomic save (temp file + rename) one more, with no fixed delay.
//! It recovers by rescanning on watcher errors and queue overflows, follows folders created
//! after startup, and no bad file can stop it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use app::model::{Column, TaskPath};
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::scan;
use crate::store::SharedStore;
use crate::task_file::{self, FileState};

/// A write without close (mmap, a writer that keeps the file open) is read this long after its
/// last modification.
const UNCLOSED_WRITE_DELAY: Duration = Duration::from_millis(30);
/// How long the first half of a rename waits for its second half before it counts as a
/// removal (moved out of the tree).
const RENAME_PAIR_WAIT: Duration = Duration::from_millis(5);

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot start the file watcher: {0}")]
    Start(#[from] notify::Error),
    #[error("cannot start the watcher thread: {0}")]
    Thread(#[from] std::io::Error),
}

enum Message {
    Fs(notify::Result<notify::Event>),
    Stop,
}

/// Keeps the watcher running; dropping it stops the watcher thread.
pub struct WatcherHandle {
    sender: mpsc::Sender<Message>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for WatcherHandle {
    fn drop(&mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Scans the board into `store`, then watches it on a thread of its own.
pub fn start(collab: PathBuf, store: SharedStore) -> Result<WatcherHandle, WatchError> {
    let collab = std::path::absolute(&collab).unwrap_or(collab);
    let (sender, receiver) = mpsc::channel();
    let fs_sender = sender.clone();
    let watcher = notify::recommended_watcher(move |event| {
        let _ = fs_sender.send(Message::Fs(event));
    })?;
    let mut event_loop = EventLoop {
        collab,
        store,
        watcher,
        watching: Watching::Nothing,
        deferred: HashMap::new(),
        pending_renames: HashMap::new(),
        rescan_needed: false,
    };
    let started = Instant::now();
    event_loop.ensure_watch();
    crate::memory::release_free_memory();
    tracing::info!(
        tasks = event_loop.store.counts().total,
        elapsed_ms = started.elapsed().as_millis() as u64,
        dir = %event_loop.collab.display(),
        "board scanned; watching"
    );
    let thread = std::thread::Builder::new()
        .name("execdash-watcher".into())
        .spawn(move || event_loop.run(receiver))?;
    Ok(WatcherHandle {
        sender,
        thread: Some(thread),
    })
}

#[derive(Debug, PartialEq)]
enum Watching {
    Nothing,
    /// The board folder, recursively.
    Board,
    /// The nearest existing ancestor, waiting for the board folder to appear.
    Ancestor(PathBuf),
}

struct EventLoop {
    collab: PathBuf,
    store: SharedStore,
    watcher: RecommendedWatcher,
    watching: Watching,
    /// Relative path → when to read it.
    deferred: HashMap<String, Instant>,
    /// Rename cookie → (source path, seen at).
    pending_renames: HashMap<usize, (PathBuf, Instant)>,
    rescan_needed: bool,
}

impl EventLoop {
    fn run(mut self, receiver: mpsc::Receiver<Message>) {
        loop {
            let timeout = self
                .next_deadline()
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(3600));
            match receiver.recv_timeout(timeout) {
                Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(Message::Fs(first)) => {
                    self.handle(first);
                    for message in receiver.try_iter() {
                        match message {
                            Message::Fs(event) => self.handle(event),
                            Message::Stop => return,
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            self.expire(Instant::now());
            if std::mem::take(&mut self.rescan_needed) {
                self.rescan();
            }
            self.ensure_watch();
        }
    }

    fn handle(&mut self, event: notify::Result<notify::Event>) {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!("file watcher error, rescanning: {err}");
                self.rescan_needed = true;
                return;
            }
        };
        if event.need_rescan() {
            tracing::warn!("file watcher queue overflowed, rescanning");
            self.rescan_needed = true;
        }
        if self.watching != Watching::Board {
            // Only waiting for the board folder to appear: ensure_watch() checks after the batch.
            return;
        }
        let paths = &event.paths;
        match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                paths.iter().for_each(|p| self.read_now(p));
            }
            EventKind::Access(_) => {}
            EventKind::Create(CreateKind::Folder) => {
                paths.iter().for_each(|p| self.scan_folder(p, true));
            }
            EventKind::Create(_) => {
                for path in paths {
                    if path.is_dir() {
                        self.scan_folder(path, true);
                    } else {
                        self.read_later(path);
                    }
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => match event.tracker() {
                Some(cookie) => {
                    for path in paths {
                        self.pending_renames
                            .insert(cookie, (path.clone(), Instant::now()));
                    }
                }
                None => paths.iter().for_each(|p| self.refresh(p)),
            },
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
                let paired = event
                    .tracker()
                    .is_some_and(|cookie| self.pending_renames.contains_key(&cookie));
                if !paired {
                    paths.iter().for_each(|p| self.arrived(p));
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let Some(cookie) = event.tracker() {
                    self.pending_renames.remove(&cookie);
                }
                if let [from, to] = paths.as_slice() {
                    self.renamed(from, to);
                }
            }
            EventKind::Modify(ModifyKind::Name(_)) => paths.iter().for_each(|p| self.refresh(p)),
            EventKind::Modify(_) => paths.iter().for_each(|p| self.read_later(p)),
            EventKind::Remove(_) => {
                if paths.contains(&self.collab) {
                    self.watching = Watching::Nothing;
                }
                paths.iter().for_each(|p| self.refresh(p));
            }
            EventKind::Any | EventKind::Other => paths.iter().for_each(|p| self.refresh(p)),
        }
    }

    fn relative(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.collab).ok()?;
        let parts: Option<Vec<&str>> = relative
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect();
        Some(parts?.join("/"))
    }

    /// A write finished: read the file now.
    fn read_now(&mut self, path: &Path) {
        let Some(relative) = self.relative(path) else {
            return;
        };
        if TaskPath::parse(&relative).is_some() {
            self.deferred.remove(&relative);
            let state = task_file::read(&self.collab, &relative);
            self.store.set(&relative, state);
        }
    }

    fn read_later(&mut self, path: &Path) {
        let Some(relative) = self.relative(path) else {
            return;
        };
        if TaskPath::parse(&relative).is_some() {
            self.deferred
                .insert(relative, Instant::now() + UNCLOSED_WRITE_DELAY);
        }
    }

    /// Something at `path` changed in a way that may affect a whole folder: bring the board in
    /// line with the disk at and below it.
    fn refresh(&mut self, path: &Path) {
        let Some(relative) = self.relative(path) else {
            return;
        };
        if path.is_dir() {
            self.scan_folder(path, false);
            return;
        }
        for known in self.store.known_under(&relative) {
            let state = task_file::read(&self.collab, &known);
            self.store.set(&known, state);
        }
        if TaskPath::parse(&relative).is_some() && !self.store.knows(&relative) {
            let state = task_file::read(&self.collab, &relative);
            self.store.set(&relative, state);
        }
        self.update_lane(&relative);
    }

    /// A file or folder arrived without a known source (moved in from outside, or the halves
    /// of its rename were seen apart).
    fn arrived(&mut self, path: &Path) {
        if path.is_dir() {
            self.scan_folder(path, true);
        } else if let Some(relative) = self.relative(path) {
            self.deferred.remove(&relative);
            let state = task_file::read(&self.collab, &relative);
            self.adopt_or_set(&relative, state);
        }
    }

    /// A file that appeared whose name matches a task whose file vanished is that task, moved.
    fn adopt_or_set(&mut self, relative: &str, state: FileState) {
        if matches!(state, FileState::Task(_)) && !self.store.knows(relative) {
            let name = relative.rsplit('/').next().unwrap_or(relative);
            let vanished = self
                .store
                .paths_named(name)
                .into_iter()
                .find(|old| old != relative && !self.collab.join(old).exists());
            if let Some(old) = vanished {
                self.store.moved(&old, relative, state);
                return;
            }
        }
        self.store.set(relative, state);
    }

    fn renamed(&mut self, from: &Path, to: &Path) {
        let (from_rel, to_rel) = (self.relative(from), self.relative(to));
        if to.is_dir() {
            if let (Some(from_rel), Some(to_rel)) = (&from_rel, &to_rel) {
                for old in self.store.known_under(from_rel) {
                    let new = format!("{to_rel}{}", &old[from_rel.len()..]);
                    let state = task_file::read(&self.collab, &new);
                    self.store.moved(&old, &new, state);
                }
            }
            if let Some(from_rel) = &from_rel {
                self.update_lane(from_rel);
            }
            self.scan_folder(to, false);
            return;
        }
        match (from_rel, to_rel) {
            (Some(from_rel), Some(to_rel)) => {
                self.deferred.remove(&to_rel);
                let state = task_file::read(&self.collab, &to_rel);
                self.store.moved(&from_rel, &to_rel, state);
            }
            (Some(from_rel), None) => {
                self.store.set(&from_rel, FileState::Absent);
            }
            (None, Some(_)) => self.arrived(to),
            (None, None) => {}
        }
    }

    /// Reads every task file at or below the folder and drops the ones that are gone.
    fn scan_folder(&mut self, folder: &Path, adopt: bool) {
        let Some(relative) = self.relative(folder) else {
            return;
        };
        self.update_lane(&relative);
        if relative.is_empty() {
            for lane in scan::lanes(&self.collab) {
                self.store.set_lane(lane.0, &lane.1, true);
            }
        } else if let Some(column) = column_folder(&relative) {
            for lane in scan::lanes(&self.collab)
                .into_iter()
                .filter(|l| l.0 == column)
            {
                self.store.set_lane(lane.0, &lane.1, true);
            }
        }
        let on_disk = scan::task_files(&self.collab, &relative);
        let known = self.store.known_under(&relative);
        for (path, state) in scan::read_all(&self.collab, &on_disk) {
            self.deferred.remove(&path);
            if adopt {
                self.adopt_or_set(&path, state);
            } else {
                self.store.set(&path, state);
            }
        }
        for gone in known
            .into_iter()
            .filter(|k| on_disk.binary_search(k).is_err())
        {
            let state = task_file::read(&self.collab, &gone);
            self.store.set(&gone, state);
        }
    }

    fn update_lane(&self, relative: &str) {
        let parts: Vec<&str> = relative.split('/').collect();
        if let [column @ ("assigned" | "done"), lane] = parts.as_slice() {
            let column = if *column == "assigned" {
                Column::Assigned
            } else {
                Column::Done
            };
            self.store
                .set_lane(column, lane, self.collab.join(relative).is_dir());
        }
    }

    fn rescan(&mut self) {
        let collab = self.collab.clone();
        self.scan_folder(&collab, false);
        crate::memory::release_free_memory();
    }

    fn next_deadline(&self) -> Option<Instant> {
        let renames = self
            .pending_renames
            .values()
            .map(|(_, seen)| *seen + RENAME_PAIR_WAIT);
        self.deferred.values().copied().chain(renames).min()
    }

    fn expire(&mut self, now: Instant) {
        let lone: Vec<usize> = self
            .pending_renames
            .iter()
            .filter(|(_, (_, seen))| *seen + RENAME_PAIR_WAIT <= now)
            .map(|(cookie, _)| *cookie)
            .collect();
        for cookie in lone {
            if let Some((path, _)) = self.pending_renames.remove(&cookie) {
                self.refresh(&path);
            }
        }
        let due: Vec<String> = self
            .deferred
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(path, _)| path.clone())
            .collect();
        for relative in due {
            self.deferred.remove(&relative);
            let state = task_file::read(&self.collab, &relative);
            self.store.set(&relative, state);
        }
    }

    /// Watches the board folder when it exists (rescanning when it starts to), else its nearest
    /// existing ancestor until it appears.
    fn ensure_watch(&mut self) {
        let exists = self.collab.is_dir();
        match (&self.watching, exists) {
            (Watching::Board, true) => {}
            (Watching::Board, false) | (Watching::Nothing, false) => {
                let _ = self.watcher.unwatch(&self.collab);
                self.rescan();
                self.watch_ancestor();
            }
            (Watching::Ancestor(ancestor), true) => {
                let _ = self.watcher.unwatch(&ancestor.clone());
                self.watch_board();
            }
            (Watching::Nothing, true) => self.watch_board(),
            (Watching::Ancestor(ancestor), false) => {
                if nearest_existing(&self.collab).as_ref() != Some(ancestor) {
                    let _ = self.watcher.unwatch(&ancestor.clone());
                    self.watch_ancestor();
                }
            }
        }
    }

    fn watch_board(&mut self) {
        match self.watcher.watch(&self.collab, RecursiveMode::Recursive) {
            Ok(()) => {
                self.watching = Watching::Board;
                self.rescan();
            }
            Err(err) => {
                tracing::warn!("cannot watch {}: {err}", self.collab.display());
                self.watching = Watching::Nothing;
            }
        }
    }

    fn watch_ancestor(&mut self) {
        self.watching = Watching::Nothing;
        if let Some(ancestor) = nearest_existing(&self.collab) {
            if self
                .watcher
                .watch(&ancestor, RecursiveMode::NonRecursive)
                .is_ok()
            {
                tracing::info!(
                    "{} does not exist yet; waiting for it in {}",
                    self.collab.display(),
                    ancestor.display()
                );
                self.watching = Watching::Ancestor(ancestor.clone());
                // It may have appeared between the check and the watch.
                if self.collab.is_dir() {
                    let _ = self.watcher.unwatch(&ancestor);
                    self.watch_board();
                }
            }
        }
    }
}

fn column_folder(relative: &str) -> Option<Column> {
    match relative {
        "assigned" => Some(Column::Assigned),
        "done" => Some(Column::Done),
        _ => None,
    }
}

fn nearest_existing(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|p| p.is_dir())
        .map(Path::to_path_buf)
}
