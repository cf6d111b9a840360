//! `execdash migrate` from a real SQLite file into a real PostgreSQL cluster (a throwaway one on
//! loopback): everything copied, rollups equal, idempotent, resumable after kill -9, conflicts
//! reported, the rows stored as a repository (counted under it by a node's `/api/repos`), no
//! notice at every run, a server that is down said so.

mod common;
#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/process.rs"]
mod process;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::eventually;
use execdash::{seed_synthetic, Telemetry};
use postgres::Postgres;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

/// A telemetry.db with `n` synthetic invocations over 30 days, plus rows as other writers leave
/// them: the original's `YYYY-MM-DD HH:MM:SS` time, a time SQLite cannot read, no agent, a task.
/// Runs one statement on the store (a test's own change to what a node stored).
async fn exec(pool: &PgPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

async fn telemetry_file(path: &Path, n: usize) -> SqlitePool {
    let telemetry = Telemetry::open(path).await.unwrap();
    seed_synthetic(&telemetry, n).await.unwrap();
    telemetry.close().await;
    let pool = SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO invocations (invocation_id, timestamp, agent_name, tool_name, model_name, \
         total_tokens, cost_usd, status, task_id) VALUES \
         ('odd-1', '2026-11-23 10:00:00', 'python', 'cli', 'gpt-4o', 10, 0.25, 'success', NULL), \
         ('odd-2', 'yesterday', 'python', 'cli', 'gpt-4o', 20, 0.5, 'error', NULL), \
         ('odd-3', '2026-11-23T23:30:00-02:00', NULL, 'cli', 'gpt-4o', 30, 0.125, 'success', 'odd-task')",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool
}

fn migrate(from: &Path, to: &str, batch: usize) -> Output {
    migrate_with(from, to, &["--batch", &batch.to_string()])
}

/// `execdash migrate --from FILE --to URL` with `flags`, logging at `info` (what a person sees).
fn migrate_with(from: &Path, to: &str, flags: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_execdash"))
        .args(["migrate", "--from"])
        .arg(format!("sqlite://{}", from.display()))
        .args(["--to", to])
        .args(flags)
        .env("EXECDASH_LOG", "info")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// How many rows PostgreSQL holds under each repository (`None`: none).
async fn by_repository(store: &PgPool) -> Vec<(Option<String>, i64)> {
    sqlx::query_as("SELECT repo, count(*) FROM invocations GROUP BY repo ORDER BY repo")
        .fetch_all(store)
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn count(store: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM invocations")
        .fetch_one(store)
        .await
        .unwrap()
}

type RollupRow = (String, String, String, String, i64, i64, i64, f64);

/// The cost rollups as the SQLite file's triggers keep them and as PostgreSQL's do (summed over
/// repositories).
async fn rollups(file: &SqlitePool, store: &PgPool) -> (Vec<RollupRow>, Vec<RollupRow>) {
    let sqlite = sqlx::query_as(
        "SELECT day, model_name, agent_name, tool_name, invocations, errors, total_tokens, \
         cost_usd FROM cost_rollup ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(file)
    .await
    .unwrap();
    let postgres = sqlx::query_as(
        "SELECT day, model_name, agent_name, tool_name, sum(invocations)::int8, \
         sum(errors)::int8, sum(total_tokens)::int8, sum(cost_usd) \
         FROM cost_rollup GROUP BY 1, 2, 3, 4 ORDER BY day COLLATE \"C\", model_name COLLATE \"C\", \
         agent_name COLLATE \"C\", tool_name COLLATE \"C\"",
    )
    .fetch_all(store)
    .await
    .unwrap();
    (sqlite, postgres)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_history_is_copied_whole_with_equal_rollups_and_a_second_run_copies_nothing() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telemetry.db");
    let file = telemetry_file(&path, 20_000).await;

    let first = migrate(&path, &url, 3_000);
    let text = stdout(&first);
    assert!(
        first.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(text.contains("20003 rows in the file: 20003 copied now (20003 in all), 0 already there, 0 conflicting"), "{text}");
    assert!(
        text.contains("check: 20003 of 20003 rows found in PostgreSQL"),
        "{text}"
    );
    let store = PgPool::connect(&url).await.unwrap();
    assert_eq!(count(&store).await, 20_003);
    let (sqlite, postgres) = rollups(&file, &store).await;
    assert_eq!(sqlite.len(), postgres.len());
    for (a, b) in sqlite.iter().zip(&postgres) {
        let same_key_and_counts =
            (&a.0, &a.1, &a.2, &a.3, a.4, a.5, a.6) == (&b.0, &b.1, &b.2, &b.3, b.4, b.5, b.6);
        assert!(
            same_key_and_counts && (a.7 - b.7).abs() < 1e-9,
            "{a:?} vs {b:?}"
        );
    }
    let task: (i64, f64) =
        sqlx::query_as("SELECT invocations, cost_usd FROM task_costs WHERE task_id = 'odd-task'")
            .fetch_one(&store)
            .await
            .unwrap();
    assert_eq!(task, (1, 0.125));
    let unparsed: (Option<String>, String) =
        sqlx::query_as("SELECT at::text, timestamp FROM invocations WHERE invocation_id = 'odd-2'")
            .fetch_one(&store)
            .await
            .unwrap();
    assert_eq!(
        unparsed,
        (None, "yesterday".to_owned()),
        "kept as written, no time"
    );

    let again = migrate(&path, &url, 3_000);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}");
    assert!(
        text.contains("20003 rows in the file: 0 copied now (20003 in all)"),
        "{text}"
    );
    assert_eq!(count(&store).await, 20_003);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_killed_midway_goes_on_where_it_stopped_and_nothing_is_doubled() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telemetry.db");
    let _file = telemetry_file(&path, 40_000).await;
    let store = PgPool::connect(&url).await.unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_execdash"))
        .args(["migrate", "--from"])
        .arg(&path)
        .args(["--to", &url, "--batch", "500"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some batches are committed, not all.
    eventually("2 000 rows copied", Duration::from_secs(60), || async {
        let copied: Option<i64> = sqlx::query_scalar("SELECT copied FROM migration_progress")
            .fetch_optional(&store)
            .await
            .unwrap_or(None);
        copied.is_some_and(|c| c >= 2_000)
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = count(&store).await;
    assert!(at_kill > 0 && at_kill < 40_003, "killed midway: {at_kill}");

    let resumed = migrate(&path, &url, 5_000);
    let text = stdout(&resumed);
    assert!(resumed.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "40003 rows in the file: {} copied now (40003 in all)",
            40_003 - at_kill
        )),
        "{text}"
    );
    assert_eq!(count(&store).await, 40_003);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_stored_with_other_content_is_a_conflict_kept_as_stored_and_reported() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telemetry.db");
    let _file = telemetry_file(&path, 100).await;
    // A node stored odd-1 already, with another cost; odd-3 with the same content.
    let first = migrate(&path, &url, 1_000);
    assert!(first.status.success());
    let store = PgPool::connect(&url).await.unwrap();
    exec(&store, "DELETE FROM migration_progress").await;
    exec(
        &store,
        "UPDATE invocations SET cost_usd = 99 WHERE invocation_id = 'odd-1'",
    )
    .await;

    let again = migrate(&path, &url, 1_000);
    let text = stdout(&again);
    assert_eq!(again.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "103 rows in the file: 0 copied now (0 in all), 102 already there, 1 conflicting"
        ),
        "{text}"
    );
    assert!(
        text.contains("conflict: odd-1 is in PostgreSQL with other content"),
        "{text}"
    );
    let cost: f64 =
        sqlx::query_scalar("SELECT cost_usd FROM invocations WHERE invocation_id = 'odd-1'")
            .fetch_one(&store)
            .await
            .unwrap();
    assert_eq!(cost, 99.0, "the stored row is kept");
    // The rollups follow the update (statement triggers on UPDATE).
    let rolled: f64 = sqlx::query_scalar("SELECT sum(cost_usd) FROM cost_rollup")
        .fetch_one(&store)
        .await
        .unwrap();
    let stored: f64 = sqlx::query_scalar("SELECT sum(cost_usd) FROM invocations")
        .fetch_one(&store)
        .await
        .unwrap();
    assert!((rolled - stored).abs() < 1e-6, "{rolled} vs {stored}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_urls_are_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = migrate(
        &dir.path().join("missing.db"),
        "postgres://127.0.0.1:1/x",
        10,
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no such file"));
    let output = Command::new(env!("CARGO_BIN_EXE_execdash"))
        .args(["migrate", "--from", "x.db", "--to", "mysql://x"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("--to must be a PostgreSQL URL"));
}

/// A file's rows are its repository's: the folder it is in by default (where `serve` keeps it,
/// and what `--repo-name` defaults to), or the one `--repo` names. A node publishing that name
/// counts their cost in `/api/repos` (before: `$0.00` beside the team's larger total). Rows a
/// copy made before left without a repository are given it; a row a node stored under another
/// repository is no conflict and keeps its own.
#[tokio::test(flavor = "multi_thread")]
async fn the_rows_are_stored_as_the_files_repository_and_counted_under_it() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let backend = dir.path().join("backend");
    std::fs::create_dir_all(backend.join("work/collaboration/inbox")).unwrap();
    let path = backend.join("telemetry.db");
    let file = telemetry_file(&path, 200).await;
    let cost_in_file: f64 = sqlx::query_scalar("SELECT sum(cost_usd) FROM invocations")
        .fetch_one(&file)
        .await
        .unwrap();

    let first = migrate_with(&path, &url, &[]);
    let text = stdout(&first);
    assert!(first.status.success(), "{text}{}", stderr(&first));
    assert!(text.contains("repository: backend"), "{text}");
    assert!(
        text.contains("no node publishes a repository named \"backend\" yet"),
        "{text}"
    );
    let store = PgPool::connect(&url).await.unwrap();
    assert_eq!(
        by_repository(&store).await,
        [(Some("backend".to_owned()), 203)]
    );

    // The node of that repository (its --repo-name defaults to the same folder name).
    let node = process::Process::start(&backend, &["--db".as_ref(), url.as_ref()]);
    eventually("backend published", Duration::from_secs(20), || async {
        node.json("/api/repos").await["repos"][0]["name"] == "backend"
    })
    .await;
    let repos = node.json("/api/repos").await;
    let counted = repos["repos"][0]["cost_total"].as_f64().unwrap();
    assert!(
        cost_in_file > 0.0 && (counted - cost_in_file).abs() < 1e-6,
        "the file's ${cost_in_file} counted under backend: {repos}"
    );
    drop(node);

    // Another file, named on the command line.
    let other = dir.path().join("checkout").join("telemetry.db");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    let other_file = telemetry_file(&other, 10).await;
    sqlx::query("UPDATE invocations SET invocation_id = 'other-' || invocation_id")
        .execute(&other_file)
        .await
        .unwrap();
    let named = migrate_with(&other, &url, &["--repo", "frontend"]);
    assert!(named.status.success(), "{}", stdout(&named));
    assert!(stdout(&named).contains("repository: frontend"));
    assert_eq!(
        by_repository(&store).await,
        [
            (Some("backend".to_owned()), 203),
            (Some("frontend".to_owned()), 13)
        ]
    );

    // A copy made before --repo existed left the rows without one; a node stored odd-1 under
    // its own repository. Copied again from the start: the first are given it, odd-1 is no
    // conflict and stays as stored.
    exec(
        &store,
        "UPDATE invocations SET repo = NULL WHERE repo = 'backend'",
    )
    .await;
    exec(
        &store,
        "UPDATE invocations SET repo = 'ops' WHERE invocation_id = 'odd-1'",
    )
    .await;
    exec(&store, "DELETE FROM migration_progress").await;
    let again = migrate_with(&path, &url, &[]);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}");
    assert!(
        text.contains("0 copied now (0 in all), 203 already there, 0 conflicting"),
        "{text}"
    );
    assert!(
        text.contains("202 stored without one were given it now"),
        "{text}"
    );
    assert_eq!(
        by_repository(&store).await,
        [
            (Some("backend".to_owned()), 202),
            (Some("frontend".to_owned()), 13),
            (Some("ops".to_owned()), 1)
        ]
    );
    // The rollups follow (statement triggers on UPDATE): per repository, as the rows say.
    let rolled: Vec<(String, f64)> =
        sqlx::query_as("SELECT repo, sum(cost_usd) FROM cost_rollup GROUP BY repo ORDER BY repo")
            .fetch_all(&store)
            .await
            .unwrap();
    let stored: Vec<(String, f64)> = sqlx::query_as(
        "SELECT COALESCE(repo, ''), sum(cost_usd) FROM invocations GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&store)
    .await
    .unwrap();
    assert_eq!(rolled.len(), stored.len(), "{rolled:?} vs {stored:?}");
    for (a, b) in rolled.iter().zip(&stored) {
        assert!(
            a.0 == b.0 && (a.1 - b.1).abs() < 1e-6,
            "{rolled:?} vs {stored:?}"
        );
    }

    let empty = migrate_with(&path, &url, &["--repo", " "]);
    assert!(!empty.status.success());
    assert!(stderr(&empty).contains("--repo must name a repository"));
}

/// Past 20 conflicts the others are counted, not listed one by one.
#[tokio::test(flavor = "multi_thread")]
async fn conflicts_past_the_twentieth_are_counted() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telemetry.db");
    let _file = telemetry_file(&path, 100).await;
    assert!(migrate(&path, &url, 1_000).status.success());
    let store = PgPool::connect(&url).await.unwrap();
    exec(&store, "DELETE FROM migration_progress").await;
    sqlx::query(
        "UPDATE invocations SET cost_usd = cost_usd + 1 WHERE invocation_id IN \
         (SELECT invocation_id FROM invocations ORDER BY invocation_id LIMIT 25)",
    )
    .execute(&store)
    .await
    .unwrap();

    let again = migrate(&path, &url, 1_000);
    let text = stdout(&again);
    assert_eq!(again.status.code(), Some(1), "{text}");
    assert!(text.contains("25 conflicting"), "{text}");
    assert_eq!(text.matches("conflict: ").count(), 20, "{text}");
    assert!(
        text.contains("and 5 more (every conflicting id is in the table migration_conflicts)"),
        "{text}"
    );
}

/// A second run (every start of a node too) applies nothing, and says nothing about it: no
/// notice that `schema_version` exists already.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_logs_no_notice_about_the_schema() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telemetry.db");
    let _file = telemetry_file(&path, 10).await;
    for run in ["first", "second"] {
        let output = migrate_with(&path, &url, &[]);
        let log = stderr(&output);
        assert!(output.status.success(), "{run}: {log}");
        assert!(!log.contains("already exists"), "{run}: {log}");
    }
}

/// PostgreSQL down: the message says the connection was refused, not that a pool timed out.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_down_is_said_to_refuse_the_connection() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    cluster.down();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telemetry.db");
    let _file = telemetry_file(&path, 10).await;
    let output = migrate_with(&path, &url, &[]);
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(
        message.to_lowercase().contains("connection refused"),
        "{message}"
    );
    assert!(!message.contains("pool timed out"), "{message}");
}
