//! Brings the store in line with the disk for the paths an event names: reads files, scans
//! folders, pairs a file that appeared with a task whose file vanished, tracks agent folders.
//! Every change goes through the store, which emits an event only when something differs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::model::{Column, TaskPath};

use crate::board::cache::BoardCache;
use crate::board::scan::{self, Reading};
use crate::board::store::SharedStore;
use crate::board::task_file::{self, FileState, Stamp};

/// How long after its last change an empty file counts as a write in progress rather than an
/// empty file.
const WRITE_IN_PROGRESS: Duration = Duration::from_secs(1);

pub(super) struct Reconciler {
    pub(super) collab: PathBuf,
    pub(super) store: SharedStore,
    /// Files a scan found empty and left unread, for the event loop to read a moment later
    /// ([`Reconciler::take_empty_files`]).
    empty_files: RefCell<Vec<String>>,
}

/// What a scan does with the files on disk: the tasks it knows already, the files it reads.
#[derive(Default)]
struct Plan {
    known: Vec<Reading>,
    to_read: Vec<String>,
}

impl Plan {
    fn read(paths: Vec<String>) -> Plan {
        Plan {
            known: Vec::new(),
            to_read: paths,
        }
    }
}

impl Reconciler {
    pub(super) fn new(collab: PathBuf, store: SharedStore) -> Reconciler {
        Reconciler {
            collab,
            store,
            empty_files: RefCell::default(),
        }
    }

    /// The files scans found empty since the last call. A scan of a live board (a folder that
    /// appeared, the catch-up, a rescan) leaves an empty file unread: most often it is a write
    /// caught between creating the file and filling it, whose close-write comes next, and read now
    /// it would show as a broken task for an instant. The event loop reads each a moment later,
    /// through [`Reconciler::read_unless_being_written`], which reports a file that stays empty.
    pub(super) fn take_empty_files(&self) -> Vec<String> {
        std::mem::take(&mut self.empty_files.borrow_mut())
    }

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

    /// A read without a close-write (a deferred one). An empty file changed less than
    /// [`WRITE_IN_PROGRESS`] ago is a write still in progress (created, not yet filled by a
    /// writer the scheduler held up), which its close-write will read: not read now, and
    /// `Some(wait)` to look again then. An empty file older than that is read (a problem: the
    /// file is empty), so an empty file that no close-write follows is still reported.
    pub(super) fn read_unless_being_written(&self, relative: &str) -> Option<Duration> {
        let meta = std::fs::symlink_metadata(self.collab.join(relative)).ok();
        if let Some(meta) = meta.filter(|meta| meta.is_file() && meta.len() == 0) {
            let age = meta
                .modified()
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .unwrap_or(WRITE_IN_PROGRESS);
            if age < WRITE_IN_PROGRESS {
                return Some(WRITE_IN_PROGRESS - age);
            }
        }
        self.read(relative);
        None
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
    /// is stamped as it is read, so [`Reconciler::catch_up`] can tell what changed since. A
    /// file whose stamp is the one `cache` has for it is not read: its task comes from there.
    pub(super) fn first_scan(&self, cache: &mut BoardCache) -> HashMap<String, Stamp> {
        let cache = RefCell::new(cache);
        self.scan_folder_where(&self.collab.clone(), false, &|on_disk| {
            let mut cache = cache.borrow_mut();
            if cache.is_empty() {
                return Plan::read(on_disk.to_vec());
            }
            let mut plan = Plan::default();
            for (path, stamp) in on_disk.iter().zip(scan::stamp_all(&self.collab, on_disk)) {
                match stamp.and_then(|stamp| Some((cache.take(path, &stamp)?, stamp))) {
                    Some((task, stamp)) => plan.known.push(Reading {
                        path: path.clone(),
                        state: FileState::Task(Box::new(task)),
                        stamp: Some(stamp),
                    }),
                    None => plan.to_read.push(path.clone()),
                }
            }
            plan
        })
    }

    /// Once the board is watched after [`Reconciler::first_scan`]: reads again only the files
    /// whose stamp changed (or was racy), drops the ones that went, reads the ones that came;
    /// the stamps of the files read. Opening files costs here (inotify reports every open to
    /// the watcher's thread), so the catch-up opens as few as it can.
    ///
    /// The server runs it once the board is ready, so a file that moved meanwhile is named as
    /// moved (a new file whose name matches a task whose file is gone is that task), as the
    /// watcher would have named it.
    pub(super) fn catch_up(&self, stamps: &HashMap<String, Stamp>) -> HashMap<String, Stamp> {
        self.scan_folder_where(&self.collab.clone(), true, &|on_disk| {
            let now = scan::stamp_all(&self.collab, on_disk);
            Plan::read(
                on_disk
                    .iter()
                    .zip(now)
                    .filter(|(path, now)| match (stamps.get(*path), now) {
                        (Some(then), Some(now)) => then.is_racy() || !then.same_version(now),
                        _ => true,
                    })
                    .map(|(path, _)| path.clone())
                    .collect(),
            )
        })
    }

    /// Reads every task file at or below the folder and drops the ones that are gone. With
    /// `adopt`, a file matching a vanished task's name counts as that task moved here.
    pub(super) fn scan_folder(&self, folder: &Path, adopt: bool) {
        self.scan_folder_where(folder, adopt, &|on_disk| Plan::read(on_disk.to_vec()));
    }

    /// [`Reconciler::scan_folder`], reading only the files that `plan` picks from the ones on
    /// disk; the stamps of the files read or known.
    fn scan_folder_where(
        &self,
        folder: &Path,
        adopt: bool,
        plan: &dyn Fn(&[String]) -> Plan,
    ) -> HashMap<String, Stamp> {
        let Some(relative) = self.relative(folder) else {
            return HashMap::new();
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
        let Plan {
            known: from_cache,
            to_read,
        } = plan(&on_disk);
        if let Some(startup) = first_scan {
            startup.cached(from_cache.len());
        }
        let mut readings = from_cache;
        readings.extend(scan::read_all(&self.collab, &to_read, first_scan));
        if first_scan.is_none() {
            // The first scan reports an empty file at once: no write of it is under way that the
            // watcher would see (the catch-up after it reads again what changed meanwhile).
            let mut empty_files = self.empty_files.borrow_mut();
            readings.retain(|reading| match reading.stamp {
                Some(stamp) if stamp.is_empty() => {
                    empty_files.push(reading.path.clone());
                    false
                }
                _ => true,
            });
        }
        let stamps = readings
            .iter()
            .filter_map(|reading| Some((reading.path.clone(), reading.stamp?)))
            .collect();
        if adopt {
            for reading in readings {
                self.adopt_or_set(&reading.path, reading.state);
            }
        } else {
            self.store
                .set_all(readings.into_iter().map(|r| (r.path, r.state)));
        }
        for gone in known
            .into_iter()
            .filter(|k| on_disk.binary_search(k).is_err())
        {
            self.read(&gone);
        }
        stamps
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
        crate::runtime::release_free_memory();
    }
}
