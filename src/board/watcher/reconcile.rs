//! Brings the store in line with the disk for the paths an event names: reads files, scans
//! folders, pairs a file that appeared with a task whose file vanished, tracks agent folders.
//! Every change goes through the store, which emits an event only when something differs.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use app::model::{Column, TaskPath};

use crate::board::scan;
use crate::board::store::SharedStore;
use crate::board::task_file::{self, FileState};

pub(super) struct Reconciler {
    pub(super) collab: PathBuf,
    pub(super) store: SharedStore,
}

/// A file's identity and version as `lstat` tells them: another write changes its size, its
/// modification or its change time, a replacement its inode.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stamp {
    len: u64,
    modified_ns: i128,
    changed_ns: i128,
    inode: u64,
    /// Modified within one timestamp tick of the stamping: see [`Stamp::is_racy`].
    racy: bool,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        let ns = |seconds: i64, nanoseconds: i64| {
            i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds)
        };
        let modified_ns = ns(meta.mtime(), meta.mtime_nsec());
        let now_ns = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        // A file system's timestamps are as fine as the kernel's clock tick (a few milliseconds)
        // or as coarse as two seconds (FAT): nanoseconds of 0 mean a coarse one.
        let tick_ns: i128 = if meta.mtime_nsec() == 0 {
            2_000_000_000
        } else {
            50_000_000
        };
        Some(Stamp {
            len: meta.len(),
            modified_ns,
            changed_ns: ns(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
            racy: now_ns - modified_ns < tick_ns,
        })
    }

    /// The file was modified within one timestamp tick of being stamped: a write right after the
    /// stamping may leave the same stamp (git calls such index entries "racily clean"), so the
    /// file is read again whatever its stamp says.
    fn is_racy(&self) -> bool {
        self.racy
    }

    fn same_version(&self, other: &Stamp) -> bool {
        (self.len, self.modified_ns, self.changed_ns, self.inode)
            == (other.len, other.modified_ns, other.changed_ns, other.inode)
    }
}

impl Reconciler {
    /// `path` relative to the board folder, `/`-separated; `None` outside it or not UTF-8.
    pub(super) fn relative(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.collab).ok()?;
        let parts: Option<Vec<&str>> = relative
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect();
        Some(parts?.join("/"))
    }

    /// Reads one task file now and records what it is.
    pub(super) fn read(&self, relative: &str) {
        let state = task_file::read(&self.collab, relative);
        self.store.set(relative, state);
    }

    /// A read without a close-write: an empty file is a write still in progress (created, not
    /// yet filled by a writer the scheduler held up), which its close-write will read.
    pub(super) fn read_unless_empty(&self, relative: &str) {
        let empty = std::fs::symlink_metadata(self.collab.join(relative))
            .is_ok_and(|meta| meta.is_file() && meta.len() == 0);
        if !empty {
            self.read(relative);
        }
    }

    /// Something at `path` changed in a way that may affect a whole folder: bring the board in
    /// line with the disk at and below it.
    pub(super) fn refresh(&self, path: &Path) {
        let Some(relative) = self.relative(path) else {
            return;
        };
        if task_file::is_real_folder(path) {
            self.scan_folder(path, false);
            return;
        }
        for known in self.store.known_under(&relative) {
            self.read(&known);
        }
        let readable = TaskPath::parse(&relative).is_some() || TaskPath::is_board_folder(&relative);
        if readable && !self.store.knows(&relative) {
            self.read(&relative);
        }
        self.update_lane(&relative);
    }

    /// A file or folder arrived without a known source (moved in from outside, or the halves
    /// of its rename were seen apart).
    pub(super) fn arrived(&self, path: &Path) {
        if task_file::is_real_folder(path) {
            self.scan_folder(path, true);
        } else if let Some(relative) = self.relative(path) {
            let state = task_file::read(&self.collab, &relative);
            self.adopt_or_set(&relative, state);
        }
    }

    /// A file that appeared whose name matches a task whose file vanished is that task, moved.
    fn adopt_or_set(&self, relative: &str, state: FileState) {
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

    /// Both halves of a rename: a moved file, a moved folder (all its tasks move), or a move
    /// into or out of the board.
    pub(super) fn renamed(&self, from: &Path, to: &Path) {
        let (from_rel, to_rel) = (self.relative(from), self.relative(to));
        if task_file::is_real_folder(to) {
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

    /// The first reading of the whole board, done before the board is watched: each task file
    /// is stamped before it is read, so [`Reconciler::catch_up`] can tell what changed since.
    pub(super) fn first_scan(&self) -> HashMap<String, Stamp> {
        let stamps = scan::task_files(&self.collab, "")
            .into_iter()
            .filter_map(|path| Some((path.clone(), Stamp::of(&self.collab.join(&path))?)))
            .collect();
        self.scan_folder(&self.collab.clone(), false);
        stamps
    }

    /// Once the board is watched after [`Reconciler::first_scan`]: reads again only the files
    /// whose stamp changed (or was racy), drops the ones that went, reads the ones that came. Opening files costs here (inotify reports every open to
    /// the watcher's thread), so the catch-up opens as few as it can.
    pub(super) fn catch_up(&self, stamps: &HashMap<String, Stamp>) {
        self.scan_folder_where(&self.collab.clone(), false, &|path| match (
            stamps.get(path),
            Stamp::of(&self.collab.join(path)),
        ) {
            (Some(then), Some(now)) => then.is_racy() || !then.same_version(&now),
            _ => true,
        });
    }

    /// Reads every task file at or below the folder and drops the ones that are gone. With
    /// `adopt`, a file matching a vanished task's name counts as that task moved here.
    pub(super) fn scan_folder(&self, folder: &Path, adopt: bool) {
        self.scan_folder_where(folder, adopt, &|_| true);
    }

    /// [`Reconciler::scan_folder`], reading only the files on disk that `needs_reading`.
    fn scan_folder_where(&self, folder: &Path, adopt: bool, needs_reading: &dyn Fn(&str) -> bool) {
        let Some(relative) = self.relative(folder) else {
            return;
        };
        self.update_lane(&relative);
        let listed = match relative.as_str() {
            "" => scan::lanes(&self.collab),
            "assigned" | "done" => scan::lanes(&self.collab)
                .into_iter()
                .filter(|(column, _)| column.folder() == relative)
                .collect(),
            _ => Vec::new(),
        };
        for (column, lane) in listed {
            self.store.set_lane(column, &lane, true);
        }
        let on_disk = scan::task_files(&self.collab, &relative);
        let known = self.store.known_under(&relative);
        let startup = self.store.startup();
        let first_scan = (!startup.is_done()).then_some(startup);
        let to_read: Vec<String> = on_disk
            .iter()
            .filter(|path| needs_reading(path))
            .cloned()
            .collect();
        for (path, state) in scan::read_all(&self.collab, &to_read, first_scan) {
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
            self.read(&gone);
        }
    }

    /// Records whether the agent folder `relative` (`assigned/<agent>`, `done/<agent>`) exists.
    pub(super) fn update_lane(&self, relative: &str) {
        let parts: Vec<&str> = relative.split('/').collect();
        let column = match parts.as_slice() {
            ["assigned", _] => Column::Assigned,
            ["done", _] => Column::Done,
            _ => return,
        };
        self.store.set_lane(
            column,
            parts[1],
            task_file::is_real_folder(&self.collab.join(relative)),
        );
    }

    /// The whole board against the disk.
    pub(super) fn rescan(&self) {
        self.scan_folder(&self.collab.clone(), false);
        crate::memory::release_free_memory();
    }
}
