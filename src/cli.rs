//! The command line: `execdash [serve] [--root DIR] [--db FILE] [--addr IP:PORT]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "execdash", version, about = "Real-time execution dashboard for AI coding agents")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the dashboard (the default).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Repository whose work/collaboration folder is watched.
    #[arg(long, env = "EXECDASH_ROOT", default_value = ".")]
    root: PathBuf,
    /// Telemetry database [default: <root>/telemetry.db].
    #[arg(long, env = "EXECDASH_DB")]
    db: Option<PathBuf>,
    /// Address to listen on [default: LEPTOS_SITE_ADDR, else 127.0.0.1:3000].
    #[arg(long, env = "EXECDASH_ADDR")]
    addr: Option<SocketAddr>,
    /// Folder of the built site (pkg/, public files) [default: site/ beside the binary, else
    /// LEPTOS_SITE_ROOT or Leptos.toml's site-root].
    #[arg(long, env = "EXECDASH_SITE_ROOT")]
    site_root: Option<PathBuf>,
    /// Extra origins allowed to open the socket and write (comma-separated), e.g. the public
    /// URL of a reverse proxy.
    #[arg(long, env = "EXECDASH_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
}

pub fn run() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    let config = match resolve(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("execdash: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(crate::server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("execdash: {err}");
            ExitCode::FAILURE
        }
    }
}

fn resolve(args: ServeArgs) -> Result<Config, String> {
    let leptos = leptos_site_options();
    let root = args.root;
    if !root.is_dir() {
        return Err(format!("--root {}: not a directory", root.display()));
    }
    let addr = args
        .addr
        .or(leptos.as_ref().map(|o| o.site_addr))
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
    let site_root = args
        .site_root
        .or_else(site_beside_binary)
        .or_else(|| leptos.as_ref().map(|o| PathBuf::from(o.site_root.as_ref())))
        .unwrap_or_else(|| PathBuf::from("target/site"));
    Ok(Config {
        db: args.db.unwrap_or_else(|| root.join("telemetry.db")),
        root,
        addr,
        site_root,
        allowed_origins: args.allowed_origins,
    })
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
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
