//! The Claude Code settings that send its hooks here (`execdash hooks`): one `http` hook per
//! event execdash reads, posting to `<url>/hooks/claude` (with `?agent=` and `?task=` when
//! given), with the access token from the environment (`$EXECDASH_TOKEN`, which Claude Code
//! interpolates only for the variables a hook lists in `allowedEnvVars`). Claude Code 2.1 runs
//! no `http` hook for `SessionStart`: that one is a `command` hook that pipes its input to
//! `curl` (the same request). Merged into a
//! repository's `.claude/settings.json`, execdash's own hooks are replaced and every other
//! setting and hook is kept.

use serde_json::{json, Map, Value};

/// The hook events the settings send, and whether each takes a tool `matcher`.
const EVENTS: [(&str, bool); 13] = [
    ("SessionStart", false),
    ("UserPromptSubmit", false),
    ("SubagentStart", false),
    ("PreToolUse", true),
    ("PermissionRequest", true),
    ("PostToolUse", true),
    ("PostToolUseFailure", true),
    ("Notification", false),
    ("Stop", false),
    ("SubagentStop", false),
    ("PreCompact", false),
    ("PostCompact", false),
    ("SessionEnd", false),
];

/// The path every hook of ours posts to (how our hooks are told from others' in a merge).
pub(crate) const HOOK_PATH: &str = "/hooks/claude";

/// What the settings say.
#[derive(Clone, Debug, Default)]
pub(crate) struct HookTarget {
    /// This server, with its base path (`http://127.0.0.1:3000`, `https://host/dashboard`).
    pub(crate) url: String,
    pub(crate) agent: Option<String>,
    pub(crate) task: Option<String>,
    /// Send `Authorization: Bearer $EXECDASH_TOKEN`.
    pub(crate) token: bool,
}

impl HookTarget {
    fn endpoint(&self) -> String {
        let mut url = format!("{}{HOOK_PATH}", self.url.trim_end_matches('/'));
        let query: Vec<(&str, &str)> = [("agent", &self.agent), ("task", &self.task)]
            .into_iter()
            .filter_map(|(key, value)| Some((key, value.as_deref()?)))
            .collect();
        if !query.is_empty() {
            url.push('?');
            url.push_str(&serde_urlencoded::to_string(query).expect("text pairs encode"));
        }
        url
    }
}

/// The settings (`{"hooks": {…}}`) that send every event to `target`.
pub(crate) fn claude_settings(target: &HookTarget) -> Value {
    let mut hook = json!({"type": "http", "url": target.endpoint(), "timeout": 5});
    if target.token {
        hook["headers"] = json!({"Authorization": "Bearer $EXECDASH_TOKEN"});
        hook["allowedEnvVars"] = json!(["EXECDASH_TOKEN"]);
    }
    let token = if target.token {
        " -H \"Authorization: Bearer $EXECDASH_TOKEN\""
    } else {
        ""
    };
    let command = json!({
        "type": "command",
        "command": format!(
            "curl -sS -m 5 -X POST -H 'Content-Type: application/json'{token} --data-binary @- '{}'",
            target.endpoint().replace('\'', "%27")
        ),
        "timeout": 5,
    });
    let hooks: Map<String, Value> = EVENTS
        .iter()
        .map(|(event, matcher)| {
            let hook = if *event == "SessionStart" {
                &command
            } else {
                &hook
            };
            let mut entry = json!({"hooks": [hook.clone()]});
            if *matcher {
                entry["matcher"] = json!("*");
            }
            (event.to_string(), json!([entry]))
        })
        .collect();
    json!({ "hooks": hooks })
}

