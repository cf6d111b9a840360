//! The dashboard's pages, rendered on the server with the board's current data: the board at
//! `/`, the board with a task's detail open over it at `/tasks/{id}` (404 when there is no such
//! task, with the board and a note saying so), and the initiatives at `/initiatives`.

use std::sync::Arc;

use app::model::{
    AgentList, AgentPage, ConnectInfo, Forecast, History, HistoryRange, McpOverview, Portfolio,
    PortfolioCosts, TaskDetails, TaskFilter, FILTERED_WINDOW,
};
use app::state::InitialView;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;

use super::details::{self, TaskRef};
use super::repos;
use super::security::content_security_policy;
use super::{AppState, Error};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(board))
        .route("/tasks/{id}", get(task))
        .route("/initiatives", get(initiatives))
        .route("/costs", get(costs))
        .route("/agents", get(agents))
        .route("/agents/{name}", get(agent))
        .route("/history", get(history))
        .route("/mcp", get(mcp))
        .route("/connect", get(connect))
        // The sessions are in the board's snapshot: nothing more to read.
        .route("/sessions", get(board))
}

async fn connect(State(state): State<AppState>, request: Request<Body>) -> Response {
    let info = super::connect::build(
        &state.telemetry,
        super::connect::endpoint_of(&state),
        state.auth.required(),
        &state.prices,
    )
    .await;
    render(state, request, View::Connect(Box::new(info))).await
}

async fn mcp(State(state): State<AppState>, request: Request<Body>) -> Response {
    let overview = super::mcp::build(&state.mcp, &state.files).await;
    render(state, request, View::Mcp(Box::new(overview))).await
}

/// An unknown range renders the default one (the selector shows which).
async fn history(State(state): State<AppState>, request: Request<Body>) -> Response {
    let range =
        serde_urlencoded::from_str::<Vec<(String, String)>>(request.uri().query().unwrap_or(""))
            .unwrap_or_default()
            .into_iter()
            .find(|(k, _)| k == "range")
            .and_then(|(_, v)| HistoryRange::parse(&v))
            .unwrap_or_default();
    let built = super::throughput::build(&state.board, range);
    render(state, request, View::History(Box::new(built))).await
}

async fn agents(State(state): State<AppState>, request: Request<Body>) -> Response {
    let list = super::agents::build_list(&state.board, &state.telemetry).await;
    render(state, request, View::Agents(list)).await
}

async fn agent(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request<Body>,
) -> Response {
    match super::agents::build_page(&state.board, &state.telemetry, &name).await {
        Ok(page) => render(state, request, View::Agent(Box::new(page))).await,
        Err(error) => error.into_response(),
    }
}

/// Without the telemetry database the page still renders (the panel says so); the cost of each
/// initiative and the forecast are then left to the page, which shows why they are missing.
async fn costs(State(state): State<AppState>, request: Request<Body>) -> Response {
    // Another node's repository: its specifications are not here (the page says so).
    let costs = match state.files.here() {
        Ok(()) => super::initiatives::build_costs(&state.board, &state.files, &state.telemetry)
            .await
            .ok(),
        Err(_) => None,
    };
    let forecast = super::forecast::build(&state.board, &state.telemetry)
        .await
        .ok()
        .map(Box::new);
    render(state, request, View::Costs(costs, forecast)).await
}

/// Another node's repository (or every repository together, or a viewer's home) renders the
/// page, which says its initiatives are on that node: its specifications are not shared.
async fn initiatives(State(state): State<AppState>, request: Request<Body>) -> Response {
    if state.files.here().is_err() {
        return render(state, request, View::Board).await;
    }
    match super::initiatives::build(&state.board, &state.files).await {
        Ok(portfolio) => render(state, request, View::Initiatives(portfolio)).await,
        Err(error) => error.into_response(),
    }
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

/// What a page shows besides the board's data.
enum View {
    NotFound,
    Board,
    Task(String, Box<Result<TaskDetails, String>>),
    Initiatives(Portfolio),
    Costs(Option<PortfolioCosts>, Option<Box<Forecast>>),
    Agents(AgentList),
    Agent(Box<AgentPage>),
    History(Box<History>),
    Mcp(Box<McpOverview>),
    Connect(Box<ConnectInfo>),
}

async fn board(State(state): State<AppState>, request: Request<Body>) -> Response {
    render(state, request, View::Board).await
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

async fn task(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request<Body>,
) -> Response {
    let which = TaskRef::Id(id.clone());
    let detail = match details::load(&state.board, &state.telemetry, &state.files, &which).await {
        Ok(details) => Ok(details),
        Err(Error::NotFound(_)) => Err(app::state::task_not_found(&id)),
        Err(error) => Err(error.to_string()),
    };
    let found = detail.is_ok();
    let mut response = render(state, request, View::Task(id, Box::new(detail))).await;
    if !found {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response
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
    let (mut task, mut portfolio, mut initiative_costs, mut forecast) = (None, None, None, None);
    let (mut agents, mut agent_page, mut history, mut mcp) = (None, None, None, None);
    let mut connect = None;
    let mut not_found = false;
    match view {
        View::Board => {}
        View::NotFound => not_found = true,
        View::Task(id, detail) => task = Some((id, *detail)),
        View::Initiatives(built) => portfolio = Some(built),
        View::Costs(costs, projected) => {
            (initiative_costs, forecast) = (costs, projected.map(|f| *f))
        }
        View::Agents(list) => agents = Some(list),
        View::Agent(page) => agent_page = Some(*page),
        View::History(built) => history = Some(*built),
        View::Mcp(built) => mcp = Some(*built),
        View::Connect(built) => connect = Some(*built),
    }
    // A viewer has no repository of its own.
    let local_repo = if state.team.viewer {
        String::new()
    } else {
        state.team.repo.clone()
    };
    // A viewer's own pages show no repository (its working directory is none).
    let repo = state.repo.clone().unwrap_or_else(|| local_repo.clone());
    let board = state.board.clone();
    let home = state.home.clone();
    let snapshot = board.snapshot();
    let filter = filter_of(&request);
    let filtered = (!filter.is_empty()).then(|| board.filtered(&filter, FILTERED_WINDOW));
    let assets = state.assets.clone();
    let base = state.base_path.clone();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let live_reload = state.live_reload;
    let writable = state.files.writable;
    // Leptos marks its few inline scripts with a per-response nonce; the CSP allows that nonce.
    let nonce = Arc::new(Mutex::new(None::<String>));
    let seen_nonce = nonce.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        move || *seen_nonce.lock() = leptos::nonce::use_nonce().map(|n| n.to_string()),
        move || {
            let page = app::Page {
                assets: assets.clone(),
                base: base.clone(),
                home: home.clone(),
                now_ms,
                live_reload,
                writable,
                repo: repo.clone(),
                local_repo: local_repo.clone(),
                view: InitialView {
                    task: task.clone(),
                    filter: filter.clone(),
                    filtered: filtered.clone(),
                    portfolio: portfolio.clone(),
                    initiative_costs: initiative_costs.clone(),
                    forecast: forecast.clone(),
                    agents: agents.clone(),
                    agent_page: agent_page.clone(),
                    history: history.clone(),
                    mcp: mcp.clone(),
                    connect: connect.clone(),
                    not_found,
                },
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
