//! A real server on loopback: HTTP answers from memory in the original's shapes, and a WebSocket
//! client sees the ack, every change in order, pongs, and clear refusals.

mod common;

use app::model::{ServerEvent, DONE_WINDOW, LANE_WINDOW};
use common::{eventually, task_yaml, Workspace};
use execdash::Config;
use execdash::RunningServer;
use futures_util::SinkExt;
use serde_json::Value;
use sqlx::ConnectOptions;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

async fn start(workspace: &Workspace) -> RunningServer {
    start_with(workspace, |_| {}).await
}

async fn start_with(workspace: &Workspace, adjust: impl FnOnce(&mut Config)) -> RunningServer {
    common::start_server(workspace, adjust).await
}

use common::{next_envelope, Socket};

async fn connect(server: &RunningServer) -> Socket {
    connect_to(server, "/ws").await
}

async fn connect_to(server: &RunningServer, path: &str) -> Socket {
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{}{path}", server.addr))
        .await
        .unwrap();
    socket
}

async fn get_json(server: &RunningServer, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("http://{}{path}", server.addr))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_socket_acks_with_the_board_then_streams_changes() {
    let workspace = Workspace::demo();
    let server = start(&workspace).await;
    let mut socket = connect(&server).await;
    let ack = next_envelope(&mut socket).await;
    let ServerEvent::ConnectionAck {
        snapshot: Some(snapshot),
        version,
    } = ack.event
    else {
        panic!("{ack:?}")
    };
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert_eq!(snapshot.tasks.len(), 14);
    assert_eq!(snapshot.seq, ack.seq);

    workspace.write("inbox/new.yaml", &task_yaml("new", "Fresh"));
    let created = next_envelope(&mut socket).await;
    assert_eq!(created.seq, ack.seq + 1);
    let ServerEvent::TaskCreated { task } = created.event else {
        panic!("{created:?}")
    };
    assert_eq!(task.title, "Fresh");

    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    let pong = next_envelope(&mut socket).await;
    assert_eq!(pong.event.name(), "pong");
    assert_eq!(pong.seq, created.seq, "pong carries the last seq sent");

    socket
        .send(Message::text(r#"{"type":"resync"}"#))
        .await
        .unwrap();
    let resync = next_envelope(&mut socket).await;
    let ServerEvent::Snapshot { snapshot } = resync.event else {
        panic!("{resync:?}")
    };
    assert_eq!(snapshot.tasks.len(), 15);

    socket
        .send(Message::text(r#"{"type":"drop tables"}"#))
        .await
        .unwrap();
    // Answered with an error message (the socket stays open; see tests/access.rs).
    let answer = next_envelope(&mut socket).await;
    let ServerEvent::Error { message } = answer.event else {
        panic!("{answer:?}")
    };
    assert!(message.contains("unknown variant"), "{message}");
    assert_eq!(answer.seq, snapshot.seq);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn sockets_from_other_origins_are_refused() {
    let workspace = Workspace::empty();
    let server = start(&workspace).await;
    let mut request = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }
    let mut request = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .unwrap();
    let own = format!("http://{}", server.addr);
    request.headers_mut().insert("origin", own.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http_answers_in_the_original_shapes() {
    let workspace = Workspace::demo();
    fs_empty_agent(&workspace);
    let server = start(&workspace).await;

    let (status, tasks) = get_json(&server, "/api/tasks").await;
    assert_eq!(status, 200);
    assert_eq!(tasks["inbox"].as_array().unwrap().len(), 4);
    assert_eq!(tasks["assigned"]["architect"].as_array().unwrap().len(), 2);
    assert_eq!(tasks["assigned"]["empty-agent"], serde_json::json!([]));
    assert_eq!(
        tasks["done"]["curator"][0]["id"],
        "2026-02-12T1052-curator-refactoring-readme-count-fix"
    );
    assert!(tasks["timestamp"].as_str().unwrap().ends_with('Z'));

    let (_, without_done) = get_json(&server, "/api/tasks?include_done=false").await;
    assert_eq!(without_done["done"], serde_json::json!({}));
    assert_eq!(without_done["error"], serde_json::json!({}));
    let (status, bad) = get_json(&server, "/api/tasks?include_done=maybe").await;
    assert_eq!(status, 400);
    assert_eq!(bad["field"], "include_done");

    let (status, stats) = get_json(&server, "/api/stats").await;
    assert_eq!(status, 200);
    assert_eq!(
        stats["tasks"],
        serde_json::json!({"inbox": 4, "assigned": 5, "done": 5, "total": 14})
    );

    let (status, problems) = get_json(&server, "/api/problems").await;
    assert_eq!(status, 200);
    assert_eq!(problems["count"], 1);
    assert!(problems["problems"][0]["line"].as_u64().is_some());

    let (status, one) = get_json(
        &server,
        "/api/tasks/2025-11-23T2134-curator-add-github-issue-type-for-orch-task",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["column"], "inbox");
    let (status, missing) = get_json(&server, "/api/tasks/nope").await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "Task not found: nope");
    let (status, unknown) = get_json(&server, "/api/unknown").await;
    assert_eq!(status, 404);
    assert!(unknown["error"].as_str().unwrap().contains("/api/unknown"));

    let page = reqwest::get(format!("http://{}/", server.addr))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Execution Dashboard"));
    assert!(
        html.contains("Create github issue type for orchestration task"),
        "SSR shows the tasks"
    );
    // The board travels with the page, in Leptos's hydration data: the browser hydrates on it
    // without fetching it.
    let (_, hydration_data) = html
        .split_once("__RESOLVED_RESOURCES")
        .expect("the page carries hydration data");
    assert!(hydration_data.contains("Create github issue type for orchestration task"));

    let (status, health) = get_json(&server, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn writes_are_bounded_and_checked() {
    let workspace = Workspace::empty();
    let server = start(&workspace).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/invocations", server.addr);
    // Over the 1 MiB body limit: 413, nothing written.
    let huge = format!("[{}]", vec![r#"{"invocation_id":"x"}"#; 60_000].join(","));
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("larger than the limit"));
    // From another origin: 403.
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .header("origin", "http://evil.example")
        .body(r#"{"invocation_id":"y","tool_name":"t","model_name":"m","status":"success"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // Wrong types: 400 naming the field.
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"invocation_id":"z","tool_name":"t","model_name":"m","status":"success","total_tokens":"many"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["field"], "total_tokens");
    server.stop().await.unwrap();
    // Counted in the file itself, not in a summary the server may have cached.
    let db = workspace.root().join("telemetry.db");
    let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invocations")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(rows, 0, "nothing was written");
}

fn fs_empty_agent(workspace: &Workspace) {
    std::fs::create_dir_all(workspace.path("assigned/empty-agent")).unwrap();
}

#[tokio::test]
async fn a_task_is_found_by_its_id_or_by_its_file_name() {
    let workspace = Workspace::empty();
    workspace.write("inbox/file-name.yaml", "id: the-id\ntitle: Named apart\n");
    workspace.write("assigned/bob/the-id.yaml", "id: other\ntitle: Decoy\n");
    let server = start(&workspace).await;
    // The id wins over a file of that name.
    let (status, by_id) = get_json(&server, "/api/tasks/the-id").await;
    assert_eq!(status, 200);
    assert_eq!(by_id["path"], "inbox/file-name.yaml");
    for name in ["file-name", "file-name.yaml"] {
        let (status, by_file) = get_json(&server, &format!("/api/tasks/{name}")).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(by_file["id"], "the-id", "{name}");
    }
    let (status, too_long) = get_json(&server, &format!("/api/tasks/{}", "x".repeat(513))).await;
    assert_eq!(status, 400);
    assert_eq!(too_long["field"], "id");
    server.stop().await.unwrap();
}

/// A lane of 120 realistic tasks: the page and the socket's snapshot carry its newest 50 cards as
/// summaries (no description, no document), the rest comes in pages, the detail whole by path,
/// and `/api/tasks` still exports every document.
#[tokio::test]
async fn a_long_lane_is_served_in_pages_and_the_page_carries_summaries_only() {
    let workspace = Workspace::empty();
    let description =
        "Long description that only the detail view and the export carry. ".repeat(40);
    for i in 0..120 {
        workspace.write(
            &format!("done/bulk/task-{i:03}.yaml"),
            &format!(
                "id: task-{i:03}\ntitle: Bulk {i}\nupdated_at: 2026-01-01T{:02}:{:02}:00Z\ndescription: \"{description}\"\n",
                i / 60,
                i % 60
            ),
        );
    }
    let server = start(&workspace).await;

    let page = reqwest::get(format!("http://{}/", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Long description"),
        "the page carries no description"
    );
    // A Done lane shows its newest DONE_WINDOW cards until asked for all.
    assert_eq!(
        page.matches(r#"data-path="done/bulk/"#).count(),
        DONE_WINDOW
    );
    assert!(
        page.contains(r#"data-path="done/bulk/task-119.yaml""#),
        "newest first"
    );
    assert!(page.contains("Show all 120"));

    let mut socket = connect(&server).await;
    let ServerEvent::ConnectionAck {
        snapshot: Some(snapshot),
        ..
    } = next_envelope(&mut socket).await.event
    else {
        panic!("the first message is the ack, with the board");
    };
    assert_eq!(snapshot.tasks.len(), LANE_WINDOW);
    assert_eq!(snapshot.lanes["done/bulk"], 120);

    let (status, rest) = get_json(
        &server,
        "/api/board/lane?lane=done/bulk&offset=50&limit=100",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(rest["count"], 120);
    assert_eq!(rest["tasks"].as_array().unwrap().len(), 70);
    assert_eq!(rest["tasks"][69]["path"], "done/bulk/task-000.yaml");
    assert!(rest["tasks"][0].get("description").is_none());
    for (query, field) in [
        ("lane=../etc&limit=1", "lane"),
        ("lane=done/bulk&limit=many", "limit"),
        ("lane=done/bulk&limit=10001", "limit"),
        ("offset=1", "lane"),
    ] {
        let (status, error) = get_json(&server, &format!("/api/board/lane?{query}")).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{query}"
        );
    }

    let (status, whole) = get_json(&server, "/api/board/task?path=done/bulk/task-007.yaml").await;
    assert_eq!(status, 200);
    assert!(whole["task"]["description"]
        .as_str()
        .unwrap()
        .starts_with("Long description"));
    assert_eq!(whole["task"]["document"]["id"], "task-007");
    let (status, _) = get_json(&server, "/api/board/task?path=done/bulk/nope.yaml").await;
    assert_eq!(status, 404);

    let (status, export) = get_json(&server, "/api/tasks").await;
    assert_eq!(status, 200);
    let documents = export["done"]["bulk"].as_array().unwrap();
    assert_eq!(documents.len(), 120);
    assert_eq!(documents[0]["id"], "task-119");
    assert!(documents
        .iter()
        .all(|d| d["description"].as_str() == Some(description.as_str())));
    server.stop().await.unwrap();
}

/// The server answers before the board is read: `/health` says `starting` with the progress, and
/// `ok` once all 10 000 files are on the board.
#[tokio::test]
async fn it_listens_at_once_and_reads_the_board_meanwhile() {
    let workspace = Workspace::empty();
    for i in 0..10_000 {
        workspace.write(
            &format!("inbox/task-{i:05}.yaml"),
            &task_yaml(&format!("task-{i:05}"), "Waiting to be read"),
        );
    }
    let mut config = execdash::Config::new(workspace.root());
    config.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.site_root = Some(workspace.root().join("no-site"));
    let server = execdash::start_listening(config).await.unwrap();
    let health_url = format!("http://{}/health", server.addr);
    let fetch_health = || async {
        let response = reqwest::get(&health_url).await.unwrap();
        response.json::<serde_json::Value>().await.unwrap()
    };
    let health = fetch_health().await;
    assert_eq!(health["status"], "starting", "{health}");
    let read = health["startup"]["files_read"].as_u64().unwrap();
    let total = health["startup"]["files_total"].as_u64().unwrap();
    assert!(read <= total && total <= 10_000, "{health}");

    server.store.startup().finished().await;
    let health = fetch_health().await;
    assert_eq!(health["status"], "ok", "{health}");
    assert!(health.get("startup").is_none(), "{health}");
    assert_eq!(server.store.counts().total, 10_000);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_names_the_board_it_holds_gets_an_ack_without_it() {
    let workspace = Workspace::demo();
    let server = start(&workspace).await;
    let (_, snapshot) = get_json(&server, "/api/snapshot").await;
    let seq = snapshot["seq"].as_u64().unwrap();
    let instance = snapshot["instance"].as_str().unwrap().to_owned();
    assert_eq!(instance.len(), 16, "an instance name: {instance}");

    // Holding the board as it is now: the ack says so, without the board.
    let mut current = connect_to(&server, &format!("/ws?since={seq}&instance={instance}")).await;
    let ack = next_envelope(&mut current).await;
    assert_eq!(ack.seq, seq);
    assert!(
        matches!(ack.event, ServerEvent::ConnectionAck { snapshot: None, .. }),
        "{ack:?}"
    );
    // Changes follow as usual.
    workspace.write("inbox/after.yaml", &task_yaml("after", "After"));
    let created = next_envelope(&mut current).await;
    assert_eq!(
        (created.seq, created.event.name()),
        (seq + 1, "task.created"),
        "{created:?}"
    );

    // An older seq, or another run's instance: the board comes with the ack.
    for stale in [
        format!("/ws?since={seq}&instance={instance}"),
        format!("/ws?since={}&instance=0000000000000000", seq + 1),
    ] {
        let mut socket = connect_to(&server, &stale).await;
        let ack = next_envelope(&mut socket).await;
        let ServerEvent::ConnectionAck {
            snapshot: Some(snapshot),
            ..
        } = ack.event
        else {
            panic!("{stale}: {ack:?}")
        };
        assert_eq!(snapshot.seq, seq + 1);
        assert_eq!(snapshot.instance, instance);
    }

    // Half of it, or not a number: 400 naming the field, before any upgrade.
    for (query, field) in [
        ("since=3", "instance"),
        ("instance=abc", "since"),
        ("since=three&instance=abc", "since"),
    ] {
        let response = reqwest::Client::new()
            .get(format!("http://{}/ws?{query}", server.addr))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
}

/// A root without `work/collaboration` (a wrong `--root`) is a problem on the board until the
/// folder appears, not an empty board in silence.
#[tokio::test]
async fn a_missing_board_folder_is_a_problem_until_it_appears() {
    let workspace = common::Workspace::bare();
    let server = common::start_server(&workspace, |_| {}).await;
    let problems = || async {
        reqwest::get(format!("http://{}/api/problems", server.addr))
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let listed = problems().await;
    let text = listed.to_string();
    assert!(
        text.contains("\"work/collaboration\"") && text.contains("is --root the repository?"),
        "{listed}"
    );
    for folder in ["inbox", "assigned", "done"] {
        std::fs::create_dir_all(workspace.collab().join(folder)).unwrap();
    }
    eventually(
        "the problem gone",
        std::time::Duration::from_secs(5),
        || async {
            let listed = problems().await.to_string();
            if listed.contains("work/collaboration") {
                Err(listed)
            } else {
                Ok(())
            }
        },
    )
    .await;
}

/// wasm-bindgen's TypeScript declarations are served as text, not as an MPEG stream (`.ts`).
#[tokio::test]
async fn typescript_declarations_are_served_as_text() {
    let workspace = common::Workspace::empty();
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(
        site.path().join("pkg/execdash.d.ts"),
        "export function hydrate(): void;\n",
    )
    .unwrap();
    let server = common::start_server(&workspace, |config| {
        config.site_root = Some(site.path().to_owned());
    })
    .await;
    let response = reqwest::get(format!("http://{}/pkg/execdash.d.ts", server.addr))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
}
