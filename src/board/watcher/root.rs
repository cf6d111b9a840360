//! Which folders the watcher watches: the board folder and its board folders (`inbox`,
//! `assigned`, `done` and every agent folder in the last two), each on its own, when the board
//! folder exists; otherwise its nearest existing ancestor, until the board folder appears (then it
//! is scanned).
//!
//! Not notify's recursive watch: the board's files are never deeper than an agent folder, and a
//! recursive watch `lstat`s every file of the tree to find the folders below (a tenth of a
//! 10 000-file board's start, BENCHMARKS.md 2026-12-03). The folders watched follow the disk:
//! the event loop calls [`RootWatch::follow_folders`] when a folder appears (before it is
//! scanned), arrives, is renamed, or events were lost.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::board::{scan, task_file};

#[derive(Debug, PartialEq)]
enum Watching {
    Nothing,
    /// The board folder and its board folders.
    Board,
    /// The nearest existing ancestor, waiting for the board folder to appear.
    Ancestor(PathBuf),
}

/// What changed in what is watched; either way the board must be rescanned.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum RootChange {
    Unchanged,
    /// The board folder is watched now (at startup, or it appeared).
    BoardWatched,
    /// The board folder is gone (its tasks are too).
    BoardGone,
}

pub(super) struct RootWatch {
    collab: PathBuf,
    watcher: RecommendedWatcher,
    watching: Watching,
    /// The board folders watched (below the board folder, which is watched while `Board`).
    folders: BTreeSet<PathBuf>,
}

impl RootWatch {
    pub(super) fn new(collab: PathBuf, watcher: RecommendedWatcher) -> RootWatch {
        RootWatch {
            collab,
            watcher,
            watching: Watching::Nothing,
            folders: BTreeSet::new(),
        }
    }

    pub(super) fn watching_board(&self) -> bool {
        self.watching == Watching::Board
    }

    /// The board folder was removed (its watches end with it).
    pub(super) fn board_removed(&mut self) {
        self.watching = Watching::Nothing;
        self.unwatch_folders();
    }

    /// Watches the board folders on disk and stops watching the ones gone. Each is watched again
    /// (one system call; notify keeps the watch it has), so a folder removed or renamed and made
    /// again under its name is watched as the new folder it is. Called when folders may have
    /// come or gone, not after every batch of events: listing a folder opens it, and inotify
    /// reports that open as an event of its own.
    pub(super) fn follow_folders(&mut self) {
        if !self.watching_board() {
            return;
        }
        let on_disk = board_folders(&self.collab);
        for gone in self.folders.difference(&on_disk) {
            // Fails when the folder went with its watch: nothing left to stop.
            let _ = self.watcher.unwatch(gone);
        }
        self.folders = on_disk
            .into_iter()
            .filter(|folder| {
                self.watcher
                    .watch(folder, RecursiveMode::NonRecursive)
                    .is_ok()
            })
            .collect();
    }

    fn unwatch_folders(&mut self) {
        for folder in std::mem::take(&mut self.folders) {
            let _ = self.watcher.unwatch(&folder);
        }
    }

    /// Watches the board folder when it exists, else its nearest existing ancestor.
    pub(super) fn ensure(&mut self) -> RootChange {
        let exists = self.collab.is_dir();
        match (&self.watching, exists) {
            (Watching::Board, true) => RootChange::Unchanged,
            (Watching::Board, false) | (Watching::Nothing, false) => {
                let _ = self.watcher.unwatch(&self.collab);
                self.unwatch_folders();
                self.watch_ancestor();
                if self.watching_board() {
                    RootChange::BoardWatched
                } else {
                    RootChange::BoardGone
                }
            }
            (Watching::Ancestor(ancestor), true) => {
                let _ = self.watcher.unwatch(&ancestor.clone());
                self.watch_board()
            }
            (Watching::Nothing, true) => self.watch_board(),
            (Watching::Ancestor(ancestor), false) => {
                if nearest_existing(&self.collab).as_ref() != Some(ancestor) {
                    let _ = self.watcher.unwatch(&ancestor.clone());
                    self.watch_ancestor();
                    if self.watching_board() {
                        return RootChange::BoardWatched;
                    }
                }
                RootChange::Unchanged
            }
        }
    }

    fn watch_board(&mut self) -> RootChange {
        match self
            .watcher
            .watch(&self.collab, RecursiveMode::NonRecursive)
        {
            Ok(()) => {
                self.watching = Watching::Board;
                self.follow_folders();
                RootChange::BoardWatched
            }
            Err(err) => {
                tracing::warn!("cannot watch {}: {err}", self.collab.display());
                self.watching = Watching::Nothing;
                RootChange::BoardGone
            }
        }
    }

    fn watch_ancestor(&mut self) {
        self.watching = Watching::Nothing;
        let Some(ancestor) = nearest_existing(&self.collab) else {
            return;
        };
        if self
            .watcher
            .watch(&ancestor, RecursiveMode::NonRecursive)
            .is_err()
        {
            return;
        }
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

/// The board folders that are folders on disk (not links): `inbox`, `assigned`, `done`, and the
/// agent folders of the last two.
fn board_folders(collab: &Path) -> BTreeSet<PathBuf> {
    let mut folders: BTreeSet<PathBuf> = ["inbox", "assigned", "done"]
        .into_iter()
        .map(|name| collab.join(name))
        .filter(|folder| task_file::is_real_folder(folder))
        .collect();
    let agent_folders: Vec<PathBuf> = scan::lanes(collab)
        .into_iter()
        .map(|(column, agent)| collab.join(column.folder()).join(agent))
        // Not the folders of `assigned` or `done` when those are links.
        .filter(|folder| {
            folder
                .parent()
                .is_some_and(|column| folders.contains(column))
        })
        .collect();
    folders.extend(agent_folders);
    folders
}

fn nearest_existing(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|p| p.is_dir())
        .map(Path::to_path_buf)
}
