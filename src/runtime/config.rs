//! Settings of a running server. They come from flags, `EXECDASH_*` variables and an optional
//! TOML file (`--config execdash.toml`), in that order of precedence, then defaults (some from
//! `Leptos.toml` / `LEPTOS_*`, which cargo-leptos sets in development). The file's keys are the
//! flags' names; an unknown key or a bad value is an error that names it.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use app::model::Budgets;
use http::Uri;
use serde::{Deserialize, Serialize};

/// The last component of `root` made absolute ("." becomes the current folder's name).
fn folder_name(root: &Path) -> String {
    std::path::absolute(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "repository".to_owned())
}

/// This machine's host name (`HOSTNAME`, else `/etc/hostname`, else "node").
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "node".to_owned())
}

/// Where the telemetry lives: a SQLite file (`--db PATH` or `sqlite://PATH`, the default
/// `<root>/telemetry.db`) or a team's PostgreSQL (`--db postgres://…`).
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// A `postgres://` or `postgresql://` URL (a password in it, or in `PGPASSWORD`).
    Postgres(String),
}

impl Location {
    /// `postgres://…`/`postgresql://…`, `sqlite://PATH`, or a path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_owned())
        } else {
            Location::File(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }

    /// The file, for a SQLite location.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::File(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::File(path.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Location {
        Location::File(path)
    }
}

/// As [`fmt::Display`]: a password never shows.
impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// The path, or the URL without its password (safe to show and log).
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Postgres(text) => match url::Url::parse(text) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    write!(f, "{url}")
                }
                Err(_) => f.write_str("postgres://(unparsable URL)"),
            },
        }
    }
}

/// Everything `serve` needs.
#[derive(Clone)]
pub struct Config {
    /// The repository whose `work/collaboration` is watched.
    pub root: PathBuf,
    /// The telemetry database: a SQLite file or a PostgreSQL URL.
    pub db: Location,
    pub addr: SocketAddr,
    /// The folder of the built site (`pkg/` with the WASM, JS and CSS, and the public files);
    /// `None`: the site embedded in the binary.
    pub site_root: Option<PathBuf>,
    /// What users type in the browser (the host and origin the server answers to).
    pub public_urls: Vec<PublicUrl>,
    /// Other origins whose pages may call the API (CORS) and open the socket.
    pub allowed_origins: Vec<String>,
    /// The access token; required to listen on anything but loopback.
    pub token: Option<String>,
    /// The file the token was read from (`execdash config` writes it back).
    pub token_file: Option<PathBuf>,
    /// Where the dashboard lives under its host: `""` or `/dashboard` (no trailing slash).
    pub base_path: String,
    /// Daily and monthly spending limits (USD).
    pub budgets: Budgets,
    /// Each agent's own daily and monthly limits (USD), by agent name (alerts at 50, 80 and
    /// 100 %).
    pub agent_budgets: std::collections::BTreeMap<String, Budgets>,
    /// cargo-leptos's reload port while it runs the server for `cargo leptos watch`: the page
    /// then follows it and reloads after a rebuild. Never set in a deployment.
    pub live_reload: Option<u16>,
    /// The page may change task files (priority, specification); off: read only.
    pub allow_writes: bool,
    /// MCP server health checks.
    pub mcp: McpOptions,
    /// Where a large board's tasks are kept between runs, so a restart parses only the files
    /// that changed (`board::cache`); `None`: not kept.
    pub board_cache: Option<PathBuf>,
    /// With a PostgreSQL `db`: this board's name among the team's (default: the root folder's
    /// name), this node's name (default: the host's), and how long a repository may go without
    /// a heartbeat before it shows as stale.
    pub repo_name: String,
    pub node_name: String,
    pub stale_after: std::time::Duration,
    /// When agent sessions' states change with time.
    pub session_timing: SessionTiming,
    /// Where alerts are sent (`--alert-webhook`).
    pub alert_webhooks: Vec<Webhook>,
    /// How long a session waits for input before it is an alert.
    pub alert_waiting_after: std::time::Duration,
    /// A node of a team started without `--root`: it publishes no board of its own and shows
    /// the repositories the other nodes publish.
    pub viewer: bool,
    /// Prices per model over the embedded table (`--prices FILE`, see
    /// [`crate::invocations::prices`]).
    pub prices: Option<PathBuf>,
    /// Read the coding agents' own session files (Claude Code's transcripts) for their calls,
    /// and follow them while serving (`--no-agent-logs`: off).
    pub agent_logs: bool,
    /// Where Claude Code keeps its files (`None`: `$CLAUDE_CONFIG_DIR`, else `~/.claude` and
    /// `~/.config/claude`).
    pub claude_config_dirs: Option<Vec<PathBuf>>,
    /// Where Codex keeps its files (`None`: `$CODEX_HOME`, else `~/.codex`).
    pub codex_homes: Option<Vec<PathBuf>>,
}

