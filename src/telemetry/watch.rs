//! Change detection with `PRAGMA data_version`.
//!
//! SQLite has no cross-process notification, but `data_version` on a connection changes whenever
//! *another* connection (in this process or another one) committed to the file. Polling it every
//! 100 ms on a dedicated connection is a single cheap call that reads the WAL index: it costs
//! nothing when idle and lets rows written by the Python logger reach dashboards well within
//! 250 ms. The connection holds no transaction between polls, so it never blocks checkpoints.
//!
//! After the commits it sees, at most every [`CHECKPOINT_EVERY`], the same connection
//! checkpoints the WAL (`PRAGMA wal_checkpoint(PASSIVE)`: it copies what it can without waiting
//! for or blocking anyone), so the writer need not (see `db::writer_options`).
//!
//! Each poll also checks that the path still names the file that was opened; when it does not
//! (deleted, replaced), the poll reports a change and ends: whoever reacts to the change (the cost
//! feed) goes through [`super::Telemetry`], which opens the path again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::SqliteConnection;
use sqlx::{ConnectOptions, Connection};
use tokio::sync::watch;

use super::connection::FileIdentity;
use super::db;
use super::error::TelemetryError;

/// How often `data_version` is read.
pub(super) const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// The WAL is checkpointed at most this often, after commits.
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Opens the dedicated connection and starts the polling task. The task ends when aborted
/// (dropping the last [`super::Telemetry`] clone does it).
pub(super) async fn spawn(
    path: &Path,
    opened: FileIdentity,
    changes: Arc<watch::Sender<u64>>,
) -> Result<tokio::task::AbortHandle, TelemetryError> {
    let options = db::reader_options(path);
    let mut connection = options
        .connect()
        .await
        .map_err(|source| TelemetryError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let mut last = data_version(&mut connection).await?;
    let path = path.to_path_buf();
    let task = tokio::spawn(async move {
        let mut interval = tokio::time::interval(POLL_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        let mut checkpointed = tokio::time::Instant::now();
        let mut uncheckpointed = false;
        loop {
            interval.tick().await;
            if FileIdentity::of(&path) != Some(opened) {
                tracing::warn!(path = %path.display(), "the telemetry database file was deleted or replaced");
                changes.send_modify(|count| *count += 1);
                break;
            }
            match data_version(&mut connection).await {
                Ok(version) => {
                    failing = false;
                    if version != last {
                        last = version;
                        uncheckpointed = true;
                        changes.send_modify(|count| *count += 1);
                    }
                    if uncheckpointed && checkpointed.elapsed() >= CHECKPOINT_EVERY {
                        checkpointed = tokio::time::Instant::now();
                        uncheckpointed = false;
                        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                            .execute(&mut connection)
                            .await
                        {
                            tracing::debug!(path = %path.display(), %error, "telemetry checkpoint failed");
                        }
                    }
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(path = %path.display(), %error, "telemetry data_version poll failed");
                        failing = true;
                    }
                    // A broken connection stays broken: reconnect, and report a change since
                    // one may have been missed.
                    if let Ok(mut fresh) = options.connect().await {
                        if let Ok(version) = data_version(&mut fresh).await {
                            let _ = std::mem::replace(&mut connection, fresh).close().await;
                            last = version;
                            changes.send_modify(|count| *count += 1);
                        }
                    }
                }
            }
        }
    });
    Ok(task.abort_handle())
}

async fn data_version(connection: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("PRAGMA data_version")
        .fetch_one(connection)
        .await
}
