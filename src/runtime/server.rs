//! Puts the pieces together: the board (store + watcher), the telemetry database and its cost
//! feed, the MCP health checks, the HTTP router; listens, and stops gracefully on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::sync::watch;

use crate::board::{self, SharedStore, Store, WatchError, WatcherHandle};
use crate::feeds::CostFeed;
use crate::feeds::InitiativesFeed;
use crate::http;
use crate::mcp::{McpMonitor, MonitorTask};
use crate::runtime::Config;
use crate::telemetry::Telemetry;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Config(#[from] crate::runtime::ConfigError),
    #[error(transparent)]
    Prices(#[from] crate::invocations::PricesError),
}

/// A server that is listening.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub store: SharedStore,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    cost_feed: tokio::task::JoinHandle<()>,
    /// Publishes the board to the team's PostgreSQL (a `postgres://` database only).
    publisher: Option<tokio::task::JoinHandle<()>>,
    /// Follows the coding agents' transcripts (unless `--no-agent-logs`).
    agent_logs: Option<tokio::task::JoinHandle<()>>,
    /// The board's watcher (none on a viewer, which has no board of its own).
    _watcher: Option<WatcherHandle>,
    _initiatives_feed: Option<InitiativesFeed>,
    _mcp: MonitorTask,
}

impl RunningServer {
    /// Closes the sockets, finishes the requests in flight and stops.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.shutdown.send(true);
        let _ = self.cost_feed.await;
        if let Some(publisher) = self.publisher {
            let _ = publisher.await;
        }
        if let Some(agent_logs) = self.agent_logs {
            let _ = agent_logs.await;
        }
        self.task.await.map_err(std::io::Error::other)??;
        Ok(())
    }
}

/// Starts the server and returns once the board is scanned (what tests and tools want).
pub async fn start(config: Config) -> Result<RunningServer, ServeError> {
    let server = start_listening(config).await?;
    server.store.startup().finished().await;
    Ok(server)
}

