//! Telemetry benchmarks on a real SQLite file (`cargo bench --bench telemetry`):
//! - ingestion throughput: batches of 1 000 invocations through `Telemetry::ingest` (one
//!   transaction each, with validation, idempotency and `daily_costs`), and through
//!   `POST /api/invocations` on a real server;
//! - every dashboard aggregate over 1 000 000 invocations: the whole cost summary (all
//!   aggregates in one read transaction) per range, and the cost-per-task lookup.
//!
//! - OTLP ingestion (`cargo bench --bench telemetry -- otlp`): Claude Code `api_request` log
//!   records, protobuf, batches of 512, to `/v1/logs` of the real binary on SQLite and on
//!   PostgreSQL, with the cost on the task's card read right after each answer.
//!
//! - Claude Code transcripts (`cargo bench --bench telemetry -- transcripts`): 1 GiB of realistic
//!   session files backfilled by `execdash import --agent-logs` (time, peak RSS), and a live line's
//!   way onto the board of a running server.
//!
//! `EXECDASH_BENCH_DB=/path/x.db` keeps the seeded million-row file between runs.

#[path = "../tests/common/postgres.rs"]
mod postgres;
#[path = "../tests/common/process.rs"]
mod process;
mod support;

use support::percentiles;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use app::model::CostRange;
use chrono::Utc;
use execdash::{seed_synthetic, Invocation, Telemetry};

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    runtime.block_on(async {
        if only.as_deref().is_none_or(|o| o == "ingest") {
            ingestion().await;
        }
        if only.as_deref().is_none_or(|o| o == "sqlite-aggregates") {
            aggregates().await;
        }
        if only.as_deref() == Some("transcripts") {
            transcripts().await;
        }
        if only.as_deref().is_none_or(|o| o == "otlp") {
            otlp_ingestion(None).await;
            let (cluster, _) = cluster(true);
            otlp_ingestion(Some(cluster.database("bench_otlp"))).await;
        }
        if only.as_deref().is_none_or(|o| o == "postgres") {
            for durable in [false, true] {
                postgres_ingestion(durable).await;
                postgres_http_ingestion(durable).await;
            }
        }
        // Long (the seed takes minutes): only when asked for.
        if only.as_deref() == Some("postgres-10m") {
            postgres_aggregates(10_000_000).await;
        }
    });
}

fn batch(start: usize, size: usize) -> Vec<Invocation> {
    (start..start + size)
        .map(|i| {
            let mut invocation = Invocation::new(
                &format!("bench-{i:08}"),
                "claude-code",
                ["claude-sonnet-4", "gpt-5"][i % 2],
            );
            invocation.agent_name = Some(format!("agent-{}", i % 6));
            invocation.task_id = Some(format!("task-{}", i % 300));
            invocation.total_tokens = 1500;
            invocation.cost_usd = 0.0123;
            invocation.latency_ms = 900;
            invocation.status = "success".into();
            invocation
        })
        .collect()
}

/// A throwaway PostgreSQL cluster on loopback: with PostgreSQL's default durability (`fsync`,
/// full-page writes, synchronous commits), or without flushes as the tests run it.
fn cluster(durable: bool) -> (postgres::Postgres, &'static str) {
    if durable {
        (postgres::Postgres::start_durable(), "fsync on")
    } else {
        (postgres::Postgres::start(), "fsync off")
    }
}

