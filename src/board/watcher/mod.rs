//! Watches `work/collaboration` with notify (inotify on Linux) and turns what happens on disk into
//! store changes. It reacts at once to a finished write (close-write) and to renames, so a plain
//! write gives one event and an atomic save (temp file + rename) one more, with no fixed delay.
//! It recovers by rescanning on watcher errors and queue overflows, follows folders created
//! after startup, and no bad file can stop it.
//!
//! Three parts: [`intent`] decides what an event asks for (pure), [`reconcile`] does it against
//! the disk and the store, [`root`] keeps the right folder watched. This module runs them on a
//! thread of its own, with the two timers: unclosed writes (and empty files a scan found, most
//! often a write caught between creating and filling the file) read a moment later, and first
//! halves of renames that wait for their pair.
//!
//! Its length is mostly tests of the event loop on a real folder.

mod intent;
mod reconcile;
mod root;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use app::model::TaskPath;

use self::intent::Intent;
use self::reconcile::Reconciler;
use self::root::{RootChange, RootWatch};
use crate::board::cache::{self, BoardCache};
use crate::board::store::SharedStore;
use crate::board::task_file::{self, Stamp};

/// A write without close (mmap, a writer that keeps the file open) is read this long after its
/// last modification. A plain writer's close-write comes first and cancels it; the wait is long
/// enough that a writer held up between creating and filling the file is not read half-way.
const UNCLOSED_WRITE_DELAY: Duration = Duration::from_millis(250);
/// How long the first half of a rename waits for its second half before it counts as a
/// removal (moved out of the tree). The kernel queues both halves together, but notify hands
/// them over one by one from its own thread, which a busy machine can hold up for a while: too
/// short a wait turns a move into a deletion and a creation.
const RENAME_PAIR_WAIT: Duration = Duration::from_millis(200);
/// A folder that just appeared is scanned again this much later: inotify watches it only from the
/// moment notify adds the watch, so a file written or moved into it before that sends no event.
const NEW_FOLDER_RESCAN: Duration = Duration::from_millis(50);

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
    store: SharedStore,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Writes the board cache on a thread of its own (tens of megabytes for a large board; the
/// watcher goes on meanwhile). Only tasks whose file was stamped before it was read are kept.
fn save_cache(
    file: PathBuf,
    collab: PathBuf,
    stamps: HashMap<String, Stamp>,
    tasks: Vec<app::model::Task>,
) {
    let spawned = std::thread::Builder::new()
        .name("execdash-cache".into())
        .spawn(move || {
            let started = Instant::now();
            let entries = tasks.iter().filter_map(|task| {
                let stamp = stamps.get(&task.path)?;
                Some((task.path.as_str(), stamp, task))
            });
            match BoardCache::save(&file, &collab, entries) {
                Ok(()) => tracing::debug!(
                    file = %file.display(),
                    elapsed = ?started.elapsed(),
                    "board cache written"
                ),
                Err(err) => {
                    tracing::warn!(file = %file.display(), "cannot write the board cache: {err}")
                }
            }
            drop(tasks);
            // The copies of the tasks were tens of megabytes: give them back.
            crate::runtime::release_free_memory();
        });
    if let Err(err) = spawned {
        tracing::warn!("cannot start the board cache writer: {err}");
    }
}

impl Drop for WatcherHandle {
    fn drop(&mut self) {
        // A first scan still running stops reading, so stopping never waits for a large board.
        self.store.startup().stop();
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Scans the board into `store`, then watches it on a thread of its own. Returns once the board
/// is read and caught up with what changed while it was read.
pub fn start(collab: PathBuf, store: SharedStore) -> Result<WatcherHandle, WatchError> {
    let (handle, scanned) = spawn(collab, store, None)?;
    let _ = scanned.recv();
    Ok(handle)
}

/// Like [`start`], but returns at once: the scan runs on the watcher's thread and
/// [`crate::board::Store::startup`] follows it. Changes made during the scan are not missed:
/// they arrive as events once the board is ready (see `EventLoop::first_reading`). With
/// `cache_dir`, a large board's tasks are kept there for the next start (see
/// [`crate::board::cache`]).
pub(crate) fn start_in_background(
    collab: PathBuf,
    store: SharedStore,
    cache_dir: Option<PathBuf>,
) -> Result<WatcherHandle, WatchError> {
    spawn(collab, store, cache_dir).map(|(handle, _)| handle)
}

fn spawn(
    collab: PathBuf,
    store: SharedStore,
    cache_dir: Option<PathBuf>,
) -> Result<(WatcherHandle, mpsc::Receiver<()>), WatchError> {
    let collab = std::path::absolute(&collab).unwrap_or(collab);
    let (sender, receiver) = mpsc::channel();
    let fs_sender = sender.clone();
    let watcher = notify::recommended_watcher(move |event| {
        let _ = fs_sender.send(Message::Fs(event));
    })?;
    let mut event_loop = EventLoop::new(collab, store.clone(), watcher);
    let (scanned_sender, scanned) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("execdash-watcher".into())
        .spawn(move || {
            let started = Instant::now();
            let cache_file = cache_dir.map(|dir| BoardCache::file(&dir, &event_loop.board.collab));
            let mut cache = cache_file
                .as_deref()
                .map(|file| BoardCache::load(file, &event_loop.board.collab))
                .unwrap_or_default();
            let (mut stamps, catch_up) = event_loop.first_reading(&mut cache);
            let store = event_loop.board.store.clone();
            store.finish_startup();
            if store.startup().is_stopping() {
                let _ = scanned_sender.send(());
                tracing::info!(
                    tasks = store.counts().total,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "stopping: the first scan of the board ended early"
                );
                return;
            }
            if catch_up {
                event_loop.catch_up(&mut stamps);
            }
            let _ = scanned_sender.send(());
            crate::runtime::release_free_memory();
            let board_cache = match cache_file {
                None => "off",
                Some(_) if store.counts().total < cache::MIN_FILES => "not kept (a small board)",
                // Problems are never cached: parsing only them leaves the cache as it was.
                Some(_)
                    if store.startup().parsed_and_cached().0 <= store.problem_count()
                        && cache.is_empty() =>
                {
                    "up to date"
                }
                Some(file) => {
                    save_cache(file, event_loop.board.collab.clone(), stamps, store.tasks());
                    "being written"
                }
            };
            tracing::info!(
                tasks = store.counts().total,
                elapsed_ms = started.elapsed().as_millis() as u64,
                dir = %event_loop.board.collab.display(),
                board_cache,
                "board scanned; watching"
            );
            event_loop.run(receiver)
        })?;
    let handle = WatcherHandle {
        sender,
        store,
        thread: Some(thread),
    };
    Ok((handle, scanned))
}

struct EventLoop {
    board: Reconciler,
    root: RootWatch,
    /// Relative path → when to read it.
    deferred: HashMap<String, Instant>,
    /// Rename cookie → (source path, seen at).
    pending_renames: HashMap<usize, (PathBuf, Instant)>,
    /// Folders that just appeared → when to scan them again.
    new_folders: HashMap<PathBuf, Instant>,
    rescan_needed: bool,
}

impl EventLoop {
    fn new(collab: PathBuf, store: SharedStore, watcher: notify::RecommendedWatcher) -> EventLoop {
        EventLoop {
            root: RootWatch::new(collab.clone(), watcher),
            board: Reconciler::new(collab, store),
            deferred: HashMap::new(),
            pending_renames: HashMap::new(),
            new_folders: HashMap::new(),
            rescan_needed: false,
        }
    }

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
            self.after_batch(Instant::now());
        }
    }

    /// Runs what became due, a rescan if events were lost, and checks what is watched.
    fn after_batch(&mut self, now: Instant) {
        self.expire(now);
        if std::mem::take(&mut self.rescan_needed) {
            // Lost events may have been folders that came or went.
            self.root.follow_folders();
            self.board.rescan();
        }
        self.ensure_watch();
        self.defer_empty_files(now);
    }

    fn handle(&mut self, event: notify::Result<notify::Event>) {
        let pending = &self.pending_renames;
        let intents = intent::intents(
            event,
            &self.board.collab,
            self.root.watching_board(),
            |cookie| pending.contains_key(&cookie),
        );
        for intent in intents {
            self.apply(intent);
        }
    }

    fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::Read(path) => {
                if let Some(relative) = self.task_path(&path) {
                    self.deferred.remove(&relative);
                    self.board.read(&relative);
                }
            }
            Intent::ReadLater(path) => {
                if let Some(relative) = self.task_path(&path) {
                    self.deferred
                        .insert(relative, Instant::now() + UNCLOSED_WRITE_DELAY);
                }
            }
            Intent::Appeared(path) if task_file::is_real_folder(&path) => {
                self.apply(Intent::ScanNewFolder(path))
            }
            Intent::Appeared(path) => self.apply(Intent::ReadLater(path)),
            Intent::ScanNewFolder(path) => {
                // Watched before it is read, so nothing written in it meanwhile is missed.
                self.root.follow_folders();
                self.board.scan_folder(&path, true);
                self.new_folders
                    .insert(path, Instant::now() + NEW_FOLDER_RESCAN);
            }
            Intent::Refresh(path) => self.board.refresh(&path),
            Intent::RenameFrom { cookie, path } => {
                self.pending_renames.insert(cookie, (path, Instant::now()));
            }
            Intent::Arrived(path) => {
                self.follow_if_folder(&path);
                self.forget_deferred(&path);
                self.board.arrived(&path);
            }
            Intent::Renamed { cookie, from, to } => {
                if let Some(cookie) = cookie {
                    self.pending_renames.remove(&cookie);
                }
                self.forget_deferred(&to);
                self.follow_if_folder(&to);
                self.board.renamed(&from, &to);
            }
            Intent::BoardRemoved => self.root.board_removed(),
            Intent::Rescan => self.rescan_needed = true,
        }
    }

    /// The relative path when `path` is a task file of the board, or where a board folder
    /// belongs (a link there is read to be reported).
    fn task_path(&self, path: &std::path::Path) -> Option<String> {
        self.board.relative(path).filter(|relative| {
            TaskPath::parse(relative).is_some()
                || (!relative.is_empty() && TaskPath::is_board_folder(relative))
        })
    }

    /// A folder that arrived (renamed, or moved in) is watched, and scanned again in a moment
    /// for what was written in it before its watch began.
    fn follow_if_folder(&mut self, path: &std::path::Path) {
        if task_file::is_real_folder(path) {
            self.root.follow_folders();
            self.new_folders
                .insert(path.to_path_buf(), Instant::now() + NEW_FOLDER_RESCAN);
        }
    }

    /// A file read now needs no later read.
    fn forget_deferred(&mut self, path: &std::path::Path) {
        if let Some(relative) = self.board.relative(path) {
            self.deferred.remove(&relative);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let renames = self
            .pending_renames
            .values()
            .map(|(_, seen)| *seen + RENAME_PAIR_WAIT);
        // Folder scans wait for the renames (see `expire`), whose deadlines wake the loop anyway.
        let folders = self
            .new_folders
            .values()
            .copied()
            .filter(|_| self.pending_renames.is_empty());
        self.deferred
            .values()
            .copied()
            .chain(renames)
            .chain(folders)
            .min()
    }

    /// Deferred reads that are due; then, once no rename is half-way (a folder scan would see
    /// its file gone from the source and not yet arrived), first halves of renames whose pair
    /// never came (moved out of the tree, or into a folder not watched yet) and new-folder
    /// rescans that are due.
    fn expire(&mut self, now: Instant) {
        for relative in take_due(&mut self.deferred, now) {
            if let Some(wait) = self.board.read_unless_being_written(&relative) {
                self.deferred.insert(relative, now + wait);
            }
        }
        let waiting = self
            .pending_renames
            .values()
            .any(|(_, seen)| *seen + RENAME_PAIR_WAIT > now);
        if waiting {
            return;
        }
        let mut lone: Vec<(PathBuf, Instant)> =
            self.pending_renames.drain().map(|(_, v)| v).collect();
        lone.sort_by_key(|(_, seen)| *seen);
        if !lone.is_empty() {
            // The other half may have gone into a folder that appeared a moment ago: look there
            // first, so the file is found as that task moved rather than deleted and created.
            for folder in self.new_folders.keys() {
                self.board.scan_folder(folder, true);
            }
        }
        let due = take_due(&mut self.new_folders, now);
        if !due.is_empty() {
            // An agent folder made inside a new column folder between its listing and its
            // watch (`mkdir -p assigned/bob`) is watched now, before its files are read again.
            self.root.follow_folders();
        }
        for folder in due {
            self.board.scan_folder(&folder, true);
        }
        for (path, _) in lone {
            self.board.refresh(&path);
        }
    }

    /// Reads the board, then watches it. Not the other way round: inotify reports every file
    /// the scan opens to notify's thread, which made a 10 000-file first start 40 % slower
    /// (BENCHMARKS.md, 2026-12-03). What changed between the two is found by
    /// [`EventLoop::catch_up`], which compares each file's stamp; the server runs it once the
    /// board is ready (it is an `lstat` a file, 40 ms at 10 000), so those changes arrive as
    /// ordinary ones, as if they were made just after the reading.
    ///
    /// Returns the stamps of the files as they were read (for the board cache; none when the
    /// board went meanwhile), and whether the catch-up is due.
    fn first_reading(&mut self, cache: &mut BoardCache) -> (HashMap<String, Stamp>, bool) {
        let started = Instant::now();
        let mut stamps = self.board.first_scan(cache);
        let read = started.elapsed();
        let catch_up = match self.root.ensure() {
            RootChange::Unchanged => false,
            RootChange::BoardWatched => true,
            RootChange::BoardGone => {
                self.board.rescan();
                stamps.clear();
                false
            }
        };
        self.note_board_folder();
        // Where a slow start goes (reading and parsing; watching the board's folders).
        tracing::debug!(
            read_ms = read.as_millis() as u64,
            watch_ms = (started.elapsed() - read).as_millis() as u64,
            "first reading of the board"
        );
        (stamps, catch_up)
    }

    /// Brings the board read by [`EventLoop::first_reading`] up to what changed on disk
    /// before the watch began; adds the stamps of the files it read again.
    fn catch_up(&mut self, stamps: &mut HashMap<String, Stamp>) {
        let started = Instant::now();
        let changed = self.board.catch_up(stamps);
        tracing::debug!(
            files = changed.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "caught up with the changes made during the first reading"
        );
        stamps.extend(changed);
        self.defer_empty_files(started);
    }

    /// The files scans left unread because they were empty are read a moment later.
    fn defer_empty_files(&mut self, now: Instant) {
        for relative in self.board.take_empty_files() {
            self.deferred.entry(relative).or_insert(now);
        }
    }

    fn ensure_watch(&mut self) {
        match self.root.ensure() {
            RootChange::Unchanged => {}
            RootChange::BoardWatched | RootChange::BoardGone => {
                self.board.rescan();
                self.note_board_folder();
            }
        }
    }

    /// A missing board folder is a problem on the page (and in the log), until it appears: a
    /// `--root` that is not the repository would otherwise show an empty board in silence.
    fn note_board_folder(&self) {
        let collab = &self.board.collab;
        let problems = if collab.is_dir() {
            Vec::new()
        } else {
            tracing::warn!(
                "{} does not exist: the board stays empty until it does (is --root the repository?)",
                collab.display()
            );
            vec![app::model::Problem {
                path: crate::board::store::BOARD_FOLDER.into(),
                line: None,
                column: None,
                reason: format!(
                    "{} does not exist: is --root the repository? The board stays empty until the folder appears.",
                    collab.display()
                ),
            }]
        };
        self.board
            .store
            .set_problems_of(crate::board::store::ProblemSource::BoardFolder, problems);
    }
}

