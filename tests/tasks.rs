//! Working with one task through a real server on a real folder: its detail (texts rendered and
//! sanitized on the server, related tasks, the file), and the opt-in edits of its priority and
//! specification in the original's request and error shapes, changing one line of the file.

mod common;

use std::time::Duration;

use app::model::ServerEvent;
use common::{eventually, next_envelope, Workspace};
use execdash::RunningServer;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use serde_json::{json, Value};

const TASK: &str = "\
# Planning owns this file; keep the comments.
id: parser
title: \"Parse the agent profiles\"
agent: python-pedro
status: new
priority: 'HIGH'   # agreed on Monday
dependencies: [schema, nowhere]
description: |
  Read **every** profile.

  | field | kind |
  |-------|------|
  | name  | text |

  - [x] frontmatter
  - [ ] body
context:
  phase: one
acceptance_criteria:
  - Profiles load in <50 ms
  - \"<script>alert(1)</script> is shown as text\"
";

fn workspace() -> Workspace {
    let workspace = Workspace::empty();
    workspace.write("inbox/parser.yaml", TASK);
    workspace.write(
        "assigned/python-pedro/schema.yaml",
        "id: schema\ntitle: Define the schema\nstatus: in_progress\n",
    );
    std::fs::create_dir_all(workspace.root().join("specifications/demo")).unwrap();
    std::fs::write(
        workspace.root().join("specifications/demo/feature-a.md"),
        "---\nid: SPEC-A\n---\n",
    )
    .unwrap();
    workspace
}

async fn writable(workspace: &Workspace) -> RunningServer {
    common::start_server(workspace, |config| config.allow_writes = true).await
}

