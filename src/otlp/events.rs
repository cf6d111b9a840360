//! What OTLP messages report, as invocations: one per model call.
//!
//! | sender | what | tokens | cost |
//! |---|---|---|---|
//! | Claude Code | log `claude_code.api_request` / `claude_code.api_error` | `input_tokens` + `cache_read_tokens` + `cache_creation_tokens` in, `output_tokens` out | as reported: `cost_usd_micros`, else `cost_usd` |
//! | Gemini CLI | log `gemini_cli.api_response` / `gemini_cli.api_error` | `input_token_count` (cached inside) + tool prompts, `output_token_count` + thoughts | none reported |
//! | Codex CLI | log `codex.sse_event` of kind `response.completed` with token counts | `input_token_count` (cached inside), `output_token_count` (reasoning inside) | none reported |
//! | any app | a span with `gen_ai.usage.*` | `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens` | none reported |
//!
//! Where none is reported the price table's cost is used (see [`crate::invocations::prices`]).
//!
//! Attribution: `agent` (or `execdash.agent`) and `task.id` (or `execdash.task`) from the
//! record's, scope's or resource's attributes (`OTEL_RESOURCE_ATTRIBUTES=task.id=T-1,agent=a`).
//!
//! Ids: from what the sender sends, so a batch sent again (in either encoding) stores nothing
//! twice: Claude Code's `request_id` (the API's, also in its transcripts), else its `session.id`,
//! `prompt.id` and `event.sequence`; a span's trace and span ids; otherwise a digest of the
//! record and its resource.

use chrono::{DateTime, SecondsFormat, Utc};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;
use sha2::{Digest, Sha256};

use super::attributes::{string_of, Attributes};
use crate::invocations::{codex_call_id, set_usage};
use crate::invocations::{PriceTable, Usage};
use crate::telemetry::Invocation;

const AGENT_KEYS: [&str; 2] = ["execdash.agent", "agent"];
const TASK_KEYS: [&str; 2] = ["execdash.task", "task.id"];
/// Ids longer than this are replaced by their digest (the column holds 200 characters).
pub(super) const MAX_DERIVED_ID: usize = 160;

/// The invocations found in one request, and what could not be taken.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub(crate) invocations: Vec<Invocation>,
    /// Why each rejected item was rejected (OTLP's partial success counts them).
    pub(crate) rejected: Vec<String>,
    /// Items that describe no model call (a prompt, a tool result, a span without usage).
    pub(crate) skipped: usize,
}

impl Extracted {
    pub(super) fn take(&mut self, outcome: Option<Result<Invocation, String>>, now: DateTime<Utc>) {
        match outcome {
            None => self.skipped += 1,
            Some(Err(why)) => self.rejected.push(why),
            Some(Ok(invocation)) => match invocation.validated(now) {
                Ok(valid) => self.invocations.push(valid),
                Err(error) => self.rejected.push(error.to_string()),
            },
        }
    }
}

/// The model calls among the log records of `request`.
pub(crate) fn invocations_from_logs(
    request: &ExportLogsServiceRequest,
    prices: &PriceTable,
    now: DateTime<Utc>,
) -> Extracted {
    let mut out = Extracted::default();
    for resource_logs in &request.resource_logs {
        let resource: &[KeyValue] = resource_logs
            .resource
            .as_ref()
            .map_or(&[], |r| r.attributes.as_slice());
        for scope_logs in &resource_logs.scope_logs {
            let scope: &[KeyValue] = scope_logs
                .scope
                .as_ref()
                .map_or(&[], |s| s.attributes.as_slice());
            for record in &scope_logs.log_records {
                let attributes = Attributes::new(&record.attributes, scope, resource);
                let call = model_call_of(record, attributes, resource, prices, now);
                out.take(call, now);
            }
        }
    }
    out
}

/// Which sender's call a record reports, by its event name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    ClaudeCode { error: bool },
    GeminiCli { error: bool },
    Codex,
}

impl Call {
    fn of(record: &LogRecord, attributes: Attributes<'_>) -> Option<Call> {
        let named = [
            Some(record.event_name.clone()).filter(|n| !n.is_empty()),
            string_of(record.body.as_ref()).map(str::to_owned),
            attributes.text(&["event.name"]),
        ];
        let service = attributes.text(&["service.name"]).unwrap_or_default();
        named.into_iter().flatten().find_map(|name| {
            let bare = name.rsplit('.').next().unwrap_or(&name);
            let from = |prefix: &str, service_name: &str| {
                name.starts_with(prefix) || (!name.contains('.') && service == service_name)
            };
            match bare {
                "api_request" if from("claude_code.", "claude-code") => {
                    Some(Call::ClaudeCode { error: false })
                }
                "api_error" if from("claude_code.", "claude-code") => {
                    Some(Call::ClaudeCode { error: true })
                }
                "api_response" if from("gemini_cli.", "gemini-cli") => {
                    Some(Call::GeminiCli { error: false })
                }
                "api_error" if from("gemini_cli.", "gemini-cli") => {
                    Some(Call::GeminiCli { error: true })
                }
                // Codex logs `response.completed` twice: once as every stream event, once with
                // the response's token counts (the call).
                "sse_event"
                    if name.starts_with("codex.")
                        && attributes.text(&["event.kind"]).as_deref()
                            == Some("response.completed")
                        && attributes.text(&["input_token_count"]).is_some() =>
                {
                    Some(Call::Codex)
                }
                _ => None,
            }
        })
    }

