//! The real notify watcher on a real temp directory: every file operation agents and editors do
//! gives the right events, and the board always ends equal to the disk.

mod common;
#[path = "common/process.rs"]
mod process;

use std::fs;
use std::os::unix::fs::symlink;
use std::time::Duration;

use app::model::ServerEvent;
use common::{eventually, task_yaml, Watched, Workspace};

#[test]
fn the_demo_fixtures_load_and_the_malformed_one_is_reported() {
    let workspace = Workspace::demo();
    let watched = Watched::start(&workspace);
    let snapshot = watched.snapshot();
    assert_eq!(snapshot.tasks.len(), 14, "{:?}", watched.paths());
    assert_eq!(snapshot.problems.len(), 1);
    let problem = &snapshot.problems[0];
    assert_eq!(
        problem.path,
        "inbox/2026-02-12T1102-manager-mike-task-assignment.yaml"
    );
    assert!(problem.line.is_some(), "{problem:?}");
    assert!(problem.reason.contains("alias"), "{problem:?}");
    // Unquoted YAML timestamps, .yml, a leading ---, no title: all read.
    let by_path = |p: &str| snapshot.tasks.iter().find(|t| t.path == p).unwrap().clone();
    let timestamped =
        by_path("assigned/architect/2026-02-09T0500-architect-review-src-consolidation.yaml");
    assert_eq!(
        timestamped.created_at.as_deref(),
        Some("2026-02-09T05:00:00Z")
    );
    let minimal =
        by_path("assigned/python-pedro/2025-12-01T0511-backend-dev-agent-profile-parser.yaml");
    assert_eq!(
        minimal.title,
        "2025-12-01T0511-backend-dev-agent-profile-parser"
    );
    assert!(snapshot.tasks.iter().any(|t| t.path.ends_with(".yml")));
}

#[test]
fn a_plain_write_gives_one_event() {
    let workspace = Workspace::empty();
    let mut watched = Watched::start(&workspace);
    workspace.write("inbox/a.yaml", &task_yaml("a", "First"));
    watched.wait_until("created", |w| w.events.len() == 1);
    watched.settle();
    assert_eq!(watched.names(), ["task.created"]);
    watched.clear();
    workspace.write("inbox/a.yaml", &task_yaml("a", "Second"));
    watched.wait_until("updated", |w| w.events.len() == 1);
    watched.settle();
    assert_eq!(watched.names(), ["task.updated"]);
    // Writing the same content again is no change.
    watched.clear();
    workspace.write("inbox/a.yaml", &task_yaml("a", "Second"));
    watched.settle();
    assert!(watched.events.is_empty(), "{:?}", watched.names());
    watched.assert_consistent(&workspace);
}

#[test]
fn atomic_saves_never_show_the_temporary_file() {
    let workspace = Workspace::empty();
    workspace.write("inbox/a.yaml", &task_yaml("a", "Original"));
    let mut watched = Watched::start(&workspace);
    // Editor style: hidden temp file, then rename over the task.
    workspace.write("inbox/.a.yaml.swp", &task_yaml("a", "Saved by editor"));
    fs::rename(
        workspace.path("inbox/.a.yaml.swp"),
        workspace.path("inbox/a.yaml"),
    )
    .unwrap();
    watched.wait_until("updated", |w| !w.events.is_empty());
    // Python mkstemp(suffix=".yaml") style, as the original dashboard writes.
    workspace.write(
        "inbox/tmpk3j_x9q2.yaml",
        &task_yaml("a", "Saved by mkstemp"),
    );
    fs::rename(
        workspace.path("inbox/tmpk3j_x9q2.yaml"),
        workspace.path("inbox/a.yaml"),
    )
    .unwrap();
    watched.wait_until("second update", |w| w.events.len() == 2);
    watched.settle();
    assert_eq!(watched.names(), ["task.updated", "task.updated"]);
    assert_eq!(watched.paths(), ["inbox/a.yaml"]);
    assert_eq!(watched.snapshot().tasks[0].title, "Saved by mkstemp");
    watched.assert_consistent(&workspace);
}