/// Removes the entries of `timers` that are due at `now` and returns their keys.
fn take_due<K: Clone + Eq + std::hash::Hash>(
    timers: &mut HashMap<K, Instant>,
    now: Instant,
) -> Vec<K> {
    let due: Vec<K> = timers
        .iter()
        .filter(|(_, at)| **at <= now)
        .map(|(key, _)| key.clone())
        .collect();
    for key in &due {
        timers.remove(key);
    }
    due
}

#[cfg(test)]
mod tests {
    //! The event loop on a real folder, fed synthetic events for the paths a live watcher rarely
    //! takes: lost events, a rename half without its pair, the board folder removed.

    use std::fs;
    use std::sync::Arc;

    use notify::event::{Flag, ModifyKind, RemoveKind, RenameMode};
    use notify::{Event, EventKind};

    use super::*;
    use crate::board::store::Store;

    struct Fixture {
        dir: tempfile::TempDir,
        event_loop: EventLoop,
    }

    impl Fixture {
        /// A board with `inbox/a.yaml`, scanned; the live watcher's own events go nowhere.
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let collab = dir.path().join("work/collaboration");
            fs::create_dir_all(collab.join("inbox")).unwrap();
            fs::create_dir_all(collab.join("assigned")).unwrap();
            fs::write(collab.join("inbox/a.yaml"), "id: a\n").unwrap();
            let watcher = notify::recommended_watcher(|_| {}).unwrap();
            let mut event_loop = EventLoop::new(collab, Arc::new(Store::new()), watcher);
            event_loop.ensure_watch();
            Fixture { dir, event_loop }
        }

