//! The board as the last startup read it, kept in the user's cache folder, so that a restart
//! parses only the task files that changed since (parsing is most of a large board's startup:
//! 10 000 task files of a few KB take ~0.4 s on two cores, BENCHMARKS.md).
//!
//! Each task is kept with the [`Stamp`] its file had just before it was read. At startup a file
//! whose stamp is the same (size, modification and change times, inode) and was not racy (see
//! [`Stamp::is_racy`]) is taken from the cache; any other file is read. A cache written by
//! another build of execdash (another executable) or for another board is not used; one that
//! does not parse is reported and ignored. Problems (broken files) are not cached: they are
//! read again, so their message is always current.
//!
//! Only boards of at least [`MIN_FILES`] task files are cached: smaller ones are read in a
//! blink, and no file is left behind for them.

use std::collections::HashMap;
use std::fs;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use app::model::{Document, Task, TaskSummary};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};

use super::scan;
use super::task_file::Stamp;

/// Boards with fewer task files are not cached.
pub(super) const MIN_FILES: usize = 1_000;

/// A cache file larger than this is not read (it cannot be one this program wrote for a board
/// of task files limited to 1 MB each… unless the board is huge; then it is read normally).
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Changes whenever the file's layout does.
const FORMAT: u32 = 1;

/// The first line: what the entries below are valid for.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Header {
    format: u32,
    /// The executable that wrote the cache (its size and modification time): another build
    /// may read task files differently.
    executable: String,
    /// The board folder, absolute.
    board: String,
}

impl Header {
    fn now(collab: &Path) -> Header {
        Header {
            format: FORMAT,
            executable: executable_identity(),
            board: collab.display().to_string(),
        }
    }
}

fn executable_identity() -> String {
    std::env::current_exe()
        .and_then(fs::metadata)
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}-{modified}", meta.len())
        })
        .unwrap_or_default()
}

/// One line per task.
#[derive(Serialize)]
struct EntryOut<'a> {
    path: &'a str,
    stamp: &'a Stamp,
    summary: &'a TaskSummary,
    description: &'a Option<String>,
    document: &'a Document,
}

#[derive(Deserialize)]
struct EntryIn {
    path: String,
    stamp: Stamp,
    summary: TaskSummary,
    description: Option<String>,
    document: Box<RawValue>,
}

/// The tasks of the last startup, by path.
#[derive(Default)]
pub(super) struct BoardCache {
    entries: HashMap<String, (Stamp, Task)>,
}

impl BoardCache {
    /// The cache file of the board `collab` in the folder `dir`.
    pub(super) fn file(dir: &Path, collab: &Path) -> PathBuf {
        let digest = Sha256::digest(collab.as_os_str().as_encoded_bytes());
        let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        dir.join(format!("board-{name}.jsonl"))
    }

    /// The cache at `file`, if it was written for `collab` by this executable; empty otherwise.
    pub(super) fn load(file: &Path, collab: &Path) -> BoardCache {
        let started = std::time::Instant::now();
        match Self::try_load(file, collab) {
            Ok(Some(cache)) => {
                tracing::debug!(
                    tasks = cache.entries.len(),
                    file = %file.display(),
                    elapsed = ?started.elapsed(),
                    "board cache read"
                );
                cache
            }
            Ok(None) => BoardCache::default(),
            Err(reason) => {
                tracing::warn!(file = %file.display(), "board cache not used: {reason}");
                BoardCache::default()
            }
        }
    }

