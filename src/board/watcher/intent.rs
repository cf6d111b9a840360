//! What a notify event asks of the board, decided without touching the disk or the store: a pure
//! function, so every path (lone rename halves, overflow, the board folder removed) is tested
//! with synthetic events.

use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind};

/// One thing to do for an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Intent {
    /// A write finished (close-write): read the file now.
    Read(PathBuf),
    /// Modified without a close (mmap, a writer that keeps the file open), or created: read it a
    /// moment later, when the writer has likely finished.
    ReadLater(PathBuf),
    /// Created, kind unknown: a folder is scanned, a file read a moment later.
    Appeared(PathBuf),
    /// A folder appeared: scan it, taking a vanished task of the same name as moved here.
    ScanNewFolder(PathBuf),
    /// Something changed that may affect a whole folder: bring the board in line with the disk at
    /// and below the path.
    Refresh(PathBuf),
    /// The first half of a rename: wait briefly for the second half with the same cookie.
    RenameFrom { cookie: usize, path: PathBuf },
    /// A second half whose first half was not seen (moved in from an unwatched place).
    Arrived(PathBuf),
    /// Both halves of a rename (the cookie, if any, is now complete).
    Renamed {
        cookie: Option<usize>,
        from: PathBuf,
        to: PathBuf,
    },
    /// The board folder itself was removed: watch for it to come back.
    BoardRemoved,
    /// Events were lost (a watcher error or a queue overflow): rescan the whole board.
    Rescan,
}

/// The intents of one notify event. `watching_board` is false while only an ancestor is watched,
/// waiting for the board folder to appear; `pending` tells whether a rename cookie's first half
/// is waiting for its pair.
pub(super) fn intents(
    event: notify::Result<Event>,
    collab: &Path,
    watching_board: bool,
    pending: impl Fn(usize) -> bool,
) -> Vec<Intent> {
    let event = match event {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!("file watcher error, rescanning: {err}");
            return vec![Intent::Rescan];
        }
    };
    let mut out = Vec::new();
    if event.need_rescan() {
        tracing::warn!("file watcher queue overflowed, rescanning");
        out.push(Intent::Rescan);
    }
    if !watching_board {
        // Only waiting for the board folder: the event loop checks for it after every batch.
        return out;
    }
    let cookie = event.tracker();
    let paths = event.paths;
    let each = |make: fn(PathBuf) -> Intent| paths.iter().cloned().map(make).collect::<Vec<_>>();
    out.extend(match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => each(Intent::Read),
        EventKind::Access(_) => Vec::new(),
        EventKind::Create(CreateKind::Folder) => each(Intent::ScanNewFolder),
        EventKind::Create(CreateKind::File) => each(Intent::ReadLater),
        EventKind::Create(_) => each(Intent::Appeared),
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => match cookie {
            Some(cookie) => paths
                .iter()
                .map(|path| Intent::RenameFrom {
                    cookie,
                    path: path.clone(),
                })
                .collect(),
            None => each(Intent::Refresh),
        },
        // A paired second half is handled by the `Both` event that follows it.
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => match cookie {
            Some(cookie) if pending(cookie) => Vec::new(),
            _ => each(Intent::Arrived),
        },
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => match paths.as_slice() {
            [from, to] => vec![Intent::Renamed {
                cookie,
                from: from.clone(),
                to: to.clone(),
            }],
            _ => each(Intent::Refresh),
        },
        EventKind::Modify(ModifyKind::Name(_)) => each(Intent::Refresh),
        EventKind::Modify(_) => each(Intent::ReadLater),
        EventKind::Remove(_) => {
            let mut removed = Vec::new();
            if paths.iter().any(|p| p == collab) {
                removed.push(Intent::BoardRemoved);
            }
            removed.extend(each(Intent::Refresh));
            removed
        }
        EventKind::Any | EventKind::Other => each(Intent::Refresh),
    });
    out
}

#[cfg(test)]
mod tests {
    use notify::event::{Flag, RemoveKind};

    use super::*;

    const COLLAB: &str = "/r/work/collaboration";

    fn path(relative: &str) -> PathBuf {
        Path::new(COLLAB).join(relative)
    }

    fn of(event: Event) -> Vec<Intent> {
        intents(Ok(event), Path::new(COLLAB), true, |cookie| cookie == 7)
    }

    fn rename(mode: RenameMode) -> Event {
        Event::new(EventKind::Modify(ModifyKind::Name(mode)))
    }

