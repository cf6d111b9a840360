//! One health check of one MCP server, with the official SDK's client (`rmcp`): connect (spawn
//! a stdio server with a clean environment plus its configured `env`, or open a streamable HTTP
//! session), `initialize`, `tools/list` (and `resources/list`, `prompts/list` where the server
//! offers them), close. Everything runs under one deadline; a spawned server is the leader of
//! its own process group, killed with everything it started when the check ends, however it
//! ends, and reaped by the runtime.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use app::model::{McpServerInfo, McpStatus, McpTool};
use process_wrap::tokio::{CommandWrap, KillOnDrop, ProcessGroup};
use rmcp::model::{PaginatedRequestParams, ServerPeerInfo};
use rmcp::service::{Peer, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::ServiceError;
use rmcp::{RoleClient, ServiceExt as _};
use tokio::io::AsyncReadExt as _;

use super::config::{ServerSpec, Transport};

/// The variables a spawned server gets from execdash's own environment (the rest is its
/// configured `env`): enough to find programs and a home, nothing else of the dashboard's.
const INHERITED_ENV: [&str; 8] = [
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR", "SHELL",
];
/// The niceness of the servers the checks start: a node server's start costs a few hundred
/// milliseconds of CPU, which the dashboard's own work goes before.
const NICENESS: libc::c_int = 10;
/// How much of a server's stderr is kept (its end).
const STDERR_KEPT: usize = 4 * 1024;
/// Lines of it shown.
const STDERR_LINES: usize = 12;
/// Of a server's lists, at most this many items are kept and this many pages asked for: a server
/// that lists without end (a cursor forever) costs no more than this.
const MAX_LIST_ITEMS: usize = 1_000;
const MAX_LIST_PAGES: usize = 100;
/// A tool's description is cut to this many characters, and an input schema larger than this
/// (as JSON) is left out, with its size in its place.
const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_SCHEMA_BYTES: usize = 16 * 1024;

/// What one check found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) status: McpStatus,
    pub(crate) error: Option<String>,
    pub(crate) stderr_tail: Vec<String>,
    /// Connect + `initialize`.
    pub(crate) latency: Option<Duration>,
    pub(crate) server_info: Option<McpServerInfo>,
    /// By name.
    pub(crate) tools: Vec<McpTool>,
    pub(crate) resources: Option<usize>,
    pub(crate) prompts: Option<usize>,
}

impl Outcome {
    pub(super) fn down(error: String) -> Outcome {
        Outcome {
            status: McpStatus::Down,
            error: Some(error),
            ..Outcome::default()
        }
    }
}

/// Checks `spec` once. `timeout` bounds the whole check; a handshake slower than half of it
/// makes the server degraded.
pub(crate) async fn check(spec: &ServerSpec, repo: &Path, timeout: Duration) -> Outcome {
    if spec.disabled {
        return Outcome {
            status: McpStatus::Disabled,
            error: Some("disabled in its configuration".into()),
            ..Outcome::default()
        };
    }
    match &spec.transport {
        Transport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let (transport, stderr) = match spawn(command, args, env, cwd.as_deref(), repo) {
                Ok(spawned) => spawned,
                Err(error) => return Outcome::down(error),
            };
            let tail = stderr.map(|stderr| tokio::spawn(stderr_tail(stderr)));
            let mut outcome = session(().serve(transport), timeout).await;
            if outcome.status == McpStatus::Down
                && outcome
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains("Broken pipe") || e.contains("closed"))
            {
                outcome.error = Some(format!(
                    "the server exited before it answered initialize ({})",
                    outcome.error.take().unwrap_or_default()
                ));
            }
            if let Some(tail) = tail {
                // The server is gone by now (the session closed it): its stderr ends.
                if let Ok(Ok(lines)) = tokio::time::timeout(Duration::from_secs(1), tail).await {
                    if outcome.status != McpStatus::Healthy {
                        outcome.stderr_tail = lines;
                    }
                }
            }
            outcome
        }
        Transport::Http { url, headers } => {
            let mut custom = HashMap::new();
            for (name, value) in headers {
                match (name.parse(), value.parse()) {
                    (Ok(name), Ok(value)) => {
                        custom.insert(name, value);
                    }
                    _ => return Outcome::down(format!("header '{name}' is not a valid header")),
                }
            }
            let config =
                StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(custom);
            let transport = StreamableHttpClientTransport::from_config(config);
            session(().serve(transport), timeout).await
        }
        Transport::Sse { .. } => Outcome {
            status: McpStatus::Disabled,
            error: Some(
                "the legacy HTTP+SSE transport is not checked (the MCP SDK's client speaks \
                 streamable HTTP; most servers offer it too: use \"type\": \"http\")"
                    .into(),
            ),
            ..Outcome::default()
        },
    }
}

