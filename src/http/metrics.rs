//! `GET /metrics`: Prometheus' text format 0.0.4, written by the `prometheus` crate (tikv's
//! rust-prometheus: per-server registries, histograms, the standard process collector) — the
//! format every Prometheus scrapes and `promtool check metrics` reads. Behind the token like every
//! route but `/health`; Prometheus scrapes the loopback address (docs/deploy/prometheus.yml).
//!
//! Two kinds of figures:
//! * kept as things happen, for this process's life: HTTP requests and their latency by route
//!   ([`track_requests`]), socket frames, resyncs and drops, invocations ingested;
//! * read when scraped, from what the server already holds: the board, costs (an all-time
//!   counter for `rate()`, today and this month as gauges), budgets, the database's state, MCP
//!   servers, the team's repositories and agent sessions, and the process (CPU, memory, files,
//!   threads).
//!
//! Dollar figures are rounded to the micro-dollar, so sums of prices show no float noise.

use std::sync::Arc;
use std::time::Instant;

use app::model::{McpStatus, SessionState};
use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{header, Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{
    Counter, Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use super::AppState;

/// Every metric of execdash's own starts with this (the process collector's are `process_…`).
const NAMESPACE: &str = "execdash";

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace(NAMESPACE)
}

/// Why a client got a snapshot instead of events.
#[derive(Clone, Copy, Debug)]
pub(super) enum ResyncReason {
    /// The client fell too far behind the event stream.
    Lagged,
    /// The client asked (it saw a gap).
    Requested,
}

impl ResyncReason {
    fn label(self) -> &'static str {
        match self {
            ResyncReason::Lagged => "lagged",
            ResyncReason::Requested => "requested",
        }
    }
}

/// What sockets count as they go; cheap to clone (the counters are shared).
#[derive(Clone, Debug)]
pub struct SocketCounters {
    /// Sockets open now (the store's own subscribers include internal ones: a team node's
    /// publisher).
    open: IntGauge,
    frames: IntCounter,
    resyncs: IntCounterVec,
    dropped: IntCounter,
}

impl Default for SocketCounters {
    fn default() -> SocketCounters {
        let counters = SocketCounters {
            open: IntGauge::with_opts(opts("socket_clients", "Open WebSocket clients"))
                .expect("a valid metric"),
            frames: IntCounter::with_opts(opts(
                "socket_frames_sent_total",
                "Messages sent to WebSocket clients",
            ))
            .expect("a valid metric"),
            resyncs: IntCounterVec::new(
                opts(
                    "socket_resyncs_total",
                    "Snapshots sent instead of events, by reason (lagged, requested)",
                ),
                &["reason"],
            )
            .expect("a valid metric"),
            dropped: IntCounter::with_opts(opts(
                "socket_dropped_total",
                "WebSocket clients closed by the server",
            ))
            .expect("a valid metric"),
        };
        // Every reason at 0 from the start, so a rate() over them has data before the first.
        for reason in [ResyncReason::Lagged, ResyncReason::Requested] {
            counters.resyncs.with_label_values(&[reason.label()]);
        }
        counters
    }
}

impl SocketCounters {
    /// A socket opened; the count goes down when the returned guard is dropped.
    pub(super) fn opened(&self) -> OpenSocket {
        self.open.inc();
        OpenSocket(self.open.clone())
    }

    pub(super) fn open_now(&self) -> usize {
        self.open.get().max(0) as usize
    }

    pub(super) fn frames_sent(&self, count: usize) {
        self.frames.inc_by(count as u64);
    }

    pub(super) fn resynced(&self, reason: ResyncReason) {
        self.resyncs.with_label_values(&[reason.label()]).inc();
    }

    /// A client closed by the server (oversize message, protocol error).
    pub(super) fn dropped(&self) {
        self.dropped.inc();
    }
}

/// One open socket, counted until dropped.
pub(super) struct OpenSocket(IntGauge);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Requests served, by method, route and status, and how long they took.
struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

/// The registry and the metrics the server keeps as things happen.
pub(super) struct Metrics {
    registry: Registry,
    pub(super) sockets: SocketCounters,
    invocations: IntCounter,
    http: HttpMetrics,
}