/// Logs `body` (one invocation or a batch) through the API; it must be stored.
async fn post_invocations(server: &RunningServer, body: &impl serde::Serialize) {
    let posted = reqwest::Client::new()
        .post(url(server, "/api/invocations"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
}

fn url(server: &RunningServer, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

async fn patch(
    server: &RunningServer,
    path: &str,
    body: &str,
    if_match: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .patch(url(server, path))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    if let Some(tag) = if_match {
        request = request.header(IF_MATCH, tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_detail_renders_markdown_safely_and_links_related_tasks() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let response = reqwest::get(url(&server, "/api/board/task?id=parser"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    let details: Value = response.json().await.unwrap();
    assert_eq!(etag, format!("\"{}\"", details["etag"].as_str().unwrap()));
    let html = |field: &str| {
        details["texts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["field"] == field)
            .map(|t| t["html"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {field} in {details}"))
    };
    let description = html("description");
    assert!(
        description.contains("<strong>every</strong>"),
        "{description}"
    );
    assert!(description.contains("<table>"), "{description}");
    assert!(description.contains("type=\"checkbox\""), "{description}");
    assert!(html("context").contains("<strong>phase</strong>: one"));
    let criteria = html("acceptance_criteria");
    assert!(!criteria.contains("<script"), "{criteria}");
    assert!(criteria.contains("&lt;script&gt;") || !criteria.contains("alert(1)</script>"));
    assert_eq!(
        details["links"],
        json!([
            {"field": "dependencies", "id": "schema", "title": "Define the schema"},
            {"field": "dependencies", "id": "nowhere", "title": null},
        ])
    );
    assert_eq!(details["yaml"], TASK);
    // By path too; an unknown task is a 404 in the error shape; the page for it says so.
    let (status, by_path) = get_json(&server, "/api/board/task?path=inbox/parser.yaml").await;
    assert_eq!((status, &by_path["task"]["id"]), (200, &json!("parser")));
    let (status, missing) = get_json(&server, "/api/board/task?id=nope").await;
    assert_eq!(
        (status, missing["error"].as_str()),
        (404, Some("Task not found: nope"))
    );
    let page = reqwest::get(url(&server, "/tasks/parser")).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("<strong>every</strong>"),
        "the page is rendered with the detail"
    );
    assert!(page.contains("<title>Parse the agent profiles · execdash</title>"));
    let page = reqwest::get(url(&server, "/tasks/nope")).await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Task not found: nope"));
}

async fn get_json(server: &RunningServer, path: &str) -> (u16, Value) {
    let response = reqwest::get(url(server, path)).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn editing_is_off_unless_allowed() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":"LOW"}"#,
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert!(body["error"].as_str().unwrap().contains("--allow-writes"));
    assert_eq!(
        std::fs::read_to_string(workspace.path("inbox/parser.yaml")).unwrap(),
        TASK
    );
}

#[tokio::test]
async fn a_priority_edit_changes_one_line_and_every_client_sees_it() {
    let workspace = workspace();
    let server = writable(&workspace).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    next_envelope(&mut socket).await; // the ack

    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":"low"}"#,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["task"]["priority"], "LOW");
    let on_disk = std::fs::read_to_string(workspace.path("inbox/parser.yaml")).unwrap();
    assert_eq!(
        on_disk,
        TASK.replace("priority: 'HIGH'   # agreed", "priority: 'LOW'   # agreed")
    );
    let leftovers: Vec<_> = std::fs::read_dir(workspace.path("inbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(leftovers, ["parser.yaml"], "no temporary file is left");

    // Every client hears of it, once.
    let event = next_envelope(&mut socket).await;
    match event.event {
        ServerEvent::TaskUpdated { task } => {
            assert_eq!(task.id, "parser");
            assert_eq!(task.priority, Some(app::model::Priority::Low));
        }
        other => panic!("expected task.updated, got {other:?}"),
    }
    let quiet = tokio::time::timeout(Duration::from_millis(600), next_envelope(&mut socket)).await;
    assert!(
        quiet.is_err(),
        "the watcher sees the file it already has: no second event ({quiet:?})"
    );

    // `normal` only in lower case, as in the original.
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":"NORMAL"}"#,
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "priority: Invalid priority. Must be one of: CRITICAL, HIGH, LOW, MEDIUM, normal"
    );
}

#[tokio::test]
async fn edits_are_refused_with_the_originals_errors_and_the_file_is_untouched() {
    let workspace = workspace();
    let server = writable(&workspace).await;
    let cases: [(&str, &str, u16, &str); 9] = [
        (
            "/api/tasks/parser/priority",
            "not json",
            400,
            "Request must be JSON",
        ),
        (
            "/api/tasks/parser/priority",
            "{}",
            400,
            "Missing priority field",
        ),
        (
            "/api/tasks/parser/priority",
            r#"{"priority":"urgent"}"#,
            400,
            "Invalid priority",
        ),
        (
            "/api/tasks/a.b/priority",
            r#"{"priority":"LOW"}"#,
            400,
            "Invalid task ID format: a.b",
        ),
        (
            "/api/tasks/..%5Cx/priority",
            r#"{"priority":"LOW"}"#,
            400,
            "path traversal",
        ),
        (
            "/api/tasks/unknown/priority",
            r#"{"priority":"LOW"}"#,
            404,
            "Task not found: unknown",
        ),
        (
            "/api/tasks/schema/priority",
            r#"{"priority":"LOW"}"#,
            409,
            "Cannot edit task with status 'in_progress'",
        ),
        (
            "/api/tasks/parser/specification",
            r#"{"specification":"../../../etc/passwd"}"#,
            400,
            "Invalid specification path: contains path traversal: ../../../etc/passwd",
        ),
        (
            "/api/tasks/parser/specification",
            r#"{"specification":"specifications/nonexistent.md"}"#,
            400,
            "Specification file not found: specifications/nonexistent.md",
        ),
    ];
    for (path, body, status, message) in cases {
        let (got, answer) = if body == "not json" {
            let response = reqwest::Client::new()
                .patch(url(&server, path))
                .header(CONTENT_TYPE, "text/plain")
                .body(body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        } else {
            patch(&server, path, body, None).await
        };
        assert_eq!(got, status, "{path} {body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(message),
            "{path} {body}: {answer}"
        );
    }
    let (status, answer) = patch(
        &server,
        "/api/tasks/schema/specification",
        r#"{"specification":"specifications/demo/feature-a.md"}"#,
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .starts_with("Cannot assign tasks with status 'in_progress'"));
    assert_eq!(
        std::fs::read_to_string(workspace.path("inbox/parser.yaml")).unwrap(),
        TASK
    );
}

#[tokio::test]
async fn an_edit_of_a_file_changed_since_it_was_read_is_a_conflict() {
    let workspace = workspace();
    let server = writable(&workspace).await;
    let read = reqwest::get(url(&server, "/api/board/task?id=parser"))
        .await
        .unwrap();
    let etag = read.headers()[ETAG].to_str().unwrap().to_owned();
    // Someone else changes the file meanwhile.
    let changed = TASK.replace("status: new", "status: blocked");
    workspace.write("inbox/parser.yaml", &changed);
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":"LOW"}"#,
        Some(&etag),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("modified by another user"));
    assert_eq!(
        std::fs::read_to_string(workspace.path("inbox/parser.yaml")).unwrap(),
        changed
    );
    // The original's `last_modified` precondition works the same way.
    workspace.write(
        "inbox/parser.yaml",
        &format!("{changed}last_modified: '2026-02-06T10:00:00Z'\n"),
    );
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":"LOW","last_modified":"2026-01-01T00:00:00Z"}"#,
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["error"],
        "Task was modified by another user. Current: 2026-02-06T10:00:00Z, Provided: 2026-01-01T00:00:00Z"
    );
    // With the current version it goes through.
    let current = reqwest::get(url(&server, "/api/board/task?id=parser"))
        .await
        .unwrap()
        .headers()[ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":"critical"}"#,
        Some(&current),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["task"]["priority"], "CRITICAL");
}

#[tokio::test]
async fn an_edit_changes_the_file_it_names_and_an_id_shared_by_several_files_is_a_conflict() {
    let workspace = Workspace::empty();
    let named = "id: named\ntitle: The real one\nstatus: new\npriority: HIGH\n";
    let shadow = "id: named\ntitle: A copy under another name\nstatus: new\npriority: HIGH\n";
    workspace.write("inbox/named.yaml", named);
    workspace.write("inbox/named-shadow.yaml", shadow);
    let server = writable(&workspace).await;
    let on_disk = |path: &str| std::fs::read_to_string(workspace.path(path)).unwrap();

    // A file name names that file, whichever other file has its id.
    for _ in 0..5 {
        let (status, body) = patch(
            &server,
            "/api/tasks/named.yaml/priority",
            r#"{"priority":"LOW"}"#,
            None,
        )
        .await;
        assert_eq!(
            (status, &body["path"]),
            (200, &json!("inbox/named.yaml")),
            "{body}"
        );
        assert_eq!(on_disk("inbox/named.yaml"), named.replace("HIGH", "LOW"));
        assert_eq!(
            on_disk("inbox/named-shadow.yaml"),
            shadow,
            "the other file is untouched"
        );
    }
    // The id alone answers to two files: a 409 naming both, and nothing changes.
    let (status, body) = patch(
        &server,
        "/api/tasks/named/priority",
        r#"{"priority":"CRITICAL"}"#,
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["paths"],
        json!(["inbox/named-shadow.yaml", "inbox/named.yaml"])
    );
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("inbox/named-shadow.yaml, inbox/named.yaml"));
    assert_eq!(on_disk("inbox/named-shadow.yaml"), shadow);
    assert_eq!(on_disk("inbox/named.yaml"), named.replace("HIGH", "LOW"));
    // The page names the file by its path.
    let (status, body) = patch(
        &server,
        "/api/tasks/named/priority?path=inbox%2Fnamed-shadow.yaml",
        r#"{"priority":"CRITICAL"}"#,
        None,
    )
    .await;
    assert_eq!(
        (status, &body["path"]),
        (200, &json!("inbox/named-shadow.yaml")),
        "{body}"
    );
    assert_eq!(
        on_disk("inbox/named-shadow.yaml"),
        shadow.replace("HIGH", "CRITICAL")
    );
    assert_eq!(on_disk("inbox/named.yaml"), named.replace("HIGH", "LOW"));
    // A path and an id that name different tasks, or a path off the board, change nothing.
    workspace.write("inbox/other.yaml", "id: other\nstatus: new\n");
    for query in [
        "other/priority?path=inbox%2Fnamed.yaml",
        "named/priority?path=..%2F..%2Fetc%2Fpasswd",
    ] {
        let (status, body) = patch(
            &server,
            &format!("/api/tasks/{query}"),
            r#"{"priority":"MEDIUM"}"#,
            None,
        )
        .await;
        assert_eq!(status, 404, "{query}: {body}");
    }
    assert_eq!(on_disk("inbox/named.yaml"), named.replace("HIGH", "LOW"));
}

/// Another process appends a line to the task file every 3 ms while 60 edits are made, every
/// other one with the ETag read just before it (a 409 when a line came in between) and the others
/// with no precondition (made again on the new version): every appended line is still in the file
/// at the end, and every edit without a precondition went through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_writers_lines_survive_edits_made_meanwhile() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let workspace = workspace();
    let server = writable(&workspace).await;
    let file = workspace.path("inbox/parser.yaml");
    let stop = Arc::new(AtomicBool::new(false));
    let appender = {
        let stop = stop.clone();
        let file = file.clone();
        std::thread::spawn(move || {
            let mut appended = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut out = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&file)
                    .unwrap();
                out.write_all(format!("# appended {appended}\n").as_bytes())
                    .unwrap();
                drop(out);
                appended += 1;
                // Not a wait for anything: the pace of the appends, while the reads go on.
                std::thread::sleep(Duration::from_millis(3));
            }
            appended
        })
    };
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..60 {
        let read = reqwest::get(url(&server, "/api/board/task?path=inbox/parser.yaml"))
            .await
            .unwrap();
        let etag = read.headers()[ETAG].to_str().unwrap().to_owned();
        let priority = if round % 4 < 2 { "LOW" } else { "HIGH" };
        let with_etag = round % 2 == 0;
        let (status, body) = patch(
            &server,
            "/api/tasks/parser/priority",
            &format!(r#"{{"priority":"{priority}"}}"#),
            with_etag.then_some(etag.as_str()),
        )
        .await;
        assert!(
            status == 200 || (with_etag && status == 409),
            "{status} (with an ETag: {with_etag}): {body}"
        );
        *statuses.entry((with_etag, status)).or_insert(0) += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let appended = appender.join().unwrap();
    // A line that reached a replaced file after its edit answered is carried over within a second
    // (`board::edit`'s late-append watch): every line is there once by then.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let text = loop {
        let text = std::fs::read_to_string(&file).unwrap();
        let lost: Vec<usize> = (0..appended)
            .filter(|n| text.matches(&format!("# appended {n}\n")).count() != 1)
            .collect();
        if lost.is_empty() {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {appended} appended lines lost or doubled ({statuses:?}): {lost:?}",
            lost.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(statuses.get(&(false, 200)), Some(&30), "{statuses:?}");
    assert!(
        appended > 20,
        "the writer ran during the edits ({appended} lines)"
    );
    assert!(text.starts_with("# Planning owns this file; keep the comments.\nid: parser\n"));
}

#[tokio::test]
async fn a_lock_that_is_not_a_string_is_refused_and_a_null_priority_lists_the_values() {
    let workspace = workspace();
    let server = writable(&workspace).await;
    for lock in ["0", "false", "[]", "{}"] {
        let (status, body) = patch(
            &server,
            "/api/tasks/parser/priority",
            &format!(r#"{{"priority":"LOW","last_modified":{lock}}}"#),
            None,
        )
        .await;
        assert_eq!(
            (status, &body["field"]),
            (400, &json!("last_modified")),
            "{lock}: {body}"
        );
    }
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":null}"#,
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "priority: Invalid priority. Must be one of: CRITICAL, HIGH, LOW, MEDIUM, normal"
    );
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/specification",
        r#"{"specification":null}"#,
        None,
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (400, &json!("specification")),
        "{body}"
    );
    assert_eq!(
        std::fs::read_to_string(workspace.path("inbox/parser.yaml")).unwrap(),
        TASK,
        "nothing was written"
    );
    // `null` is absent, as in the original: the edit goes through.
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/priority",
        r#"{"priority":"LOW","last_modified":null}"#,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_specification_is_linked_on_one_line_with_its_feature() {
    let workspace = workspace();
    let server = writable(&workspace).await;
    let (status, body) = patch(
        &server,
        "/api/tasks/parser/specification",
        r#"{"specification":"specifications/demo/feature-a.md","feature":"Rate Limiting"}"#,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["task"]["specification"],
        "specifications/demo/feature-a.md"
    );
    assert_eq!(body["task"]["feature"], "Rate Limiting");
    assert_eq!(
        std::fs::read_to_string(workspace.path("inbox/parser.yaml")).unwrap(),
        format!(
            "{TASK}specification: specifications/demo/feature-a.md\nfeature: \"Rate Limiting\"\n"
        )
    );
}

#[tokio::test]
async fn finished_work_is_listed_in_the_originals_shape() {
    let workspace = workspace();
    workspace.write(
        "done/curator/old.yaml",
        "id: old\ntitle: Old\nstatus: done\n",
    );
    workspace.write(
        "assigned/python-pedro/broke.yaml",
        "id: broke\nstatus: error\n",
    );
    workspace.write("done/curator/odd.yaml", "id: odd\nstatus: review\n");
    let server = common::start_server(&workspace, |_| {}).await;
    let (status, finished) = get_json(&server, "/api/tasks/finished").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = finished
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["broke", "old"], "status done or error, in path order");
    assert_eq!(finished[1]["title"], "Old", "whole documents");
    let (status, without_done) = get_json(&server, "/api/tasks?include_done=FALSE").await;
    assert_eq!(status, 200);
    assert_eq!(without_done["done"], json!({}));
    assert_eq!(without_done["error"], json!({}));
    let (status, bad) = get_json(&server, "/api/tasks?include_done=maybe").await;
    assert_eq!(status, 400);
    assert_eq!(bad["field"], "include_done");
}

#[tokio::test]
async fn exports_follow_the_filter_and_quote_csv_correctly() {
    let workspace = workspace();
    workspace.write(
        "done/curator/quoted.yaml",
        "id: quoted\ntitle: \"Commas, \\\"quotes\\\" and\\nnew lines\"\nagent: curator\nstatus: done\npriority: LOW\n",
    );
    let server = common::start_server(&workspace, |_| {}).await;
    let text = |path: &str| {
        let url = url(&server, path);
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            let disposition = response
                .headers()
                .get("content-disposition")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, disposition, response.text().await.unwrap())
        }
    };
    let (status, disposition, csv) = text("/api/export/tasks.csv").await;
    assert_eq!(status, 200);
    assert!(disposition.unwrap().contains("tasks.csv"));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let quoted = rows.iter().find(|r| &r[0] == "quoted").unwrap();
    assert_eq!(&quoted[1], "Commas, \"quotes\" and\nnew lines");
    // The same parameters as /api/tasks.
    let (_, _, csv) = text("/api/export/tasks.csv?agent=PYTHON-PEDRO&q=profiles").await;
    let ids: Vec<String> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap()[0].to_owned())
        .collect();
    assert_eq!(ids, ["parser"]);
    let (_, _, json_text) = text("/api/export/tasks.json?include_done=false").await;
    let tasks: Value = serde_json::from_str(&json_text).unwrap();
    let ids: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["parser", "schema"]);
    let (_, export) = get_json(&server, "/api/tasks?q=schema").await;
    assert_eq!(export["inbox"].as_array().unwrap().len(), 0);
    assert_eq!(export["assigned"]["python-pedro"][0]["id"], "schema");
    let (status, bad) = get_json(&server, "/api/export/tasks.csv?priority=urgent").await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("priority")));

    // Invocations of a range, streamed.
    let now = chrono::Utc::now();
    let old = (now - chrono::Duration::days(40)).to_rfc3339();
    let body = json!([
        {"invocation_id": "new-1", "tool_name": "t", "model_name": "m, \"large\"", "status": "success",
         "cost_usd": 0.5, "agent_name": "curator", "task_id": "quoted"},
        {"invocation_id": "old-1", "tool_name": "t", "model_name": "m", "status": "success",
         "timestamp": old},
    ]);
    post_invocations(&server, &body).await;
    let (status, _, csv) = text("/api/export/invocations.csv?range=30d").await;
    assert_eq!(status, 200);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!(&rows[0][0], "new-1");
    assert_eq!(&rows[0][4], "m, \"large\"");
    assert_eq!(&rows[0][12], "quoted");
    let (_, _, all) = text("/api/export/invocations.json").await;
    let all: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, bad) = get_json(&server, "/api/export/invocations.csv?range=year").await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("range")));
}

