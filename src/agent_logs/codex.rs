//! Codex CLI's session files: `${CODEX_HOME:-~/.codex}/sessions/YYYY/MM/DD/rollout-*.jsonl`, one
//! JSON object a line (`{"timestamp", "type", "payload"}`). The first line (`session_meta`) says
//! the session's id and working directory, each turn's `turn_context` its model, and each model
//! call is a `token_usage_record` (Codex 0.171; earlier versions write only the `event_msg` of
//! type `token_count`, whose `last_token_usage` is the same figures, read as well: one id, one
//! call). What a line needs from earlier lines is kept per file in a [`Session`], with the
//! file's offset, so a restart resumes in the middle of a file.
//!
//! A call's id is [`codex_call_id`]: the conversation and the call's counts, as Codex's
//! OpenTelemetry gives them too (it sends no response id), so a call seen both ways counts once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Line;
use crate::invocations::{codex_call_id, set_usage};
use crate::invocations::{PriceTable, Usage};
use crate::telemetry::Invocation;

/// The tool and source Codex's calls are stored under (as its OpenTelemetry's).
const SOURCE: &str = "codex";

/// Where Codex keeps its files: `$CODEX_HOME`, else `~/.codex`.
pub(crate) fn homes() -> Vec<PathBuf> {
    if let Some(home) = std::env::var_os("CODEX_HOME").filter(|d| !d.is_empty()) {
        return vec![PathBuf::from(home)];
    }
    std::env::var_os("HOME")
        .map(|home| vec![PathBuf::from(home).join(".codex")])
        .unwrap_or_default()
}

/// What a session file said before the line being read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Session {
    id: Option<String>,
    cwd: Option<String>,
    model: Option<String>,
}

impl Session {
    /// Whether the session is known to have run outside `repo` (its lines need no reading).
    pub(super) fn elsewhere(&self, repo: &Path) -> bool {
        self.cwd
            .as_deref()
            .is_some_and(|cwd| !Path::new(cwd).starts_with(repo))
    }
}

#[derive(Deserialize)]
struct RawLine {
    #[serde(rename = "type")]
    kind: Option<String>,
    timestamp: Option<String>,
    #[serde(default)]
    payload: RawPayload,
}

#[derive(Deserialize, Default)]
struct RawPayload {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    session_id: Option<String>,
    cwd: Option<String>,
    model: Option<String>,
    usage: Option<RawUsage>,
    info: Option<RawInfo>,
}

#[derive(Deserialize)]
struct RawInfo {
    last_token_usage: Option<RawUsage>,
}

#[derive(Deserialize)]
struct RawUsage {
    #[serde(default)]
    input_tokens: i64,
    #[serde(default)]
    cached_input_tokens: i64,
    #[serde(default)]
    output_tokens: i64,
    #[serde(default)]
    reasoning_output_tokens: i64,
}

