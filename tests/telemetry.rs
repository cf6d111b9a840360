//! Telemetry on real SQLite files: the original Python schema opened in place, other writers on
//! the same file, idempotent ingest, field-naming validation, aggregates and the JSONL import.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Duration as Span, Utc};
#[cfg(feature = "bench-support")]
use execdash::seed_synthetic;
use execdash::{import_jsonl, CostRange, IngestError, Invocation, RunningServer, Telemetry};
use serde_json::{json, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

/// The original `schema.sql`, as the Python logger creates it.
const ORIGINAL_DDL: &str = r#"
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invocation_id TEXT UNIQUE NOT NULL,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
    agent_name TEXT,
    tool_name TEXT NOT NULL,
    model_name TEXT NOT NULL,
    prompt_tokens INTEGER DEFAULT 0,
    completion_tokens INTEGER DEFAULT 0,
    total_tokens INTEGER DEFAULT 0,
    cost_usd REAL DEFAULT 0.0,
    latency_ms INTEGER DEFAULT 0,
    status TEXT NOT NULL,
    error_message TEXT,
    privacy_level TEXT DEFAULT 'metadata'
);
CREATE TABLE IF NOT EXISTS daily_costs (
    date DATE NOT NULL, agent_name TEXT, tool_name TEXT NOT NULL, model_name TEXT NOT NULL,
    invocations INTEGER DEFAULT 0, total_tokens INTEGER DEFAULT 0, total_cost_usd REAL DEFAULT 0.0,
    PRIMARY KEY (date, agent_name, tool_name, model_name)
);
CREATE INDEX IF NOT EXISTS idx_invocations_timestamp ON invocations(timestamp);
CREATE INDEX IF NOT EXISTS idx_invocations_agent ON invocations(agent_name);
CREATE INDEX IF NOT EXISTS idx_invocations_tool ON invocations(tool_name);
CREATE INDEX IF NOT EXISTS idx_invocations_model ON invocations(model_name);
CREATE INDEX IF NOT EXISTS idx_invocations_status ON invocations(status);
CREATE INDEX IF NOT EXISTS idx_daily_costs_date ON daily_costs(date);
CREATE TABLE IF NOT EXISTS schema_version (version TEXT PRIMARY KEY,
    applied_at DATETIME DEFAULT CURRENT_TIMESTAMP, description TEXT);
INSERT OR IGNORE INTO schema_version (version, description)
VALUES ('1.0.0', 'Initial telemetry schema with invocations and daily_costs tables');
"#;

/// A connection that is not ours: like the Python logger's (rollback journal unless the file is
/// already WAL, 5 s timeout).
async fn external(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap()
}

/// What the original logger does for one invocation (including its daily_costs upsert).
async fn python_style_insert(
    conn: &mut SqliteConnection,
    id: &str,
    timestamp: Option<&str>,
    agent: Option<&str>,
    cost: f64,
    tokens: i64,
) {
    let mut tx = conn.begin().await.unwrap();
    let date = match timestamp {
        Some(ts) => ts[..10].to_string(),
        None => Utc::now().format("%Y-%m-%d").to_string(),
    };
    match timestamp {
        Some(ts) => sqlx::query(
            "INSERT INTO invocations (invocation_id, timestamp, agent_name, tool_name, model_name, \
             prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, status) \
             VALUES (?, ?, ?, 'claude-code', 'claude-sonnet-4', 0, 0, ?, ?, 100, 'success')",
        )
        .bind(id)
        .bind(ts)
        .bind(agent)
        .bind(tokens)
        .bind(cost)
        .execute(&mut *tx)
        .await
        .unwrap(),
        // Without a timestamp: SQLite's CURRENT_TIMESTAMP ('YYYY-MM-DD HH:MM:SS').
        None => sqlx::query(
            "INSERT INTO invocations (invocation_id, agent_name, tool_name, model_name, \
             total_tokens, cost_usd, latency_ms, status) \
             VALUES (?, ?, 'claude-code', 'claude-sonnet-4', ?, ?, 100, 'success')",
        )
        .bind(id)
        .bind(agent)
        .bind(tokens)
        .bind(cost)
        .execute(&mut *tx)
        .await
        .unwrap(),
    };
    sqlx::query(
        "INSERT INTO daily_costs (date, agent_name, tool_name, model_name, invocations, \
         total_tokens, total_cost_usd) VALUES (?, ?, 'claude-code', 'claude-sonnet-4', 1, ?, ?) \
         ON CONFLICT(date, agent_name, tool_name, model_name) DO UPDATE SET \
         invocations = invocations + 1, total_tokens = total_tokens + excluded.total_tokens, \
         total_cost_usd = total_cost_usd + excluded.total_cost_usd",
    )
    .bind(date)
    .bind(agent)
    .bind(tokens)
    .bind(cost)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn original_db(path: &Path) {
    let mut conn = external(path).await;
    sqlx::raw_sql(ORIGINAL_DDL)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("telemetry.db")
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn invocation(id: &str, timestamp: &str, model: &str, cost: f64, tokens: i64) -> Invocation {
    let mut invocation = Invocation::new(id, "claude-code", model);
    invocation.timestamp = Some(timestamp.into());
    invocation.cost_usd = cost;
    invocation.total_tokens = tokens;
    invocation
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

async fn count(telemetry: &Telemetry, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&telemetry.reader().await.unwrap())
        .await
        .unwrap()
}

/// A real execdash server on loopback over the database at `db` (its board folder is empty).
struct Api {
    server: RunningServer,
    _root: tempfile::TempDir,
}

impl Api {
    async fn start(db: &Path) -> Api {
        let root = tempfile::tempdir().unwrap();
        let mut config = execdash::Config::new(root.path());
        config.db = db.into();
        config.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        config.site_root = Some(root.path().join("no-site"));
        let server = execdash::start(config).await.unwrap();
        Api {
            server,
            _root: root,
        }
    }

    async fn post_as(&self, content_type: &str, payload: &str) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(format!("http://{}/api/invocations", self.server.addr))
            .header("content-type", content_type)
            .body(payload.to_owned())
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap())
    }

    async fn post(&self, payload: &str) -> (StatusCode, Value) {
        self.post_as("application/json", payload).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = reqwest::get(format!("http://{}{path}", self.server.addr))
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap())
    }
}

