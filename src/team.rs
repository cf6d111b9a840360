//! A team's boards in the shared PostgreSQL store: every execdash with a `--root` and a
//! `postgres://` database publishes its board there under a repository name, and every node
//! reads every repository's from there.
//!
//! * **Publishing** ([`publish`]): at start the repository's rows are replaced whole by the board
//!   as read (so a node that comes back shows its disk, whatever it missed); then every change of
//!   the store (a frame of its event stream names the paths) is written as it comes, a batch per
//!   transaction that also bumps the repository's `seq` and its counts, and `NOTIFY`s
//!   `execdash_boards` with `repo seq` (small: the data is read from the tables). A heartbeat
//!   every [`Team::heartbeat`] keeps `heartbeat_at` fresh; a frame the publisher missed (it
//!   lagged) makes it compare the whole board with what it published.
//! * **Reading** ([`repos`], [`board_of`]): the repositories with their node, counts, last
//!   heartbeat and a stale flag (no heartbeat for [`Team::stale_after`]), and one repository's
//!   board.
//!
//! The rows hold each task whole (summary, description, document) as JSON, so another node can
//! serve them as this node does.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use app::model::{Envelope, ServerEvent, Task};
use serde::Serialize;
use sqlx::postgres::PgPool;
use sqlx::Row;
use tokio::sync::{broadcast, watch};

use crate::board::{FileState, SharedStore, Store};
use crate::telemetry::{Pools, Telemetry};

/// How a node takes part: its repository's name, its own name, and the heartbeat's timing.
#[derive(Clone, Debug)]
pub(crate) struct Team {
    pub(crate) repo: String,
    pub(crate) node: String,
    pub(crate) heartbeat: Duration,
    pub(crate) stale_after: Duration,
}

impl Team {
    /// The node's part as configured; the heartbeat comes three times per stale time.
    pub(crate) fn of(config: &crate::config::Config) -> Team {
        Team {
            repo: config.repo_name.clone(),
            node: config.node_name.clone(),
            heartbeat: config.stale_after / 3,
            stale_after: config.stale_after,
        }
    }
}

/// One repository as `GET /api/repos` lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct Repo {
    pub(crate) name: String,
    pub(crate) node: String,
    pub(crate) seq: i64,
    pub(crate) inbox: i64,
    pub(crate) assigned: i64,
    pub(crate) done: i64,
    pub(crate) problems: i64,
    /// RFC 3339.
    pub(crate) heartbeat_at: String,
    pub(crate) started_at: String,
    /// No heartbeat for longer than the stale time: its node is gone (or cut off).
    pub(crate) stale: bool,
}

/// Every repository published to the store, by name.
pub(crate) async fn repos(pool: &PgPool, stale_after: Duration) -> Result<Vec<Repo>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT name, node, seq, inbox, assigned, done, problems, \
         to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS heartbeat_at, \
         to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS started_at, \
         heartbeat_at < now() - make_interval(secs => $1) AS stale \
         FROM repos ORDER BY name",
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
        })
        .collect())
}

/// The board of `repo` as published, in a store of its own (so every handler serves it as it
/// serves the local board); `None` when no node publishes that name.
pub(crate) async fn board_of(
    pool: &PgPool,
    repo: &str,
) -> Result<Option<SharedStore>, sqlx::Error> {
    let known = sqlx::query("SELECT 1 FROM repos WHERE name = $1")
        .bind(repo)
        .fetch_optional(pool)
        .await?
        .is_some();
    if !known {
        return Ok(None);
    }
    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT path, task::text, problem::text FROM repo_files WHERE repo = $1 ORDER BY path",
    )
    .bind(repo)
    .fetch_all(pool)
    .await?;
    let store = Store::new();
    let mut lanes = std::collections::BTreeSet::new();
    let states: Vec<(String, FileState)> = rows
        .into_iter()
        .filter_map(|(path, task, problem)| {
            let state = match (task, problem) {
                (Some(task), _) => {
                    let task: Task = serde_json::from_str(&task).ok()?;
                    if let Some(lane) = &task.lane {
                        lanes.insert((task.column, lane.clone()));
                    }
                    FileState::Task(Box::new(task))
                }
                (None, Some(problem)) => FileState::Invalid(serde_json::from_str(&problem).ok()?),
                (None, None) => return None,
            };
            Some((path, state))
        })
        .collect();
    for (column, lane) in lanes {
        store.set_lane(column, &lane, true);
    }
    store.set_all(states);
    store.finish_startup();
    Ok(Some(std::sync::Arc::new(store)))
}