    fn tool(self) -> &'static str {
        match self {
            Call::ClaudeCode { .. } => "claude-code",
            Call::GeminiCli { .. } => "gemini-cli",
            Call::Codex => "codex",
        }
    }
}

fn model_call_of(
    record: &LogRecord,
    attributes: Attributes<'_>,
    resource: &[KeyValue],
    prices: &PriceTable,
    now: DateTime<Utc>,
) -> Option<Result<Invocation, String>> {
    let call = Call::of(record, attributes)?;
    Some(invocation_of(
        call, record, attributes, resource, prices, now,
    ))
}

fn invocation_of(
    call: Call,
    record: &LogRecord,
    attributes: Attributes<'_>,
    resource: &[KeyValue],
    prices: &PriceTable,
    now: DateTime<Utc>,
) -> Result<Invocation, String> {
    let count = |keys: &[&str]| attributes.count(keys).map(Option::unwrap_or_default);
    // What the sender reported, by how it is priced, and the cost it reported itself.
    let (usage, reported, error) = match call {
        Call::ClaudeCode { error } => {
            let usage = Usage::anthropic(
                count(&["input_tokens"])?,
                count(&["output_tokens"])?,
                count(&["cache_read_tokens"])?,
                count(&["cache_creation_tokens"])?,
                count(&["cache_creation_1h_tokens"])?,
            );
            // Its exact figure in micro-dollars when it sends one (2.1 does), else the double.
            let reported = match attributes.count(&["cost_usd_micros"])? {
                Some(micros) => Some(micros as f64 / 1e6),
                None => attributes.amount(&["cost_usd"])?,
            };
            (usage, reported, error)
        }
        // Gemini counts cached input inside its input, and tool-use prompts apart; thoughts are
        // priced as output.
        Call::GeminiCli { error } => {
            let input = count(&["input_token_count"])? + count(&["tool_token_count"])?;
            let cached = count(&["cached_content_token_count"])?.min(input);
            let usage = Usage {
                input: input - cached,
                output: count(&["output_token_count"])? + count(&["thoughts_token_count"])?,
                cache_read: cached,
                ..Usage::default()
            };
            (usage, None, error)
        }
        // The Responses API counts cached input inside the input and reasoning inside the
        // output.
        Call::Codex => {
            let usage = Usage::openai(
                count(&["input_token_count"])?,
                count(&["cached_token_count"])?,
                count(&["output_token_count"])?,
            );
            (usage, None, false)
        }
    };
    let session = attributes.text(&["session.id", "conversation.id"]);
    let derived = match call {
        // Codex sends no response id: its conversation and the call's counts, as its session
        // file gives them (see `codex_call_id`).
        Call::Codex => session.as_deref().map(|conversation| {
            codex_call_id(
                conversation,
                usage.prompt(),
                usage.cache_read,
                usage.output,
                count(&["reasoning_token_count"]).unwrap_or_default(),
            )
        }),
        // The API's request id (Claude Code's transcripts carry it too, as `requestId`: a call
        // seen both ways has one id, so it counts once).
        Call::ClaudeCode { .. } if attributes.text(&["request_id"]).is_some() => {
            attributes.text(&["request_id"])
        }
        Call::ClaudeCode { .. } => match (
            &session,
            attributes.text(&["prompt.id"]),
            attributes.text(&["event.sequence"]),
        ) {
            (Some(session), Some(prompt), Some(sequence)) => {
                Some(format!("{session}:{prompt}:{sequence}"))
            }
            _ => None,
        },
        _ => None,
    };
    let id = match derived {
        Some(id) if id.len() <= MAX_DERIVED_ID && matches!(call, Call::Codex) => id,
        Some(id) if id.len() <= MAX_DERIVED_ID => format!("{}:{id}", call.tool()),
        _ => format!("{}:{}", call.tool(), digest_of(record, resource)),
    };
    let model = attributes
        .text(&["model", "gen_ai.response.model", "gen_ai.request.model"])
        .unwrap_or_else(|| "unknown".into());
    let mut invocation = Invocation::new(&id, call.tool(), &model);
    invocation.timestamp = Some(time_of(
        record.time_unix_nano,
        record.observed_time_unix_nano,
        now,
    ));
    attribute(&mut invocation, attributes);
    invocation.source = Some(call.tool().into());
    invocation.session_id = session;
    set_usage(&mut invocation, &usage, reported, prices);
    invocation.latency_ms = count(&["duration_ms"])?;
    invocation.privacy_level = Some("metadata".into());
    if error {
        invocation.status = "error".into();
        invocation.error_message = Some(
            attributes
                .text(&["error", "error.message", "error.type"])
                .unwrap_or_else(|| "the model API answered with an error".into())
                .chars()
                .take(1000)
                .collect(),
        );
    }
    Ok(invocation)
}

