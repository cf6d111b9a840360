//! Reads one task file from disk, with limits, and says what it is now: a task, a problem, or
//! nothing (gone, or not a task file).

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use app::model::{task_from_document, Problem, Task, TaskPath};

use super::yaml_json;

/// Files larger than this are reported, not parsed.
pub(super) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// What the disk holds at a path of the board.
#[derive(Clone, Debug, PartialEq)]
pub enum FileState {
    Task(Box<Task>),
    Invalid(Problem),
    /// No task file there (missing, a folder, or not a task path).
    Absent,
}

/// Reads `relative` (to `collab`, `/`-separated): a task file, or a board folder position
/// (`inbox`, `assigned/<agent>`, …), which is a problem when it is a symbolic link.
///
/// Folder links are never followed, wherever they point: a board folder must be a real folder,
/// so the board is the same live and after a restart and never shows files from elsewhere. A task
/// file is read only if the folders above it (below `collab`) are real folders.
pub(super) fn read(collab: &Path, relative: &str) -> FileState {
    read_stamped(collab, relative, &mut RealFolders::default()).0
}

/// [`read`], with the file's [`Stamp`] (`None` when nothing is there); `folders` remembers
/// which folders were found real for the files of one batch (a scan reads thousands of files from
/// a handful of folders).
pub(super) fn read_stamped(
    collab: &Path,
    relative: &str,
    folders: &mut RealFolders,
) -> (FileState, Option<Stamp>) {
    let Some(location) = TaskPath::parse(relative) else {
        return (read_folder_position(collab, relative), None);
    };
    let full = collab.join(relative);
    if !folders.above_are_real(collab, relative) {
        return (FileState::Absent, None);
    }
    // A plain file, the common case, in one walk of its path: opened without following a link
    // or waiting on a FIFO, its stamp taken from the open file (so the stamp and the bytes are
    // of the same file). A link, a folder or an error goes the long way, from `lstat`.
    match open_plain_file(&full) {
        Ok(Some((file, meta))) => {
            let stamp = Stamp::from_metadata(&meta);
            return (
                read_open_file(relative, &location, file, &meta),
                Some(stamp),
            );
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return (FileState::Absent, None),
        Ok(None) | Err(_) => {}
    }
    let meta = match fs::symlink_metadata(&full) {
        Ok(meta) => meta,
        Err(_) => return (FileState::Absent, None),
    };
    let stamp = Some(Stamp::from_metadata(&meta));
    (read_file(collab, relative, &location, &full, meta), stamp)
}

/// `full` opened when it is a plain file (not a link, a folder, a FIFO, a device…).
fn open_plain_file(full: &Path) -> std::io::Result<Option<(fs::File, fs::Metadata)>> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(full)?;
    let meta = file.metadata()?;
    Ok(meta.is_file().then_some((file, meta)))
}

fn problem(relative: &str, reason: String) -> FileState {
    FileState::Invalid(Problem {
        path: relative.to_owned(),
        line: None,
        column: None,
        reason,
    })
}

/// The file at `full`, whose `lstat` is `meta`: a link is followed if it stays on the board.
fn read_file(
    collab: &Path,
    relative: &str,
    location: &TaskPath,
    full: &Path,
    meta: fs::Metadata,
) -> FileState {
    let meta = if meta.file_type().is_symlink() {
        match symlink_stays_inside(collab, full) {
            Ok(true) => {}
            Ok(false) => {
                return problem(
                    relative,
                    "symbolic link to a place outside work/collaboration: not followed".into(),
                )
            }
            Err(_) => return problem(relative, "symbolic link whose target does not exist".into()),
        }
        match fs::metadata(full) {
            Ok(meta) => meta,
            Err(_) => return FileState::Absent,
        }
    } else {
        meta
    };
    if !meta.is_file() {
        return FileState::Absent;
    }
    match fs::File::open(full) {
        Ok(file) => read_open_file(relative, location, file, &meta),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => FileState::Absent,
        Err(err) => problem(relative, format!("cannot read the file: {err}")),
    }
}

