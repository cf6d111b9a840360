//! MCP server health against real servers: the npm reference servers (`@modelcontextprotocol/
//! server-everything` over stdio and streamable HTTP, `server-filesystem`; installed by
//! `scripts/bootstrap` into `end2end/node_modules`), a server written with the official Python
//! SDK over streamable HTTP (`tests/fixtures/`, the SDK in the bootstrap's venv), and real
//! processes that crash on start, hang in `initialize`, print garbage or list without end; a real
//! server on loopback, the real config watcher.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use app::model::ServerEvent;
use common::{eventually, next_envelope, Workspace};
use execdash::RunningServer;
use serde_json::{json, Value};

/// The Python with the official Python MCP SDK, installed by the bootstrap (a venv).
fn mcp_python() -> PathBuf {
    let python = std::env::var_os("EXECDASH_MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let tools = std::env::var_os("EXECDASH_TOOLS_DIR")
                .map_or_else(|| PathBuf::from("/opt/execdash-tools"), PathBuf::from);
            tools.join("mcp-python/bin/python")
        });
    assert!(
        python.exists(),
        "{} is missing: run scripts/bootstrap (it installs the Python MCP SDK)",
        python.display()
    );
    python
}

/// A reference server's command, installed by the bootstrap (`npm ci` in `end2end/`).
async fn start(workspace: &Workspace) -> RunningServer {
    common::start_server(workspace, |config| {
        config.mcp.timeout = Duration::from_secs(4);
        config.mcp.check_interval = Duration::from_secs(600);
    })
    .await
}

async fn servers(server: &RunningServer) -> Value {
    reqwest::get(format!("http://{}/api/mcp/servers", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn find<'a>(overview: &'a Value, name: &str) -> &'a Value {
    overview["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no server {name} in {overview}"))
}

/// The server named so, or null while there is none.
fn entry<'a>(overview: &'a Value, name: &str) -> &'a Value {
    overview["servers"]
        .as_array()
        .and_then(|servers| servers.iter().find(|s| s["name"] == name))
        .unwrap_or(&Value::Null)
}

/// Polls the API until `done` holds (every check has a deadline of 4 s; 30 s is generous).
async fn wait_for(server: &RunningServer, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let last = std::sync::Mutex::new(Value::Null);
    let (last_ref, done) = (&last, &done);
    eventually(what, Duration::from_secs(30), || async move {
        let overview = servers(server).await;
        let holds = done(&overview);
        let seen = if holds {
            Ok(())
        } else {
            Err(format!("{overview:#}"))
        };
        *last_ref.lock().unwrap() = overview;
        seen
    })
    .await;
    last.into_inner().unwrap()
}

