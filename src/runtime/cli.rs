//! The command line: `execdash [serve] [--root DIR] [--db FILE] [--addr IP:PORT]`.
//!
//! Longer than most modules on purpose: it is the declaration of every command and flag, each
//! with the doc comment clap prints as its help; what the flags mean is resolved in
//! [`super::config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use super::config::{normalize_base_path, read_token, Config, ConfigError, PublicUrl, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "execdash",
    version,
    about = "Real-time execution dashboard for AI coding agents"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the dashboard (the default).
    Serve(ServeArgs),
    /// Print the effective configuration (flags, environment, file and defaults resolved) as a
    /// config file; the token is never printed.
    Config(ServeArgs),
    /// Import a JSONL file (invocations, or the original's ADR-047 event log), or with
    /// --agent-logs the coding agents' transcripts, into the telemetry database. Idempotent: run
    /// it again to resume.
    Import(ImportArgs),
    /// Copy a telemetry.db into a team's PostgreSQL store (resumable: run it again to go on;
    /// counts and costs checked at the end).
    Migrate(MigrateArgs),
    /// Fill a workspace's telemetry.db with a month of demo invocations (for the demo).
    SeedDemo(SeedDemoArgs),
    /// Print the Claude Code settings that send its hooks here (agent sessions, live), or merge
    /// them into a repository's .claude/settings.json (the diff shown first; written with --yes).
    Hooks(HooksArgs),
}

#[derive(Debug, Args)]
struct HooksArgs {
    /// This dashboard as the agents reach it, with its base path.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// The board's agent the sessions work as (sent with every event).
    #[arg(long)]
    agent: Option<String>,
    /// The task the sessions work on (sent with every event).
    #[arg(long)]
    task: Option<String>,
    /// Send the access token: `Authorization: Bearer $EXECDASH_TOKEN`, from the agent's
    /// environment (needed off loopback).
    #[arg(long)]
    token: bool,
    /// Merge into DIR/.claude/settings.json: execdash's hooks replaced, everything else kept.
    #[arg(long, value_name = "DIR")]
    merge: Option<PathBuf>,
    /// With --merge: write the file (without it, only the diff is shown).
    #[arg(long, requires = "merge")]
    yes: bool,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// The SQLite file: sqlite://PATH (or a path).
    #[arg(long)]
    from: String,
    /// The PostgreSQL database: postgres://USER@HOST:PORT/DB (a password in the URL, or in
    /// PGPASSWORD).
    #[arg(long)]
    to: String,
    /// The repository the rows are stored as: the name its node publishes with --repo-name, so
    /// that /api/repos counts their cost under it [default: the name of the folder the file is
    /// in].
    #[arg(long, visible_alias = "repo-name", value_name = "NAME")]
    repo: Option<String>,
    /// Rows per transaction.
    #[arg(long, default_value_t = crate::telemetry::DEFAULT_MIGRATE_BATCH)]
    batch: usize,
}

