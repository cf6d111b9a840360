//! `GET /metrics`: Prometheus text exposition with `prometheus-client` (a maintained crate, the
//! official Rust client's successor; no hand-written format). Counters are kept as things happen
//! (socket frames, resyncs, drops, invocations ingested); the board and cost figures are read from
//! the store when scraped. Behind the token like every route but `/health`.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use app::model::Column;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum ColumnLabel {
    inbox,
    assigned,
    done,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ColumnLabels {
    column: ColumnLabel,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub(super) enum ResyncReason {
    /// The client fell too far behind the event stream.
    lagged,
    /// The client asked (it saw a gap).
    requested,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResyncLabels {
    reason: ResyncReason,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum PeriodLabel {
    today,
    month,
    all_time,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeriodLabels {
    period: PeriodLabel,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum FileSource {
    /// Read and parsed.
    parsed,
    /// Taken from the board cache (unchanged since the last run).
    cached,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FileSourceLabels {
    source: FileSource,
}

/// What sockets count as they go; cheap to clone (the counters are shared).
#[derive(Clone, Debug, Default)]
pub struct SocketCounters {
    /// Sockets open now (the store's own subscribers include internal ones: a team node's
    /// publisher).
    open: Gauge,
    frames: Counter,
    resyncs: Family<ResyncLabels, Counter>,
    dropped: Counter,
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
        self.resyncs.get_or_create(&ResyncLabels { reason }).inc();
    }

    /// A client closed by the server (oversize message, protocol error).
    pub(super) fn dropped(&self) {
        self.dropped.inc();
    }
}

/// One open socket, counted until dropped.
pub(super) struct OpenSocket(Gauge);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The registry and the metrics the server keeps.
pub(super) struct Metrics {
    registry: Registry,
    pub(super) sockets: SocketCounters,
    invocations: Counter,
    tasks: Family<ColumnLabels, Gauge>,
    problems: Gauge,
    seq: Gauge,
    costs: Family<PeriodLabels, Gauge<f64, AtomicU64>>,
    database_up: Gauge,
    first_scan_files: Family<FileSourceLabels, Gauge>,
}

impl Metrics {
    pub(super) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("execdash");
        let metrics = Metrics {
            sockets: SocketCounters::default(),
            invocations: Counter::default(),
            tasks: Family::default(),
            problems: Gauge::default(),
            seq: Gauge::default(),
            costs: Family::default(),
            database_up: Gauge::default(),
            first_scan_files: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "tasks",
            "Tasks on the board per column",
            metrics.tasks.clone(),
        );
        registry.register(
            "problems",
            "Task files that cannot be read",
            metrics.problems.clone(),
        );
        registry.register(
            "socket_clients",
            "Open WebSocket clients",
            metrics.sockets.open.clone(),
        );
        registry.register(
            "seq",
            "Sequence number of the last board change",
            metrics.seq.clone(),
        );
        registry.register(
            "socket_frames_sent",
            "Messages sent to WebSocket clients",
            metrics.sockets.frames.clone(),
        );
        registry.register(
            "socket_resyncs",
            "Snapshots sent instead of events",
            metrics.sockets.resyncs.clone(),
        );
        registry.register(
            "socket_dropped",
            "WebSocket clients closed by the server",
            metrics.sockets.dropped.clone(),
        );
        registry.register(
            "invocations_ingested",
            "Invocations stored through POST /api/invocations",
            metrics.invocations.clone(),
        );
        registry.register(
            "cost_usd",
            "Spending in USD per period (from the last cost summary)",
            metrics.costs.clone(),
        );
        registry.register(
            "telemetry_database_up",
            "1 when the telemetry database is open, 0 when it is unavailable",
            metrics.database_up.clone(),
        );
        registry.register(
            "first_scan_files",
            "Task files of the startup's reading of the board, parsed or taken from the board cache",
            metrics.first_scan_files.clone(),
        );
        registry.register(
            "build",
            "Build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    pub(super) fn ingested(&self, inserted: u64) {
        self.invocations.inc_by(inserted);
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let metrics: &Arc<Metrics> = &state.metrics;
    let counts = state.board.counts();
    for (column, count) in [
        (ColumnLabel::inbox, counts.inbox),
        (ColumnLabel::assigned, counts.assigned),
        (ColumnLabel::done, counts.done),
    ] {
        metrics
            .tasks
            .get_or_create(&ColumnLabels { column })
            .set(count as i64);
    }
    debug_assert_eq!(Column::ALL.len(), 3);
    metrics.problems.set(state.board.problem_count() as i64);
    metrics.seq.set(state.board.seq() as i64);
    if let Some(totals) = state.board.costs().map(|c| c.totals) {
        for (period, usd) in [
            (PeriodLabel::today, totals.today),
            (PeriodLabel::month, totals.month),
            (PeriodLabel::all_time, totals.total),
        ] {
            metrics
                .costs
                .get_or_create(&PeriodLabels { period })
                .set(usd);
        }
    }
    metrics
        .database_up
        .set(i64::from(state.telemetry.problem().is_none()));
    let (parsed, cached) = state.board.startup().parsed_and_cached();
    for (source, files) in [(FileSource::parsed, parsed), (FileSource::cached, cached)] {
        metrics
            .first_scan_files
            .get_or_create(&FileSourceLabels { source })
            .set(files as i64);
    }
    let mut text = String::new();
    encode(&mut text, &metrics.registry).expect("metrics encode into a String");
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}
