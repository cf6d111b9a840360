//! Which names the server answers to and which web origins may talk to it.
//!
//! * **Host**: every request (the socket upgrade included) must name a host the server is known
//!   by: `localhost`, `127.0.0.1` or `[::1]` at the listening port, the bind address itself, or the
//!   host of a configured public URL. Anything else is refused with 421 before any route runs, so
//!   a web page on a domain that rebinds to 127.0.0.1 reads nothing.
//! * **Origin**: writes and the socket accept a browser `Origin` only when it is the origin of a
//!   public URL, a loopback origin at the listening port, or one of `--allowed-origins`. It is
//!   never compared with the request's own `Host`. Requests without `Origin` (curl, agents) pass.
//! * **CORS**: exactly the `--allowed-origins` may read the API from their pages (tower-http's
//!   `CorsLayer`); never a wildcard, no credentials (cross-origin callers send a bearer token).
//!
//! Behind a proxy the public URL is configured, never guessed from `X-Forwarded-*`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::Error;
use crate::runtime::PublicUrl;

/// The names and origins the server accepts.
#[derive(Clone, Debug, Default)]
pub(super) struct AccessPolicy {
    /// `Host` header values, lowercase (`host:port`, or `host` for a default port).
    hosts: Vec<String>,
    /// Origins whose pages may write and open the socket (`scheme://host[:port]`).
    origins: Vec<String>,
    /// Origins allowed cross-origin reads (CORS): `--allowed-origins`.
    cors: Vec<String>,
}

impl AccessPolicy {
    /// Loopback names at the listening port, the bind address, the public URLs, and the extra
    /// origins allowed to call the API.
    pub(super) fn new(
        bound: SocketAddr,
        public_urls: &[PublicUrl],
        allowed_origins: &[String],
    ) -> AccessPolicy {
        let port = bound.port();
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|name| format!("{name}:{port}"))
            .collect();
        let ip = bound.ip();
        if !ip.is_unspecified() && !ip.is_loopback() {
            hosts.push(bound.to_string());
        }
        let mut origins: Vec<String> = hosts.iter().map(|h| format!("http://{h}")).collect();
        for url in public_urls {
            hosts.push(url.host.clone());
            // A client may name the default port (`Host: dash.example.com:443`).
            let has_port = if url.host.starts_with('[') {
                url.host.contains("]:")
            } else {
                url.host.contains(':')
            };
            if !has_port {
                let port = if url.https { 443 } else { 80 };
                hosts.push(format!("{}:{port}", url.host));
            }
            origins.push(url.origin.clone());
        }
        let cors: Vec<String> = allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        origins.extend(cors.iter().cloned());
        AccessPolicy {
            hosts,
            origins,
            cors,
        }
    }

    /// `Err` with the reason when the `Host` header names no host of this server.
    fn check_host(&self, headers: &HeaderMap) -> Result<(), String> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| "the request has no valid Host header".to_owned())?;
        if self.hosts.contains(&host) {
            Ok(())
        } else {
            Err(format!(
                "this server does not answer to the host '{host}' (start it with --public-url for the address users type)"
            ))
        }
    }

    /// `Err` with the reason when the request's `Origin` is not allowed.
    pub(super) fn check_origin(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .map_err(|_| "the Origin header is not valid text".to_owned())?
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if self.origins.contains(&origin) {
            Ok(())
        } else {
            Err(format!(
                "origin {origin} is not allowed (allow it with --public-url or --allowed-origins)"
            ))
        }
    }

    /// CORS for exactly the `--allowed-origins` (none: no CORS headers at all).
    pub(super) fn cors_layer(&self) -> CorsLayer {
        let origins: Vec<HeaderValue> = self
            .cors
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PATCH])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .max_age(std::time::Duration::from_secs(600))
    }
}

/// 421 for a request to a host the server does not answer to (DNS rebinding, a wrong proxy).
pub(super) async fn check_host(
    State(policy): State<Arc<AccessPolicy>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if let Err(reason) = policy.check_host(request.headers()) {
        tracing::warn!(
            "refused {} {}: {reason}",
            request.method(),
            request.uri().path()
        );
        return Error::MisdirectedRequest(reason).into_response();
    }
    next.run(request).await
}

/// Every write (any method but GET, HEAD, OPTIONS) must come from an allowed origin: a web page
/// the user happens to visit cannot post to the dashboard.
pub(super) async fn check_origin_on_writes(
    State(policy): State<Arc<AccessPolicy>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        if let Err(reason) = policy.check_origin(request.headers()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        headers
    }

    fn policy() -> AccessPolicy {
        AccessPolicy::new(
            "127.0.0.1:3000".parse().unwrap(),
            &[PublicUrl::parse("https://Dash.Example.com/dashboard").unwrap()],
            &["https://tools.example.org/".into()],
        )
    }

    #[test]
    fn hosts_are_loopback_names_at_the_port_and_the_public_urls() {
        let policy = policy();
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "[::1]:3000",
            "dash.example.com",
            "dash.example.com:443",
        ] {
            assert!(
                policy.check_host(&headers(&[("host", host)])).is_ok(),
                "{host}"
            );
        }
        for host in [
            "evil.example:3000",
            "127.0.0.1:3001",
            "dash.example.com.evil",
            "dash.example.com:80",
            "dash.example.com:8443",
            "tools.example.org",
        ] {
            let refused = policy.check_host(&headers(&[("host", host)]));
            assert!(refused.unwrap_err().contains("--public-url"), "{host}");
        }
        assert!(policy.check_host(&HeaderMap::new()).is_err());
    }

    #[test]
    fn origins_are_compared_with_the_configuration_never_with_the_host() {
        let policy = policy();
        for origin in [
            "http://127.0.0.1:3000",
            "https://dash.example.com",
            "https://tools.example.org",
        ] {
            assert!(policy.check_origin(&headers(&[("origin", origin)])).is_ok());
        }
        // A rebinding page: its Origin equals its Host, and neither is ours.
        let rebound = headers(&[
            ("host", "evil.example:3000"),
            ("origin", "http://evil.example:3000"),
        ]);
        assert!(policy.check_origin(&rebound).is_err());
        assert!(policy
            .check_origin(&headers(&[("origin", "http://127.0.0.1:3000.evil")]))
            .is_err());
        assert!(policy.check_origin(&HeaderMap::new()).is_ok(), "curl");
    }

    #[test]
    fn a_bind_on_a_lan_address_answers_to_it() {
        let policy = AccessPolicy::new("192.0.2.7:3000".parse().unwrap(), &[], &[]);
        assert!(policy
            .check_host(&headers(&[("host", "192.0.2.7:3000")]))
            .is_ok());
        let any = AccessPolicy::new("0.0.0.0:3000".parse().unwrap(), &[], &[]);
        assert!(any
            .check_host(&headers(&[("host", "0.0.0.0:3000")]))
            .is_err());
    }
}
