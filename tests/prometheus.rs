//! `/metrics` as an operator uses it, on the real things: the `execdash` binary behind a token and
//! a base path, on a throwaway PostgreSQL team store, with a real MCP server configured, scraped by
//! a real Prometheus (Debian's package, which scripts/bootstrap installs) started with the shipped
//! docs/deploy/prometheus.yml; `promtool check metrics` on what it serves; and every query of the
//! shipped docs/deploy/grafana-dashboard.json evaluated through Prometheus' HTTP API.

mod common;
#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/process.rs"]
mod process;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use common::{eventually, Workspace};
use postgres::Postgres;
use process::Process;

const TOKEN: &str = "a-token-for-prometheus-0123456789";

/// A program Debian's `prometheus` package installs.
fn prometheus_tool(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/bootstrap (it installs Debian's prometheus package)",
        path.display()
    );
    path
}

/// `from` with `what` replaced by `with`, which must be there (the shipped file and the test stay
/// in step).
fn replaced(from: &str, what: &str, with: &str) -> String {
    assert!(
        from.contains(what),
        "docs/deploy/prometheus.yml no longer has {what:?}"
    );
    from.replace(what, with)
}

struct Prometheus {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Prometheus {
    /// Prometheus with the shipped scrape configuration, pointed at `target` (`host:port`) with
    /// the token in `token_file`, scraping every second.
    fn start(target: &str, token_file: &Path) -> Prometheus {
        let data = tempfile::tempdir().unwrap();
        let shipped =
            std::fs::read_to_string(common::repo().join("docs/deploy/prometheus.yml")).unwrap();
        let config = replaced(&shipped, "127.0.0.1:3000", target);
        let config = replaced(
            &config,
            "/etc/execdash/token",
            &token_file.display().to_string(),
        );
        let config = replaced(&config, "scrape_interval: 15s", "scrape_interval: 1s");
        let config_file = data.path().join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();
        let port = common::free_port();
        let child = Command::new(prometheus_tool("prometheus"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                data.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(data.path().join("prometheus.log")).unwrap())
            .spawn()
            .unwrap();
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _data: data,
        }
    }

    /// The scrape targets' state and last error, as Prometheus reports them.
    async fn targets(&self) -> String {
        match reqwest::get(format!("{}/api/v1/targets", self.url)).await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(error) => error.to_string(),
        }
    }

