//! Puts the pieces together: store + watcher, the HTTP/WebSocket router, graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use app::AssetVersion;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{middleware, Router};
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::origin::OriginPolicy;
use crate::store::{SharedStore, Store};
use crate::telemetry::{self, Telemetry};
use crate::watcher::{self, WatchError, WatcherHandle};
use crate::{api, assets, cost_feed, page, write_guard, ws};

/// Request bodies are refused past this size.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The Content-Security-Policy: only this origin's scripts (plus, on the page, Leptos's inline
/// scripts carrying the response's nonce), WASM allowed, no framing.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let inline = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{inline} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[derive(Clone)]
pub struct AppState {
    pub store: SharedStore,
    pub assets: AssetVersion,
    pub origins: Arc<OriginPolicy>,
    pub started: Instant,
    pub shutdown: watch::Receiver<bool>,
    /// `None` when the telemetry database cannot be opened (the board works without it).
    pub telemetry: Option<Telemetry>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A server that is listening.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub store: SharedStore,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    cost_feed: Option<tokio::task::JoinHandle<()>>,
    _watcher: WatcherHandle,
}

impl RunningServer {
    /// Closes the sockets, finishes the requests in flight and stops.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.shutdown.send(true);
        if let Some(feed) = self.cost_feed {
            let _ = feed.await;
        }
        self.task.await.map_err(std::io::Error::other)??;
        Ok(())
    }
}

/// Scans the board, starts the watcher and listens. Returns once the socket is bound.
pub async fn start(config: Config) -> Result<RunningServer, ServeError> {
    // Leptos spawns its rendering tasks through this (an error only means it is set already).
    let _ = any_spawner::Executor::init_tokio();
    let store = Arc::new(Store::new());
    store.set_budgets(config.budgets);
    let telemetry = match Telemetry::open(&config.db).await {
        Ok(telemetry) => {
            cost_feed::refresh(&telemetry, &store).await;
            Some(telemetry)
        }
        Err(err) => {
            tracing::error!("telemetry unavailable ({}): {err}", config.db.display());
            None
        }
    };
    let collab = config.collaboration_dir();
    let watcher = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || watcher::start(collab, store))
            .await
            .map_err(std::io::Error::other)??
    };
    let (shutdown_sender, shutdown) = watch::channel(false);
    let state = AppState {
        store: store.clone(),
        assets: assets::version_of(&config.site_root),
        origins: Arc::new(OriginPolicy::new(&config.allowed_origins)),
        started: Instant::now(),
        shutdown: shutdown.clone(),
        telemetry: telemetry.clone(),
    };
    let cost_feed = telemetry.map(|t| cost_feed::spawn(t, store.clone(), shutdown));
    let app = router(state, &config.site_root);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|err| ServeError::Bind(config.addr, err))?;
    let addr = listener.local_addr()?;
    // Events are small messages: send them at once (no Nagle delay waiting for an ACK).
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {err}");
        }
    });
    let mut stopping = shutdown_sender.subscribe();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
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
        _watcher: watcher,
    })
}

/// Runs until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let root = config.root.display().to_string();
    let server = start(config).await?;
    tracing::info!("execdash on http://{} (watching {root})", server.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await
}

pub fn router(state: AppState, site_root: &Path) -> Router {
    let csp = HeaderValue::from_str(&content_security_policy(None)).expect("valid CSP");
    let security_headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ];
    let origins = state.origins.clone();
    let telemetry_routes = match state.telemetry.clone() {
        Some(telemetry) => Router::new()
            .route("/api/invocations", post(telemetry::http::post_invocations))
            .route("/api/costs", get(telemetry::http::get_costs))
            .with_state(telemetry),
        None => Router::new()
            .route("/api/invocations", post(api::telemetry_unavailable))
            .route("/api/costs", get(api::telemetry_unavailable)),
    };
    let mut router = Router::new()
        .route("/", get(page::dashboard))
        .route("/ws", get(ws::upgrade))
        .merge(telemetry_routes)
        .merge(api::routes())
        .fallback_service(ServeDir::new(site_root))
        .layer(middleware::from_fn(assets::cache_headers))
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            origins,
            write_guard::check_origin_on_writes,
        ))
        .with_state(state);
    router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        csp,
    ));
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
