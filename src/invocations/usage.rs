//! A coding agent's model call as its tokens and cost: what the OpenTelemetry receiver
//! ([`crate::otlp`]) and the transcript reader ([`crate::agent_logs`]) both set on the
//! invocations they make. Between the price table and the telemetry's row, which know nothing of
//! each other.

use super::prices::{PriceTable, Usage};
use crate::telemetry::Invocation;

/// Sets the tokens of `usage` on `invocation` (every input token in `prompt_tokens`, cache reads
/// and writes apart too) and its cost: the one the agent `reported`, else the price table's,
/// else 0 with neither kept (the call is unpriced).
pub(crate) fn set_usage(
    invocation: &mut Invocation,
    usage: &Usage,
    reported: Option<f64>,
    prices: &PriceTable,
) {
    invocation.prompt_tokens = usage.prompt();
    invocation.completion_tokens = usage.output;
    invocation.total_tokens = usage.prompt().saturating_add(usage.output);
    invocation.cache_read_tokens = Some(usage.cache_read);
    invocation.cache_write_tokens = Some(usage.cache_written());
    invocation.reported_cost_usd = reported;
    invocation.computed_cost_usd = prices.cost(&invocation.model_name, usage);
    invocation.cost_usd = reported.or(invocation.computed_cost_usd).unwrap_or(0.0);
}

/// The id of a Codex call, the same from its OpenTelemetry (which sends no response id) and from
/// its session file: the conversation and the call's token counts. Within a conversation the
/// input grows with every call (it carries the whole context), so two calls never share it; a
/// re-sent batch, or the call seen both ways, has one id and counts once.
pub(crate) fn codex_call_id(
    conversation: &str,
    input: i64,
    cached: i64,
    output: i64,
    reasoning: i64,
) -> String {
    format!("codex:{conversation}:{input}:{cached}:{output}:{reasoning}")
}
