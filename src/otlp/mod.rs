//! OpenTelemetry in: the OTLP/HTTP exports of coding agents (Claude Code, Codex CLI, Gemini CLI)
//! and of any app that emits GenAI spans, turned into invocations, so the cost half of the
//! dashboard works for agents that never write `telemetry.db`.
//!
//! [`decode`] reads a request body in either encoding (`application/x-protobuf`,
//! `application/json`), gzip-inflated within a bound, into the OpenTelemetry project's own
//! message types (`opentelemetry-proto`). [`invocations_from_logs`] and
//! [`invocations_from_spans`] map what those messages report to [`Invocation`]s: one per model
//! call, with an `invocation_id` derived from what the sender sends (its session, prompt and
//! sequence; a span's trace and span ids), so a batch sent again stores nothing twice;
//! [`metered_from_metrics`] reads a metrics-only sender's usage counters. Records
//! that describe no model call are skipped; records that describe one badly (a negative or
//! non-numeric token count) are rejected with the reason, as OTLP's partial success reports.
//!
//! Depends on [`crate::telemetry`] for the invocation; [`crate::http`] serves it.

mod attributes;
mod decode;
mod events;
mod metrics;

pub(crate) use decode::{decode, DecodeError, Encoding, MAX_WIRE_BYTES};
pub(crate) use events::{invocations_from_logs, invocations_from_spans, Extracted};
pub(crate) use metrics::metered_from_metrics;

/// The signals of OTLP/HTTP that can carry model calls or usage, by their paths `/v1/logs`,
/// `/v1/traces`, `/v1/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    Logs,
    Traces,
    Metrics,
}

impl Signal {
    /// What OTLP calls one item of the signal, in partial-success messages.
    pub(crate) fn items(self) -> &'static str {
        match self {
            Signal::Logs => "log records",
            Signal::Traces => "spans",
            Signal::Metrics => "data points",
        }
    }
}
