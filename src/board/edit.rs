//! Changing one top-level field of a task file the way a person would: only that line changes.
//! Comments, key order, quoting style, indentation and line endings stay as they were; a field
//! that is missing is added as the last line. What cannot be changed that way (a block scalar, a
//! nested value, a flow mapping, the key twice) is refused rather than rewritten. The result is
//! parsed again and must hold the new value with every other field unchanged.
//!
//! The file is replaced atomically: a hidden temporary file in the same folder (which the
//! watcher ignores), written, flushed to disk, given the old file's permissions, then renamed
//! over it, and the folder flushed.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// Replaces `path` with `bytes` atomically (see the module's documentation).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = folder.join(format!(
        ".{name}.execdash-{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        if let Ok(meta) = fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        fs::rename(&temp, path)?;
        fs::File::open(folder)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
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

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        fs::write(&path, "id: a\n").unwrap();
        write_atomically(&path, b"id: b\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "id: b\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["t.yaml"]);
    }
}