#[test]
fn moves_between_columns_name_what_happened() {
    let workspace = Workspace::empty();
    workspace.write("inbox/a.yaml", &task_yaml("a", "Move me"));
    fs::create_dir_all(workspace.path("assigned/bob")).unwrap();
    let mut watched = Watched::start(&workspace);
    fs::rename(
        workspace.path("inbox/a.yaml"),
        workspace.path("assigned/bob/a.yaml"),
    )
    .unwrap();
    watched.wait_until("assigned", |w| !w.events.is_empty());
    fs::create_dir_all(workspace.path("done/bob")).unwrap();
    fs::rename(
        workspace.path("assigned/bob/a.yaml"),
        workspace.path("done/bob/a.yaml"),
    )
    .unwrap();
    watched.wait_until("completed", |w| w.events.len() == 2);
    fs::rename(
        workspace.path("done/bob/a.yaml"),
        workspace.path("inbox/a.yaml"),
    )
    .unwrap();
    watched.wait_until("moved", |w| w.events.len() == 3);
    fs::remove_file(workspace.path("inbox/a.yaml")).unwrap();
    watched.wait_until("deleted", |w| w.events.len() == 4);
    watched.settle();
    assert_eq!(
        watched.names(),
        [
            "task.assigned",
            "task.completed",
            "task.moved",
            "task.deleted"
        ]
    );
    match &watched.events[1].event {
        ServerEvent::TaskCompleted { from, task } => {
            assert_eq!(from, "assigned/bob/a.yaml");
            assert_eq!(task.path, "done/bob/a.yaml");
        }
        other => panic!("{other:?}"),
    }
    watched.assert_consistent(&workspace);
}

#[test]
fn a_move_into_a_folder_created_just_before_is_seen() {
    let workspace = Workspace::empty();
    workspace.write("inbox/a.yaml", &task_yaml("a", "New agent"));
    let mut watched = Watched::start(&workspace);
    fs::create_dir_all(workspace.path("assigned/new-agent")).unwrap();
    fs::rename(
        workspace.path("inbox/a.yaml"),
        workspace.path("assigned/new-agent/a.yaml"),
    )
    .unwrap();
    watched.wait_until("the task in the new folder", |w| {
        w.paths() == ["assigned/new-agent/a.yaml"]
    });
    watched.settle();
    assert_eq!(watched.names(), ["task.assigned"]);
    watched.assert_consistent(&workspace);
}

#[test]
fn renaming_an_agent_folder_moves_its_tasks() {
    let workspace = Workspace::empty();
    workspace.write("assigned/old/a.yaml", &task_yaml("a", "A"));
    workspace.write("assigned/old/b.yaml", &task_yaml("b", "B"));
    let mut watched = Watched::start(&workspace);
    fs::rename(
        workspace.path("assigned/old"),
        workspace.path("assigned/new"),
    )
    .unwrap();
    watched.wait_until("both moved", |w| {
        w.paths() == ["assigned/new/a.yaml", "assigned/new/b.yaml"]
    });
    watched.settle();
    assert_eq!(watched.names(), ["task.moved", "task.moved"]);
    // Deleting the whole folder removes its tasks.
    fs::remove_dir_all(workspace.path("assigned/new")).unwrap();
    watched.wait_until("gone", |w| w.paths().is_empty());
    watched.assert_consistent(&workspace);
}

#[test]
fn the_board_folder_may_appear_after_startup() {
    let workspace = Workspace::bare();
    let mut watched = Watched::start(&workspace);
    assert!(watched.paths().is_empty());
    workspace.write("inbox/a.yaml", &task_yaml("a", "Late"));
    watched.wait_until("the late task", |w| w.paths() == ["inbox/a.yaml"]);
    workspace.write("inbox/b.yaml", &task_yaml("b", "Later"));
    watched.wait_until("the second task", |w| w.paths().len() == 2);
    watched.assert_consistent(&workspace);
}

