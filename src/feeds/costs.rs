//! Keeps the board's cost figures current: recomputes the summary when the telemetry database
//! changes (our ingestion, or another process such as the original Python logger), at most five
//! times a second, and once a minute anyway so "today" and the 5-minute window move on.
//!
//! Read-your-writes: a `POST /api/invocations` answers only after [`CostFeed::after_write`], which
//! waits out a recomputation that started before the commit (so every `cost.update` published
//! after the answer includes the write), and [`CostFeed::fresh`] recomputes on demand when the
//! figures are older than the last change the database reported (`/api/stats`).

use std::sync::Arc;
use std::time::Duration;

use app::model::CostRange;
use tokio::sync::{watch, Mutex};

use crate::board::{SharedStore, Store};
use crate::telemetry::Telemetry;

/// Pause after each recomputation; changes meanwhile are folded into the next one.
const MIN_INTERVAL: Duration = Duration::from_millis(200);
const EVERY: Duration = Duration::from_secs(60);

/// The store's cost figures and what they were computed from.
pub(crate) struct CostFeed {
    telemetry: Telemetry,
    store: SharedStore,
    /// Other boards that show the same figures (a team's other repositories), while they live.
    also: parking_lot::Mutex<Vec<std::sync::Weak<Store>>>,
    /// Held while a summary is computed and published; holds the change count the store's
    /// figures include (the count read before the computation started).
    computed_from: Mutex<Option<u64>>,
}

impl CostFeed {
    pub(crate) fn new(telemetry: Telemetry, store: SharedStore) -> Arc<CostFeed> {
        Arc::new(CostFeed {
            telemetry,
            store,
            also: parking_lot::Mutex::new(Vec::new()),
            computed_from: Mutex::new(None),
        })
    }

    /// Recomputes the 7-day summary into the store (which publishes `cost.update` if it
    /// changed). A failure is kept by [`Telemetry::problem`] and logged.
    pub(crate) async fn refresh(&self) {
        let mut computed_from = self.computed_from.lock().await;
        self.compute(&mut computed_from).await;
    }

    async fn compute(&self, computed_from: &mut Option<u64>) {
        let changes = self.telemetry.changes_seen();
        match self
            .telemetry
            .summary(CostRange::Days7, chrono::Utc::now())
            .await
        {
            Ok(summary) => {
                self.also.lock().retain(|board| match board.upgrade() {
                    Some(board) => {
                        board.set_costs(summary.clone());
                        true
                    }
                    None => false,
                });
                self.store.set_costs(summary);
                *computed_from = Some(changes);
            }
            Err(err) => tracing::warn!("cannot compute the cost summary: {err}"),
        }
    }

    /// `board` shows the same figures from now on (the ones computed last at once).
    pub(crate) fn show_in(&self, board: &SharedStore) {
        if let Some(costs) = self.store.costs() {
            board.set_costs(costs);
        }
        self.also.lock().push(Arc::downgrade(board));
    }

    /// Returns once the figures in the store include every change reported so far (computing
    /// them now if they do not).
    pub(crate) async fn fresh(&self) {
        let mut computed_from = self.computed_from.lock().await;
        if *computed_from != Some(self.telemetry.changes_seen()) {
            self.compute(&mut computed_from).await;
        }
    }

    /// Waits for a computation in progress (it may have started before the caller's commit);
    /// every later one starts after it.
    pub(crate) async fn after_write(&self) {
        drop(self.computed_from.lock().await);
    }

    /// The loop that follows the database's changes until `shutdown`.
    pub(crate) fn spawn(
        self: Arc<Self>,
        shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let changes = self.telemetry.watch_changes();
        tokio::spawn(follow_throttled(changes, shutdown, move || {
            let feed = self.clone();
            async move { feed.refresh().await }
        }))
    }
}

