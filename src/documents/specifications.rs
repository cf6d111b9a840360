//! The repository's specifications, `<repo>/specifications/**/*.md`, each with its YAML front
//! matter (the original's fields: `id`, `title`, `status`, `initiative`, `features`, …), read
//! on demand for linking tasks to them.
//!
//! Bounded and honest: at most [`MAX_FILES`] files, [`MAX_DEPTH`] folders deep, the first
//! [`MAX_HEAD_BYTES`] of each; symbolic links are not followed; a file whose front matter cannot
//! be read is still listed by its path (a task may name it) and its problem is reported with
//! line and column.
//!
//! What a file's front matter says is kept, by its path, with the file's stamp (size,
//! modification and change times, inode): a listing looks at every file's stamp and reads again
//! only the files whose stamp changed (an edit, a rename over it), so the initiatives page does
//! not parse every specification on every request. Files gone from a listing leave the cache.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use parking_lot::Mutex;

use app::model::{FeatureRef, SpecificationList, SpecificationProblem, SpecificationRef};
use serde_norway::Value;

/// The folder of the repository that holds them (task files name them `specifications/…`).
pub(crate) const SPECIFICATIONS_DIR: &str = "specifications";
/// Files listed at most.
pub(crate) const MAX_FILES: usize = 2_000;
/// Folders below `specifications/` looked into at most.
const MAX_DEPTH: usize = 8;
/// Bytes read from each file: the front matter must end within them.
pub(crate) const MAX_HEAD_BYTES: u64 = 64 * 1024;

/// Every specification under `<repo>/specifications` (none when the folder is missing).
pub(crate) fn list(repo: &Path) -> SpecificationList {
    let mut list = SpecificationList::default();
    let mut files = Vec::new();
    collect(
        &repo.join(SPECIFICATIONS_DIR),
        SPECIFICATIONS_DIR,
        0,
        &mut files,
        &mut list,
    );
    let mut cache = CACHE.lock();
    let folder = repo.join(SPECIFICATIONS_DIR);
    // This folder's entries that the listing no longer has go.
    let seen: std::collections::HashSet<&PathBuf> = files.iter().map(|(path, _, _)| path).collect();
    cache.retain(|path, _| !path.starts_with(&folder) || seen.contains(path));
    for (path, relative, stamp) in files {
        let (specification, problem) = match cache.get(&path) {
            Some(kept) if stamp.is_some() && kept.stamp == stamp => kept.outcome.clone(),
            _ => {
                let outcome = match read(&path, &relative) {
                    Ok(specification) => (Some(specification), None),
                    Err(Unreadable(error)) => (None, Some((error, None))),
                    Err(Malformed(plain, error, at)) => (Some(*plain), Some((error, at))),
                };
                cache.insert(
                    path.clone(),
                    Kept {
                        stamp,
                        outcome: outcome.clone(),
                    },
                );
                outcome
            }
        };
        list.specifications.extend(specification);
        list.problems
            .extend(problem.map(|(error, at)| SpecificationProblem {
                path: relative,
                error,
                line: at.map(|a| a.0),
                column: at.map(|a| a.1),
            }));
    }
    list.problems.sort_by(|a, b| a.path.cmp(&b.path));
    list.specifications.sort_by(|a, b| {
        (a.initiative.is_none(), &a.initiative, &a.title, &a.path).cmp(&(
            b.initiative.is_none(),
            &b.initiative,
            &b.title,
            &b.path,
        ))
    });
    list
}

/// A file's stamp: what changes when its content may have (`None` when it cannot be read: the
/// file is then read again every time).
type Stamp = Option<(u64, i64, i64, i64, i64, u64)>;

fn stamp_of(metadata: &fs::Metadata) -> Stamp {
    Some((
        metadata.len(),
        metadata.mtime(),
        metadata.mtime_nsec(),
        metadata.ctime(),
        metadata.ctime_nsec(),
        metadata.ino(),
    ))
}

/// What a file's front matter gave: the specification (if it is listed) and its problem (the
/// message, and the line and column when known).
type Outcome = (
    Option<SpecificationRef>,
    Option<(String, Option<(u32, u32)>)>,
);

struct Kept {
    stamp: Stamp,
    outcome: Outcome,
}

/// Every repository's specifications read so far, by absolute path (bounded: a listing drops
/// the entries of its folder it did not see, and lists at most [`MAX_FILES`]).
static CACHE: LazyLock<Mutex<HashMap<PathBuf, Kept>>> = LazyLock::new(Mutex::default);

