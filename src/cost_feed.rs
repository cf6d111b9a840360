//! Keeps the board's cost figures current: recomputes the summary when the telemetry database
//! changes (our ingestion, or another process such as the original Python logger), at most five
//! times a second, and once a minute anyway so "today" and the 5-minute window move on.

use std::time::Duration;

use app::model::CostRange;
use tokio::sync::watch;

use crate::store::SharedStore;
use crate::telemetry::Telemetry;

/// Pause after each recomputation; changes meanwhile are folded into the next one.
const MIN_INTERVAL: Duration = Duration::from_millis(200);
const EVERY: Duration = Duration::from_secs(60);

/// Recomputes the 7-day summary into the store (which publishes `cost.update` if it changed).
pub async fn refresh(telemetry: &Telemetry, store: &SharedStore) {
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

pub fn spawn(
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