/// How the repository's MCP servers are checked.
#[derive(Clone, Debug, PartialEq)]
pub struct McpOptions {
    /// Between two checks of a server (each one ± 10 %).
    pub check_interval: std::time::Duration,
    /// A whole check (start or connect, `initialize`, the lists); a handshake slower than half
    /// of it makes the server degraded.
    pub timeout: std::time::Duration,
    /// The stdio servers execdash runs and supervises itself (by name).
    pub managed: Vec<String>,
}

impl Default for McpOptions {
    fn default() -> McpOptions {
        McpOptions {
            check_interval: std::time::Duration::from_secs(60),
            timeout: std::time::Duration::from_secs(10),
            managed: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("root", &self.root)
            .field("db", &self.db)
            .field("addr", &self.addr)
            .field("site_root", &self.site_root)
            .field("public_urls", &self.public_urls)
            .field("allowed_origins", &self.allowed_origins)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("base_path", &self.base_path)
            .field("budgets", &self.budgets)
            .field("agent_budgets", &self.agent_budgets)
            .field("live_reload", &self.live_reload)
            .field("allow_writes", &self.allow_writes)
            .field("mcp", &self.mcp)
            .field("prices", &self.prices)
            .field("agent_logs", &self.agent_logs)
            .finish()
    }
}

impl Config {
    /// Defaults for a repository: its `telemetry.db`, loopback port 3000, `target/site`, open.
    pub fn new(root: &Path) -> Config {
        Config {
            root: root.to_path_buf(),
            db: root.join("telemetry.db").into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: Some(PathBuf::from("target/site")),
            public_urls: Vec::new(),
            allowed_origins: Vec::new(),
            token: None,
            token_file: None,
            base_path: String::new(),
            budgets: Budgets::default(),
            agent_budgets: Default::default(),
            live_reload: None,
            allow_writes: false,
            mcp: McpOptions::default(),
            board_cache: None,
            prices: None,
            agent_logs: true,
            claude_config_dirs: None,
            codex_homes: None,
            repo_name: folder_name(root),
            node_name: host_name(),
            stale_after: std::time::Duration::from_secs(15),
            session_timing: SessionTiming::default(),
            alert_webhooks: Vec::new(),
            alert_waiting_after: std::time::Duration::from_secs(300),
            viewer: false,
        }
    }

    /// Refuses what would be unsafe or cannot work: listening off loopback without a token.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !self.addr.ip().is_loopback() && self.token.is_none() {
            return Err(ConfigError::Invalid(format!(
                "listening on {} (not loopback) needs an access token. Make one with\n  \
                 head -c 32 /dev/urandom | base64 > execdash.token && chmod 600 execdash.token\n\
                 and start with --token-file execdash.token (or EXECDASH_TOKEN)",
                self.addr
            )));
        }
        if let Some(token) = &self.token {
            if token.len() < 16 {
                return Err(ConfigError::Invalid(
                    "the access token must be at least 16 characters".into(),
                ));
            }
        }
        Ok(())
    }
}

/// A public URL split into what the Host and Origin checks compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    /// `https://dash.example.com` (no default port, no path).
    pub origin: String,
    /// `dash.example.com` or `dash.example.com:8443`.
    pub host: String,
    pub https: bool,
    /// The URL as given.
    pub text: String,
}

impl PublicUrl {
    /// Parses `http(s)://host[:port][/path]`; the path is not used (see `--base-path`).
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let uri: Uri = text
            .trim()
            .parse()
            .map_err(|e| format!("'{text}' is not a URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(format!("'{text}' must start with http:// or https://")),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| format!("'{text}' has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!("'{text}' must not carry a user name or password"));
        }
        let default_port = if https { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(port) if port != default_port => {
                format!("{}:{port}", authority.host()).to_ascii_lowercase()
            }
            _ => authority.host().to_ascii_lowercase(),
        };
        let scheme = if https { "https" } else { "http" };
        Ok(PublicUrl {
            origin: format!("{scheme}://{host}"),
            host,
            https,
            text: text.trim().to_owned(),
        })
    }
}

