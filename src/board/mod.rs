//! The board: task files under `work/collaboration`, read with limits ([`task_file`]), found by a
//! walk ([`scan`]), kept current by a file watcher ([`watcher`]) in one in-memory [`Store`] that
//! numbers every change and fans it out through a [`hub`] to whoever listens. A task file is
//! changed only through [`edit`]: one line, written atomically.
//!
//! Depends on nothing else in the crate but [`crate::runtime::memory`]; the HTTP layer and the cost
//! feed depend on it.

mod cache;
mod edit;
mod hub;
mod scan;
mod startup;
mod store;
mod task_file;
mod watcher;
mod yaml_json;

use std::path::{Path, PathBuf};

use app::model::Task;

pub(crate) use cache::default_dir as default_cache_dir;
pub(crate) use edit::{content_tag, rewrite, set_field, RewriteError};
pub(crate) use hub::FrameText;
pub use hub::{Frame, HUB_CAPACITY};
pub(crate) use store::ProblemSource;
pub use store::{SharedStore, Since, Store, TaskCounts};
pub use task_file::{parse, FileState};
pub use watcher::start as watch;
pub(crate) use watcher::start_in_background as watch_in_background;
pub use watcher::{WatchError, WatcherHandle};
pub(crate) use yaml_json::parse as parse_yaml;

/// `<root>/work/collaboration`: the folder whose `inbox/`, `assigned/` and `done/` make the board.
pub fn collaboration_dir(root: &Path) -> PathBuf {
    root.join("work").join("collaboration")
}

/// Reads `relative` again and puts what it holds on the board at once (after an edit, so the
/// change is published without waiting for the watcher, which then finds nothing new).
pub(crate) fn reread(store: &Store, collab: &Path, relative: &str) -> Option<u64> {
    store.set(relative, task_file::read(collab, relative))
}

/// Every task on disk now, problems left out: a one-off read without a watcher (the demo seeder).
pub(crate) fn read_tasks(collab: &Path) -> Vec<Task> {
    scan::read_all(collab, &scan::task_files(collab, ""), None)
        .into_iter()
        .filter_map(|reading| match reading.state {
            FileState::Task(task) => Some(*task),
            _ => None,
        })
        .collect()
}
