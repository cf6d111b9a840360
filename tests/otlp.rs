//! The OTLP/HTTP receiver through a real server on loopback: what coding agents export becomes
//! invocations on the board's tasks, once, in either encoding and gzipped; bad exports get
//! OTLP's answers and store nothing; the token applies.

mod common;
#[path = "common/postgres.rs"]
mod postgres;

use std::io::Write;

use common::Workspace;
use execdash::RunningServer;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Value};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// One Claude Code `api_request` record as its exporter sends it in OTLP JSON (token counts as
/// strings, the resource's attributes repeated on the record).
fn api_request(sequence: u32, input: &str, output: &str, cost: &str) -> Value {
    json!({
        "timeUnixNano": format!("{}", 1_764_950_400_000_000_000u64 + u64::from(sequence) * 1_000_000_000),
        "observedTimeUnixNano": "1764950400500000000",
        "body": {"stringValue": "claude_code.api_request"},
        "attributes": [
            {"key": "event.name", "value": {"stringValue": "api_request"}},
            {"key": "event.sequence", "value": {"intValue": sequence.to_string()}},
            {"key": "session.id", "value": {"stringValue": "5f1c2a9e-0b7d-4c35-9a61-3e2f8d4b7c10"}},
            {"key": "prompt.id", "value": {"stringValue": "b2e6f0d4-11aa-4c2b-8f7e-6d5c4b3a2910"}},
            {"key": "model", "value": {"stringValue": "claude-sonnet-4-5-20250929"}},
            {"key": "input_tokens", "value": {"stringValue": input}},
            {"key": "output_tokens", "value": {"stringValue": output}},
            {"key": "cache_read_tokens", "value": {"stringValue": "700"}},
            {"key": "cache_creation_tokens", "value": {"stringValue": "300"}},
            {"key": "cost_usd", "value": {"stringValue": cost}},
            {"key": "duration_ms", "value": {"stringValue": "1834"}},
            {"key": "task.id", "value": {"stringValue": "T-42"}},
            {"key": "agent", "value": {"stringValue": "backend-dev"}}
        ]
    })
}

fn logs_body(records: Vec<Value>) -> Value {
    json!({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "claude-code"}},
            {"key": "task.id", "value": {"stringValue": "T-42"}},
            {"key": "agent", "value": {"stringValue": "backend-dev"}}
        ]},
        "scopeLogs": [{
            "scope": {"name": "com.anthropic.claude_code.events", "version": "2.1.0"},
            "logRecords": records
        }]
    }]})
}

fn user_prompt() -> Value {
    json!({
        "timeUnixNano": "1764950399000000000",
        "body": {"stringValue": "claude_code.user_prompt"},
        "attributes": [{"key": "prompt_length", "value": {"stringValue": "9"}}]
    })
}

fn workspace() -> Workspace {
    let workspace = Workspace::empty();
    workspace.write(
        "assigned/backend-dev/T-42.yaml",
        "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
    );
    workspace
}

async fn post(
    server: &RunningServer,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}{path}", server.addr))
        .header(CONTENT_TYPE, content_type)
        .body(body);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// Every stored invocation, whole (the export).
