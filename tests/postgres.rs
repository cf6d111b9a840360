//! The telemetry on both backends: the same invocations into a SQLite file and into a real
//! PostgreSQL (a throwaway cluster on loopback) give the same aggregates, query by query; and
//! what only a server database has: another node sees a write at once (LISTEN/NOTIFY), the
//! server restarting is survived, and the binary serves `--db postgres://…`.

mod common;
#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/process.rs"]
mod process;

use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, Utc};
use common::eventually;
use execdash::{CostRange, Invocation, Location, Telemetry};
use postgres::Postgres;
use serde_json::{json, Value};

/// 600 invocations over 40 days, 3 models, 4 agents (one none), 3 tools, some errors, some for
/// tasks, a few in the last minutes; `now` is the instant they are relative to.
fn invocations(now: DateTime<Utc>) -> Vec<Invocation> {
    (0..600)
        .map(|i| {
            let model = ["gpt-4o", "claude-sonnet", "o3-mini"][i % 3];
            let mut invocation = Invocation::new(
                &format!("inv-{i:04}"),
                ["cli", "mcp", "api"][i % 3 / 2 + i % 2],
                model,
            );
            let age = if i % 50 == 0 {
                Span::minutes(2)
            } else {
                Span::minutes((i as i64 * 97) % (40 * 24 * 60))
            };
            invocation.timestamp = Some((now - age).to_rfc3339());
            invocation.agent_name =
                [Some("claude-code"), Some("codex"), None, Some("aider")][i % 4].map(str::to_owned);
            invocation.total_tokens = 100 + (i as i64 * 37) % 5000;
            invocation.prompt_tokens = invocation.total_tokens / 3;
            invocation.completion_tokens = invocation.total_tokens - invocation.prompt_tokens;
            invocation.cost_usd = ((i * 7919) % 1000) as f64 / 10_000.0;
            invocation.latency_ms = 200 + (i as i64 * 53) % 3000;
            invocation.status = if i % 9 == 0 { "error" } else { "success" }.into();
            invocation.task_id = (i % 5 == 0).then(|| format!("task-{}", i % 35));
            invocation
        })
        .collect()
}

/// A JSON value with every number rounded to 9 decimals (the two databases add floats in
/// different orders).
fn rounded(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => json!((f * 1e9).round() / 1e9),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(rounded).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, rounded(v))).collect())
        }
        other => other,
    }
}