/// `Telemetry::ingest` into a throwaway PostgreSQL cluster: batches of 5 000 (one multi-row
/// insert each), 200 000 invocations.
async fn postgres_ingestion(durable: bool) {
    let (cluster, flushes) = cluster(durable);
    let url = cluster.database("bench");
    let telemetry = Telemetry::open(execdash::Location::parse(&url))
        .await
        .unwrap();
    let mut samples = Vec::new();
    let started = Instant::now();
    for b in 0..40 {
        let rows = batch(b * 5000, 5000);
        let t = Instant::now();
        let report = telemetry.ingest(rows).await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(report.inserted, 5000);
    }
    let elapsed = started.elapsed();
    percentiles(
        &format!("PostgreSQL ({flushes}): ingest a batch of 5 000"),
        &mut samples,
    );
    println!(
        "PostgreSQL ({flushes}): 200 000 invocations in {:.2} s = {:.0} invocations/s",
        elapsed.as_secs_f64(),
        200_000.0 / elapsed.as_secs_f64()
    );
    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        telemetry
            .summary(CostRange::Days30, Utc::now())
            .await
            .unwrap();
        samples.push(t.elapsed());
    }
    percentiles(
        &format!("PostgreSQL ({flushes}): summary (30 d) over 200 000, right after"),
        &mut samples,
    );
}

/// `POST /api/invocations` to the real `execdash` binary on a PostgreSQL `--db`, as agents'
/// loggers post: 4 clients at once, batches of 2 000 (about 600 KB of JSON each), 200 000
/// invocations; each answer comes after the rows are committed.
async fn postgres_http_ingestion(durable: bool) {
    let (cluster, flushes) = cluster(durable);
    let url = cluster.database("bench");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("work/collaboration/inbox")).unwrap();
    let server = process::Process::start(
        root.path(),
        &[
            "--db".as_ref(),
            url.as_ref(),
            "--repo-name".as_ref(),
            "bench".as_ref(),
        ],
    );
    let endpoint = server.url("/api/invocations");
    let client = reqwest::Client::new();
    const CLIENTS: usize = 4;
    const BATCHES: usize = 25;
    const SIZE: usize = 2_000;
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (client, endpoint) = (client.clone(), endpoint.clone());
        clients.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for b in 0..BATCHES {
                let rows = batch((c * BATCHES + b) * SIZE, SIZE);
                let body = serde_json::to_vec(&rows).unwrap();
                let t = Instant::now();
                let response = client
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for client in clients {
        samples.extend(client.await.unwrap());
    }
    let elapsed = started.elapsed();
    let total = CLIENTS * BATCHES * SIZE;
    percentiles(
        &format!("PostgreSQL ({flushes}) via HTTP: POST of 2 000"),
        &mut samples,
    );
    println!(
        "PostgreSQL ({flushes}) via HTTP, {CLIENTS} clients: {total} invocations in {:.2} s = {:.0} invocations/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    let stats: serde_json::Value = reqwest::get(server.url("/api/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["invocations"].as_u64(),
        Some(total as u64),
        "every acknowledged invocation is counted: {stats}"
    );
    drop(server);
}

/// Every dashboard aggregate on PostgreSQL over `rows` invocations (seeded inside the server,
/// a million per statement, over the last 92 days), 10 runs each.
async fn postgres_aggregates(rows: i64) {
    let cluster = postgres::Postgres::start();
    let url = cluster.database("bench");
    let telemetry = Telemetry::open(execdash::Location::parse(&url))
        .await
        .unwrap();
    let pool = sqlx::postgres::PgPool::connect(&url).await.unwrap();
    let seeding = Instant::now();
    let step = 1_000_000_i64;
    let seconds = 92.0 * 86_400.0 / rows as f64;
    for start in (0..rows).step_by(step as usize) {
        sqlx::query(
            "INSERT INTO invocations (invocation_id, timestamp, at, agent_name, tool_name, \
             model_name, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, \
             status, task_id) \
             SELECT 'seed-' || g, to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00'), t, \
               'agent-' || (g % 6), 'claude-code', (ARRAY['claude-sonnet-4', 'gpt-5', 'o3'])[g % 3 + 1], \
               500, 1000, 1500, 0.0123, 900 + g % 500, \
               CASE WHEN g % 50 = 0 THEN 'error' ELSE 'success' END, 'task-' || (g % 3000) \
             FROM generate_series($1::int8, $2::int8) AS g, \
               LATERAL (SELECT now() - make_interval(secs => g * $3)) AS x(t)",
        )
        .bind(start + 1)
        .bind((start + step).min(rows))
        .bind(seconds)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    println!(
        "PostgreSQL: {rows} invocations seeded in {:.0} s",
        seeding.elapsed().as_secs_f64()
    );
    for range in [
        CostRange::Day1,
        CostRange::Days7,
        CostRange::Days30,
        CostRange::Days90,
    ] {
        let mut samples = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            telemetry.summary(range, Utc::now()).await.unwrap();
            samples.push(t.elapsed());
        }
        percentiles(
            &format!("PostgreSQL: cost summary {range:?} over {rows} invocations"),
            &mut samples,
        );
    }
    let mut samples = Vec::new();
    for i in 0..10 {
        let t = Instant::now();
        telemetry
            .task_activity(&format!("task-{i}"), 20)
            .await
            .unwrap();
        telemetry.agent_usage(Utc::now()).await.unwrap();
        samples.push(t.elapsed());
    }
    percentiles(
        &format!("PostgreSQL: task detail + agents over {rows} invocations"),
        &mut samples,
    );
}