/// `existing` settings with `ours` in place of any hook of ours (one whose `url` posts to
/// [`HOOK_PATH`]); everything else kept as it was.
pub(crate) fn merge(existing: &Value, ours: &Value) -> Result<Value, String> {
    let mut merged = match existing {
        Value::Object(_) => existing.clone(),
        Value::Null => json!({}),
        _ => return Err("the settings file is not a JSON object".into()),
    };
    let hooks = merged
        .as_object_mut()
        .expect("an object")
        .entry("hooks")
        .or_insert_with(|| json!({}));
    let Value::Object(hooks) = hooks else {
        return Err("its `hooks` is not a JSON object".into());
    };
    let is_ours = |hook: &Value| {
        let url = hook.get("url").and_then(Value::as_str);
        let command = hook.get("command").and_then(Value::as_str);
        url.is_some_and(|url| url.split('?').next().unwrap_or("").ends_with(HOOK_PATH))
            || command.is_some_and(|c| c.starts_with("curl ") && c.contains(HOOK_PATH))
    };
    for (event, entries) in ours["hooks"].as_object().expect("ours are an object") {
        let list = hooks.entry(event.clone()).or_insert_with(|| json!([]));
        let Value::Array(list) = list else {
            return Err(format!("its hooks of {event} are not a list"));
        };
        // Our hooks go; a matcher group left empty by that goes too.
        for group in list.iter_mut() {
            if let Some(Value::Array(inner)) = group.get_mut("hooks") {
                inner.retain(|hook| !is_ours(hook));
            }
        }
        list.retain(|group| {
            group
                .get("hooks")
                .and_then(Value::as_array)
                .is_none_or(|inner| !inner.is_empty())
        });
        list.extend(entries.as_array().expect("a list").iter().cloned());
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_posts_here_with_the_token_from_the_environment() {
        let settings = claude_settings(&HookTarget {
            url: "https://dash.example/dashboard/".into(),
            agent: Some("backend dev".into()),
            task: Some("T-7".into()),
            token: true,
        });
        let prompt = &settings["hooks"]["UserPromptSubmit"][0]["hooks"][0];
        assert_eq!(
            prompt["url"],
            "https://dash.example/dashboard/hooks/claude?agent=backend+dev&task=T-7"
        );
        assert_eq!(prompt["headers"]["Authorization"], "Bearer $EXECDASH_TOKEN");
        assert_eq!(prompt["allowedEnvVars"], json!(["EXECDASH_TOKEN"]));
        let start = &settings["hooks"]["SessionStart"][0]["hooks"][0];
        assert_eq!(start["type"], "command");
        assert_eq!(
            start["command"],
            "curl -sS -m 5 -X POST -H 'Content-Type: application/json' -H \"Authorization: Bearer $EXECDASH_TOKEN\" --data-binary @- 'https://dash.example/dashboard/hooks/claude?agent=backend+dev&task=T-7'"
        );
        assert_eq!(settings["hooks"]["PreToolUse"][0]["matcher"], "*");
        assert_eq!(settings["hooks"].as_object().unwrap().len(), EVENTS.len());
    }

    #[test]
    fn a_merge_replaces_our_hooks_and_keeps_everything_else() {
        let existing = json!({
            "model": "sonnet",
            "hooks": {
                "Stop": [
                    {"hooks": [{"type": "command", "command": "notify-send done"}]},
                    {"hooks": [{"type": "http", "url": "http://old:3000/hooks/claude?agent=x"}]}
                ]
            }
        });
        let ours = claude_settings(&HookTarget {
            url: "http://127.0.0.1:3000".into(),
            ..HookTarget::default()
        });
        let merged = merge(&existing, &ours).unwrap();
        assert_eq!(merged["model"], "sonnet");
        let stop = merged["hooks"]["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 2, "{stop:?}");
        assert_eq!(stop[0]["hooks"][0]["command"], "notify-send done");
        assert_eq!(
            stop[1]["hooks"][0]["url"],
            "http://127.0.0.1:3000/hooks/claude"
        );
        // Merged again: the same.
        assert_eq!(merge(&merged, &ours).unwrap(), merged);
        assert!(merge(&json!([1]), &ours).is_err());
    }
}