/// Publishes the board of `store` as `team.repo` to the PostgreSQL store of `telemetry` until
/// `stop` turns true; keeps trying while the database is unreachable (the board is published
/// whole again once it answers).
pub(crate) async fn publish(
    telemetry: Telemetry,
    store: SharedStore,
    team: Team,
    mut stop: watch::Receiver<bool>,
) {
    store.startup().finished().await;
    let instance = store.instance().to_owned();
    let mut published = Published::default();
    let (_, mut frames) = store.subscribe(None);
    let mut whole = true;
    let mut heartbeat = tokio::time::interval(team.heartbeat);
    loop {
        let mut changed: HashSet<String> = HashSet::new();
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            _ = heartbeat.tick() => {}
            frame = frames.recv() => match frame {
                Ok(frame) => changed.extend(paths_of(&frame.json)),
                Err(broadcast::error::RecvError::Lagged(_)) => whole = true,
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
        // What else came meanwhile goes in the same transaction.
        loop {
            match frames.try_recv() {
                Ok(frame) => changed.extend(paths_of(&frame.json)),
                Err(broadcast::error::TryRecvError::Lagged(_)) => whole = true,
                Err(_) => break,
            }
        }
        let pool = match telemetry.pools().await {
            Ok(Pools::Postgres(pool)) => pool,
            Ok(Pools::Sqlite { .. }) => return,
            Err(error) => {
                tracing::warn!(repo = %team.repo, "cannot publish the board: {error}");
                whole = true;
                continue;
            }
        };
        let outcome = if whole {
            published.replace_all(&pool, &store, &team, &instance).await
        } else {
            published
                .write_changes(&pool, &store, &team, &instance, changed)
                .await
        };
        match outcome {
            Ok(()) => whole = false,
            Err(error) => {
                tracing::warn!(repo = %team.repo, "cannot publish the board: {error}");
                whole = true;
            }
        }
    }
}

/// The paths a frame of the store's event stream names.
fn paths_of(json: &str) -> Vec<String> {
    match serde_json::from_str::<Envelope>(json) {
        Ok(envelope) => match &envelope.event {
            ServerEvent::TaskInvalid { problem } => vec![problem.path.clone()],
            event => event.task_paths().into_iter().map(str::to_owned).collect(),
        },
        Err(_) => Vec::new(),
    }
}

/// What this node has published: the JSON of each file's row.
#[derive(Default)]
struct Published {
    files: HashMap<String, String>,
    seq: i64,
}

/// A file's row: the task, or its problem.
enum FileRow {
    Task(String),
    Problem(String),
}

impl Published {
    /// The repository's rows replaced by the whole board.
    async fn replace_all(
        &mut self,
        pool: &PgPool,
        store: &SharedStore,
        team: &Team,
        instance: &str,
    ) -> Result<(), sqlx::Error> {
        let rows = board_rows(store, None);
        let mut tx = pool.begin().await?;
        let seq = claim(&mut tx, team, instance).await?;
        sqlx::query("DELETE FROM repo_files WHERE repo = $1")
            .bind(&team.repo)
            .execute(&mut *tx)
            .await?;
        upsert(&mut tx, &team.repo, seq, &rows).await?;
        counts(&mut tx, &team.repo, store).await?;
        notify(&mut tx, &team.repo, seq).await?;
        tx.commit().await?;
        self.files = rows
            .into_iter()
            .filter_map(|(path, row)| Some((path, row?.json())))
            .collect();
        self.seq = seq;
        Ok(())
    }

    /// The files in `changed` written as the store has them now (deleted when it has none);
    /// with nothing changed, a heartbeat.
    async fn write_changes(
        &mut self,
        pool: &PgPool,
        store: &SharedStore,
        team: &Team,
        instance: &str,
        changed: HashSet<String>,
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<(String, Option<FileRow>)> = board_rows(store, Some(&changed))
            .into_iter()
            .filter(|(path, row)| {
                self.files.get(path).map(String::as_str) != row.as_ref().map(FileRow::json_ref)
            })
            .collect();
        let mut tx = pool.begin().await?;
        if rows.is_empty() {
            let taken = sqlx::query(
                "UPDATE repos SET heartbeat_at = now() WHERE name = $1 AND instance = $2",
            )
            .bind(&team.repo)
            .bind(instance)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 0;
            tx.commit().await?;
            if taken {
                tracing::warn!(
                    repo = %team.repo,
                    "another node publishes this repository name now: publishing again (two nodes should not share a --repo-name)"
                );
                return self.replace_all(pool, store, team, instance).await;
            }
            return Ok(());
        }
        let seq = claim(&mut tx, team, instance).await?;
        upsert(&mut tx, &team.repo, seq, &rows).await?;
        counts(&mut tx, &team.repo, store).await?;
        notify(&mut tx, &team.repo, seq).await?;
        tx.commit().await?;
        for (path, row) in rows {
            match row {
                Some(row) => self.files.insert(path, row.json()),
                None => self.files.remove(&path),
            };
        }
        self.seq = seq;
        Ok(())
    }
}

impl FileRow {
    fn json(self) -> String {
        match self {
            FileRow::Task(json) | FileRow::Problem(json) => json,
        }
    }

    fn json_ref(&self) -> &str {
        match self {
            FileRow::Task(json) | FileRow::Problem(json) => json,
        }
    }
}

/// The rows of the files in `only` (every file with `None`): a task or a problem, or `None`
/// for a file the board no longer has.
fn board_rows(
    store: &SharedStore,
    only: Option<&HashSet<String>>,
) -> Vec<(String, Option<FileRow>)> {
    store.with_tasks(|tasks, problems, _| {
        let row = |path: &str| -> Option<FileRow> {
            if let Some(problem) = problems.get(path) {
                return Some(FileRow::Problem(json(problem)));
            }
            tasks.get(path).map(|task| FileRow::Task(json(task)))
        };
        match only {
            Some(paths) => paths.iter().map(|p| (p.clone(), row(p))).collect(),
            None => tasks
                .keys()
                .chain(problems.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|p| (p.clone(), row(p)))
                .collect(),
        }
    })
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("tasks serialize")
}

/// Makes this node the repository's publisher (its row created or taken over) and returns the
/// next seq.
async fn claim(
    tx: &mut sqlx::PgConnection,
    team: &Team,
    instance: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO repos (name, node, instance, seq) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (name) DO UPDATE SET node = excluded.node, \
           instance = excluded.instance, seq = repos.seq + 1, heartbeat_at = now(), \
           started_at = CASE WHEN repos.instance = excluded.instance THEN repos.started_at ELSE now() END \
         RETURNING seq",
    )
    .bind(&team.repo)
    .bind(&team.node)
    .bind(instance)
    .fetch_one(&mut *tx)
    .await
}

