//! Every write (any method but GET, HEAD, OPTIONS) must come from an allowed origin: a web page
//! the user happens to visit cannot post to the dashboard.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;
use crate::origin::OriginPolicy;

pub async fn check_origin_on_writes(
    State(policy): State<Arc<OriginPolicy>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        if let Err(reason) = policy.check(request.headers()) {
            tracing::warn!(
                "refused a {} {}: {reason}",
                request.method(),
                request.uri().path()
            );
            return ApiError::Forbidden(reason).into_response();
        }
    }
    next.run(request).await
}
