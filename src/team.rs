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
//! * **Reading** ([`repos`], [`Mirrors`]): the repositories with their node, counts, last
//!   heartbeat and a stale flag (no heartbeat for [`Team::stale_after`]), and other
//!   repositories' boards, each followed live in a store of its own.
//!
//! The rows hold each task whole (summary, description, document) as JSON, so another node can
//! serve them as this node does. A file that goes stays as a tombstone (no task, no problem)
//! with the seq of its going, so a node that follows the repository reads only the rows with a
//! seq above the last it read, deletions included.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use app::model::{Envelope, ServerEvent, Task};
use serde::Serialize;
use sqlx::postgres::PgPool;
use sqlx::Row;
use tokio::sync::{broadcast, watch};

use crate::board::{FileState, SharedStore, Store};
use crate::telemetry::{postgres_listener, Pools, Telemetry};

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
    pub(crate) fn of(config: &crate::config::Config) -> Team {
        Team {
            repo: config.repo_name.clone(),
            node: config.node_name.clone(),
            heartbeat: config.stale_after / 3,
            stale_after: config.stale_after,
            viewer: config.viewer,
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
    /// What the invocations tagged with this repository cost today (UTC) and in all.
    pub(crate) cost_today: f64,
    pub(crate) cost_total: f64,
    /// No heartbeat for longer than the stale time: its node is gone (or cut off).
    pub(crate) stale: bool,
}

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

/// Reads the rows of `repo` whose seq is above `after` into `store`, in seq order; with `under`,
/// each path is put under that name and each task names it as its repository. The last seq read,
/// or `None` when there was nothing new.
async fn read_rows(
    pool: &PgPool,
    repo: &str,
    after: i64,
    store: &Store,
    under: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    let rows: Vec<(String, i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT path, seq, task::text, problem::text FROM repo_files \
         WHERE repo = $1 AND seq > $2 ORDER BY seq, path",
    )
    .bind(repo)
    .bind(after)
    .fetch_all(pool)
    .await?;
    let Some(last) = rows.iter().map(|(_, seq, _, _)| *seq).max() else {
        return Ok(None);
    };
    let placed = |path: String| match under {
        Some(name) => format!("{name}/{path}"),
        None => path,
    };
    for (path, _, task, problem) in rows {
        let state = match (task, problem) {
            (Some(task), _) => match serde_json::from_str::<Task>(&task) {
                Ok(mut task) => {
                    if let Some(lane) = &task.lane {
                        store.set_lane(task.column, lane, true);
                    }
                    if let Some(name) = under {
                        task.summary.path = placed(std::mem::take(&mut task.summary.path));
                        task.summary.repo = Some(name.to_owned());
                    }
                    FileState::Task(Box::new(task))
                }
                Err(_) => continue,
            },
            (None, Some(problem)) => match serde_json::from_str::<app::model::Problem>(&problem) {
                Ok(mut problem) => {
                    problem.path = placed(std::mem::take(&mut problem.path));
                    FileState::Invalid(problem)
                }
                Err(_) => continue,
            },
            (None, None) => FileState::Absent,
        };
        store.set(&placed(path), state);
    }
    Ok(Some(last))
}

/// The channel a node notifies `repo seq` on when it published a change.
const BOARDS_CHANNEL: &str = "execdash_boards";

async fn notify(tx: &mut sqlx::PgConnection, repo: &str, seq: i64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(BOARDS_CHANNEL)
        .bind(format!("{repo} {seq}"))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The boards of other repositories this node serves (`?repo=` on the socket and the API): a
/// store each, created when first asked for and kept up to date from the rows whose seq is above
/// the last one read, on every `NOTIFY execdash_boards` (and all of them again when the
/// notification connection was lost). Their stores number their own changes, so a client of a
/// mirror detects gaps and resyncs as a client of the local board does.
pub(crate) struct Mirrors {
    telemetry: Telemetry,
    /// Called with each store a mirror creates (the node gives it its cost figures: the team's,
    /// one database).
    on_new_board: Box<dyn Fn(&SharedStore) + Send + Sync>,
    boards: parking_lot::Mutex<HashMap<String, Mirror>>,
    /// Every repository's board together (`/all/`), once asked for.
    together: parking_lot::Mutex<Option<Together>>,
    /// One refresh at a time (a mirror's rows are applied in seq order).
    refreshing: tokio::sync::Mutex<()>,
    listening: std::sync::Once,
}

#[derive(Clone)]
struct Mirror {
    store: SharedStore,
    seq: i64,
}

/// Every repository's files in one store, each path under its repository's name
/// (`alpha/inbox/x.yaml`) and each task naming it (`repo`); the last seq read of each.
#[derive(Clone)]
struct Together {
    store: SharedStore,
    seqs: HashMap<String, i64>,
}

impl Mirrors {
    pub(crate) fn new(
        telemetry: Telemetry,
        on_new_board: impl Fn(&SharedStore) + Send + Sync + 'static,
    ) -> Arc<Mirrors> {
        Arc::new(Mirrors {
            telemetry,
            on_new_board: Box::new(on_new_board),
            boards: parking_lot::Mutex::new(HashMap::new()),
            together: parking_lot::Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            listening: std::sync::Once::new(),
        })
    }

    /// The board of `repo` as published (`None` when no node publishes that name, or the
    /// telemetry is a SQLite file).
    pub(crate) async fn board(
        self: &Arc<Self>,
        repo: &str,
    ) -> Result<Option<SharedStore>, sqlx::Error> {
        let Ok(Pools::Postgres(pool)) = self.telemetry.pools().await else {
            return Ok(None);
        };
        self.listen(&pool);
        if let Some(mirror) = self.boards.lock().get(repo) {
            return Ok(Some(mirror.store.clone()));
        }
        let known = sqlx::query("SELECT 1 FROM repos WHERE name = $1")
            .bind(repo)
            .fetch_optional(&pool)
            .await?
            .is_some();
        if !known {
            return Ok(None);
        }
        let _one = self.refreshing.lock().await;
        if let Some(mirror) = self.boards.lock().get(repo) {
            return Ok(Some(mirror.store.clone()));
        }
        let store = self
            .boards
            .lock()
            .entry(repo.to_owned())
            .or_insert_with(|| Mirror {
                store: Arc::new(Store::new()),
                seq: 0,
            })
            .store
            .clone();
        if let Err(error) = self.apply(&pool, repo).await {
            self.boards.lock().remove(repo);
            return Err(error);
        }
        store.finish_startup();
        (self.on_new_board)(&store);
        Ok(Some(store))
    }

    /// Every repository's board in one store (`None` when the telemetry is a SQLite file).
    pub(crate) async fn together(self: &Arc<Self>) -> Result<Option<SharedStore>, sqlx::Error> {
        let Ok(Pools::Postgres(pool)) = self.telemetry.pools().await else {
            return Ok(None);
        };
        self.listen(&pool);
        if let Some(together) = self.together.lock().as_ref() {
            return Ok(Some(together.store.clone()));
        }
        let _one = self.refreshing.lock().await;
        if let Some(together) = self.together.lock().as_ref() {
            return Ok(Some(together.store.clone()));
        }
        let store = Arc::new(Store::new());
        *self.together.lock() = Some(Together {
            store: store.clone(),
            seqs: HashMap::new(),
        });
        if let Err(error) = self.apply_together(&pool, None).await {
            *self.together.lock() = None;
            return Err(error);
        }
        store.finish_startup();
        (self.on_new_board)(&store);
        Ok(Some(store))
    }

    /// Reads the rows of `repo` above the mirror's seq into its store.
    async fn apply(&self, pool: &PgPool, repo: &str) -> Result<(), sqlx::Error> {
        let Some(mirror) = self.boards.lock().get(repo).cloned() else {
            return Ok(());
        };
        let Some(last) = read_rows(pool, repo, mirror.seq, &mirror.store, None).await? else {
            return Ok(());
        };
        if let Some(followed) = self.boards.lock().get_mut(repo) {
            followed.seq = last;
        }
        Ok(())
    }

    /// Reads the rows of `only` (every repository with `None`) above what was read of it into
    /// the store of every repository together.
    async fn apply_together(&self, pool: &PgPool, only: Option<&str>) -> Result<(), sqlx::Error> {
        let Some(together) = self.together.lock().clone() else {
            return Ok(());
        };
        let repos: Vec<String> = match only {
            Some(repo) => vec![repo.to_owned()],
            None => {
                sqlx::query_scalar("SELECT name FROM repos ORDER BY name")
                    .fetch_all(pool)
                    .await?
            }
        };
        for repo in repos {
            let after = together.seqs.get(&repo).copied().unwrap_or(0);
            if let Some(last) = read_rows(pool, &repo, after, &together.store, Some(&repo)).await? {
                if let Some(followed) = self.together.lock().as_mut() {
                    followed.seqs.insert(repo, last);
                }
            }
        }
        Ok(())
    }

    /// Every mirror's rows above its seq.
    async fn apply_all(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let _one = self.refreshing.lock().await;
        let repos: Vec<String> = self.boards.lock().keys().cloned().collect();
        for repo in repos {
            self.apply(pool, &repo).await?;
        }
        self.apply_together(pool, None).await
    }

    /// Starts following `execdash_boards` (once). Each time the notification connection is
    /// (re)established, every mirror is read again *after* `LISTEN` took effect: what was
    /// published while nobody listened (a PostgreSQL restart, a lost connection) is read then,
    /// and whatever comes later is notified.
    fn listen(self: &Arc<Self>, pool: &PgPool) {
        self.listening.call_once(|| {
            let mirrors = self.clone();
            let pool = pool.clone();
            tokio::spawn(async move {
                loop {
                    let mut listener = postgres_listener(&pool, BOARDS_CHANNEL).await;
                    if let Err(error) = mirrors.apply_all(&pool).await {
                        tracing::warn!("cannot follow the boards: {error}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    // `None`: the connection was lost; notifications sent meanwhile are lost too.
                    while let Ok(Some(notification)) = listener.try_recv().await {
                        let Some((repo, _)) = notification.payload().rsplit_once(' ') else {
                            continue;
                        };
                        let _one = mirrors.refreshing.lock().await;
                        let applied = match mirrors.apply(&pool, repo).await {
                            Ok(()) => mirrors.apply_together(&pool, Some(repo)).await,
                            Err(error) => Err(error),
                        };
                        if let Err(error) = applied {
                            tracing::warn!(%repo, "cannot follow the board: {error}");
                            break;
                        }
                    }
                    tracing::info!("board notifications interrupted; listening again");
                }
            });
        });
    }
}