#[test]
fn a_burst_of_a_thousand_files_gives_a_thousand_events() {
    let workspace = Workspace::empty();
    let mut watched = Watched::start(&workspace);
    for i in 0..1000 {
        workspace.write(
            &format!("inbox/t{i:04}.yaml"),
            &task_yaml(&format!("t{i}"), "Burst"),
        );
    }
    watched.wait_until("1000 tasks", |w| w.board.cards.len() == 1000);
    watched.settle();
    let created = watched
        .names()
        .iter()
        .filter(|n| **n == "task.created")
        .count();
    assert_eq!(created, 1000, "one task.created per file");
    let others: Vec<String> = watched
        .events
        .iter()
        .filter(|e| e.event.name() != "task.created")
        .map(|e| format!("{:?}", e.event))
        .collect();
    assert!(others.is_empty(), "only creations: {others:?}");
    // A mix of moves and deletes on the same tree.
    fs::create_dir_all(workspace.path("assigned/a")).unwrap();
    fs::create_dir_all(workspace.path("done/a")).unwrap();
    for i in 0..1000 {
        let from = workspace.path(&format!("inbox/t{i:04}.yaml"));
        match i % 4 {
            0 => fs::remove_file(from).unwrap(),
            1 => fs::rename(from, workspace.path(&format!("assigned/a/t{i:04}.yaml"))).unwrap(),
            2 => fs::rename(from, workspace.path(&format!("done/a/t{i:04}.yaml"))).unwrap(),
            _ => {}
        }
    }
    watched.wait_until("the mix", |w| {
        w.board.cards.len() == 750 && w.board.count(app::model::Column::Done) == 250
    });
    watched.settle();
    watched.assert_consistent(&workspace);
}

#[test]
fn bad_files_are_problems_and_never_stop_the_watcher() {
    let workspace = Workspace::empty();
    let mut watched = Watched::start(&workspace);
    workspace.write(
        "inbox/date.yaml",
        "id: d\ncreated: 2026-02-09 20:00:00+00:00\n",
    );
    workspace.write("inbox/bad.yaml", "id: x\nnotes:\n* Phase 1\n");
    fs::write(
        workspace.path("inbox/big.yaml"),
        "x".repeat(1024 * 1024 + 1),
    )
    .unwrap();
    fs::write(
        workspace.path("inbox/latin1.yaml"),
        b"id: x\ntitle: caf\xe9\n",
    )
    .unwrap();
    let outside = workspace.root().join("secret.yaml");
    fs::write(&outside, task_yaml("s", "Secret")).unwrap();
    symlink(&outside, workspace.path("inbox/link.yaml")).unwrap();
    watched.wait_until("four problems", |w| w.snapshot().problems.len() == 4);
    let problems = watched.snapshot().problems;
    let reason = |p: &str| {
        problems
            .iter()
            .find(|x| x.path == p)
            .unwrap()
            .reason
            .clone()
    };
    assert!(reason("inbox/big.yaml").contains("limited to 1048576 bytes"));
    assert!(reason("inbox/latin1.yaml").contains("UTF-8"));
    assert!(reason("inbox/link.yaml").contains("outside"));
    assert_eq!(
        problems
            .iter()
            .find(|x| x.path == "inbox/bad.yaml")
            .unwrap()
            .line,
        Some(3)
    );
    // Still watching, and the good file is there.
    workspace.write("inbox/after.yaml", &task_yaml("after", "After"));
    watched.wait_until("the next task", |w| {
        w.paths() == ["inbox/after.yaml", "inbox/date.yaml"]
    });
    // Fixing a file clears its problem.
    workspace.write("inbox/bad.yaml", &task_yaml("bad", "Fixed"));
    watched.wait_until("fixed", |w| w.snapshot().problems.len() == 3);
    watched.assert_consistent(&workspace);
}

/// A rename whose other half is outside the watched tree: moving a task out is a removal, moving
/// one in from outside is a creation (inotify reports only one half of each).
#[test]
fn moves_out_of_and_into_the_tree_are_a_removal_and_a_creation() {
    let workspace = Workspace::empty();
    workspace.write("inbox/a.yaml", &task_yaml("a", "Leaving"));
    let mut watched = Watched::start(&workspace);
    let outside = workspace.root().join("archive");
    fs::create_dir_all(&outside).unwrap();
    fs::rename(workspace.path("inbox/a.yaml"), outside.join("a.yaml")).unwrap();
    watched.wait_until("the removal", |w| !w.events.is_empty());
    fs::write(outside.join("b.yaml"), task_yaml("b", "Arriving")).unwrap();
    fs::rename(outside.join("b.yaml"), workspace.path("inbox/b.yaml")).unwrap();
    watched.wait_until("the arrival", |w| w.events.len() == 2);
    watched.settle();
    assert_eq!(watched.names(), ["task.deleted", "task.created"]);
    assert_eq!(watched.paths(), ["inbox/b.yaml"]);
    watched.assert_consistent(&workspace);
}

