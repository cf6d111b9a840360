//! The coding agents' own session files, read for their model calls: Claude Code's transcripts
//! (see [`claude`]) and Codex's session files (see [`codex`]), backfilled once (`execdash import
//! --agent-logs`) and followed while the server runs (off with `--no-agent-logs`). Offsets are
//! kept so a restart reads nothing twice; each call's id is the one the agent's OpenTelemetry
//! gives it too (Claude Code's request id; Codex's conversation and counts), so a call seen both
//! ways counts once.
//!
//! Depends on [`crate::telemetry`] (where calls are stored) and [`crate::invocations::prices`].

mod claude;
mod codex;
mod follow;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use claude::config_dirs;
pub(crate) use codex::homes as codex_homes;
pub(crate) use follow::Transcripts;
use follow::SETTLE;

use crate::invocations::PriceTable;
use crate::telemetry::{Invocation, Telemetry};

/// What one transcript line is.
#[derive(Debug, PartialEq)]
enum Line {
    /// A model call, with the key its copies share.
    Call(Box<Invocation>),
    /// Anything else (a prompt, a tool result, a summary, a call made outside the repository).
    Other,
    /// Not a JSON object: reported, skipped.
    Bad(String),
}

/// Between two reads of every transcript while following (the watcher's events between them).
const FULL_READ_EVERY: Duration = Duration::from_secs(10);
/// The watcher's events waiting to be handled.
const EVENT_QUEUE: usize = 1024;

/// Where the offsets of `repo`'s transcripts are kept in the cache folder `cache`.
pub(crate) fn state_file(cache: &Path, repo: &Path) -> PathBuf {
    crate::runtime::repository_cache_file(cache, repo, "agent-logs")
}

/// Follows the transcripts until `stop`: what was not read yet at once, then every file the
/// watcher says was written (a new session's file too), and everything again every
/// [`FULL_READ_EVERY`] in case an event was missed. `stored` is called after every read that
/// stored calls.
pub(crate) async fn follow(
    mut transcripts: Transcripts,
    telemetry: Telemetry,
    mut stored: impl FnMut() -> futures_util::future::BoxFuture<'static, ()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (sender, mut events) = tokio::sync::mpsc::channel::<notify::Event>(EVENT_QUEUE);
    // A full queue drops events: the next full read finds what they said.
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            let _ = sender.try_send(event);
        }
    });
    let mut watcher = match watcher {
        Ok(watcher) => Some(watcher),
        Err(error) => {
            tracing::warn!(%error, "agent transcripts: no file watcher, reading every few seconds");
            None
        }
    };
    let mut watched = HashSet::new();
    let mut files = Vec::new();
    let mut changed: HashSet<PathBuf> = HashSet::new();
    let mut full = true;
    let mut next_full = tokio::time::Instant::now();
    loop {
        if full {
            if let Some(watcher) = watcher.as_mut() {
                watch_folders(watcher, &transcripts, &mut watched);
            }
            files = transcripts.files();
            changed.extend(files.iter().cloned());
            next_full = tokio::time::Instant::now() + FULL_READ_EVERY;
            full = false;
        }
        let mut retry = None;
        if !changed.is_empty() {
            let mut paths: Vec<PathBuf> = changed.drain().collect();
            paths.sort();
            match transcripts.read(&telemetry, &paths, true, |_| {}).await {
                Ok(report) => {
                    if report.inserted > 0 {
                        tracing::debug!(inserted = report.inserted, "agent transcripts read");
                        stored().await;
                    }
                    if report.bad_lines > 0 {
                        tracing::warn!(bad = ?report.bad, "unreadable transcript lines skipped");
                    }
                    if !report.held.is_empty() {
                        changed.extend(report.held);
                        retry = Some(tokio::time::Instant::now() + SETTLE);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "agent transcripts: reading again later");
                    changed.extend(paths);
                    retry = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                }
            }
        }
        let wake = retry.map_or(next_full, |at| at.min(next_full));
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { return };
                full |= take(event, &files, &mut changed);
                while let Ok(event) = events.try_recv() {
                    full |= take(event, &files, &mut changed);
                }
            }
            _ = tokio::time::sleep_until(wake) => full = tokio::time::Instant::now() >= next_full,
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Notes what `event` says: a transcript written (`changed`), or a folder or file that is new
/// (the folders are listed again: `true`). Opening and reading, which reading causes, is no
/// change.
fn take(event: notify::Event, files: &[PathBuf], changed: &mut HashSet<PathBuf>) -> bool {
    use notify::EventKind;
    if !matches!(
        event.kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
    ) {
        return false;
    }
    let mut relist = false;
    for path in event.paths {
        if path.extension().is_some_and(|e| e == "jsonl") {
            relist |= !files.contains(&path);
            changed.insert(path);
        } else if matches!(event.kind, EventKind::Create(_)) {
            relist = true;
        }
    }
    relist
}

/// Watches each config folder's `projects` (new project folders) and the repository's project
/// folders with what is under them (new sessions, sub-agents).
fn watch_folders(
    watcher: &mut notify::RecommendedWatcher,
    transcripts: &Transcripts,
    watched: &mut HashSet<PathBuf>,
) {
    use notify::Watcher as _;
    for (folder, mode) in transcripts.folders() {
        if !watched.contains(&folder) && watcher.watch(&folder, mode).is_ok() {
            watched.insert(folder);
        }
    }
}

/// Where the agents keep their session files.
#[derive(Clone, Debug, Default)]
pub(crate) struct AgentHomes {
    /// Claude Code's config folders (see [`config_dirs`]).
    pub(crate) claude: Vec<PathBuf>,
    /// Codex's homes (see [`codex_homes`]).
    pub(crate) codex: Vec<PathBuf>,
}

impl AgentHomes {
    /// As the agents find them: from their environment variables, else in the home folder.
    pub(crate) fn from_env() -> AgentHomes {
        AgentHomes {
            claude: config_dirs(),
            codex: codex_homes(),
        }
    }
}

/// A reader of `repo`'s transcripts in `homes`, with the offsets kept in `cache` (when there is
/// one).
pub(crate) fn transcripts_of(
    repo: &Path,
    homes: AgentHomes,
    prices: Arc<PriceTable>,
    cache: Option<&Path>,
) -> Transcripts {
    Transcripts::new(
        repo,
        homes,
        prices,
        cache.map(|cache| state_file(cache, repo)),
    )
}
