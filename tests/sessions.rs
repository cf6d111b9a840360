//! Agent sessions, live, on a real server: Claude Code's hook events (as its `http` hooks POST
//! them) move a session's state, each change is a `session.updated` event on the socket, the
//! calls the telemetry stores say what it spent, and bad hook bodies change nothing.

mod common;

use std::time::Duration;

use app::model::{ServerEvent, SessionState, SessionSummary};
use common::{next_envelope, Socket, Workspace};
use execdash::{Invocation, RunningServer, Telemetry};
use serde_json::{json, Value};

async fn hook(server: &RunningServer, query: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/hooks/claude{query}", server.addr))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn sessions(server: &RunningServer, query: &str) -> (u16, Value) {
    let response = reqwest::get(format!("http://{}/api/sessions{query}", server.addr))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn socket(server: &RunningServer) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    next_envelope(&mut socket).await;
    socket
}

/// The next `session.updated`.
async fn next_session(socket: &mut Socket) -> SessionSummary {
    loop {
        if let ServerEvent::SessionUpdated { session } = next_envelope(socket).await.event {
            return session;
        }
    }
}

fn event(name: &str, extra: Value) -> Value {
    let mut body = json!({
        "session_id": "5f1c2a9e-aaaa-4c35-9a61-000000000001",
        "transcript_path": "/home/dev/.claude/projects/-work-repo/5f1c.jsonl",
        "cwd": "/work/repo",
        "permission_mode": "default",
        "hook_event_name": name,
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_move_a_sessions_state_live_and_its_calls_say_what_it_spent() {
    let workspace = Workspace::empty();
    workspace.write(
        "assigned/backend-dev/T-7.yaml",
        "id: T-7\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
    );
    let server = common::start_server(&workspace, |_| {}).await;
    let mut socket = socket(&server).await;

    let query = "?agent=backend-dev&task=T-7";
    assert_eq!(
        hook(
            &server,
            query,
            event("SessionStart", json!({"source": "startup"}))
        )
        .await
        .0,
        200
    );
    let session = next_session(&mut socket).await;
    assert_eq!(session.state, SessionState::Working);
    assert_eq!(
        (session.agent.as_deref(), session.task_id.as_deref()),
        (Some("backend-dev"), Some("T-7"))
    );
    hook(
        &server,
        query,
        event(
            "UserPromptSubmit",
            json!({"prompt": "write the rate limiter"}),
        ),
    )
    .await;
    hook(
        &server,
        query,
        event(
            "PreToolUse",
            json!({"tool_name": "Write", "tool_input": {"file_path": "/work/repo/a.rs"}}),
        ),
    )
    .await;
    // A permission prompt: waiting, with the agent's words; counted in the list's filter.
    let (status, _) = hook(
        &server,
        query,
        event("Notification", json!({"message": "Claude needs your permission to use Write", "notification_type": "permission_prompt"})),
    )
    .await;
    assert_eq!(status, 200);
    let waiting = loop {
        let session = next_session(&mut socket).await;
        if session.state == SessionState::Waiting {
            break session;
        }
    };
    assert_eq!(
        waiting.waiting_for.as_deref(),
        Some("Claude needs your permission to use Write")
    );
    let (_, listed) = sessions(&server, "?state=waiting").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(sessions(&server, "?state=working").await.1, json!([]));
    // Answered: the tool runs, working again.
    hook(
        &server,
        query,
        event(
            "PostToolUse",
            json!({"tool_name": "Write", "tool_response": {"success": true}}),
        ),
    )
    .await;
    let working = next_session(&mut socket).await;
    assert_eq!((working.state, working.tools), (SessionState::Working, 1));

    // Its calls, stored (as OTLP or a transcript would): what it spent.
    let telemetry = Telemetry::open(workspace.root().join("telemetry.db"))
        .await
        .unwrap();
    let mut call = Invocation::new("claude-code:req_1", "claude-code", "claude-sonnet-4-5");
    call.timestamp = Some(chrono::Utc::now().to_rfc3339());
    call.session_id = Some("5f1c2a9e-aaaa-4c35-9a61-000000000001".into());
    call.source = Some("claude-code".into());
    call.prompt_tokens = 2234;
    call.cache_read_tokens = Some(700);
    call.completion_tokens = 56;
    call.total_tokens = 2290;
    call.cost_usd = 0.005877;
    telemetry.ingest(vec![call]).await.unwrap();
    let spent = loop {
        let session = next_session(&mut socket).await;
        if session.calls == 1 {
            break session;
        }
    };
    assert!((spent.cost_usd - 0.005877).abs() < 1e-12, "{spent:?}");
    assert_eq!(spent.models, ["claude-sonnet-4-5"]);
    assert!((spent.cache_hit_rate.unwrap() - 700.0 / 2234.0).abs() < 1e-9);
    assert!((spent.burn_rate_usd_per_hour - 0.005877 * 6.0).abs() < 1e-9);

    hook(
        &server,
        query,
        event("Stop", json!({"stop_hook_active": false})),
    )
    .await;
    assert_eq!(next_session(&mut socket).await.state, SessionState::Idle);
    hook(
        &server,
        query,
        event("SessionEnd", json!({"reason": "prompt_input_exit"})),
    )
    .await;
    assert_eq!(next_session(&mut socket).await.state, SessionState::Ended);
    // A call the agent exports as it exits comes after its end: still its.
    let mut late = Invocation::new("claude-code:req_2", "claude-code", "claude-sonnet-4-5");
    late.timestamp = Some(chrono::Utc::now().to_rfc3339());
    late.session_id = Some("5f1c2a9e-aaaa-4c35-9a61-000000000001".into());
    late.source = Some("claude-code".into());
    late.cost_usd = 0.001;
    telemetry.ingest(vec![late]).await.unwrap();
    let after = next_session(&mut socket).await;
    assert_eq!((after.state, after.calls), (SessionState::Ended, 2));
    let (_, ended) = sessions(&server, "?state=ended&agent=backend-dev&task=T-7").await;
    assert_eq!(ended.as_array().unwrap().len(), 1, "{ended}");
    let (detail, kinds) =
        common::session_detail(&server, "5f1c2a9e-aaaa-4c35-9a61-000000000001").await;
    for kind in [
        "start",
        "prompt",
        "tool",
        "notification",
        "call",
        "stop",
        "end",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let prompt = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "prompt")
        .unwrap();
    assert_eq!(
        prompt["detail"], "22 characters",
        "a prompt's size, never its text"
    );
    assert!(!detail.to_string().contains("rate limiter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_task_is_in_progress_stalls_when_nothing_comes() {
    let workspace = Workspace::empty();
    workspace.write(
        "assigned/backend-dev/T-7.yaml",
        "id: T-7\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
    );
    let server = common::start_server(&workspace, |config| {
        config.session_timing.working_within = Duration::from_millis(300);
        config.session_timing.stalled_after = Duration::from_millis(2500);
    })
    .await;
    let mut socket = socket(&server).await;
    // No task named: the one task in progress is its, inferred.
    hook(
        &server,
        "",
        event("UserPromptSubmit", json!({"prompt": "go"})),
    )
    .await;
    let session = next_session(&mut socket).await;
    assert_eq!(
        (
            session.state,
            session.task_id.as_deref(),
            session.attribution.as_deref()
        ),
        (SessionState::Working, Some("T-7"), Some("inferred"))
    );
    // The clock alone moves it: idle, then stalled.
    assert_eq!(next_session(&mut socket).await.state, SessionState::Idle);
    assert_eq!(next_session(&mut socket).await.state, SessionState::Stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_hook_bodies_are_refused_clearly_and_change_nothing() {
    let workspace = Workspace::empty();
    let server = common::start_server(&workspace, |_| {}).await;
    let (status, body) = hook(&server, "", event("Teleport", json!({}))).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("Teleport"),
        "{body}"
    );
    let (status, body) = hook(&server, "", json!({"hook_event_name": "Stop"})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("session_id"),
        "{body}"
    );
    let (status, _) = hook(&server, "", event("Stop", json!({"session_id": 42}))).await;
    assert_eq!(status, 400);
    let (status, _) = hook(&server, "", json!(["Stop"])).await;
    assert_eq!(status, 400);
    let huge = event(
        "PostToolUse",
        json!({"tool_name": "Write", "tool_response": "x".repeat(2 * 1024 * 1024)}),
    );
    let (status, _) = hook(&server, "", huge).await;
    assert_eq!(status, 413);
    let response = reqwest::Client::new()
        .post(format!("http://{}/hooks/claude", server.addr))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        sessions(&server, "").await,
        (200, json!([])),
        "nothing was taken"
    );
    let (status, body) = sessions(&server, "?state=asleep").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("asleep"), "{body}");
    // And the server serves on.
    assert_eq!(
        reqwest::get(format!("http://{}/health", server.addr))
            .await
            .unwrap()
            .status(),
        200
    );
}
