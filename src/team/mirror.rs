//! Reading: the other repositories' boards, each followed live in a store of its own (see the
//! [module](super) for the rows it reads).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use app::model::Task;
use sqlx::postgres::PgPool;

use super::BOARDS_CHANNEL;
use crate::board::{FileState, SharedStore, Store};
use crate::telemetry::{postgres_listener, Pools, Telemetry};

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
                        let error = crate::telemetry::postgres_explained(&pool, error).await;
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
                            let error = crate::telemetry::postgres_explained(&pool, error).await;
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