#[tokio::test]
async fn specifications_with_front_matter_are_listed_for_linking() {
    let workspace = Workspace::demo();
    std::fs::write(
        workspace.root().join("specifications/broken.md"),
        "---\nid: BROKEN\ntitle: [unclosed\n---\n",
    )
    .unwrap();
    let server = common::start_server(&workspace, |_| {}).await;
    let (status, list) = get_json(&server, "/api/specifications").await;
    assert_eq!(status, 200, "{list}");
    let specifications = list["specifications"].as_array().unwrap();
    let titles: Vec<_> = specifications
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Source Code Consolidation",
            "Markdown Rendering in Task Detail",
            "Multi-Page Navigation",
            "Orphan Task Assignment",
            "Multi-Tool Distribution",
            "broken",
        ],
        "by initiative, then title; the broken file last, by its name"
    );
    let assignment = &specifications[3];
    assert_eq!(
        assignment["path"],
        "specifications/initiatives/dashboard-enhancements/orphan-task-assignment.md"
    );
    assert_eq!(assignment["id"], "SPEC-DASH-008");
    assert_eq!(assignment["initiative"], "Dashboard Enhancements");
    assert_eq!(assignment["features"][2]["title"], "Conflict handling");
    assert_eq!(specifications[2]["features"][0]["title"], "Dashboard page");
    let problem = &list["problems"][0];
    assert_eq!(problem["path"], "specifications/broken.md");
    assert!(
        problem["error"]
            .as_str()
            .unwrap()
            .starts_with("front matter is not valid YAML: line 4"),
        "{problem}"
    );

    // Every specification a demo task names is one of them.
    let (_, tasks) = get_json(&server, "/api/tasks").await;
    let mut documents: Vec<&Value> = tasks["inbox"].as_array().unwrap().iter().collect();
    for column in ["assigned", "done"] {
        for agent in tasks[column].as_object().unwrap().values() {
            documents.extend(agent.as_array().unwrap());
        }
    }
    let named: Vec<_> = documents
        .iter()
        .filter_map(|task| task["specification"].as_str())
        .collect();
    assert!(named.len() >= 5, "{named:?}");
    for path in named {
        assert!(
            specifications.iter().any(|s| s["path"] == path),
            "{path} is not listed"
        );
    }
}