/// Reads and parses an open task file of the size `meta` says, with the limits.
fn read_open_file(
    relative: &str,
    location: &TaskPath,
    file: fs::File,
    meta: &fs::Metadata,
) -> FileState {
    if meta.len() > MAX_FILE_BYTES {
        return problem(
            relative,
            format!(
                "file is {} bytes; task files are limited to {} bytes",
                meta.len(),
                MAX_FILE_BYTES
            ),
        );
    }
    let bytes = match read_bytes(file, meta.len()) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return FileState::Absent,
        Err(err) => return problem(relative, format!("cannot read the file: {err}")),
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return problem(
            relative,
            format!("file grew past the limit of {MAX_FILE_BYTES} bytes"),
        );
    }
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    match parse(relative, location, &bytes, modified_ms) {
        Ok(task) => FileState::Task(Box::new(task)),
        Err(problem) => FileState::Invalid(problem),
    }
}

/// The bytes of `file`, whose size was `expected`: once that many are read it stops, where
/// `read_to_end` would ask once more to see the end (a system call a file, 10 000 at a large
/// board's start). A file that grew meanwhile is read on, up to one byte past the limit.
fn read_bytes(mut file: fs::File, expected: u64) -> std::io::Result<Vec<u8>> {
    let expected = expected as usize;
    let mut bytes = vec![0; expected + 1];
    let mut filled = 0;
    while filled < bytes.len() {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
        if filled == expected {
            break;
        }
    }
    bytes.truncate(filled);
    if filled > expected {
        file.take(MAX_FILE_BYTES + 1 - filled as u64)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Parses the bytes of a task file.
pub fn parse(
    relative: &str,
    location: &TaskPath,
    bytes: &[u8],
    modified_ms: Option<i64>,
) -> Result<Task, Problem> {
    let problem = |line: Option<u32>, column: Option<u32>, reason: String| Problem {
        path: relative.to_owned(),
        line,
        column,
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let offset = err.valid_up_to();
        let (line, column) = line_and_column(&bytes[..offset]);
        problem(
            Some(line),
            Some(column),
            format!("not UTF-8 text (invalid byte at offset {offset})"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(problem(None, None, "the file is empty".into()));
    }
    let document = yaml_json::parse(text)
        .map_err(|err| problem(Some(err.line), Some(err.column), err.message))?;
    task_from_document(relative, location, document, modified_ms)
        .map_err(|reason| problem(Some(1), Some(1), reason))
}

fn line_and_column(prefix: &[u8]) -> (u32, u32) {
    let line = prefix.iter().filter(|b| **b == b'\n').count() as u32 + 1;
    let column = prefix.iter().rev().take_while(|b| **b != b'\n').count() as u32 + 1;
    (line, column)
}

/// A folder position holds nothing to read; a symbolic link there is reported.
fn read_folder_position(collab: &Path, relative: &str) -> FileState {
    if relative.is_empty() || !TaskPath::is_board_folder(relative) {
        return FileState::Absent;
    }
    let full = collab.join(relative);
    let is_link = fs::symlink_metadata(&full).is_ok_and(|meta| meta.file_type().is_symlink());
    if !is_link {
        return FileState::Absent;
    }
    let reason = match symlink_stays_inside(collab, &full) {
        Ok(false) => "symbolic link to a folder outside work/collaboration: not followed",
        Ok(true) => {
            "symbolic link to a folder: not followed (board folders must be real folders, not links)"
        }
        Err(_) => "symbolic link whose target does not exist",
    };
    FileState::Invalid(Problem {
        path: relative.to_owned(),
        line: None,
        column: None,
        reason: reason.into(),
    })
}

/// Whether the folders above a file (below `collab`) are real folders, remembered for the last
/// folder asked about: a link anywhere on the way would lead off the board.
#[derive(Default)]
pub(super) struct RealFolders {
    last: Option<(String, bool)>,
}

impl RealFolders {
    fn above_are_real(&mut self, collab: &Path, relative: &str) -> bool {
        let Some((parent, _)) = relative.rsplit_once('/') else {
            return true;
        };
        if let Some((known, real)) = &self.last {
            if known == parent {
                return *real;
            }
        }
        let mut folder = collab.to_path_buf();
        let real = parent.split('/').all(|part| {
            folder.push(part);
            fs::symlink_metadata(&folder).is_ok_and(|meta| meta.is_dir())
        });
        self.last = Some((parent.to_owned(), real));
        real
    }
}

/// A file's identity and version as `lstat` tells them: another write changes its size, its
/// modification or its change time, a replacement its inode.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Stamp {
    len: u64,
    /// Nanoseconds since 1970 (an i64 lasts until 2262).
    modified_ns: i64,
    changed_ns: i64,
    inode: u64,
    /// Modified within one timestamp tick of the stamping: see [`Stamp::is_racy`].
    #[serde(skip)]
    racy: bool,
}

impl Stamp {
    pub(super) fn of(path: &Path) -> Option<Stamp> {
        fs::symlink_metadata(path)
            .ok()
            .map(|meta| Stamp::from_metadata(&meta))
    }

    fn from_metadata(meta: &fs::Metadata) -> Stamp {
        let ns = |seconds: i64, nanoseconds: i64| {
            seconds
                .saturating_mul(1_000_000_000)
                .saturating_add(nanoseconds)
        };
        let modified_ns = ns(meta.mtime(), meta.mtime_nsec());
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        // A file system's timestamps are as fine as the kernel's clock tick (a few milliseconds)
        // or as coarse as two seconds (FAT): nanoseconds of 0 mean a coarse one.
        let tick_ns: i64 = if meta.mtime_nsec() == 0 {
            2_000_000_000
        } else {
            50_000_000
        };
        Stamp {
            len: meta.len(),
            modified_ns,
            changed_ns: ns(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
            racy: now_ns.saturating_sub(modified_ns) < tick_ns,
        }
    }

    /// The file was modified within one timestamp tick of being stamped: a write right after the
    /// stamping may leave the same stamp (git calls such index entries "racily clean"), so the
    /// file is read again whatever its stamp says.
    pub(super) fn is_racy(&self) -> bool {
        self.racy
    }

    /// The file had no bytes.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn same_version(&self, other: &Stamp) -> bool {
        (self.len, self.modified_ns, self.changed_ns, self.inode)
            == (other.len, other.modified_ns, other.changed_ns, other.inode)
    }
}

/// Whether `path` is a symbolic link (to anything, or dangling).
pub(super) fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

/// Whether `path` is a folder itself, not a link to one.
pub(super) fn is_real_folder(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())
}

fn symlink_stays_inside(collab: &Path, link: &Path) -> std::io::Result<bool> {
    let target = fs::canonicalize(link)?;
    let root = fs::canonicalize(collab)?;
    Ok(target.starts_with(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Task, Problem> {
        let location = TaskPath::parse("inbox/t.yaml").unwrap();
        parse("inbox/t.yaml", &location, text.as_bytes(), None)
    }

    #[test]
    fn unquoted_timestamps_and_leading_document_marker() {
        let task = parse_text("---\nid: a\ncreated: 2026-02-09 20:00:00+00:00\ndue: 2026-03-01\n")
            .unwrap();
        assert_eq!(task.created_at.as_deref(), Some("2026-02-09T20:00:00Z"));
        assert_eq!(task.document.value()["due"], "2026-03-01");
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let problem =
            parse_text("id: a\ntitle: x\ndescription: |\n  ok\nnotes:\n* Phase 1\n").unwrap_err();
        assert_eq!(problem.line, Some(6), "{problem:?}");
        assert!(!problem.reason.contains(" line "), "{}", problem.reason);
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        }
        let problem = parse_text(&bomb).unwrap_err();
        assert!(
            problem.reason.contains("repetition limit"),
            "{}",
            problem.reason
        );
        let deep = format!("id: {}1{}\n", "[".repeat(1000), "]".repeat(1000));
        let problem = parse_text(&deep).unwrap_err();
        assert!(
            problem.reason.contains("recursion limit"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn non_utf8_and_empty_and_non_mapping() {
        let location = TaskPath::parse("inbox/t.yaml").unwrap();
        let problem = parse("inbox/t.yaml", &location, b"id: a\ntitle: \xff\n", None).unwrap_err();
        assert_eq!((problem.line, problem.column), (Some(2), Some(8)));
        assert_eq!(parse_text("  \n").unwrap_err().reason, "the file is empty");
        assert!(parse_text("- a\n- b\n")
            .unwrap_err()
            .reason
            .contains("a list"));
    }

    #[test]
    fn non_string_keys_and_tags() {
        let task = parse_text("id: a\n1: one\nx: !custom 5\n").unwrap();
        assert_eq!(task.document.value()["1"], "one");
        assert_eq!(task.document.value()["x"], 5);
    }
}
