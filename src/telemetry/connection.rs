//! The open database file, and what happens when the file under `--db` goes away.
//!
//! SQLite keeps writing into a file that was deleted while open (the directory entry is gone, the
//! inode lives on until closed), so an `rm telemetry.db*` would otherwise make every later write
//! vanish at the next restart although it was acknowledged. A [`Connection`] remembers the device
//! and inode of the file it opened; [`super::Telemetry`] compares them with what the path names
//! now (one `stat`) before every operation and after every commit, and opens the path again —
//! creating a fresh database — when they differ. The `data_version` poll does the same check
//! every 100 ms, so a deleted file is recreated within that time even when nothing is written.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use sqlx::sqlite::SqlitePool;
use tokio::sync::watch as tokio_watch;

use super::error::TelemetryError;
use super::{db, watch};

/// Which file a path names: its device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    /// `None` when nothing is there (deleted, or its folder is gone).
    pub(super) fn of(path: &Path) -> Option<FileIdentity> {
        std::fs::metadata(path).ok().map(|meta| FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }
}

/// The pools and the change poll of one opened file.
pub(super) struct Connection {
    pub(super) writer: SqlitePool,
    pub(super) reader: SqlitePool,
    identity: FileIdentity,
    watcher: tokio::task::AbortHandle,
}

impl Connection {
    /// Opens (or creates) `path`, applies the migrations and starts the change poll.
    pub(super) async fn open(
        path: &Path,
        changes: Arc<tokio_watch::Sender<u64>>,
    ) -> Result<Connection, TelemetryError> {
        let writer = db::writer_pool(path).await?;
        if let Err(error) = db::prepare(&writer, path).await {
            writer.close().await;
            return Err(error);
        }
        let identity = FileIdentity::of(path).ok_or_else(|| TelemetryError::Vanished {
            path: path.to_path_buf(),
        })?;
        let reader = db::reader_pool(path).await?;
        let watcher = watch::spawn(path, identity, changes).await?;
        Ok(Connection {
            writer,
            reader,
            identity,
            watcher,
        })
    }

    /// Whether `path` still names the file this connection has open.
    pub(super) fn is_current(&self, path: &Path) -> bool {
        FileIdentity::of(path) == Some(self.identity)
    }

    /// Stops the poll and closes the pools (waits for the connections in use).
    pub(super) async fn close(&self) {
        self.watcher.abort();
        self.writer.close().await;
        self.reader.close().await;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}
