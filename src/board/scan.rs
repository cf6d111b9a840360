//! Walks the board's folders: which task files and agent folders are on disk, read in parallel.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use app::model::{Column, TaskPath};

use super::startup::Startup;
use super::task_file::{self, FileState, RealFolders, Stamp};

/// Relative paths of the task files at or below the folder `under` ("" for the whole board),
/// following the layout `inbox/*`, `assigned/*/*`, `done/*/*`, and of the symbolic links found
/// where a board folder belongs (not followed; reading one reports it). A link given as `under`
/// is not entered either.
pub(super) fn task_files(collab: &Path, under: &str) -> Vec<String> {
    let mut found = Vec::new();
    let start = under.trim_matches('/');
    if !TaskPath::is_board_folder(start) {
        return found;
    }
    if !start.is_empty() && !task_file::is_real_folder(&collab.join(start)) {
        if task_file::is_link(&collab.join(start)) {
            found.push(start.to_owned());
        }
        return found;
    }
    walk(collab, start, &mut found);
    found.sort();
    found
}

fn walk(collab: &Path, relative: &str, found: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(collab.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let child = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if TaskPath::is_board_folder(&child) {
                walk(collab, &child, found);
            }
        } else if TaskPath::parse(&child).is_some()
            || (file_type.is_symlink() && TaskPath::is_board_folder(&child))
        {
            found.push(child);
        }
    }
}

/// Agent folders (`assigned/<agent>`, `done/<agent>`) on disk.
pub(super) fn lanes(collab: &Path) -> Vec<(Column, String)> {
    let mut lanes = Vec::new();
    for column in [Column::Assigned, Column::Done] {
        let Ok(entries) = fs::read_dir(collab.join(column.folder())) else {
            continue;
        };
        for entry in entries.flatten() {
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
                if !name.starts_with('.') {
                    lanes.push((column, name.to_owned()));
                }
            }
        }
    }
    lanes.sort();
    lanes
}

/// One file read by [`read_all`], with its stamp from just before the reading.
pub(super) struct Reading {
    pub(super) path: String,
    pub(super) state: FileState,
    pub(super) stamp: Option<Stamp>,
}

/// Reads `paths` on all cores; logs progress on large trees, and counts it in `startup` during
/// the first scan (which ends early, with the files read so far, once the server is stopping).
pub(super) fn read_all(collab: &Path, paths: &[String], startup: Option<&Startup>) -> Vec<Reading> {
    let started = Instant::now();
    if let Some(startup) = startup {
        startup.found(paths.len());
    }
    let done = AtomicUsize::new(0);
    let report_every = 2_500;
    let results = on_all_cores(
        paths,
        // A first scan stops early when the server does.
        || !startup.is_some_and(Startup::is_stopping),
        RealFolders::default,
        |folders, path| {
            let (state, stamp) = task_file::read_stamped(collab, path, folders);
            if let Some(startup) = startup {
                startup.read_one();
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if paths.len() > report_every && n.is_multiple_of(report_every) {
                tracing::info!("scanned {n}/{} task files", paths.len());
            }
            Reading {
                path: path.clone(),
                state,
                stamp,
            }
        },
    );
    tracing::debug!(files = paths.len(), elapsed = ?started.elapsed(), "read task files");
    results
}

/// The stamps of `paths` (`None` where nothing is), on all cores.
pub(super) fn stamp_all(collab: &Path, paths: &[String]) -> Vec<Option<Stamp>> {
    on_all_cores(
        paths,
        || true,
        || (),
        |(), path| Stamp::of(&collab.join(path)),
    )
}

/// `each` over `items` in order, split between up to 8 threads (each with its own `state`);
/// stops taking items once `go_on` says no.
pub(super) fn on_all_cores<I: Sync, S, R: Send>(
    items: &[I],
    go_on: impl Fn() -> bool + Sync,
    state: impl Fn() -> S + Sync,
    each: impl Fn(&mut S, &I) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let chunk = items.len().div_ceil(threads).max(1);
    let (go_on, state, each) = (&go_on, &state, &each);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut state = state();
                    part.iter()
                        .take_while(|_| go_on())
                        .map(|item| each(&mut state, item))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("scan worker"))
            .collect()
    })
}