async fn upsert(
    tx: &mut sqlx::PgConnection,
    repo: &str,
    seq: i64,
    rows: &[(String, Option<FileRow>)],
) -> Result<(), sqlx::Error> {
    let gone: Vec<&str> = rows
        .iter()
        .filter(|(_, row)| row.is_none())
        .map(|(path, _)| path.as_str())
        .collect();
    if !gone.is_empty() {
        sqlx::query("DELETE FROM repo_files WHERE repo = $1 AND path = ANY($2)")
            .bind(repo)
            .bind(&gone)
            .execute(&mut *tx)
            .await?;
    }
    for chunk in rows.chunks(1_000) {
        let (mut paths, mut tasks, mut problems) = (Vec::new(), Vec::new(), Vec::new());
        for (path, row) in chunk {
            match row {
                Some(FileRow::Task(json)) => {
                    paths.push(path.as_str());
                    tasks.push(Some(json.as_str()));
                    problems.push(None);
                }
                Some(FileRow::Problem(json)) => {
                    paths.push(path.as_str());
                    tasks.push(None);
                    problems.push(Some(json.as_str()));
                }
                None => {}
            }
        }
        if paths.is_empty() {
            continue;
        }
        sqlx::query(
            "INSERT INTO repo_files (repo, path, seq, task, problem) \
             SELECT $1, p, $2, t::jsonb, q::jsonb FROM UNNEST($3::text[], $4::text[], $5::text[]) AS u(p, t, q) \
             ON CONFLICT (repo, path) DO UPDATE SET seq = excluded.seq, task = excluded.task, \
               problem = excluded.problem",
        )
        .bind(repo)
        .bind(seq)
        .bind(&paths)
        .bind(&tasks)
        .bind(&problems)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

async fn counts(
    tx: &mut sqlx::PgConnection,
    repo: &str,
    store: &SharedStore,
) -> Result<(), sqlx::Error> {
    let counts = store.counts();
    let problems = store.with_tasks(|_, problems, _| problems.len());
    sqlx::query(
        "UPDATE repos SET inbox = $2, assigned = $3, done = $4, problems = $5, \
         heartbeat_at = now() WHERE name = $1",
    )
    .bind(repo)
    .bind(counts.inbox as i64)
    .bind(counts.assigned as i64)
    .bind(counts.done as i64)
    .bind(problems as i64)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn notify(tx: &mut sqlx::PgConnection, repo: &str, seq: i64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify('execdash_boards', $1)")
        .bind(format!("{repo} {seq}"))
        .execute(&mut *tx)
        .await?;
    Ok(())
}
