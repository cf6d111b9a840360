//! Changing one top-level field of a task file the way a person would: only that line changes.
//! Comments, key order, quoting style, indentation and line endings stay as they were; a field
//! that is missing is added as the last line. What cannot be changed that way (a block scalar, a
//! nested value, a flow mapping, the key twice) is refused rather than rewritten. The result is
//! parsed again and must hold the new value with every other field unchanged.
//!
//! The file is replaced atomically: a hidden temporary file in the same folder (which the
//! watcher ignores), written, flushed to disk, given the old file's permissions, then renamed
//! over it, and the folder flushed.
//!
//! Another process may write the file while that happens (an agent appending a note). Nothing it
//! writes is lost ([`rewrite`]): right before the rename the file is read again through the same
//! open file and must still be the version the change was made from (else the change is made
//! again from the new version, after its precondition is checked again; lines only appended
//! meanwhile are carried into the temporary file at once when the change comes out the same with
//! them, so a file appended to faster than a flush to disk still takes the change); and after the rename the
//! old file, still open, is read once more, so bytes that reached it between that check and the
//! rename are found and put back, with the change made on them. A writer that opened the file
//! before the rename and writes to it only later (descheduled between its open and its write)
//! reaches the replaced file, which nobody names any more: the old file is watched for
//! [`LATE_WRITES_WATCHED`] after the answer, and what is appended to it then is appended to the
//! file the path names ([`rescue_late_appends`]).

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::yaml_json;

/// Why a field could not be changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum EditError {
    /// The file is not a single YAML mapping with the field on one line of its own.
    #[error("{0}")]
    Unsupported(String),
}

