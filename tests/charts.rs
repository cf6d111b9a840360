//! `GET /api/charts/…` on the real server, a real SQLite file and a real workspace: the charts the
//! pages show, drawn by the server as SVG from what the data endpoints answer; a chart with
//! nothing to draw is absent, and a bad range or an unknown agent is refused as by the data
//! endpoints.

mod common;

use chrono::{Duration, Utc};
use common::{start_server, Workspace};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn get(base: &str, path: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// The chart `name` of an answer, checked to be an SVG document.
#[track_caller]
fn svg<'a>(charts: &'a Value, name: &str) -> &'a str {
    let svg = charts[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {charts}"));
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{name}: {svg}"
    );
    svg
}

#[tokio::test]
async fn the_pages_charts_are_drawn_from_the_calls_and_tasks_and_absent_when_empty() {
    let workspace = Workspace::empty();
    let server = start_server(&workspace, |_| {}).await;
    let base = format!("http://{}", server.addr);

    // Nothing recorded yet: every chart of the costs page and of the agent-less history is absent.
    let (status, charts) = get(&base, "/api/charts/costs?range=7d").await;
    assert_eq!(status, StatusCode::OK, "{charts}");
    assert_eq!(charts, json!({}));
    let (status, charts) = get(&base, "/api/charts/history?range=30d").await;
    assert_eq!(status, StatusCode::OK, "{charts}");
    assert!(charts.get("completed").is_none(), "{charts}");

    let now = Utc::now();
    let calls: Vec<Value> = [
        ("sonnet-1", "claude-sonnet-4", 2.5),
        ("gpt-1", "gpt-5", 1.25),
    ]
    .into_iter()
    .map(|(id, model, cost)| {
        json!({"invocation_id": id, "timestamp": (now - Duration::minutes(5)).to_rfc3339(),
                   "agent_name": "benny", "tool_name": "claude-code", "model_name": model,
                   "total_tokens": 1000, "cost_usd": cost, "status": "success"})
    })
    .collect();
    let posted = reqwest::Client::new()
        .post(format!("{base}/api/invocations"))
        .json(&calls)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);

    let (status, charts) = get(&base, "/api/charts/costs?range=7d").await;
    assert_eq!(status, StatusCode::OK, "{charts}");
    svg(&charts, "daily");
    let by_model = svg(&charts, "by-model");
    assert!(
        by_model.contains("claude-sonnet-4") && by_model.contains("gpt-5"),
        "{by_model}"
    );
    assert!(svg(&charts, "by-agent").contains("benny"));
    // The text takes the page's colour.
    assert!(by_model.contains("currentColor"));

    let (status, charts) = get(&base, "/api/charts/agents/benny").await;
    assert_eq!(status, StatusCode::OK, "{charts}");
    svg(&charts, "daily");
    let (status, charts) = get(&base, "/api/charts/forecast").await;
    assert_eq!(status, StatusCode::OK, "{charts}");
    svg(&charts, "burn-down");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_range_or_an_unknown_agent_is_refused_as_by_the_data_endpoints() {
    let workspace = Workspace::empty();
    let server = start_server(&workspace, |_| {}).await;
    let base = format!("http://{}", server.addr);
    for (path, data_path) in [
        ("/api/charts/costs?range=1w", "/api/costs?range=1w"),
        ("/api/charts/history?range=1w", "/api/history?range=1w"),
        ("/api/charts/agents/nobody", "/api/agents/nobody"),
    ] {
        let (status, answer) = get(&base, path).await;
        let (data_status, data_answer) = get(&base, data_path).await;
        assert!(status.is_client_error(), "{path}: {status} {answer}");
        assert_eq!(
            (status, &answer["error"]),
            (data_status, &data_answer["error"]),
            "{path}"
        );
    }
    server.stop().await.unwrap();
}