    fn try_load(file: &Path, collab: &Path) -> Result<Option<BoardCache>, String> {
        match fs::metadata(file) {
            Err(_) => return Ok(None),
            Ok(meta) if meta.len() > MAX_BYTES => {
                return Err(format!("{} bytes is more than it can be", meta.len()))
            }
            Ok(_) => {}
        }
        let text = fs::read_to_string(file).map_err(|err| err.to_string())?;
        let mut lines = text.lines();
        let header: Header = serde_json::from_str(lines.next().unwrap_or(""))
            .map_err(|err| format!("first line: {err}"))?;
        if header != Header::now(collab) {
            // Written by another build or for another folder: not an error.
            return Ok(None);
        }
        let lines: Vec<&str> = lines.collect();
        let entries = scan::on_all_cores(
            &lines,
            || true,
            || (),
            |(), line| serde_json::from_str::<EntryIn>(line),
        );
        let mut cache = BoardCache::default();
        for (number, entry) in entries.into_iter().enumerate() {
            let entry = entry.map_err(|err| format!("line {}: {err}", number + 2))?;
            let task = Task {
                summary: entry.summary,
                description: entry.description,
                document: Document::from_raw(entry.document),
            };
            cache.entries.insert(entry.path, (entry.stamp, task));
        }
        Ok(Some(cache))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The task read from the file at `path` last time, if the file still has that version.
    pub(super) fn take(&mut self, path: &str, now: &Stamp) -> Option<Task> {
        match self.entries.remove(path) {
            Some((then, task)) if then.same_version(now) && !now.is_racy() => Some(task),
            _ => None,
        }
    }

    /// Writes the cache of `collab` to `file` (atomically: a temporary file renamed over it),
    /// from tasks paired with their files' stamps from before they were read. Racy stamps and
    /// tasks that would not come back equal are left out.
    pub(super) fn save<'a>(
        file: &Path,
        collab: &Path,
        tasks: impl IntoIterator<Item = (&'a str, &'a Stamp, &'a Task)>,
    ) -> std::io::Result<()> {
        let dir = file.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let temporary = file.with_extension(format!("tmp-{}", std::process::id()));
        let written =
            Self::write(&temporary, collab, tasks).and_then(|()| fs::rename(&temporary, file));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }

    fn write<'a>(
        file: &Path,
        collab: &Path,
        tasks: impl IntoIterator<Item = (&'a str, &'a Stamp, &'a Task)>,
    ) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut out = BufWriter::new(
            fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(file)?,
        );
        {
            serde_json::to_writer(&mut out, &Header::now(collab))?;
            out.write_all(b"\n")?;
            for (path, stamp, task) in tasks {
                let keeps = task.estimated_hours.is_none_or(f64::is_finite);
                if stamp.is_racy() || !keeps {
                    continue;
                }
                serde_json::to_writer(
                    &mut out,
                    &EntryOut {
                        path,
                        stamp,
                        summary: &task.summary,
                        description: &task.description,
                        document: &task.document,
                    },
                )?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

/// The cache folder, readable by its owner only (task files may say what a team works on).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Where caches go by default: `$XDG_CACHE_HOME/execdash`, else `~/.cache/execdash`.
pub(crate) fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(base.join("execdash"))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::board::task_file::{self, FileState, RealFolders};

    fn write(collab: &Path, relative: &str, text: &str, an_hour_old: bool) {
        let path = collab.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        if an_hour_old {
            let then = SystemTime::now() - Duration::from_secs(3600);
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(then)
                .unwrap();
        }
    }

    fn read(collab: &Path, relative: &str) -> (Task, Stamp) {
        match task_file::read_stamped(collab, relative, &mut RealFolders::default()) {
            (FileState::Task(task), Some(stamp)) => (*task, stamp),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cache_serves_its_own_board_and_only_files_that_kept_their_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let collab = dir.path().join("work/collaboration");
        write(
            &collab,
            "inbox/a.yaml",
            "id: a\ntitle: A\ndescription: \"x\\ny\"\n",
            true,
        );
        write(
            &collab,
            "inbox/b.yaml",
            "id: b\nestimated_hours: 2.5\n",
            true,
        );
        let (a, a_stamp) = read(&collab, "inbox/a.yaml");
        let (b, b_stamp) = read(&collab, "inbox/b.yaml");
        let file = BoardCache::file(&dir.path().join("cache"), &collab);
        BoardCache::save(
            &file,
            &collab,
            [
                ("inbox/a.yaml", &a_stamp, &a),
                ("inbox/b.yaml", &b_stamp, &b),
            ],
        )
        .unwrap();

        let elsewhere = BoardCache::load(&file, &dir.path().join("other"));
        assert!(elsewhere.is_empty(), "another board's cache is not used");

        let mut cache = BoardCache::load(&file, &collab);
        assert_eq!(cache.take("inbox/a.yaml", &a_stamp), Some(a));
        write(
            &collab,
            "inbox/b.yaml",
            "id: b\nestimated_hours: 3.5\n",
            true,
        );
        let (_, b_now) = read(&collab, "inbox/b.yaml");
        assert_eq!(
            cache.take("inbox/b.yaml", &b_now),
            None,
            "same size and time, other inode or change time"
        );
        assert!(cache.is_empty());
    }

    #[test]
    fn a_file_modified_within_a_tick_of_its_reading_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let collab = dir.path().join("work/collaboration");
        write(&collab, "inbox/a.yaml", "id: a\n", false);
        let (a, a_stamp) = read(&collab, "inbox/a.yaml");
        assert!(a_stamp.is_racy());
        let file = BoardCache::file(&dir.path().join("cache"), &collab);
        BoardCache::save(&file, &collab, [("inbox/a.yaml", &a_stamp, &a)]).unwrap();
        assert!(BoardCache::load(&file, &collab).is_empty());
    }
}