    #[test]
    fn a_finished_write_is_read_at_once_and_an_unclosed_one_later() {
        let close = Event::new(EventKind::Access(AccessKind::Close(AccessMode::Write)))
            .add_path(path("inbox/a.yaml"));
        assert_eq!(of(close), [Intent::Read(path("inbox/a.yaml"))]);
        let modify = Event::new(EventKind::Modify(ModifyKind::Any)).add_path(path("inbox/a.yaml"));
        assert_eq!(of(modify), [Intent::ReadLater(path("inbox/a.yaml"))]);
        let open = Event::new(EventKind::Access(AccessKind::Open(AccessMode::Any)))
            .add_path(path("inbox/a.yaml"));
        assert_eq!(of(open), []);
    }

    #[test]
    fn rename_halves_pair_by_cookie_and_a_lone_second_half_is_an_arrival() {
        let from = rename(RenameMode::From)
            .add_path(path("inbox/a.yaml"))
            .set_tracker(7);
        assert_eq!(
            of(from),
            [Intent::RenameFrom {
                cookie: 7,
                path: path("inbox/a.yaml")
            }]
        );
        // Cookie 7 is pending: its `To` half waits for the `Both` event.
        let paired_to = rename(RenameMode::To)
            .add_path(path("assigned/x/a.yaml"))
            .set_tracker(7);
        assert_eq!(of(paired_to), []);
        // Cookie 9 was never seen: moved in from outside the tree.
        let lone_to = rename(RenameMode::To)
            .add_path(path("inbox/b.yaml"))
            .set_tracker(9);
        assert_eq!(of(lone_to), [Intent::Arrived(path("inbox/b.yaml"))]);
        let uncookied_to = rename(RenameMode::To).add_path(path("inbox/c.yaml"));
        assert_eq!(of(uncookied_to), [Intent::Arrived(path("inbox/c.yaml"))]);
        let both = rename(RenameMode::Both)
            .add_path(path("inbox/a.yaml"))
            .add_path(path("assigned/x/a.yaml"))
            .set_tracker(7);
        assert_eq!(
            of(both),
            [Intent::Renamed {
                cookie: Some(7),
                from: path("inbox/a.yaml"),
                to: path("assigned/x/a.yaml")
            }]
        );
        // A first half without a cookie cannot be paired: the folder is reconciled instead.
        let uncookied_from = rename(RenameMode::From).add_path(path("inbox/d.yaml"));
        assert_eq!(of(uncookied_from), [Intent::Refresh(path("inbox/d.yaml"))]);
    }

    #[test]
    fn lost_events_rescan_and_the_board_folder_removed_is_noticed() {
        let overflow = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(of(overflow), [Intent::Rescan]);
        let error = intents(
            Err(notify::Error::generic("inotify went away")),
            Path::new(COLLAB),
            true,
            |_| false,
        );
        assert_eq!(error, [Intent::Rescan]);
        let removed = Event::new(EventKind::Remove(RemoveKind::Folder)).add_path(path(""));
        let removed = of(removed);
        assert_eq!(removed[0], Intent::BoardRemoved);
        assert_eq!(removed[1], Intent::Refresh(Path::new(COLLAB).join("")));
        let file_removed =
            Event::new(EventKind::Remove(RemoveKind::File)).add_path(path("inbox/a.yaml"));
        assert_eq!(of(file_removed), [Intent::Refresh(path("inbox/a.yaml"))]);
    }

    #[test]
    fn folders_are_scanned_and_unknown_creations_checked() {
        let folder =
            Event::new(EventKind::Create(CreateKind::Folder)).add_path(path("assigned/new"));
        assert_eq!(of(folder), [Intent::ScanNewFolder(path("assigned/new"))]);
        let file = Event::new(EventKind::Create(CreateKind::File)).add_path(path("inbox/a.yaml"));
        assert_eq!(of(file), [Intent::ReadLater(path("inbox/a.yaml"))]);
        let any = Event::new(EventKind::Create(CreateKind::Any)).add_path(path("inbox/x"));
        assert_eq!(of(any), [Intent::Appeared(path("inbox/x"))]);
    }

    #[test]
    fn while_waiting_for_the_board_folder_only_a_rescan_matters() {
        let close = Event::new(EventKind::Access(AccessKind::Close(AccessMode::Write)))
            .add_path(path("inbox/a.yaml"));
        assert_eq!(intents(Ok(close), Path::new(COLLAB), false, |_| false), []);
        let overflow = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(
            intents(Ok(overflow), Path::new(COLLAB), false, |_| false),
            [Intent::Rescan]
        );
    }
}
