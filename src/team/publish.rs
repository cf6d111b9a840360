//! Publishing: this node's board written to the shared store as it changes (see the
//! [module](super) for the protocol).

use std::collections::{HashMap, HashSet};

use app::model::{Envelope, ServerEvent};
use serde::Serialize;
use sqlx::postgres::PgPool;
use tokio::sync::{broadcast, watch};

use super::{Team, BOARDS_CHANNEL};
use crate::board::SharedStore;
use crate::telemetry::{Pools, Telemetry};

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
                let error = crate::telemetry::postgres_explained(&pool, error).await;
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
        // Every row becomes a tombstone (what a mirror reads as "gone"); the board's files
        // are written over theirs.
        sqlx::query(
            "UPDATE repo_files SET seq = $2, task = NULL, problem = NULL \
             WHERE repo = $1 AND (task IS NOT NULL OR problem IS NOT NULL)",
        )
        .bind(&team.repo)
        .bind(seq)
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
        sqlx::query(
            "UPDATE repo_files SET seq = $3, task = NULL, problem = NULL \
             WHERE repo = $1 AND path = ANY($2)",
        )
        .bind(repo)
        .bind(&gone)
        .bind(seq)
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
    let problems = store.problem_count();
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
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(BOARDS_CHANNEL)
        .bind(format!("{repo} {seq}"))
        .execute(&mut *tx)
        .await?;
    Ok(())
}