/// Folder links are never followed, wherever they point, and each is a problem: the same live and
/// at startup, so a restart shows the same board. Outside files never reach the board, also when
/// something is written into the linked folder later.
#[test]
fn folder_symlinks_are_refused_and_reported_live_and_at_startup() {
    let workspace = Workspace::empty();
    workspace.write("inbox/a.yaml", &task_yaml("a", "Mine"));
    workspace.write("assigned/real/b.yaml", &task_yaml("b", "Mine too"));
    let elsewhere = workspace.root().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::write(elsewhere.join("s.yaml"), task_yaml("s", "Secret")).unwrap();
    // Present at startup: an agent folder linked outside, and one linked inside the tree.
    symlink(&elsewhere, workspace.path("assigned/x")).unwrap();
    symlink(
        workspace.path("assigned/real"),
        workspace.path("done/alias"),
    )
    .unwrap();
    let mut watched = Watched::start(&workspace);
    let problem = |w: &Watched, path: &str| {
        w.snapshot()
            .problems
            .into_iter()
            .find(|p| p.path == path)
            .map(|p| p.reason)
    };
    assert!(problem(&watched, "assigned/x").unwrap().contains("outside"));
    assert!(problem(&watched, "done/alias")
        .unwrap()
        .contains("must be real folders"));
    assert_eq!(watched.paths(), ["assigned/real/b.yaml", "inbox/a.yaml"]);

    // Made while running: a new agent folder link, and `inbox/` replaced by a link.
    symlink(&elsewhere, workspace.path("done/y")).unwrap();
    fs::remove_dir_all(workspace.path("inbox")).unwrap();
    symlink(&elsewhere, workspace.path("inbox")).unwrap();
    watched.wait_until("both links reported", |w| {
        problem(w, "done/y").is_some() && problem(w, "inbox").is_some()
    });
    fs::write(elsewhere.join("t.yaml"), task_yaml("t", "Written later")).unwrap();
    assert!(problem(&watched, "inbox").unwrap().contains("outside"));
    watched.assert_consistent(&workspace);

    // A link removed takes its problem with it; `inbox/` a real folder again (the sentinel of
    // `settle` goes there) shows that nothing written behind the links came through.
    fs::remove_file(workspace.path("done/y")).unwrap();
    fs::remove_file(workspace.path("inbox")).unwrap();
    fs::create_dir(workspace.path("inbox")).unwrap();
    watched.wait_until("the problems cleared", |w| {
        problem(w, "done/y").is_none() && problem(w, "inbox").is_none()
    });
    watched.settle();
    assert_eq!(watched.paths(), ["assigned/real/b.yaml"]);
    let created: Vec<_> = watched
        .names()
        .into_iter()
        .filter(|name| *name == "task.created")
        .collect();
    assert!(created.is_empty(), "{:?}", watched.names());
    watched.assert_consistent(&workspace);
}

/// The board's folders are watched one by one, and the watcher follows them when they come: a new
/// agent folder is followed (a file written in it once it is surely watched is seen through its
/// watch). That the server then rests (listing a folder opens it, which inotify reports, so
/// following folders after every batch of events would feed itself) is a matter of CPU time, which
/// a loaded test machine cannot judge: `scripts/bench idle` measures it (benches/board.rs).
#[tokio::test]
async fn a_new_agent_folder_is_watched() {
    let workspace = Workspace::empty();
    workspace.write("assigned/bob/a.yaml", &task_yaml("a", "A"));
    let server = process::Process::start(workspace.root(), &[]);
    // The tasks' ids, from the JSON export of the cards.
    let ids = || async {
        let cards = server.json("/api/export/tasks.json").await;
        let mut ids: Vec<String> = cards
            .as_array()
            .unwrap()
            .iter()
            .map(|card| card["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    eventually("the board read", Duration::from_secs(30), || async {
        server.json("/health").await["status"] != "starting"
    })
    .await;
    fs::create_dir_all(workspace.path("assigned/carol")).unwrap();
    workspace.write("assigned/carol/b.yaml", &task_yaml("b", "B"));
    // A file written in the new folder once it is surely watched: seen through its watch.
    eventually("b seen", Duration::from_secs(30), || async {
        let seen = ids().await;
        if seen == ["a", "b"] {
            Ok(())
        } else {
            Err(format!("{seen:?}"))
        }
    })
    .await;
    workspace.write("assigned/carol/c.yaml", &task_yaml("c", "C"));
    eventually("c seen", Duration::from_secs(30), || async {
        let seen = ids().await;
        if seen.len() == 3 {
            Ok(())
        } else {
            Err(format!("{seen:?}"))
        }
    })
    .await;
}
