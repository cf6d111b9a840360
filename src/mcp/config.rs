//! The MCP servers a repository configures: Claude Code's `.mcp.json` (`{"mcpServers": {name:
//! {command, args, env} | {type: "http"|"sse", url, headers}}}`) and VS Code's
//! `.vscode/mcp.json` (`{"servers": {…}}`, comments allowed). A file that cannot be read is a
//! problem with its line and column; its servers are then left out, the other file's stay.
//!
//! `env` values and `headers` are secrets: they are kept for the checks and never printed
//! (`Debug` shows their names only).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use serde::Deserialize;

/// The configuration files, relative to the repository, in the order they are read (a name in
/// both: the first wins, the second is a problem).
pub(crate) const SOURCES: [&str; 2] = [".mcp.json", ".vscode/mcp.json"];

/// A configuration file larger than this is refused (real ones are a few KB).
const MAX_FILE: u64 = 1024 * 1024;

/// One configured server.
#[derive(Clone, PartialEq)]
pub(crate) struct ServerSpec {
    pub(crate) name: String,
    /// The file that configures it (one of [`SOURCES`]).
    pub(crate) source: &'static str,
    pub(crate) transport: Transport,
    /// `"disabled": true` in its entry: listed, never checked.
    pub(crate) disabled: bool,
}

#[derive(Clone, PartialEq)]
pub(crate) enum Transport {
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<String>,
    },
    /// Streamable HTTP.
    Http {
        url: String,
        headers: BTreeMap<String, String>,
    },
    /// The legacy HTTP+SSE transport (listed; the SDK's client speaks streamable HTTP only).
    Sse {
        url: String,
        headers: BTreeMap<String, String>,
    },
}

impl ServerSpec {
    pub(crate) fn transport_kind(&self) -> app::model::McpTransport {
        match self.transport {
            Transport::Stdio { .. } => app::model::McpTransport::Stdio,
            Transport::Http { .. } => app::model::McpTransport::Http,
            Transport::Sse { .. } => app::model::McpTransport::Sse,
        }
    }

    /// What it runs or where it is, as the page, the API and the logs show it: the command and its
    /// arguments, or the URL, with what looks like a secret in them replaced by `redacted` (see
    /// [`shown_args`], [`shown_url`]).
    pub(crate) fn target(&self) -> String {
        match &self.transport {
            Transport::Stdio { command, args, .. } => std::iter::once(command.clone())
                .chain(shown_args(args))
                .collect::<Vec<_>>()
                .join(" "),
            Transport::Http { url, .. } | Transport::Sse { url, .. } => shown_url(url),
        }
    }

    /// Every value of its configuration that is or may be a secret: `env` and header values, a
    /// URL's password and query values, the values of arguments [`shown_args`] hides. Values
    /// shorter than 4 characters are left out (redacting `1` everywhere would say nothing).
    pub(crate) fn secret_values(&self) -> Vec<String> {
        let mut values: Vec<String> = match &self.transport {
            Transport::Stdio { env, args, .. } => {
                let mut values: Vec<String> = env.values().cloned().collect();
                for (arg, shown) in args.iter().zip(shown_args(args)) {
                    if *arg != shown {
                        let hidden = arg.split_once('=').map_or(arg.as_str(), |(_, v)| v);
                        values.push(hidden.to_owned());
                    }
                }
                values
            }
            Transport::Http { url, headers } | Transport::Sse { url, headers } => {
                let mut values: Vec<String> = headers.values().cloned().collect();
                // A header's value after its scheme (`Bearer abc`: `abc` alone may be quoted).
                values.extend(
                    headers
                        .values()
                        .filter_map(|v| v.split_once(' ').map(|(_, rest)| rest.to_owned())),
                );
                if let Ok(parsed) = url::Url::parse(url) {
                    values.extend(parsed.password().map(str::to_owned));
                    values.extend(parsed.query_pairs().map(|(_, value)| value.into_owned()));
                }
                values
            }
        };
        values.retain(|v| v.chars().count() >= 4);
        // Longest first, so a value that contains another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        values
    }

    /// The names of its environment variables or headers (their values are secrets).
    pub(crate) fn secret_names(&self) -> Vec<String> {
        match &self.transport {
            Transport::Stdio { env, .. } => env.keys().cloned().collect(),
            Transport::Http { headers, .. } | Transport::Sse { headers, .. } => {
                headers.keys().cloned().collect()
            }
        }
    }
}