/// Everything the dashboard reads from the telemetry, as JSON.
async fn everything(telemetry: &Telemetry, now: DateTime<Utc>) -> Value {
    let mut summaries = Vec::new();
    for range in [
        CostRange::Day1,
        CostRange::Days7,
        CostRange::Days30,
        CostRange::Days90,
    ] {
        summaries.push(serde_json::to_value(telemetry.summary(range, now).await.unwrap()).unwrap());
    }
    let (cost, calls) = telemetry.task_activity("task-10", 5).await.unwrap();
    let usage: Vec<Value> = telemetry
        .agent_usage(now)
        .await
        .unwrap()
        .into_iter()
        .map(|u| {
            json!([
                u.agent,
                u.model,
                u.today,
                u.total,
                u.invocations,
                u.last_day,
                u.last_call_today_ms
            ])
        })
        .collect();
    let mut usage = usage;
    usage.sort_by_key(|row| row.to_string());
    rounded(json!({
        "summaries": summaries,
        "task": [cost, calls],
        "usage": usage,
        "agent_daily": telemetry.agent_daily("codex", 30, now).await.unwrap(),
        "tools": telemetry.called_tools(10).await.unwrap(),
        "tasks": telemetry.all_task_costs(100).await.unwrap(),
    }))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_invocations_give_the_same_aggregates_on_sqlite_and_postgresql() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let batch = invocations(now);

    let sqlite = Telemetry::open(dir.path().join("telemetry.db"))
        .await
        .unwrap();
    let postgres = Telemetry::open(Location::parse(&url)).await.unwrap();
    for telemetry in [&sqlite, &postgres] {
        for chunk in batch.chunks(250) {
            let report = telemetry.ingest(chunk.to_vec()).await.unwrap();
            assert_eq!(report.inserted as usize, chunk.len());
        }
    }
    let (a, b) = (
        everything(&sqlite, now).await,
        everything(&postgres, now).await,
    );
    assert!(
        a["summaries"][0]["active"].as_array().unwrap().len() >= 10,
        "{}",
        a["summaries"][0]
    );
    assert!(a["tasks"].as_array().unwrap().len() > 5);
    for key in [
        "summaries",
        "task",
        "usage",
        "agent_daily",
        "tools",
        "tasks",
    ] {
        assert_eq!(
            a[key], b[key],
            "{key} differs between SQLite and PostgreSQL"
        );
    }

    // The conflict rule, the same on both.
    let mut changed = batch[7].clone();
    changed.cost_usd = 99.0;
    for telemetry in [&sqlite, &postgres] {
        let report = telemetry
            .ingest(vec![batch[3].clone(), changed.clone()])
            .await
            .unwrap();
        assert_eq!((report.inserted, report.duplicates), (0, 1));
        assert_eq!(report.conflicts, vec!["inv-0007".to_owned()]);
    }
    // A timestamp left out is "now": sent again (another now), it is a duplicate, no conflict.
    let mut undated = Invocation::new("undated", "cli", "gpt-4o");
    undated.cost_usd = 0.5;
    for telemetry in [&sqlite, &postgres] {
        assert_eq!(
            telemetry
                .ingest(vec![undated.clone()])
                .await
                .unwrap()
                .inserted,
            1
        );
        // Not a wait for anything: time passes, so that the second "now" is another one.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let again = telemetry.ingest(vec![undated.clone()]).await.unwrap();
        assert_eq!(
            (again.inserted, again.duplicates, again.conflicts.len()),
            (0, 1, 0)
        );
    }
    // (Each backend stored its own "now": the totals agree, the timestamps cannot.)
    let (a, b) = (
        everything(&sqlite, now).await,
        everything(&postgres, now).await,
    );
    for summary in 0..4 {
        assert_eq!(
            a["summaries"][summary]["totals"],
            b["summaries"][summary]["totals"]
        );
        assert_eq!(
            a["summaries"][summary]["by_model"],
            b["summaries"][summary]["by_model"]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_on_one_node_wakes_the_other_and_is_read_there_at_once() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let node_a = Telemetry::open(Location::parse(&url)).await.unwrap();
    let node_b = Telemetry::open(Location::parse(&url)).await.unwrap();
    let mut changes = node_b.watch_changes();
    changes.borrow_and_update();
    let now = Utc::now();
    let mut invocation = Invocation::new("from-a", "cli", "gpt-4o");
    invocation.timestamp = Some(now.to_rfc3339());
    invocation.cost_usd = 1.25;
    let started = Instant::now();
    node_a.ingest(vec![invocation]).await.unwrap();
    tokio::time::timeout(Duration::from_secs(2), changes.changed())
        .await
        .expect("node B is notified")
        .unwrap();
    // How fast is reported, not asserted (a loaded test machine is no measure of speed); the 2 s
    // above only tells a notification from none.
    eprintln!("write on A → B notified: {:?}", started.elapsed());
    let summary = node_b.summary(CostRange::Day1, Utc::now()).await.unwrap();
    assert_eq!(summary.totals.invocations, 1);
    assert!((summary.totals.today - 1.25).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgresql_restart_is_survived_and_reported_meanwhile() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let telemetry = Telemetry::open(Location::parse(&url)).await.unwrap();
    let mut first = Invocation::new("before", "cli", "gpt-4o");
    first.cost_usd = 1.0;
    telemetry.ingest(vec![first]).await.unwrap();
    let mut changes = telemetry.watch_changes();
    changes.borrow_and_update();

    cluster.restart();
    // The pool's connections died with the server: the next operations reconnect.
    let mut second = Invocation::new("after", "cli", "gpt-4o");
    second.cost_usd = 2.0;
    eventually(
        "an ingest after the restart",
        Duration::from_secs(20),
        || async {
            match telemetry.ingest(vec![second.clone()]).await {
                Ok(report) => {
                    assert_eq!(report.inserted, 1);
                    Ok(())
                }
                Err(error) => {
                    let problem = telemetry.problem().expect("the failure is reported");
                    assert_eq!(problem.kind.as_str(), "unreachable", "{error}: {problem:?}");
                    Err(error.to_string())
                }
            }
        },
    )
    .await;
    assert!(telemetry.problem().is_none(), "{:?}", telemetry.problem());
    let summary = telemetry
        .summary(CostRange::Days7, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        summary.totals.invocations, 2,
        "nothing acknowledged was lost"
    );
    // The notification connection came back too: the lost connection counts as a change, and
    // a write from elsewhere wakes it again.
    tokio::time::timeout(Duration::from_secs(10), changes.changed())
        .await
        .expect("the listener reconnects")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_serves_costs_from_postgresql_and_never_shows_the_password() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    // Trust authentication ignores it, so a password in the URL is harmless here.
    let with_password = url.replace("postgres@", "postgres:s3cret@");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("work/collaboration/inbox")).unwrap();
    let server = process::Process::start(dir.path(), &["--db".as_ref(), with_password.as_ref()]);
    let client = reqwest::Client::new();
    let posted = client
        .post(server.url("/api/invocations"))
        .json(
            &json!([{"invocation_id": "served", "tool_name": "cli", "model_name": "gpt-4o",
                       "status": "success", "cost_usd": 0.75, "total_tokens": 42}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let get = |path: &str| {
        let url = server.url(path);
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let stats = get("/api/stats").await;
    assert!(stats.to_string().contains("0.75"), "{stats}");
    let health = get("/health").await;
    assert_eq!(health["telemetry"]["status"], "ok", "{health}");
    let shown = health["telemetry"]["path"].as_str().unwrap();
    assert!(
        shown.starts_with("postgres://postgres:***@127.0.0.1"),
        "{shown}"
    );
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains("s3cret") && !health.to_string().contains("s3cret"));
}

/// PostgreSQL stopped under a node: a POST is refused as `unreachable` (not `locked`, which
/// says to retry a busy database), and `/health` and the log say the connection was refused,
/// not that a pool timed out.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_down_reads_unreachable_and_refused_not_locked_or_timed_out() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("work/collaboration/inbox")).unwrap();
    let server = process::Process::start(
        dir.path(),
        &[
            "--db".as_ref(),
            url.as_ref(),
            "--stale-after".as_ref(),
            "1.5".as_ref(),
        ],
    );
    let client = reqwest::Client::new();
    let post = |id: &str| {
        client
            .post(server.url("/api/invocations"))
            .json(
                &json!([{"invocation_id": id, "tool_name": "cli", "model_name": "gpt-4o",
                           "status": "success", "cost_usd": 0.5}]),
            )
            .send()
    };
    assert_eq!(post("up").await.unwrap().status(), 200);

    cluster.down();
    let refused = post("down").await.unwrap();
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["reason"], "unreachable", "{body}");
    assert!(!body.to_string().contains("pool timed out"), "{body}");
    let health = eventually("/health says why", Duration::from_secs(20), || async {
        let health = server.json("/health").await;
        let message = health["telemetry"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if health["telemetry"]["kind"] == "unreachable"
            && message.to_lowercase().contains("connection refused")
        {
            Ok(())
        } else {
            Err(health.to_string())
        }
    })
    .await;
    println!("/health said why within {health:?}");
    let posted_again: Value = post("down-again").await.unwrap().json().await.unwrap();
    assert_eq!(posted_again["reason"], "unreachable", "{posted_again}");
    assert!(
        posted_again["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("connection refused"),
        "{posted_again}"
    );
    // The publisher's heartbeat (every 0.5 s) failed meanwhile: its log says why too.
    eventually(
        "the publisher's warning",
        Duration::from_secs(20),
        || async {
            let log = server.log.lock().unwrap().join("\n");
            log.contains("cannot publish the board")
                && log.to_lowercase().contains("connection refused")
        },
    )
    .await;
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains("pool timed out"), "{log}");
    assert!(!log.contains("busy"), "{log}");
}

/// A call stored first from a transcript (no task, the table's price) is completed, not
/// duplicated, by the agent's telemetry's copy (its task as sent, its own cost); the poorer copy
/// sent again changes nothing. The same on both backends, rollups included.
#[tokio::test(flavor = "multi_thread")]
async fn a_transcripts_copy_is_completed_by_the_telemetrys_on_both_backends() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Telemetry::open(dir.path().join("telemetry.db"))
        .await
        .unwrap();
    let postgres = Telemetry::open(Location::parse(&url)).await.unwrap();
    let now = Utc::now();
    let mut transcript = Invocation::new("claude-code:req_1", "claude-code", "claude-sonnet-4-5");
    transcript.timestamp = Some(now.to_rfc3339());
    transcript.source = Some("claude-code".into());
    transcript.prompt_tokens = 2234;
    transcript.completion_tokens = 56;
    transcript.total_tokens = 2290;
    transcript.computed_cost_usd = Some(0.005877);
    transcript.cost_usd = 0.005877;
    let mut exported = transcript.clone();
    exported.agent_name = Some("backend-dev".into());
    exported.task_id = Some("T-1".into());
    exported.attribution = Some("sent".into());
    exported.reported_cost_usd = Some(0.006);
    exported.cost_usd = 0.006;
    exported.latency_ms = 812;
    for telemetry in [&sqlite, &postgres] {
        assert_eq!(
            telemetry
                .ingest(vec![transcript.clone()])
                .await
                .unwrap()
                .inserted,
            1
        );
        let report = telemetry.ingest(vec![exported.clone()]).await.unwrap();
        assert_eq!(
            (report.inserted, report.completed, report.conflicts.len()),
            (0, 1, 0)
        );
        // The poorer copy again: left as completed.
        let report = telemetry.ingest(vec![transcript.clone()]).await.unwrap();
        assert_eq!(
            (report.inserted, report.completed, report.conflicts.len()),
            (0, 0, 1)
        );
        let (cost, calls) = telemetry.task_activity("T-1", 5).await.unwrap();
        let cost = cost.expect("the task's cost");
        assert!((cost.cost_usd - 0.006).abs() < 1e-12, "{cost:?}");
        assert_eq!(cost.invocations, 1);
        assert_eq!(calls.len(), 1);
        let summary = telemetry.summary(CostRange::Day1, now).await.unwrap();
        assert_eq!(summary.totals.invocations, 1, "counted once");
        assert!(
            (summary.totals.today - 0.006).abs() < 1e-9,
            "{:?}",
            summary.totals
        );
    }
    let (a, b) = (
        everything(&sqlite, now).await,
        everything(&postgres, now).await,
    );
    assert_eq!(a["summaries"], b["summaries"]);
    assert_eq!(a["usage"], b["usage"]);
}

/// A metrics-only session's metered row (Claude Code's counters), in either order with the
/// session's calls: counted once, by its calls, on both backends; a cumulative counter's row is
/// brought up to its running total, never added twice.
#[tokio::test(flavor = "multi_thread")]
async fn metered_usage_counts_until_its_sessions_calls_come_in_either_order() {
    let cluster = Postgres::start();
    let url = cluster.database("team");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Telemetry::open(dir.path().join("telemetry.db"))
        .await
        .unwrap();
    let postgres = Telemetry::open(Location::parse(&url)).await.unwrap();
    let now = Utc::now();
    let metered = |session: &str, tokens: i64, cost: f64| {
        let mut row = Invocation::new(
            &format!("metered:claude-code:{session}:claude-sonnet-4-5:c1"),
            "claude-code",
            "claude-sonnet-4-5",
        );
        row.timestamp = Some(now.to_rfc3339());
        row.source = Some("claude-code".into());
        row.session_id = Some(session.into());
        row.total_tokens = tokens;
        row.prompt_tokens = tokens;
        row.reported_cost_usd = Some(cost);
        row.cost_usd = cost;
        row
    };
    let call = |session: &str, id: &str| {
        let mut row = metered(session, 100, 1.0);
        row.invocation_id = format!("claude-code:{id}");
        row
    };
    for telemetry in [&sqlite, &postgres] {
        // Metrics first, a running total written twice: one row, the newer total.
        telemetry
            .meter(vec![metered("early", 100, 1.0)])
            .await
            .unwrap();
        let report = telemetry
            .meter(vec![metered("early", 200, 2.0)])
            .await
            .unwrap();
        assert_eq!((report.written, report.redundant), (1, 0));
        let summary = telemetry.summary(CostRange::Day1, now).await.unwrap();
        assert_eq!(summary.totals.invocations, 1);
        assert!((summary.totals.today - 2.0).abs() < 1e-9);
        // Its calls come: the metered row goes, in their transaction.
        let report = telemetry
            .ingest(vec![call("early", "a"), call("early", "b")])
            .await
            .unwrap();
        assert_eq!((report.inserted, report.superseded), (2, 1));
        // Calls first, then the session's metrics: not kept.
        telemetry.ingest(vec![call("late", "c")]).await.unwrap();
        let report = telemetry
            .meter(vec![metered("late", 100, 1.0)])
            .await
            .unwrap();
        assert_eq!(report.redundant, 1);
        let summary = telemetry.summary(CostRange::Day1, now).await.unwrap();
        assert_eq!(
            summary.totals.invocations, 3,
            "the three calls, nothing twice"
        );
        assert!(
            (summary.totals.today - 3.0).abs() < 1e-9,
            "{:?}",
            summary.totals
        );
    }
}
