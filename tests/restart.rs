//! Restarts of the real binary on a large board: unchanged task files come from the board cache
//! (`--board-cache`), every other file is read, and the board is what a fresh reading gives.

mod common;
#[path = "common/process.rs"]
mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::eventually;
use process::Process;

use serde_json::Value;

/// The `execdash` binary on `root`, with the board cache in `cache` (or `off`).
fn start(root: &Path, cache: &Path) -> Process {
    Process::start(root, &["--board-cache".as_ref(), cache.as_os_str()])
}

/// What these tests ask a running server.
trait Board {
    async fn ready(&self);
    async fn first_scan_files(&self) -> (u64, u64);
    async fn board(&self) -> (Vec<Value>, Value);
}

impl Board for Process {
    /// Waits until the first reading of the board is over.
    async fn ready(&self) {
        eventually("the board read", Duration::from_secs(60), || async {
            self.json("/health").await["status"] != "starting"
        })
        .await;
    }

    /// Files of the startup's reading: (parsed, from the cache), from `/metrics`.
    async fn first_scan_files(&self) -> (u64, u64) {
        let text = reqwest::get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let count = |source: &str| {
            let prefix = format!("execdash_first_scan_files{{source=\"{source}\"}} ");
            text.lines()
                .find_map(|line| line.strip_prefix(&prefix))
                .unwrap_or_else(|| panic!("no {prefix} in {text}"))
                .parse()
                .unwrap()
        };
        (count("parsed"), count("cached"))
    }

    /// The whole board: every task's card and description (the JSON export) and every task's
    /// document (`/api/tasks`, the original's shape, without its time of answering).
    async fn board(&self) -> (Vec<Value>, Value) {
        let mut cards: Vec<Value> =
            serde_json::from_value(self.json("/api/export/tasks.json").await).unwrap();
        cards.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        let mut documents = self.json("/api/tasks").await;
        documents.as_object_mut().unwrap().remove("timestamp");
        (cards, documents)
    }
}

/// A task file of a few KB, as agents write them.
fn task_yaml(i: usize, note: &str) -> String {
    let paragraph = "The agent reads the module, lists what the change touches, writes the tests \
        first and keeps the public surface as it is.";
    format!(
        "id: task-{i:05}\ntitle: \"Task {i}\"\nstatus: assigned\npriority: high\n\
         created_at: \"2026-11-23T10:00:00Z\"\ntags: [restart]\ndescription: |\n  {note}\n  \
         {paragraph}\n  {paragraph}\nacceptance_criteria:\n  - {paragraph}\n  - {paragraph}\n"
    )
}

/// Writes `text` at `path` with a modification time an hour ago (so its stamp is not racy:
/// only the stamp can tell it changed).
fn write_an_hour_old(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    set_an_hour_old(path);
}

fn set_an_hour_old(path: &Path) {
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
}

/// `tasks` task files over the inbox and two agents' folders.
fn board(tasks: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let collab = dir.path().join("work/collaboration");
    for i in 0..tasks {
        let folder = ["inbox", "assigned/agent-a", "done/agent-b"][i % 3];
        write_an_hour_old(
            &collab.join(format!("{folder}/task-{i:05}.yaml")),
            &task_yaml(i, "first"),
        );
    }
    (dir, collab)
}

/// The one cache file in `dir`.
fn cache_file(dir: &Path) -> Option<PathBuf> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert!(files.len() <= 1, "{files:?}");
    files.into_iter().next()
}