/// `/dashboard/` → `/dashboard`, `/` → `""`; refuses what is not a plain path.
pub(crate) fn normalize_base_path(text: &str) -> Result<String, ConfigError> {
    let trimmed = text.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let plain = trimmed.starts_with('/')
        && !trimmed.contains("//")
        && trimmed
            .split('/')
            .skip(1)
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c));
    if plain {
        Ok(trimmed.to_owned())
    } else {
        Err(ConfigError::Invalid(format!(
            "base-path '{text}' must be a path like /dashboard (letters, digits, - . _ ~)"
        )))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Every `serve` setting under its flag's name: what the TOML file (`--config`), the environment
/// and the flags fill, one layer over the other ([`Settings::layered`]), before
/// `cli::resolve` checks them and fills in the defaults into a [`Config`]. Also what `execdash
/// config` prints (with the token left out), so its output reads back as the same settings.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) root: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) db: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) site_root: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) public_url: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) allowed_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) base_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) daily_budget: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) monthly_budget: Option<f64>,
    /// `{ "claude-code" = 5.0 }`: USD per agent and UTC day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent_daily_budget: Option<std::collections::BTreeMap<String, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent_monthly_budget: Option<std::collections::BTreeMap<String, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) allow_writes: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mcp_check_interval: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mcp_timeout: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mcp_managed: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) board_cache: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) prices: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent_logs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) repo_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) node_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stale_after: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) working_within: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stalled_after: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) alert_waiting_after: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) alert_webhooks: Option<Vec<String>>,
}

impl Settings {
    /// The file at `file` (if any) with `flags` over it: figment merges the two layers, a flag
    /// given (clap read it from the command line or its environment variable) replacing the
    /// file's value, a flag not given leaving it. A file that cannot be read, an unknown key or a
    /// value of the wrong type is an error naming the file.
    pub(crate) fn layered(
        file: Option<&Path>,
        flags: &impl Serialize,
    ) -> Result<Settings, ConfigError> {
        use figment::providers::{Format, Serialized, Toml};
        let mut figment = figment::Figment::new();
        if let Some(path) = file {
            // figment takes a missing file for an empty one: a named file must be there.
            std::fs::metadata(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            figment = figment.merge(Toml::file(path));
        }
        figment
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|error| ConfigError::File {
                path: file.map(Path::to_path_buf).unwrap_or_default(),
                message: error.to_string(),
            })
    }
}