/// Rows of the original columns, to compare before and after opening.
async fn original_rows(conn: &mut SqliteConnection) -> Vec<String> {
    sqlx::query(
        "SELECT id, invocation_id, timestamp, agent_name, tool_name, model_name, prompt_tokens, \
         completion_tokens, total_tokens, cost_usd, latency_ms, status, error_message, \
         privacy_level FROM invocations ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
    .map(|row| {
        format!(
            "{}|{}|{}|{:?}|{}|{}|{}|{}|{}|{}|{}|{}|{:?}|{:?}",
            row.get::<i64, _>(0),
            row.get::<String, _>(1),
            row.get::<String, _>(2),
            row.get::<Option<String>, _>(3),
            row.get::<String, _>(4),
            row.get::<String, _>(5),
            row.get::<i64, _>(6),
            row.get::<i64, _>(7),
            row.get::<i64, _>(8),
            row.get::<f64, _>(9),
            row.get::<i64, _>(10),
            row.get::<String, _>(11),
            row.get::<Option<String>, _>(12),
            row.get::<Option<String>, _>(13),
        )
    })
    .collect()
}

#[tokio::test]
async fn an_original_database_is_opened_in_place_and_every_timestamp_format_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    original_db(&path).await;
    let mut conn = external(&path).await;
    // Today is 2026-11-23 (UTC) in this test.
    python_style_insert(
        &mut conn,
        "iso",
        Some("2026-11-23T20:48:38.498411+00:00"),
        Some("benny"),
        1.0,
        10,
    )
    .await;
    python_style_insert(
        &mut conn,
        "space",
        Some("2026-11-23 20:48:38"),
        Some("benny"),
        2.0,
        20,
    )
    .await;
    // 00:30 on the 1st, space format: the original's string comparison left it out of the month.
    python_style_insert(
        &mut conn,
        "first",
        Some("2026-11-01 00:30:00"),
        None,
        4.0,
        40,
    )
    .await;
    python_style_insert(
        &mut conn,
        "last-month",
        Some("2026-10-31T23:59:59Z"),
        None,
        8.0,
        80,
    )
    .await;
    // 23:30 at UTC-1 on the 22nd is 00:30 UTC on the 23rd: today.
    python_style_insert(
        &mut conn,
        "offset",
        Some("2026-11-22T23:30:00-01:00"),
        Some("rita"),
        16.0,
        160,
    )
    .await;
    let before = original_rows(&mut conn).await;
    let daily_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM daily_costs")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let telemetry = Telemetry::open(&path).await.unwrap();
    let now = at("2026-11-23T21:00:00Z");
    let summary = telemetry.summary(CostRange::Days7, now).await.unwrap();
    assert!(
        close(summary.totals.today, 1.0 + 2.0 + 16.0),
        "{:?}",
        summary.totals
    );
    assert!(
        close(summary.totals.month, 1.0 + 2.0 + 4.0 + 16.0),
        "{:?}",
        summary.totals
    );
    assert!(close(summary.totals.total, 31.0), "{:?}", summary.totals);
    assert_eq!(summary.totals.invocations, 5);
    // The 7-day range starts on the 17th: October is out, the 1st is out too.
    let daily: Vec<(&str, f64)> = summary
        .daily
        .iter()
        .map(|d| (d.date.as_str(), d.cost_usd))
        .collect();
    assert_eq!(daily, vec![("2026-11-23", 19.0)]);
    let mut agents: Vec<(Option<&str>, u64)> = summary
        .per_agent
        .iter()
        .map(|a| (a.agent.as_deref(), a.invocations))
        .collect();
    agents.sort();
    assert_eq!(
        agents,
        vec![(None, 2), (Some("benny"), 2), (Some("rita"), 1)]
    );
    let month = telemetry.summary(CostRange::Days30, now).await.unwrap();
    let days: Vec<&str> = month.daily.iter().map(|d| d.date.as_str()).collect();
    assert_eq!(days, vec!["2026-10-31", "2026-11-01", "2026-11-23"]);

    // Nothing rewritten: the original columns are identical, daily_costs untouched, the
    // migrations recorded after 1.0.0.
    let mut conn = external(&path).await;
    assert_eq!(original_rows(&mut conn).await, before);
    let daily_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM daily_costs")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(daily_after, daily_before);
    let versions: Vec<String> =
        sqlx::query_scalar("SELECT version FROM schema_version ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        versions,
        vec!["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "1.7.0"]
    );
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
    conn.close().await.unwrap();

    // Opening again (while open) applies nothing twice.
    let again = Telemetry::open(&path).await.unwrap();
    assert_eq!(
        count(&again, "SELECT COUNT(*) FROM schema_version").await,
        8
    );
    assert_eq!(count(&again, "SELECT COUNT(*) FROM invocations").await, 5);
    let same = again.summary(CostRange::Days7, now).await.unwrap();
    assert_eq!(same.totals, summary.totals);
}

#[tokio::test]
async fn a_missing_database_is_created_with_the_original_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let telemetry = Telemetry::open(&path).await.unwrap();
    assert!(path.exists());
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&telemetry.reader().await.unwrap())
    .await
    .unwrap();
    assert_eq!(
        tables,
        vec![
            "cost_rollup",
            "cost_rollup_hourly",
            "daily_costs",
            "invocations",
            "rollup_batch",
            "schema_version",
            "task_costs"
        ]
    );
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name",
    )
    .fetch_all(&telemetry.reader().await.unwrap())
    .await
    .unwrap();
    // The original's indexes no query reads are dropped (1.7.0); its `timestamp` one, which its
    // own dashboard reads, stays.
    assert_eq!(
        indexes,
        [
            "idx_daily_costs_date",
            "idx_invocations_julianday",
            "idx_invocations_model_julianday",
            "idx_invocations_session",
            "idx_invocations_source",
            "idx_invocations_task_id",
            "idx_invocations_timestamp",
            "idx_invocations_unpriced",
        ]
    );
    let summary = telemetry
        .summary(CostRange::Day1, Utc::now())
        .await
        .unwrap();
    assert_eq!(summary.totals.invocations, 0);
    assert_eq!(summary.totals.total, 0.0);
    assert!(summary.by_model.is_empty());
    assert_eq!(summary.error_rate, 0.0);
}

