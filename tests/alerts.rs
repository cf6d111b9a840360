//! Alerts that reach a person, on a real server and a real webhook receiver on loopback
//! (`tests/support/webhook_receiver.py`): each alert once per destination, in the format of
//! each (generic JSON, Slack's incoming webhook, ntfy's publish), never again after a restart;
//! a receiver that fails gets retries, then the alert shows as undelivered; an MCP server (real
//! ones: the npm reference server, and a command that fails as a server does) that goes down is
//! announced, once per time it goes down.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, Workspace};
use execdash::{Invocation, RunningServer, Telemetry};
use serde_json::Value;

/// The receiver, and every request it got so far.
struct Receiver {
    child: Child,
    port: u16,
    got: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    fn start(failing: &str) -> Receiver {
        let mut child = Command::new("python3")
            .arg(common::repo().join("tests/support/webhook_receiver.py"))
            .env("RECEIVER_FAIL_PATHS", failing)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the receiver");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let port = first.trim_start_matches("PORT ").parse().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).unwrap());
            }
        });
        Receiver { child, port, got }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self, path: &str) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == path)
            .cloned()
            .collect()
    }

    /// Waits (at most 10 s) until `path` got `count` requests.
    async fn until(&self, path: &str, count: usize) -> Vec<Value> {
        let mut got = Vec::new();
        let what = format!("{path}: {count} requests expected");
        eventually(&what, Duration::from_secs(10), || {
            got = self.requests(path);
            std::future::ready(if got.len() >= count {
                Ok(())
            } else {
                Err(format!("{got:#?}"))
            })
        })
        .await;
        got
    }
}

impl Receiver {
    /// The titles of the JSON alerts `path` got, sorted, once it got `count`.
    async fn titles(&self, path: &str, count: usize) -> Vec<String> {
        let mut titles: Vec<String> = self
            .until(path, count)
            .await
            .iter()
            .map(|r| json_body(r)["title"].as_str().unwrap().to_owned())
            .collect();
        titles.sort();
        titles
    }
}

/// The JSON body of a request the receiver got.
fn json_body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().unwrap()).unwrap()
}