fn checked(overview: &Value, name: &str) -> bool {
    overview["servers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == name && !s["checked_at"].is_null() && s["checking"] == false)
}

fn write_config(workspace: &Workspace, servers: Value) {
    std::fs::write(
        workspace.root().join(".mcp.json"),
        serde_json::to_string_pretty(&json!({ "mcpServers": servers })).unwrap(),
    )
    .unwrap();
}

#[tokio::test]
async fn every_state_is_found_with_real_servers_and_secrets_stay_on_the_server() {
    let workspace = Workspace::empty();
    write_config(
        &workspace,
        json!({
            "everything": {"command": common::npm_server("mcp-server-everything"), "args": ["stdio"],
                           "env": {"SECRET_TOKEN": "hunter2-secret-value"}},
            "crashes": {"command": "sh", "args": ["-c", "echo starting >&2; echo 'fatal: no config' >&2; exit 3"]},
            "hangs": {"command": "sleep", "args": ["300"]},
            "garbage": {"command": "sh", "args": ["-c", "while :; do echo 'not json at all'; sleep 0.1; done",
                                                  "--api-key", "arg-secret-value"]},
            "missing": {"command": "/nonexistent/mcp-server"},
            "off": {"command": "true", "disabled": true},
            "unreachable": {"type": "http", "url": "http://127.0.0.1:9/mcp?api_key=http-query-secret",
                            "headers": {"Authorization": "Bearer http-bearer-secret"}},
            "legacy": {"type": "sse", "url": "http://bob:url-secret-value@127.0.0.1:9/sse?key=query-secret-value",
                       "headers": {"Authorization": "Bearer header-secret-value"}},
        }),
    );
    let server = start(&workspace).await;
    let names = [
        "everything",
        "crashes",
        "hangs",
        "garbage",
        "missing",
        "unreachable",
    ];
    let overview = wait_for(&server, "every server checked", |o| {
        names.iter().all(|name| checked(o, name))
    })
    .await;

    let everything = find(&overview, "everything");
    assert_eq!(everything["status"], "healthy", "{everything:#}");
    assert_eq!(everything["transport"], "stdio");
    assert_eq!(everything["server_info"]["name"], "mcp-servers/everything");
    let tools: Vec<&str> = everything["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tools.contains(&"echo"), "{tools:?}");
    let echo = everything["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "echo")
        .unwrap();
    assert_eq!(echo["input_schema"]["type"], "object");
    assert!(everything["resources"].as_u64().unwrap() > 0);
    assert!(everything["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(everything["secret_names"], json!(["SECRET_TOKEN"]));
    assert_eq!(everything["uptime_percent"], 100.0);

    let crashes = find(&overview, "crashes");
    assert_eq!(crashes["status"], "down");
    assert_eq!(
        crashes["stderr_tail"],
        json!(["starting", "fatal: no config"]),
        "{crashes:#}"
    );
    let hangs = find(&overview, "hangs");
    assert_eq!(hangs["status"], "down");
    assert!(
        hangs["error"].as_str().unwrap().contains("within 4 s"),
        "{hangs:#}"
    );
    assert_eq!(find(&overview, "garbage")["status"], "down");
    let missing = find(&overview, "missing");
    assert_eq!(missing["status"], "down");
    assert!(
        missing["error"].as_str().unwrap().contains("cannot start"),
        "{missing:#}"
    );
    let unreachable = find(&overview, "unreachable");
    assert_eq!(unreachable["status"], "down");
    let error = unreachable["error"].as_str().unwrap();
    assert!(
        error.contains("api_key=redacted") && !error.contains("rmcp::"),
        "the error quotes the address without its key, and no Rust type names: {error}"
    );
    assert_eq!(find(&overview, "off")["status"], "disabled");
    let legacy = find(&overview, "legacy");
    assert_eq!(legacy["status"], "disabled");
    assert_eq!(legacy["secret_names"], json!(["Authorization"]));

    // Neither the API, nor the page, nor the socket's snapshot carries a secret's value.
    let page = reqwest::get(format!("http://{}/mcp", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-server=\"everything\""),
        "the page lists the servers"
    );
    let snapshot = reqwest::get(format!("http://{}/api/snapshot", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [overview.to_string(), page, snapshot] {
        for secret in [
            "hunter2-secret-value",
            "header-secret-value",
            "arg-secret-value",
            "url-secret-value",
            "query-secret-value",
            "http-query-secret",
            "http-bearer-secret",
        ] {
            assert!(!text.contains(secret), "{secret} is shown");
        }
    }
    assert_eq!(
        legacy["target"], "http://bob:redacted@127.0.0.1:9/sse?key=redacted",
        "the address is shown, its key not"
    );
    let health = find(&overview, "everything");
    assert_eq!(health["history"].as_array().unwrap().len(), 1);
    server.stop().await.unwrap();
}

/// The process state of `pid` (`None`: gone, reaped).
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

async fn read_pid(path: &Path) -> u32 {
    let read = || {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
    };
    let mut pid = None;
    let what = format!("{} written", path.display());
    eventually(&what, Duration::from_secs(20), || {
        pid = read();
        std::future::ready(pid.is_some())
    })
    .await;
    pid.unwrap()
}

async fn assert_gone(pid: u32, what: &str) {
    let what = format!("{what} (pid {pid}) gone");
    eventually(&what, Duration::from_secs(10), || {
        std::future::ready(match process_state(pid) {
            None => Ok(()),
            Some(state) => Err(format!("still there in state {state}")),
        })
    })
    .await;
}

#[tokio::test]
async fn a_probe_killed_with_sigkill_leaves_no_zombie_and_a_hung_one_no_child() {
    let workspace = Workspace::empty();
    let pids = workspace.root().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let pid_file = |name: &str| -> PathBuf { pids.join(name) };
    write_config(
        &workspace,
        json!({
            // Writes its pid, then waits in `initialize` (never answers).
            "killed": {"command": "sh", "args": ["-c", format!("echo $$ > {}; exec sleep 300", pid_file("killed").display())]},
            // Starts a child of its own and waits: the check's timeout must end both.
            "hung": {"command": "sh", "args": ["-c", format!("sleep 300 & echo $! > {}; wait", pid_file("grandchild").display())]},
        }),
    );
    let server = start(&workspace).await;
    let killed = read_pid(&pid_file("killed")).await;
    let grandchild = read_pid(&pid_file("grandchild")).await;
    // Started at a lower priority than the dashboard's (niceness 10: field 19 of its stat).
    let stat = std::fs::read_to_string(format!("/proc/{killed}/stat")).unwrap();
    let nice = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(16)
        .unwrap();
    assert_eq!(nice, "10", "{stat}");
    let kill = std::process::Command::new("kill")
        .args(["-9", &killed.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let overview = wait_for(&server, "both checked", |o| {
        checked(o, "killed") && checked(o, "hung")
    })
    .await;
    assert_eq!(find(&overview, "killed")["status"], "down");
    assert_eq!(find(&overview, "hung")["status"], "down");
    // The killed server was reaped (a zombie would still be in /proc, state Z); the hung one's
    // own child went with its process group.
    assert_gone(killed, "the killed server").await;
    assert_gone(grandchild, "the hung server's child").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_configuration_is_watched_and_a_bad_one_is_a_problem_with_its_place() {
    let workspace = Workspace::empty();
    let server = start(&workspace).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    let _ack = next_envelope(&mut socket).await;
    assert_eq!(servers(&server).await["servers"], json!([]));

    std::fs::write(
        workspace.root().join(".mcp.json"),
        "{\n  \"mcpServers\": {\n    \"a\": {\"command\": }\n  }\n}\n",
    )
    .unwrap();
    let problem = loop {
        let envelope = next_envelope(&mut socket).await;
        if let ServerEvent::TaskInvalid { problem } = envelope.event {
            break problem;
        }
    };
    assert_eq!(problem.path, ".mcp.json");
    assert_eq!((problem.line, problem.column), (Some(3), Some(22)));

    write_config(
        &workspace,
        json!({"everything": {"command": common::npm_server("mcp-server-everything"), "args": ["stdio"]}}),
    );
    // The problem goes, the server comes and is checked: each is an event on the stream.
    let (mut mended, mut healthy) = (false, false);
    while !(mended && healthy) {
        match next_envelope(&mut socket).await.event {
            ServerEvent::TaskDeleted { path, .. } if path == ".mcp.json" => mended = true,
            ServerEvent::McpServerStatus {
                name,
                status,
                health,
                ..
            } if name == "everything" && status == app::model::McpStatus::Healthy => {
                assert_eq!((health.healthy, health.checked), (1, 1));
                healthy = true;
            }
            _ => {}
        }
    }
    // VS Code's file, in a `.vscode/` made while the server runs: read, then watched.
    std::fs::create_dir(workspace.root().join(".vscode")).unwrap();
    std::fs::write(
        workspace.root().join(".vscode/mcp.json"),
        "{\n  // made later\n  \"servers\": {}\n}\n",
    )
    .unwrap();
    wait_for(&server, "the .vscode folder read", |o| {
        o["sources"] == json!([".mcp.json", ".vscode/mcp.json"])
    })
    .await;
    std::fs::write(
        workspace.root().join(".vscode/mcp.json"),
        "{\"servers\": {\"off\": {\"command\": \"true\", \"disabled\": true}}}",
    )
    .unwrap();
    wait_for(&server, "a change inside .vscode/ seen", |o| {
        entry(o, "off")["status"] == "disabled"
    })
    .await;
    let problems: Value = reqwest::get(format!("http://{}/api/problems", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(problems["count"], 0, "{problems}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn check_now_and_tools_that_disappear_or_were_called_but_are_not_offered() {
    let workspace = Workspace::empty();
    // One name, two real servers: which one runs is chosen by a file, so the tools change
    // between two checks as when a server is upgraded.
    let choice = workspace.root().join("choice");
    std::fs::write(&choice, common::npm_server("mcp-server-everything")).unwrap();
    write_config(
        &workspace,
        json!({"switching": {"command": "sh", "args": ["-c",
            format!("if grep -q everything {0}; then exec \"$(cat {0})\" stdio; else exec \"$(cat {0})\" .; fi", choice.display())]}}),
    );
    let server = start(&workspace).await;
    let url = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    for (id, tool) in [("i1", "echo"), ("i2", "jira_search"), ("i3", "jira_search")] {
        let invocation = json!({"invocation_id": id, "timestamp": chrono::Utc::now().to_rfc3339(),
            "agent_name": "benny", "tool_name": tool, "model_name": "claude-sonnet-4",
            "total_tokens": 10, "cost_usd": 0.01, "status": "success"});
        let response = client
            .post(format!("{url}/api/invocations"))
            .json(&invocation)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
    let overview = wait_for(&server, "first check", |o| checked(o, "switching")).await;
    assert_eq!(find(&overview, "switching")["status"], "healthy");
    assert_eq!(
        overview["unavailable_tools"],
        json!([{"name": "jira_search", "calls": 2, "last_called": chrono::Utc::now().format("%Y-%m-%d").to_string()}]),
        "echo is offered; jira_search by no server"
    );

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    let _ack = next_envelope(&mut socket).await;
    std::fs::write(&choice, common::npm_server("mcp-server-filesystem")).unwrap();
    let response = client
        .post(format!("{url}/api/mcp/servers/switching/check"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let (added, removed) = loop {
        if let ServerEvent::McpToolsChanged {
            name,
            added,
            removed,
        } = next_envelope(&mut socket).await.event
        {
            assert_eq!(name, "switching");
            break (added, removed);
        }
    };
    assert!(removed.contains(&"echo".to_owned()), "{removed:?}");
    assert!(added.contains(&"read_text_file".to_owned()), "{added:?}");
    let overview = wait_for(&server, "second check", |o| {
        find(o, "switching")["history"].as_array().unwrap().len() == 2
    })
    .await;
    let switching = find(&overview, "switching");
    assert!(switching["tools_gone"]
        .as_array()
        .unwrap()
        .contains(&json!("echo")));
    let unavailable: Vec<&str> = overview["unavailable_tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(unavailable, ["jira_search", "echo"], "echo is gone now");

    let unknown = client
        .post(format!("{url}/api/mcp/servers/nope/check"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let foreign = client
        .post(format!("{url}/api/mcp/servers/switching/check"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        foreign.status(),
        403,
        "another site's page cannot ask for checks"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_managed_server_is_restarted_after_it_dies_and_obeys_stop_and_start() {
    let workspace = Workspace::empty();
    write_config(
        &workspace,
        json!({"kept": {"command": common::npm_server("mcp-server-everything"), "args": ["stdio"]}}),
    );
    let server = common::start_server(&workspace, |config| {
        config.mcp.timeout = Duration::from_secs(5);
        config.mcp.check_interval = Duration::from_secs(600);
        config.mcp.managed = vec!["kept".into()];
        config.allow_writes = true;
    })
    .await;
    let running = |o: &Value| {
        let kept = entry(o, "kept");
        kept["status"] == "healthy" && kept["managed"]["running"] == true
    };
    let overview = wait_for(&server, "managed server running", running).await;
    let kept = find(&overview, "kept");
    let pid = kept["managed"]["pid"].as_u64().unwrap() as u32;
    assert_eq!(kept["managed"]["restarts"], 0);
    assert!(!kept["tools"].as_array().unwrap().is_empty());

    // Killed outside execdash: down at once (no periodic check is due for 10 minutes), then
    // started again after the back-off's first second.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    let _ack = next_envelope(&mut socket).await;
    assert!(std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    loop {
        if let ServerEvent::McpServerStatus { name, status, .. } =
            next_envelope(&mut socket).await.event
        {
            if name == "kept" && status == app::model::McpStatus::Down {
                break;
            }
        }
    }
    assert_gone(pid, "the killed managed server").await;
    let overview = wait_for(&server, "restarted", |o| {
        running(o) && entry(o, "kept")["managed"]["pid"] != pid
    })
    .await;
    assert_eq!(find(&overview, "kept")["managed"]["restarts"], 1);

    let client = reqwest::Client::new();
    let url = format!("http://{}/api/mcp/servers/kept", server.addr);
    let stop = client.post(format!("{url}/stop")).send().await.unwrap();
    assert_eq!(stop.status(), 202);
    let overview = wait_for(&server, "stopped", |o| {
        entry(o, "kept")["managed"]["stopped"] == true && entry(o, "kept")["status"] == "down"
    })
    .await;
    assert_eq!(find(&overview, "kept")["error"], "stopped");
    assert_eq!(overview["controls"], true);
    let start = client.post(format!("{url}/start")).send().await.unwrap();
    assert_eq!(start.status(), 202);
    wait_for(&server, "started again", running).await;
    let bad = client.post(format!("{url}/explode")).send().await.unwrap();
    assert_eq!(bad.status(), 404);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn controls_need_allow_writes_and_a_managed_server() {
    let workspace = Workspace::empty();
    write_config(&workspace, json!({"plain": {"command": "true"}}));
    let server = start(&workspace).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/mcp/servers/plain", server.addr);
    let refused = client.post(format!("{url}/restart")).send().await.unwrap();
    assert_eq!(
        refused.status(),
        403,
        "read-only dashboards start and stop nothing"
    );
    server.stop().await.unwrap();

    let server = common::start_server(&workspace, |config| config.allow_writes = true).await;
    let url = format!("http://{}/api/mcp/servers/plain", server.addr);
    let _ = wait_for(&server, "configured", |o| {
        !o["servers"].as_array().unwrap().is_empty()
    })
    .await;
    let not_managed = client.post(format!("{url}/stop")).send().await.unwrap();
    assert_eq!(not_managed.status(), 409);
    server.stop().await.unwrap();
}

/// A real stdio MCP server (a few lines of Python) whose `tools/list` pages never end, with long
/// descriptions and large input schemas.
const ENDLESS_SERVER: &str = r#"
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    method = message["method"]
    if method == "initialize":
        result = {"protocolVersion": message["params"]["protocolVersion"],
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "endless", "version": "1"}}
    elif method == "tools/list":
        page = int((message.get("params") or {}).get("cursor") or 0)
        schema = {"type": "object",
                  "properties": {f"p{j}": {"type": "string", "description": "x" * 1000} for j in range(20)}}
        result = {"tools": [{"name": f"tool-{page:03}-{i:02}", "description": "d" * 5000, "inputSchema": schema}
                            for i in range(50)],
                  "nextCursor": str(page + 1)}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": message["id"],
                          "error": {"code": -32601, "message": "unknown method"}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
"#;

#[tokio::test]
async fn a_server_that_lists_without_end_is_cut_to_a_bounded_list_and_degraded() {
    let workspace = Workspace::empty();
    let script = workspace.root().join("endless.py");
    std::fs::write(&script, ENDLESS_SERVER).unwrap();
    write_config(
        &workspace,
        json!({"endless": {"command": "python3", "args": [script.display().to_string()]}}),
    );
    let server = start(&workspace).await;
    let overview = wait_for(&server, "the endless server checked", |o| {
        checked(o, "endless")
    })
    .await;
    let endless = find(&overview, "endless");
    assert_eq!(endless["status"], "degraded", "{}", endless["error"]);
    assert!(
        endless["error"]
            .as_str()
            .unwrap()
            .contains("more than 1000 items"),
        "{}",
        endless["error"]
    );
    let tools = endless["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1000, "the first 1000 tools are kept");
    for tool in tools {
        let description = tool["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), 2001, "cut, with an ellipsis");
        assert!(
            tool["input_schema"]["omitted"]
                .as_str()
                .unwrap()
                .starts_with("an input schema of"),
            "{}",
            tool["input_schema"]
        );
    }
    server.stop().await.unwrap();
}

/// The Python SDK's server (`tests/fixtures/streamable_http_mcp_server.py`) on a free port, once
/// it accepts connections; killed when dropped.
struct PythonServer {
    child: std::process::Child,
    url: String,
}

impl PythonServer {
    fn start() -> PythonServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(mcp_python())
            .arg(common::repo().join("tests/fixtures/streamable_http_mcp_server.py"))
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        common::eventually_blocking(
            "the Python MCP server listening",
            Duration::from_secs(30),
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        PythonServer {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_python_sdk_server_over_streamable_http_is_healthy_and_down_once_killed() {
    let mut python = PythonServer::start();
    let workspace = Workspace::empty();
    write_config(
        &workspace,
        json!({"python": {"type": "http", "url": python.url}}),
    );
    let server = start(&workspace).await;
    let overview = wait_for(&server, "the Python server checked", |o| {
        checked(o, "python")
    })
    .await;
    let entry = find(&overview, "python");
    assert_eq!(entry["status"], "healthy", "{entry:#}");
    assert_eq!(entry["transport"], "http");
    assert_eq!(entry["server_info"]["name"], "execdash-python-test");
    assert_eq!(entry["server_info"]["version"], "1.0.0");
    assert!(!entry["server_info"]["protocol_version"]
        .as_str()
        .unwrap()
        .is_empty());
    let tools: Vec<(&str, &str)> = entry["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tools,
        [
            ("add", "Adds two whole numbers."),
            ("shout", "The text in capitals.")
        ]
    );
    let add = &entry["tools"][0]["input_schema"];
    assert_eq!(add["properties"]["a"]["type"], "integer", "{add}");
    assert!(entry["latency_ms"].as_f64().unwrap() > 0.0);

    // Killed outside execdash: the next check (asked for now) finds it down.
    python.child.kill().unwrap();
    python.child.wait().unwrap();
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/api/mcp/servers/python/check",
            server.addr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let overview = wait_for(&server, "the killed server found down", |o| {
        find(o, "python")["status"] == "down"
    })
    .await;
    let error = find(&overview, "python")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("initialize failed"), "{error}");
    server.stop().await.unwrap();
}