/// Listens at once and scans the board meanwhile: `/health` says `starting` with the progress,
/// the socket delivers the tasks as they are read. Returns once the socket is bound.
pub async fn start_listening(config: Config) -> Result<RunningServer, ServeError> {
    config.validate()?;
    let prices = Arc::new(match &config.prices {
        Some(path) => crate::invocations::PriceTable::with_overrides(path)?,
        None => crate::invocations::PriceTable::read_embedded(),
    });
    tracing::info!(source = %prices.source, models = prices.len(), "model prices");
    let agent_prices = prices.clone();
    // Leptos spawns its rendering tasks through this (an error only means it is set already).
    let _ = any_spawner::Executor::init_tokio();
    let store = Arc::new(Store::new());
    store.set_budgets(config.budgets);
    // A database that cannot be opened is reported (health, stats) and tried again later.
    let telemetry = Telemetry::attach(config.db.clone()).await;
    let telemetry_for_team = telemetry.clone();
    let telemetry_for_agent_logs = telemetry.clone();
    let costs = CostFeed::new(telemetry.clone(), store.clone());
    let costs_for_agent_logs = costs.clone();
    costs.refresh().await;
    let mcp = McpMonitor::new(
        &config.root,
        config.mcp.clone(),
        store.clone(),
        telemetry.clone(),
    );
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|err| ServeError::Bind(config.addr, err))?;
    let addr = listener.local_addr()?;
    let (shutdown_sender, shutdown) = watch::channel(false);
    let sessions =
        crate::sessions::Tracker::new(store.clone(), telemetry.clone(), config.session_timing);
    sessions.spawn(shutdown.clone());
    let dashboard = config
        .public_urls
        .first()
        .map_or_else(|| format!("http://{addr}"), |url| url.origin.clone())
        + &config.base_path;
    let alerts = crate::alerts::Alerts::new(
        store.clone(),
        sessions.clone(),
        config
            .alert_webhooks
            .iter()
            .cloned()
            .map(|webhook| crate::runtime::Webhook {
                dashboard: dashboard.clone(),
                ..webhook
            })
            .collect(),
        config.alert_waiting_after,
        config.agent_budgets.clone(),
        (!config.viewer)
            .then_some(())
            .and(config.board_cache.as_deref())
            .map(|cache| crate::alerts::state_file(cache, &config.root)),
    );
    alerts.spawn(shutdown.clone());
    let app = http::router(
        &config,
        addr,
        http::Services {
            board: store.clone(),
            telemetry,
            costs: costs.clone(),
            mcp: mcp.clone(),
            prices,
            sessions,
            alerts,
        },
        shutdown.clone(),
    );
    let publisher = match config.db {
        crate::telemetry::Location::Postgres(_) if !config.viewer => {
            Some(tokio::spawn(crate::team::publish(
                telemetry_for_team,
                store.clone(),
                crate::team::Team::of(&config),
                shutdown.clone(),
            )))
        }
        _ => None,
    };
    let cost_feed = costs.spawn(shutdown);
    let watcher = if config.viewer {
        store.finish_startup();
        None
    } else {
        Some(board::watch_in_background(
            board::collaboration_dir(&config.root),
            store.clone(),
            config.board_cache.clone(),
        )?)
    };
    // A viewer has no specifications of its own (its working directory is no repository).
    let initiatives_feed =
        (!config.viewer).then(|| crate::feeds::watch_initiatives(&config.root, store.clone()));
    let agent_logs = (config.agent_logs && !config.viewer).then(|| {
        let transcripts = crate::agent_logs::transcripts_of(
            &config.root,
            crate::agent_logs::AgentHomes {
                claude: config
                    .claude_config_dirs
                    .clone()
                    .unwrap_or_else(crate::agent_logs::config_dirs),
                codex: config
                    .codex_homes
                    .clone()
                    .unwrap_or_else(crate::agent_logs::codex_homes),
            },
            agent_prices,
            config.board_cache.as_deref(),
        );
        let board = store.clone();
        let transcripts = transcripts
            .attributing(move |calls| crate::invocations::infer(&board, calls, chrono::Utc::now()));
        let costs = costs_for_agent_logs;
        let board = store.clone();
        let mut stop = shutdown_sender.subscribe();
        // After the board's first reading: a large backfill does not compete with the start
        // (and a stop meanwhile ends the task at once).
        tokio::spawn(async move {
            tokio::select! {
                _ = board.startup().finished() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            crate::agent_logs::follow(
                transcripts,
                telemetry_for_agent_logs,
                move || {
                    let costs = costs.clone();
                    Box::pin(async move { costs.after_write().await })
                },
                stop,
            )
            .await
        })
    });
    let mcp = mcp.spawn();
    let listener = listener.tap_io(tune_connection);
    let mut stopping = shutdown_sender.subscribe();
    let task = tokio::spawn(async move {
        // Not `serve(listener, app)`: that rebuilds every route and its layers for each
        // connection (~0.45 ms of CPU; BENCHMARKS.md 2026-12-03); this clones an `Arc`.
        axum::serve(listener, app.into_make_service())
            .with_graceful_shutdown(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        store,
        shutdown: shutdown_sender,
        task,
        cost_feed,
        publisher,
        agent_logs,
        _watcher: watcher,
        _initiatives_feed: initiatives_feed,
        _mcp: mcp,
    })
}

/// At most this much not yet sent may wait in the kernel for one connection (`TCP_NOTSENT_LOWAT`).
/// Without it the kernel lets the send buffer of a client that stopped reading grow to megabytes
/// (`tcp_wmem`), and a socket task keeps writing thousands of events into it: a thousand such
/// clients cost the server gigabytes of kernel memory and the CPU every other client waits on.
/// Data in flight is not limited by it, so a large answer streams as fast as before.
const NOT_SENT_LIMIT: u32 = 32 * 1024;

fn tune_connection(tcp: &mut tokio::net::TcpStream) {
    // Events are small messages: send them at once (no Nagle delay waiting for an ACK).
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY: {err}");
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(err) = socket2::SockRef::from(&*tcp).set_tcp_notsent_lowat(NOT_SENT_LIMIT) {
        tracing::debug!("cannot set TCP_NOTSENT_LOWAT: {err}");
    }
}

/// Runs until SIGINT or SIGTERM.
pub(crate) async fn serve(config: Config) -> Result<(), ServeError> {
    // A viewer has no root (its working directory is no repository): it shows the team's.
    let showing = if config.viewer {
        format!("a viewer of the repositories in {}", config.db)
    } else {
        format!("watching {}", config.root.display())
    };
    let config_base = config.base_path.clone();
    // Before anything else: a SIGTERM that comes while the server starts (a supervisor's stop,
    // a test's restart right after `/health` answered) must stop it gracefully, not kill it.
    let signals = ShutdownSignals::install()?;
    let server = start_listening(config).await?;
    tracing::info!(
        "execdash on http://{}{base}/ ({showing})",
        server.addr,
        base = config_base
    );
    signals.received().await;
    tracing::info!("shutting down");
    server.stop().await
}

/// SIGINT and SIGTERM, caught from the moment they are installed.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