async fn written_cache(dir: &Path) -> PathBuf {
    let what = format!("a cache file in {}", dir.display());
    eventually(&what, Duration::from_secs(30), || async {
        cache_file(dir).is_some()
    })
    .await;
    cache_file(dir).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_parses_only_the_files_that_changed_and_shows_what_a_fresh_reading_shows() {
    let (dir, collab) = board(1_200);
    let cache = dir.path().join("cache");
    let first = start(dir.path(), &cache);
    first.ready().await;
    assert_eq!(first.first_scan_files().await, (1_200, 0));
    let file = written_cache(&cache).await;
    first.stop();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the cache is its owner's only");

    // While it was stopped: 3 edited, 2 deleted, 4 added, 1 moved to another agent, and one
    // rewritten with the same size and modification time (only its change time tells).
    for i in [0, 1, 2] {
        write_an_hour_old(
            &collab.join(format!(
                "{}/task-{i:05}.yaml",
                ["inbox", "assigned/agent-a", "done/agent-b"][i % 3]
            )),
            &task_yaml(i, "edited while stopped"),
        );
    }
    std::fs::remove_file(collab.join("inbox/task-00003.yaml")).unwrap();
    std::fs::remove_file(collab.join("assigned/agent-a/task-00004.yaml")).unwrap();
    for i in 2_000..2_004 {
        write_an_hour_old(
            &collab.join(format!("inbox/task-{i:05}.yaml")),
            &task_yaml(i, "new"),
        );
    }
    std::fs::create_dir_all(collab.join("assigned/agent-c")).unwrap();
    std::fs::rename(
        collab.join("inbox/task-00006.yaml"),
        collab.join("assigned/agent-c/task-00006.yaml"),
    )
    .unwrap();
    let same_size = collab.join("done/agent-b/task-00008.yaml");
    let modified = std::fs::metadata(&same_size).unwrap().modified().unwrap();
    let text = task_yaml(8, "first").replace("first", "FIRST");
    std::fs::write(&same_size, &text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&same_size)
        .unwrap()
        .set_modified(modified)
        .unwrap();

    let second = start(dir.path(), &cache);
    second.ready().await;
    // 3 edited + 4 added + 1 moved + 1 rewritten are parsed; the other 1 193 come from the cache.
    assert_eq!(second.first_scan_files().await, (9, 1_193));
    let restarted = second.board().await;
    assert_eq!(restarted.0.len(), 1_202);
    second.stop();

    let fresh = start(dir.path(), Path::new("off"));
    fresh.ready().await;
    assert_eq!(fresh.first_scan_files().await, (1_202, 0));
    assert!(
        restarted == fresh.board().await,
        "the restarted board differs from a fresh reading"
    );
    let edited = restarted
        .0
        .iter()
        .find(|t| t["path"] == "done/agent-b/task-00008.yaml")
        .unwrap();
    assert!(
        edited["description"].as_str().unwrap().contains("FIRST"),
        "{edited}"
    );
    fresh.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_cache_is_reported_not_used_and_written_anew() {
    let (dir, _collab) = board(1_050);
    let cache = dir.path().join("cache");
    let first = start(dir.path(), &cache);
    first.ready().await;
    let file = written_cache(&cache).await;
    first.stop();
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.truncate(text.len() / 2);
    text.push_str("{\"path\": not json\n");
    std::fs::write(&file, text).unwrap();

    let second = start(dir.path(), &cache);
    second.ready().await;
    assert_eq!(second.first_scan_files().await, (1_050, 0));
    assert_eq!(second.board().await.0.len(), 1_050);
    let log = second.log.lock().unwrap().join("\n");
    assert!(log.contains("board cache not used: line"), "{log}");
    // Written again, whole: the next start takes every task from it.
    eventually("the cache rewritten", Duration::from_secs(30), || async {
        std::fs::read_to_string(&file).unwrap().lines().count() == 1_051
    })
    .await;
    second.stop();
    let third = start(dir.path(), &cache);
    third.ready().await;
    assert_eq!(third.first_scan_files().await, (0, 1_050));
    third.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_board_leaves_no_cache_file() {
    let (dir, _collab) = board(999);
    let cache = dir.path().join("cache");
    let server = start(dir.path(), &cache);
    server.ready().await;
    assert_eq!(server.first_scan_files().await, (999, 0));
    // The watcher says what it decided about the cache once the board is read.
    let scanned = || {
        let log = server.log.lock().unwrap();
        log.iter()
            .find(|l| l.contains("board scanned; watching"))
            .cloned()
            .ok_or_else(|| format!("{log:?}"))
    };
    eventually(
        "the watcher's word on the cache",
        Duration::from_secs(30),
        || std::future::ready(scanned().map(drop)),
    )
    .await;
    let scanned = scanned().unwrap();
    assert!(scanned.contains("board_cache=\"not kept"), "{scanned}");
    server.stop();
    assert!(!cache.exists(), "nothing written for 999 task files");
}