async fn ingestion() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::open(&dir.path().join("telemetry.db"))
        .await
        .unwrap();
    let mut samples = Vec::new();
    let started = Instant::now();
    for b in 0..100 {
        let rows = batch(b * 1000, 1000);
        let t = Instant::now();
        telemetry.ingest(rows).await.unwrap();
        samples.push(t.elapsed());
    }
    let rate = 100_000.0 / started.elapsed().as_secs_f64();
    percentiles("ingest(): batch of 1 000 invocations", &mut samples);
    println!(
        "{:<48} {rate:.0} invocations/s",
        "ingest() throughput (100 × 1 000)"
    );

    // The same through HTTP, on a real server.
    let root = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_execdash"))
        .args(["serve", "--root"])
        .arg(root.path())
        .args(["--addr", &addr.to_string(), "--site-root", "/nonexistent"])
        .env("EXECDASH_LOG", "warn")
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(addr).is_err() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let client = reqwest::Client::new();
    let mut samples = Vec::new();
    let started = Instant::now();
    for b in 0..50 {
        let body = serde_json::to_vec(&batch(b * 1000, 1000)).unwrap();
        let t = Instant::now();
        let response = client
            .post(format!("http://{addr}/api/invocations"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        samples.push(t.elapsed());
    }
    let rate = 50_000.0 / started.elapsed().as_secs_f64();
    percentiles("POST /api/invocations: batch of 1 000", &mut samples);
    println!(
        "{:<48} {rate:.0} invocations/s",
        "HTTP ingestion throughput (50 × 1 000)"
    );
    let _ = child.kill();
    let _ = child.wait();
}

async fn aggregates() {
    // `EXECDASH_BENCH_ROWS`: more rows than the default million (the team issue's 10 000 000).
    let rows: usize = std::env::var("EXECDASH_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var_os("EXECDASH_BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("million.db"));
    let telemetry = Telemetry::open(&path).await.unwrap();
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invocations")
        .fetch_one(&telemetry.reader().await.unwrap())
        .await
        .unwrap();
    if existing < rows as i64 {
        let started = Instant::now();
        seed_synthetic(&telemetry, rows - existing as usize)
            .await
            .unwrap();
        println!(
            "{:<48} {:.1} s",
            format!("seeded {rows} invocations"),
            started.elapsed().as_secs_f64()
        );
    }
    for range in CostRange::ALL {
        let mut samples = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let summary = telemetry.summary(range, Utc::now()).await.unwrap();
            samples.push(t.elapsed());
            assert_eq!(summary.totals.invocations, rows as u64);
        }
        percentiles(
            &format!("summary({range}) over {rows}: every aggregate"),
            &mut samples,
        );
    }
    let ids: Vec<String> = (0..50).map(|i| format!("task-{i}")).collect();
    let mut samples = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        telemetry.task_costs(&ids).await.unwrap();
        samples.push(t.elapsed());
    }
    percentiles(&format!("task_costs(50 ids) over {rows}"), &mut samples);
}

