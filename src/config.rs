//! Settings of a running server, resolved from flags, `EXECDASH_*` variables and `Leptos.toml`.

use std::net::SocketAddr;
use std::path::PathBuf;

use app::model::Budgets;

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The repository whose `work/collaboration` is watched.
    pub root: PathBuf,
    /// The telemetry database.
    pub db: PathBuf,
    pub addr: SocketAddr,
    /// The built site (`pkg/` with the WASM, JS and CSS, and the public files).
    pub site_root: PathBuf,
    /// Origins allowed besides the server's own (e.g. a reverse proxy's public URL).
    pub allowed_origins: Vec<String>,
    /// Daily and monthly spending limits (USD).
    pub budgets: Budgets,
}
