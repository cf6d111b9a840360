//! The access token. Without one (the default on loopback) everything is open. With one, every
//! route but `/health`, the login page and the icon needs it: agents send `Authorization: Bearer
//! TOKEN` (the scheme in any case), browsers log in once through `GET/POST {base}/login`, which
//! starts a session: a random id in an `HttpOnly; SameSite=Strict` cookie (`Secure` when a public
//! URL is https), kept on the server — never the token itself, so a copied cookie dies with
//! `POST {base}/logout` (or after [`SESSION_DAYS`], or a restart). A page asked for before logging
//! in is where the login leads back to. Tokens are compared in constant time (`subtle`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use parking_lot::Mutex;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{AppState, Error};

/// The cookie a browser keeps after logging in.
const COOKIE: &str = "execdash_session";
/// How long a session lasts.
const SESSION_DAYS: u64 = 30;
/// Sessions kept at most (the oldest goes first).
const MAX_SESSIONS: usize = 10_000;

/// What a request carries.
#[derive(Debug, PartialEq, Eq)]
enum Credentials {
    /// The token, or a live session (or no token is configured).
    Admitted,
    /// Nothing.
    Missing,
    /// A token that is not it, or a session that ended.
    Wrong,
}

/// The configured token (if any), the live sessions and how the cookie is set.
#[derive(Debug, Default)]
pub(super) struct Auth {
    token: Option<String>,
    base_path: String,
    secure_cookie: bool,
    /// Session id → when it ends.
    sessions: Mutex<HashMap<String, Instant>>,
}

impl Auth {
    pub(super) fn new(token: Option<String>, base_path: &str, secure_cookie: bool) -> Auth {
        Auth {
            token,
            base_path: base_path.to_owned(),
            secure_cookie,
            sessions: Mutex::default(),
        }
    }

    /// Whether `headers` carry the token or a live session (always, without a token).
    pub(super) fn admits(&self, headers: &HeaderMap) -> bool {
        self.credentials(headers) == Credentials::Admitted
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

    fn credentials(&self, headers: &HeaderMap) -> Credentials {
        if self.token.is_none() {
            return Credentials::Admitted;
        }
        // RFC 9110: the scheme is case-insensitive.
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let session = cookie(headers, COOKIE).filter(|s| !s.is_empty());
        if bearer.is_some_and(|b| self.matches(b)) || session.is_some_and(|s| self.is_session(s)) {
            Credentials::Admitted
        } else if bearer.is_some() || session.is_some() {
            Credentials::Wrong
        } else {
            Credentials::Missing
        }
    }

    fn is_session(&self, id: &str) -> bool {
        let mut sessions = self.sessions.lock();
        match sessions.get(id) {
            Some(ends) if *ends > Instant::now() => true,
            Some(_) => {
                sessions.remove(id);
                false
            }
            None => false,
        }
    }

    /// A new session's id.
    fn start_session(&self) -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the system's random source");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut sessions = self.sessions.lock();
        let now = Instant::now();
        sessions.retain(|_, ends| *ends > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, ends)| **ends)
                .map(|(id, _)| id.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(id.clone(), now + Duration::from_secs(SESSION_DAYS * 86_400));
        id
    }

    fn end_session(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            self.sessions.lock().remove(id);
        }
    }

    fn cookie(&self, value: &str, max_age: Option<u64>) -> HeaderValue {
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

    /// Where a login leads: `next` when it is a page of this dashboard, else its board.
    fn after_login(&self, next: Option<&str>) -> String {
        let home = format!("{}/", self.base_path);
        match next {
            Some(next)
                if next.starts_with(&home)
                    && !next.starts_with("//")
                    && !next.contains(['\\', '\r', '\n'])
                    && !next.starts_with(&self.login_path()) =>
            {
                next.to_owned()
            }
            _ => home,
        }
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

/// Lets a request through when it carries the token or a session; otherwise a page request is
/// sent to the login form (which leads back to it) and anything else gets 401, saying whether
/// the token was missing or wrong.
pub(super) async fn require_token(
    State(auth): State<Arc<Auth>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let open = path.ends_with("/health")
        || path.ends_with("/login")
        || path.ends_with("/favicon.svg")
        || path.ends_with("/favicon.ico");
    let credentials = auth.credentials(request.headers());
    if open || credentials == Credentials::Admitted {
        return next.run(request).await;
    }
    let wants_page = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_page && request.method() == axum::http::Method::GET {
        // The nested router sees the path without the base: put it back.
        let asked = format!(
            "{}{}",
            auth.base_path,
            request.uri().path_and_query().map_or("/", |p| p.as_str())
        );
        let to = if asked == format!("{}/", auth.base_path) {
            auth.login_path()
        } else {
            format!(
                "{}?next={}",
                auth.login_path(),
                percent_encoding::utf8_percent_encode(&asked, percent_encoding::NON_ALPHANUMERIC)
            )
        };
        return Redirect::to(&to).into_response();
    }
    let error = match credentials {
        Credentials::Wrong => Error::WrongToken,
        _ => Error::Unauthorized,
    };
    let mut response = error.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"execdash\""),
    );
    response
}