/// The task of call `n` of session `session` (see `claude_api_request`).
fn task_of(session: usize, n: usize) -> usize {
    static PER_CALL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let per_call = *PER_CALL
        .get_or_init(|| std::env::var("EXECDASH_BENCH_TASK_PER_CALL").is_ok_and(|v| v == "1"));
    if per_call {
        n % 300
    } else {
        session % 300
    }
}

/// One Claude Code 2.1 `api_request` record as its exporter sends it (the attributes it sends,
/// with the resource's repeated), for the call `n` of session `session`. The task and the agent
/// come from `OTEL_RESOURCE_ATTRIBUTES`, set once for the agent's process: the same for every
/// call of a session (until 2026-12-06 the bench gave each call of a session one of 300 tasks,
/// which no agent does; `EXECDASH_BENCH_TASK_PER_CALL=1` gives that mix again, to compare).
fn claude_api_request(session: usize, n: usize) -> opentelemetry_proto::tonic::logs::v1::LogRecord {
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
    let kv = |key: &str, value: Value| KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    };
    let text = |s: &str| Value::StringValue(s.into());
    let now = Utc::now().timestamp_nanos_opt().unwrap() as u64;
    opentelemetry_proto::tonic::logs::v1::LogRecord {
        time_unix_nano: now,
        observed_time_unix_nano: now,
        body: Some(AnyValue {
            value: Some(text("claude_code.api_request")),
        }),
        attributes: vec![
            kv("task.id", text(&format!("task-{}", task_of(session, n)))),
            kv("agent", text(&format!("agent-{}", session % 6))),
            kv(
                "user.id",
                text("628330e6089ecfd21e769f3eb71c6f9044da93cfec7d401cd942fed58ed44a31"),
            ),
            kv(
                "session.id",
                text(&format!("5f1c2a9e-0b7d-4c35-9a61-{session:012}")),
            ),
            kv("anthropic.provider", text("firstParty")),
            kv("terminal.type", text("xterm")),
            kv("event.name", text("api_request")),
            kv("event.timestamp", text("2026-12-05T15:34:08.815Z")),
            kv("event.sequence", Value::IntValue(n as i64)),
            kv(
                "prompt.id",
                text(&format!("6ca0a807-22e0-4f78-b069-{:012}", n / 4)),
            ),
            kv("model", text("claude-sonnet-4-5")),
            kv("input_tokens", Value::IntValue(1234)),
            kv("output_tokens", Value::IntValue(56)),
            kv("cache_read_tokens", Value::IntValue(700)),
            kv("cache_creation_tokens", Value::IntValue(300)),
            kv("cache_creation_5m_tokens", Value::IntValue(0)),
            kv("cache_creation_1h_tokens", Value::IntValue(0)),
            kv("cost_usd", Value::DoubleValue(0.005877)),
            kv("cost_usd_micros", Value::IntValue(5877)),
            kv("duration_ms", Value::IntValue(1834)),
            kv("ttft_ms", Value::IntValue(611)),
            kv("speed", text("normal")),
            kv("query_source", text("sdk")),
        ],
        ..Default::default()
    }
}