#[tokio::test]
async fn another_writer_on_the_same_file_is_seen_and_wakes_the_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let telemetry = Telemetry::open(&path).await.unwrap();
    let mut changes = telemetry.watch_changes();
    changes.borrow_and_update();

    // The external writer, in bursts, while we ingest in batches.
    let external_path = path.clone();
    let writer = tokio::spawn(async move {
        let mut conn = external(&external_path).await;
        for i in 0..300 {
            let ts = (Utc::now() - Span::seconds(i)).to_rfc3339();
            python_style_insert(
                &mut conn,
                &format!("py-{i}"),
                Some(&ts),
                Some("python"),
                0.5,
                5,
            )
            .await;
            if i % 50 == 0 {
                // Not a wait for anything: a pause between two bursts of the writer.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        conn.close().await.unwrap();
    });
    let mut inserted = 0;
    for batch in 0..30 {
        let rows = (0..10)
            .map(|i| {
                let mut row = invocation(
                    &format!("rs-{batch}-{i}"),
                    &Utc::now().to_rfc3339(),
                    "gpt-5",
                    0.25,
                    3,
                );
                row.agent_name = Some("rust".into());
                row
            })
            .collect();
        inserted += telemetry.ingest(rows).await.unwrap().inserted;
        // Reads go on while the other process writes.
        let summary = telemetry
            .summary(CostRange::Day1, Utc::now())
            .await
            .unwrap();
        assert!(summary.totals.invocations >= inserted);
    }
    writer.await.unwrap();
    assert_eq!(inserted, 300);

    let summary = telemetry
        .summary(CostRange::Day1, Utc::now())
        .await
        .unwrap();
    assert_eq!(summary.totals.invocations, 600);
    assert!(close(summary.totals.total, 300.0 * 0.5 + 300.0 * 0.25));
    let mut models: Vec<(&str, u64, f64)> = summary
        .by_model
        .iter()
        .map(|m| (m.model.as_str(), m.invocations, m.cost_usd))
        .collect();
    models.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(models.len(), 2);
    assert_eq!((models[0].0, models[0].1), ("claude-sonnet-4", 300));
    assert_eq!((models[1].0, models[1].1), ("gpt-5", 300));
    assert!(close(models[0].2, 150.0) && close(models[1].2, 75.0));
    // The rollup that the aggregates read agrees with the raw rows.
    let raw: f64 = sqlx::query_scalar("SELECT SUM(cost_usd) FROM invocations")
        .fetch_one(&telemetry.reader().await.unwrap())
        .await
        .unwrap();
    assert!(close(raw, summary.totals.total));

    // Idle now: one external commit wakes the watcher (how fast is measured by the benchmarks,
    // not here: a loaded test machine can hold the watcher up), and the row (stored with
    // CURRENT_TIMESTAMP, 'YYYY-MM-DD HH:MM:SS', whole seconds: wait for the next second so it is
    // the newest) is the first active operation.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    changes.borrow_and_update();
    let mut conn = external(&path).await;
    python_style_insert(&mut conn, "late", None, None, 1.5, 15).await;
    tokio::time::timeout(Duration::from_secs(5), changes.changed())
        .await
        .expect("the watcher reports the external commit")
        .unwrap();
    let summary = telemetry
        .summary(CostRange::Day1, Utc::now())
        .await
        .unwrap();
    assert_eq!(summary.totals.invocations, 601);
    assert_eq!(summary.active.len(), 10);
    assert_eq!(summary.active[0].invocation_id, "late");
    assert_eq!(
        summary.active[0].timestamp.len(),
        "2026-11-23 20:48:38".len()
    );

    // Updates and deletes by the other writer keep the rollups exact.
    sqlx::query("DELETE FROM invocations WHERE invocation_id LIKE 'py-%'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE invocations SET cost_usd = 1.0 WHERE invocation_id = 'late'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let summary = telemetry
        .summary(CostRange::Day1, Utc::now())
        .await
        .unwrap();
    assert_eq!(summary.totals.invocations, 301);
    assert!(
        close(summary.totals.total, 300.0 * 0.25 + 1.0),
        "{}",
        summary.totals.total
    );
}

#[tokio::test]
async fn a_python_process_writing_at_the_same_time_is_counted() {
    assert!(
        std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "python3 is needed to test a writer in another process (scripts/bootstrap installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let telemetry = Telemetry::open(&path).await.unwrap();
    let script = r#"
import sqlite3, sys, time, datetime
conn = sqlite3.connect(sys.argv[1], timeout=5)
for i in range(200):
    ts = datetime.datetime.now(datetime.timezone.utc).isoformat()
    with conn:
        conn.execute("INSERT INTO invocations (invocation_id, timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, status) VALUES (?, ?, NULL, 'codex', 'gpt-5', 10, 0.01, 'success')", (f"proc-{i}", ts))
    if i % 20 == 0:
        time.sleep(0.002)
"#;
    let child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .spawn()
        .unwrap();
    let rows: Vec<Invocation> = (0..500)
        .map(|i| {
            invocation(
                &format!("ours-{i}"),
                &Utc::now().to_rfc3339(),
                "claude-opus-4",
                0.02,
                20,
            )
        })
        .collect();
    for chunk in rows.chunks(50) {
        let report = telemetry.ingest(chunk.to_vec()).await.unwrap();
        assert_eq!(report.inserted, 50);
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success());
    // Our own ingests marked changes too. A handle opened now has made no write of its own, so
    // only its data_version watcher can report one more row from another process.
    let observer = Telemetry::open(&path).await.unwrap();
    let mut changes = observer.watch_changes();
    changes.borrow_and_update();
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(LAST_ROW)
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::timeout(Duration::from_secs(5), changes.changed())
        .await
        .expect("the other process's commit is noticed")
        .unwrap();
    let summary = telemetry
        .summary(CostRange::Days7, Utc::now())
        .await
        .unwrap();
    assert_eq!(summary.totals.invocations, 701);
    assert!(close(summary.totals.today, 201.0 * 0.01 + 500.0 * 0.02));
    let unnamed = summary.by_agent.iter().find(|a| a.agent.is_none()).unwrap();
    assert_eq!(unnamed.invocations, 701);
}

/// One more row, written the way the Python logger does.
const LAST_ROW: &str = r#"
import sqlite3, sys, datetime
conn = sqlite3.connect(sys.argv[1], timeout=5)
with conn:
    conn.execute("INSERT INTO invocations (invocation_id, timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, status) VALUES ('proc-last', ?, NULL, 'codex', 'gpt-5', 10, 0.01, 'success')", (datetime.datetime.now(datetime.timezone.utc).isoformat(),))
"#;

#[tokio::test]
async fn reposting_the_same_batch_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::open(&db_path(&dir)).await.unwrap();
    let api = Api::start(&db_path(&dir)).await;
    let payload = json!([
        {"invocation_id": "inv-1", "timestamp": "2026-11-23T10:00:00Z", "agent_name": "benny",
         "tool_name": "claude-code", "model_name": "claude-sonnet-4", "prompt_tokens": 100,
         "completion_tokens": 20, "cost_usd": 0.5, "latency_ms": 1200, "status": "success",
         "task_id": "2026-11-23T1000-benny-task"},
        {"invocation_id": "inv-2", "timestamp": "2026-11-23 11:00:00", "agent_name": "benny",
         "tool_name": "claude-code", "model_name": "claude-sonnet-4", "total_tokens": 50,
         "cost_usd": 0.25, "status": "error", "error_message": "rate limited"}
    ])
    .to_string();
    let (status, first) = api.post(&payload).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first,
        json!({"inserted": 2, "duplicates": 0, "conflicts": []})
    );
    let (status, second) = api.post(&payload).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        second,
        json!({"inserted": 0, "duplicates": 2, "conflicts": []})
    );
    // A single object is accepted too.
    let inv2 = serde_json::from_str::<Value>(&payload).unwrap()[1].to_string();
    let (status, single) = api.post(&inv2).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        single,
        json!({"inserted": 0, "duplicates": 1, "conflicts": []})
    );

    assert_eq!(
        count(&telemetry, "SELECT COUNT(*) FROM invocations").await,
        2
    );
    assert_eq!(
        count(&telemetry, "SELECT SUM(invocations) FROM daily_costs").await,
        2
    );
    assert_eq!(
        count(&telemetry, "SELECT COUNT(*) FROM daily_costs").await,
        1
    );
    let stored: (String, i64, Option<String>, String) = sqlx::query_as(
        "SELECT timestamp, total_tokens, task_id, privacy_level FROM invocations WHERE invocation_id = 'inv-1'",
    )
    .fetch_one(&telemetry.reader().await.unwrap())
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            "2026-11-23T10:00:00.000000+00:00".to_string(),
            120,
            Some("2026-11-23T1000-benny-task".to_string()),
            "metadata".to_string()
        )
    );
    let ts2: String =
        sqlx::query_scalar("SELECT timestamp FROM invocations WHERE invocation_id = 'inv-2'")
            .fetch_one(&telemetry.reader().await.unwrap())
            .await
            .unwrap();
    assert_eq!(ts2, "2026-11-23T11:00:00.000000+00:00");

    let summary = telemetry
        .summary(CostRange::Days7, at("2026-11-23T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(summary.per_task.len(), 1);
    assert_eq!(summary.per_task[0].task_id, "2026-11-23T1000-benny-task");
    assert!(close(summary.per_task[0].cost_usd, 0.5));
    assert_eq!(summary.per_task[0].tokens, 120);
    assert!(close(summary.error_rate, 0.5));
}

#[tokio::test]
async fn bad_payloads_name_the_field_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::open(&db_path(&dir)).await.unwrap();
    let api = Api::start(&db_path(&dir)).await;
    let good = json!({"invocation_id": "ok", "tool_name": "codex", "model_name": "gpt-5",
                      "status": "success"});
    let with = |key: &str, value: Value| {
        let mut item = good.clone();
        item[key] = value;
        item
    };
    let cases = vec![
        (with("prompt_tokens", json!("12")), "prompt_tokens"),
        (with("completion_tokens", json!(-1)), "completion_tokens"),
        (with("total_tokens", json!(1.5)), "total_tokens"),
        (with("status", json!("done")), "status"),
        (with("cost_usd", json!(-0.01)), "cost_usd"),
        (with("cost_usd", json!("0.1")), "cost_usd"),
        (with("latency_ms", json!(-5)), "latency_ms"),
        (with("timestamp", json!("yesterday")), "timestamp"),
        (with("invocation_id", json!("")), "invocation_id"),
        (
            with("invocation_id", json!("x".repeat(201))),
            "invocation_id",
        ),
        (with("tool_name", json!(null)), "tool_name"),
        (with("model_name", json!(7)), "model_name"),
        (with("privacy_level", json!("secret")), "privacy_level"),
    ];
    for (payload, field) in cases {
        let (status, body) = api.post(&payload.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{payload}");
        assert_eq!(body["field"], field, "{payload} → {body}");
        assert!(body["error"].as_str().unwrap().starts_with(field), "{body}");
    }
    // In an array, the index is given and the valid items before it are not written either.
    let array = json!([good.clone(), with("status", json!("ok"))]).to_string();
    let (status, body) = api.post(&array).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["index"], 1);
    assert_eq!(body["field"], "status");
    assert!(body["error"].as_str().unwrap().starts_with("[1].status"));
    // Not JSON, not an object, wrong content type.
    let (status, body) = api.post("{\"invocation_id\": ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("invalid JSON"));
    let (status, _) = api.post("42").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = api
        .post_as("application/x-www-form-urlencoded", &good.to_string())
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body["error"].as_str().unwrap().contains("Content-Type"));

    // The library API reports the index and field the same way.
    let mut bad = Invocation::new("lib", "codex", "gpt-5");
    bad.cost_usd = f64::NAN;
    let error = telemetry
        .ingest(vec![Invocation::new("lib-ok", "codex", "gpt-5"), bad])
        .await
        .unwrap_err();
    match error {
        IngestError::Invalid { index, error } => {
            assert_eq!(index, 1);
            assert_eq!(error.field, "cost_usd");
        }
        other => panic!("unexpected {other:?}"),
    }
    let too_many = (0..10_001)
        .map(|i| Invocation::new(&format!("n{i}"), "codex", "gpt-5"))
        .collect();
    assert!(matches!(
        telemetry.ingest(too_many).await,
        Err(IngestError::BatchTooLarge { len: 10_001, .. })
    ));

    assert_eq!(
        count(&telemetry, "SELECT COUNT(*) FROM invocations").await,
        0
    );
    assert_eq!(
        count(&telemetry, "SELECT COUNT(*) FROM daily_costs").await,
        0
    );
}