#[derive(Deserialize)]
struct LoginQuery {
    failed: Option<String>,
    next: Option<String>,
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
    let next = html_escape(&auth.after_login(query.next.as_deref()));
    let icon = html_escape(&format!("{}/favicon.svg", auth.base_path));
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light"><title>Log in · execdash</title>
<link rel="icon" href="{icon}" type="image/svg+xml">
<style>body{{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0}}
form{{display:grid;gap:.75rem;min-width:18rem}}input,button{{font:inherit;padding:.5rem}}.failed{{color:#d33}}</style>
</head><body><form method="post" action="{action}"><h1>execdash</h1>{failed}
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{next}">
<button type="submit">Log in</button></form></body></html>"#
    ))
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

async fn log_in(State(auth): State<Arc<Auth>>, Form(form): Form<LoginForm>) -> Response {
    if !auth.matches(form.token.trim()) {
        tracing::warn!("a login with a wrong token");
        let next = form
            .next
            .as_deref()
            .map(|n| {
                format!(
                    "&next={}",
                    percent_encoding::utf8_percent_encode(n, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .unwrap_or_default();
        return Redirect::to(&format!("{}?failed=1{next}", auth.login_path())).into_response();
    }
    let session = auth.start_session();
    let mut response = Redirect::to(&auth.after_login(form.next.as_deref())).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        auth.cookie(&session, Some(SESSION_DAYS * 86_400)),
    );
    response
}

async fn log_out(State(auth): State<Arc<Auth>>, headers: HeaderMap) -> Response {
    auth.end_session(&headers);
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
    fn the_token_comes_as_a_bearer_in_any_case_or_a_session_never_the_token_in_a_cookie() {
        let auth = Auth::new(Some("s3cret-token-value".into()), "/dashboard", true);
        let admitted = |name, value: &str| auth.credentials(&headers(name, value));
        for bearer in [
            "Bearer s3cret-token-value",
            "bearer s3cret-token-value",
            "BEARER  s3cret-token-value",
        ] {
            assert_eq!(
                admitted(header::AUTHORIZATION, bearer),
                Credentials::Admitted,
                "{bearer}"
            );
        }
        assert_eq!(
            admitted(
                header::COOKIE,
                "theme=dark; execdash_session=s3cret-token-value"
            ),
            Credentials::Wrong,
            "the token itself is no session"
        );
        let session = auth.start_session();
        assert_eq!(
            admitted(
                header::COOKIE,
                &format!("theme=dark; execdash_session={session}")
            ),
            Credentials::Admitted
        );
        auth.end_session(&headers(
            header::COOKIE,
            &format!("execdash_session={session}"),
        ));
        assert_eq!(
            admitted(header::COOKIE, &format!("execdash_session={session}")),
            Credentials::Wrong,
            "a copied cookie dies with the logout"
        );
        assert_eq!(
            admitted(header::AUTHORIZATION, "Bearer s3cret-token-valuX"),
            Credentials::Wrong
        );
        assert_eq!(
            admitted(header::AUTHORIZATION, "Basic czNjcmV0"),
            Credentials::Missing
        );
        assert_eq!(
            admitted(header::COOKIE, "execdash_session="),
            Credentials::Missing
        );
        assert_eq!(auth.credentials(&HeaderMap::new()), Credentials::Missing);
        assert_eq!(
            Auth::default().credentials(&HeaderMap::new()),
            Credentials::Admitted,
            "no token: open"
        );
        let cookie = auth.cookie("x", None);
        let cookie = cookie.to_str().unwrap();
        for part in ["Path=/dashboard", "HttpOnly", "SameSite=Strict", "Secure"] {
            assert!(cookie.contains(part), "{cookie}");
        }
    }

    #[test]
    fn a_login_leads_back_only_to_a_page_of_this_dashboard() {
        let auth = Auth::new(Some("s3cret-token-value".into()), "/dashboard", false);
        assert_eq!(
            auth.after_login(Some("/dashboard/tasks/T-1")),
            "/dashboard/tasks/T-1"
        );
        for elsewhere in [
            "//evil.example",
            "https://evil.example/",
            "/other/",
            "/dashboard/login",
            "/dashboard/\\evil",
        ] {
            assert_eq!(
                auth.after_login(Some(elsewhere)),
                "/dashboard/",
                "{elsewhere}"
            );
        }
        assert_eq!(auth.after_login(None), "/dashboard/");
    }
}