#[derive(Debug, Args)]
struct SeedDemoArgs {
    /// The workspace whose tasks the invocations work for.
    #[arg(long, env = "EXECDASH_ROOT", default_value = ".")]
    root: PathBuf,
    /// Telemetry database [default: <root>/telemetry.db].
    #[arg(long, env = "EXECDASH_DB")]
    db: Option<PathBuf>,
    /// How many invocations to write, spread over the last 30 days.
    #[arg(long, default_value_t = 1500)]
    count: usize,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The JSONL file (invocations, or the original's event log).
    #[arg(required_unless_present = "agent_logs", conflicts_with = "agent_logs")]
    file: Option<PathBuf>,
    /// Instead of a file: the coding agents' session files of the sessions that ran in the
    /// repository (Claude Code's transcripts under $CLAUDE_CONFIG_DIR, else ~/.claude and
    /// ~/.config/claude). What was read is remembered: a later import or `serve` goes on from
    /// there.
    #[arg(long)]
    agent_logs: bool,
    /// Telemetry database [default: <root>/telemetry.db].
    #[arg(long, env = "EXECDASH_DB")]
    db: Option<PathBuf>,
    /// The repository (its telemetry.db by default; with --agent-logs, the sessions that ran in
    /// it).
    #[arg(long, env = "EXECDASH_ROOT", default_value = ".")]
    root: PathBuf,
}

/// `serve`'s flags (and their environment variables, read by clap). Serialized under the config
/// file's keys, the flags given are the top layer of [`Settings`] (figment): a flag not given
/// serializes to nothing, so the file's value stands.
#[derive(Debug, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ServeArgs {
    /// A TOML file with any of these settings (keys are the flags' names, e.g. `public-url =
    /// ["https://dash.example.com"]`). Flags and environment variables win over it.
    #[arg(long, env = "EXECDASH_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Repository whose work/collaboration folder is watched [default: .].
    #[arg(long, env = "EXECDASH_ROOT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<PathBuf>,
    /// Telemetry database: a SQLite file (a path or sqlite://PATH) or a team's PostgreSQL
    /// (postgres://USER@HOST:PORT/DB; the password in PGPASSWORD) [default: <root>/telemetry.db].
    #[arg(long, env = "EXECDASH_DB")]
    #[serde(skip_serializing_if = "Option::is_none")]
    db: Option<PathBuf>,
    /// Address to listen on [default: LEPTOS_SITE_ADDR, else 127.0.0.1:3000]. Anything but
    /// loopback needs an access token.
    #[arg(long, env = "EXECDASH_ADDR", value_parser = parse_addr)]
    #[serde(skip_serializing_if = "Option::is_none")]
    addr: Option<SocketAddr>,
    /// Folder of the built site (pkg/, public files) [default: LEPTOS_SITE_ROOT (set by cargo
    /// leptos), else the site embedded in the binary, else site/ beside the binary, else
    /// Leptos.toml's site-root].
    #[arg(long, env = "EXECDASH_SITE_ROOT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    site_root: Option<PathBuf>,
    /// The URL users type in the browser, e.g. https://dash.example.com/dashboard (repeatable).
    /// The server answers only to its host (and loopback), and accepts browser writes and
    /// sockets only from its origin.
    #[arg(
        long = "public-url",
        env = "EXECDASH_PUBLIC_URL",
        value_delimiter = ','
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    public_url: Vec<String>,
    /// Other origins whose pages may call the API (CORS) and open the socket (comma-separated).
    #[arg(long, env = "EXECDASH_ALLOWED_ORIGINS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_origins: Vec<String>,
    /// File holding the access token (its first line). The token itself may be given in
    /// EXECDASH_TOKEN instead.
    #[arg(long, env = "EXECDASH_TOKEN_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    token_file: Option<PathBuf>,
    /// Serve everything under this path, e.g. /dashboard (behind a reverse proxy).
    #[arg(long, env = "EXECDASH_BASE_PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    base_path: Option<String>,
    /// Daily spending limit in USD: a banner at 80 %, an alert at 100 %.
    #[arg(long, env = "EXECDASH_DAILY_BUDGET", value_parser = parse_budget, allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    daily_budget: Option<f64>,
    /// Monthly spending limit in USD.
    #[arg(long, env = "EXECDASH_MONTHLY_BUDGET", value_parser = parse_budget, allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    monthly_budget: Option<f64>,
    /// An agent's daily spending limit: NAME=USD (repeat it, or comma-separate them); alerts at
    /// 50, 80 and 100 % of what calls with that agent name cost today (UTC).
    #[arg(long, env = "EXECDASH_AGENT_DAILY_BUDGET", value_delimiter = ',')]
    #[serde(skip)]
    agent_daily_budget: Vec<String>,
    /// An agent's monthly spending limit: NAME=USD (repeat it, or comma-separate them).
    #[arg(long, env = "EXECDASH_AGENT_MONTHLY_BUDGET", value_delimiter = ',')]
    #[serde(skip)]
    agent_monthly_budget: Vec<String>,
    /// Let the page change task files: a task's priority and its specification (one line of
    /// the YAML, written atomically). Off by default: the dashboard then only reads.
    #[arg(long, env = "EXECDASH_ALLOW_WRITES")]
    #[serde(skip_serializing_if = "is_false")]
    allow_writes: bool,
    /// Seconds between two health checks of each MCP server (± 10 %) [default: 60].
    #[arg(long, env = "EXECDASH_MCP_CHECK_INTERVAL", value_parser = parse_seconds)]
    #[serde(skip_serializing_if = "Option::is_none")]
    mcp_check_interval: Option<f64>,
    /// Seconds a whole MCP health check may take [default: 10].
    #[arg(long, env = "EXECDASH_MCP_TIMEOUT", value_parser = parse_seconds)]
    #[serde(skip_serializing_if = "Option::is_none")]
    mcp_timeout: Option<f64>,
    /// An MCP server (a stdio one of .mcp.json) that execdash runs and keeps running itself:
    /// restarted with back-off when it exits, started/stopped/restarted from the page with
    /// --allow-writes (repeatable, or comma-separated).
    #[arg(long, env = "EXECDASH_MCP_MANAGED", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mcp_managed: Vec<String>,
    /// Folder where a board of 1 000 task files or more is kept between runs, so a restart
    /// parses only the files that changed; `off` keeps nothing [default:
    /// $XDG_CACHE_HOME/execdash, else ~/.cache/execdash].
    #[arg(long, env = "EXECDASH_BOARD_CACHE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    board_cache: Option<PathBuf>,
    /// A JSON file of model prices over the embedded table (LiteLLM's, see README "Prices"):
    /// {"models": {"NAME": {"input": 3e-6, "output": 1.5e-5, "cache_read"?, "cache_write"?,
    /// "cache_write_1h"?}}}, US dollars per token.
    #[arg(long, env = "EXECDASH_PRICES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    prices: Option<PathBuf>,
    /// Do not read the coding agents' session files (Claude Code's transcripts under
    /// $CLAUDE_CONFIG_DIR or ~/.claude) for their calls.
    #[arg(long, env = "EXECDASH_NO_AGENT_LOGS")]
    #[serde(
        rename = "agent-logs",
        serialize_with = "given_as_off",
        skip_serializing_if = "is_false"
    )]
    no_agent_logs: bool,
    /// With a PostgreSQL --db: the name this board is published under [default: the root
    /// folder's name].
    #[arg(long, env = "EXECDASH_REPO_NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    repo_name: Option<String>,
    /// With a PostgreSQL --db: this node's name in the repository list [default: the host name].
    #[arg(long, env = "EXECDASH_NODE_NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    node_name: Option<String>,
    /// Seconds without a heartbeat after which a repository shows as stale [default: 15].
    #[arg(long, env = "EXECDASH_STALE_AFTER", value_parser = parse_seconds)]
    #[serde(skip_serializing_if = "Option::is_none")]
    stale_after: Option<f64>,
    /// Seconds an agent session shows as working after its last call, tool or prompt
    /// [default: 30].
    #[arg(long, env = "EXECDASH_WORKING_WITHIN", value_parser = parse_seconds)]
    #[serde(skip_serializing_if = "Option::is_none")]
    working_within: Option<f64>,
    /// Seconds without anything after which a session whose task is in progress shows as
    /// stalled [default: 600].
    #[arg(long, env = "EXECDASH_STALLED_AFTER", value_parser = parse_seconds)]
    #[serde(skip_serializing_if = "Option::is_none")]
    stalled_after: Option<f64>,
    /// Where alerts are sent: [json=|slack=|ntfy=]URL (repeat it, or comma-separate them).
    #[arg(
        long = "alert-webhook",
        env = "EXECDASH_ALERT_WEBHOOKS",
        value_delimiter = ','
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alert_webhooks: Vec<String>,
    /// Seconds an agent session waits for input before it is an alert [default: 300].
    #[arg(long, env = "EXECDASH_ALERT_WAITING_AFTER", value_parser = parse_seconds)]
    #[serde(skip_serializing_if = "Option::is_none")]
    alert_waiting_after: Option<f64>,
}

