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
        mut shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut changes = self.telemetry.watch_changes();
            changes.mark_unchanged();
            loop {
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { break },
                    _ = tokio::time::sleep(EVERY) => {}
                    _ = shutdown.changed() => break,
                }
                self.refresh().await;
                tokio::time::sleep(MIN_INTERVAL).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::board::Store;
    use crate::telemetry::Invocation;

    #[tokio::test]
    async fn a_stream_of_writes_is_folded_into_few_updates_and_the_last_counts_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let telemetry = Telemetry::open(&dir.path().join("telemetry.db"))
            .await
            .unwrap();
        let store = Arc::new(Store::new());
        let (_, mut events) = store.subscribe(None);
        let (stop, shutdown) = watch::channel(false);
        let feed = CostFeed::new(telemetry.clone(), store.clone()).spawn(shutdown);
        // One write every 20 ms for a second: unthrottled, that would be 50 updates.
        let started = Instant::now();
        for i in 0..50 {
            let mut invocation = Invocation::new(&format!("burst-{i}"), "codex", "gpt-5");
            invocation.cost_usd = 0.01;
            telemetry.ingest(vec![invocation]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while store.costs().map(|c| c.totals.invocations) != Some(50) {
            assert!(Instant::now() < deadline, "the last update never came");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let elapsed = started.elapsed();
        let updates = std::iter::from_fn(|| events.try_recv().ok())
            .filter(|frame| frame.json.contains(r#""type":"cost.update""#))
            .count() as u128;
        let most = elapsed.as_millis() / MIN_INTERVAL.as_millis() + 2;
        assert!(
            (1..=most).contains(&updates),
            "{updates} updates in {elapsed:?} (at most {most})"
        );
        stop.send(true).unwrap();
        feed.await.unwrap();
    }
}
