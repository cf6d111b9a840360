//! Who may do what: the socket and every write accept only the dashboard's own origin (or
//! origins allowed by configuration); every response carries a Content-Security-Policy and the
//! usual hardening headers. Requests without `Origin` (curl, scripts) pass: browsers always send
//! it on WebSocket handshakes and cross-site writes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use super::Error;

#[derive(Clone, Debug, Default)]
pub(super) struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    pub(super) fn new(allowed: &[String]) -> OriginPolicy {
        OriginPolicy {
            allowed: allowed
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }

    /// `Err` with the reason when the request's `Origin` is not allowed.
    pub(super) fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .map_err(|_| "the Origin header is not valid text".to_owned())?
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if self.allowed.contains(&origin) {
            return Ok(());
        }
        let origin_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        let hosts = [header::HOST.as_str(), "x-forwarded-host"];
        let same_host = hosts.iter().any(|name| {
            headers
                .get(*name)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
        });
        if same_host {
            Ok(())
        } else {
            Err(format!(
                "origin {origin} is not allowed (allow it with --allowed-origins)"
            ))
        }
    }
}

/// Every write (any method but GET, HEAD, OPTIONS) must come from an allowed origin: a web page
/// the user happens to visit cannot post to the dashboard.
pub(super) async fn check_origin_on_writes(
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
            return Error::Forbidden(reason).into_response();
        }
    }
    next.run(request).await
}

/// The Content-Security-Policy: only this origin's scripts (plus, on the page, Leptos's inline
/// scripts carrying the response's nonce), WASM allowed, no framing.
pub(super) fn content_security_policy(nonce: Option<&str>) -> String {
    let inline = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{inline} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The CSP (unless the page set its own, with a nonce) and the hardening headers on every
/// response.
pub(super) fn with_security_headers<S: Clone + Send + Sync + 'static>(
    mut router: Router<S>,
) -> Router<S> {
    let csp = HeaderValue::from_str(&content_security_policy(None)).expect("valid CSP");
    router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        csp,
    ));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ] {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("host", host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert("origin", origin.parse().unwrap());
        }
        headers
    }

    #[test]
    fn same_origin_and_configured_origins_pass() {
        let policy = OriginPolicy::new(&["https://dash.example.com/".into()]);
        assert!(policy
            .check(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000"))
            .is_ok());
        assert!(policy.check(&headers(None, "127.0.0.1:3000")).is_ok());
        assert!(policy
            .check(&headers(Some("https://dash.example.com"), "127.0.0.1:3000"))
            .is_ok());
        let refused = policy.check(&headers(Some("http://evil.example"), "127.0.0.1:3000"));
        assert!(refused.unwrap_err().contains("evil.example"));
        assert!(policy
            .check(&headers(
                Some("http://127.0.0.1:3000.evil"),
                "127.0.0.1:3000"
            ))
            .is_err());
    }
}
