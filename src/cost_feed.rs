//! Keeps the board's cost figures current: recomputes the summary when the telemetry database
//! changes (our ingestion, or another process such as the original Python logger), at most five
//! times a second, and once a minute anyway so "today" and the 5-minute window move on.

use std::time::Duration;

use app::model::CostRange;
use tokio::sync::watch;

use crate::board::SharedStore;
use crate::telemetry::Telemetry;

/// Pause after each recomputation; changes meanwhile are folded into the next one.
const MIN_INTERVAL: Duration = Duration::from_millis(200);
const EVERY: Duration = Duration::from_secs(60);

/// Recomputes the 7-day summary into the store (which publishes `cost.update` if it changed).
pub(crate) async fn refresh(telemetry: &Telemetry, store: &SharedStore) {
    match telemetry
        .summary(CostRange::Days7, chrono::Utc::now())
        .await
    {
        Ok(summary) => {
            store.set_costs(summary);
        }
        Err(err) => tracing::warn!("cannot compute the cost summary: {err}"),
    }
}

pub(crate) fn spawn(
    telemetry: Telemetry,
    store: SharedStore,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut changes = telemetry.watch_changes();
        changes.mark_unchanged();
        loop {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { break },
                _ = tokio::time::sleep(EVERY) => {}
                _ = shutdown.changed() => break,
            }
            refresh(&telemetry, &store).await;
            tokio::time::sleep(MIN_INTERVAL).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
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
        let (_, mut events) = store.subscribe();
        let (stop, shutdown) = watch::channel(false);
        let feed = spawn(telemetry.clone(), store.clone(), shutdown);
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
