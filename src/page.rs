//! The dashboard page, rendered on the server with the board's current data.

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::Response;

use crate::server::AppState;

pub async fn dashboard(State(state): State<AppState>, request: Request<Body>) -> Response {
    let snapshot = state.store.snapshot();
    let assets = state.assets.clone();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let render = leptos_axum::render_app_to_stream_with_context(
        || {},
        move || app::shell(snapshot.clone(), assets.clone(), now_ms),
    );
    render(request).await
}