/// Starts a stdio server: a clean environment plus its own `env`, in the repository (or its
/// `cwd` there), at niceness [`NICENESS`], the leader of a new process group (killed with it),
/// stderr piped.
pub(super) fn spawn(
    command: &str,
    args: &[String],
    env: &std::collections::BTreeMap<String, String>,
    cwd: Option<&str>,
    repo: &Path,
) -> Result<(TokioChildProcess, Option<tokio::process::ChildStderr>), String> {
    let mut process = tokio::process::Command::new(command);
    process.args(args).env_clear();
    for name in INHERITED_ENV {
        if let Some(value) = std::env::var_os(name) {
            process.env(name, value);
        }
    }
    process.envs(env);
    process.current_dir(match cwd {
        Some(cwd) => repo.join(cwd),
        None => repo.to_path_buf(),
    });
    // SAFETY: runs in the child between fork and exec; setpriority is async-signal-safe and
    // touches no memory of the parent's.
    unsafe {
        process.pre_exec(|| {
            libc::setpriority(libc::PRIO_PROCESS, 0, NICENESS);
            Ok(())
        });
    }
    let mut wrapped = CommandWrap::from(process);
    wrapped.wrap(ProcessGroup::leader()).wrap(KillOnDrop);
    TokioChildProcess::builder(wrapped)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start '{command}': {error}"))
}

/// Runs the handshake and the lists under `timeout`, then closes the session.
async fn session<E: std::fmt::Display>(
    connect: impl std::future::Future<Output = Result<RunningService<RoleClient, ()>, E>>,
    timeout: Duration,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + timeout;
    let client = match tokio::time::timeout(timeout, connect).await {
        Err(_) => {
            return Outcome::down(format!(
                "no answer to initialize within {} s",
                timeout.as_secs_f64()
            ))
        }
        Ok(Err(error)) => return Outcome::down(format!("initialize failed: {}", readable(&error))),
        Ok(Ok(client)) => client,
    };
    let latency = started.elapsed();
    let mut outcome = lists(client.peer(), deadline).await;
    outcome.latency = Some(latency);
    if latency > timeout / 2 {
        let slow = format!(
            "slow handshake: {} ms (over half the {} s timeout)",
            latency.as_millis(),
            timeout.as_secs_f64()
        );
        outcome.status = McpStatus::Degraded;
        outcome.error = Some(match outcome.error.take() {
            Some(error) => format!("{error}; {slow}"),
            None => slow,
        });
    }
    // Closing waits a little for a stdio server to exit, then kills it (and its group).
    let _ = tokio::time::timeout(Duration::from_secs(2), client.cancel()).await;
    outcome
}