/// The model calls among the spans of `request`: spans that carry `gen_ai.usage.*`.
pub(crate) fn invocations_from_spans(
    request: &ExportTraceServiceRequest,
    prices: &PriceTable,
    now: DateTime<Utc>,
) -> Extracted {
    let mut out = Extracted::default();
    for resource_spans in &request.resource_spans {
        let resource: &[KeyValue] = resource_spans
            .resource
            .as_ref()
            .map_or(&[], |r| r.attributes.as_slice());
        for scope_spans in &resource_spans.scope_spans {
            let scope: &[KeyValue] = scope_spans
                .scope
                .as_ref()
                .map_or(&[], |s| s.attributes.as_slice());
            let scope_name = scope_spans
                .scope
                .as_ref()
                .map(|s| s.name.as_str())
                .filter(|name| !name.is_empty());
            for span in &scope_spans.spans {
                let attributes = Attributes::new(&span.attributes, scope, resource);
                let call = span_call(span, attributes, scope_name, prices, now);
                out.take(call, now);
            }
        }
    }
    out
}

const INPUT_KEYS: [&str; 2] = ["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"];
const OUTPUT_KEYS: [&str; 2] = [
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
];

fn span_call(
    span: &opentelemetry_proto::tonic::trace::v1::Span,
    attributes: Attributes<'_>,
    scope_name: Option<&str>,
    prices: &PriceTable,
    now: DateTime<Utc>,
) -> Option<Result<Invocation, String>> {
    let has_usage =
        attributes.text(&INPUT_KEYS).is_some() || attributes.text(&OUTPUT_KEYS).is_some();
    if !has_usage {
        return None;
    }
    Some((|| {
        // The conventions count cached input in `input_tokens` already.
        let input = attributes.count(&INPUT_KEYS)?.unwrap_or(0);
        let output = attributes.count(&OUTPUT_KEYS)?.unwrap_or(0);
        let model = attributes
            .text(&["gen_ai.response.model", "gen_ai.request.model"])
            .unwrap_or_else(|| "unknown".into());
        let tool = attributes
            .text(&["service.name", "gen_ai.provider.name", "gen_ai.system"])
            .unwrap_or_else(|| "genai".into());
        let id = format!("span:{}:{}", hex(&span.trace_id), hex(&span.span_id));
        let mut invocation = Invocation::new(&id, &tool, &model);
        invocation.timestamp = Some(time_of(
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            now,
        ));
        attribute(&mut invocation, attributes);
        invocation.source = Some(scope_name.unwrap_or("gen_ai").to_owned());
        invocation.session_id = attributes.text(&["session.id", "gen_ai.conversation.id"]);
        let cache_read = attributes
            .count(&["gen_ai.usage.cache_read.input_tokens"])?
            .unwrap_or(0)
            .min(input);
        let cache_write = attributes
            .count(&["gen_ai.usage.cache_creation.input_tokens"])?
            .unwrap_or(0)
            .min(input - cache_read);
        let usage = Usage {
            input: input - cache_read - cache_write,
            output,
            cache_read,
            cache_write_5m: cache_write,
            cache_write_1h: 0,
        };
        set_usage(&mut invocation, &usage, None, prices);
        invocation.latency_ms = i64::try_from(
            span.end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano)
                / 1_000_000,
        )
        .unwrap_or(i64::MAX);
        invocation.privacy_level = Some("metadata".into());
        if let Some(status) = &span.status {
            if status.code == StatusCode::Error as i32 {
                invocation.status = "error".into();
                invocation.error_message = Some(if status.message.is_empty() {
                    "the span ended in error".into()
                } else {
                    status.message.chars().take(1000).collect()
                });
            }
        }
        Ok(invocation)
    })())
}

/// The agent and task the attributes name, marked as sent.
pub(super) fn attribute(invocation: &mut Invocation, attributes: Attributes<'_>) {
    invocation.agent_name = attributes.text(&AGENT_KEYS);
    invocation.task_id = attributes.text(&TASK_KEYS);
    if invocation.agent_name.is_some() || invocation.task_id.is_some() {
        invocation.attribution = Some("sent".into());
    }
}

/// The first of two Unix times in nanoseconds that is set, else `now`, as RFC 3339.
pub(super) fn time_of(first: u64, second: u64, now: DateTime<Utc>) -> String {
    let at = [first, second]
        .into_iter()
        .find(|t| *t != 0)
        .and_then(|nanos| i64::try_from(nanos).ok())
        .map(DateTime::from_timestamp_nanos)
        .unwrap_or(now);
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A digest of a record and its resource: the same record sent again, in either encoding, has
/// the same one.
fn digest_of(record: &LogRecord, resource: &[KeyValue]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(record.encode_to_vec());
    for attribute in resource {
        hasher.update(attribute.encode_to_vec());
    }
    hex(&hasher.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
