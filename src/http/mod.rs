//! Everything HTTP: one [`router`] made of one router per resource (each module's `router()`),
//! the page, the socket, the built assets and the security layers, sharing one state whose parts
//! handlers take through `FromRef`. Every error is the one [`Error`], sent as JSON.
//!
//! Depends on [`crate::board`] and [`crate::telemetry`]; nothing but [`crate::runtime::server`]
//! depends on it.

mod access;
mod agents;
mod alerts;
mod assets;
mod auth;
mod board;
mod charts;
mod connect;
mod costs;
mod details;
mod edits;
mod error;
mod export;
mod forecast;
mod health;
mod initiatives;
mod invocations;
mod mcp;
mod metrics;
mod otlp;
mod page;
mod problems;
mod repos;
mod security;
mod sessions;
mod socket;
mod specifications;
mod state;
mod stats;
mod tasks;
mod throughput;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::get;
use axum::{middleware, Router};
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub(crate) use assets::SITE_EMBEDDED;
pub(crate) use error::Error;
pub use metrics::SocketCounters;
pub use socket::serve as serve_socket;

use self::access::AccessPolicy;
use self::auth::Auth;
use self::state::AppState;
use crate::board::SharedStore;
use crate::feeds::CostFeed;
use crate::invocations::PriceTable;
use crate::mcp::McpMonitor;
use crate::runtime::Config;
use crate::telemetry::Telemetry;

/// Request bodies are refused past this size.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A request (not a socket: its upgrade answers at once) that takes longer gets a 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the routes serve: the parts the server started.
pub(crate) struct Services {
    pub(crate) board: SharedStore,
    pub(crate) telemetry: Telemetry,
    pub(crate) costs: Arc<CostFeed>,
    pub(crate) mcp: McpMonitor,
    pub(crate) prices: Arc<PriceTable>,
    pub(crate) sessions: Arc<crate::sessions::Tracker>,
    pub(crate) alerts: Arc<crate::alerts::Alerts>,
}

/// The whole application for a server listening on `bound`: pages, API, socket and assets under
/// the base path, behind the Host, CORS, token and Origin checks.
pub(crate) fn router(
    config: &Config,
    bound: SocketAddr,
    services: Services,
    shutdown: watch::Receiver<bool>,
) -> Router {
    let Services {
        board,
        telemetry,
        costs,
        mcp,
        prices,
        sessions,
        alerts,
    } = services;
    let access = Arc::new(AccessPolicy::new(
        bound,
        &config.public_urls,
        &config.allowed_origins,
    ));
    let secure_cookie = config.public_urls.iter().any(|url| url.https);
    let auth = Arc::new(Auth::new(
        config.token.clone(),
        &config.base_path,
        secure_cookie,
    ));
    let metrics = Arc::new(metrics::Metrics::new());
    let telemetry_for_mirrors = telemetry.clone();
    let costs_for_mirrors = costs.clone();
    let state = AppState {
        board,
        telemetry,
        costs,
        mcp,
        prices,
        sessions,
        alerts,
        endpoint: config
            .public_urls
            .first()
            .map_or_else(|| format!("http://{bound}"), |url| url.origin.clone())
            .into(),
        access: access.clone(),
        auth: auth.clone(),
        base_path: config.base_path.clone(),
        home: config.base_path.clone(),
        repo: None,
        assets: assets::version_of(config.site_root.as_deref()),
        lazy_modules: Arc::new(assets::LazyModules::of(config.site_root.as_deref())),
        live_reload: config.live_reload,
        metrics: metrics.clone(),
        started: Instant::now(),
        shutdown,
        files: Arc::new(state::TaskFiles::of(config)),
        team: Arc::new(crate::team::Team::of(config)),
        // Another repository's board shows the team's cost figures, as this node's does.
        mirrors: crate::team::Mirrors::new(telemetry_for_mirrors, move |board| {
            costs_for_mirrors.show_in(board)
        }),
        repo_sites: Default::default(),
    };
    // Layers run outermost (last added) first: Host, CORS, the count and time of requests (per
    // route: `Router::layer` wraps each route, so the route pattern is known), the token, the
    // Origin of writes.
    let site = routes()
        .merge(repos::pages_router())
        .merge(health::router())
        .merge(metrics::router())
        .merge(auth::router())
        .fallback_service(assets::service(config.site_root.as_deref()))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            page::not_found_page,
        ))
        .layer(middleware::from_fn(assets::asset_headers))
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            access.clone(),
            access::check_origin_on_writes,
        ))
        .layer(middleware::from_fn_with_state(auth, auth::require_token))
        .layer(middleware::from_fn_with_state(
            metrics,
            metrics::track_requests,
        ))
        .with_state(state);
    let site = if config.base_path.is_empty() {
        site
    } else {
        let base = config.base_path.clone();
        let home = format!("{base}/");
        Router::new()
            .route(
                &base,
                get(move || async move { Redirect::permanent(&home) }),
            )
            .nest(&format!("{base}/"), site)
    };
    let site = site
        .layer(access.cors_layer())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn_with_state(access, access::check_host))
        .layer(TraceLayer::new_for_http());
    security::with_security_headers(site)
}

/// The pages, the socket and the API over one board: this node's, or another repository's
/// (`/repos/{name}/…`, see [`repos::pages_router`]).
fn routes() -> Router<AppState> {
    Router::new()
        .merge(page::router())
        .merge(socket::router())
        .merge(api())
}

/// The JSON API (what the pages' data is read from, in the browser and while the server
/// renders them).
fn api() -> Router<AppState> {
    Router::new()
        .merge(tasks::router())
        .merge(repos::router())
        .merge(board::router())
        .merge(details::router())
        .merge(edits::router())
        .merge(specifications::router())
        .merge(initiatives::router())
        .merge(agents::router())
        .merge(throughput::router())
        .merge(mcp::router())
        .merge(export::router())
        .merge(stats::router())
        .merge(problems::router())
        .merge(invocations::router())
        .merge(costs::router())
        .merge(forecast::router())
        .merge(charts::router())
        .merge(otlp::router())
        .merge(connect::router())
        .merge(sessions::router())
        .merge(alerts::router())
        .route("/api/{*rest}", axum::routing::any(error::no_such_endpoint))
}

/// ISO 8601 UTC, for the `timestamp` fields.
fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