#[tokio::test]
async fn null_agent_rows_aggregate_into_one_daily_costs_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    original_db(&path).await;
    // The original writer leaves one daily_costs row per NULL-agent invocation.
    let mut conn = external(&path).await;
    python_style_insert(
        &mut conn,
        "py-1",
        Some("2026-11-20T09:00:00+00:00"),
        None,
        1.0,
        10,
    )
    .await;
    python_style_insert(
        &mut conn,
        "py-2",
        Some("2026-11-20T10:00:00+00:00"),
        None,
        1.0,
        10,
    )
    .await;
    conn.close().await.unwrap();
    let telemetry = Telemetry::open(&path).await.unwrap();
    assert_eq!(
        count(
            &telemetry,
            "SELECT COUNT(*) FROM daily_costs WHERE agent_name IS NULL"
        )
        .await,
        2
    );

    let row = |id: &str, ts: &str| {
        let mut row = invocation(id, ts, "claude-sonnet-4", 0.5, 7);
        row.tool_name = "claude-code".into();
        row
    };
    // On a day with duplicates: added to one of them, no new row.
    telemetry
        .ingest(vec![
            row("a", "2026-11-20T11:00:00Z"),
            row("b", "2026-11-20T12:00:00Z"),
        ])
        .await
        .unwrap();
    assert_eq!(
        count(
            &telemetry,
            "SELECT COUNT(*) FROM daily_costs WHERE agent_name IS NULL"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &telemetry,
            "SELECT SUM(invocations) FROM daily_costs WHERE date = '2026-11-20'"
        )
        .await,
        4
    );
    // On a fresh day, over several batches: exactly one row.
    for (id, ts) in [
        ("c", "2026-11-21T01:00:00Z"),
        ("d", "2026-11-21 02:00:00"),
        ("e", "2026-11-21T23:59:59+00:00"),
    ] {
        telemetry.ingest(vec![row(id, ts)]).await.unwrap();
    }
    telemetry
        .ingest(vec![
            row("f", "2026-11-21T05:00:00Z"),
            row("c", "2026-11-21T01:00:00Z"),
        ])
        .await
        .unwrap();
    let (rows, invocations, tokens, cost): (i64, i64, i64, f64) = sqlx::query_as(
        "SELECT COUNT(*), SUM(invocations), SUM(total_tokens), SUM(total_cost_usd) FROM daily_costs \
         WHERE date = '2026-11-21' AND agent_name IS NULL AND tool_name = 'claude-code' \
         AND model_name = 'claude-sonnet-4'",
    )
    .fetch_one(&telemetry.reader().await.unwrap())
    .await
    .unwrap();
    assert_eq!((rows, invocations, tokens), (1, 4, 28));
    assert!(close(cost, 2.0));

    let summary = telemetry
        .summary(CostRange::Days7, at("2026-11-21T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(summary.by_agent.len(), 1);
    assert_eq!(summary.by_agent[0].agent, None);
    assert_eq!(summary.by_agent[0].invocations, 8);
    assert!(close(summary.by_agent[0].cost_usd, 2.0 + 1.0 + 2.0));
}

#[tokio::test]
async fn aggregates_cover_models_tools_days_latency_and_active_operations() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::open(&db_path(&dir)).await.unwrap();
    let now = Utc::now();
    let mut rows = Vec::new();
    // 20 recent calls of model A with latencies 100..2000, 1 in 4 an error.
    for i in 0..20i64 {
        let mut row = invocation(
            &format!("a{i}"),
            &(now - Span::seconds(10 * i)).to_rfc3339(),
            "model-a",
            0.1,
            100,
        );
        row.latency_ms = 100 * (i + 1);
        row.tool_name = if i % 2 == 0 {
            "codex".into()
        } else {
            "aider".into()
        };
        row.agent_name = Some("benny".into());
        if i % 4 == 0 {
            row.status = "timeout".into();
        }
        rows.push(row);
    }
    // Model B: 3 days ago and 10 days ago, $2.50 each (more than A's $2.00 of the week).
    for (id, days) in [("b3", 3), ("b10", 10)] {
        let mut row = invocation(
            id,
            &(now - Span::days(days)).to_rfc3339(),
            "model-b",
            2.5,
            1000,
        );
        row.latency_ms = 5000;
        row.task_id = Some("task-b".into());
        rows.push(row);
    }
    telemetry.ingest(rows).await.unwrap();

    let day = telemetry.summary(CostRange::Day1, now).await.unwrap();
    assert_eq!(day.by_model.len(), 1);
    let a = &day.by_model[0];
    assert_eq!(
        (a.model.as_str(), a.invocations, a.tokens),
        ("model-a", 20, 2000)
    );
    assert!(close(a.cost_usd, 2.0));
    assert_eq!(a.latency_p50_ms, Some(1000));
    assert_eq!(a.latency_p95_ms, Some(1900));
    assert!(close(a.error_rate, 0.25));
    assert!(close(day.error_rate, 0.25));
    let tools: Vec<(&str, u64)> = day
        .by_tool
        .iter()
        .map(|t| (t.tool.as_str(), t.invocations))
        .collect();
    assert_eq!(tools.len(), 2);
    assert!(tools.contains(&("codex", 10)) && tools.contains(&("aider", 10)));
    // Last 5 minutes: newest first, at most 10.
    assert_eq!(day.active.len(), 10);
    let ids: Vec<&str> = day
        .active
        .iter()
        .map(|a| a.invocation_id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"]
    );
    assert_eq!(day.active[0].agent.as_deref(), Some("benny"));

    let week = telemetry.summary(CostRange::Days7, now).await.unwrap();
    assert_eq!(week.by_model[0].model, "model-b"); // most expensive first
    assert_eq!(week.by_model[0].invocations, 1);
    assert_eq!(week.by_model[0].latency_p50_ms, Some(5000));
    let b_days: Vec<&str> = week
        .daily
        .iter()
        .filter(|d| d.model == "model-b")
        .map(|d| d.date.as_str())
        .collect();
    let three_days_ago = (now - Span::days(3)).format("%Y-%m-%d").to_string();
    assert_eq!(b_days, vec![three_days_ago.as_str()]);
    let quarter = telemetry.summary(CostRange::Days90, now).await.unwrap();
    assert_eq!(quarter.by_model[0].invocations, 2);
    assert!(close(quarter.by_model[0].cost_usd, 5.0));
    assert_eq!(quarter.per_task.len(), 1);
    assert_eq!(quarter.per_task[0].invocations, 2);
    #[cfg(feature = "bench-support")]
    {
        let costs = telemetry
            .task_costs(&["task-b".into(), "none".into()])
            .await
            .unwrap();
        assert_eq!(costs.len(), 1);
        assert!(close(costs[0].cost_usd, 5.0));
    }
    assert!(close(quarter.totals.total, 7.0));

    // GET /api/costs: default and explicit ranges, 400 on an unknown one.
    let api = Api::start(&db_path(&dir)).await;
    let (status, json) = api.get("/api/costs?range=30d").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["range"], "30d");
    assert_eq!(json["totals"]["invocations"], 22);
    let (status, json) = api.get("/api/costs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["range"], "7d");
    let (status, json) = api.get("/api/costs?range=1y").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["field"], "range");
    assert!(json["error"].as_str().unwrap().contains("1y"));
}

