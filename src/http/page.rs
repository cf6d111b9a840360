//! The dashboard page, rendered on the server with the board's current data.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;

use super::security::content_security_policy;
use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

async fn dashboard(State(state): State<AppState>, request: Request<Body>) -> Response {
    let snapshot = state.board.snapshot();
    let assets = state.assets.clone();
    let base = state.base_path.clone();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let live_reload = state.live_reload;
    // Leptos marks its few inline scripts with a per-response nonce; the CSP allows that nonce.
    let nonce = Arc::new(Mutex::new(None::<String>));
    let seen_nonce = nonce.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        move || *seen_nonce.lock() = leptos::nonce::use_nonce().map(|n| n.to_string()),
        move || {
            let page = app::Page {
                assets: assets.clone(),
                base: base.clone(),
                now_ms,
                live_reload,
            };
            app::shell(snapshot.clone(), page)
        },
    );
    let mut response = render(request).await;
    let policy = content_security_policy(nonce.lock().as_deref(), live_reload);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