/// A server whose alerts go to `receiver`'s `/json` only (changed further by `adjust`), once
/// its rules are looked at.
async fn start_with_json_receiver(
    workspace: &Workspace,
    cache: &std::path::Path,
    receiver: &Receiver,
    adjust: impl FnOnce(&mut execdash::Config),
) -> RunningServer {
    let server = common::start_server(workspace, |config| {
        config.board_cache = Some(cache.to_owned());
        config.alert_webhooks =
            vec![execdash::Webhook::parse(&format!("json={}", receiver.url("/json"))).unwrap()];
        adjust(config);
    })
    .await;
    eventually("the alerts started", Duration::from_secs(10), || async {
        alert_log(&server).await["watching"] == true
    })
    .await;
    server
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(
    workspace: &Workspace,
    cache: &std::path::Path,
    receiver: &Receiver,
) -> RunningServer {
    let hooks = [
        format!("json={}", receiver.url("/json")),
        format!("slack={}", receiver.url("/slack")),
        format!("ntfy={}", receiver.url("/ntfy")),
        format!("json={}", receiver.url("/down")),
    ];
    let server = common::start_server(workspace, |config| {
        config.board_cache = Some(cache.to_owned());
        config.alert_webhooks = hooks
            .iter()
            .map(|h| execdash::Webhook::parse(h).unwrap())
            .collect();
        config.budgets.daily_usd = Some(1.0);
    })
    .await;
    // The rules are looked at once the board is read (what is on it then is known).
    eventually("the alerts started", Duration::from_secs(10), || async {
        alert_log(&server).await["watching"] == true
    })
    .await;
    server
}

async fn alert_log(server: &RunningServer) -> Value {
    reqwest::get(format!("http://{}/api/alerts", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_alert_reaches_each_webhook_once_in_its_format_even_across_a_restart() {
    let workspace = Workspace::empty();
    let cache = tempfile::tempdir().unwrap();
    workspace.write(
        "assigned/backend-dev/T-1.yaml",
        "id: T-1\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
    );
    // Blocked before the start: known, not announced.
    workspace.write(
        "assigned/backend-dev/T-0.yaml",
        "id: T-0\ntitle: Old\nstatus: blocked\nagent: backend-dev\n",
    );
    let receiver = Receiver::start("/down");
    let server = start(&workspace, cache.path(), &receiver).await;

    workspace.write(
        "assigned/backend-dev/T-1.yaml",
        "id: T-1\ntitle: Rate limits\nstatus: blocked\nagent: backend-dev\nblocked_reason: waiting for the API key\n",
    );
    let json = receiver.until("/json", 1).await;
    let body: Value = serde_json::from_str(json[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&body["kind"], &body["title"]),
        (
            &Value::from("blocked"),
            &Value::from("Task blocked: Rate limits")
        )
    );
    assert_eq!(body["text"], "T-1 is blocked: waiting for the API key");
    assert_eq!(body["link"], format!("http://{}/tasks/T-1", server.addr));
    // Slack's incoming webhook: {"text": "*title*\n… <url|label>"}.
    let slack: Value = serde_json::from_str(
        receiver.until("/slack", 1).await[0]["body"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        slack["text"],
        format!(
            "*Task blocked: Rate limits*\nT-1 is blocked: waiting for the API key <http://{}/tasks/T-1|Open in execdash>",
            server.addr
        )
    );
    // ntfy's publish: the text as the body, the title and link in headers.
    let ntfy = &receiver.until("/ntfy", 1).await[0];
    assert_eq!(ntfy["body"], "T-1 is blocked: waiting for the API key");
    assert_eq!(ntfy["headers"]["title"], "Task blocked: Rate limits");
    assert_eq!(ntfy["headers"]["tags"], "blocked");
    assert_eq!(
        ntfy["headers"]["click"],
        format!("http://{}/tasks/T-1", server.addr)
    );

    // Budgets: 50 and 80 % of the day's $1.
    let telemetry = Telemetry::open(workspace.root().join("telemetry.db"))
        .await
        .unwrap();
    let mut call = Invocation::new("inv-1", "claude-code", "claude-sonnet-4-5");
    call.timestamp = Some(chrono::Utc::now().to_rfc3339());
    call.cost_usd = 0.85;
    telemetry.ingest(vec![call]).await.unwrap();
    let got = receiver.until("/json", 3).await;
    let titles: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["title"].to_string()
        })
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.contains("50 % of the daily budget")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.contains("80 % of the daily budget")),
        "{titles:?}"
    );

    // A receiver that fails: tried 4 times, then the alert is undelivered there.
    receiver.until("/down", 12).await;
    eventually(
        "three alerts undelivered at /down",
        Duration::from_secs(15),
        || async {
            let log = alert_log(&server).await;
            let undelivered = log["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|a| a["deliveries"].as_array().unwrap().clone())
                .filter(|d| d["status"] == "undelivered")
                .collect::<Vec<_>>();
            if undelivered.len() != 3 {
                return Err(log.to_string());
            }
            assert!(
                undelivered
                    .iter()
                    .all(|d| d["attempts"] == 4 && d["error"] == "answered 500"),
                "{log}"
            );
            assert!(undelivered
                .iter()
                .all(|d| d["destination"] == format!("json (127.0.0.1:{})", receiver.port)));
            Ok(())
        },
    )
    .await;
    assert!(
        !alert_log(&server).await.to_string().contains("/down"),
        "a destination's URL is never shown"
    );
    server.stop().await.unwrap();

    // Restarted: nothing sent again; a new alert is.
    let server = start(&workspace, cache.path(), &receiver).await;
    std::fs::rename(workspace.path("assigned/backend-dev/T-1.yaml"), {
        std::fs::create_dir_all(workspace.path("done/backend-dev")).unwrap();
        workspace.path("done/backend-dev/T-1.yaml")
    })
    .unwrap();
    let got = receiver.until("/json", 4).await;
    let kinds: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["kind"].to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["\"blocked\"", "\"budget\"", "\"budget\"", "\"finished\""],
        "each once, in order"
    );
    // Each destination gets its copy on its own time: Slack's fourth may come after JSON's.
    assert_eq!(receiver.until("/slack", 4).await.len(), 4);
    // The log was kept across the restart.
    assert_eq!(
        alert_log(&server).await["alerts"].as_array().unwrap().len(),
        4
    );
    server.stop().await.unwrap();
}

/// The alerts' log as the server has it (`GET /api/alerts`): the kinds, oldest first.
async fn logged_kinds(server: &RunningServer) -> Vec<String> {
    let log = alert_log(server).await;
    let mut kinds: Vec<String> = log["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

fn write_mcp_config(workspace: &Workspace, flaky: Value) {
    let config = serde_json::json!({"mcpServers": {
        "everything": {"command": common::npm_server("mcp-server-everything"), "args": ["stdio"]},
        "flaky": flaky,
    }});
    std::fs::write(
        workspace.root().join(".mcp.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
}

/// What a server that cannot start looks like to its client: it writes why and exits.
fn failing_server() -> Value {
    serde_json::json!({"command": "sh", "args": [
        "-c", "echo 'fatal: no config' >&2; exit 3", "--api-key", "arg-secret-value",
    ]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_server_down_is_announced_once_and_again_when_it_goes_down_after_being_back() {
    let workspace = Workspace::empty();
    let cache = tempfile::tempdir().unwrap();
    write_mcp_config(&workspace, failing_server());
    let receiver = Receiver::start("");
    let server = common::start_server(&workspace, |config| {
        config.board_cache = Some(cache.path().to_owned());
        config.alert_webhooks =
            vec![execdash::Webhook::parse(&format!("json={}", receiver.url("/json"))).unwrap()];
        config.mcp.timeout = Duration::from_secs(10);
        // Checks come from the configuration's changes only (and the first one).
        config.mcp.check_interval = Duration::from_secs(600);
    })
    .await;

    let first = json_body(&receiver.until("/json", 1).await[0]);
    assert_eq!(first["kind"], "mcp_down");
    assert_eq!(first["title"], "MCP server flaky is down");
    let text = first["text"].as_str().unwrap();
    assert!(
        text.starts_with("The MCP server flaky failed its health check: "),
        "{text}"
    );
    assert!(
        !text.contains("arg-secret-value"),
        "no secret in an alert: {text}"
    );
    assert_eq!(first["link"], format!("http://{}/mcp", server.addr));

    // Still down at the next pass of the rules: nothing more. A task blocked after the server
    // was found down is announced by a later pass, which looked at the server too.
    workspace.write(
        "assigned/dev/T-1.yaml",
        "id: T-1\ntitle: One\nstatus: blocked\nagent: dev\n",
    );
    eventually(
        "the blocked task announced",
        Duration::from_secs(10),
        || async { logged_kinds(&server).await.contains(&"blocked".to_owned()) },
    )
    .await;
    assert_eq!(logged_kinds(&server).await, ["mcp_down", "blocked"]);

    // Back: the store has both servers healthy; then down again, announced again.
    write_mcp_config(
        &workspace,
        serde_json::json!({"command": common::npm_server("mcp-server-everything"), "args": ["stdio"]}),
    );
    eventually("both servers healthy", Duration::from_secs(30), || async {
        let snapshot: Value = reqwest::get(format!("http://{}/api/snapshot", server.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        snapshot["mcp"]["healthy"] == 2
    })
    .await;
    // A pass of the rules after the recovery (the barrier: a second blocked task).
    workspace.write(
        "assigned/dev/T-2.yaml",
        "id: T-2\ntitle: Two\nstatus: blocked\nagent: dev\n",
    );
    eventually(
        "the second blocked task announced",
        Duration::from_secs(10),
        || async { logged_kinds(&server).await.len() == 3 },
    )
    .await;
    write_mcp_config(&workspace, failing_server());
    let got = receiver.until("/json", 4).await;
    let kinds: Vec<Value> = got.iter().map(|r| json_body(r)["kind"].clone()).collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "mcp_down").count(),
        2,
        "down, back, down again: two alerts: {kinds:?}"
    );
    assert_eq!(
        logged_kinds(&server).await,
        ["mcp_down", "blocked", "blocked", "mcp_down"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_passes_its_own_budget_is_announced_at_each_threshold_once() {
    let workspace = Workspace::empty();
    let cache = tempfile::tempdir().unwrap();
    workspace.write(
        "assigned/dev/T-9.yaml",
        "id: T-9\ntitle: Costly\nstatus: in_progress\nagent: dev\nbudget_usd: 2.00\n",
    );
    // No budget of its own: never a task-budget alert, whatever it costs.
    workspace.write(
        "assigned/dev/T-8.yaml",
        "id: T-8\ntitle: Free\nstatus: in_progress\nagent: dev\n",
    );
    let receiver = Receiver::start("");
    let server = start_with_json_receiver(&workspace, cache.path(), &receiver, |_| {}).await;
    let telemetry = Telemetry::open(workspace.root().join("telemetry.db"))
        .await
        .unwrap();
    let spend = |id: &str, task: &str, usd: f64| {
        let mut call = Invocation::new(id, "claude-code", "claude-sonnet-4-5");
        call.timestamp = Some(chrono::Utc::now().to_rfc3339());
        call.task_id = Some(task.to_owned());
        call.cost_usd = usd;
        call
    };
    // $1.10 of $2.00: 50 %.
    telemetry
        .ingest(vec![spend("c-1", "T-9", 1.10), spend("c-2", "T-8", 9.0)])
        .await
        .unwrap();
    let first = json_body(&receiver.until("/json", 1).await[0]);
    assert_eq!(first["title"], "50 % of the budget of T-9");
    assert_eq!(
        first["text"],
        "$1.10 spent of the $2.00 budget of T-9 (Costly)."
    );
    assert_eq!(first["link"], format!("http://{}/tasks/T-9", server.addr));
    // $2.10: 80 and 100 % at once; 50 % is not sent again.
    telemetry
        .ingest(vec![spend("c-3", "T-9", 1.00)])
        .await
        .unwrap();
    assert_eq!(
        receiver.titles("/json", 3).await,
        [
            "100 % of the budget of T-9",
            "50 % of the budget of T-9",
            "80 % of the budget of T-9"
        ]
    );
    let logged = alert_log(&server).await;
    assert!(
        logged["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| !a["key"].as_str().unwrap().contains("T-8")),
        "a task without a budget has no budget alert: {logged:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_passes_its_own_budget_is_announced_and_no_other_agent_is() {
    let workspace = Workspace::empty();
    let cache = tempfile::tempdir().unwrap();
    let receiver = Receiver::start("");
    let server = start_with_json_receiver(&workspace, cache.path(), &receiver, |config| {
        config.agent_budgets.insert(
            "backend-dev".to_owned(),
            app::model::Budgets {
                daily_usd: Some(4.0),
                monthly_usd: Some(40.0),
            },
        );
    })
    .await;
    let telemetry = Telemetry::open(workspace.root().join("telemetry.db"))
        .await
        .unwrap();
    let call = |id: &str, agent: &str, usd: f64| {
        let mut call = Invocation::new(id, "claude-code", "claude-sonnet-4-5");
        call.agent_name = Some(agent.to_owned());
        call.timestamp = Some(chrono::Utc::now().to_rfc3339());
        call.cost_usd = usd;
        call
    };
    // $2.10 of backend-dev's $4.00 a day: 50 %. frontend-dev has no budget of its own: $90 is nothing
    // to announce per agent (and there is no overall budget).
    telemetry
        .ingest(vec![
            call("a-1", "backend-dev", 2.10),
            call("a-2", "frontend-dev", 90.0),
        ])
        .await
        .unwrap();
    let first = json_body(&receiver.until("/json", 1).await[0]);
    assert_eq!(first["title"], "50 % of backend-dev's daily budget");
    let today = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(
        first["text"],
        format!("backend-dev: $2.10 spent of its daily budget of $4.00 ({today}).")
    );
    assert_eq!(
        first["link"],
        format!("http://{}/agents/backend%2Ddev", server.addr)
    );
    // $4.20: 80 and 100 % of the day; 50 % is not sent again; the month's $40 is far.
    telemetry
        .ingest(vec![call("a-3", "backend-dev", 2.10)])
        .await
        .unwrap();
    assert_eq!(
        receiver.titles("/json", 3).await,
        [
            "100 % of backend-dev's daily budget",
            "50 % of backend-dev's daily budget",
            "80 % of backend-dev's daily budget"
        ]
    );
    let logged = alert_log(&server).await;
    let keys: Vec<&str> = logged["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.iter()
            .all(|k| !k.contains("frontend-dev") && !k.contains("monthly")),
        "{keys:?}"
    );
}