#[tokio::test]
async fn importing_jsonl_reports_bad_lines_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::open(&db_path(&dir)).await.unwrap();
    let file = dir.path().join("events.jsonl");
    let lines = [
        // 1: an invocation with the original column names.
        r#"{"invocation_id":"imp-1","timestamp":"2026-11-20T08:00:00.123456+00:00","agent_name":"benny","tool_name":"claude-code","model_name":"claude-sonnet-4","prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cost_usd":0.3,"latency_ms":900,"status":"success","error_message":null,"privacy_level":"metadata"}"#,
        // 2: a cost_update event with usage in its summary.
        r#"{"event":"cost_update","ts":"2026-11-20T09:00:00+00:00","task_id":"t1","agent_role":"rita","tool":"codex","summary":{"cost_usd":1.25,"total_tokens":400,"model":"gpt-5"},"event_id":"e-1"}"#,
        // 3: a task event: skipped.
        r#"{"event":"task_started","ts":"2026-11-20T09:00:01+00:00","task_id":"t1","status":"in_progress","event_id":"e-2"}"#,
        // 4: an execution_complete without usage: skipped.
        r#"{"event":"execution_complete","ts":"2026-11-20T09:00:02+00:00","status":"success","event_id":"e-3"}"#,
        // 5: not JSON.
        r#"{"invocation_id": "broken"#,
        "",
        // 7: negative tokens.
        r#"{"invocation_id":"imp-bad","tool_name":"x","model_name":"y","status":"success","prompt_tokens":-3}"#,
        // 8: a failed execution with top-level usage.
        r#"{"event":"execution_complete","ts":"2026-11-20T10:00:00Z","tool":"aider","status":"failed","cost_usd":0.05,"prompt_tokens":30,"completion_tokens":12,"event_id":"e-4"}"#,
        // 9: an event with cost but no event_id.
        r#"{"event":"cost_update","cost_usd":0.5}"#,
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    let mut calls = Vec::new();
    let report = import_jsonl(&telemetry, &file, |done, total| calls.push((done, total)))
        .await
        .unwrap();
    assert_eq!(report.lines, 8);
    assert_eq!(report.inserted, 3);
    assert_eq!(report.duplicates, 0);
    assert_eq!(report.skipped, 2);
    assert_eq!(report.bad_lines, 3);
    let bad: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(bad, vec![5, 7, 9]);
    assert!(report.errors[0].message.contains("invalid JSON"));
    assert!(report.errors[1].message.starts_with("prompt_tokens"));
    assert!(report.errors[2].message.starts_with("event_id"));
    assert_eq!(calls.first(), Some(&(0, size)));
    assert_eq!(calls.last(), Some(&(size, size)));

    let event: (String, String, Option<String>, String, String, i64, f64, Option<String>) = sqlx::query_as(
        "SELECT timestamp, tool_name, agent_name, model_name, status, total_tokens, cost_usd, task_id \
         FROM invocations WHERE invocation_id = 'event:e-1'",
    )
    .fetch_one(&telemetry.reader().await.unwrap())
    .await
    .unwrap();
    assert_eq!(
        event,
        (
            "2026-11-20T09:00:00.000000+00:00".into(),
            "codex".into(),
            Some("rita".into()),
            "gpt-5".into(),
            "success".into(),
            400,
            1.25,
            Some("t1".into())
        )
    );
    let failed: (String, i64, String) = sqlx::query_as(
        "SELECT status, total_tokens, model_name FROM invocations WHERE invocation_id = 'event:e-4'",
    )
    .fetch_one(&telemetry.reader().await.unwrap())
    .await
    .unwrap();
    assert_eq!(failed, ("error".into(), 42, "unknown".into()));

    // Running it again resumes: everything is already in.
    let again = import_jsonl(&telemetry, &file, |_, _| {}).await.unwrap();
    assert_eq!(
        (again.inserted, again.duplicates, again.bad_lines),
        (0, 3, 3)
    );
    assert_eq!(
        count(&telemetry, "SELECT COUNT(*) FROM invocations").await,
        3
    );
    let summary = telemetry
        .summary(CostRange::Days7, at("2026-11-20T12:00:00Z"))
        .await
        .unwrap();
    assert!(close(summary.totals.today, 0.3 + 1.25 + 0.05));
}

