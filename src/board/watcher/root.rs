//! Which folder the watcher watches: the board folder, recursively, when it exists; otherwise
//! its nearest existing ancestor, until the board folder appears (then it is scanned).

use std::path::{Path, PathBuf};

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

#[derive(Debug, PartialEq)]
enum Watching {
    Nothing,
    /// The board folder, recursively.
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
}

impl RootWatch {
    pub(super) fn new(collab: PathBuf, watcher: RecommendedWatcher) -> RootWatch {
        RootWatch {
            collab,
            watcher,
            watching: Watching::Nothing,
        }
    }

    pub(super) fn watching_board(&self) -> bool {
        self.watching == Watching::Board
    }

    /// The board folder was removed (its watch ends with it).
    pub(super) fn board_removed(&mut self) {
        self.watching = Watching::Nothing;
    }

    /// Watches the board folder when it exists, else its nearest existing ancestor.
    pub(super) fn ensure(&mut self) -> RootChange {
        let exists = self.collab.is_dir();
        match (&self.watching, exists) {
            (Watching::Board, true) => RootChange::Unchanged,
            (Watching::Board, false) | (Watching::Nothing, false) => {
                let _ = self.watcher.unwatch(&self.collab);
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
        match self.watcher.watch(&self.collab, RecursiveMode::Recursive) {
            Ok(()) => {
                self.watching = Watching::Board;
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

fn nearest_existing(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|p| p.is_dir())
        .map(Path::to_path_buf)
}
