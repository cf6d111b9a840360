use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::server::AppState;

pub async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "service": "execdash",
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "seq": state.store.seq(),
        "clients": state.store.subscribers(),
        "timestamp": super::now_iso(),
    }))
}
