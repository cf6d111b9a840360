//! The dashboard's pages, rendered on the server: one handler for every route the app declares
//! (the board at `/`, with a task's detail open over it at `/tasks/{id}`, the initiatives, costs,
//! agents, …), the board's current data, and each page's own data as its `Resource`s ask the API,
//! answered in process. A task or a page's subject that does not exist is a 404 that says so;
//! an address that names no page is the dashboard's own "Page not found".

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use app::model::{TaskFilter, FILTERED_WINDOW};
use app::state::{Dashboard, InitialView};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;
use tower::ServiceExt as _;

use super::details::{self, TaskRef};
use super::repos;
use super::security::content_security_policy;
use super::AppState;

/// Every page of the app, served by [`page`]: the paths are the app's routes (declared once, in
/// `app::components::App`), read from it at start.
pub(super) fn router() -> Router<AppState> {
    page_paths()
        .iter()
        .fold(Router::new(), |router, path| router.route(path, get(page)))
}

/// The paths of the app's routes, in axum's syntax (`/tasks/{id}`).
fn page_paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        leptos_axum::generate_route_list(|| {
            leptos::prelude::provide_context(Dashboard::new(Default::default(), 0));
            leptos::prelude::view! { <app::components::App/> }
        })
        .into_iter()
        .map(|route| route.path().to_owned())
        .collect()
    })
}

/// Any page: the board and what the address opens on (a task's detail at `/tasks/{id}`, a
/// filter), and whatever the page's own `Resource`s ask of the API, answered in process. A page
/// whose task, or whose data, the API does not have is a 404 (and says why).
async fn page(
    State(state): State<AppState>,
    params: Option<Path<HashMap<String, String>>>,
    request: Request<Body>,
) -> Response {
    // `/tasks/{id}` is the one route with an `id` (decoded by axum). The detail asks the API for
    // the task itself (in process, as its `Resource` does): a 404 there makes the page one.
    let task = params.and_then(|Path(mut params)| params.remove("id"));
    render(state, request, View::Page(task)).await
}

/// A browser asking for a page that does not exist gets the dashboard's own "Page not found"
/// (its header and navigation, status 404) instead of an empty 404; the API's 404s, assets'
/// and anything not asked for as HTML are left as they are.
pub(super) async fn not_found_page(
    State(state): State<AppState>,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let wants_page = request.method() == axum::http::Method::GET
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let is_api = uri.path().starts_with("/api/");
    if !wants_page || is_api || response.status() != StatusCode::NOT_FOUND {
        return response;
    }
    if response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"))
    {
        return response;
    }
    let mut page = Request::new(Body::empty());
    *page.uri_mut() = uri;
    let mut rendered = render(state, page, View::NotFound).await;
    *rendered.status_mut() = StatusCode::NOT_FOUND;
    rendered
}

/// What the server renders: a page of the app (with the task its address opens, if any), or the
/// "Page not found" page for an address that names none.
enum View {
    NotFound,
    /// The id of the task the address opens, if any.
    Page(Option<String>),
}

/// The filter the address names; a bad value is left out (the page still renders, the filter
/// bar shows what was taken).
fn filter_of(request: &Request<Body>) -> TaskFilter {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.uri().query().unwrap_or("")).unwrap_or_default();
    let valid = pairs
        .iter()
        .filter(|(k, v)| TaskFilter::from_pairs([(k.as_str(), v.as_str())]).is_ok());
    TaskFilter::from_pairs(valid.map(|(k, v)| (k.as_str(), v.as_str()))).unwrap_or_default()
}