/// Reads an access token file: its first line, trimmed.
pub(crate) fn read_token(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        ConfigError::Invalid(format!(
            "token-file {}: cannot read it ({source}); without it the dashboard would be open",
            path.display()
        ))
    })?;
    let token = text.lines().next().unwrap_or("").trim().to_owned();
    if token.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_urls_or_paths_and_never_show_a_password() {
        assert_eq!(
            Location::parse("a/telemetry.db"),
            Location::File("a/telemetry.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///x/t.db"),
            Location::File("/x/t.db".into())
        );
        let team = Location::parse("postgres://dash:s3cret@db.example:5432/team");
        assert!(matches!(team, Location::Postgres(_)));
        assert_eq!(team.to_string(), "postgres://dash:***@db.example:5432/team");
        assert!(!format!("{team:?}").contains("s3cret"));
    }

    #[test]
    fn base_paths_are_plain_paths() {
        assert_eq!(normalize_base_path("/dashboard/").unwrap(), "/dashboard");
        assert_eq!(normalize_base_path("/").unwrap(), "");
        assert_eq!(normalize_base_path("").unwrap(), "");
        assert_eq!(normalize_base_path("/a/b-c").unwrap(), "/a/b-c");
        for bad in ["dashboard", "/a/../b", "/a//b", "/a b", "/a?x", "/<x>"] {
            assert!(normalize_base_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn public_urls_are_normalised() {
        let url = PublicUrl::parse("HTTPS://Dash.Example.com:443/x").unwrap();
        assert_eq!(url.origin, "https://dash.example.com");
        assert_eq!(url.host, "dash.example.com");
        assert!(url.https);
        let url = PublicUrl::parse("http://10.0.0.5:8080").unwrap();
        assert_eq!((url.host.as_str(), url.https), ("10.0.0.5:8080", false));
        assert!(PublicUrl::parse("ftp://x").is_err());
        assert!(PublicUrl::parse("http://u:p@x").is_err());
        assert!(PublicUrl::parse("dash.example.com").is_err());
    }

    #[test]
    fn off_loopback_needs_a_long_enough_token() {
        let mut config = Config::new(Path::new("."));
        assert!(config.validate().is_ok());
        config.addr = "0.0.0.0:3000".parse().unwrap();
        let refused = config.validate().unwrap_err().to_string();
        assert!(refused.contains("--token-file"), "{refused}");
        config.token = Some("short".into());
        assert!(config.validate().is_err());
        config.token = Some("a-token-of-sixteen+".into());
        assert!(config.validate().is_ok());
        assert!(
            !format!("{config:?}").contains("sixteen"),
            "the token is redacted"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("execdash.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:4000\"\nbudget = 5\n").unwrap();
        let no_flags = Settings::default();
        let error = Settings::layered(Some(&file), &no_flags)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("budget") && error.contains("execdash.toml"),
            "{error}"
        );
        std::fs::write(&file, "addr = \"not an address\"\n").unwrap();
        let error = Settings::layered(Some(&file), &no_flags)
            .unwrap_err()
            .to_string();
        assert!(error.contains("addr"), "{error}");
        std::fs::write(&file, "public-url = [\"https://dash.example.com\"]\n").unwrap();
        let read = Settings::layered(Some(&file), &no_flags).unwrap();
        assert_eq!(read.public_url.unwrap(), ["https://dash.example.com"]);
        // A flag given replaces the file's value; one not given leaves it.
        let flags = Settings {
            addr: Some("127.0.0.1:4100".parse().unwrap()),
            ..Settings::default()
        };
        let read = Settings::layered(Some(&file), &flags).unwrap();
        assert_eq!(read.addr, flags.addr);
        assert_eq!(read.public_url.unwrap(), ["https://dash.example.com"]);
        let missing = dir.path().join("missing.toml");
        let error = Settings::layered(Some(&missing), &no_flags)
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing.toml"), "{error}");
    }
}

/// When states change with time (`--working-within`, `--stalled-after`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTiming {
    /// A session is working while its last call, tool or prompt is this recent.
    pub working_within: std::time::Duration,
    /// A session whose task is in progress is stalled after this long without anything.
    pub stalled_after: std::time::Duration,
    /// A session with nothing for this long has ended (its end hook may never come).
    pub ended_after: std::time::Duration,
}

impl Default for SessionTiming {
    fn default() -> SessionTiming {
        SessionTiming {
            working_within: std::time::Duration::from_secs(30),
            stalled_after: std::time::Duration::from_secs(10 * 60),
            ended_after: std::time::Duration::from_secs(60 * 60),
        }
    }
}

/// How a webhook wants its alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The alert as JSON.
    Json,
    /// A Slack incoming webhook's `{"text": …}`.
    Slack,
    /// ntfy's HTTP publish (the text as the body; title, tags, click in headers).
    Ntfy,
}

/// One destination of alerts: `--alert-webhook [json=|slack=|ntfy=]URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub format: WebhookFormat,
    pub url: String,
    /// Where the dashboard is, for the alerts' links (the first public URL, else its address).
    pub dashboard: String,
}

impl Webhook {
    /// Reads `[json=|slack=|ntfy=]URL` (an http or https URL).
    pub fn parse(text: &str) -> Result<Webhook, String> {
        let text = text.trim();
        let (format, url) = match text.split_once('=') {
            Some(("json", url)) => (WebhookFormat::Json, url),
            Some(("slack", url)) => (WebhookFormat::Slack, url),
            Some(("ntfy", url)) => (WebhookFormat::Ntfy, url),
            _ => (WebhookFormat::Json, text),
        };
        let parsed = url::Url::parse(url)
            .map_err(|e| format!("'{url}' is not a URL ({e}); write [json=|slack=|ntfy=]URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!("'{url}' is not an http(s) URL"));
        }
        Ok(Webhook {
            format,
            url: url.to_owned(),
            dashboard: String::new(),
        })
    }

    /// As the page and the log show it: its format and host, never the URL (Slack's and
    /// ntfy's hold the secret).
    pub fn shown(&self) -> String {
        let host = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
            })
            .unwrap_or_default();
        let format = match self.format {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Ntfy => "ntfy",
        };
        format!("{format} ({host})")
    }

    /// `path` of the dashboard as a link in an alert.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.dashboard.trim_end_matches('/'))
    }
}

/// The file in the cache folder `cache` where `what` of repository `repo` is kept
/// (`<what>-<digest of the repository's path>.json`).
pub(crate) fn repository_cache_file(cache: &Path, repo: &Path, what: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let repo = std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_path_buf());
    let digest = Sha256::digest(repo.to_string_lossy().as_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    cache.join(format!("{what}-{name}.json"))
}
