//! What the page fetches over HTTP besides the socket: the cards of a lane beyond its first
//! ones, the selected task whole, the cost summary of another range, and the board while the
//! server is still reading it for the first time.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use leptos::prelude::*;

use crate::model::{CostRange, CostSummary, FilteredBoard, LanePage, Snapshot, TaskDetails};
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

/// Fetches the selected task whole, again whenever its card changes (so a live change shows the
/// server's new rendering). A task the page was rendered with is not fetched again at once.
pub(super) fn follow_selection(dashboard: Dashboard) {
    Effect::new(move |previous: Option<Option<(String, Option<u64>)>>| {
        let Some(id) = dashboard.selected.get() else {
            dashboard.detail.set(None);
            return None;
        };
        // Tracked so a live change of the card fetches it again.
        let rev = dashboard.board.with(|b| b.card_with_id(&id).map(|c| c.rev));
        let key = Some((id.clone(), rev));
        let held = dashboard
            .detail
            .with_untracked(|d| matches!(d, Some(Ok(details)) if details.answers(&id)));
        if previous.is_none() && held {
            // The page came with this task.
            return key;
        }
        if previous.as_ref() == Some(&key) {
            return key;
        }
        if !held {
            dashboard.detail.set(None);
        }
        wasm_bindgen_futures::spawn_local(async move {
            let path = format!("/api/board/task?id={}", js_sys::encode_uri_component(&id));
            let outcome = get_json::<TaskDetails>(&path).await;
            if dashboard.selected.get_untracked().as_deref() == Some(id.as_str()) {
                dashboard.detail.set(Some(outcome));
            }
        });
        key
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

/// Under a filter, asks the server for the board as the filter sees it whenever the filter or
/// the board changes: one request at a time, then once more if either moved meanwhile.
pub(super) fn follow_filter(dashboard: Dashboard) {
    let in_flight = Rc::new(std::cell::Cell::new(false));
    let again = RwSignal::new(0u32);
    Effect::new(move |_| {
        again.track();
        let filter = dashboard.filter.get();
        let seq = dashboard.board.with(|b| b.seq);
        if filter.is_empty() {
            return;
        }
        let answered = dashboard.filtered.with_untracked(|f| {
            f.as_ref()
                .is_some_and(|f| f.filter == filter && f.seq == seq)
        });
        if answered || in_flight.replace(true) {
            return;
        }
        let in_flight = in_flight.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let url = format!(
                "{}/api/board/filtered?{}",
                super::base_path(),
                filter.to_query()
            );
            let answer = match gloo_net::http::Request::get(&url).send().await {
                Ok(response) if response.ok() => response.json::<FilteredBoard>().await.ok(),
                _ => None,
            };
            if let Some(answer) = answer {
                if dashboard.filter.with_untracked(|f| *f == answer.filter) {
                    dashboard.filtered.set(Some(answer));
                }
            }
            in_flight.set(false);
            // The filter or the board may have moved while the answer came.
            again.update(|n| *n += 1);
        });
    });
}

/// While the initiatives page is shown: the portfolio, fetched again whenever the board changes.
pub(crate) fn follow_portfolio(dashboard: Dashboard) {
    follow_fetched(dashboard.portfolio, move || {
        ("/api/portfolio".to_owned(), dashboard.board.with(|b| b.seq))
    });
}

/// While the costs page is shown: the cost of each initiative, fetched again whenever the costs
/// or the board change.
pub(crate) fn follow_initiative_costs(dashboard: Dashboard) {
    follow_fetched(dashboard.initiative_costs, move || {
        let moved = dashboard.board.with(|b| {
            let costs = b.costs.as_ref().map(|c| c.generated_at.clone());
            (b.seq, costs)
        });
        ("/api/costs/initiatives".to_owned(), moved)
    });
}

/// While the costs page is shown: the spending forecast, fetched again whenever the costs change
/// (a `cost.update` carries a new summary).
pub(crate) fn follow_forecast(dashboard: Dashboard) {
    follow_fetched(dashboard.forecast, move || {
        let moved = dashboard
            .board
            .with(|b| b.costs.as_ref().map(|c| c.generated_at.clone()));
        ("/api/forecast".to_owned(), moved)
    });
}

/// While the agents page is shown: every agent (as the costs page's data).
pub(crate) fn follow_agents(dashboard: Dashboard) {
    follow_fetched(dashboard.agents, move || {
        let moved = dashboard.board.with(|b| {
            let costs = b.costs.as_ref().map(|c| c.generated_at.clone());
            (b.seq, costs)
        });
        ("/api/agents".to_owned(), moved)
    });
}

/// While the "Connect your agents" page is shown: its sources, fetched again as the costs change
/// (a call arriving from an agent changes them).
pub(crate) fn follow_connect(dashboard: Dashboard) {
    follow_fetched(dashboard.connect, move || {
        let moved = dashboard
            .board
            .with(|b| b.costs.as_ref().map(|c| c.generated_at.clone()));
        ("/api/connect".to_owned(), moved)
    });
}

/// While an agent's page is shown: that agent (`name`, tracked: the route's parameter).
pub(crate) fn follow_agent(dashboard: Dashboard, name: Signal<String>) {
    follow_fetched(dashboard.agent_page, move || {
        let moved = dashboard.board.with(|b| {
            let costs = b.costs.as_ref().map(|c| c.generated_at.clone());
            (b.seq, costs)
        });
        let path = format!(
            "/api/agents/{}",
            crate::navigation::encode_segment(&name.get())
        );
        (path, moved)
    });
}

/// While the history page is shown: the history of `range` (tracked: the address's), fetched
/// again whenever the board changes.
pub(crate) fn follow_history(dashboard: Dashboard, range: Signal<crate::model::HistoryRange>) {
    follow_fetched(dashboard.history, move || {
        let path = format!("/api/history?range={}", range.get().as_str());
        (path, dashboard.board.with(|b| b.seq))
    });
}

/// While the MCP page is shown: the servers, fetched again whenever the board's stream moves
/// (`mcp.server.status`, `mcp.tools.changed` are on it).
pub(crate) fn follow_mcp(dashboard: Dashboard) {
    follow_fetched(dashboard.mcp, move || {
        (
            "/api/mcp/servers".to_owned(),
            dashboard.board.with(|b| b.seq),
        )
    });
}

thread_local! {
    /// The addresses [`follow_fetched`] has fetched before: only the first time can what is held
    /// be the server's fresh rendering (later, it is what an earlier visit of the page left).
    static FOLLOWED: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// Keeps `target` as the server answers the path `source` names: fetched whenever `source`
/// (tracked: the path and what the answer depends on) changes, one request at a time (a change
/// during one asks for another when it ends); not at once when the page came with it (what is
/// held meanwhile shows). A failure keeps what was shown.
fn follow_fetched<T, K>(
    target: RwSignal<Option<Result<T, String>>>,
    source: impl Fn() -> (String, K) + 'static,
) where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
    K: PartialEq + 'static,
{
    let in_flight = StoredValue::new(false);
    let again = StoredValue::new(None::<String>);
    Effect::new(move |seen: Option<(String, K)>| {
        let now = source();
        let first_visit = FOLLOWED.with(|followed| followed.borrow_mut().insert(now.0.clone()));
        let held = target.with_untracked(|t| matches!(t, Some(Ok(_))));
        if seen.is_none() && held && first_visit {
            return now;
        }
        fetch_into(target, now.0.clone(), in_flight, again);
        now
    });
}

fn fetch_into<T>(
    target: RwSignal<Option<Result<T, String>>>,
    path: String,
    in_flight: StoredValue<bool>,
    again: StoredValue<Option<String>>,
) where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    if in_flight.get_value() {
        again.set_value(Some(path));
        return;
    }
    in_flight.set_value(true);
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = get_json::<T>(&path).await;
        if outcome.is_ok() || target.with_untracked(Option::is_none) {
            target.set(Some(outcome));
        }
        in_flight.set_value(false);
        if let Some(next) = again.get_value() {
            again.set_value(None);
            fetch_into(target, next, in_flight, again);
        }
    });
}

/// `GET {base}{path}` as `T`, or why not: the server's `error` when it refused, else the status;
/// or that it could not be reached or its answer read.
pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, String> {
    let url = format!("{}{path}", super::base_path());
    match gloo_net::http::Request::get(&url).send().await {
        Ok(response) if response.ok() => response
            .json::<T>()
            .await
            .map_err(|e| format!("the answer could not be read: {e}")),
        Ok(response) => Err(response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {}", response.status()))),
        Err(error) => Err(format!("the server could not be reached: {error}")),
    }
}

/// The team's repositories (`GET /api/repos`).
pub(crate) async fn fetch_repos() -> Option<Vec<crate::model::RepoStatus>> {
    get_json::<crate::model::RepoList>("/api/repos")
        .await
        .ok()
        .map(|list| list.repos)
}