/// The `.md` files under `folder` (named `relative` from the repository), sorted by path, with
/// their stamps.
fn collect(
    folder: &Path,
    relative: &str,
    depth: usize,
    files: &mut Vec<(PathBuf, String, Stamp)>,
    list: &mut SpecificationList,
) {
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let child = format!("{relative}/{name}");
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            if name.ends_with(".md") || path.is_dir() {
                list.problems.push(SpecificationProblem {
                    path: child,
                    error: "a symbolic link: not followed".into(),
                    line: None,
                    column: None,
                });
            }
        } else if kind.is_dir() {
            if depth + 1 >= MAX_DEPTH {
                list.problems.push(SpecificationProblem {
                    path: child,
                    error: format!("more than {MAX_DEPTH} folders deep: not read"),
                    line: None,
                    column: None,
                });
            } else {
                collect(&path, &child, depth + 1, files, list);
            }
        } else if kind.is_file() && name.ends_with(".md") {
            if files.len() == MAX_FILES {
                list.truncated = true;
                return;
            }
            let stamp = entry.metadata().ok().as_ref().and_then(stamp_of);
            files.push((path, child, stamp));
        }
    }
}

/// Why a file is not read as a specification.
enum ReadFailure {
    /// It cannot be opened or read: not listed.
    Unreadable(String),
    /// Its front matter is wrong: listed by its path; the line and column when known.
    Malformed(Box<SpecificationRef>, String, Option<(u32, u32)>),
}
use ReadFailure::{Malformed, Unreadable};

/// One file: its front matter's fields, or what is wrong.
fn read(path: &Path, relative: &str) -> Result<SpecificationRef, ReadFailure> {
    let mut head = Vec::new();
    fs::File::open(path)
        .and_then(|file| file.take(MAX_HEAD_BYTES).read_to_end(&mut head))
        .map_err(|e| Unreadable(format!("cannot be read: {e}")))?;
    let plain = SpecificationRef {
        path: relative.to_owned(),
        title: file_title(relative),
        ..SpecificationRef::default()
    };
    let text = String::from_utf8_lossy(&head);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let Some(front_matter) = front_matter(text) else {
        return if text.starts_with("---") && head.len() as u64 == MAX_HEAD_BYTES {
            Err(Malformed(
                Box::new(plain),
                format!("front matter longer than {} KiB", MAX_HEAD_BYTES / 1024),
                None,
            ))
        } else {
            Ok(plain)
        };
    };
    let yaml: Value = serde_norway::from_str(front_matter).map_err(|err| {
        // Line 1 is the opening `---`.
        let at = err
            .location()
            .map(|l| (l.line() as u32 + 1, l.column() as u32));
        let place = at
            .map(|(line, column)| format!("line {line}, column {column}: "))
            .unwrap_or_default();
        let message = err.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        Malformed(
            Box::new(plain.clone()),
            format!("front matter is not valid YAML: {place}{message}"),
            at,
        )
    })?;
    let Value::Mapping(_) = yaml else {
        return Err(Malformed(
            Box::new(plain),
            "front matter is not a mapping".into(),
            Some((2, 1)),
        ));
    };
    Ok(SpecificationRef {
        id: text_of(&yaml["id"]),
        title: text_of(&yaml["title"]).unwrap_or(plain.title),
        initiative: text_of(&yaml["initiative"]),
        status: text_of(&yaml["status"]),
        priority: text_of(&yaml["priority"]),
        completion: match &yaml["completion"] {
            Value::Number(n) => n.as_f64().map(|c| c.clamp(0.0, 100.0).round() as u8),
            _ => None,
        },
        features: features(&yaml["features"]),
        path: plain.path,
    })
}

/// Bytes of a specification read to show it whole.
pub(crate) const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;

/// The specification at `relative` (a path the caller checked): its title and its Markdown
/// without the front matter (the first [`MAX_DOCUMENT_BYTES`]).
pub(crate) fn read_document(repo: &Path, relative: &str) -> std::io::Result<(String, String)> {
    let mut bytes = Vec::new();
    fs::File::open(repo.join(relative))?
        .take(MAX_DOCUMENT_BYTES)
        .read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let title = match read(&repo.join(relative), relative) {
        Ok(spec) => spec.title,
        Err(Malformed(plain, ..)) => plain.title,
        Err(Unreadable(_)) => file_title(relative),
    };
    // Without the front matter and its two `---` lines.
    let body = split_front_matter(text).map_or(text, |(_, body)| body);
    Ok((title, body.to_owned()))
}

/// The YAML between a first line `---` and the next line `---`.
pub(crate) fn front_matter(text: &str) -> Option<&str> {
    split_front_matter(text).map(|(yaml, _)| yaml)
}

/// The front matter and the body after it (`None` without front matter).
pub(crate) fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

