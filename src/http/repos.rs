//! The team's repositories: `GET /api/repos` (name, node, counts, last heartbeat, stale flag),
//! and `?repo=NAME` on the board's reads, which serves another node's board from the shared
//! PostgreSQL store (see `crate::team`). With a SQLite file there is one repository, this one.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::Error;
use super::AppState;
use crate::board::SharedStore;
use crate::team::{self, Mirrors, Repo, Team};
use crate::telemetry::{Pools, Telemetry};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/repos", get(list))
}

async fn list(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
    State(team): State<Arc<Team>>,
) -> Result<Json<Value>, Error> {
    let repos = match telemetry.pools().await? {
        Pools::Postgres(pool) => team::repos(&pool, team.stale_after).await?,
        Pools::Sqlite { .. } => {
            let counts = board.counts();
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            vec![Repo {
                name: team.repo.clone(),
                node: team.node.clone(),
                seq: board.seq() as i64,
                inbox: counts.inbox as i64,
                assigned: counts.assigned as i64,
                done: counts.done as i64,
                problems: board.problem_count() as i64,
                heartbeat_at: now.clone(),
                started_at: now,
                stale: false,
                cost_today: board.costs().map_or(0.0, |c| c.totals.today),
                cost_total: board.costs().map_or(0.0, |c| c.totals.total),
            }]
        }
    };
    let local = (!team.viewer).then(|| team.repo.clone());
    Ok(Json(json!({ "local": local, "repos": repos })))
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
        Some(name) if name == team.repo => local,
        Some(name) => mirrors.board(&name).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "no repository {name:?} (this node's is {:?}; see /api/repos)",
                team.repo
            ))
        })?,
    };
    Ok((board, rest))
}
