//! Where a task file sits decides its column: `inbox/x.yaml`, `assigned/<agent>/x.yaml`,
//! `done/<agent>/x.yaml` (paths relative to `work/collaboration`, `/`-separated).

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// A Kanban column. It comes from the folder, never from the `status` field.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, FromJson,
)]
#[serde(rename_all = "lowercase")]
pub enum Column {
    Inbox,
    Assigned,
    Done,
}

impl Column {
    pub const ALL: [Column; 3] = [Column::Inbox, Column::Assigned, Column::Done];

    pub fn label(self) -> &'static str {
        match self {
            Column::Inbox => "Inbox",
            Column::Assigned => "Assigned",
            Column::Done => "Done",
        }
    }

    pub fn folder(self) -> &'static str {
        match self {
            Column::Inbox => "inbox",
            Column::Assigned => "assigned",
            Column::Done => "done",
        }
    }
}

/// The parsed location of a task file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskPath {
    pub column: Column,
    /// The agent folder (`assigned/<agent>/`, `done/<agent>/`); `None` in the inbox.
    pub lane: Option<String>,
    /// File name without `.yaml` / `.yml`.
    pub stem: String,
}

impl TaskPath {
    /// Parses a relative path; `None` when the file is not a task file of the board (wrong
    /// folder or depth, not `.yaml`/`.yml`, hidden, or an editor/`mkstemp` temporary file).
    pub fn parse(relative: &str) -> Option<TaskPath> {
        let parts: Vec<&str> = relative.split('/').collect();
        let (column, lane, file) = match parts.as_slice() {
            ["inbox", file] => (Column::Inbox, None, *file),
            ["assigned", agent, file] => (Column::Assigned, Some(*agent), *file),
            ["done", agent, file] => (Column::Done, Some(*agent), *file),
            _ => return None,
        };
        if lane.is_some_and(|agent| agent.is_empty() || agent.starts_with('.')) {
            return None;
        }
        let stem = task_file_stem(file)?;
        Some(TaskPath {
            column,
            lane: lane.map(str::to_owned),
            stem: stem.to_owned(),
        })
    }

    /// Whether a relative path names a folder that can hold task files (`inbox`,
    /// `assigned/<agent>`, `done/<agent>`) or one of their parents.
    pub fn is_board_folder(relative: &str) -> bool {
        let parts: Vec<&str> = relative.split('/').filter(|p| !p.is_empty()).collect();
        matches!(
            parts.as_slice(),
            [] | ["inbox"] | ["assigned"] | ["done"] | ["assigned", _] | ["done", _]
        )
    }
}

/// The stem of a task file name, or `None` for names that are not task files.
fn task_file_stem(file: &str) -> Option<&str> {
    if file.starts_with('.') || file.ends_with('~') {
        return None;
    }
    let stem = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))?;
    if stem.is_empty() || is_mkstemp_name(stem) {
        return None;
    }
    Some(stem)
}

/// Python's `tempfile.mkstemp(suffix=".yaml")` names files `tmp` + 8 random characters; the
/// original dashboard's own atomic writes create such files inside the watched folders.
fn is_mkstemp_name(stem: &str) -> bool {
    stem.len() == 11
        && stem.starts_with("tmp")
        && stem[3..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_come_from_folders() {
        let inbox = TaskPath::parse("inbox/2026-01-01T0000-a.yaml").unwrap();
        assert_eq!(inbox.column, Column::Inbox);
        assert_eq!(inbox.lane, None);
        assert_eq!(inbox.stem, "2026-01-01T0000-a");
        let assigned = TaskPath::parse("assigned/python-pedro/x.yml").unwrap();
        assert_eq!(assigned.column, Column::Assigned);
        assert_eq!(assigned.lane.as_deref(), Some("python-pedro"));
        let done = TaskPath::parse("done/curator/y.yaml").unwrap();
        assert_eq!(done.column, Column::Done);
    }

    #[test]
    fn other_files_are_not_tasks() {
        for path in [
            "inbox/notes.md",
            "inbox/sub/x.yaml",
            "assigned/x.yaml",
            "done/x.yaml",
            "archive/2025-11/x.yaml",
            "inbox/.x.yaml.swp",
            "inbox/.hidden.yaml",
            "inbox/x.yaml~",
            "inbox/x.yaml.tmp",
            "inbox/tmpab12_x9z.yaml",
            "assigned/.git/x.yaml",
            "inbox/.yaml",
        ] {
            assert_eq!(TaskPath::parse(path), None, "{path}");
        }
    }

    #[test]
    fn board_folders() {
        assert!(TaskPath::is_board_folder("assigned/new-agent"));
        assert!(TaskPath::is_board_folder("inbox"));
        assert!(!TaskPath::is_board_folder("archive"));
        assert!(!TaskPath::is_board_folder("inbox/sub"));
    }
}
