//! The real coding-agent CLIs, run offline against loopback stand-ins of their model APIs
//! (`tests/support/model_standin.py`) and exporting to a real server: what they report lands
//! on the task named in `OTEL_RESOURCE_ATTRIBUTES`, with their own figures.
//!
//! The CLIs are installed by `scripts/bootstrap` (`$EXECDASH_CLAUDE`).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{eventually, Workspace};
use execdash::RunningServer;
use serde_json::{json, Value};

/// A coding agent's CLI as `scripts/bootstrap` installs it: `$variable`, else `bin` in the tools'
/// npm folder.
fn agent_cli(variable: &str, bin: &str, product: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let tools = std::env::var_os("EXECDASH_TOOLS_DIR")
                .map_or_else(|| PathBuf::from("/opt/execdash-tools"), PathBuf::from);
            tools.join("agents/node_modules/.bin").join(bin)
        });
    assert!(
        path.exists(),
        "{product} is not installed at {} (scripts/bootstrap installs it)",
        path.display()
    );
    path
}

fn claude() -> PathBuf {
    agent_cli("EXECDASH_CLAUDE", "claude", "Claude Code")
}

fn codex() -> PathBuf {
    agent_cli("EXECDASH_CODEX", "codex", "Codex")
}

fn gemini() -> PathBuf {
    agent_cli("EXECDASH_GEMINI", "gemini", "Gemini CLI")
}

/// A model API stand-in (`tests/support/<script>`), answering with the usage figures in `env`;
/// killed when dropped.
struct Standin {
    child: Child,
    port: u16,
}

impl Standin {
    /// The Anthropic Messages API's.
    fn start(input: u32, output: u32, cache_read: u32, cache_write: u32) -> Standin {
        Standin::script(
            "model_standin.py",
            &[
                ("STANDIN_INPUT_TOKENS", input),
                ("STANDIN_OUTPUT_TOKENS", output),
                ("STANDIN_CACHE_READ", cache_read),
                ("STANDIN_CACHE_WRITE", cache_write),
            ],
        )
    }

