//! The team's repositories: `GET /api/repos` (name, node, counts, last heartbeat, stale flag);
//! `?repo=NAME` on the board's reads (`/api/tasks`, `/api/snapshot`, `/ws`), which serves another
//! node's board from the shared PostgreSQL store (see `crate::team`); and another repository's
//! whole site at `/repos/{name}/`: the same pages, socket and API over its board, so that its
//! detail, agents and history pages and every link in them stay on it. With a SQLite file there
//! is one repository, this one.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use tower::ServiceExt as _;

use super::error::Error;
use super::state::{RepoSite, TaskFiles};
use super::AppState;
use crate::board::SharedStore;
use crate::team::{Mirrors, Team};
use crate::telemetry::Telemetry;
use app::model::RepoList;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/repos", get(list))
}

/// Another repository's site: `/repos/{name}/…`.
pub(super) fn pages_router() -> Router<AppState> {
    Router::new()
        .route("/repos/{name}", get(to_repository_home))
        .route("/repos/{name}/", any(serve))
        .route("/repos/{name}/{*rest}", any(serve))
        .route("/all", get(to_together_home))
        .route("/all/", any(serve_together))
        .route("/all/{*rest}", any(serve_together))
}

/// What a page shows as the repository of the board of every repository together.
pub(super) const TOGETHER: &str = app::ALL_REPOSITORIES;

async fn to_together_home(State(state): State<AppState>) -> Redirect {
    Redirect::permanent(&format!("{}/all/", state.home))
}

/// Answers a request under `/all/` with the routes over every repository's board together.
async fn serve_together(
    State(state): State<AppState>,
    request: Request<Body>,
) -> Result<Response, Error> {
    let path = request.uri().path().to_owned();
    let rest = path.strip_prefix("/all/").unwrap_or_default();
    let board = state.mirrors.together().await?.ok_or_else(|| {
        Error::NotFound(
            "there is one repository: every repository together is a team's (a postgres:// --db)"
                .to_owned(),
        )
    })?;
    let base = format!("{}/all", state.home);
    let routes = site_of(&state, TOGETHER, &base, board);
    inside(routes, rest, request).await
}

/// Where the site of repository `name` is.
pub(super) fn repository_base(home: &str, name: &str) -> String {
    format!("{home}/repos/{}", app::navigation::encode_segment(name))
}

async fn to_repository_home(State(state): State<AppState>, Path(name): Path<String>) -> Redirect {
    Redirect::permanent(&format!("{}/", repository_base(&state.home, &name)))
}

/// Answers a request under `/repos/{name}/` with the routes over that repository's board (built
/// once per repository): the path below it is what they see, and the links they render start
/// with `/repos/{name}`. This node's own repository is at the site's home.
async fn serve(State(state): State<AppState>, request: Request<Body>) -> Result<Response, Error> {
    let path = request.uri().path().to_owned();
    let (encoded, rest) = path
        .strip_prefix("/repos/")
        .and_then(|p| p.split_once('/'))
        .ok_or_else(|| Error::NotFound(format!("no such page: {path}")))?;
    let name = percent_decoded(encoded)?;
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if name == state.team.repo && !state.team.viewer {
        let home = format!("{}/{rest}{query}", state.home);
        return Ok(Redirect::temporary(&home).into_response());
    }
    let board = state
        .mirrors
        .board(&name)
        .await?
        .ok_or_else(|| unknown_repository(&name, &state.team))?;
    let base = repository_base(&state.home, &name);
    let routes = site_of(&state, &name, &base, board);
    inside(routes, rest, request).await
}

/// `request` answered by `routes` as if it were for `/{rest}` (the query kept).
async fn inside(routes: Router, rest: &str, request: Request<Body>) -> Result<Response, Error> {
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let uri = format!("/{rest}{query}")
        .parse::<Uri>()
        .map_err(|e| Error::bad_request(format!("the address is malformed: {e}")))?;
    // A request of its own: the outer route's path parameters (kept in the extensions) must not
    // reach the inner routes; only a socket's upgrade goes along.
    let (parts, body) = request.into_parts();
    let mut inner = Request::new(body);
    *inner.method_mut() = parts.method;
    *inner.uri_mut() = uri;
    *inner.version_mut() = parts.version;
    *inner.headers_mut() = parts.headers;
    let mut extensions = parts.extensions;
    if let Some(upgrade) = extensions.remove::<hyper::upgrade::OnUpgrade>() {
        inner.extensions_mut().insert(upgrade);
    }
    Ok(routes.oneshot(inner).await.into_response())
}

/// The routes of repository `name` over `board` at `base` (built again if its board was
/// replaced).
fn site_of(state: &AppState, name: &str, base: &str, board: SharedStore) -> Router {
    let mut sites = state.repo_sites.lock();
    if let Some(site) = sites.get(base).filter(|s| Arc::ptr_eq(&s.board, &board)) {
        return site.routes.clone();
    }
    let state = AppState {
        board: board.clone(),
        base_path: base.to_owned(),
        repo: Some(name.to_owned()),
        files: Arc::new(TaskFiles::of_repository(name)),
        ..state.clone()
    };
    // An address under it that names no page: the dashboard's "Page not found" with this
    // repository's header (the site's own is rendered for the site's home).
    let routes = super::routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::page::not_found_page,
        ))
        .with_state(state);
    sites.insert(
        base.to_owned(),
        RepoSite {
            board,
            routes: routes.clone(),
        },
    );
    routes
}

/// `404` for a repository no node publishes.
fn unknown_repository(name: &str, team: &Team) -> Error {
    Error::NotFound(format!(
        "no repository {name:?} (this node's is {:?}; see /api/repos)",
        team.repo
    ))
}

fn percent_decoded(segment: &str) -> Result<String, Error> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(|name| name.into_owned())
        .map_err(|_| Error::bad_request("a repository's name is UTF-8".to_owned()))
}

async fn list(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
    State(team): State<Arc<Team>>,
) -> Result<Json<RepoList>, Error> {
    let repos = team.repositories(&board, &telemetry).await?;
    let local = (!team.viewer).then(|| team.repo.clone());
    Ok(Json(RepoList { local, repos }))
}

/// The board a query names with `repo=` (this node's when it names none or this one), and the
/// query without that parameter. `404` for a repository no node publishes.
pub(super) async fn board_for(
    query: Option<&str>,
    local: SharedStore,
    mirrors: &Arc<Mirrors>,
    team: &Team,
) -> Result<(SharedStore, Option<String>), Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| Error::bad_request(format!("the query string is malformed: {e}")))?;
    let repo = pairs
        .iter()
        .find(|(key, _)| key == "repo")
        .map(|(_, value)| value.clone());
    let rest: Vec<&(String, String)> = pairs.iter().filter(|(key, _)| key != "repo").collect();
    let rest = serde_urlencoded::to_string(&rest)
        .ok()
        .filter(|r| !r.is_empty());
    let board = match repo {
        None => local,
        Some(name) if name == team.repo && !team.viewer => local,
        Some(name) => mirrors
            .board(&name)
            .await?
            .ok_or_else(|| unknown_repository(&name, team))?,
    };
    Ok((board, rest))
}