/// Runs `refresh` after each change `changes` reports, at least [`EVERY`] anyway, and never
/// sooner than [`MIN_INTERVAL`] after the last run ended (changes meanwhile make one run), until
/// `shutdown`.
async fn follow_throttled<F, Fut>(
    mut changes: watch::Receiver<u64>,
    mut shutdown: watch::Receiver<bool>,
    mut refresh: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    changes.mark_unchanged();
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => break,
        }
        refresh().await;
        tokio::time::sleep(MIN_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;
    use crate::board::Store;
    use crate::telemetry::Invocation;

    /// On paused time: the loop's timers and the test's run on tokio's clock, so what is
    /// counted depends on the throttle alone, not on how busy the machine is.
    #[tokio::test(start_paused = true)]
    async fn changes_every_20_ms_make_at_most_one_run_per_interval_and_the_last_is_run() {
        let (change, changes) = watch::channel(0u64);
        let (stop, shutdown) = watch::channel(false);
        let (ran, mut runs) = tokio::sync::mpsc::unbounded_channel();
        let seen = changes.clone();
        let follower = tokio::spawn(follow_throttled(changes, shutdown, move || {
            let (ran, seen) = (ran.clone(), *seen.borrow());
            async move { ran.send((Instant::now(), seen)).unwrap() }
        }));
        let started = Instant::now();
        // One change every 20 ms for a second: unthrottled, that would be 50 runs.
        for i in 1..=50 {
            change.send(i).unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The last run comes at most one interval after the last change.
        tokio::time::sleep(MIN_INTERVAL * 2).await;
        stop.send(true).unwrap();
        follower.await.unwrap();
        let runs: Vec<(Instant, u64)> = std::iter::from_fn(|| runs.try_recv().ok()).collect();
        let most = (Duration::from_secs(1).as_millis() / MIN_INTERVAL.as_millis()) as usize + 1;
        assert!(
            (2..=most).contains(&runs.len()),
            "{} runs (at most {most})",
            runs.len()
        );
        for pair in runs.windows(2) {
            assert!(
                pair[1].0 - pair[0].0 >= MIN_INTERVAL,
                "two runs {:?} apart",
                pair[1].0 - pair[0].0
            );
        }
        assert_eq!(runs.last().unwrap().1, 50, "the last change was run");
        assert!(runs[0].0 - started < Duration::from_millis(25));
    }

    #[tokio::test(start_paused = true)]
    async fn with_no_change_it_runs_once_a_minute() {
        let (_change, changes) = watch::channel(0u64);
        let (stop, shutdown) = watch::channel(false);
        let (ran, mut runs) = tokio::sync::mpsc::unbounded_channel();
        let follower = tokio::spawn(follow_throttled(changes, shutdown, move || {
            let ran = ran.clone();
            async move { ran.send(Instant::now()).unwrap() }
        }));
        let started = Instant::now();
        tokio::time::sleep(EVERY * 3 + MIN_INTERVAL * 4).await;
        stop.send(true).unwrap();
        follower.await.unwrap();
        let runs: Vec<Instant> = std::iter::from_fn(|| runs.try_recv().ok()).collect();
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert!(runs[0] - started >= EVERY);
    }

    /// The real thing: writes into a real SQLite file reach the store's figures, all of them.
    #[tokio::test]
    async fn a_stream_of_writes_ends_in_figures_that_count_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let telemetry = Telemetry::open(&dir.path().join("telemetry.db"))
            .await
            .unwrap();
        let store = Arc::new(Store::new());
        let (stop, shutdown) = watch::channel(false);
        let feed = CostFeed::new(telemetry.clone(), store.clone()).spawn(shutdown);
        for i in 0..50 {
            let mut invocation = Invocation::new(&format!("burst-{i}"), "codex", "gpt-5");
            invocation.cost_usd = 0.01;
            telemetry.ingest(vec![invocation]).await.unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while store.costs().map(|c| c.totals.invocations) != Some(50) {
            assert!(
                std::time::Instant::now() < deadline,
                "the last update never came"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.send(true).unwrap();
        feed.await.unwrap();
    }
}