        fn collab(&self) -> PathBuf {
            self.event_loop.board.collab.clone()
        }

        fn paths(&self) -> Vec<String> {
            let snapshot = self.event_loop.board.store.snapshot();
            snapshot.tasks.into_iter().map(|t| t.path).collect()
        }
    }

    /// The names of the events received so far.
    fn event_names(
        events: &mut tokio::sync::broadcast::Receiver<crate::board::Frame>,
    ) -> Vec<String> {
        std::iter::from_fn(|| events.try_recv().ok())
            .map(|frame| {
                serde_json::from_str::<app::model::Envelope>(&frame.json)
                    .unwrap()
                    .event
                    .name()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn what_changes_between_the_first_scan_and_the_watch_is_caught_up() {
        let dir = tempfile::tempdir().unwrap();
        let collab = dir.path().join("work/collaboration");
        fs::create_dir_all(collab.join("inbox")).unwrap();
        // Written an hour ago: not racily clean, so only their stamps tell what changed.
        let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        for name in ["same", "rewritten", "deleted", "replaced"] {
            let path = collab.join(format!("inbox/{name}.yaml"));
            fs::write(&path, format!("id: {name}\ntitle: before\n")).unwrap();
            let file = fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }
        let watcher = notify::recommended_watcher(|_| {}).unwrap();
        let mut event_loop = EventLoop::new(collab.clone(), Arc::new(Store::new()), watcher);
        let stamps = event_loop.board.first_scan(&mut BoardCache::default());
        assert_eq!(stamps.len(), 4);
        let files_read = |event_loop: &EventLoop| {
            event_loop
                .board
                .store
                .startup()
                .progress()
                .unwrap()
                .files_read
        };
        assert_eq!(files_read(&event_loop), 4);
        // Between the scan and the watch: a file rewritten, one deleted, one replaced by a
        // rename, one added in a new agent folder; one left as it was.
        fs::write(
            collab.join("inbox/rewritten.yaml"),
            "id: rewritten\ntitle: after!\n",
        )
        .unwrap();
        fs::remove_file(collab.join("inbox/deleted.yaml")).unwrap();
        fs::write(collab.join("replacement"), "id: replaced\ntitle: after!\n").unwrap();
        fs::rename(
            collab.join("replacement"),
            collab.join("inbox/replaced.yaml"),
        )
        .unwrap();
        fs::create_dir_all(collab.join("assigned/bob")).unwrap();
        fs::write(
            collab.join("assigned/bob/new.yaml"),
            "id: new\ntitle: after!\n",
        )
        .unwrap();
        assert!(matches!(event_loop.root.ensure(), RootChange::BoardWatched));
        event_loop.board.catch_up(&stamps);
        assert_eq!(
            files_read(&event_loop),
            4 + 3,
            "the catch-up reads the rewritten, replaced and new files, not the unchanged one"
        );
        let snapshot = event_loop.board.store.snapshot();
        let titles: Vec<(String, String)> = snapshot
            .tasks
            .into_iter()
            .map(|t| (t.path, t.title))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect();
        assert_eq!(
            titles,
            [
                ("assigned/bob/new.yaml".into(), "after!".into()),
                ("inbox/replaced.yaml".into(), "after!".into()),
                ("inbox/rewritten.yaml".into(), "after!".into()),
                ("inbox/same.yaml".into(), "before".into()),
            ]
        );
    }

    #[test]
    fn a_file_moved_while_the_board_was_read_is_caught_up_as_that_task_moved() {
        let dir = tempfile::tempdir().unwrap();
        let collab = dir.path().join("work/collaboration");
        fs::create_dir_all(collab.join("inbox")).unwrap();
        fs::create_dir_all(collab.join("assigned/bob")).unwrap();
        fs::write(collab.join("inbox/a.yaml"), "id: a\ntitle: A\n").unwrap();
        let watcher = notify::recommended_watcher(|_| {}).unwrap();
        let mut event_loop = EventLoop::new(collab.clone(), Arc::new(Store::new()), watcher);
        let (mut stamps, catch_up) = event_loop.first_reading(&mut BoardCache::default());
        assert!(catch_up, "the board was watched after it was read");
        // As the server does: the board is ready, then caught up (the move was not watched).
        event_loop.board.store.finish_startup();
        let (_, mut events) = event_loop.board.store.subscribe(None);
        fs::rename(
            collab.join("inbox/a.yaml"),
            collab.join("assigned/bob/a.yaml"),
        )
        .unwrap();
        event_loop.catch_up(&mut stamps);
        let names = event_names(&mut events);
        assert_eq!(names, ["task.assigned"], "not a deletion and a creation");
        assert!(stamps.contains_key("assigned/bob/a.yaml"));
    }

    #[test]
    fn a_file_being_written_as_the_catch_up_looks_is_not_shown_broken() {
        let dir = tempfile::tempdir().unwrap();
        let collab = dir.path().join("work/collaboration");
        fs::create_dir_all(collab.join("inbox")).unwrap();
        let watcher = notify::recommended_watcher(|_| {}).unwrap();
        let mut event_loop = EventLoop::new(collab.clone(), Arc::new(Store::new()), watcher);
        let (mut stamps, _) = event_loop.first_reading(&mut BoardCache::default());
        event_loop.board.store.finish_startup();
        let (_, mut events) = event_loop.board.store.subscribe(None);
        // Created, not yet filled (a writer held up between open and write), and an empty file
        // left so a while ago.
        let filling = fs::File::create(collab.join("inbox/filling.yaml")).unwrap();
        let left_empty = fs::File::create(collab.join("inbox/empty.yaml")).unwrap();
        left_empty
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(5))
            .unwrap();
        event_loop.catch_up(&mut stamps);
        event_loop.after_batch(Instant::now());
        assert_eq!(
            event_names(&mut events),
            ["task.invalid"],
            "the empty file is reported, the one being written is not, yet"
        );
        let problems = event_loop.board.store.snapshot().problems;
        assert_eq!(
            problems.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["inbox/empty.yaml"]
        );

        fs::write(
            collab.join("inbox/filling.yaml"),
            "id: filling\ntitle: Filled\n",
        )
        .unwrap();
        drop(filling);
        event_loop.apply(Intent::Read(collab.join("inbox/filling.yaml")));
        assert_eq!(event_names(&mut events), ["task.created"]);
        assert!(
            event_loop.deferred.is_empty(),
            "its close-write read it: no later read is left"
        );

        // The same in a folder that appears with a file being written in it.
        fs::create_dir_all(collab.join("assigned/bob")).unwrap();
        let filling = fs::File::create(collab.join("assigned/bob/new.yaml")).unwrap();
        event_loop.apply(Intent::ScanNewFolder(collab.join("assigned/bob")));
        event_loop.after_batch(Instant::now());
        assert_eq!(event_names(&mut events), Vec::<String>::new());
        fs::write(collab.join("assigned/bob/new.yaml"), "id: new\n").unwrap();
        drop(filling);
        event_loop.apply(Intent::Read(collab.join("assigned/bob/new.yaml")));
        assert_eq!(event_names(&mut events), ["task.created"]);
    }

    #[test]
    fn an_overflow_rescans_what_the_lost_events_changed() {
        let mut fixture = Fixture::new();
        assert_eq!(fixture.paths(), ["inbox/a.yaml"]);
        fs::remove_file(fixture.collab().join("inbox/a.yaml")).unwrap();
        fs::write(fixture.collab().join("inbox/b.yaml"), "id: b\n").unwrap();
        assert_eq!(
            fixture.paths(),
            ["inbox/a.yaml"],
            "no event was handled yet"
        );
        fixture
            .event_loop
            .handle(Ok(Event::new(EventKind::Other).set_flag(Flag::Rescan)));
        fixture.event_loop.after_batch(Instant::now());
        assert_eq!(fixture.paths(), ["inbox/b.yaml"]);
    }

    #[test]
    fn a_rename_whose_pair_never_comes_is_a_removal_once_the_wait_is_over() {
        let mut fixture = Fixture::new();
        let outside = fixture.dir.path().join("a.yaml");
        fs::rename(fixture.collab().join("inbox/a.yaml"), &outside).unwrap();
        let from = Event::new(EventKind::Modify(ModifyKind::Name(RenameMode::From)))
            .add_path(fixture.collab().join("inbox/a.yaml"))
            .set_tracker(3);
        fixture.event_loop.handle(Ok(from));
        let seen = Instant::now();
        fixture.event_loop.after_batch(seen);
        assert_eq!(
            fixture.paths(),
            ["inbox/a.yaml"],
            "still waiting for the pair"
        );
        fixture.event_loop.after_batch(seen + RENAME_PAIR_WAIT * 2);
        assert!(fixture.paths().is_empty(), "{:?}", fixture.paths());
        assert!(fixture.event_loop.pending_renames.is_empty());
    }

    #[test]
    fn the_board_folder_removed_empties_the_board_and_its_return_refills_it() {
        let mut fixture = Fixture::new();
        let collab = fixture.collab();
        fs::remove_dir_all(&collab).unwrap();
        let removed = Event::new(EventKind::Remove(RemoveKind::Folder)).add_path(collab.clone());
        fixture.event_loop.handle(Ok(removed));
        fixture.event_loop.after_batch(Instant::now());
        assert!(fixture.paths().is_empty());
        assert!(!fixture.event_loop.root.watching_board());
        fs::create_dir_all(collab.join("assigned/bob")).unwrap();
        fs::write(collab.join("assigned/bob/c.yaml"), "id: c\n").unwrap();
        // Whatever the ancestor's watch reports, the loop looks for the folder after each batch.
        fixture.event_loop.after_batch(Instant::now());
        assert!(fixture.event_loop.root.watching_board());
        assert_eq!(fixture.paths(), ["assigned/bob/c.yaml"]);
    }

    #[test]
    fn a_file_moved_into_a_folder_before_it_was_watched_is_found_as_that_task_moved() {
        let mut fixture = Fixture::new();
        let collab = fixture.collab();
        let (_, mut events) = fixture.event_loop.board.store.subscribe(None);
        // inotify saw the folder appear, then only the first half of the rename: the folder was
        // not watched yet when the file arrived.
        fs::create_dir_all(collab.join("assigned/new")).unwrap();
        let created = Event::new(EventKind::Create(notify::event::CreateKind::Folder))
            .add_path(collab.join("assigned/new"));
        fixture.event_loop.handle(Ok(created));
        fs::rename(
            collab.join("inbox/a.yaml"),
            collab.join("assigned/new/a.yaml"),
        )
        .unwrap();
        let from = Event::new(EventKind::Modify(ModifyKind::Name(RenameMode::From)))
            .add_path(collab.join("inbox/a.yaml"))
            .set_tracker(4);
        fixture.event_loop.handle(Ok(from));
        let start = Instant::now();
        // No folder is scanned while a rename is half-way: the file would look deleted.
        fixture
            .event_loop
            .after_batch(start + NEW_FOLDER_RESCAN * 2);
        assert_eq!(fixture.paths(), ["inbox/a.yaml"]);
        // Once the wait is over, the new folder is looked at before the lone half counts as a
        // removal, and the file is found there.
        fixture.event_loop.after_batch(start + RENAME_PAIR_WAIT * 2);
        assert_eq!(fixture.paths(), ["assigned/new/a.yaml"]);
        assert!(fixture.event_loop.pending_renames.is_empty());
        let names = event_names(&mut events);
        assert_eq!(names, ["task.assigned"]);
        // The same for a file written into a new folder directly, which sends no event at all.
        fs::create_dir_all(collab.join("assigned/newer")).unwrap();
        let created = Event::new(EventKind::Create(notify::event::CreateKind::Folder))
            .add_path(collab.join("assigned/newer"));
        fixture.event_loop.handle(Ok(created));
        fs::write(collab.join("assigned/newer/b.yaml"), "id: b\n").unwrap();
        fixture
            .event_loop
            .after_batch(Instant::now() + NEW_FOLDER_RESCAN * 2);
        assert_eq!(
            fixture.paths(),
            ["assigned/new/a.yaml", "assigned/newer/b.yaml"]
        );
        assert!(fixture.event_loop.new_folders.is_empty());
    }
}
