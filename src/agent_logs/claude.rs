//! Claude Code's session transcripts: `<config dir>/projects/<cwd with every non-alphanumeric
//! character replaced by '-'>/<session>.jsonl` (and the sub-agents' files beside them), one JSON
//! object a line. An assistant line with `message.usage` is a model call; its id is the API's
//! `requestId` (which Claude Code's OpenTelemetry also sends, as `request_id`), else the
//! message's id. Streaming writes one line per content block, each a copy of the message with
//! the usage known so far: the copy with the largest usage is the call.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Line;
use crate::invocations::set_usage;
use crate::invocations::{PriceTable, Usage};
use crate::telemetry::Invocation;

/// The tool and source Claude Code's calls are stored under (as its OpenTelemetry's).
pub(super) const SOURCE: &str = "claude-code";

/// Where Claude Code keeps its files: `$CLAUDE_CONFIG_DIR` (several, comma-separated), else
/// `~/.claude` and `~/.config/claude`.
pub(crate) fn config_dirs() -> Vec<PathBuf> {
    if let Some(dirs) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return dirs
            .to_string_lossy()
            .split(',')
            .map(|d| PathBuf::from(d.trim()))
            .filter(|d| !d.as_os_str().is_empty())
            .collect();
    }
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return Vec::new();
    };
    vec![home.join(".claude"), home.join(".config/claude")]
}

/// A folder name as Claude Code makes it from a working directory.
pub(super) fn project_name(cwd: &Path) -> String {
    cwd.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The project folders of sessions that may have run inside `repo` (the repository's own and its
/// subfolders'; each line's `cwd` is checked again, as names can collide).
pub(super) fn project_dirs(config_dir: &Path, repo: &Path) -> Vec<PathBuf> {
    let projects = config_dir.join("projects");
    let own = project_name(repo);
    let Ok(entries) = std::fs::read_dir(&projects) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name == own || name.starts_with(&format!("{own}-"))
        })
        .map(|entry| entry.path())
        .collect();
    dirs.sort();
    dirs
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLine {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<RawMessage>,
    request_id: Option<String>,
    session_id: Option<String>,
    timestamp: Option<String>,
    cwd: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    id: Option<String>,
    model: Option<String>,
    usage: Option<RawUsage>,
}

#[derive(Deserialize, Default)]
struct RawUsage {
    #[serde(default)]
    input_tokens: i64,
    #[serde(default)]
    output_tokens: i64,
    #[serde(default)]
    cache_read_input_tokens: i64,
    #[serde(default)]
    cache_creation_input_tokens: i64,
    #[serde(default)]
    cache_creation: Option<RawCacheCreation>,
}

#[derive(Deserialize, Default)]
struct RawCacheCreation {
    #[serde(default)]
    ephemeral_1h_input_tokens: i64,
}

/// Reads one line of a transcript of a session that ran in `repo`.
pub(super) fn parse(line: &str, repo: &Path, prices: &PriceTable) -> Line {
    let raw: RawLine = match serde_json::from_str(line) {
        Ok(raw) => raw,
        Err(error) => return Line::Bad(error.to_string()),
    };
    if raw.kind.as_deref() != Some("assistant") {
        return Line::Other;
    }
    if raw
        .cwd
        .as_deref()
        .is_some_and(|cwd| !Path::new(cwd).starts_with(repo))
    {
        return Line::Other;
    }
    let Some(message) = raw.message else {
        return Line::Other;
    };
    let (Some(usage), Some(model)) = (message.usage, message.model) else {
        return Line::Other;
    };
    // Claude Code's own notices ("<synthetic>") are no model call.
    if model.starts_with('<') {
        return Line::Other;
    }
    let Some(key) = raw.request_id.or(message.id) else {
        return Line::Other;
    };
    let counts = [
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.cache_creation_input_tokens,
    ];
    if counts.iter().any(|n| *n < 0) {
        return Line::Bad("a negative token count".into());
    }
    let usage = Usage::anthropic(
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.cache_creation_input_tokens,
        usage
            .cache_creation
            .map_or(0, |c| c.ephemeral_1h_input_tokens),
    );
    let mut invocation = Invocation::new(&format!("{SOURCE}:{key}"), SOURCE, &model);
    invocation.timestamp = raw.timestamp;
    invocation.session_id = raw.session_id;
    invocation.source = Some(SOURCE.into());
    set_usage(&mut invocation, &usage, None, prices);
    invocation.privacy_level = Some("metadata".into());
    Line::Call(Box::new(invocation))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSISTANT: &str = r#"{"parentUuid":"1ef8","isSidechain":false,"message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello"}],"usage":{"input_tokens":1234,"cache_creation_input_tokens":300,"cache_read_input_tokens":700,"output_tokens":56,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":300}}},"requestId":"req_01","type":"assistant","uuid":"af24","timestamp":"2026-12-05T15:34:08.811Z","cwd":"/work/repo/app","sessionId":"f85e1b8e","version":"2.1.332","gitBranch":"main"}"#;

    #[test]
    fn an_assistant_line_is_a_call_priced_as_claude_code_prices_it() {
        let Line::Call(call) = parse(ASSISTANT, Path::new("/work/repo"), PriceTable::embedded())
        else {
            panic!("not a call");
        };
        assert_eq!(call.invocation_id, "claude-code:req_01");
        assert_eq!(call.session_id.as_deref(), Some("f85e1b8e"));
        assert_eq!((call.prompt_tokens, call.completion_tokens), (2234, 56));
        assert_eq!(
            (call.cache_read_tokens, call.cache_write_tokens),
            (Some(700), Some(300))
        );
        assert_eq!(
            (call.cost_usd * 1e6).round(),
            5877.0,
            "Claude Code's own figure"
        );
        assert_eq!(call.reported_cost_usd, None);
    }

    #[test]
    fn other_lines_and_other_folders_are_not_calls() {
        let elsewhere = ASSISTANT.replace("/work/repo/app", "/work/repository");
        assert_eq!(
            parse(&elsewhere, Path::new("/work/repo"), PriceTable::embedded()),
            Line::Other
        );
        let user = r#"{"type":"user","message":{"role":"user","content":"hi"},"cwd":"/work/repo"}"#;
        assert_eq!(
            parse(user, Path::new("/work/repo"), PriceTable::embedded()),
            Line::Other
        );
        let synthetic = ASSISTANT.replace("claude-sonnet-4-5", "<synthetic>");
        assert_eq!(
            parse(&synthetic, Path::new("/work/repo"), PriceTable::embedded()),
            Line::Other
        );
        assert!(matches!(
            parse(
                r#"{"type":"assistant","mess"#,
                Path::new("/work/repo"),
                PriceTable::embedded()
            ),
            Line::Bad(_)
        ));
        let negative = ASSISTANT.replace("\"output_tokens\":56", "\"output_tokens\":-1");
        assert!(matches!(
            parse(&negative, Path::new("/work/repo"), PriceTable::embedded()),
            Line::Bad(_)
        ));
    }

    #[test]
    fn folder_names_are_made_as_claude_code_makes_them() {
        assert_eq!(
            project_name(Path::new("/tmp/pt/proj_x.y")),
            "-tmp-pt-proj-x-y"
        );
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "-work-repo",
            "-work-repo-app",
            "-work-repository",
            "-work-other",
        ] {
            std::fs::create_dir_all(dir.path().join("projects").join(name)).unwrap();
        }
        let found: Vec<String> = project_dirs(dir.path(), Path::new("/work/repo"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // `-work-repository` is another folder's; its lines' cwd would say so anyway.
        assert_eq!(found, ["-work-repo", "-work-repo-app"]);
    }
}
