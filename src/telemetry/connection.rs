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

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use tokio::sync::watch as tokio_watch;

use super::error::TelemetryError;
use super::Location;
use super::{db, postgres, watch};

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

/// The pools of an open database.
#[derive(Clone)]
pub(crate) enum Pools {
    /// One writer (SQLite allows one at a time) and `query_only` readers.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// The pools and the change watch of one opened database.
pub(super) struct Connection {
    pub(super) pools: Pools,
    /// The file opened (SQLite).
    identity: Option<FileIdentity>,
    watcher: tokio::task::AbortHandle,
}

impl Connection {
    /// Opens the database: a SQLite file (created when missing) or a PostgreSQL database, with
    /// the migrations applied and its change watch started.
    pub(super) async fn open(
        location: &Location,
        changes: Arc<tokio_watch::Sender<u64>>,
    ) -> Result<Connection, TelemetryError> {
        match location {
            Location::File(path) => Connection::open_file(path, changes).await,
            Location::Postgres(url) => {
                let connect = |source| TelemetryError::Connect {
                    location: location.to_string(),
                    source,
                };
                let pool = postgres::connect(url).await.map_err(connect)?;
                let watcher = match postgres::listen(&pool, changes).await {
                    Ok(watcher) => watcher,
                    Err(source) => {
                        pool.close().await;
                        return Err(connect(source));
                    }
                };
                Ok(Connection {
                    pools: Pools::Postgres(pool),
                    identity: None,
                    watcher,
                })
            }
        }
    }

    async fn open_file(
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
            pools: Pools::Sqlite { writer, reader },
            identity: Some(identity),
            watcher,
        })
    }

    /// Whether `location` still names the database this connection has open: for a file, the
    /// same device and inode (a server database is always the same).
    pub(super) fn is_current(&self, location: &Location) -> bool {
        match (location.file(), self.identity) {
            (Some(path), Some(identity)) => FileIdentity::of(path) == Some(identity),
            _ => true,
        }
    }

    /// Stops the change watch and closes the pools (waits for the connections in use).
    pub(super) async fn close(&self) {
        self.watcher.abort();
        match &self.pools {
            Pools::Sqlite { writer, reader } => {
                writer.close().await;
                reader.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}