/// `features:` as the original writes it (mappings with `id`/`title`), or plain strings.
fn features(value: &Value) -> Vec<FeatureRef> {
    let Value::Sequence(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Mapping(_) => {
                let id = text_of(&item["id"]);
                let title = text_of(&item["title"]).or_else(|| id.clone())?;
                let status = text_of(&item["status"]);
                Some(FeatureRef { id, title, status })
            }
            other => text_of(other).map(|title| FeatureRef {
                id: None,
                title,
                status: None,
            }),
        })
        .collect()
}

fn text_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// `specifications/a/api-hardening.md` → `api-hardening`.
fn file_title(relative: &str) -> String {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    name.strip_suffix(".md").unwrap_or(name).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(repo: &Path, relative: &str, text: &str) {
        let path = repo.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn a_listing_reads_again_what_changed_and_forgets_what_went() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        let spec = |title: &str| format!("---\nid: S\ntitle: {title}\n---\n# Body\n");
        write(root, "specifications/a.md", &spec("Alpha"));
        write(root, "specifications/b.md", &spec("Bravo"));
        let titles = |list: &SpecificationList| -> Vec<String> {
            list.specifications
                .iter()
                .map(|s| s.title.clone())
                .collect()
        };
        assert_eq!(titles(&list(root)), ["Alpha", "Bravo"]);
        // Kept: the second listing is the first.
        assert_eq!(titles(&list(root)), ["Alpha", "Bravo"]);
        // An edit of the same length (its stamp's times change) is read again; a deleted file and
        // one turned malformed are seen as such.
        write(root, "specifications/a.md", &spec("Alfa!"));
        fs::remove_file(root.join("specifications/b.md")).unwrap();
        write(root, "specifications/c.md", "---\ntitle: [unclosed\n---\n");
        let after = list(root);
        assert_eq!(titles(&after), ["Alfa!", "c"]);
        assert_eq!(after.problems.len(), 1, "{:?}", after.problems);
        let kept = CACHE.lock();
        let folder = root.join(SPECIFICATIONS_DIR);
        let mut cached: Vec<_> = kept.keys().filter(|p| p.starts_with(&folder)).collect();
        cached.sort();
        assert_eq!(
            cached,
            [&folder.join("a.md"), &folder.join("c.md")],
            "b.md left the cache"
        );
    }

    #[test]
    fn front_matter_fields_features_and_problems() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        write(
            root,
            "specifications/initiatives/dash/SPEC-DASH-008.md",
            "---\r\nid: SPEC-DASH-008\r\ntitle: Orphan task assignment\r\nstatus: in_progress\r\n\
             initiative: Dashboard Enhancements\r\nfeatures:\r\n  - id: F1\r\n    title: Assign modal\r\n\
             \x20 - Conflict dialog\r\n---\r\n# Body\r\n",
        );
        write(root, "specifications/plain-notes.md", "# No front matter\n");
        write(
            root,
            "specifications/broken.md",
            "---\nid: X\ntitle: [unclosed\n---\n",
        );
        write(root, "specifications/readme.txt", "not a specification");
        write(
            root,
            "specifications/.hidden.md",
            "---\ntitle: hidden\n---\n",
        );
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            root.join("specifications/plain-notes.md"),
            root.join("specifications/link.md"),
        )
        .unwrap();

        let list = list(root);
        let paths: Vec<_> = list
            .specifications
            .iter()
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "specifications/initiatives/dash/SPEC-DASH-008.md",
                "specifications/broken.md",
                "specifications/plain-notes.md",
            ],
            "with an initiative first, then by title; no .txt, hidden file or link"
        );
        let spec = &list.specifications[0];
        assert_eq!(spec.id.as_deref(), Some("SPEC-DASH-008"));
        assert_eq!(spec.title, "Orphan task assignment");
        assert_eq!(spec.initiative.as_deref(), Some("Dashboard Enhancements"));
        assert_eq!(spec.status.as_deref(), Some("in_progress"));
        let features: Vec<_> = spec.features.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(features, ["Assign modal", "Conflict dialog"]);
        assert_eq!(list.specifications[2].title, "plain-notes");

        let problems: Vec<_> = list
            .problems
            .iter()
            .map(|p| (p.path.as_str(), p.error.as_str()))
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].0, "specifications/broken.md");
        assert!(
            problems[0]
                .1
                .starts_with("front matter is not valid YAML: line 4, column"),
            "{}",
            problems[0].1
        );
        assert_eq!(
            problems[1],
            ("specifications/link.md", "a symbolic link: not followed")
        );
        assert!(!list.truncated);
    }

    #[test]
    fn a_missing_folder_is_an_empty_list() {
        let repo = tempfile::tempdir().unwrap();
        assert_eq!(list(repo.path()), SpecificationList::default());
    }
}
