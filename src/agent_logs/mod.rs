//! The coding agents' own session files, read for their model calls: Claude Code's transcripts
//! (see [`claude`]), backfilled once (`execdash import --agent-logs`) and followed while the
//! server runs (off with `--no-agent-logs`). Offsets are kept so a restart reads nothing twice;
//! each call's id is the API's request id, as in Claude Code's OpenTelemetry, so a call seen both
//! ways counts once.
//!
//! Depends on [`crate::telemetry`] (where calls are stored) and [`crate::prices`].

mod claude;
mod follow;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use claude::config_dirs;
pub(crate) use follow::{ReadError, ReadReport, Transcripts};

use crate::prices::PriceTable;
use crate::telemetry::Telemetry;

/// Between two looks at the transcripts while following.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);
/// Between two listings of the transcript folders (new sessions).
const LIST_EVERY: Duration = Duration::from_secs(1);

/// Where the offsets of `repo`'s transcripts are kept in the cache folder `cache`.
pub(crate) fn state_file(cache: &Path, repo: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let repo = std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_path_buf());
    let digest = Sha256::digest(repo.to_string_lossy().as_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    cache.join(format!("agent-logs-{name}.json"))
}

/// Follows the transcripts until `stop`: every [`FOLLOW_EVERY`] what was written is read and
/// stored, and `stored` is called after every read that stored calls.
pub(crate) async fn follow(
    mut transcripts: Transcripts,
    telemetry: Telemetry,
    mut stored: impl FnMut() -> futures_util::future::BoxFuture<'static, ()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut files = Vec::new();
    let mut listed = tokio::time::Instant::now() - LIST_EVERY;
    loop {
        if listed.elapsed() >= LIST_EVERY {
            files = transcripts.files();
            listed = tokio::time::Instant::now();
        }
        match transcripts.read(&telemetry, &files, true, |_| {}).await {
            Ok(report) => {
                if report.inserted > 0 {
                    tracing::debug!(inserted = report.inserted, "agent transcripts read");
                    stored().await;
                }
                if report.bad_lines > 0 {
                    tracing::warn!(bad = ?report.bad, "unreadable transcript lines skipped");
                }
            }
            Err(error) => tracing::warn!(%error, "agent transcripts: reading again later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// A reader of `repo`'s transcripts with the offsets kept in `cache` (when there is one).
pub(crate) fn transcripts_of(
    repo: &Path,
    config_dirs: Vec<PathBuf>,
    prices: Arc<PriceTable>,
    cache: Option<&Path>,
) -> Transcripts {
    Transcripts::new(
        repo,
        config_dirs,
        prices,
        cache.map(|cache| state_file(cache, repo)),
    )
}