/// Agents' limits of one period: the flags' `NAME=USD` when any is given, else the file's
/// table; each a positive amount.
fn agent_limits(
    setting: &str,
    flags: Vec<String>,
    file: Option<BTreeMap<String, f64>>,
) -> Result<BTreeMap<String, f64>, ConfigError> {
    let invalid = |what: String| ConfigError::Invalid(format!("{setting}: {what}"));
    let limits: BTreeMap<String, f64> = if flags.is_empty() {
        file.unwrap_or_default()
    } else {
        flags
            .iter()
            .filter(|flag| !flag.trim().is_empty())
            .map(|flag| {
                let (name, usd) = flag
                    .split_once('=')
                    .ok_or_else(|| invalid(format!("'{flag}' is not NAME=USD")))?;
                let usd = parse_budget(usd.trim()).map_err(invalid)?;
                Ok((name.trim().to_owned(), usd))
            })
            .collect::<Result<_, ConfigError>>()?
    };
    for (name, usd) in &limits {
        if name.is_empty() {
            return Err(invalid("an agent's name is empty".to_owned()));
        }
        if !(usd.is_finite() && *usd > 0.0) {
            return Err(invalid(format!(
                "{name}'s budget must be a positive amount of USD"
            )));
        }
    }
    Ok(limits)
}

