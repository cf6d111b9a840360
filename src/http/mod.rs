//! Everything HTTP: one [`router`] made of one router per resource (each module's `router()`),
//! the page, the socket, the built assets and the security layers, sharing one state whose parts
//! handlers take through `FromRef`. Every error is the one [`Error`], sent as JSON.
//!
//! Depends on [`crate::board`] and [`crate::telemetry`]; nothing but [`crate::server`] depends
//! on it.

mod assets;
mod costs;
mod error;
mod health;
mod invocations;
mod page;
mod problems;
mod security;
mod socket;
mod state;
mod stats;
mod tasks;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

pub(crate) use error::Error;
pub use socket::serve as serve_socket;

use self::security::OriginPolicy;
use self::state::AppState;
use crate::board::SharedStore;
use crate::config::Config;
use crate::telemetry::Telemetry;

/// Request bodies are refused past this size.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole application: pages, API, socket and assets, with the security layers.
pub(crate) fn router(
    config: &Config,
    board: SharedStore,
    telemetry: Option<Telemetry>,
    shutdown: watch::Receiver<bool>,
) -> Router {
    let origins = Arc::new(OriginPolicy::new(&config.allowed_origins));
    let state = AppState {
        board,
        telemetry,
        origins: origins.clone(),
        assets: assets::version_of(&config.site_root),
        started: Instant::now(),
        shutdown,
    };
    let api = Router::new()
        .merge(tasks::router())
        .merge(stats::router())
        .merge(problems::router())
        .merge(invocations::router())
        .merge(costs::router())
        .route("/api/{*rest}", axum::routing::any(error::no_such_endpoint));
    let router = Router::new()
        .merge(page::router())
        .merge(socket::router())
        .merge(health::router())
        .merge(api)
        .fallback_service(ServeDir::new(&config.site_root))
        .layer(middleware::from_fn(assets::cache_headers))
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            origins,
            security::check_origin_on_writes,
        ))
        .with_state(state);
    security::with_security_headers(router)
}

/// ISO 8601 UTC, for the `timestamp` fields.
fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