async fn render(state: AppState, mut request: Request<Body>, view: View) -> Response {
    // `?repo=NAME` (the first form of these addresses): that repository's site.
    let asked =
        serde_urlencoded::from_str::<Vec<(String, String)>>(request.uri().query().unwrap_or(""))
            .unwrap_or_default();
    if state.repo.is_none() {
        if let Some(name) = asked.iter().find_map(|(k, v)| (k == "repo").then_some(v)) {
            if *name != state.team.repo {
                let rest: Vec<_> = asked.iter().filter(|(k, _)| k != "repo").collect();
                let query = serde_urlencoded::to_string(&rest).unwrap_or_default();
                let query = if query.is_empty() {
                    query
                } else {
                    format!("?{query}")
                };
                let path = request.uri().path().trim_start_matches('/');
                let to = format!(
                    "{}/{path}{query}",
                    repos::repository_base(&state.home, name)
                );
                return Redirect::temporary(&to).into_response();
            }
        }
        // A viewer has no board of its own: it opens on the first repository published (an
        // address that names no page stays where it is, and says so).
        if state.team.viewer && !matches!(view, View::NotFound) {
            if let Some(first) = state.team.first_repository(&state.telemetry).await {
                let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
                let to = format!("{}{path}", repos::repository_base(&state.home, &first));
                return Redirect::temporary(&to).into_response();
            }
        }
    }
    // The router matches the whole path, the base path included (the server's routes are nested
    // under it and see the rest).
    if !state.base_path.is_empty() {
        let whole = format!(
            "{}{}",
            state.base_path,
            request.uri().path_and_query().map_or("/", |p| p.as_str())
        );
        if let Ok(uri) = whole.parse() {
            *request.uri_mut() = uri;
        }
    }
    let (task, not_found) = match view {
        View::NotFound => (None, true),
        View::Page(task) => (task, false),
    };
    let path = request.uri().path().to_owned();
    let path = path.strip_prefix(state.base_path.as_str()).unwrap_or(&path);
    let title = if not_found {
        app::components::page_title("/no-such-page", None)
    } else {
        let task_title = task
            .as_ref()
            .and_then(|id| details::title_of(&state.board, &TaskRef::Id(id.clone())));
        app::components::page_title(path, task_title.as_deref())
    };
    // A viewer has no repository of its own.
    let local_repo = if state.team.viewer {
        String::new()
    } else {
        state.team.repo.clone()
    };
    // A viewer's own pages show no repository (its working directory is none).
    let repo = state.repo.clone().unwrap_or_else(|| local_repo.clone());
    let filter = filter_of(&request);
    let filtered = (!filter.is_empty()).then(|| state.board.filtered(&filter, FILTERED_WINDOW));
    let page = app::Page {
        assets: state.assets.clone(),
        preload: app::components::LazyPage::at(path)
            .map(|page| state.lazy_modules.files_of(page.module()).to_vec())
            .unwrap_or_default(),
        lazy_loader: state.lazy_modules.loader().cloned(),
        base: state.base_path.clone(),
        home: state.home.clone(),
        title,
        live_reload: state.live_reload,
        writable: state.files.writable,
        repo,
        local_repo,
        view: InitialView {
            snapshot: state.board.snapshot(),
            now_ms: chrono::Utc::now().timestamp_millis(),
            task,
            filter,
            filtered,
        },
    };
    let live_reload = state.live_reload;
    // The pages' Resources ask the API in process; an answer of 404 makes the page one.
    let api = InProcessApi::new(super::api().with_state(state));
    let missing = api.missing.clone();
    // Leptos marks its few inline scripts with a per-response nonce; the CSP allows that nonce.
    let nonce = Arc::new(Mutex::new(None::<String>));
    let seen_nonce = nonce.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            leptos::prelude::provide_context(api.handle());
            *seen_nonce.lock() = leptos::nonce::use_nonce().map(|n| n.to_string());
        },
        move || app::shell(page.clone()),
    );
    let mut response = render(request).await;
    if missing.load(Ordering::Relaxed) {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    let policy = content_security_policy(nonce.lock().as_deref(), live_reload);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The API as the pages' `Resource`s ask it while the server renders them: a `GET` answered by
/// the same routes a browser's fetch reaches (behind the page's own checks already), its JSON
/// handed over as text.
#[derive(Clone)]
struct InProcessApi {
    routes: Router,
    /// Some answer was a 404 (the page's task, agent, … does not exist).
    missing: Arc<AtomicBool>,
}

impl InProcessApi {
    fn new(routes: Router) -> InProcessApi {
        InProcessApi {
            routes,
            missing: Arc::default(),
        }
    }

    fn handle(&self) -> app::api::Api {
        let (routes, missing) = (self.routes.clone(), self.missing.clone());
        app::api::Api(Arc::new(move |path: String| {
            let (routes, missing) = (routes.clone(), missing.clone());
            Box::pin(async move {
                let request = Request::get(&path)
                    .body(Body::empty())
                    .map_err(|e| format!("{path}: {e}"))?;
                let response = routes.oneshot(request).await.into_response();
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .map_err(|e| format!("the answer could not be read: {e}"))?;
                let body = String::from_utf8_lossy(&body).into_owned();
                if status.is_success() {
                    return Ok(body);
                }
                if status == StatusCode::NOT_FOUND {
                    missing.store(true, Ordering::Relaxed);
                }
                Err(serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("HTTP {status}")))
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use app::components::LazyPage;

    use super::page_paths;

    /// The browser loads a lazily loaded page's module before hydrating it (the vendored tachys
    /// hydrates synchronously: vendor/README.md), by what [`LazyPage::at`] makes of the address.
    /// Every route the app declares but the board's must be one of them, each its own: a route
    /// it did not know would not hydrate at its own address.
    #[test]
    fn every_route_but_the_boards_is_a_lazy_page_of_its_own() {
        let mut seen = HashSet::new();
        for path in page_paths() {
            // `/agents/{name}` as an address: any value for each parameter.
            let address: Vec<&str> = path
                .split('/')
                .map(|part| if part.starts_with('{') { "x" } else { part })
                .collect();
            let page = LazyPage::at(&address.join("/"));
            if path == "/" {
                assert_eq!(page, None, "the board is in the main module");
            } else {
                let page = page.unwrap_or_else(|| panic!("{path}: no LazyPage"));
                assert!(seen.insert(page), "{path}: {page:?} twice");
            }
        }
        assert!(seen.len() >= 9, "{seen:?}");
    }
}