/// Each agent's budgets from its daily and monthly limits.
fn agent_budgets(
    daily: BTreeMap<String, f64>,
    monthly: BTreeMap<String, f64>,
) -> BTreeMap<String, app::model::Budgets> {
    let mut budgets: BTreeMap<String, app::model::Budgets> = BTreeMap::new();
    for (name, usd) in daily {
        budgets.entry(name).or_default().daily_usd = Some(usd);
    }
    for (name, usd) in monthly {
        budgets.entry(name).or_default().monthly_usd = Some(usd);
    }
    budgets
}

/// One period's agents' limits as the config file writes them (`None` when there is none).
fn agent_limits_of(
    config: &Config,
    period: impl Fn(&app::model::Budgets) -> Option<f64>,
) -> Option<BTreeMap<String, f64>> {
    let limits: BTreeMap<String, f64> = config
        .agent_budgets
        .iter()
        .filter_map(|(name, budgets)| Some((name.clone(), period(budgets)?)))
        .collect();
    (!limits.is_empty()).then_some(limits)
}

fn is_false(flag: &bool) -> bool {
    !flag
}

/// `--no-agent-logs`, given: `agent-logs = false`.
fn given_as_off<S: serde::Serializer>(_: &bool, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bool(false)
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('s').parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && (0.1..=86_400.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "'{text}' is not a number of seconds from 0.1 to 86400"
        )),
    }
}

/// `IP:PORT`, or `HOST:PORT` resolved (`localhost:3000` is 127.0.0.1:3000).
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.trim().parse() {
        return Ok(addr);
    }
    use std::net::ToSocketAddrs;
    let mut found = text
        .trim()
        .to_socket_addrs()
        .map_err(|e| format!("'{text}' is not IP:PORT (e.g. 127.0.0.1:3000) nor a HOST:PORT this machine resolves: {e}"))?;
    let all: Vec<SocketAddr> = found.by_ref().collect();
    all.iter()
        .find(|a| a.is_ipv4())
        .or(all.first())
        .copied()
        .ok_or_else(|| format!("'{text}' resolves to no address"))
}

fn parse_budget(text: &str) -> Result<f64, String> {
    match text.trim().trim_start_matches('$').parse::<f64>() {
        Ok(usd) if usd.is_finite() && usd > 0.0 => Ok(usd),
        _ => Err(format!("'{text}' is not a positive amount of USD")),
    }
}