/// `POST /v1/logs` (protobuf, batches of 512 Claude Code `api_request` records) to the real
/// binary, on SQLite (`postgres: None`) or PostgreSQL; after each answer the cost of a task of
/// that batch is read from the board's detail (what a card shows comes from the same figures).
async fn otlp_ingestion(postgres: Option<String>) {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use prost::Message;
    const BATCH: usize = 512;
    const BATCHES: usize = 200;
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("work/collaboration/inbox")).unwrap();
    let backend = if postgres.is_some() {
        "PostgreSQL (fsync on)"
    } else {
        "SQLite"
    };
    let mut flags: Vec<&std::ffi::OsStr> = Vec::new();
    if let Some(url) = &postgres {
        let database: [&std::ffi::OsStr; 4] = [
            "--db".as_ref(),
            url.as_ref(),
            "--repo-name".as_ref(),
            "bench".as_ref(),
        ];
        flags.extend(database);
    }
    let server = process::Process::start(root.path(), &flags);
    let endpoint = server.url("/v1/logs");
    let bodies: Vec<Vec<u8>> = (0..BATCHES)
        .map(|b| {
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: (0..BATCH).map(|n| claude_api_request(b, n)).collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
            .encode_to_vec()
        })
        .collect();
    let client = reqwest::Client::new();
    let mut posts = Vec::new();
    let mut visible = Vec::new();
    let started = Instant::now();
    for body in bodies {
        let t = Instant::now();
        let response = client
            .post(&endpoint)
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        posts.push(t.elapsed());
        let detail = client
            .get(server.url("/api/costs?range=24h"))
            .send()
            .await
            .unwrap();
        assert_eq!(detail.status(), 200);
        visible.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    let total = BATCH * BATCHES;
    // Several agents exporting at once (no read-back): the server's own rate. 4 unless
    // `EXECDASH_BENCH_EXPORTERS` says how many (a divisor of 200).
    let agents: usize = std::env::var("EXECDASH_BENCH_EXPORTERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0 && BATCHES.is_multiple_of(*n))
        .unwrap_or(4);
    let bodies: Vec<Vec<u8>> = (BATCHES..2 * BATCHES)
        .map(|b| {
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: (0..BATCH).map(|n| claude_api_request(b, n)).collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
            .encode_to_vec()
        })
        .collect();
    let concurrent = Instant::now();
    let mut exporters = tokio::task::JoinSet::new();
    for share in bodies.chunks(BATCHES / agents) {
        let (client, endpoint, share) = (client.clone(), endpoint.clone(), share.to_vec());
        exporters.spawn(async move {
            for body in share {
                let response = client
                    .post(&endpoint)
                    .header("content-type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
        });
    }
    exporters.join_all().await;
    let concurrent = concurrent.elapsed();
    println!(
        "OTLP {backend}: {total} api_request records from {agents} exporters at once in {:.2} s = {:.0} records/s",
        concurrent.as_secs_f64(),
        total as f64 / concurrent.as_secs_f64()
    );
    percentiles(
        &format!("OTLP {backend}: POST /v1/logs of 512 (protobuf)"),
        &mut posts,
    );
    percentiles(
        &format!("OTLP {backend}: export sent → its cost read back"),
        &mut visible,
    );
    println!(
        "OTLP {backend}: {total} api_request records in {:.2} s = {:.0} records/s (one client, with the read-back)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    let stats = server.json("/api/stats").await;
    assert_eq!(
        stats["invocations"].as_u64(),
        Some(2 * total as u64),
        "{stats}"
    );
    drop(server);
}

/// One turn of a Claude Code session as its transcript holds it (~11 KB): the prompt, two
/// streamed copies of the assistant's message (the second with its final usage), the tool's
/// result (a file's text).
fn transcript_turn(session: usize, turn: usize, cwd: &str, filler: &str) -> String {
    let request = format!("req_{session:05}_{turn:06}");
    let common = format!(
        r#""cwd":"{cwd}","sessionId":"sess-{session:05}","version":"2.1.332","gitBranch":"main","timestamp":"2026-12-05T10:{:02}:{:02}.000Z""#,
        (turn / 60) % 60,
        turn % 60
    );
    let prompt = &filler[..900];
    let result = &filler[..8000];
    let assistant = |output: u32, text: &str| {
        format!(
            r#"{{"parentUuid":"u-{turn}","isSidechain":false,"message":{{"id":"msg_{request}","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"{text}"}}],"usage":{{"input_tokens":1234,"cache_creation_input_tokens":300,"cache_read_input_tokens":70000,"output_tokens":{output},"cache_creation":{{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":300}}}}}},"requestId":"{request}","type":"assistant","uuid":"a-{turn}",{common}}}"#
        )
    };
    // The assistant's final copy last: a live reader waits a moment for a message's last copy.
    format!(
        "{}\n{}\n{}\n{}\n",
        format_args!(
            r#"{{"parentUuid":null,"isSidechain":false,"type":"user","message":{{"role":"user","content":"{prompt}"}},"uuid":"u-{turn}",{common}}}"#
        ),
        format_args!(
            r#"{{"type":"user","message":{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"t-{turn}","content":"{result}"}}]}},"uuid":"r-{turn}",{common}}}"#
        ),
        assistant(12, &filler[..200]),
        assistant(480, &filler[..1400]),
    )
}

/// Backfill of 1 GiB of transcripts by the release binary, and live lines through a server.
async fn transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("work/collaboration/inbox")).unwrap();
    let repo = std::fs::canonicalize(&repo).unwrap();
    let cwd = repo.display().to_string();
    let config = dir.path().join("claude");
    let name: String = cwd
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let project = config.join("projects").join(name);
    std::fs::create_dir_all(&project).unwrap();
    let filler: String = "The quick brown fox jumps over the lazy dog; "
        .repeat(200)
        .chars()
        .take(8000)
        .collect();
    const SESSIONS: usize = 100;
    let target = 1usize << 30;
    let mut written = 0;
    let mut turns = 0;
    for session in 0..SESSIONS {
        let mut text = String::with_capacity(target / SESSIONS + 16_384);
        let mut turn = 0;
        while text.len() < target / SESSIONS {
            text.push_str(&transcript_turn(session, turn, &cwd, &filler));
            turn += 1;
        }
        turns += turn;
        written += text.len();
        std::fs::write(project.join(format!("sess-{session:05}.jsonl")), text).unwrap();
    }
    println!(
        "transcripts: {SESSIONS} files, {:.2} GiB, {turns} calls (each in two streamed copies)",
        written as f64 / (1u64 << 30) as f64
    );
    let db = dir.path().join("telemetry.db");
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_execdash"))
        .args(["import", "--agent-logs", "--root"])
        .arg(&repo)
        .arg("--db")
        .arg(&db)
        .env("CLAUDE_CONFIG_DIR", &config)
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let peak_kib = {
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
        usage.ru_maxrss
    };
    println!(
        "transcripts: `execdash import --agent-logs` of {:.2} GiB in {:.1} s = {:.0} MB/s, peak RSS {:.1} MB\n  {}",
        written as f64 / (1u64 << 30) as f64,
        elapsed.as_secs_f64(),
        written as f64 / 1e6 / elapsed.as_secs_f64(),
        peak_kib as f64 / 1024.0,
        String::from_utf8_lossy(&output.stdout).trim()
    );

    // Live: a server following a session being written, one call at a time.
    std::env::set_var("CLAUDE_CONFIG_DIR", &config);
    let live_db = dir.path().join("live.db");
    let server = process::Process::start(
        &repo,
        &[
            "--db".as_ref(),
            live_db.as_os_str(),
            "--board-cache".as_ref(),
            "off".as_ref(),
        ],
    );
    let client = reqwest::Client::new();
    let stats = || async {
        let stats: serde_json::Value = client
            .get(server.url("/api/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["invocations"].as_u64().unwrap_or(0)
    };
    // Everything written before the server started is read first.
    while stats().await < turns as u64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let live = project.join("live-session.jsonl");
    let mut samples = Vec::new();
    for turn in 0..50 {
        let before = stats().await;
        let text = transcript_turn(SESSIONS + 1, turn, &cwd, &filler);
        let t = Instant::now();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&live)
            .unwrap();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        drop(file);
        while stats().await == before {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(t.elapsed());
    }
    percentiles(
        "transcripts: a turn written → its call counted by the server",
        &mut samples,
    );
    drop(server);
}