/// Reads one line of a session file, `session` being what its earlier lines said.
pub(super) fn parse(line: &str, session: &mut Session, repo: &Path, prices: &PriceTable) -> Line {
    let raw: RawLine = match serde_json::from_str(line) {
        Ok(raw) => raw,
        Err(error) => return Line::Bad(error.to_string()),
    };
    let payload = raw.payload;
    let usage = match (raw.kind.as_deref(), payload.kind.as_deref()) {
        (Some("session_meta"), _) => {
            session.id = payload.id.or(payload.session_id);
            session.cwd = payload.cwd;
            return Line::Other;
        }
        (Some("turn_context"), _) => {
            if payload.model.is_some() {
                session.model = payload.model;
            }
            if payload.cwd.is_some() {
                session.cwd = payload.cwd;
            }
            return Line::Other;
        }
        (Some("token_usage_record"), _) => payload.usage,
        (Some("event_msg"), Some("token_count")) => payload.info.and_then(|i| i.last_token_usage),
        _ => None,
    };
    let Some(usage) = usage else {
        return Line::Other;
    };
    if session.cwd.is_none() || session.elsewhere(repo) {
        return Line::Other;
    }
    let Some(conversation) = payload.session_id.or_else(|| session.id.clone()) else {
        return Line::Other;
    };
    let counts = [
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
        usage.reasoning_output_tokens,
    ];
    if counts.iter().any(|n| *n < 0) {
        return Line::Bad("a negative token count".into());
    }
    let model = payload
        .model
        .or_else(|| session.model.clone())
        .unwrap_or_else(|| "unknown".into());
    let id = codex_call_id(
        &conversation,
        usage.input_tokens,
        usage.cached_input_tokens.min(usage.input_tokens),
        usage.output_tokens,
        usage.reasoning_output_tokens,
    );
    let mut invocation = Invocation::new(&id, SOURCE, &model);
    invocation.timestamp = raw.timestamp;
    invocation.session_id = Some(conversation);
    invocation.source = Some(SOURCE.into());
    let usage = Usage::openai(
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
    );
    set_usage(&mut invocation, &usage, None, prices);
    invocation.privacy_level = Some("metadata".into());
    Line::Call(Box::new(invocation))
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{"timestamp":"2026-12-05T18:13:05.151Z","ordinal":0,"type":"session_meta","payload":{"session_id":"0a1","id":"0a1","cwd":"/work/repo/app","originator":"codex_exec","cli_version":"0.171.0","base_instructions":{"text":"You are a coding agent"}}}"#;
    const TURN: &str = r#"{"timestamp":"2026-12-05T18:13:05.199Z","ordinal":5,"type":"turn_context","payload":{"turn_id":"t1","cwd":"/work/repo/app","model":"gpt-5-codex"}}"#;
    const RECORD: &str = r#"{"timestamp":"2026-12-05T18:13:05.221Z","ordinal":11,"type":"token_usage_record","payload":{"thread_id":"0a1","turn_id":"t1","session_id":"0a1","response_id":"resp_1","usage":{"input_tokens":1234,"cached_input_tokens":700,"cache_write_input_tokens":0,"output_tokens":56,"reasoning_output_tokens":20,"total_tokens":1290}}}"#;
    const COUNT: &str = r#"{"timestamp":"2026-12-05T18:13:05.223Z","ordinal":12,"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":1234,"cached_input_tokens":700,"output_tokens":56,"reasoning_output_tokens":20,"total_tokens":1290},"last_token_usage":{"input_tokens":1234,"cached_input_tokens":700,"output_tokens":56,"reasoning_output_tokens":20,"total_tokens":1290}}}}"#;

    fn read(lines: &[&str], repo: &str) -> Vec<Line> {
        let mut session = Session::default();
        lines
            .iter()
            .map(|line| parse(line, &mut session, Path::new(repo), PriceTable::embedded()))
            .collect()
    }

    #[test]
    fn a_usage_record_is_a_call_of_the_sessions_model_priced_from_the_table() {
        let lines = read(&[META, TURN, RECORD], "/work/repo");
        let Line::Call(call) = &lines[2] else {
            panic!("not a call: {lines:?}");
        };
        assert_eq!(call.invocation_id, "codex:0a1:1234:700:56:20");
        assert_eq!(
            (call.model_name.as_str(), call.session_id.as_deref()),
            ("gpt-5-codex", Some("0a1"))
        );
        assert_eq!((call.prompt_tokens, call.completion_tokens), (1234, 56));
        assert_eq!(call.cache_read_tokens, Some(700));
        // gpt-5-codex: $1.25 / M input, $0.125 / M cached input, $10 / M output.
        let expected = 534.0 * 1.25e-6 + 700.0 * 1.25e-7 + 56.0 * 1e-5;
        assert!(
            (call.cost_usd - expected).abs() < 1e-12,
            "{}",
            call.cost_usd
        );
        assert_eq!(call.reported_cost_usd, None);
    }

    #[test]
    fn an_older_token_count_event_is_the_same_call() {
        let lines = read(&[META, TURN, RECORD, COUNT], "/work/repo");
        let (Line::Call(record), Line::Call(count)) = (&lines[2], &lines[3]) else {
            panic!("not calls: {lines:?}");
        };
        assert_eq!(record.invocation_id, count.invocation_id);
    }

    #[test]
    fn sessions_elsewhere_and_lines_before_the_sessions_start_are_not_calls() {
        assert_eq!(read(&[META, TURN, RECORD], "/work/other")[2], Line::Other);
        // Read from the middle without what the start said: where it ran is unknown.
        assert_eq!(read(&[RECORD], "/work/repo")[0], Line::Other);
        let negative = RECORD.replace("\"output_tokens\":56", "\"output_tokens\":-1");
        assert!(matches!(
            read(&[META, &negative], "/work/repo")[1],
            Line::Bad(_)
        ));
        assert!(matches!(
            read(&["{\"type\":\"session_m"], "/work/repo")[0],
            Line::Bad(_)
        ));
    }
}
