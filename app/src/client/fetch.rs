//! What the page fetches over HTTP besides the socket: the cards of a lane beyond its first
//! ones, the selected task whole, the cost summary of another range, and the board while the
//! server is still reading it for the first time.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use leptos::prelude::*;

use crate::model::{CostRange, CostSummary, LanePage, Snapshot, Task};
use crate::state::Dashboard;

/// Keeps every lane's shown cards held: fetches a lane's top again when the user asked for more,
/// or when a deletion left fewer cards held than shown. A page read at another `seq` than the
/// board's is dropped and asked for again once the board moves (or after a short wait).
pub(super) fn follow_lanes(dashboard: Dashboard) {
    let in_flight: Rc<RefCell<BTreeSet<String>>> = Rc::default();
    Effect::new(move |_| {
        let wanted = dashboard.board.with(|b| b.lanes_to_fetch());
        for (lane, limit) in wanted {
            if !in_flight.borrow_mut().insert(lane.clone()) {
                continue;
            }
            let in_flight = in_flight.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let url = format!(
                    "{}/api/board/lane?lane={}&limit={limit}",
                    super::base_path(),
                    js_sys::encode_uri_component(&lane)
                );
                let page = match gloo_net::http::Request::get(&url).send().await {
                    Ok(response) if response.ok() => response.json::<LanePage>().await.ok(),
                    _ => None,
                };
                let taken = page.is_some_and(|page| {
                    let mut taken = false;
                    dashboard.board.update(|b| taken = b.add_page(page));
                    taken
                });
                in_flight.borrow_mut().remove(&lane);
                if !taken {
                    gloo_timers::future::TimeoutFuture::new(1_000).await;
                    // Look again: the effect runs when the board is touched.
                    dashboard.board.update(|_| ());
                }
            });
        }
    });
}

/// Fetches the selected task whole, again whenever its card changes.
pub(super) fn follow_selection(dashboard: Dashboard) {
    Effect::new(move |_| {
        let Some(path) = dashboard.selected.get() else {
            dashboard.detail.set(None);
            return;
        };
        // Tracked so a live change of the card fetches it again.
        dashboard.board.with(|b| b.cards.get(&path).map(|c| c.rev));
        wasm_bindgen_futures::spawn_local(async move {
            let url = format!(
                "{}/api/board/task?path={}",
                super::base_path(),
                js_sys::encode_uri_component(&path)
            );
            let Ok(response) = gloo_net::http::Request::get(&url).send().await else {
                return;
            };
            if let Ok(task) = response.json::<Task>().await {
                if dashboard.selected.get_untracked().as_deref() == Some(task.path.as_str()) {
                    dashboard.detail.set(Some(task));
                }
            }
        });
    });
}

/// Fetches the cost summary of the selected range when it is not the board's 7 days, again
/// whenever the costs change.
pub(super) fn follow_cost_range(dashboard: Dashboard) {
    Effect::new(move |_| {
        let range = dashboard.cost_range.get();
        dashboard
            .board
            .with(|b| b.costs.as_ref().map(|c| c.generated_at.clone()));
        if range == CostRange::Days7 {
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            let url = format!("{}/api/costs?range={}", super::base_path(), range.as_str());
            let Ok(response) = gloo_net::http::Request::get(&url).send().await else {
                return;
            };
            if let Ok(summary) = response.json::<CostSummary>().await {
                if dashboard.cost_range.get_untracked() == summary.range {
                    dashboard.range_costs.set(Some(summary));
                }
            }
        });
    });
}

/// While the server reads the board for the first time, asks how far it got every 300 ms; takes
/// the whole board once it is read. Watches the board, so a snapshot that still said "reading"
/// (one sent just before the end) starts it again.
pub(super) fn follow_first_reading(dashboard: Dashboard) {
    let polling = Rc::new(std::cell::Cell::new(false));
    Effect::new(move |_| {
        if dashboard.board.with(|b| b.reading.is_none()) || polling.replace(true) {
            return;
        }
        let polling = polling.clone();
        wasm_bindgen_futures::spawn_local(async move {
            while dashboard.board.with_untracked(|b| b.reading.is_some()) {
                gloo_timers::future::TimeoutFuture::new(300).await;
                let url = format!("{}/api/snapshot", super::base_path());
                let snapshot = match gloo_net::http::Request::get(&url).send().await {
                    Ok(response) if response.ok() => response.json::<Snapshot>().await.ok(),
                    _ => None,
                };
                let Some(snapshot) = snapshot else { continue };
                dashboard.board.update(|board| match snapshot.reading {
                    Some(progress) => board.reading = Some(progress),
                    None => board.replace(snapshot),
                });
            }
            polling.set(false);
        });
    });
}