impl Metrics {
    pub(super) fn new() -> Metrics {
        let metrics = Metrics {
            registry: Registry::new(),
            sockets: SocketCounters::default(),
            invocations: IntCounter::with_opts(opts(
                "invocations_ingested_total",
                "Invocations stored through POST /api/invocations since the server started",
            ))
            .expect("a valid metric"),
            http: HttpMetrics {
                requests: IntCounterVec::new(
                    opts(
                        "http_requests_total",
                        "HTTP requests answered, by method, route and status",
                    ),
                    &["method", "route", "status"],
                )
                .expect("a valid metric"),
                duration: HistogramVec::new(
                    HistogramOpts::new(
                        "http_request_duration_seconds",
                        "Time to answer an HTTP request (to its headers), by method and route",
                    )
                    .namespace(NAMESPACE)
                    .buckets(vec![
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0, 10.0,
                    ]),
                    &["method", "route"],
                )
                .expect("a valid metric"),
            },
        };
        let collectors: Vec<Box<dyn Collector>> = vec![
            Box::new(metrics.sockets.open.clone()),
            Box::new(metrics.sockets.frames.clone()),
            Box::new(metrics.sockets.resyncs.clone()),
            Box::new(metrics.sockets.dropped.clone()),
            Box::new(metrics.invocations.clone()),
            Box::new(metrics.http.requests.clone()),
            Box::new(metrics.http.duration.clone()),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        for collector in collectors {
            metrics
                .registry
                .register(collector)
                .expect("each metric registered once");
        }
        metrics
    }

    pub(super) fn ingested(&self, inserted: u64) {
        self.invocations.inc_by(inserted);
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Counts every request by its route's pattern (`/api/tasks/{*path}`, never the path itself, so
/// the label's values stay few), method and status, and times it.
pub(super) async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    // A clone of the route's pattern is a reference count, not a copy of the text.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("(unrouted)", MatchedPath::as_str);
    let response = next.run(request).await;
    metrics
        .http
        .duration
        .with_label_values(&[method, route])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http
        .requests
        .with_label_values(&[method, route, response.status().as_str()])
        .inc();
    response
}

/// The method, or `other` for one the server has no route for (a label with few values).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut families = state.metrics.registry.gather();
    match now_figures(&state).await {
        Ok(now) => families.extend(now),
        Err(error) => tracing::error!("metrics: {error}"),
    }
    let encoder = TextEncoder::new();
    let mut text = String::new();
    if let Err(error) = encoder.encode_utf8(&families, &mut text) {
        tracing::error!("metrics: {error}");
        return super::Error::Internal(format!("the metrics could not be written: {error}"))
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
        text,
    )
        .into_response()
}

/// A dollar figure to the micro-dollar: `0.1 + 0.2` reads `0.3`.
fn usd(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// The figures read when scraped, in a registry of their own made for this scrape.
async fn now_figures(state: &AppState) -> prometheus::Result<Vec<MetricFamily>> {
    let registry = Registry::new();
    let board = &state.board;

    let tasks = IntGaugeVec::new(opts("tasks", "Tasks on the board per column"), &["column"])?;
    let counts = board.counts();
    for (column, count) in [
        ("inbox", counts.inbox),
        ("assigned", counts.assigned),
        ("done", counts.done),
    ] {
        tasks.with_label_values(&[column]).set(count as i64);
    }
    registry.register(Box::new(tasks))?;
    let problems = IntGauge::with_opts(opts("problems", "Task files that cannot be read"))?;
    problems.set(board.problem_count() as i64);
    registry.register(Box::new(problems))?;
    let seq = IntGauge::with_opts(opts("seq", "Sequence number of the last board change"))?;
    seq.set(board.seq() as i64);
    registry.register(Box::new(seq))?;
    let first_scan = IntGaugeVec::new(
        opts(
            "first_scan_files",
            "Task files of the startup's reading of the board, parsed or taken from the board cache",
        ),
        &["source"],
    )?;
    let (parsed, cached) = board.startup().parsed_and_cached();
    first_scan.with_label_values(&["parsed"]).set(parsed as i64);
    first_scan.with_label_values(&["cached"]).set(cached as i64);
    registry.register(Box::new(first_scan))?;

    // Costs: absent until the first summary (a broken database says so below, never $0).
    if let Some(totals) = board.costs().map(|c| c.totals) {
        let spent = Counter::with_opts(opts(
            "cost_usd_total",
            "Spending in USD of every call ever recorded (for rate() and increase())",
        ))?;
        spent.inc_by(usd(totals.total).max(0.0));
        registry.register(Box::new(spent))?;
        let calls = IntCounter::with_opts(opts(
            "invocations_recorded_total",
            "Model calls ever recorded in the telemetry database",
        ))?;
        calls.inc_by(totals.invocations);
        registry.register(Box::new(calls))?;
        let period = GaugeVec::new(
            opts(
                "cost_usd",
                "Spending in USD of the current UTC day (today) and month (month)",
            ),
            &["period"],
        )?;
        period.with_label_values(&["today"]).set(usd(totals.today));
        period.with_label_values(&["month"]).set(usd(totals.month));
        registry.register(Box::new(period))?;
    }
    let budgets = board.budgets();
    if budgets.daily_usd.is_some() || budgets.monthly_usd.is_some() {
        let budget = GaugeVec::new(
            opts(
                "budget_usd",
                "Configured budgets in USD, by the period of execdash_cost_usd they bound",
            ),
            &["period"],
        )?;
        for (period, limit) in [("today", budgets.daily_usd), ("month", budgets.monthly_usd)] {
            if let Some(limit) = limit {
                budget.with_label_values(&[period]).set(usd(limit));
            }
        }
        registry.register(Box::new(budget))?;
    }
    let database_up = IntGauge::with_opts(opts(
        "telemetry_database_up",
        "1 when the telemetry database is open, 0 when it is unavailable",
    ))?;
    database_up.set(i64::from(state.telemetry.problem().is_none()));
    registry.register(Box::new(database_up))?;
    let build = IntGaugeVec::new(
        opts("build_info", "Always 1; the running version as a label"),
        &["version"],
    )?;
    build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
    registry.register(Box::new(build))?;

    register_mcp(&registry, state).await?;
    register_repositories(&registry, state).await?;
    register_sessions(&registry, state)?;
    Ok(registry.gather())
}

/// Each MCP server's health, and how many are in each state.
async fn register_mcp(registry: &Registry, state: &AppState) -> prometheus::Result<()> {
    let overview = state.mcp.overview().await;
    let up = IntGaugeVec::new(
        opts(
            "mcp_server_up",
            "1 when the configured MCP server answered its last check healthy, else 0 (servers checked at least once)",
        ),
        &["server"],
    )?;
    let by_status = IntGaugeVec::new(
        opts(
            "mcp_servers",
            "Configured MCP servers by status (healthy, degraded, down, disabled, unknown)",
        ),
        &["status"],
    )?;
    for status in [
        McpStatus::Healthy,
        McpStatus::Degraded,
        McpStatus::Down,
        McpStatus::Disabled,
        McpStatus::Unknown,
    ] {
        let count = overview
            .servers
            .iter()
            .filter(|s| s.status == status)
            .count();
        by_status
            .with_label_values(&[&status.label().to_ascii_lowercase()])
            .set(count as i64);
    }
    for server in &overview.servers {
        if !matches!(server.status, McpStatus::Unknown | McpStatus::Disabled) {
            up.with_label_values(&[&server.name])
                .set(i64::from(server.status == McpStatus::Healthy));
        }
    }
    registry.register(Box::new(up))?;
    registry.register(Box::new(by_status))?;
    Ok(())
}

/// The team's repositories (this node's own alone on SQLite), as `GET /api/repos` lists them.
async fn register_repositories(registry: &Registry, state: &AppState) -> prometheus::Result<()> {
    let repos = match state
        .team
        .repositories(&state.board, &state.telemetry)
        .await
    {
        Ok(repos) => repos,
        Err(error) => {
            // The database's state says why (execdash_telemetry_database_up).
            tracing::warn!("metrics: the repositories could not be read: {error}");
            return Ok(());
        }
    };
    let stale = IntGaugeVec::new(
        opts(
            "repository_stale",
            "1 when the repository's node sent no heartbeat for the stale time, else 0",
        ),
        &["repository", "node"],
    )?;
    let age = GaugeVec::new(
        opts(
            "repository_heartbeat_age_seconds",
            "Seconds since the repository's node last published or sent a heartbeat",
        ),
        &["repository", "node"],
    )?;
    let tasks = IntGaugeVec::new(
        opts("repository_tasks", "Tasks of each repository per column"),
        &["repository", "column"],
    )?;
    let now = chrono::Utc::now();
    for repo in &repos {
        let labels = [repo.name.as_str(), repo.node.as_str()];
        stale.with_label_values(&labels).set(i64::from(repo.stale));
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&repo.heartbeat_at) {
            let seconds = (now - at.with_timezone(&chrono::Utc)).num_milliseconds() as f64 / 1e3;
            age.with_label_values(&labels).set(seconds.max(0.0));
        }
        for (column, count) in [
            ("inbox", repo.inbox),
            ("assigned", repo.assigned),
            ("done", repo.done),
        ] {
            tasks.with_label_values(&[&repo.name, column]).set(count);
        }
    }
    registry.register(Box::new(stale))?;
    registry.register(Box::new(age))?;
    registry.register(Box::new(tasks))?;
    Ok(())
}

/// Agent sessions by state (working, waiting, stalled, idle, ended).
fn register_sessions(registry: &Registry, state: &AppState) -> prometheus::Result<()> {
    let sessions = state.sessions.list(&Default::default(), chrono::Utc::now());
    let by_state = IntGaugeVec::new(
        opts(
            "agent_sessions",
            "Coding-agent sessions by state (working, waiting, stalled, idle, ended)",
        ),
        &["state"],
    )?;
    for session_state in SessionState::ALL {
        let count = sessions.iter().filter(|s| s.state == session_state).count();
        by_state
            .with_label_values(&[session_state.as_str()])
            .set(count as i64);
    }
    registry.register(Box::new(by_state))?;
    Ok(())
}