#[cfg(feature = "bench-support")]
#[tokio::test]
async fn synthetic_seed_matches_the_raw_rows() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::open(&db_path(&dir)).await.unwrap();
    assert_eq!(seed_synthetic(&telemetry, 5_000).await.unwrap(), 5_000);
    assert_eq!(seed_synthetic(&telemetry, 1_000).await.unwrap(), 1_000);
    let now = Utc::now();
    let summary = telemetry.summary(CostRange::Days90, now).await.unwrap();
    assert_eq!(summary.totals.invocations, 6_000);
    let (raw_total, raw_90d): (f64, f64) = sqlx::query_as(
        "SELECT SUM(cost_usd), SUM(CASE WHEN date(timestamp) >= date(?) THEN cost_usd ELSE 0 END) \
         FROM invocations",
    )
    .bind((now - Span::days(89)).format("%Y-%m-%d").to_string())
    .fetch_one(&telemetry.reader().await.unwrap())
    .await
    .unwrap();
    assert!((summary.totals.total - raw_total).abs() < 1e-6);
    let range_cost: f64 = summary.by_model.iter().map(|m| m.cost_usd).sum();
    assert!((range_cost - raw_90d).abs() < 1e-6);
    assert_eq!(summary.by_model.len(), 5);
    assert_eq!(summary.by_tool.len(), 4);
    assert_eq!(summary.by_agent.len(), 6);
    assert!(summary.per_task.len() >= 400);
    assert!(summary.error_rate > 0.02 && summary.error_rate < 0.05);
    // Timestamps are in the original writer's format.
    let ts: String = sqlx::query_scalar("SELECT timestamp FROM invocations LIMIT 1")
        .fetch_one(&telemetry.reader().await.unwrap())
        .await
        .unwrap();
    assert!(
        ts.ends_with("+00:00") && ts.len() == "2026-11-23T20:48:38.498411+00:00".len(),
        "{ts}"
    );
}