#[tokio::test]
async fn edits_need_the_token_and_a_page_of_this_dashboard() {
    const TOKEN: &str = "a-token-of-reasonable-length-0123";
    let workspace = workspace();
    let server = common::start_server(&workspace, |config| {
        config.allow_writes = true;
        config.token = Some(TOKEN.into());
    })
    .await;
    let edit = |origin: Option<String>, token: Option<&str>| {
        let mut request = reqwest::Client::new()
            .patch(url(&server, "/api/tasks/parser/priority"))
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"priority":"LOW"}"#);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let own = format!("http://{}", server.addr);
    assert_eq!(edit(Some(own.clone()), None).await, 401, "no token");
    assert_eq!(
        edit(Some("http://evil.example".into()), Some(TOKEN)).await,
        403,
        "another site's page"
    );
    assert_eq!(
        std::fs::read_to_string(workspace.path("inbox/parser.yaml")).unwrap(),
        TASK,
        "nothing written by a refused edit"
    );
    assert_eq!(edit(Some(own), Some(TOKEN)).await, 200);
    assert!(std::fs::read_to_string(workspace.path("inbox/parser.yaml"))
        .unwrap()
        .contains("priority: 'LOW'"));
}

#[tokio::test]
async fn the_portfolio_links_tasks_by_path_or_id_and_lists_only_true_orphans() {
    let workspace = Workspace::empty();
    let spec = |relative: &str, text: &str| {
        let path = workspace.root().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    spec(
        "specifications/a/alpha.md",
        "---\nid: SPEC-A\ntitle: Alpha\nstatus: in_progress\ninitiative: Initiative One\n\
         priority: high\nfeatures:\n  - id: F1\n    title: First\n  - Second\n---\n# Alpha\n",
    );
    spec(
        "specifications/b/beta.md",
        "---\nid: SPEC-B\ntitle: Beta\nstatus: implemented\ninitiative: Initiative One\n\
         priority: LOW\ncompletion: 40\n---\n",
    );
    spec("specifications/c/gamma.md", "# Gamma, no front matter\n");
    let task = |relative: &str, id: &str, extra: &str| {
        workspace.write(relative, &format!("id: {id}\ntitle: Task {id}\n{extra}"));
    };
    task(
        "inbox/t1.yaml",
        "t1",
        "status: done\nspecification: specifications/a/alpha.md\nfeature: First\n",
    );
    task(
        "assigned/dev/t2.yaml",
        "t2",
        "status: in_progress\nspecification: ./specifications/a/alpha.md\nfeature: f1\n",
    );
    task(
        "assigned/dev/t3.yaml",
        "t3",
        "status: blocked\nspecification: SPEC-A\n",
    );
    task(
        "done/dev/t4.yaml",
        "t4",
        "status: done\nspecification: SPEC-B\n",
    );
    task(
        "inbox/t5.yaml",
        "t5",
        "status: new\nspecification: specifications/missing.md\n",
    );
    task("inbox/t6.yaml", "t6", "status: new\npriority: high\n");
    // The original's invalid paths: never linked, even when they would reach a specification.
    task(
        "inbox/t7.yaml",
        "t7",
        "specification: specifications/a/../a/alpha.md\n",
    );
    task(
        "inbox/t8.yaml",
        "t8",
        &format!(
            "specification: {}\n",
            workspace.root().join("specifications/a/alpha.md").display()
        ),
    );
    let server = common::start_server(&workspace, |_| {}).await;

    let (status, portfolio) = get_json(&server, "/api/portfolio").await;
    assert_eq!(status, 200, "{portfolio}");
    let initiatives = portfolio["initiatives"].as_array().unwrap();
    let titles: Vec<_> = initiatives.iter().map(|i| &i["title"]).collect();
    assert_eq!(titles, ["Initiative One", "No initiative"]);
    let one = &initiatives[0];
    assert_eq!(one["id"], "initiative-one");
    assert_eq!(one["status"], "implemented", "the most advanced");
    assert_eq!(one["priority"], "HIGH", "the highest, in any case");
    assert_eq!(
        (one["spec_count"].as_u64(), one["task_count"].as_u64()),
        (Some(2), Some(4))
    );
    // Alpha 3 tasks at (100 + 50 + 25) / 3 = 58, Beta 1 task at its completion 40.
    assert_eq!(one["progress"], (58 * 3 + 40) / 4);

    let alpha = &one["specifications"][0];
    assert_eq!(alpha["title"], "Alpha");
    assert_eq!(alpha["progress"], 58);
    assert_eq!(alpha["specification_path"], "a/alpha.md");
    assert_eq!(alpha["path"], "specifications/a/alpha.md");
    let linked: Vec<_> = alpha["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(linked, ["t1", "t2", "t3"], "by path, with ./, and by id");
    let first = &alpha["features"][0];
    assert_eq!(
        (first["title"].as_str(), first["task_count"].as_u64()),
        (Some("First"), Some(2))
    );
    assert_eq!(first["progress"], 75, "by title and by id, in any case");
    assert_eq!(alpha["features"][1]["task_count"], 0);

    let beta = &one["specifications"][1];
    assert_eq!(
        (beta["progress"].as_u64(), beta["completion"].as_u64()),
        (Some(40), Some(40))
    );
    assert_eq!(beta["done_count"], 1);
    let gamma = &initiatives[1]["specifications"][0];
    assert_eq!(
        (gamma["title"].as_str(), gamma["progress"].as_u64()),
        (Some("gamma"), Some(0))
    );

    let orphans: Vec<_> = portfolio["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["specification"].as_str()))
        .collect();
    assert_eq!(
        &orphans[..2],
        [("t5", Some("specifications/missing.md")), ("t6", None)]
    );
    assert_eq!(
        orphans[2..].iter().map(|o| o.0).collect::<Vec<_>>(),
        ["t7", "t8"],
        "a path with .. or an absolute one is an orphan; a linked task never is"
    );
    assert_eq!(portfolio["orphans"][1]["priority"], "HIGH");
}

#[tokio::test]
async fn a_specification_reads_rendered_and_only_from_specifications() {
    let workspace = Workspace::demo();
    std::fs::write(workspace.root().join("secret.md"), "# Secret\n").unwrap();
    let server = common::start_server(&workspace, |_| {}).await;
    let path = "specifications/initiatives/dashboard-enhancements/orphan-task-assignment.md";
    let (status, document) = get_json(
        &server,
        &format!("/api/specifications/document?path={path}"),
    )
    .await;
    assert_eq!(status, 200, "{document}");
    assert_eq!(document["title"], "Orphan Task Assignment");
    let html = document["html"].as_str().unwrap();
    assert!(
        html.starts_with("<h1>Orphan Task Assignment</h1>"),
        "{html}"
    );
    assert!(
        !html.contains("id: SPEC-DASH-008"),
        "no front matter: {html}"
    );
    for (path, error) in [
        ("specifications/../secret.md", "path traversal"),
        ("secret.md", "must start with 'specifications/'"),
        ("specifications/missing.md", "not found"),
    ] {
        let (status, body) = get_json(
            &server,
            &format!("/api/specifications/document?path={path}"),
        )
        .await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].as_str().unwrap().contains(error), "{body}");
    }
}

#[tokio::test]
async fn initiative_costs_add_up_the_tasks_of_each_specification() {
    let workspace = Workspace::demo();
    let server = common::start_server(&workspace, |_| {}).await;
    let call = |id: &str, task: Option<&str>, cost: f64| {
        json!({
            "invocation_id": id, "tool_name": "claude-code", "model_name": "claude-sonnet-4",
            "agent_name": "python-pedro", "total_tokens": 1000, "cost_usd": cost,
            "status": "success", "task_id": task,
        })
    };
    // Two tasks of "Orphan Task Assignment", one of "Multi-Tool Distribution", an orphan, no task.
    let (_, portfolio) = get_json(&server, "/api/portfolio").await;
    let spec_tasks = |title: &str| -> Vec<String> {
        portfolio["initiatives"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["specifications"].as_array().unwrap())
            .find(|s| s["title"] == title)
            .unwrap()["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let assignment = spec_tasks("Orphan Task Assignment");
    let distribution = spec_tasks("Multi-Tool Distribution");
    let orphan = portfolio["orphans"][0]["id"].as_str().unwrap().to_owned();
    let batch = json!([
        call("c1", Some(&assignment[0]), 1.5),
        call("c2", Some(&assignment[0]), 0.25),
        call("c3", Some(&distribution[0]), 2.0),
        call("c4", Some(&orphan), 4.0),
        call("c5", None, 8.0),
    ]);
    post_invocations(&server, &batch).await;

    let (status, costs) = get_json(&server, "/api/costs/initiatives").await;
    assert_eq!(status, 200, "{costs}");
    let initiative = |id: &str| {
        costs["initiatives"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    let enhancements = initiative("dashboard-enhancements");
    assert_eq!(enhancements["cost_usd"], 1.75);
    assert_eq!(enhancements["invocations"], 2);
    assert_eq!(
        enhancements["specifications"][0]["title"], "Orphan Task Assignment",
        "costliest first"
    );
    assert_eq!(initiative("framework-distribution")["cost_usd"], 2.0);
    assert_eq!(initiative("code-quality")["cost_usd"], 0.0);
    // The orphan's call is unlinked; the call without a task is in no task's cost.
    assert_eq!(costs["unlinked"]["cost_usd"], 4.0);
    assert_eq!(costs["total"]["cost_usd"], 7.75);
}

#[tokio::test]
async fn agents_count_their_tasks_and_calls_and_unknown_ones_are_404() {
    let workspace = Workspace::empty();
    workspace.write(
        "assigned/dev/a.yaml",
        "id: a\ntitle: A\nstatus: in_progress\n",
    );
    workspace.write("assigned/dev/b.yaml", "id: b\ntitle: B\nstatus: blocked\n");
    workspace.write("done/dev/c.yaml", "id: c\ntitle: C\nstatus: done\n");
    workspace.write("inbox/d.yaml", "id: d\ntitle: D\nagent: dev\n");
    workspace.write("inbox/e.yaml", "id: e\ntitle: E (nobody's)\n");
    let server = common::start_server(&workspace, |_| {}).await;
    let call = |id: &str, agent: &str, model: &str, cost: f64| {
        json!({
            "invocation_id": id, "tool_name": "claude-code", "model_name": model,
            "agent_name": agent, "total_tokens": 100, "cost_usd": cost, "status": "success",
        })
    };
    let batch = json!([
        call("1", "dev", "claude-sonnet-4", 1.0),
        call("2", "dev", "gpt-5", 3.0),
        call("3", "reviewer", "gpt-5", 0.5),
    ]);
    post_invocations(&server, &batch).await;

    let (status, list) = get_json(&server, "/api/agents").await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<_> = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["dev", "reviewer"],
        "a caller without tasks is an agent too"
    );
    let dev = &list["agents"][0];
    let counts: Vec<_> = ["inbox", "assigned", "done", "in_progress", "blocked"]
        .iter()
        .map(|k| dev[k].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 1, 1, 1]);
    assert_eq!(
        (dev["cost_total"].as_f64(), dev["invocations"].as_u64()),
        (Some(4.0), Some(2))
    );
    assert_eq!(dev["top_models"][0]["model"], "gpt-5", "costliest first");
    assert!(list["telemetry_error"].is_null());
    // A caller without tasks was last active when it called (just now), not at midnight.
    let reviewer_active = list["agents"][1]["last_activity_ms"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        (now - reviewer_active).abs() < 60_000,
        "last active {} ms ago",
        now - reviewer_active
    );

    let (status, page) = get_json(&server, "/api/agents/dev").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["tasks"].as_array().unwrap().len(), 4);
    let charted: f64 = page["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["cost_usd"].as_f64().unwrap())
        .sum();
    assert_eq!(charted, 4.0);
    let (status, _) = get_json(&server, "/api/agents/nobody").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_changed_specification_is_announced_and_the_portfolio_follows() {
    let workspace = Workspace::demo();
    let server = common::start_server(&workspace, |_| {}).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    next_envelope(&mut socket).await; // the ack

    let path = "specifications/llm-dashboard/multi-page-navigation.md";
    let file = workspace.root().join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("title: Multi-Page Navigation", "title: Pages"),
    )
    .unwrap();
    let announced = next_envelope(&mut socket).await;
    match announced.event {
        ServerEvent::PortfolioUpdated { paths } => assert_eq!(paths, [path]),
        other => panic!("expected portfolio.updated, got {other:?}"),
    }
    let (_, portfolio) = get_json(&server, "/api/portfolio").await;
    let titles: Vec<_> = portfolio["initiatives"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["specifications"].as_array().unwrap())
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Pages"), "{titles:?}");

    // A new file, with a broken front matter: its problem first (in Problems, with its line),
    // then the announcement; the problem is in the portfolio too.
    std::fs::write(
        workspace.root().join("specifications/new.md"),
        "---\ntitle: [unclosed\n---\n",
    )
    .unwrap();
    match next_envelope(&mut socket).await.event {
        ServerEvent::TaskInvalid { problem } => {
            assert_eq!(problem.path, "specifications/new.md");
            assert_eq!(problem.line, Some(3));
        }
        other => panic!("expected task.invalid, got {other:?}"),
    }
    match next_envelope(&mut socket).await.event {
        ServerEvent::PortfolioUpdated { paths } => {
            assert_eq!(paths, ["specifications/new.md"])
        }
        other => panic!("expected portfolio.updated, got {other:?}"),
    }
    let (_, portfolio) = get_json(&server, "/api/portfolio").await;
    assert_eq!(portfolio["problems"][0]["path"], "specifications/new.md");
}

#[tokio::test]
async fn a_broken_specification_shows_in_problems_until_it_is_mended() {
    let workspace = Workspace::demo();
    let broken = workspace.root().join("specifications/broken.md");
    std::fs::write(&broken, "---\nid: X\ntitle: [unclosed\n---\n").unwrap();
    let server = common::start_server(&workspace, |_| {}).await;
    // At start (the feed reads the folder once it runs).
    let problems = || async {
        let (_, problems) = get_json(&server, "/api/problems").await;
        problems
    };
    let listed = std::sync::Mutex::new(Value::Null);
    // (The feed reads the folder off the async threads: up to 10 s on a loaded machine.)
    eventually(
        "specifications/broken.md in problems",
        Duration::from_secs(10),
        || async {
            let now = problems().await;
            let text = now.to_string();
            *listed.lock().unwrap() = now;
            if text.contains("specifications/broken.md") {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
    let listed = listed.into_inner().unwrap();
    let entry = listed
        .as_array()
        .or_else(|| listed["problems"].as_array())
        .unwrap()
        .iter()
        .find(|p| p["path"] == "specifications/broken.md")
        .unwrap_or_else(|| panic!("not in problems: {listed}"))
        .clone();
    assert_eq!(entry["line"], 4);
    assert!(entry["column"].is_number());
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .starts_with("front matter is not valid YAML"),
        "{entry}"
    );

    // Mended: a task.deleted for its path takes it out.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    next_envelope(&mut socket).await; // the ack
    std::fs::write(&broken, "---\nid: X\ntitle: Mended\n---\n").unwrap();
    match next_envelope(&mut socket).await.event {
        ServerEvent::TaskDeleted { path, .. } => assert_eq!(path, "specifications/broken.md"),
        other => panic!("expected the problem to go, got {other:?}"),
    }
    assert!(matches!(
        next_envelope(&mut socket).await.event,
        ServerEvent::PortfolioUpdated { .. }
    ));
    assert!(!problems()
        .await
        .to_string()
        .contains("specifications/broken.md"));
}

#[tokio::test]
async fn the_agent_portfolio_reads_the_profiles_in_the_originals_shape() {
    let workspace = Workspace::empty();
    let server = common::start_server(&workspace, |_| {}).await;
    let (status, empty) = get_json(&server, "/api/agents/portfolio").await;
    assert_eq!(status, 200);
    assert_eq!(empty["agents"], json!([]), "no folder: an empty list");
    assert_eq!(empty["metadata"]["total_agents"], 0);

    let profiles = workspace.root().join(".github/agents");
    std::fs::create_dir_all(&profiles).unwrap();
    let text = "---\nname: python-pedro\ndescription: Python development specialist\n---\n\
                # Agent Profile: Python Pedro (Python Specialist)\n\n## 2. Purpose\n\n\
                Deliver Python.\n\n## 3. Specialization\n\n- **Primary focus:** Tests first.\n\
                - **Avoid:** Front-end work.\n\n## 5. Required Directives\n\n\
                - 016: ATDD\n- 017: TDD\n";
    std::fs::write(profiles.join("python-pedro.agent.md"), text).unwrap();
    std::fs::write(
        profiles.join("nameless.agent.md"),
        "---\ndescription: no name\n---\n",
    )
    .unwrap();
    std::fs::write(profiles.join("notes.md"), "not a profile").unwrap();
    let (status, portfolio) = get_json(&server, "/api/agents/portfolio").await;
    assert_eq!(status, 200, "{portfolio}");
    assert_eq!(portfolio["metadata"]["total_agents"], 1, "{portfolio}");
    assert!(portfolio["metadata"]["load_time_ms"].is_number());
    assert!(portfolio["timestamp"].is_string());
    let pedro = &portfolio["agents"][0];
    assert_eq!(pedro["id"], "python-pedro");
    assert_eq!(pedro["name"], "Python Pedro");
    assert_eq!(pedro["specialization"], "Deliver Python.");
    assert_eq!(
        pedro["capability_descriptions"],
        json!({"primary": "Tests first.", "avoid": "Front-end work."})
    );
    assert_eq!(
        pedro["directive_compliance"],
        json!({"required_directives_count": 2, "compliance_percentage": 100.0})
    );
    assert_eq!(pedro["source_file"], ".github/agents/python-pedro.agent.md");
    assert_eq!(pedro["source_hash"].as_str().unwrap().len(), 64);
    // The agents of the board are still at /api/agents/{name}.
    let (status, _) = get_json(&server, "/api/agents/python-pedro").await;
    assert_eq!(status, 404, "no tasks and no calls");
}

/// The original's 21 real profiles (and its parser's two test profiles), answered as the original
/// answers them (`tests/fixtures/agent-profiles/README.md` says how that answer was taken).
#[tokio::test]
async fn the_agent_portfolio_of_the_originals_real_profiles_is_the_originals() {
    let workspace = Workspace::empty();
    common::copy_dir(
        &common::repo().join("tests/fixtures/agent-profiles"),
        &workspace.root().join(".github/agents"),
    );
    let original: Value = serde_json::from_str(
        &std::fs::read_to_string(
            common::repo().join("tests/fixtures/agent-profiles.original.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let server = common::start_server(&workspace, |_| {}).await;
    let (status, portfolio) = get_json(&server, "/api/agents/portfolio").await;
    assert_eq!(status, 200, "{portfolio}");
    assert_eq!(
        portfolio["metadata"]["total_agents"],
        original["metadata"]["total_agents"]
    );
    let ours = portfolio["agents"].as_array().unwrap();
    let theirs = original["agents"].as_array().unwrap();
    assert_eq!(
        ours.len(),
        22,
        "21 real profiles and the parser's valid one"
    );
    for (ours, theirs) in ours.iter().zip(theirs) {
        let file = &theirs["source_file"];
        assert_eq!(ours["source_file"], *file);
        for field in [
            "id",
            "specialization",
            "capability_descriptions",
            "directive_compliance",
            "source_hash",
        ] {
            assert_eq!(ours[field], theirs[field], "{field} of {file}");
        }
        // Decided differently: the name ends at the heading's line (the original's runs on
        // through the next sections when the heading has no parenthesis).
        let name = theirs["name"].as_str().unwrap();
        assert_eq!(ours["name"], name.lines().next().unwrap(), "name of {file}");
    }
    let count = |file: &str| {
        ours.iter()
            .find(|a| a["source_file"] == format!(".github/agents/{file}"))
            .unwrap()["directive_compliance"]["required_directives_count"]
            .clone()
    };
    // Their directives are in a "Directive References" table, which the original does not read.
    assert_eq!(count("python-pedro.agent.md"), 0);
    assert_eq!(count("test-agent.agent.md"), 3);
}

#[tokio::test]
async fn the_detail_lists_a_tasks_calls_newest_first_by_their_time() {
    let workspace = workspace();
    let server = common::start_server(&workspace, |_| {}).await;
    // Logged in another order than they happened (a batch sent late holds older calls).
    let batch: Vec<Value> = [
        ("late-1", "2026-11-02T10:00:00Z"),
        ("late-3", "2026-11-04T10:00:00+00:00"),
        ("late-2", "2026-11-03 10:00:00"),
    ]
    .into_iter()
    .map(|(id, at)| {
        json!({"invocation_id": id, "timestamp": at, "task_id": "parser",
               "agent_name": "python-pedro", "tool_name": "claude-code",
               "model_name": "claude-sonnet-4", "total_tokens": 10, "cost_usd": 0.01,
               "status": "success"})
    })
    .collect();
    post_invocations(&server, &batch).await;
    let (status, details) = get_json(&server, "/api/board/task?id=parser").await;
    assert_eq!(status, 200, "{details}");
    let order: Vec<&str> = details["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call["invocation_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["late-3", "late-2", "late-1"]);
}