/// Identifies a file's content (the detail view's and the edits' `ETag`).
pub(crate) fn content_tag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` with the top-level `field` set to `value` (a plain string).
pub(crate) fn set_field(text: &str, field: &str, value: &str) -> Result<String, EditError> {
    let before = parse_mapping(text)?;
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let end = document_end(&lines);
    let mut found = None;
    for (i, line) in lines[..end].iter().enumerate() {
        let Some(rest) = line.strip_prefix(field) else {
            continue;
        };
        if rest.starts_with(':') {
            if found.is_some() {
                return Err(EditError::Unsupported(format!(
                    "the file sets `{field}` twice"
                )));
            }
            found = Some(i);
        }
    }
    let mut out = String::with_capacity(text.len() + value.len() + field.len() + 4);
    match found {
        Some(i) => {
            let line = lines[i];
            let (body, ending) = split_ending(line);
            let rest = &body[field.len() + 1..];
            let replaced = replace_value(rest, value).ok_or_else(|| {
                EditError::Unsupported(format!(
                    "`{field}` is not a value on one line (a block or a nested value); \
                     edit the file by hand"
                ))
            })?;
            // A value continued on the next, indented line(s) is not a one-line value either.
            if lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with([' ', '\t']) && !next.trim().is_empty())
            {
                return Err(EditError::Unsupported(format!(
                    "`{field}` continues on the next line; edit the file by hand"
                )));
            }
            lines[..i].iter().for_each(|l| out.push_str(l));
            out.push_str(field);
            out.push(':');
            out.push_str(&replaced);
            out.push_str(ending);
            lines[i + 1..].iter().for_each(|l| out.push_str(l));
        }
        None => {
            lines[..end].iter().for_each(|l| out.push_str(l));
            if !out.is_empty() && !out.ends_with('\n') {
                out.push_str(newline);
            }
            out.push_str(field);
            out.push_str(": ");
            out.push_str(&quoted(value, None));
            out.push_str(newline);
            lines[end..].iter().for_each(|l| out.push_str(l));
        }
    }
    let after = parse_mapping(&out)?;
    let mut expected = before;
    expected.insert(field.to_owned(), Value::String(value.to_owned()));
    if after != expected {
        return Err(EditError::Unsupported(format!(
            "changing `{field}` on its line would change more than `{field}`; edit the file by hand"
        )));
    }
    Ok(out)
}

fn parse_mapping(text: &str) -> Result<serde_json::Map<String, Value>, EditError> {
    match yaml_json::parse(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(EditError::Unsupported(
            "the file is not a mapping of task fields".into(),
        )),
        Err(error) => Err(EditError::Unsupported(format!(
            "the file is not valid YAML: {error}"
        ))),
    }
}

/// The index of the line ending the first document (a later `---` or `...`), else the count.
fn document_end(lines: &[&str]) -> usize {
    let mut seen_content = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            if seen_content {
                return i;
            }
            continue;
        }
        if trimmed == "..." {
            return i;
        }
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            seen_content = true;
        }
    }
    lines.len()
}

fn split_ending(line: &str) -> (&str, &str) {
    if let Some(body) = line.strip_suffix("\r\n") {
        (body, "\r\n")
    } else if let Some(body) = line.strip_suffix('\n') {
        (body, "\n")
    } else {
        (line, "")
    }
}

/// What follows `field:` with the value replaced: the spacing before it, its quoting style and a
/// trailing comment kept. `None` when the value is not a one-line scalar.
fn replace_value(rest: &str, value: &str) -> Option<String> {
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let (lead, old) = rest.split_at(spaces);
    let (old_value, tail) = match old.chars().next() {
        None | Some('#') => return None,
        Some('|') | Some('>') | Some('[') | Some('{') | Some('&') | Some('*') | Some('!') => {
            return None
        }
        Some(quote @ ('"' | '\'')) => {
            let close = closing_quote(old, quote)?;
            old.split_at(close + 1)
        }
        Some(_) => match old.find(" #").or_else(|| old.find("\t#")) {
            Some(at) => {
                let value_end = old[..at].trim_end().len();
                old.split_at(value_end)
            }
            None => (old.trim_end(), &old[old.trim_end().len()..]),
        },
    };
    let style = old_value.chars().next().filter(|c| *c == '"' || *c == '\'');
    let lead = if lead.is_empty() { " " } else { lead };
    Some(format!("{lead}{}{tail}", quoted(value, style)))
}

/// The byte index of the quote closing a quoted scalar that starts at 0.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i] as char;
        if quote == '"' && b == '\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `value` in the given quoting style, or plain when it reads back as the same string (else
/// double-quoted).
fn quoted(value: &str, style: Option<char>) -> String {
    match style {
        Some('\'') => format!("'{}'", value.replace('\'', "''")),
        Some(_) => double_quoted(value),
        None if plain_is_safe(value) => value.to_owned(),
        None => double_quoted(value),
    }
}

fn double_quoted(value: &str) -> String {
    serde_json::to_string(value).expect("a string serializes")
}

fn plain_is_safe(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !value.starts_with(['-', '.'])
        // YAML 1.1 readers (the agents' Python) take these for booleans and nulls.
        && !["yes", "no", "on", "off", "y", "n", "true", "false", "null", "~"]
            .contains(&value.to_ascii_lowercase().as_str())
        && matches!(yaml_json::parse(value), Ok(Value::String(s)) if s == value)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many times a change is made again because the file changed under it before it gives up.
const MAX_ROUNDS: usize = 16;

/// Why [`rewrite`] did not change the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RewriteError<E> {
    /// The precondition or the change refused the file as it is.
    #[error("{0}")]
    Refused(E),
    /// Another process replaced the file, or changed it so the change no longer applies, while
    /// it was being written: what that process wrote is on disk, the change is not.
    #[error("the file was changed by another process while it was being written; the change was not made")]
    ChangedMeanwhile,
    /// The file changed under every one of [`MAX_ROUNDS`] attempts.
    #[error("the file kept changing while it was being written; the change was not made")]
    KeepsChanging,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Replaces the file at `path` with `change` made on what it holds, losing nothing another
/// process writes to it meanwhile (see the module's documentation). `check` is the caller's
/// precondition on the version read (its ETag, its status); it is checked again on every version
/// the change is made from, except on bytes found late in the old file, which arrived after the
/// precondition held. The bytes written are returned.
pub(crate) fn rewrite<E>(
    path: &Path,
    check: impl Fn(&[u8]) -> Result<(), E>,
    change: impl Fn(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, RewriteError<E>> {
    rewrite_observed(path, check, change, &mut |_| {})
}

/// The moments of [`rewrite`] at which another writer is most likely to slip in (tests hook
/// writes there to open those windows on purpose).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Moment {
    /// The change is made and flushed to the temporary file; the file is read once more next.
    BeforeCheck,
    /// The file was found unchanged; it is renamed over next.
    BeforeRename,
}

fn rewrite_observed<E>(
    path: &Path,
    check: impl Fn(&[u8]) -> Result<(), E>,
    change: impl Fn(&[u8]) -> Result<Vec<u8>, E>,
    at: &mut dyn FnMut(Moment),
) -> Result<Vec<u8>, RewriteError<E>> {
    // Set when bytes reached the old file after the rename's check: (the old file as that
    // writer left it, what the rename put in place).
    let mut late: Option<(Vec<u8>, Vec<u8>)> = None;
    // Set when the change could not be made on those bytes: they are put back alone.
    let mut restoring = false;
    // The change made from `source`, after the caller's precondition holds on it; on bytes found
    // late (which arrived after the precondition held) not checked again, and `None` when the
    // change cannot be made on them.
    let made = |source: &[u8], late: bool| -> Result<Option<Vec<u8>>, RewriteError<E>> {
        if late {
            return Ok(change(source).ok());
        }
        check(source).map_err(RewriteError::Refused)?;
        change(source).map(Some).map_err(RewriteError::Refused)
    };
    for _ in 0..MAX_ROUNDS {
        let mut file = open_no_follow(path)?;
        let mut current = read_whole(&mut file)?;
        // What the change is made from: the file as it is, or in a late round what the other
        // writer left in the replaced file followed by what was appended to ours since.
        let mut source = match &late {
            None => current.clone(),
            Some((theirs, ours)) => {
                // What was appended to our version since it was put in place stays after it.
                let Some(added) = current.strip_prefix(ours.as_slice()) else {
                    return Err(RewriteError::ChangedMeanwhile);
                };
                [theirs.as_slice(), added].concat()
            }
        };
        let mut desired = match made(&source, late.is_some())? {
            Some(changed) => changed,
            None => {
                restoring = true;
                source.clone()
            }
        };
        let mut temp = TempFile::write(path, &desired)?;
        at(Moment::BeforeCheck);
        // Lines appended meanwhile (an agent's note) are carried into the temporary when the
        // change made with them is the change made without them followed by them: the file is
        // then checked again microseconds later, instead of a round later (a flush to disk, which
        // a file appended to every few milliseconds on a busy disk never left undisturbed).
        let mut unchanged = false;
        for _ in 0..MAX_ROUNDS {
            let added = match written_since(path, &mut file, &current)? {
                WrittenSince::Nothing => {
                    unchanged = true;
                    break;
                }
                WrittenSince::Otherwise => break,
                WrittenSince::Appended(added) => added,
            };
            let grown = [source.as_slice(), &added].concat();
            let remade = if restoring {
                grown.clone()
            } else {
                match made(&grown, late.is_some())? {
                    Some(changed) => changed,
                    None => break,
                }
            };
            if remade.strip_prefix(desired.as_slice()) != Some(added.as_slice()) {
                break;
            }
            temp.append(&added)?;
            current.extend_from_slice(&added);
            source = grown;
            desired = remade;
        }
        if !unchanged {
            continue;
        }
        at(Moment::BeforeRename);
        temp.rename_over(path)?;
        // Read after the folder is flushed: a writer that opened the old file before the rename
        // has had those milliseconds to finish.
        let after = read_whole(&mut file)?;
        if after == current {
            rescue_late_appends(path, file, current);
            return if restoring {
                Err(RewriteError::ChangedMeanwhile)
            } else {
                Ok(desired)
            };
        }
        tracing::info!(path = %path.display(), "another process wrote the file while it was replaced: its bytes are put back");
        // Put back in the next round as they are now; what still comes to it later, as below.
        rescue_late_appends(path, file, after.clone());
        late = Some((after, desired));
    }
    Err(RewriteError::KeepsChanging)
}

/// How long after a rewrite the replaced file is still watched for late appends, and when it is
/// read (a writer's open and its write are rarely further apart than a scheduler's time slice or
/// two; this covers a loaded machine's).
const LATE_WRITES_WATCHED: [Duration; 4] = [
    Duration::from_millis(10),
    Duration::from_millis(50),
    Duration::from_millis(200),
    Duration::from_millis(1000),
];

/// Replaced files watched at most at once (a thread each, for a second).
const MAX_WATCHED: usize = 64;

/// Replaced files watched now.
static WATCHING: AtomicUsize = AtomicUsize::new(0);

/// Watches the replaced `file` (which held `current` when the path stopped naming it) on a
/// thread of its own for [`LATE_WRITES_WATCHED`]: bytes appended to it by a writer that opened it
/// before the rename are appended to the file `path` names now, once each. Bytes that are not an
/// append (the old file rewritten in place) cannot be placed and are logged.
fn rescue_late_appends(path: &Path, mut file: fs::File, current: Vec<u8>) {
    // Bounded: a burst of edits beyond this watches only the first ones' files.
    if WATCHING.fetch_add(1, Ordering::SeqCst) >= MAX_WATCHED {
        WATCHING.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!(path = %path.display(), "{MAX_WATCHED} replaced files are watched for late writes already: this one is not");
        return;
    }
    /// Gives the watcher's place back however its thread ends.
    struct Watching;
    impl Drop for Watching {
        fn drop(&mut self) {
            WATCHING.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let watching = Watching;
    let path = path.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("execdash-late-appends".into())
        .spawn(move || {
            let _watching = watching;
            let mut rescued = current.len();
            let mut waited = Duration::ZERO;
            for at in LATE_WRITES_WATCHED {
                std::thread::sleep(at - waited);
                waited = at;
                let now = match read_whole(&mut file) {
                    Ok(now) => now,
                    Err(error) => {
                        tracing::warn!(path = %path.display(), "cannot read the replaced file for late writes: {error}");
                        return;
                    }
                };
                if !now.starts_with(&current) {
                    tracing::warn!(path = %path.display(), "the replaced file was rewritten in place after the edit: what was written there is not carried over");
                    return;
                }
                if now.len() <= rescued {
                    continue;
                }
                let late = &now[rescued..];
                let appended = fs::OpenOptions::new()
                    .append(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&path)
                    .and_then(|mut live| live.write_all(late));
                match appended {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), bytes = late.len(), "another process appended to the file after it was replaced: its bytes are appended to the new one");
                        rescued = now.len();
                    }
                    Err(error) => {
                        tracing::warn!(path = %path.display(), "bytes appended to the replaced file could not be carried over: {error}");
                        return;
                    }
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!("cannot watch a replaced file for late writes: {error}");
    }
}

/// Opens `path` for reading, refusing a symbolic link.
fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// The whole content of `file`, read from its start.
fn read_whole(file: &mut fs::File) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What was written to a file since it held `expected`.
enum WrittenSince {
    Nothing,
    /// Bytes after `expected`, which is still its start.
    Appended(Vec<u8>),
    /// Anything else: the path names another file now (or none), or the file was rewritten.
    Otherwise,
}

/// What reached the open `file` since it held `expected`, if `path` still names it.
fn written_since(
    path: &Path,
    file: &mut fs::File,
    expected: &[u8],
) -> std::io::Result<WrittenSince> {
    let open = file.metadata()?;
    let named = match fs::symlink_metadata(path) {
        Ok(named) => named,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(WrittenSince::Otherwise)
        }
        Err(error) => return Err(error),
    };
    if (open.dev(), open.ino()) != (named.dev(), named.ino()) || open.len() < expected.len() as u64
    {
        return Ok(WrittenSince::Otherwise);
    }
    let now = read_whole(file)?;
    Ok(match now.strip_prefix(expected) {
        Some([]) => WrittenSince::Nothing,
        Some(added) => WrittenSince::Appended(added.to_vec()),
        None => WrittenSince::Otherwise,
    })
}

/// A hidden file beside the one it will replace (the watcher ignores it), removed unless it is
/// renamed.
struct TempFile {
    path: Option<PathBuf>,
}

impl TempFile {
    /// Writes `bytes` to a new temporary beside `target`, with `target`'s permissions, flushed.
    fn write(target: &Path, bytes: &[u8]) -> std::io::Result<TempFile> {
        let folder = target.parent().unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = TempFile {
            path: Some(folder.join(format!(
                ".{name}.execdash-{}-{}.tmp",
                std::process::id(),
                TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ))),
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(temp.path())?;
        file.write_all(bytes)?;
        if let Ok(meta) = fs::metadata(target) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        Ok(temp)
    }

    /// Appends `bytes` (another writer's, appended to the file meanwhile: not flushed again, as
    /// that writer did not flush them either).
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        fs::OpenOptions::new()
            .append(true)
            .open(self.path())?
            .write_all(bytes)
    }

    fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("a temporary file not yet renamed")
    }

    /// Renames the temporary over `target` and flushes the folder.
    fn rename_over(mut self, target: &Path) -> std::io::Result<()> {
        fs::rename(self.path(), target)?;
        self.path = None;
        fs::File::open(target.parent().unwrap_or(Path::new(".")))?.sync_all()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = "# Owner: planning\nid: t-1\ntitle: \"Parse: the profiles\"\npriority: 'HIGH'   # agreed on Monday\nstatus: new\ntags: [a, b]\n";

    #[test]
    fn only_the_line_changes_and_its_quoting_and_comment_stay() {
        let out = set_field(TASK, "priority", "LOW").unwrap();
        assert_eq!(
            out,
            TASK.replace("priority: 'HIGH'   # agreed", "priority: 'LOW'   # agreed")
        );
        let plain = TASK.replace("'HIGH'", "HIGH");
        assert_eq!(
            set_field(&plain, "priority", "normal").unwrap(),
            plain.replace("priority: HIGH ", "priority: normal ")
        );
        let double = TASK.replace("'HIGH'", "\"HIGH\"");
        assert_eq!(
            set_field(&double, "priority", "CRITICAL").unwrap(),
            double.replace("\"HIGH\"", "\"CRITICAL\"")
        );
    }

    #[test]
    fn crlf_files_keep_crlf_and_a_missing_field_is_added_last() {
        let crlf = "id: t-2\r\nstatus: new\r\n";
        assert_eq!(
            set_field(crlf, "specification", "specifications/a/b.md").unwrap(),
            "id: t-2\r\nstatus: new\r\nspecification: specifications/a/b.md\r\n"
        );
        let no_final_newline = "id: t-3";
        assert_eq!(
            set_field(no_final_newline, "priority", "LOW").unwrap(),
            "id: t-3\npriority: LOW\n"
        );
        let with_marker = "---\nid: t-4\n...\n";
        assert_eq!(
            set_field(with_marker, "priority", "LOW").unwrap(),
            "---\nid: t-4\npriority: LOW\n...\n"
        );
    }

    #[test]
    fn what_cannot_change_on_one_line_is_refused() {
        for (text, why) in [
            ("id: a\npriority: |\n  HIGH\n", "block"),
            ("id: a\npriority:\n  level: HIGH\n", "nested"),
            ("{id: a, priority: HIGH}\n", "flow"),
            ("id: a\npriority: HIGH\npriority: LOW\n", "twice"),
            ("- a\n- b\n", "not a mapping"),
            ("id: [unclosed\n", "invalid"),
            ("id: a\npriority: HIGH\n  continued\n", "continues"),
        ] {
            assert!(
                set_field(text, "priority", "LOW").is_err(),
                "{why}: {text:?}"
            );
        }
        // A nested `priority:` deeper in the file is not the task's.
        let nested = "id: a\ncontext:\n  priority: none\n";
        assert_eq!(
            set_field(nested, "priority", "LOW").unwrap(),
            "id: a\ncontext:\n  priority: none\npriority: LOW\n"
        );
    }

    #[test]
    fn values_that_need_quotes_get_them() {
        assert_eq!(
            set_field("id: a\n", "feature", "Rate: limits #1").unwrap(),
            "id: a\nfeature: \"Rate: limits #1\"\n"
        );
        assert_eq!(
            set_field("id: a\n", "feature", "yes").unwrap(),
            "id: a\nfeature: \"yes\"\n"
        );
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// A hook that appends `line` to `path` the first time the file is about to be checked.
    fn append_once_before_check<'p>(path: &'p Path, line: &'p str) -> impl FnMut(Moment) + 'p {
        let mut appended = false;
        move |moment| {
            if moment == Moment::BeforeCheck && !appended {
                append(path, line);
                appended = true;
            }
        }
    }

    fn set_priority(text: &[u8]) -> Result<Vec<u8>, EditError> {
        let text = std::str::from_utf8(text).unwrap();
        set_field(text, "priority", "LOW").map(String::into_bytes)
    }

    fn no_precondition(_: &[u8]) -> Result<(), EditError> {
        Ok(())
    }

    fn append(path: &Path, line: &str) {
        let mut file = fs::OpenOptions::new().append(true).open(path).unwrap();
        file.write_all(line.as_bytes()).unwrap();
    }

    #[test]
    fn a_rewrite_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        fs::write(&path, "id: a\npriority: HIGH\n").unwrap();
        let written = rewrite(&path, no_precondition, set_priority).unwrap();
        assert_eq!(written, b"id: a\npriority: LOW\n");
        assert_eq!(fs::read_to_string(&path).unwrap(), "id: a\npriority: LOW\n");
        assert_eq!(names_in(dir.path()), ["t.yaml"]);
        // A refusal leaves the file and no temporary.
        let refused = rewrite(
            &path,
            |_| Err(EditError::Unsupported("no".into())),
            set_priority,
        );
        assert!(matches!(refused, Err(RewriteError::Refused(_))));
        assert_eq!(names_in(dir.path()), ["t.yaml"]);
    }

    #[test]
    fn a_line_appended_while_the_change_is_written_is_kept_and_the_precondition_checked_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        fs::write(&path, "id: a\npriority: HIGH\n").unwrap();
        let checks = std::cell::Cell::new(0);
        let written = rewrite_observed(
            &path,
            |_| {
                checks.set(checks.get() + 1);
                Ok::<(), EditError>(())
            },
            set_priority,
            &mut append_once_before_check(&path, "# note: agent was here\n"),
        )
        .unwrap();
        let expected = "id: a\npriority: LOW\n# note: agent was here\n";
        assert_eq!(String::from_utf8(written).unwrap(), expected);
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
        assert_eq!(
            checks.get(),
            2,
            "the precondition is checked on the new version"
        );
        assert_eq!(names_in(dir.path()), ["t.yaml"]);
        // With a precondition on the version first read (an ETag), the new version fails it.
        fs::write(&path, "id: a\npriority: HIGH\n").unwrap();
        let first = content_tag(b"id: a\npriority: HIGH\n");
        let refused = rewrite_observed(
            &path,
            |bytes| {
                (content_tag(bytes) == first)
                    .then_some(())
                    .ok_or(EditError::Unsupported("changed since read".into()))
            },
            set_priority,
            &mut append_once_before_check(&path, "# later\n"),
        );
        assert!(
            matches!(refused, Err(RewriteError::Refused(_))),
            "{refused:?}"
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "id: a\npriority: HIGH\n# later\n"
        );
    }

    #[test]
    fn a_file_appended_to_during_every_write_still_takes_the_change_and_keeps_the_lines() {
        // A writer faster than a flush to disk: a line lands while each temporary is written,
        // which used to make every round start over until the change gave up.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        fs::write(&path, "id: a\npriority: HIGH\n").unwrap();
        let mut lines = 0;
        let written = rewrite_observed(&path, no_precondition, set_priority, &mut |moment| {
            if moment == Moment::BeforeCheck {
                append(&path, &format!("# note {lines}\n"));
                lines += 1;
            }
        })
        .unwrap();
        assert_eq!(lines, 1, "one temporary written, the line carried into it");
        let expected = "id: a\npriority: LOW\n# note 0\n";
        assert_eq!(String::from_utf8(written).unwrap(), expected);
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
        assert_eq!(names_in(dir.path()), ["t.yaml"]);
        // A line the change does not come out the same with (the field is added last, so after
        // it) is made again from the new version instead.
        fs::write(&path, "id: a\n").unwrap();
        let written = rewrite_observed(
            &path,
            no_precondition,
            set_priority,
            &mut append_once_before_check(&path, "status: new\n"),
        )
        .unwrap();
        let expected = "id: a\nstatus: new\npriority: LOW\n";
        assert_eq!(String::from_utf8(written).unwrap(), expected);
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
    }

    #[test]
    fn bytes_that_reach_the_old_file_between_the_check_and_the_rename_are_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        fs::write(&path, "id: a\npriority: HIGH\n").unwrap();
        // A writer that opened the file before the rename and writes just after the check.
        let mut held = Some(fs::OpenOptions::new().append(true).open(&path).unwrap());
        let written = rewrite_observed(&path, no_precondition, set_priority, &mut |moment| {
            if moment == Moment::BeforeRename {
                if let Some(mut writer) = held.take() {
                    writer.write_all(b"# appended late\n").unwrap();
                }
            }
        })
        .unwrap();
        let expected = "id: a\npriority: LOW\n# appended late\n";
        assert_eq!(String::from_utf8(written).unwrap(), expected);
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
        assert_eq!(names_in(dir.path()), ["t.yaml"]);
    }

    #[test]
    fn a_writer_that_opened_the_file_before_the_rename_and_writes_after_the_answer_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("task.yaml");
        fs::write(&path, "id: a\npriority: HIGH\n").unwrap();
        // Opened before the rewrite, written to only once it has answered: the old file.
        let mut late = fs::OpenOptions::new().append(true).open(&path).unwrap();
        let written = rewrite(&path, no_precondition, set_priority).unwrap();
        assert_eq!(written, b"id: a\npriority: LOW\n");
        late.write_all(b"# a late note\n").unwrap();
        drop(late);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let expected = "id: a\npriority: LOW\n# a late note\n";
        while fs::read_to_string(&path).unwrap() != expected {
            assert!(
                std::time::Instant::now() < deadline,
                "the late note never reached the file: {:?}",
                fs::read_to_string(&path).unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // Carried over once: once every watch has ended (other tests' too), nothing more came.
        while WATCHING.load(Ordering::SeqCst) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the watch never ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
    }

    #[test]
    fn late_bytes_the_change_cannot_apply_to_are_put_back_alone_and_the_change_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        fs::write(&path, "id: a\npriority: HIGH\n").unwrap();
        let mut held = Some(fs::OpenOptions::new().append(true).open(&path).unwrap());
        let outcome = rewrite_observed(&path, no_precondition, set_priority, &mut |moment| {
            if moment == Moment::BeforeRename {
                if let Some(mut writer) = held.take() {
                    writer.write_all(b"priority: CRITICAL\n").unwrap();
                }
            }
        });
        assert!(
            matches!(outcome, Err(RewriteError::ChangedMeanwhile)),
            "{outcome:?}"
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "id: a\npriority: HIGH\npriority: CRITICAL\n",
            "what the other writer left is on disk"
        );
    }
}