/// The hourly rollup (schema 1.3.0) stays equal to the raw rows through inserts, updates and
/// deletes made by another connection (timestamps in the original's formats and one that does
/// not parse), and the rolling 24 h read through it equals the same window counted row by row.
#[tokio::test]
async fn the_hourly_rollup_follows_every_write_and_gives_the_rolling_24_hours() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let telemetry = Telemetry::open(&path).await.unwrap();
    seed_synthetic(&telemetry, 5_000).await.unwrap();
    let mut other = external(&path).await;
    let now = Utc::now();
    for (i, ts) in [
        (now - Span::minutes(30))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        (now - Span::hours(23) - Span::minutes(59)).to_rfc3339(),
        (now - Span::hours(25))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        "not a time".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        sqlx::query(
            "INSERT INTO invocations (invocation_id, timestamp, agent_name, tool_name, model_name, \
             total_tokens, cost_usd, latency_ms, status) \
             VALUES (?, ?, 'python', 'cli', 'gpt-4o', 10, 0.5, 100, 'success')",
        )
        .bind(format!("outside-{i}"))
        .bind(ts)
        .execute(&mut other)
        .await
        .unwrap();
    }
    // Moved by hours, re-priced, failed, deleted: the old hour loses them, the new one gains them.
    sqlx::query(
        "UPDATE invocations SET timestamp = strftime('%Y-%m-%dT%H:%M:%S+00:00', timestamp, '-3 hours'), \
         cost_usd = cost_usd * 2 WHERE id % 7 = 0",
    )
    .execute(&mut other)
    .await
    .unwrap();
    sqlx::query("UPDATE invocations SET status = 'error' WHERE id % 11 = 0")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("DELETE FROM invocations WHERE id % 13 = 0")
        .execute(&mut other)
        .await
        .unwrap();

    let hourly = "SELECT hour, model_name, agent_name, tool_name, invocations, errors, \
                  total_tokens, cost_usd FROM cost_rollup_hourly ORDER BY 1, 2, 3, 4";
    let raw = "SELECT strftime('%Y-%m-%d %H:00:00', timestamp) AS h, model_name, \
               COALESCE(agent_name, ''), tool_name, COUNT(*), SUM(status IS NOT 'success'), \
               SUM(COALESCE(total_tokens, 0)), SUM(COALESCE(cost_usd, 0.0)) \
               FROM invocations WHERE h IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
    type Row = (String, String, String, String, i64, i64, i64, f64);
    let kept: Vec<Row> = sqlx::query_as(hourly).fetch_all(&mut other).await.unwrap();
    let counted: Vec<Row> = sqlx::query_as(raw).fetch_all(&mut other).await.unwrap();
    assert!(kept.len() > 1_000, "{} hours", kept.len());
    let without_cost = |rows: &[Row]| -> Vec<(String, String, String, String, i64, i64, i64)> {
        rows.iter()
            .map(|r| {
                (
                    r.0.clone(),
                    r.1.clone(),
                    r.2.clone(),
                    r.3.clone(),
                    r.4,
                    r.5,
                    r.6,
                )
            })
            .collect()
    };
    assert_eq!(without_cost(&kept), without_cost(&counted));
    for (k, c) in kept.iter().zip(&counted) {
        assert!(close(k.7, c.7), "{k:?} vs {c:?}");
    }

    let day = telemetry.summary(CostRange::Day1, now).await.unwrap();
    let (calls, cost): (i64, f64) = sqlx::query_as(
        "SELECT COUNT(*), SUM(COALESCE(cost_usd, 0.0)) FROM invocations \
         WHERE julianday(timestamp) >= julianday(?)",
    )
    .bind((now - Span::hours(24)).to_rfc3339())
    .fetch_one(&mut other)
    .await
    .unwrap();
    let models_calls: u64 = day.by_model.iter().map(|m| m.invocations).sum();
    let models_cost: f64 = day.by_model.iter().map(|m| m.cost_usd).sum();
    assert_eq!(models_calls, calls as u64);
    assert!(close(models_cost, cost), "{models_cost} vs {cost}");
    assert!(calls > 10, "the window holds rows: {calls}");
}

/// The rollups as the raw rows say they must be: (key, calls, errors, tokens, cost in micro-USD).
async fn rollups_and_rows(telemetry: &Telemetry) -> [(String, String); 3] {
    let reader = telemetry.reader().await.unwrap();
    let read = |sql: &'static str| {
        let reader = reader.clone();
        async move {
            let rows: Vec<(String, i64, i64, i64, i64)> =
                sqlx::query_as(sql).fetch_all(&reader).await.unwrap();
            format!("{rows:?}")
        }
    };
    [
        (
            read(
                "SELECT day || '|' || model_name || '|' || agent_name || '|' || tool_name, \
                  invocations, errors, total_tokens, CAST(ROUND(cost_usd * 1e6) AS INTEGER) \
                  FROM cost_rollup ORDER BY 1",
            )
            .await,
            read(
                "SELECT COALESCE(date(timestamp), '') || '|' || model_name || '|' || \
                  COALESCE(agent_name, '') || '|' || tool_name, COUNT(*), \
                  SUM(status IS NOT 'success'), SUM(COALESCE(total_tokens, 0)), \
                  CAST(ROUND(SUM(COALESCE(cost_usd, 0.0)) * 1e6) AS INTEGER) \
                  FROM invocations GROUP BY 1 ORDER BY 1",
            )
            .await,
        ),
        (
            read(
                "SELECT hour || '|' || model_name || '|' || agent_name || '|' || tool_name, \
                  invocations, errors, total_tokens, CAST(ROUND(cost_usd * 1e6) AS INTEGER) \
                  FROM cost_rollup_hourly ORDER BY 1",
            )
            .await,
            read(
                "SELECT strftime('%Y-%m-%d %H:00:00', timestamp) || '|' || model_name || '|' || \
                  COALESCE(agent_name, '') || '|' || tool_name, COUNT(*), \
                  SUM(status IS NOT 'success'), SUM(COALESCE(total_tokens, 0)), \
                  CAST(ROUND(SUM(COALESCE(cost_usd, 0.0)) * 1e6) AS INTEGER) \
                  FROM invocations WHERE strftime('%Y-%m-%d %H:00:00', timestamp) IS NOT NULL \
                  GROUP BY 1 ORDER BY 1",
            )
            .await,
        ),
        (
            read(
                "SELECT task_id, invocations, 0, total_tokens, \
                  CAST(ROUND(cost_usd * 1e6) AS INTEGER) FROM task_costs ORDER BY 1",
            )
            .await,
            read(
                "SELECT task_id, COUNT(*), 0, SUM(COALESCE(total_tokens, 0)), \
                  CAST(ROUND(SUM(COALESCE(cost_usd, 0.0)) * 1e6) AS INTEGER) \
                  FROM invocations WHERE task_id IS NOT NULL GROUP BY 1 ORDER BY 1",
            )
            .await,
        ),
    ]
}