impl std::fmt::Debug for ServerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSpec")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("target", &self.target())
            .field("secrets", &self.secret_names())
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A configuration file that cannot be used.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ConfigProblem {
    /// One of [`SOURCES`].
    pub(crate) path: &'static str,
    pub(crate) line: Option<u32>,
    pub(crate) column: Option<u32>,
    pub(crate) reason: String,
}

/// What the repository configures now.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct McpConfig {
    /// By name.
    pub(crate) servers: Vec<ServerSpec>,
    pub(crate) problems: Vec<ConfigProblem>,
    /// The files that exist.
    pub(crate) sources: Vec<String>,
}

/// Reads both files under `repo` (missing ones are not problems).
pub(crate) fn read(repo: &Path) -> McpConfig {
    let mut config = McpConfig::default();
    let mut servers = BTreeMap::new();
    for source in SOURCES {
        let text = match read_file(&repo.join(source)) {
            Ok(None) => continue,
            Ok(Some(text)) => text,
            Err(reason) => {
                config.sources.push(source.to_owned());
                config.problems.push(ConfigProblem {
                    path: source,
                    line: None,
                    column: None,
                    reason,
                });
                continue;
            }
        };
        config.sources.push(source.to_owned());
        match parse(source, &text) {
            Ok(parsed) => {
                for spec in parsed {
                    if servers.contains_key(&spec.name) {
                        config.problems.push(ConfigProblem {
                            path: source,
                            line: None,
                            column: None,
                            reason: format!(
                                "server '{}' is configured in {} already; this one is ignored",
                                spec.name, SOURCES[0]
                            ),
                        });
                    } else {
                        servers.insert(spec.name.clone(), spec);
                    }
                }
            }
            Err(problem) => config.problems.push(problem),
        }
    }
    config.servers = servers.into_values().collect();
    config
}

/// The file's text; `None` when there is no file. A symlink, a folder or a huge file is an
/// error (the repository's configuration is a small regular file).
fn read_file(path: &Path) -> Result<Option<String>, String> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot be read: {error}")),
    };
    if !metadata.is_file() {
        return Err("not a regular file (a symlink or a folder); not read".into());
    }
    if metadata.len() > MAX_FILE {
        return Err(format!(
            "{} bytes: larger than the {MAX_FILE} bytes a configuration may have",
            metadata.len()
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE).read_to_string(&mut text))
        .map_err(|error| format!("cannot be read: {error}"))?;
    Ok(Some(text))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaudeFile {
    #[serde(rename = "mcpServers")]
    mcp_servers: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct VsCodeFile {
    #[serde(default)]
    servers: BTreeMap<String, Entry>,
}

/// One entry as both files write it (VS Code's `envFile`, `inputs` and the like are ignored).
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    disabled: bool,
}

/// Parses one file's text.
pub(crate) fn parse(source: &'static str, text: &str) -> Result<Vec<ServerSpec>, ConfigProblem> {
    let problem = |error: serde_json::Error| ConfigProblem {
        path: source,
        line: u32::try_from(error.line()).ok(),
        column: u32::try_from(error.column()).ok(),
        reason: error.to_string(),
    };
    // VS Code's file is JSON with comments: they become spaces, so lines and columns stay.
    let mut plain = String::with_capacity(text.len());
    json_comments::StripComments::new(text.as_bytes())
        .read_to_string(&mut plain)
        .map_err(|error| ConfigProblem {
            path: source,
            line: None,
            column: None,
            reason: error.to_string(),
        })?;
    let entries = if source == SOURCES[0] {
        serde_json::from_str::<ClaudeFile>(&plain)
            .map_err(problem)?
            .mcp_servers
    } else {
        serde_json::from_str::<VsCodeFile>(&plain)
            .map_err(problem)?
            .servers
    };
    entries
        .into_iter()
        .map(|(name, entry)| spec(source, name, entry, text))
        .collect()
}

fn spec(
    source: &'static str,
    name: String,
    entry: Entry,
    text: &str,
) -> Result<ServerSpec, ConfigProblem> {
    // Where the entry is, for the problem's line (serde has it no longer).
    let quoted = format!("\"{name}\"");
    let line = text
        .lines()
        .position(|l| l.contains(&quoted))
        .and_then(|index| u32::try_from(index + 1).ok());
    let fail = |reason: String| ConfigProblem {
        path: source,
        line,
        column: line.map(|_| 1),
        reason: format!("server '{name}': {reason}"),
    };
    if name.trim().is_empty() || name.len() > 128 {
        return Err(fail("a name of 1 to 128 characters is needed".into()));
    }
    let transport = match (entry.kind.as_deref(), entry.command, entry.url) {
        (None | Some("stdio"), Some(command), None) if !command.trim().is_empty() => {
            Transport::Stdio {
                command,
                args: entry.args,
                env: entry.env,
                cwd: entry.cwd,
            }
        }
        (None | Some("http" | "streamable-http" | "streamableHttp"), None, Some(url)) => {
            Transport::Http {
                url: checked_url(&url).map_err(&fail)?,
                headers: entry.headers,
            }
        }
        (Some("sse"), None, Some(url)) => Transport::Sse {
            url: checked_url(&url).map_err(&fail)?,
            headers: entry.headers,
        },
        (Some(other), _, _) if !matches!(other, "stdio" | "http" | "sse") => {
            return Err(fail(format!(
                "type '{other}' is not one of stdio, http, sse"
            )))
        }
        _ => {
            return Err(fail(
                "needs either a \"command\" (stdio) or a \"url\" (http, sse), not both".into(),
            ))
        }
    };
    Ok(ServerSpec {
        name,
        source,
        transport,
        disabled: entry.disabled,
    })
}

/// `text` (an error, a line of a server's stderr) with every one of `secrets` (a server's
/// [`ServerSpec::secret_values`], longest first) replaced by `redacted`: errors quote URLs, and
/// servers print their settings.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), REDACTED)
    })
}