/// What an initialized server offers: `tools/list`, and `resources/list`, `prompts/list` where
/// it has them, before `deadline`. Healthy when every list answered, else degraded.
pub(super) async fn lists(client: &Peer<RoleClient>, deadline: Instant) -> Outcome {
    let info = client.peer_info().map(|info| server_info(&info));
    let capabilities = client.peer_info().map(|info| info.capabilities.clone());
    let mut outcome = Outcome {
        status: McpStatus::Healthy,
        server_info: info,
        ..Outcome::default()
    };
    let mut failures = Vec::new();
    let left = || deadline.saturating_duration_since(Instant::now());
    if capabilities.as_ref().is_none_or(|c| c.tools.is_some()) {
        let answer = tokio::time::timeout(
            left(),
            bounded_list(|params| async {
                let page = client.list_tools(params).await?;
                Ok((page.tools, page.next_cursor))
            }),
        )
        .await;
        if let Some(tools) = noted("tools/list", answer, &mut failures) {
            outcome.tools = tools.into_iter().map(kept_tool).collect();
            outcome.tools.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    if capabilities.as_ref().is_some_and(|c| c.resources.is_some()) {
        let pages = |params| async {
            let page = client.list_resources(params).await?;
            Ok((page.resources.len(), page.next_cursor))
        };
        outcome.resources = counted("resources/list", pages, left(), &mut failures).await;
    }
    if capabilities.as_ref().is_some_and(|c| c.prompts.is_some()) {
        let pages = |params| async {
            let page = client.list_prompts(params).await?;
            Ok((page.prompts.len(), page.next_cursor))
        };
        outcome.prompts = counted("prompts/list", pages, left(), &mut failures).await;
    }
    if !failures.is_empty() {
        outcome.status = McpStatus::Degraded;
        outcome.error = Some(failures.join("; "));
    }
    outcome
}

/// How many items a list has whose items are only counted (resources, prompts): `page`
/// answers one page's item count and the next cursor. `None` (and a failure noted) when it did
/// not answer within `left`.
async fn counted<Page>(
    list: &str,
    mut page: impl FnMut(Option<PaginatedRequestParams>) -> Page,
    left: Duration,
    failures: &mut Vec<String>,
) -> Option<usize>
where
    Page: std::future::Future<Output = Result<(usize, Option<String>), ServiceError>>,
{
    let pages = bounded_list(|params| {
        let page = page(params);
        async move { page.await.map(|(count, next)| (vec![(); count], next)) }
    });
    let answer = tokio::time::timeout(left, pages).await;
    noted(list, answer, failures).map(|items| items.len())
}

/// The items of a list that answered in time, or `None` with the failure added to `failures`
/// (also when the list was cut: the server is then degraded).
fn noted<T>(
    list: &str,
    answer: Result<Result<Listed<T>, ServiceError>, tokio::time::error::Elapsed>,
    failures: &mut Vec<String>,
) -> Option<Vec<T>> {
    match answer {
        Ok(Ok(listed)) => {
            if listed.cut {
                failures.push(format!(
                    "{list}: more than {MAX_LIST_ITEMS} items or {MAX_LIST_PAGES} pages; the first kept"
                ));
            }
            Some(listed.items)
        }
        Ok(Err(error)) => {
            failures.push(format!("{list} failed: {error}"));
            None
        }
        Err(_) => {
            failures.push(format!("{list}: no answer in time"));
            None
        }
    }
}

/// An SDK error as the page shows it: without the Rust type names rmcp puts in brackets
/// (`Transport [rmcp::transport::worker::WorkerTransport<…>] error: …`).
pub(super) fn readable(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find(" [") {
        let inner = &rest[open + 2..];
        let mut depth = 1usize;
        let close = inner.char_indices().find_map(|(i, c)| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        });
        match close {
            Some(close) if inner[..close].contains("::") => {
                out.push_str(&rest[..open]);
                rest = &inner[close + 1..];
            }
            _ => {
                out.push_str(&rest[..open + 2]);
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What [`bounded_list`] kept of a list.
struct Listed<T> {
    items: Vec<T>,
    /// The server had more than [`MAX_LIST_ITEMS`] items or [`MAX_LIST_PAGES`] pages.
    cut: bool,
}

/// Every page of a list, as rmcp's `list_all_*` would ask for them (`page` answers one page's
/// items and the next cursor), but at most [`MAX_LIST_ITEMS`] items and [`MAX_LIST_PAGES`] pages.
async fn bounded_list<T, Page>(
    mut page: impl FnMut(Option<PaginatedRequestParams>) -> Page,
) -> Result<Listed<T>, ServiceError>
where
    Page: std::future::Future<Output = Result<(Vec<T>, Option<String>), ServiceError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_LIST_PAGES {
        let params = PaginatedRequestParams::default().with_cursor(cursor);
        let (more, next) = page(Some(params)).await?;
        items.extend(more);
        if items.len() > MAX_LIST_ITEMS {
            items.truncate(MAX_LIST_ITEMS);
            return Ok(Listed { items, cut: true });
        }
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(Listed { items, cut: false }),
        }
    }
    Ok(Listed { items, cut: true })
}

/// A tool as kept: its description cut to [`MAX_DESCRIPTION_CHARS`], an input schema over
/// [`MAX_SCHEMA_BYTES`] replaced by its size.
fn kept_tool(tool: rmcp::model::Tool) -> McpTool {
    let description = tool.description.map(|text| {
        let mut kept: String = text.chars().take(MAX_DESCRIPTION_CHARS).collect();
        if kept.len() < text.len() {
            kept.push('…');
        }
        kept
    });
    let schema = serde_json::Value::Object((*tool.input_schema).clone());
    let size = serde_json::to_string(&schema).map_or(0, |json| json.len());
    let input_schema = if size > MAX_SCHEMA_BYTES {
        serde_json::json!({ "omitted": format!("an input schema of {size} bytes") })
    } else {
        schema
    };
    McpTool {
        name: tool.name.to_string(),
        description,
        input_schema,
    }
}

fn server_info(info: &ServerPeerInfo) -> McpServerInfo {
    let implementation = info.server_info.as_ref();
    McpServerInfo {
        name: implementation.map(|i| i.name.clone()).unwrap_or_default(),
        version: implementation
            .map(|i| i.version.clone())
            .unwrap_or_default(),
        title: implementation.and_then(|i| i.title.clone()),
        protocol_version: info.protocol_version.to_string(),
    }
}

/// The last [`STDERR_LINES`] lines of what the server writes to stderr (its last
/// [`STDERR_KEPT`] bytes: a server that writes without end costs no more).
pub(super) async fn stderr_tail(mut stderr: tokio::process::ChildStderr) -> Vec<String> {
    let mut kept: VecDeque<u8> = VecDeque::with_capacity(STDERR_KEPT);
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stderr.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        kept.extend(&buffer[..read]);
        let excess = kept.len().saturating_sub(STDERR_KEPT);
        kept.drain(..excess);
    }
    let text = String::from_utf8_lossy(kept.make_contiguous()).into_owned();
    let lines: Vec<String> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect())
        .collect();
    lines[lines.len().saturating_sub(STDERR_LINES)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn sdk_errors_lose_their_type_names() {
        let error = "Send message error Transport [rmcp::transport::worker::WorkerTransport<rmcp::\
            transport::streamable_http_client::StreamableHttpClientWorker<reqwest::Client>>] \
            error: Client error: error sending request for url (https://h.example/mcp), when send \
            initialize request";
        assert_eq!(
            readable(&error),
            "Send message error Transport error: Client error: error sending request for url \
             (https://h.example/mcp), when send initialize request"
        );
        assert_eq!(readable(&"a list [1, 2] stays"), "a list [1, 2] stays");
    }
}
