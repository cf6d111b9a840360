//! Watches `<repo>/specifications` and publishes `portfolio.updated` on the board's stream when
//! a specification file is created, changed or removed, so the pages that show the portfolio read
//! it again (the portfolio itself is built when asked, see [`crate::reports::initiatives`]). The
//! files whose front matter cannot be read go to the board's Problems (at start and after each
//! change).
//!
//! Changes are gathered for [`SETTLE`] after the first one (an editor's save is several events)
//! and published once, naming the files. Bounded: at most [`QUEUE`] paths wait; more are dropped,
//! the event that carries the others still goes out. A `specifications/` folder created while the
//! server runs is found within [`LOOK_AGAIN`] and watched from then on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::board::{ProblemSource, SharedStore};
use crate::documents::SPECIFICATIONS_DIR;
use app::model::Problem;

/// How long changes are gathered before one event goes out.
const SETTLE: Duration = Duration::from_millis(100);
/// Paths waiting at most.
const QUEUE: usize = 1_024;
/// How often a missing `specifications/` folder is looked for.
const LOOK_AGAIN: Duration = Duration::from_secs(2);

/// Watching: dropped, it stops.
pub(crate) struct InitiativesFeed {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InitiativesFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `<repo>/specifications` (once it exists: a missing folder is looked for every
/// [`LOOK_AGAIN`]).
pub(crate) fn watch(repo: &Path, store: SharedStore) -> InitiativesFeed {
    let repo = repo.to_path_buf();
    InitiativesFeed {
        task: tokio::spawn(run(repo, store)),
    }
}

async fn run(repo: PathBuf, store: SharedStore) {
    let folder = repo.join(SPECIFICATIONS_DIR);
    let mut appeared = false;
    while !folder.is_dir() {
        if !appeared {
            tracing::info!(folder = %folder.display(), "no specifications folder yet");
            appeared = true;
        }
        tokio::time::sleep(LOOK_AGAIN).await;
    }
    let (sender, receiver) = mpsc::channel::<PathBuf>(QUEUE);
    let Some(_watcher) = watcher(&folder, sender) else {
        return;
    };
    if appeared {
        // Created while the server ran: whatever it holds is new.
        store.specifications_changed(vec![SPECIFICATIONS_DIR.to_owned()]);
    }
    publish_changes(receiver, repo, store).await;
}

/// A recursive watcher on `folder` sending the paths of changed `.md` files and folders.
fn watcher(folder: &Path, sender: mpsc::Sender<PathBuf>) -> Option<RecommendedWatcher> {
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        for path in event.paths {
            let specification = path.extension().is_some_and(|e| e == "md");
            let folder = path.extension().is_none();
            if specification || folder {
                let _ = sender.try_send(path);
            }
        }
    });
    let mut watcher = match watcher {
        Ok(watcher) => watcher,
        Err(error) => {
            tracing::warn!(%error, "specifications cannot be watched");
            return None;
        }
    };
    if let Err(error) = watcher.watch(folder, RecursiveMode::Recursive) {
        tracing::warn!(%error, folder = %folder.display(), "specifications cannot be watched");
        return None;
    }
    Some(watcher)
}

async fn publish_changes(mut receiver: mpsc::Receiver<PathBuf>, repo: PathBuf, store: SharedStore) {
    report_problems(&repo, &store).await;
    while let Some(first) = receiver.recv().await {
        let mut changed = BTreeSet::from([first]);
        let settled = tokio::time::sleep(SETTLE);
        tokio::pin!(settled);
        loop {
            tokio::select! {
                more = receiver.recv() => match more {
                    Some(path) => { changed.insert(path); }
                    None => break,
                },
                () = &mut settled => break,
            }
        }
        let paths: Vec<String> = changed
            .iter()
            .filter_map(|p| p.strip_prefix(&repo).ok())
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .collect();
        tracing::debug!(?paths, "specifications changed");
        report_problems(&repo, &store).await;
        store.specifications_changed(paths);
    }
}

/// The specifications that cannot be read, into the board's Problems.
async fn report_problems(repo: &Path, store: &SharedStore) {
    let repo = repo.to_path_buf();
    let Ok(list) =
        tokio::task::spawn_blocking(move || crate::documents::list_specifications(&repo)).await
    else {
        return;
    };
    let problems = list
        .problems
        .into_iter()
        .map(|p| {
            let place = match (p.line, p.column) {
                (Some(line), Some(column)) => format!("line {line}, column {column}: "),
                _ => String::new(),
            };
            Problem {
                reason: p.error.replacen(&place, "", 1),
                path: p.path,
                line: p.line,
                column: p.column,
            }
        })
        .collect();
    store.set_problems_of(ProblemSource::Specifications, problems);
}