/// What replaces a secret in what is shown.
const REDACTED: &str = "redacted";

/// Words that make an argument's flag, or a URL's query key, name a secret.
const SECRET_WORDS: [&str; 6] = ["token", "key", "secret", "password", "auth", "credential"];

fn names_a_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// Arguments as shown: the value of a flag that names a secret (`--api-key VALUE`,
/// `--token=VALUE`) is replaced. Configurations are meant to keep secrets in `env`, but keys
/// passed as arguments are common.
fn shown_args(args: &[String]) -> Vec<String> {
    let mut shown = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        if std::mem::take(&mut hide_next) {
            shown.push(REDACTED.to_owned());
            continue;
        }
        match arg.split_once('=') {
            Some((flag, _)) if flag.starts_with('-') && names_a_secret(flag) => {
                shown.push(format!("{flag}={REDACTED}"));
            }
            None if arg.starts_with('-') && names_a_secret(arg) => {
                hide_next = true;
                shown.push(arg.clone());
            }
            _ => shown.push(arg.clone()),
        }
    }
    shown
}

/// A URL as shown: without its password, and with every query value replaced (remote servers are
/// often configured with a key in the address).
fn shown_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return REDACTED.to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some(REDACTED));
    }
    if parsed.query().is_some() {
        let keys: Vec<String> = parsed
            .query_pairs()
            .map(|(key, _)| format!("{key}={REDACTED}"))
            .collect();
        parsed.set_query(Some(&keys.join("&")));
    }
    parsed.to_string()
}

