//! Headers every response carries: a Content-Security-Policy (the page replaces it with one that
//! also allows Leptos's inline scripts by the response's nonce) and the usual hardening headers.
//! Who may call the server is decided in `access` (Host, Origin, CORS) and `auth` (the token).

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy: only this origin's scripts (plus, on the page, Leptos's inline
/// scripts carrying the response's nonce), WASM allowed, no framing. In development the page may
/// also connect to cargo-leptos's reload socket on `live_reload`.
pub(super) fn content_security_policy(nonce: Option<&str>, live_reload: Option<u16>) -> String {
    let inline = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let reload = live_reload
        .map(|port| format!(" ws://*:{port} wss://*:{port}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{inline} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'{reload}; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The CSP (unless the page set its own, with a nonce) and the hardening headers on every
/// response.
pub(super) fn with_security_headers<S: Clone + Send + Sync + 'static>(
    mut router: Router<S>,
) -> Router<S> {
    let csp = HeaderValue::from_str(&content_security_policy(None, None)).expect("valid CSP");
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