/// A batch's rollups are added once per batch (the insert triggers stand aside while it is
/// stored): they must come out exactly as the triggers would have made them, for batches over
/// several days, hours, agents, tasks and statuses, with another process writing in between
/// through the triggers, and a re-sent batch (duplicates) adding nothing.
#[tokio::test]
async fn batched_rollups_equal_the_rows_whoever_wrote_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let telemetry = Telemetry::open(&path).await.unwrap();
    let now = Utc::now();
    let batch = |first: usize| -> Vec<Invocation> {
        (first..first + 300)
            .map(|i| {
                let at = now - Span::minutes(37 * i as i64);
                let mut row = invocation(
                    &format!("r{i}"),
                    &at.to_rfc3339(),
                    ["model-a", "model-b", "model-c"][i % 3],
                    0.001 * (i % 17) as f64,
                    (i % 50) as i64,
                );
                row.agent_name = (i % 4 != 0).then(|| format!("agent-{}", i % 3));
                row.task_id = (i % 5 != 0).then(|| format!("T-{}", i % 7));
                if i % 9 == 0 {
                    row.status = "error".into();
                }
                row
            })
            .collect()
    };
    let report = telemetry.ingest(batch(0)).await.unwrap();
    assert_eq!(report.inserted, 300);
    // The original logger's way, in between: the triggers count these rows one by one.
    let mut conn = external(&path).await;
    python_style_insert(
        &mut conn,
        "outside-1",
        Some("2026-11-20 10:00:00"),
        Some("x"),
        1.25,
        40,
    )
    .await;
    conn.close().await.unwrap();
    let report = telemetry.ingest(batch(300)).await.unwrap();
    assert_eq!(report.inserted, 300);
    // Sent again: nothing new, nothing added.
    let report = telemetry.ingest(batch(300)).await.unwrap();
    assert_eq!((report.inserted, report.duplicates), (0, 300));
    for (rollup, rows) in rollups_and_rows(&telemetry).await {
        assert_eq!(rollup, rows);
    }
    assert_eq!(
        count(&telemetry, "SELECT COUNT(*) FROM rollup_batch").await,
        0
    );
}

/// Batches sent at once while another process holds the write lock pile up for the writer, which
/// stores them together (group commit): each must be answered only once its rows are committed
/// (a reader on another connection sees all of them the moment the answer comes), with its own
/// report, as if stored alone in turn (an id in two batches is inserted once, then a duplicate;
/// with other content, a conflict), and the rollups must equal the rows.
#[tokio::test]
async fn batches_sent_at_once_are_each_answered_after_their_rows_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let telemetry = Telemetry::open(&path).await.unwrap();
    let now = Utc::now();
    let batch = |b: usize| -> Vec<Invocation> {
        let mut rows: Vec<Invocation> = (0..200)
            .map(|i| {
                let mut row = invocation(
                    &format!("b{b}-{i}"),
                    &(now - Span::minutes(i as i64)).to_rfc3339(),
                    "model-a",
                    0.001,
                    10,
                );
                row.task_id = Some(format!("T-{}", i % 3));
                row.session_id = Some(format!("s-{b}"));
                row
            })
            .collect();
        // The same call as every other batch (a duplicate but for the first stored), and one
        // whose content differs from batch to batch (a conflict but for the first).
        rows.push(invocation(
            "shared",
            "2026-12-01T10:00:00Z",
            "model-a",
            0.5,
            7,
        ));
        rows.push(invocation(
            "disputed",
            "2026-12-01T10:00:00Z",
            "model-a",
            b as f64,
            7,
        ));
        rows
    };
    const BATCHES: usize = 8;
    let mut lock = external(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();
    let mut sent = tokio::task::JoinSet::new();
    for b in 0..BATCHES {
        let (telemetry, rows, path) = (telemetry.clone(), batch(b), path.clone());
        sent.spawn(async move {
            let report = telemetry.ingest(rows).await.unwrap();
            // Answered: a reader elsewhere sees every row of the batch.
            let mut reader = external(&path).await;
            let visible: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM invocations WHERE session_id = ?")
                    .bind(format!("s-{b}"))
                    .fetch_one(&mut reader)
                    .await
                    .unwrap();
            assert_eq!(
                visible, 200,
                "batch {b} answered before its rows were committed"
            );
            report
        });
    }
    // All wait for the writer, which waits for the lock: none is answered yet.
    common::eventually("every batch queued", Duration::from_secs(4), || async {
        telemetry.queued_rows() == BATCHES * 202
    })
    .await;
    assert!(sent.try_join_next().is_none());
    sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
    let reports = sent.join_all().await;
    let inserted: u64 = reports.iter().map(|r| r.inserted).sum();
    let duplicates: u64 = reports.iter().map(|r| r.duplicates).sum();
    let conflicts: usize = reports.iter().map(|r| r.conflicts.len()).sum();
    assert_eq!(inserted, BATCHES as u64 * 200 + 2);
    assert_eq!(duplicates, BATCHES as u64 - 1);
    assert_eq!(conflicts, BATCHES - 1);
    for report in &reports {
        assert_eq!(
            report.inserted + report.duplicates + report.conflicts.len() as u64,
            202
        );
        assert!(report.conflicts.iter().all(|id| id == "disputed"));
    }
    assert_eq!(
        count(&telemetry, "SELECT COUNT(*) FROM invocations").await,
        BATCHES as i64 * 200 + 2
    );
    assert_eq!(
        count(&telemetry, "SELECT SUM(invocations) FROM daily_costs").await,
        BATCHES as i64 * 200 + 2
    );
    for (rollup, rows) in rollups_and_rows(&telemetry).await {
        assert_eq!(rollup, rows);
    }
}

/// The writer's queue is bounded: while it cannot write (another process holds the lock), the
/// batches that wait fill it, and a batch offered without waiting is refused at once as busy,
/// storing nothing; once the lock goes, every batch that waited is stored.
#[tokio::test]
async fn a_full_queue_refuses_a_batch_at_once_and_stores_every_one_that_waited() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let telemetry = Telemetry::open(&path).await.unwrap();
    let mut lock = external(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();
    // Four of the largest batches fill the queue (execdash's MAX_QUEUED_ROWS).
    const FULL: usize = 4;
    const LARGEST: usize = 10_000;
    let mut waiting = tokio::task::JoinSet::new();
    for b in 0..FULL {
        let telemetry = telemetry.clone();
        let rows: Vec<Invocation> = (0..LARGEST)
            .map(|i| invocation(&format!("q{b}-{i}"), "2026-12-01T10:00:00Z", "m", 0.0, 1))
            .collect();
        waiting.spawn(async move { telemetry.ingest(rows).await.unwrap().inserted });
    }
    common::eventually("the queue full", Duration::from_secs(4), || async {
        telemetry.queued_rows() == FULL * LARGEST
    })
    .await;
    let one = || vec![invocation("late", "2026-12-01T10:00:00Z", "m", 0.0, 1)];
    let refused = match telemetry.try_ingest(one()).await {
        Err(error @ IngestError::Busy { .. }) => error.to_string(),
        other => panic!("not refused as busy: {other:?}"),
    };
    assert!(refused.contains("queued"), "{refused}");
    sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
    let stored: u64 = waiting.join_all().await.into_iter().sum();
    assert_eq!(stored, (FULL * LARGEST) as u64);
    assert_eq!(
        count(
            &telemetry,
            "SELECT COUNT(*) FROM invocations WHERE invocation_id = 'late'"
        )
        .await,
        0
    );
    // Room again.
    assert_eq!(telemetry.try_ingest(one()).await.unwrap().inserted, 1);
}
