//! The access token. Without one (the default on loopback) everything is open. With one, every
//! route but `/health` and the login page needs it: agents send `Authorization: Bearer TOKEN`,
//! browsers log in once through `GET/POST {base}/login`, which sets an `HttpOnly;
//! SameSite=Strict` cookie (`Secure` when a public URL is https); `POST {base}/logout` clears it.
//! Tokens are compared in constant time (`subtle`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{AppState, Error};

/// The cookie a browser keeps after logging in.
const COOKIE: &str = "execdash_session";

/// The configured token (if any) and how the cookie is set.
#[derive(Clone, Debug, Default)]
pub(super) struct Auth {
    token: Option<String>,
    base_path: String,
    secure_cookie: bool,
}

impl Auth {
    pub(super) fn new(token: Option<String>, base_path: &str, secure_cookie: bool) -> Auth {
        Auth {
            token,
            base_path: base_path.to_owned(),
            secure_cookie,
        }
    }

    /// Whether requests need the token.
    pub(super) fn required(&self) -> bool {
        self.token.is_some()
    }

    fn matches(&self, candidate: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|token| bool::from(token.as_bytes().ct_eq(candidate.as_bytes())))
    }

    /// Whether the request carries the token (bearer or cookie); always, without a token.
    fn admits(&self, headers: &HeaderMap) -> bool {
        if self.token.is_none() {
            return true;
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_some_and(|b| self.matches(b.trim())) {
            return true;
        }
        cookie(headers, COOKIE).is_some_and(|c| self.matches(c))
    }

    fn cookie(&self, value: &str, max_age: Option<u32>) -> HeaderValue {
        let path = if self.base_path.is_empty() {
            "/"
        } else {
            &self.base_path
        };
        let mut cookie = format!("{COOKIE}={value}; Path={path}; HttpOnly; SameSite=Strict");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure_cookie {
            cookie.push_str("; Secure");
        }
        HeaderValue::from_str(&cookie).expect("cookie is header text")
    }

    fn login_path(&self) -> String {
        format!("{}/login", self.base_path)
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
}

/// Lets a request through when it carries the token; otherwise a page request is sent to the
/// login form and anything else gets 401.
pub(super) async fn require_token(
    State(auth): State<Arc<Auth>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let open = path.ends_with("/health") || path.ends_with("/login");
    if open || auth.admits(request.headers()) {
        return next.run(request).await;
    }
    let wants_page = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_page && request.method() == axum::http::Method::GET {
        return Redirect::to(&auth.login_path()).into_response();
    }
    let mut response = Error::Unauthorized.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"execdash\""),
    );
    response
}

#[derive(Deserialize)]
struct LoginQuery {
    failed: Option<String>,
}

async fn login_page(State(auth): State<Arc<Auth>>, Query(query): Query<LoginQuery>) -> Response {
    if auth.token.is_none() {
        return Redirect::to(&format!("{}/", auth.base_path)).into_response();
    }
    let failed = if query.failed.is_some() {
        r#"<p class="failed" role="alert">That token is not right.</p>"#
    } else {
        ""
    };
    let action = html_escape(&auth.login_path());
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light"><title>Log in · execdash</title>
<style>body{{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0}}
form{{display:grid;gap:.75rem;min-width:18rem}}input,button{{font:inherit;padding:.5rem}}.failed{{color:#d33}}</style>
</head><body><form method="post" action="{action}"><h1>execdash</h1>{failed}
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button></form></body></html>"#
    ))
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn log_in(State(auth): State<Arc<Auth>>, Form(form): Form<LoginForm>) -> Response {
    if !auth.matches(form.token.trim()) {
        tracing::warn!("a login with a wrong token");
        return Redirect::to(&format!("{}?failed=1", auth.login_path())).into_response();
    }
    let mut response = Redirect::to(&format!("{}/", auth.base_path)).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, auth.cookie(form.token.trim(), None));
    response
}

async fn log_out(State(auth): State<Arc<Auth>>) -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, auth.login_path())],
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, auth.cookie("", Some(0)));
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_token_comes_as_a_bearer_or_a_cookie() {
        let auth = Auth::new(Some("s3cret-token-value".into()), "/dashboard", true);
        assert!(auth.admits(&headers(header::AUTHORIZATION, "Bearer s3cret-token-value")));
        assert!(auth.admits(&headers(
            header::COOKIE,
            "theme=dark; execdash_session=s3cret-token-value"
        )));
        assert!(!auth.admits(&headers(header::AUTHORIZATION, "Bearer s3cret-token-valuX")));
        assert!(!auth.admits(&headers(header::AUTHORIZATION, "Bearer s3cret")));
        assert!(!auth.admits(&headers(header::COOKIE, "execdash_session=")));
        assert!(!auth.admits(&HeaderMap::new()));
        assert!(Auth::default().admits(&HeaderMap::new()), "no token: open");
        let cookie = auth.cookie("x", None);
        let cookie = cookie.to_str().unwrap();
        for part in ["Path=/dashboard", "HttpOnly", "SameSite=Strict", "Secure"] {
            assert!(cookie.contains(part), "{cookie}");
        }
    }
}