fn checked_url(url: &str) -> Result<String, String> {
    // The URL itself is not repeated in the message: it may hold a key (see `shown_url`).
    let uri: http::Uri = url
        .parse()
        .map_err(|error| format!("url is not an http:// or https:// URL ({error})"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(url.to_owned()),
        _ => Err("url must be http:// or https://".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_shown_of_a_target_hides_keys_in_arguments_and_urls() {
        let args: Vec<String> = [
            "-y",
            "server",
            "--api-key",
            "sk-1",
            "--token=t-2",
            "--port",
            "8",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            shown_args(&args).join(" "),
            "-y server --api-key redacted --token=redacted --port 8"
        );
        assert_eq!(
            shown_url("https://bob:hunter2@mcp.example.com/mcp?api_key=sk-3&region=eu"),
            "https://bob:redacted@mcp.example.com/mcp?api_key=redacted&region=redacted"
        );
        assert_eq!(
            shown_url("http://127.0.0.1:9/mcp"),
            "http://127.0.0.1:9/mcp"
        );
    }

    #[test]
    fn secrets_are_redacted_from_what_a_check_reports() {
        let config = parse(
            ".mcp.json",
            r#"{"mcpServers": {
                "local": {"command": "srv", "args": ["--api-key", "sk-arg-1", "--port", "8"],
                          "env": {"TOKEN": "env-secret-2", "DEBUG": "1"}},
                "remote": {"type": "http", "url": "https://bob:pw-3333@h.example/mcp?key=q-secret-4",
                           "headers": {"Authorization": "Bearer bearer-5"}}
            }}"#,
        )
        .unwrap();
        let local = config.iter().find(|s| s.name == "local").unwrap();
        assert_eq!(
            redact(
                "started with sk-arg-1 and env-secret-2 on port 8, DEBUG=1",
                &local.secret_values()
            ),
            "started with redacted and redacted on port 8, DEBUG=1"
        );
        let remote = config.iter().find(|s| s.name == "remote").unwrap();
        assert_eq!(
            redact("error sending request for url (https://h.example/mcp?key=q-secret-4): 401 for bearer-5, pw-3333", &remote.secret_values()),
            "error sending request for url (https://h.example/mcp?key=redacted): 401 for redacted, redacted"
        );
    }

    #[test]
    fn both_files_and_every_transport_are_read() {
        let claude = parse(
            ".mcp.json",
            r#"{"mcpServers": {
                "files": {"command": "npx", "args": ["-y", "server-filesystem", "."],
                          "env": {"API_KEY": "secret-value"}},
                "remote": {"type": "http", "url": "http://127.0.0.1:9/mcp",
                           "headers": {"Authorization": "Bearer abc"}},
                "old": {"type": "sse", "url": "https://example.com/sse"}
            }}"#,
        )
        .unwrap();
        assert_eq!(claude.len(), 3);
        assert_eq!(claude[0].name, "files");
        assert_eq!(claude[0].target(), "npx -y server-filesystem .");
        assert_eq!(claude[0].secret_names(), ["API_KEY"]);
        assert_eq!(claude[2].secret_names(), ["Authorization"]);
        let debug = format!("{claude:?}");
        assert!(
            !debug.contains("secret-value") && !debug.contains("Bearer abc"),
            "{debug}"
        );

        let vscode = parse(
            ".vscode/mcp.json",
            "{\n  // comments are allowed here\n  \"servers\": {\n    \"x\": {\"type\": \"stdio\", \
             \"command\": \"node\", \"disabled\": true}\n  },\n  \"inputs\": []\n}",
        )
        .unwrap();
        assert!(vscode[0].disabled);
    }

    #[test]
    fn bad_files_name_line_and_column() {
        let broken = parse(
            ".mcp.json",
            "{\n  \"mcpServers\": {\n    \"a\": {\"command\": }\n}",
        )
        .unwrap_err();
        assert_eq!((broken.line, broken.column), (Some(3), Some(22)));
        let both = parse(
            ".mcp.json",
            "{\"mcpServers\": {\n\"a\": {\"command\": \"x\", \"url\": \"http://h/\"}}}",
        )
        .unwrap_err();
        assert_eq!(both.line, Some(2));
        assert!(both.reason.contains("server 'a'"), "{}", both.reason);
        let scheme = parse(
            ".mcp.json",
            r#"{"mcpServers": {"a": {"url": "file:///etc"}}}"#,
        )
        .unwrap_err();
        assert!(scheme.reason.contains("http://"), "{}", scheme.reason);
    }

    #[test]
    fn the_first_file_wins_a_name_and_a_broken_file_leaves_the_other() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::write(
            repo.path().join(".mcp.json"),
            r#"{"mcpServers": {"a": {"command": "one"}}}"#,
        )
        .unwrap();
        std::fs::create_dir(repo.path().join(".vscode")).unwrap();
        std::fs::write(
            repo.path().join(".vscode/mcp.json"),
            r#"{"servers": {"a": {"command": "two"}, "b": {"command": "three"}}}"#,
        )
        .unwrap();
        let config = read(repo.path());
        let targets: Vec<_> = config.servers.iter().map(|s| s.target()).collect();
        assert_eq!(targets, ["one", "three"]);
        assert_eq!(config.problems.len(), 1);

        std::fs::write(repo.path().join(".mcp.json"), "{ not json").unwrap();
        let config = read(repo.path());
        assert_eq!(config.servers.len(), 2, "the other file's servers stay");
        assert_eq!(config.problems[0].path, ".mcp.json");
    }
}
