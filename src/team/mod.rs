//! A team's boards in the shared PostgreSQL store: every execdash with a `--root` and a
//! `postgres://` database publishes its board there under a repository name, and every node
//! reads every repository's from there.
//!
//! * **Publishing** ([`publish()`]): at start the repository's rows are replaced whole by the board
//!   as read (so a node that comes back shows its disk, whatever it missed); then every change of
//!   the store (a frame of its event stream names the paths) is written as it comes, a batch per
//!   transaction that also bumps the repository's `seq` and its counts, and `NOTIFY`s
//!   `execdash_boards` with `repo seq` (small: the data is read from the tables). A heartbeat
//!   every [`Team::heartbeat`] keeps `heartbeat_at` fresh; a frame the publisher missed (it
//!   lagged) makes it compare the whole board with what it published.
//! * **Reading** ([`repos`], [`Mirrors`]): the repositories with their node, counts, last
//!   heartbeat and a stale flag (no heartbeat for [`Team::stale_after`]), and other
//!   repositories' boards, each followed live in a store of its own.
//!
//! The rows hold each task whole (summary, description, document) as JSON, so another node can
//! serve them as this node does. A file that goes stays as a tombstone (no task, no problem)
//! with the seq of its going, so a node that follows the repository reads only the rows with a
//! seq above the last it read, deletions included.
//!
//! In three files: this one has what both sides share (a node's part, [`Team`], and the
//! repositories' list, [`repos`]); `publish` writes this node's board, `mirror` reads the others'.
//! Depends on the board (the stores it publishes and fills) and the telemetry (the PostgreSQL
//! pool and its notifications).

mod mirror;
mod publish;

use std::time::Duration;

use sqlx::postgres::PgPool;
use sqlx::Row;

use crate::board::SharedStore;
use crate::telemetry::{Pools, Telemetry, TelemetryError};

pub(crate) use mirror::Mirrors;
pub(crate) use publish::publish;

/// How a node takes part: its repository's name, its own name, and the heartbeat's timing.
#[derive(Clone, Debug)]
pub(crate) struct Team {
    pub(crate) repo: String,
    pub(crate) node: String,
    pub(crate) heartbeat: Duration,
    pub(crate) stale_after: Duration,
    /// Publishes nothing: shows the others' repositories (see `Config::viewer`).
    pub(crate) viewer: bool,
}

impl Team {
    /// The node's part as configured; the heartbeat comes three times per stale time.
    pub(crate) fn of(config: &crate::runtime::Config) -> Team {
        Team {
            repo: config.repo_name.clone(),
            node: config.node_name.clone(),
            heartbeat: config.stale_after / 3,
            stale_after: config.stale_after,
            viewer: config.viewer,
        }
    }
}

impl Team {
    /// Every repository of the team (a PostgreSQL database), or this node's own alone (a SQLite
    /// file: `board` is it), as `GET /api/repos` and `/metrics` show them. What the store is
    /// stays in here: the HTTP layer never sees a pool.
    pub(crate) async fn repositories(
        &self,
        board: &SharedStore,
        telemetry: &Telemetry,
    ) -> Result<Vec<Repo>, TelemetryError> {
        Ok(match telemetry.pools().await? {
            Pools::Postgres(pool) => repos(&pool, self.stale_after).await?,
            Pools::Sqlite { .. } => {
                let counts = board.counts();
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let costs = board.costs().map(|c| c.totals).unwrap_or_default();
                vec![Repo {
                    name: self.repo.clone(),
                    node: self.node.clone(),
                    seq: board.seq() as i64,
                    inbox: counts.inbox as i64,
                    assigned: counts.assigned as i64,
                    done: counts.done as i64,
                    problems: board.problem_count() as i64,
                    heartbeat_at: now.clone(),
                    started_at: now,
                    stale: false,
                    cost_today: costs.today,
                    cost_total: costs.total,
                }]
            }
        })
    }

    /// The first repository the team's store lists (a viewer's page opens on it); `None` on a
    /// SQLite file or when none is published yet.
    pub(crate) async fn first_repository(&self, telemetry: &Telemetry) -> Option<String> {
        let Pools::Postgres(pool) = telemetry.pools().await.ok()? else {
            return None;
        };
        let repos = repos(&pool, self.stale_after).await.ok()?;
        repos.into_iter().next().map(|repo| repo.name)
    }
}

/// One repository as `GET /api/repos` lists it (the wire type, shared with the page).
pub(crate) use app::model::RepoStatus as Repo;

/// Every repository published to the store, by name.
pub(crate) async fn repos(pool: &PgPool, stale_after: Duration) -> Result<Vec<Repo>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT name, node, seq, inbox, assigned, done, problems, \
         to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS heartbeat_at, \
         to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS started_at, \
         heartbeat_at < now() - make_interval(secs => $1) AS stale, \
         COALESCE(c.today, 0.0) AS cost_today, COALESCE(c.total, 0.0) AS cost_total \
         FROM repos LEFT JOIN ( \
           SELECT repo, (sum(cost_usd) FILTER (WHERE day = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')))::float8 AS today, \
                  sum(cost_usd)::float8 AS total \
           FROM cost_rollup GROUP BY repo) AS c ON c.repo = repos.name \
         ORDER BY name",
    )
    .bind(stale_after.as_secs_f64())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Repo {
            name: row.get("name"),
            node: row.get("node"),
            seq: row.get("seq"),
            inbox: row.get("inbox"),
            assigned: row.get("assigned"),
            done: row.get("done"),
            problems: row.get("problems"),
            heartbeat_at: row.get("heartbeat_at"),
            started_at: row.get("started_at"),
            stale: row.get("stale"),
            cost_today: row.get("cost_today"),
            cost_total: row.get("cost_total"),
        })
        .collect())
}

/// The channel a node notifies `repo seq` on when it published a change.
const BOARDS_CHANNEL: &str = "execdash_boards";