pub fn run() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let (args, print_only) = match cli.command {
        Some(Command::Serve(args)) => (args, false),
        Some(Command::Config(args)) => (args, true),
        Some(Command::Import(args)) => return import(args),
        Some(Command::Migrate(args)) => return migrate(args),
        Some(Command::SeedDemo(args)) => return seed_demo(args),
        Some(Command::Hooks(args)) => return hooks(args),
        None => (cli.serve, false),
    };
    let config = match resolve(args) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("execdash: {err}");
            return ExitCode::from(2);
        }
    };
    if print_only {
        print!("{}", effective(&config));
        return ExitCode::SUCCESS;
    }
    super::memory::limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(super::server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("execdash: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The settings: flags and environment (clap) over the file (figment merges the two layers into
/// one [`Settings`]), then checked and completed with the defaults into the [`Config`].
fn resolve(args: ServeArgs) -> Result<Config, ConfigError> {
    let settings = Settings::layered(args.config.as_deref(), &args)?;
    let leptos = leptos_site_options();
    let root_given = settings.root.is_some();
    let root = settings.root.unwrap_or_else(|| PathBuf::from("."));
    if !root.is_dir() {
        return Err(ConfigError::Invalid(format!(
            "root {}: not a directory",
            root.display()
        )));
    }
    let mut config = Config::new(&root);
    if let Some(db) = settings.db {
        config.db = crate::telemetry::Location::parse(&db.to_string_lossy());
    }
    // With a team's store and no board of its own, a node only shows the others'.
    if !root_given && matches!(config.db, crate::telemetry::Location::Postgres(_)) {
        config.viewer = true;
    }
    config.addr = settings
        .addr
        .or(leptos.as_ref().map(|o| o.site_addr))
        .unwrap_or(config.addr);
    config.site_root = settings
        .site_root
        .or_else(|| std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from));
    if config.site_root.is_none() && !crate::http::SITE_EMBEDDED {
        config.site_root = Some(
            site_beside_binary()
                .or_else(|| leptos.as_ref().map(|o| PathBuf::from(o.site_root.as_ref())))
                .unwrap_or_else(|| PathBuf::from("target/site")),
        );
    }
    let public_urls = settings.public_url.unwrap_or_default();
    config.public_urls = public_urls
        .iter()
        .filter(|url| !url.trim().is_empty())
        .map(|url| {
            PublicUrl::parse(url).map_err(|e| ConfigError::Invalid(format!("public-url: {e}")))
        })
        .collect::<Result<_, _>>()?;
    config.allowed_origins = settings.allowed_origins.unwrap_or_default();
    config.token_file = settings
        .token_file
        .map(|path| std::path::absolute(&path).unwrap_or(path));
    config.token = match &config.token_file {
        Some(path) => Some(read_token(path)?),
        None => std::env::var("EXECDASH_TOKEN")
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    };
    config.base_path = normalize_base_path(&settings.base_path.unwrap_or_default())?;
    for url in &public_urls {
        let path = url
            .parse::<http::Uri>()
            .map(|uri| uri.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        if path != config.base_path {
            tracing::warn!(
                "public-url {url} has the path {:?} but base-path is {:?}: the dashboard is served under base-path ({}/), so links built from the public URL may miss it",
                if path.is_empty() { "/" } else { &path },
                if config.base_path.is_empty() { "/" } else { &config.base_path },
                config.base_path
            );
        }
    }
    for (name, value) in [
        ("daily-budget", settings.daily_budget),
        ("monthly-budget", settings.monthly_budget),
    ] {
        if value.is_some_and(|usd| !(usd.is_finite() && usd > 0.0)) {
            return Err(ConfigError::Invalid(format!(
                "{name} must be a positive amount of USD"
            )));
        }
    }
    config.allow_writes = settings.allow_writes.unwrap_or(false);
    // The file's numbers within the flags' bounds (a negative, NaN or infinite one would crash).
    for (name, value) in [
        ("mcp-check-interval", settings.mcp_check_interval),
        ("mcp-timeout", settings.mcp_timeout),
        ("stale-after", settings.stale_after),
        ("working-within", settings.working_within),
        ("stalled-after", settings.stalled_after),
        ("alert-waiting-after", settings.alert_waiting_after),
    ] {
        if let Some(seconds) = value {
            parse_seconds(&seconds.to_string())
                .map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
        }
    }
    if let Some(seconds) = settings.mcp_check_interval {
        config.mcp.check_interval = std::time::Duration::from_secs_f64(seconds);
    }
    if let Some(seconds) = settings.mcp_timeout {
        config.mcp.timeout = std::time::Duration::from_secs_f64(seconds);
    }
    config.mcp.managed = settings.mcp_managed.unwrap_or_default();
    config.board_cache = match settings.board_cache {
        Some(dir) if dir.as_os_str() == "off" => None,
        Some(dir) => Some(dir),
        None => crate::board::default_cache_dir(),
    };
    config.prices = settings.prices;
    config.agent_logs = settings.agent_logs.unwrap_or(true);
    if let Some(name) = settings.repo_name.filter(|n| !n.trim().is_empty()) {
        config.repo_name = name.trim().to_owned();
    }
    if let Some(name) = settings.node_name.filter(|n| !n.trim().is_empty()) {
        config.node_name = name.trim().to_owned();
    }
    if let Some(seconds) = settings.stale_after {
        config.stale_after = std::time::Duration::from_secs_f64(seconds);
    }
    if let Some(seconds) = settings.working_within {
        config.session_timing.working_within = std::time::Duration::from_secs_f64(seconds);
    }
    if let Some(seconds) = settings.stalled_after {
        config.session_timing.stalled_after = std::time::Duration::from_secs_f64(seconds);
    }
    if let Some(seconds) = settings.alert_waiting_after {
        config.alert_waiting_after = std::time::Duration::from_secs_f64(seconds);
    }
    let webhooks = settings.alert_webhooks.unwrap_or_default();
    config.alert_webhooks = webhooks
        .iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| crate::runtime::Webhook::parse(w))
        .collect::<Result<_, _>>()
        .map_err(|e| ConfigError::Invalid(format!("alert-webhook: {e}")))?;
    config.budgets = app::model::Budgets {
        daily_usd: settings.daily_budget,
        monthly_usd: settings.monthly_budget,
    };
    config.agent_budgets = agent_budgets(
        agent_limits(
            "agent-daily-budget",
            args.agent_daily_budget,
            settings.agent_daily_budget,
        )?,
        agent_limits(
            "agent-monthly-budget",
            args.agent_monthly_budget,
            settings.agent_monthly_budget,
        )?,
    );
    // cargo-leptos sets LEPTOS_WATCH when it runs the server for `watch` (not for `serve`).
    config.live_reload = std::env::var_os("LEPTOS_WATCH").map(|_| {
        std::env::var("LEPTOS_RELOAD_PORT")
            .ok()
            .and_then(|port| port.parse().ok())
            .or(leptos.as_ref().map(|o| o.reload_port as u16))
            .unwrap_or(3001)
    });
    config.validate()?;
    Ok(config)
}

/// The effective configuration as a config file (the token is never printed).
fn effective(config: &Config) -> String {
    let file = Settings {
        root: Some(config.root.clone()),
        db: Some(PathBuf::from(config.db.to_string())),
        addr: Some(config.addr),
        site_root: config.site_root.clone(),
        public_url: Some(config.public_urls.iter().map(|u| u.text.clone()).collect()),
        allowed_origins: Some(config.allowed_origins.clone()),
        token_file: config.token_file.clone(),
        base_path: Some(config.base_path.clone()),
        daily_budget: config.budgets.daily_usd,
        monthly_budget: config.budgets.monthly_usd,
        agent_daily_budget: agent_limits_of(config, |b| b.daily_usd),
        agent_monthly_budget: agent_limits_of(config, |b| b.monthly_usd),
        allow_writes: Some(config.allow_writes),
        mcp_check_interval: Some(config.mcp.check_interval.as_secs_f64()),
        mcp_timeout: Some(config.mcp.timeout.as_secs_f64()),
        mcp_managed: Some(config.mcp.managed.clone()),
        repo_name: Some(config.repo_name.clone()),
        node_name: Some(config.node_name.clone()),
        stale_after: Some(config.stale_after.as_secs_f64()),
        working_within: Some(config.session_timing.working_within.as_secs_f64()),
        stalled_after: Some(config.session_timing.stalled_after.as_secs_f64()),
        alert_waiting_after: Some(config.alert_waiting_after.as_secs_f64()),
        // The webhooks' URLs may hold secrets (Slack's, ntfy's topics): not printed.
        alert_webhooks: None,
        prices: config.prices.clone(),
        agent_logs: Some(config.agent_logs),
        board_cache: Some(
            config
                .board_cache
                .clone()
                .unwrap_or_else(|| PathBuf::from("off")),
        ),
    };
    let site = match &config.site_root {
        Some(_) => "",
        None => "# site: embedded in the binary\n",
    };
    let token = match (&config.token, &config.token_file) {
        (Some(_), Some(_)) => "# token: read from token-file (never printed)\n",
        (Some(_), None) => "# token: from EXECDASH_TOKEN, which this file does not hold: keep it in the environment\n",
        (None, _) => "# token: none (open; loopback only)\n",
    };
    let webhooks = match config.alert_webhooks.len() {
        0 => String::new(),
        n => {
            format!("# alert-webhooks: {n} configured, not printed (their URLs may hold secrets)\n")
        }
    };
    format!(
        "{}{site}{token}{webhooks}",
        toml::to_string(&file).expect("the configuration serializes")
    )
}

/// `execdash import --agent-logs`: every transcript of the repository's sessions, with a progress
/// bar on standard error.
fn import_agent_logs(db: &Path, root: &Path) -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async {
        let telemetry = crate::telemetry::Telemetry::open(db)
            .await
            .map_err(|e| e.to_string())?;
        let prices = std::sync::Arc::new(crate::invocations::PriceTable::embedded().clone());
        let mut transcripts = crate::agent_logs::transcripts_of(
            root,
            crate::agent_logs::AgentHomes::from_env(),
            prices,
            crate::board::default_cache_dir().as_deref(),
        );
        let files = transcripts.files();
        let total = transcripts.unread_bytes(&files);
        let report = transcripts
            .read(&telemetry, &files, false, |done| progress_bar(done, total))
            .await
            .map_err(|e| e.to_string())?;
        telemetry.close().await;
        Ok::<_, String>((files.len(), report))
    });
    eprintln!();
    match result {
        Ok((found, report)) => {
            for bad in &report.bad {
                eprintln!("{bad}");
            }
            println!(
                "{found} transcript files of {} ({} with new lines, {} bytes): {} calls, {} inserted, {} already there, {} bad lines",
                root.display(),
                report.files,
                report.bytes,
                report.calls,
                report.inserted,
                report.duplicates,
                report.bad_lines
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("execdash import --agent-logs: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `execdash hooks`: the settings on standard output, or merged into a repository's.
fn hooks(args: HooksArgs) -> ExitCode {
    let target = crate::sessions::HookTarget {
        url: args.url,
        agent: args.agent,
        task: args.task,
        token: args.token,
    };
    let ours = crate::sessions::claude_settings(&target);
    let Some(repo) = args.merge else {
        println!("{}", serde_json::to_string_pretty(&ours).expect("JSON"));
        return ExitCode::SUCCESS;
    };
    let path = repo.join(".claude").join("settings.json");
    let before = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            eprintln!("execdash hooks: cannot read {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let existing: serde_json::Value = if before.trim().is_empty() {
        serde_json::Value::Null
    } else {
        match serde_json::from_str(&before) {
            Ok(value) => value,
            Err(error) => {
                eprintln!(
                    "execdash hooks: {} is not JSON ({error}): nothing changed",
                    path.display()
                );
                return ExitCode::FAILURE;
            }
        }
    };
    let merged = match crate::sessions::merge_settings(&existing, &ours) {
        Ok(merged) => merged,
        Err(why) => {
            eprintln!("execdash hooks: {}: {why}: nothing changed", path.display());
            return ExitCode::FAILURE;
        }
    };
    let after = serde_json::to_string_pretty(&merged).expect("JSON") + "\n";
    let before_pretty = if existing.is_null() {
        String::new()
    } else {
        serde_json::to_string_pretty(&existing).expect("JSON") + "\n"
    };
    if before_pretty == after {
        println!(
            "{} already sends its hooks here: nothing to change",
            path.display()
        );
        return ExitCode::SUCCESS;
    }
    let name = path.display().to_string();
    print!(
        "{}",
        similar::TextDiff::from_lines(&before_pretty, &after)
            .unified_diff()
            .header(&name, &name)
    );
    if !args.yes {
        println!("(not written: run again with --yes to write {name})");
        return ExitCode::SUCCESS;
    }
    let written = std::fs::create_dir_all(path.parent().expect("a folder")).and_then(|_| {
        let temporary = path.with_extension("json.execdash-tmp");
        std::fs::write(&temporary, &after)?;
        std::fs::rename(&temporary, &path)
    });
    match written {
        Ok(()) => {
            println!("written: {name}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("execdash hooks: cannot write {name}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `execdash import FILE`: with a progress bar on standard error.
fn import(args: ImportArgs) -> ExitCode {
    let db = args.db.unwrap_or_else(|| args.root.join("telemetry.db"));
    let Some(file) = args.file else {
        return import_agent_logs(&db, &args.root);
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async {
        let telemetry = crate::telemetry::Telemetry::open(&db)
            .await
            .map_err(|e| e.to_string())?;
        let report = crate::telemetry::import_jsonl(&telemetry, &file, progress_bar)
            .await
            .map_err(|e| e.to_string())?;
        telemetry.close().await;
        Ok::<_, String>(report)
    });
    eprintln!();
    match result {
        Ok(report) => {
            for error in &report.errors {
                eprintln!("line {}: {}", error.line, error.message);
            }
            println!(
                "{} lines: {} inserted, {} already there, {} conflicting, {} skipped, {} bad",
                report.lines,
                report.inserted,
                report.duplicates,
                report.conflicts,
                report.skipped,
                report.bad_lines
            );
            if report.bad_lines > 0 || report.conflicts > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("execdash import: {message}");
            ExitCode::FAILURE
        }
    }
}

fn seed_demo(args: SeedDemoArgs) -> ExitCode {
    let db = args.db.unwrap_or_else(|| args.root.join("telemetry.db"));
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(super::demo::seed(&args.root, &db, args.count)) {
        Ok(inserted) => {
            println!("{inserted} demo invocations written to {}", db.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("execdash seed-demo: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Conflicts listed by id at most; the others are counted.
const CONFLICTS_LISTED: usize = 20;

fn migrate(args: MigrateArgs) -> ExitCode {
    let repo = args
        .repo
        .or_else(|| crate::telemetry::default_repository(&args.from))
        .unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(crate::telemetry::migrate(
        &args.from,
        &args.to,
        &repo,
        args.batch.max(1),
        |done, total| progress(done, total, "rows"),
    ));
    eprintln!();
    match result {
        Ok(report) => {
            println!(
                "{} rows in the file: {} copied now ({} in all), {} already there, {} conflicting",
                report.rows,
                report.copied_now,
                report.copied,
                report.duplicates,
                report.conflicts.len()
            );
            for id in report.conflicts.iter().take(CONFLICTS_LISTED) {
                println!("conflict: {id} is in PostgreSQL with other content (kept as it is)");
            }
            if report.conflicts.len() > CONFLICTS_LISTED {
                println!(
                    "and {} more (every conflicting id is in the table migration_conflicts)",
                    report.conflicts.len() - CONFLICTS_LISTED
                );
            }
            println!(
                "repository: {} (the file's rows are stored as it; {} stored without one were given it now)",
                report.repo, report.attributed
            );
            if !report.repo_published {
                println!(
                    "note: no node publishes a repository named {:?} yet: /api/repos shows this cost under it once one does (serve --repo-name {:?}), or run again with --repo NAME",
                    report.repo, report.repo
                );
            }
            println!(
                "check: {} of {} rows found in PostgreSQL; cost ${:.6} in the file, ${:.6} stored",
                report.rows - report.missing,
                report.rows,
                report.cost_in_file,
                report.cost_in_store
            );
            if report.is_complete() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(err) => {
            eprintln!("execdash migrate: {err}");
            ExitCode::FAILURE
        }
    }
}

fn progress_bar(done: u64, total: u64) {
    progress(done, total, "bytes");
}

fn progress(done: u64, total: u64, unit: &str) {
    let ratio = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let filled = (ratio * 30.0).round() as usize;
    eprint!(
        "\r[{}{}] {:>5.1}%  {done}/{total} {unit}",
        "#".repeat(filled),
        " ".repeat(30 - filled.min(30)),
        ratio * 100.0
    );
}

/// `Leptos.toml` in the working directory (if any) overlaid with `LEPTOS_*` variables.
fn leptos_site_options() -> Option<leptos::config::LeptosOptions> {
    let file = std::path::Path::new("Leptos.toml");
    let path = file.exists().then_some("Leptos.toml");
    leptos::config::get_configuration(path)
        .ok()
        .map(|c| c.leptos_options)
}

/// A release install ships the site next to the binary as `site/`.
fn site_beside_binary() -> Option<PathBuf> {
    let dir = std::env::current_exe().ok()?.parent()?.join("site");
    dir.join("pkg").is_dir().then_some(dir)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("EXECDASH_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    // Colour only on a terminal: a file or journald gets plain text.
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}