    /// An instant query's result vector, or why there is none.
    async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if body["status"] != "success" {
            return Err(format!("{expr}: {body}"));
        }
        match body["data"]["result"].as_array() {
            Some(result) if !result.is_empty() => Ok(result.clone()),
            _ => Err(format!("{expr}: no data ({body})")),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every query of the dashboard's panels (rows' panels included), with Grafana's variables set as
/// Grafana would for the job `execdash`.
fn dashboard_queries() -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(common::repo().join("docs/deploy/grafana-dashboard.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    let mut queries = Vec::new();
    let mut panels: Vec<Value> = dashboard["panels"].as_array().unwrap().clone();
    while let Some(panel) = panels.pop() {
        if let Some(inner) = panel["panels"].as_array() {
            panels.extend(inner.iter().cloned());
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let expr = expr
                .replace("$__rate_interval", "15s")
                .replace("$job", "execdash");
            queries.push((panel["title"].as_str().unwrap().to_owned(), expr));
        }
    }
    queries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_execdash_and_every_dashboard_panel_has_data() {
    let queries = dashboard_queries();
    assert!(queries.len() >= 20, "{queries:?}");

    let postgres = Postgres::start();
    let db = postgres.database("metrics");
    let workspace = Workspace::demo();
    std::fs::write(
        workspace.root().join(".mcp.json"),
        json!({"mcpServers": {
            "everything": {"command": common::npm_server("mcp-server-everything"), "args": ["stdio"]}
        }})
        .to_string(),
    )
    .unwrap();
    let token_file = workspace.root().join("token");
    std::fs::File::create(&token_file)
        .unwrap()
        .write_all(TOKEN.as_bytes())
        .unwrap();
    let server = Process::start(
        workspace.root(),
        &[
            "--db".as_ref(),
            db.as_ref(),
            "--repo-name".as_ref(),
            "alpha".as_ref(),
            "--base-path".as_ref(),
            "/dashboard".as_ref(),
            "--token-file".as_ref(),
            token_file.as_os_str(),
            "--daily-budget".as_ref(),
            "50".as_ref(),
            "--monthly-budget".as_ref(),
            "900".as_ref(),
        ],
    );
    let target = server.address.split('/').next().unwrap().to_owned();
    let base = format!("http://{target}/dashboard");
    let client = reqwest::Client::new();
    for (id, cost) in [("i-1", 0.1), ("i-2", 0.2)] {
        let response = client
            .post(format!("{base}/api/invocations"))
            .bearer_auth(TOKEN)
            .json(
                &json!({"invocation_id": id, "tool_name": "codex", "model_name": "gpt-5",
                          "status": "success", "cost_usd": cost}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    // What it serves is Prometheus' text format, which promtool accepts without a complaint.
    let metrics = |client: reqwest::Client| {
        let url = format!("{base}/metrics");
        async move {
            let response = client.get(url).bearer_auth(TOKEN).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (content_type, response.text().await.unwrap())
        }
    };
    // The cost feed takes the two calls into its summary on its own time; then the all-time
    // spending is a counter, to the micro-dollar (0.1 + 0.2 is not 0.30000000000000004).
    eventually("both calls counted", Duration::from_secs(30), || {
        let client = client.clone();
        async move {
            let (_, text) = metrics(client).await;
            text.lines()
                .any(|line| line == "execdash_cost_usd_total 0.3")
                .then_some(())
                .ok_or(format!("not counted yet:\n{text}"))
        }
    })
    .await;
    let (content_type, text) = metrics(client.clone()).await;
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let mut promtool = Command::new(prometheus_tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    let complaints = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success() && complaints.trim().is_empty(),
        "promtool check metrics: {complaints}\n{text}"
    );
    assert!(
        text.contains("# TYPE execdash_cost_usd_total counter"),
        "{text}"
    );

    // Prometheus with the shipped configuration reaches it (through the token and the base path).
    let prometheus = Prometheus::start(&target, &token_file);
    eventually(
        "Prometheus scrapes execdash",
        Duration::from_secs(60),
        || async {
            match prometheus.query(r#"up{job="execdash"} == 1"#).await {
                Ok(_) => Ok(()),
                // Why not, as Prometheus says it (the target's last error).
                Err(_) => Err(prometheus.targets().await),
            }
        },
    )
    .await;
    // The MCP server is checked, and requests of several routes are seen over a few scrapes.
    eventually("the MCP server is healthy", Duration::from_secs(60), || {
        let client = client.clone();
        async {
            let (_, text) = metrics(client).await;
            text.lines()
                .any(|l| l == r#"execdash_mcp_server_up{server="everything"} 1"#)
                .then_some(())
                .ok_or_else(|| "no healthy MCP server yet".to_owned())
        }
    })
    .await;
    for (title, expr) in &queries {
        eventually(
            &format!("the panel {title:?} has data"),
            Duration::from_secs(60),
            || async {
                // Traffic for the request-rate panels while the window fills.
                let _ = client
                    .get(format!("{base}/api/tasks"))
                    .bearer_auth(TOKEN)
                    .send()
                    .await;
                prometheus.query(expr).await.map(|_| ())
            },
        )
        .await;
    }

    // A figure Prometheus stored is the one execdash reported.
    let budget = prometheus
        .query(r#"execdash_cost_usd{job="execdash",period="today"} / execdash_budget_usd{job="execdash"}"#)
        .await
        .unwrap();
    let ratio: f64 = budget[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!((ratio - 0.3 / 50.0).abs() < 1e-9, "{budget:?}");
    let repositories = prometheus
        .query(r#"execdash_repository_stale{job="execdash"}"#)
        .await
        .unwrap();
    assert_eq!(repositories[0]["metric"]["repository"], "alpha");
    let routes = prometheus
        .query(r#"execdash_http_requests_total{job="execdash",route="/dashboard/api/tasks",status="200"}"#)
        .await
        .unwrap();
    assert!(!routes.is_empty());
    drop(prometheus);
    server.stop();
}