async fn stored(server: &RunningServer) -> Vec<Value> {
    reqwest::get(format!(
        "http://{}/api/export/invocations.json?range=all",
        server.addr
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// The task's cost and calls as the detail shows them.
async fn task_cost(server: &RunningServer) -> (f64, u64, Vec<Value>) {
    let details: Value = reqwest::get(format!("http://{}/api/board/task?id=T-42", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cost = &details["cost"];
    (
        cost["cost_usd"].as_f64().unwrap_or(0.0),
        cost["invocations"].as_u64().unwrap_or(0),
        details["invocations"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn claude_codes_api_requests_become_the_tasks_calls_once_in_either_encoding() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let body = logs_body(vec![
        user_prompt(),
        api_request(1, "1234", "56", "0.012345"),
        api_request(2, "2000", "100", "0.02"),
    ]);
    let (status, headers, answer) = post(
        &server,
        "/v1/logs",
        JSON,
        serde_json::to_vec(&body).unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(headers[CONTENT_TYPE], JSON);
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer, json!({}), "nothing rejected");

    let (cost, calls, _) = task_cost(&server).await;
    assert_eq!(calls, 2);
    assert!(
        (cost - 0.032345).abs() < 1e-9,
        "Claude Code's own cost is kept: {cost}"
    );
    let rows = stored(&server).await;
    let first = rows
        .iter()
        .find(|r| r["cost_usd"].as_f64() == Some(0.012345))
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(first["tool_name"], "claude-code");
    assert_eq!(first["model_name"], "claude-sonnet-4-5-20250929");
    assert_eq!(first["agent_name"], "backend-dev");
    assert_eq!(
        first["prompt_tokens"],
        1234 + 700 + 300,
        "cache reads and writes are input"
    );
    assert_eq!(first["completion_tokens"], 56);
    assert_eq!(first["latency_ms"], 1834);
    assert_eq!(first["source"], "claude-code");
    assert_eq!(first["session_id"], "5f1c2a9e-0b7d-4c35-9a61-3e2f8d4b7c10");
    assert_eq!(
        (&first["cache_read_tokens"], &first["cache_write_tokens"]),
        (&json!(700), &json!(300))
    );
    assert_eq!(first["reported_cost_usd"], 0.012345);
    // The price table's figure is kept beside it: Claude Code's own price of these tokens.
    assert_eq!(first["computed_cost_usd"], 0.005877);
    assert_eq!(first["attribution"], "sent");

    // The same export again, as protobuf and gzipped: nothing new.
    let request: ExportLogsServiceRequest = serde_json::from_value(body).unwrap();
    let (status, headers, answer) = post(
        &server,
        "/v1/logs",
        PROTOBUF,
        gzip(&request.encode_to_vec()),
        &[("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers[CONTENT_TYPE], PROTOBUF);
    let answer = ExportLogsServiceResponse::decode(answer.as_slice()).unwrap();
    assert_eq!(answer.partial_success, None);
    let (cost, calls, _) = task_cost(&server).await;
    assert_eq!((calls, (cost * 1e6).round()), (2, 32345.0));
}

#[tokio::test]
async fn bad_records_are_rejected_with_reasons_and_the_good_ones_kept() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let body = logs_body(vec![
        api_request(1, "-5", "56", "0.01"),
        api_request(2, "10", "NaN", "0.01"),
        api_request(3, "10", "5", "-1"),
        api_request(4, "10", "5", "0.5"),
    ]);
    let (status, _, answer) = post(
        &server,
        "/v1/logs",
        JSON,
        serde_json::to_vec(&body).unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    // OTLP's JSON allows an int64 as a number or a string.
    assert_eq!(
        answer["partialSuccess"]["rejectedLogRecords"]
            .to_string()
            .trim_matches('"'),
        "3",
        "{answer}"
    );
    let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("input_tokens must be a count"),
        "{message}"
    );
    let (cost, calls, _) = task_cost(&server).await;
    assert_eq!((calls, cost), (1, 0.5));
}

#[tokio::test]
async fn bodies_that_are_not_otlp_get_otlps_errors_and_store_nothing() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let valid = serde_json::to_vec(&logs_body(vec![api_request(1, "1", "1", "1")])).unwrap();
    // Another content type: 415.
    let (status, _, _) = post(&server, "/v1/logs", "text/plain", valid.clone(), &[]).await;
    assert_eq!(status, 415);
    // Bytes that are not the message: 400 with a Status in the request's encoding.
    let (status, headers, answer) = post(
        &server,
        "/v1/logs",
        PROTOBUF,
        b"\xff\xff\xff not protobuf".to_vec(),
        &[],
    )
    .await;
    assert_eq!(
        (status, &headers[CONTENT_TYPE]),
        (400, &PROTOBUF.parse().unwrap())
    );
    assert!(!answer.is_empty());
    let (status, _, answer) = post(
        &server,
        "/v1/traces",
        JSON,
        b"{\"resourceSpans\": 7}".to_vec(),
        &[],
    )
    .await;
    assert_eq!(status, 400);
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("not OTLP JSON"),
        "{answer}"
    );
    // A truncated gzip body: 400. A gzip bomb (64 KB that inflates past the bound): 413.
    let zipped = gzip(&valid);
    let (status, _, _) = post(
        &server,
        "/v1/logs",
        JSON,
        zipped[..zipped.len() / 2].to_vec(),
        &[("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, 400);
    let bomb = gzip(&vec![b' '; 40 * 1024 * 1024]);
    assert!(bomb.len() < 200_000);
    let (status, _, _) = post(
        &server,
        "/v1/logs",
        JSON,
        bomb,
        &[("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, 413);
    // 10 MB on the wire: 413.
    let (status, _, _) = post(&server, "/v1/logs", JSON, vec![b' '; 10_000_000], &[]).await;
    assert_eq!(status, 413);
    let (_, calls, _) = task_cost(&server).await;
    assert_eq!(calls, 0, "nothing was stored");
    // The server still serves.
    let (status, _, _) = post(&server, "/v1/logs", JSON, valid, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(task_cost(&server).await.1, 1);
}

#[tokio::test]
async fn genai_spans_with_usage_are_calls_and_other_spans_are_not() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "triage-bot"}},
            {"key": "execdash.task", "value": {"stringValue": "T-42"}},
            {"key": "execdash.agent", "value": {"stringValue": "backend-dev"}}
        ]},
        "scopeSpans": [{"spans": [
            {
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b174",
                "name": "chat gpt-4o",
                "kind": 3,
                "startTimeUnixNano": "1764950400000000000",
                "endTimeUnixNano": "1764950401250000000",
                "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                    {"key": "gen_ai.response.model", "value": {"stringValue": "gpt-4o-2024-08-06"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "812"}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "97"}}
                ],
                "status": {}
            },
            {
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "aaa19b7ec3c1b174",
                "name": "handle request",
                "startTimeUnixNano": "1764950400000000000",
                "endTimeUnixNano": "1764950402000000000",
                "attributes": [{"key": "http.route", "value": {"stringValue": "/triage"}}]
            }
        ]}]
    }]});
    for _ in 0..2 {
        let (status, _, answer) = post(
            &server,
            "/v1/traces",
            JSON,
            serde_json::to_vec(&body).unwrap(),
            &[],
        )
        .await;
        assert_eq!(status, 200);
        let answer: ExportTraceServiceResponse = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer.partial_success, None);
    }
    let (_, calls, _) = task_cost(&server).await;
    let rows = stored(&server).await;
    assert_eq!(
        (calls, rows.len()),
        (1, 1),
        "one span with usage, stored once: {rows:?}"
    );
    assert_eq!(rows[0]["model_name"], "gpt-4o-2024-08-06");
    assert_eq!(rows[0]["tool_name"], "triage-bot");
    assert_eq!(rows[0]["latency_ms"], 1250);
    assert_eq!(rows[0]["prompt_tokens"], 812);
    // No cost reported: priced from the table (gpt-4o-2024-08-06: $2.50 / $10 per million).
    assert_eq!(rows[0]["reported_cost_usd"], Value::Null);
    let computed = rows[0]["computed_cost_usd"].as_f64().unwrap();
    assert!(
        (computed - (812.0 * 2.5e-6 + 97.0 * 1e-5)).abs() < 1e-12,
        "{computed}"
    );
    assert_eq!(rows[0]["cost_usd"], rows[0]["computed_cost_usd"]);
    // Decoded from protobuf too.
    let request: ExportTraceServiceRequest = serde_json::from_value(body).unwrap();
    let (status, _, _) = post(
        &server,
        "/v1/traces",
        PROTOBUF,
        request.encode_to_vec(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(task_cost(&server).await.1, 1);
}

#[tokio::test]
async fn the_receiver_needs_the_token_and_answers_under_the_base_path() {
    let workspace = workspace();
    let token = "otlp-token-0123456789abcdef";
    let server = common::start_server(&workspace, |config| {
        config.token = Some(token.into());
        config.base_path = "/dash".into();
    })
    .await;
    let body = serde_json::to_vec(&logs_body(vec![api_request(1, "1", "1", "0.25")])).unwrap();
    let (status, _, _) = post(&server, "/dash/v1/logs", JSON, body.clone(), &[]).await;
    assert_eq!(status, 401);
    let bearer = format!("Bearer {token}");
    let (status, _, _) = post(
        &server,
        "/dash/v1/logs",
        JSON,
        body,
        &[(AUTHORIZATION.as_str(), &bearer)],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = post(
        &server,
        "/dash/v1/metrics",
        JSON,
        br#"{"resourceMetrics":[]}"#.to_vec(),
        &[(AUTHORIZATION.as_str(), &bearer)],
    )
    .await;
    assert_eq!(status, 200);
}

/// The same export on a team's PostgreSQL store: every column kept, a re-sent batch idempotent.
#[tokio::test]
async fn on_postgresql_the_agents_columns_are_kept_and_a_resent_export_stores_nothing() {
    let cluster = postgres::Postgres::start();
    let url = cluster.database("otlp");
    let workspace = workspace();
    let server = common::start_server(&workspace, |config| {
        config.db = execdash::Location::parse(&url);
        config.repo_name = "alpha".into();
    })
    .await;
    let body =
        serde_json::to_vec(&logs_body(vec![api_request(1, "1234", "56", "0.012345")])).unwrap();
    for _ in 0..2 {
        let (status, _, answer) = post(&server, "/v1/logs", JSON, body.clone(), &[]).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        assert_eq!(serde_json::from_slice::<Value>(&answer).unwrap(), json!({}));
    }
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row["source"], "claude-code");
    assert_eq!(row["session_id"], "5f1c2a9e-0b7d-4c35-9a61-3e2f8d4b7c10");
    assert_eq!(
        (&row["cache_read_tokens"], &row["cache_write_tokens"]),
        (&json!(700), &json!(300))
    );
    assert_eq!(row["reported_cost_usd"], 0.012345);
    assert_eq!(row["attribution"], "sent");
    assert_eq!(task_cost(&server).await.1, 1);
}

/// A model the price table lacks: its calls are kept with their tokens, listed as unpriced in
/// the cost summary, and not counted as $0 anywhere.
#[tokio::test]
async fn a_call_of_a_model_without_a_price_is_listed_as_unpriced() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let span = |span_id: &str, model: &str| {
        json!({
            "traceId": "0af7651916cd43dd8448eb211c80319c",
            "spanId": span_id,
            "name": "chat",
            "startTimeUnixNano": format!("{}", chrono::Utc::now().timestamp_nanos_opt().unwrap()),
            "endTimeUnixNano": format!("{}", chrono::Utc::now().timestamp_nanos_opt().unwrap() + 5_000_000),
            "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": model}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "200"}}
            ]
        })
    };
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "house-bot"}}]},
        "scopeSpans": [{"scope": {"name": "house.llm"}, "spans": [
            span("00f067aa0ba902b7", "in-house-llm-7b"),
            span("00f067aa0ba902b8", "in-house-llm-7b"),
            span("00f067aa0ba902b9", "gpt-4o")
        ]}]
    }]});
    let (status, _, _) = post(
        &server,
        "/v1/traces",
        JSON,
        serde_json::to_vec(&body).unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let summary: Value = reqwest::get(format!("http://{}/api/costs?range=24h", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        summary["unpriced"],
        json!([{"model": "in-house-llm-7b", "invocations": 2, "tokens": 2400}]),
        "{summary}"
    );
    let rows = stored(&server).await;
    let unpriced: Vec<&Value> = rows
        .iter()
        .filter(|r| r["model_name"] == "in-house-llm-7b")
        .collect();
    assert_eq!(unpriced.len(), 2);
    assert!(unpriced
        .iter()
        .all(|r| r["computed_cost_usd"].is_null() && r["reported_cost_usd"].is_null()));
    assert_eq!(unpriced[0]["source"], "house.llm");
}

/// The "Connect your agents" data: this server's endpoint, and what arrived from each source.
#[tokio::test]
async fn the_connect_page_says_where_to_send_and_what_arrived() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |config| config.base_path = "/dash".into()).await;
    let connect = || async {
        reqwest::get(format!("http://{}/dash/api/connect", server.addr))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let before = connect().await;
    assert_eq!(before["endpoint"], format!("http://{}/dash", server.addr));
    assert_eq!(before["token_required"], false);
    assert!(before["prices"]["models"].as_u64().unwrap() > 100);
    assert!(before["prices"]["source"]
        .as_str()
        .unwrap()
        .starts_with("LiteLLM "));
    let sources: Vec<&str> = before["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["claude-code", "codex", "gemini-cli"]);
    assert!(before["sources"][0]["last_seen"].is_null());
    // A call from Claude Code now (its record's time is now, so it counts today).
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let mut record = api_request(1, "10", "5", "0.01");
    record["timeUnixNano"] = json!(now.to_string());
    let body = serde_json::to_vec(&logs_body(vec![record])).unwrap();
    let (status, _, _) = post(&server, "/dash/v1/logs", JSON, body, &[]).await;
    assert_eq!(status, 200);
    let after = connect().await;
    let claude = &after["sources"][0];
    assert_eq!(claude["source"], "claude-code");
    assert_eq!(claude["calls_today"], 1);
    assert!(claude["last_seen"]
        .as_str()
        .unwrap()
        .starts_with(&chrono::Utc::now().format("%Y-%m-%d").to_string()));
    assert_eq!(after["sources"][1]["calls_today"], 0);
}

/// A call that names no task, from an agent with one task in progress: that task, marked
/// inferred; an old call is left unattributed.
#[tokio::test]
async fn a_call_without_a_task_is_attributed_to_the_one_task_in_progress_and_marked_inferred() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let record = |sequence: u32, at: i64| {
        let mut record = api_request(sequence, "10", "5", "0.01");
        record["timeUnixNano"] = json!(at.to_string());
        record["attributes"]
            .as_array_mut()
            .unwrap()
            .retain(|a| a["key"] != "task.id");
        record
    };
    let body = json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "agent", "value": {"stringValue": "backend-dev"}}]},
        "scopeLogs": [{"logRecords": [record(1, now), record(2, now - 3_600_000_000_000)]}]
    }]});
    let (status, _, _) = post(
        &server,
        "/v1/logs",
        JSON,
        serde_json::to_vec(&body).unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let rows = stored(&server).await;
    let recent = rows
        .iter()
        .find(|r| r["invocation_id"].as_str().unwrap().ends_with(":1"))
        .unwrap();
    assert_eq!(
        (&recent["task_id"], &recent["attribution"]),
        (&json!("T-42"), &json!("inferred"))
    );
    let old = rows
        .iter()
        .find(|r| r["invocation_id"].as_str().unwrap().ends_with(":2"))
        .unwrap();
    assert_eq!(
        old["task_id"],
        Value::Null,
        "an hour ago: not inferred from the board of now"
    );
    // The detail lists the call as inferred.
    let details: Value = reqwest::get(format!("http://{}/api/board/task?id=T-42", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(details["invocations"][0]["attribution"], "inferred");
}

/// `n` Claude Code `api_request` records of session `session` as one protobuf export.
fn protobuf_export(session: usize, n: usize) -> Vec<u8> {
    use opentelemetry_proto::tonic::common::v1::{any_value::Value as V, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    let kv = |key: &str, value: V| KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    };
    let records = (0..n)
        .map(|i| LogRecord {
            time_unix_nano: 1_764_950_400_000_000_000 + i as u64,
            body: Some(AnyValue {
                value: Some(V::StringValue("claude_code.api_request".into())),
            }),
            attributes: vec![
                kv("session.id", V::StringValue(format!("session-{session}"))),
                kv("prompt.id", V::StringValue("p".into())),
                kv("event.sequence", V::IntValue(i as i64)),
                kv("model", V::StringValue("claude-sonnet-4-5".into())),
                kv("input_tokens", V::IntValue(10)),
                kv("cost_usd", V::DoubleValue(0.001)),
            ],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// More than the writer queues (four exports of 10 000 records wait while another process holds
/// the database's write lock; a fifth comes): the one that does not fit is answered at once with
/// 503, `Retry-After` and an UNAVAILABLE status, as OTLP/HTTP asks of an overloaded server, and
/// stores nothing; the four that waited are stored once the lock goes.
// Two threads: the five exports are decoded side by side, well within the 5 s the writer waits
// for the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_beyond_the_writers_queue_get_503_with_retry_after() {
    use sqlx::ConnectOptions;
    let workspace = workspace();
    let db = workspace.root().join("queue.db");
    let server = common::start_server(&workspace, |config| config.db = db.as_path().into()).await;
    let mut lock = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .busy_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();
    let mut exports = tokio::task::JoinSet::new();
    for session in 0..5 {
        let body = protobuf_export(session, 10_000);
        let address = server.addr;
        exports.spawn(async move {
            let response = reqwest::Client::new()
                .post(format!("http://{address}/v1/logs"))
                .header(CONTENT_TYPE, PROTOBUF)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").cloned();
            (
                status,
                retry_after,
                response.bytes().await.unwrap().to_vec(),
            )
        });
    }
    // While the lock is held, the only answer possible is the refusal.
    let (status, retry_after, answer) = exports.join_next().await.unwrap().unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(retry_after.unwrap(), "1");
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let refusal = RpcStatus::decode(answer.as_slice()).unwrap();
    assert_eq!(refusal.code, 14, "UNAVAILABLE");
    // The queue's refusal, not the lock's (which would say "locked" after 5 s).
    assert!(refusal.message.contains("queued"), "{}", refusal.message);
    sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
    for (status, _, answer) in exports.join_all().await {
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invocations")
        .fetch_one(&mut lock)
        .await
        .unwrap();
    assert_eq!(stored, 40_000);
}