    fn script<V: ToString>(name: &str, env: &[(&str, V)]) -> Standin {
        let mut command = Command::new("python3");
        command
            .arg(common::repo().join("tests/support").join(name))
            .arg("0");
        for (key, value) in env {
            command.env(key, value.to_string());
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the stand-in said {line:?}"));
        Standin { child, port }
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `claude -p` in `project` with `home`, exporting over `protocol` to `server`.
fn run_claude(
    server: &RunningServer,
    standin: &Standin,
    home: &Path,
    project: &Path,
    protocol: &str,
) {
    run_claude_exporting(Some((server, protocol)), standin, home, project, &[]);
}

/// Runs `claude -p` in `project` with `home`, exporting OTLP to a server over a protocol, or not
/// at all (then its transcript is all it leaves).
fn run_claude_exporting(
    export: Option<(&RunningServer, &str)>,
    standin: &Standin,
    home: &Path,
    project: &Path,
    env: &[(&str, &str)],
) {
    let mut command = Command::new(claude());
    command
        .args(["-p", "say hello", "--model", "claude-sonnet-4-5"])
        .current_dir(project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env(
            "ANTHROPIC_BASE_URL",
            format!("http://127.0.0.1:{}", standin.port),
        )
        .env("ANTHROPIC_API_KEY", "sk-ant-standin")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
    if let Some((server, protocol)) = export {
        command
            .env("CLAUDE_CODE_ENABLE_TELEMETRY", "1")
            .env("OTEL_LOGS_EXPORTER", "otlp")
            .env("OTEL_METRICS_EXPORTER", "otlp")
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{}", server.addr),
            )
            .env("OTEL_RESOURCE_ATTRIBUTES", "task.id=T-42,agent=backend-dev");
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("claude runs");
    assert!(
        output.status.success(),
        "claude -p failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Hello from the stand-in."),
        "the answer came from the stand-in"
    );
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_runs_land_on_their_task_with_claude_codes_own_figures_in_both_encodings() {
    let workspace = Workspace::empty();
    workspace.write(
        "assigned/backend-dev/T-42.yaml",
        "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
    );
    let server = common::start_server(&workspace, |_| {}).await;
    let standin = Standin::start(1234, 56, 700, 300);
    let home = tempfile::tempdir().unwrap();
    let project = workspace.root().to_owned();
    for protocol in ["http/json", "http/protobuf"] {
        let (server_ref, standin_ref, home_path) = (&server, &standin, home.path().to_owned());
        tokio::task::block_in_place(|| {
            run_claude(server_ref, standin_ref, &home_path, &project, protocol)
        });
    }
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 2, "one call a run: {rows:#?}");
    for row in &rows {
        assert_eq!(row["tool_name"], "claude-code");
        assert_eq!(row["model_name"], "claude-sonnet-4-5");
        assert_eq!(row["task_id"], "T-42");
        assert_eq!(row["agent_name"], "backend-dev");
        assert_eq!(row["prompt_tokens"], 1234 + 700 + 300);
        assert_eq!(row["completion_tokens"], 56);
        // Claude Code's own price of these figures (its cost_usd_micros: 5877).
        assert_eq!(row["cost_usd"], 0.005877);
        assert_eq!(row["reported_cost_usd"], 0.005877);
        assert_eq!(
            (&row["cache_read_tokens"], &row["cache_write_tokens"]),
            (&json!(700), &json!(300))
        );
        assert_eq!(row["source"], "claude-code");
        assert!(
            row["session_id"].as_str().is_some_and(|s| s.len() == 36),
            "{row}"
        );
    }
    assert_ne!(
        rows[0]["session_id"], rows[1]["session_id"],
        "two runs, two sessions"
    );
    let details: Value = reqwest::get(format!("http://{}/api/board/task?id=T-42", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(details["cost"]["invocations"], 2);
    assert!((details["cost"]["cost_usd"].as_f64().unwrap() - 0.011754).abs() < 1e-9);
}

/// The Python with the OpenTelemetry SDK and its OTLP/HTTP exporter (the bootstrap's venv).
fn otel_python() -> PathBuf {
    let python = std::env::var_os("EXECDASH_MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/execdash-tools/mcp-python/bin/python"));
    assert!(
        python.exists(),
        "no Python at {} (scripts/bootstrap)",
        python.display()
    );
    python
}

/// An app instrumented with the OpenTelemetry Python SDK: a GenAI client span with usage, inside
/// a request span without, exported in protobuf by the SDK's own OTLP/HTTP exporter.
const GENAI_APP: &str = r#"
import sys
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

provider = TracerProvider(resource=Resource.create({
    "service.name": "triage-bot", "execdash.task": "T-42", "execdash.agent": "triage"}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=sys.argv[1] + "/v1/traces")))
tracer = provider.get_tracer("triage")
with tracer.start_as_current_span("handle request"):
    with tracer.start_as_current_span("chat gpt-4o", kind=trace.SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4o")
        span.set_attribute("gen_ai.response.model", "gpt-4o-2024-08-06")
        span.set_attribute("gen_ai.usage.input_tokens", 812)
        span.set_attribute("gen_ai.usage.output_tokens", 97)
provider.shutdown()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genai_spans_from_the_python_sdk_are_calls_of_their_task() {
    let workspace = Workspace::empty();
    let server = common::start_server(&workspace, |_| {}).await;
    let endpoint = format!("http://{}", server.addr);
    let output = tokio::task::block_in_place(|| {
        Command::new(otel_python())
            .args(["-c", GENAI_APP, &endpoint])
            .output()
            .unwrap()
    });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("Failed to export"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 1, "the span with usage only: {rows:#?}");
    let row = &rows[0];
    assert_eq!(row["tool_name"], "triage-bot");
    assert_eq!(row["model_name"], "gpt-4o-2024-08-06");
    assert_eq!(row["task_id"], "T-42");
    assert_eq!(row["agent_name"], "triage");
    assert_eq!(
        (
            row["prompt_tokens"].as_i64(),
            row["completion_tokens"].as_i64()
        ),
        (Some(812), Some(97))
    );
    assert!(row["invocation_id"].as_str().unwrap().starts_with("span:"));
}

/// Waits (at most `limit`) until the server has stored `count` invocations; the time it took.
async fn until_stored(server: &RunningServer, count: usize, limit: Duration) -> Duration {
    let what = format!("{count} invocations stored");
    eventually(&what, limit, || async {
        let rows = stored(server).await;
        if rows.len() >= count {
            Ok(())
        } else {
            Err(format!("{rows:#?}"))
        }
    })
    .await
}

/// A Claude Code session that exports nothing: its transcript, followed live, is its cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_code_transcript_is_followed_live() {
    let workspace = Workspace::empty();
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let config_dir = home.path().join(".claude");
    let server = common::start_server(&workspace, |config| {
        config.claude_config_dirs = Some(vec![config_dir.clone()]);
        config.board_cache = Some(cache.path().to_owned());
    })
    .await;
    let standin = Standin::start(1234, 56, 700, 300);
    let project = workspace.root().to_owned();
    let home_path = home.path().to_owned();
    let ended = Instant::now();
    tokio::task::block_in_place(|| run_claude_exporting(None, &standin, &home_path, &project, &[]));
    let after_exit = until_stored(&server, 1, Duration::from_secs(5)).await;
    println!(
        "transcript → stored: {after_exit:?} after claude exited ({:?} in all)",
        ended.elapsed()
    );
    let rows = stored(&server).await;
    let row = &rows[0];
    assert!(
        row["invocation_id"]
            .as_str()
            .unwrap()
            .starts_with("claude-code:req_standin_"),
        "the API's request id: {row}"
    );
    assert_eq!(row["source"], "claude-code");
    assert_eq!(row["model_name"], "claude-sonnet-4-5");
    assert_eq!(
        (
            row["prompt_tokens"].as_i64(),
            row["completion_tokens"].as_i64()
        ),
        (Some(2234), Some(56))
    );
    // No cost in a transcript: the price table's, which is what Claude Code reports.
    assert_eq!(row["reported_cost_usd"], Value::Null);
    assert_eq!(row["computed_cost_usd"], 0.005877);
    assert_eq!(row["cost_usd"], 0.005877);
    assert!(row["session_id"].as_str().is_some_and(|s| s.len() == 36));
}

/// The same call reported over OpenTelemetry and in the transcript counts once (the first kept:
/// the OTLP row, with Claude Code's own cost); `execdash import --agent-logs` backfills with a
/// report, and a second import reads nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_both_the_export_and_the_transcript_counts_once_and_imports_resume() {
    let workspace = Workspace::empty();
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let db = workspace.root().join("telemetry.db");
    let server = common::start_server(&workspace, |config| {
        config.agent_logs = false;
    })
    .await;
    let standin = Standin::start(1234, 56, 700, 300);
    let project = workspace.root().to_owned();
    let home_path = home.path().to_owned();
    tokio::task::block_in_place(|| {
        run_claude_exporting(
            Some((&server, "http/protobuf")),
            &standin,
            &home_path,
            &project,
            &[],
        );
        run_claude_exporting(None, &standin, &home_path, &project, &[]);
    });
    assert_eq!(
        stored(&server).await.len(),
        1,
        "the exported call only, so far"
    );
    let import = || {
        let output = Command::new(env!("CARGO_BIN_EXE_execdash"))
            .args(["import", "--agent-logs", "--root"])
            .arg(&project)
            .arg("--db")
            .arg(&db)
            .env("CLAUDE_CONFIG_DIR", home_path.join(".claude"))
            .env("XDG_CACHE_HOME", cache.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let first = tokio::task::block_in_place(import);
    assert!(
        first.contains("2 transcript files")
            && first.contains("2 calls, 1 inserted, 1 already there, 0 bad lines"),
        "{first}"
    );
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let exported = rows
        .iter()
        .find(|r| r["reported_cost_usd"] == 0.005877)
        .expect("the OTLP row");
    assert_eq!(
        exported["task_id"], "T-42",
        "kept as exported, with its task"
    );
    let again = tokio::task::block_in_place(import);
    assert!(
        again.contains("(0 with new lines, 0 bytes): 0 calls"),
        "{again}"
    );
}

/// The real Codex CLI (`codex exec`) against a stand-in of the Responses API, exporting OTLP
/// logs as configured in its config.toml (JSON, then protobuf): one call a run on the task of
/// `OTEL_RESOURCE_ATTRIBUTES`, its tokens as Codex counts them, priced from the table (Codex
/// reports no cost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_exec_runs_land_on_their_task_priced_from_the_table() {
    let workspace = Workspace::empty();
    workspace.write(
        "assigned/backend-dev/T-42.yaml",
        "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
    );
    let server = common::start_server(&workspace, |config| config.agent_logs = false).await;
    let standin = Standin::script(
        "openai_standin.py",
        &[
            ("STANDIN_INPUT_TOKENS", 1234),
            ("STANDIN_CACHED_TOKENS", 700),
            ("STANDIN_OUTPUT_TOKENS", 56),
            ("STANDIN_REASONING_TOKENS", 20),
        ],
    );
    let home = tempfile::tempdir().unwrap();
    let codex_home = home.path().join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    // JSON, protobuf, and protobuf compressed with zstd (Codex's gzip turns its export off).
    for (protocol, compression) in [("json", ""), ("binary", ""), ("binary", "zstd")] {
        std::fs::write(
            codex_home.join("config.toml"),
            format!(
                "model = \"gpt-5-codex\"\nmodel_provider = \"standin\"\n\
                 [model_providers.standin]\nname = \"standin\"\n\
                 base_url = \"http://127.0.0.1:{}/v1\"\nwire_api = \"responses\"\n\
                 env_key = \"OPENAI_API_KEY\"\n\
                 [otel]\nexporter = {{ otlp-http = {{ endpoint = \"http://{}/v1/logs\", protocol = \"{protocol}\" }} }}\n",
                standin.port, server.addr
            ),
        )
        .unwrap();
        let mut command = Command::new(codex());
        command
            .args(["exec", "--skip-git-repo-check", "say hello"])
            .current_dir(workspace.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("CODEX_HOME", &codex_home)
            .env("OPENAI_API_KEY", "sk-standin")
            .env("OTEL_RESOURCE_ATTRIBUTES", "task.id=T-42,agent=backend-dev");
        if !compression.is_empty() {
            command.env("OTEL_EXPORTER_OTLP_COMPRESSION", compression);
        }
        let before = stored(&server).await.len();
        let output = tokio::task::block_in_place(|| command.output().unwrap());
        assert!(
            output.status.success()
                && String::from_utf8_lossy(&output.stdout).contains("Hello from the stand-in."),
            "codex exec failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            stored(&server).await.len(),
            before + 1,
            "{protocol} {compression}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 3, "one call a run: {rows:#?}");
    for row in &rows {
        assert_eq!(
            (&row["tool_name"], &row["source"]),
            (&json!("codex"), &json!("codex"))
        );
        assert_eq!(row["model_name"], "gpt-5-codex");
        assert_eq!(
            (&row["task_id"], &row["agent_name"]),
            (&json!("T-42"), &json!("backend-dev"))
        );
        assert_eq!(
            (
                row["prompt_tokens"].as_i64(),
                row["completion_tokens"].as_i64()
            ),
            (Some(1234), Some(56))
        );
        assert_eq!(row["cache_read_tokens"], 700);
        assert_eq!(row["reported_cost_usd"], Value::Null);
        // gpt-5-codex: $1.25 / M input, $0.125 / M cached input, $10 / M output.
        let expected = 534.0 * 1.25e-6 + 700.0 * 1.25e-7 + 56.0 * 1e-5;
        let computed = row["computed_cost_usd"].as_f64().unwrap();
        assert!(
            (computed - expected).abs() < 1e-12,
            "{computed} vs {expected}"
        );
        assert_eq!(row["cost_usd"], row["computed_cost_usd"]);
    }
}

/// Claude Code exporting metrics only (no events): each session's `cost.usage` and
/// `token.usage` counted, delta (its default) and cumulative alike; a session that exports
/// its events too is counted once, by its calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_only_claude_code_session_counts_once_in_either_temporality() {
    let workspace = Workspace::empty();
    let server = common::start_server(&workspace, |config| config.agent_logs = false).await;
    let standin = Standin::start(1234, 56, 700, 300);
    let home = tempfile::tempdir().unwrap();
    let project = workspace.root().to_owned();
    let metrics_only = [("OTEL_LOGS_EXPORTER", "none")];
    let cumulative = [
        ("OTEL_LOGS_EXPORTER", "none"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "cumulative",
        ),
    ];
    for env in [&metrics_only[..], &cumulative[..], &[]] {
        tokio::task::block_in_place(|| {
            run_claude_exporting(
                Some((&server, "http/json")),
                &standin,
                home.path(),
                &project,
                env,
            )
        });
    }
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 3, "one a session: {rows:#?}");
    let metered: Vec<&Value> = rows
        .iter()
        .filter(|r| {
            r["invocation_id"]
                .as_str()
                .unwrap()
                .starts_with("metered:claude-code:")
        })
        .collect();
    assert_eq!(metered.len(), 2, "the two metrics-only sessions: {rows:#?}");
    for row in &rows {
        assert_eq!(
            (
                row["prompt_tokens"].as_i64(),
                row["completion_tokens"].as_i64(),
                row["cache_read_tokens"].as_i64(),
                row["cache_write_tokens"].as_i64()
            ),
            (Some(2234), Some(56), Some(700), Some(300)),
            "{row}"
        );
        assert_eq!(
            row["reported_cost_usd"], 0.005877,
            "Claude Code's own cost: {row}"
        );
        assert_eq!(
            (&row["task_id"], &row["attribution"]),
            (&json!("T-42"), &json!("sent"))
        );
    }
    let sessions: std::collections::HashSet<&str> = rows
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(sessions.len(), 3, "{rows:#?}");
    let stats: Value = reqwest::get(format!("http://{}/api/stats", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["invocations"], 3, "{stats}");
}

/// The real `claude -p` with the hook settings `execdash hooks --merge` writes into its
/// repository: its session goes working → waiting (the permission its Write asks for; `-p`
/// mode refuses it at once) → ended, live on the socket, on the task the settings name, with its
/// calls (exported over OTLP) joined: what it spent, its models, its timeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_code_session_is_followed_live_through_its_hooks_and_calls() {
    use app::model::{ServerEvent, SessionState};
    let workspace = Workspace::empty();
    workspace.write(
        "assigned/backend-dev/T-42.yaml",
        "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
    );
    let server = common::start_server(&workspace, |config| config.agent_logs = false).await;
    let project = workspace.root().to_owned();
    let merge = Command::new(env!("CARGO_BIN_EXE_execdash"))
        .args(["hooks", "--url", &format!("http://{}", server.addr)])
        .args([
            "--agent",
            "backend-dev",
            "--task",
            "T-42",
            "--yes",
            "--merge",
        ])
        .arg(&project)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&merge.stdout);
    assert!(
        merge.status.success() && printed.contains("+++") && printed.contains("written:"),
        "{printed}{}",
        String::from_utf8_lossy(&merge.stderr)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    common::next_envelope(&mut socket).await;
    let standin = Standin::script(
        "model_standin.py",
        &[
            ("STANDIN_TOOL", "write".to_owned()),
            ("STANDIN_DIR", project.display().to_string()),
        ],
    );
    let home = tempfile::tempdir().unwrap();
    tokio::task::block_in_place(|| {
        run_claude_exporting(
            Some((&server, "http/protobuf")),
            &standin,
            home.path(),
            &project,
            &[],
        )
    });
    // Every state the session went through, as the page heard it.
    let mut states = Vec::new();
    let last = loop {
        let envelope =
            tokio::time::timeout(Duration::from_secs(10), common::next_envelope(&mut socket))
                .await
                .unwrap_or_else(|_| panic!("the session did not end: {states:?}"));
        if let ServerEvent::SessionUpdated { session } = envelope.event {
            if states.last() != Some(&session.state) {
                states.push(session.state);
            }
            if session.state == SessionState::Ended && session.calls == 2 {
                break session;
            }
        }
    };
    for state in [
        SessionState::Working,
        SessionState::Waiting,
        SessionState::Ended,
    ] {
        assert!(states.contains(&state), "{state:?} in {states:?}");
    }
    assert_eq!(
        (last.agent.as_deref(), last.task_id.as_deref()),
        (Some("backend-dev"), Some("T-42"))
    );
    assert_eq!(last.models, ["claude-sonnet-4-5"]);
    assert!((last.cost_usd - 2.0 * 0.005877).abs() < 1e-9, "{last:?}");
    let (detail, kinds) = common::session_detail(&server, &last.id).await;
    for kind in [
        "start",
        "prompt",
        "tool",
        "permission",
        "call",
        "stop",
        "end",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    assert!(
        !detail.to_string().contains("say hello"),
        "a prompt's size, never its text"
    );
}

/// Runs the real `codex exec` in `project` against `standin`, with its home in `home`, exporting
/// OTLP (protobuf) to `server` when given.
fn run_codex(standin: &Standin, home: &Path, project: &Path, server: Option<&RunningServer>) {
    let codex_home = home.join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let otel = server.map_or(String::new(), |server| {
        format!(
            "[otel]\nexporter = {{ otlp-http = {{ endpoint = \"http://{}/v1/logs\", protocol = \"binary\" }} }}\n",
            server.addr
        )
    });
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            "model = \"gpt-5-codex\"\nmodel_provider = \"standin\"\n\
             [model_providers.standin]\nname = \"standin\"\n\
             base_url = \"http://127.0.0.1:{}/v1\"\nwire_api = \"responses\"\n\
             env_key = \"OPENAI_API_KEY\"\n{otel}",
            standin.port
        ),
    )
    .unwrap();
    let output = Command::new(codex())
        .args(["exec", "--skip-git-repo-check", "say hello"])
        .current_dir(project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("CODEX_HOME", &codex_home)
        .env("OPENAI_API_KEY", "sk-standin")
        .env("OTEL_RESOURCE_ATTRIBUTES", "task.id=T-42,agent=backend-dev")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "codex exec failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Codex's session files (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`) followed live: a
/// run that exports nothing lands from its file, priced from the table; a run that also exported
/// its call counts once (Codex sends no response id: both ways key the call by its conversation
/// and counts); `execdash import --agent-logs` then finds every call already there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_session_files_are_followed_live_and_a_call_exported_too_counts_once() {
    let workspace = Workspace::empty();
    let home = tempfile::tempdir().unwrap();
    let codex_home = home.path().join(".codex");
    let server = common::start_server(&workspace, |config| {
        config.claude_config_dirs = Some(Vec::new());
        config.codex_homes = Some(vec![codex_home.clone()]);
    })
    .await;
    let standin = Standin::script(
        "openai_standin.py",
        &[
            ("STANDIN_INPUT_TOKENS", 1234),
            ("STANDIN_CACHED_TOKENS", 700),
            ("STANDIN_OUTPUT_TOKENS", 56),
            ("STANDIN_REASONING_TOKENS", 20),
        ],
    );
    let project = workspace.root().to_owned();
    // Exported and written: one call.
    tokio::task::block_in_place(|| run_codex(&standin, home.path(), &project, Some(&server)));
    until_stored(&server, 1, Duration::from_secs(10)).await;
    // Written only: followed live.
    tokio::task::block_in_place(|| run_codex(&standin, home.path(), &project, None));
    until_stored(&server, 2, Duration::from_secs(10)).await;
    let import = tokio::task::block_in_place(|| {
        let cache = tempfile::tempdir().unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_execdash"))
            .args(["import", "--agent-logs", "--root"])
            .arg(&project)
            .arg("--db")
            .arg(workspace.root().join("telemetry.db"))
            .env("CODEX_HOME", &codex_home)
            .env("CLAUDE_CONFIG_DIR", home.path().join("no-claude"))
            .env("XDG_CACHE_HOME", cache.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    });
    assert!(
        import.contains("2 transcript files")
            // Each call is written twice (its usage record and its token count event).
            && import.contains("4 calls, 0 inserted, 2 already there, 0 bad lines"),
        "{import}"
    );
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 2, "each run's call once: {rows:#?}");
    let sessions: Vec<&str> = rows
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    assert_ne!(sessions[0], sessions[1], "two conversations: {rows:#?}");
    for row in &rows {
        let id = row["invocation_id"].as_str().unwrap();
        assert_eq!(
            id,
            format!(
                "codex:{}:1234:700:56:20",
                row["session_id"].as_str().unwrap()
            ),
            "{row}"
        );
        assert_eq!(
            (&row["source"], &row["model_name"]),
            (&json!("codex"), &json!("gpt-5-codex"))
        );
        let expected = 534.0 * 1.25e-6 + 700.0 * 1.25e-7 + 56.0 * 1e-5;
        assert!(
            (row["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12,
            "{row}"
        );
    }
    assert!(
        rows.iter().any(|r| r["task_id"] == "T-42"),
        "the exported copy kept, with its task: {rows:#?}"
    );
}

/// The real Gemini CLI (`gemini -p`) against a stand-in of the Gemini API
/// (`GOOGLE_GEMINI_BASE_URL`), exporting OTLP over HTTP with its own telemetry settings: one call
/// on the task of `OTEL_RESOURCE_ATTRIBUTES`, thoughts priced as output, cached input as cache
/// reads, priced from the table (Gemini reports no cost); its spans carry no usage, so nothing
/// counts twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_cli_runs_land_on_their_task_priced_from_the_table() {
    let workspace = Workspace::empty();
    let server = common::start_server(&workspace, |config| config.agent_logs = false).await;
    let standin = Standin::script(
        "gemini_standin.py",
        &[
            ("STANDIN_INPUT_TOKENS", 1234),
            ("STANDIN_CACHED_TOKENS", 700),
            ("STANDIN_OUTPUT_TOKENS", 56),
            ("STANDIN_THOUGHTS_TOKENS", 20),
        ],
    );
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".gemini")).unwrap();
    std::fs::write(
        home.path().join(".gemini/settings.json"),
        r#"{"security": {"auth": {"selectedType": "gemini-api-key"}}}"#,
    )
    .unwrap();
    let output = tokio::task::block_in_place(|| {
        Command::new(gemini())
            .args(["-p", "say hello", "-m", "gemini-2.5-pro"])
            .current_dir(workspace.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("GEMINI_API_KEY", "standin")
            .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
            .env(
                "GOOGLE_GEMINI_BASE_URL",
                format!("http://127.0.0.1:{}", standin.port),
            )
            .env("GEMINI_TELEMETRY_ENABLED", "true")
            .env("GEMINI_TELEMETRY_TARGET", "local")
            .env("GEMINI_TELEMETRY_OTLP_PROTOCOL", "http")
            .env(
                "GEMINI_TELEMETRY_OTLP_ENDPOINT",
                format!("http://{}", server.addr),
            )
            .env("OTEL_RESOURCE_ATTRIBUTES", "task.id=T-42,agent=backend-dev")
            .output()
            .unwrap()
    });
    assert!(
        output.status.success()
            && String::from_utf8_lossy(&output.stdout).contains("Hello from the stand-in."),
        "gemini -p failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = stored(&server).await;
    assert_eq!(rows.len(), 1, "one call: {rows:#?}");
    let row = &rows[0];
    assert_eq!(
        (&row["tool_name"], &row["source"]),
        (&json!("gemini-cli"), &json!("gemini-cli"))
    );
    assert_eq!(row["model_name"], "gemini-2.5-pro");
    assert_eq!(
        (&row["task_id"], &row["agent_name"]),
        (&json!("T-42"), &json!("backend-dev"))
    );
    assert_eq!(
        (
            row["prompt_tokens"].as_i64(),
            row["completion_tokens"].as_i64()
        ),
        (Some(1234), Some(76))
    );
    assert_eq!(row["cache_read_tokens"], 700);
    assert_eq!(row["reported_cost_usd"], Value::Null);
    // gemini-2.5-pro under 200k tokens: $1.25 / M input, $0.125 / M cached, $10 / M output.
    let expected = 534.0 * 1.25e-6 + 700.0 * 1.25e-7 + 76.0 * 1e-5;
    let computed = row["computed_cost_usd"].as_f64().unwrap();
    assert!(
        (computed - expected).abs() < 1e-12,
        "{computed} vs {expected}"
    );
}
