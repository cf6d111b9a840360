//! The browser's lean reader (`app::model::lean`) reads every answer of the real server that
//! the browser reads exactly as serde's derived readers do: on the demo workspace with costs
//! posted, each endpoint a page or the board fetches, and the socket's first message, read both
//! ways — and again with each key in the answer removed in turn (`lean::same_reading`).

mod common;

use std::fmt::Debug;

use app::model::lean::{self, FromJson};
use app::model::{
    AgentList, AgentPage, AlertLog, Charts, ConnectInfo, CostSummary, Envelope, FilteredBoard,
    Forecast, History, LanePage, McpOverview, Portfolio, PortfolioCosts, SessionSummary, Snapshot,
    SpecificationDocument, SpecificationList, TaskDetails,
};
use common::{next_envelope, Workspace};
use execdash::RunningServer;
use serde::de::DeserializeOwned;

/// The answer's text at `path`, which must be a success.
async fn answer(server: &RunningServer, path: &str) -> String {
    let response = reqwest::get(format!("http://{}{path}", server.addr))
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.text().await.unwrap()
}

/// The answer at `path`, checked read alike, and read.
async fn read_alike<T>(server: &RunningServer, path: &str) -> T
where
    T: DeserializeOwned + FromJson + PartialEq + Debug,
{
    let text = answer(server, path).await;
    if let Err(difference) = lean::same_reading::<T>(&text) {
        panic!("{path}: {difference}");
    }
    lean::from_str(&text).unwrap()
}

fn invocation(id: &str, task: &str, agent: &str, cost: f64) -> serde_json::Value {
    serde_json::json!({
        "invocation_id": id, "tool_name": "claude-code", "model_name": "claude-sonnet-4",
        "agent_name": agent, "prompt_tokens": 1000, "completion_tokens": 500,
        "total_tokens": 1500, "cost_usd": cost, "latency_ms": 1200, "status": "success",
        "task_id": task
    })
}

#[tokio::test]
async fn every_answer_the_browser_reads_is_read_as_serde_reads_it() {
    let workspace = Workspace::demo();
    let server = common::start_server(&workspace, |_| {}).await;
    let snapshot: Snapshot = read_alike(&server, "/api/snapshot").await;
    let task = snapshot.tasks.first().expect("the demo has tasks").clone();
    let agent = snapshot
        .tasks
        .iter()
        .find_map(|t| t.agent.clone())
        .expect("the demo has an agent's task");
    let posted = reqwest::Client::new()
        .post(format!("http://{}/api/invocations", server.addr))
        .json(&[
            invocation("lean-1", &task.id, &agent, 0.75),
            invocation("lean-2", &task.id, "curator", 0.25),
        ])
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", posted.status());

    let costs: CostSummary = read_alike(&server, "/api/costs?range=7d").await;
    assert!(
        costs.totals.invocations >= 2,
        "the posted calls are counted"
    );
    read_alike::<Snapshot>(&server, "/api/snapshot").await;
    let lane = task.lane_key();
    read_alike::<LanePage>(&server, &format!("/api/board/lane?lane={lane}&limit=2")).await;
    read_alike::<FilteredBoard>(&server, "/api/board/filtered?q=the").await;
    let details: TaskDetails =
        read_alike(&server, &format!("/api/board/task?id={}", task.id)).await;
    assert_eq!(details.task.summary.id, task.id);
    read_alike::<PortfolioCosts>(&server, "/api/costs/initiatives").await;
    read_alike::<Portfolio>(&server, "/api/portfolio").await;
    read_alike::<McpOverview>(&server, "/api/mcp/servers").await;
    read_alike::<History>(&server, "/api/history?range=30d").await;
    read_alike::<Forecast>(&server, "/api/forecast").await;
    let agents: AgentList = read_alike(&server, "/api/agents").await;
    assert!(
        agents.agents.iter().any(|a| a.name == agent),
        "{agent} is listed"
    );
    read_alike::<AgentPage>(&server, &format!("/api/agents/{agent}")).await;
    read_alike::<ConnectInfo>(&server, "/api/connect").await;
    read_alike::<Vec<SessionSummary>>(&server, "/api/sessions?state=ended").await;
    read_alike::<AlertLog>(&server, "/api/alerts").await;
    let specifications: SpecificationList = read_alike(&server, "/api/specifications").await;
    let path = &specifications
        .specifications
        .first()
        .expect("the demo has specifications")
        .path;
    read_alike::<SpecificationDocument>(
        &server,
        &format!("/api/specifications/document?path={path}"),
    )
    .await;
    for charts in [
        "/api/charts/costs?range=7d".to_owned(),
        "/api/charts/history?range=30d".to_owned(),
        "/api/charts/forecast".to_owned(),
        format!("/api/charts/agents/{agent}"),
    ] {
        let drawn: Charts = read_alike(&server, &charts).await;
        assert!(!drawn.0.is_empty(), "{charts}: charts drawn");
    }

    // The socket's first message: the board, read in two steps (the event's type first).
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    let ack = next_envelope(&mut socket).await;
    let text = serde_json::to_string(&ack).unwrap();
    assert_eq!(Envelope::from_json(&text).unwrap(), ack);
}
