//! What the live core fetches over HTTP besides the socket: the cards of a lane beyond its first
//! ones, the board under a filter, and the board while the server is still reading it for the
//! first time. (A page's own data, and the open task's, is its `Resource`: `crate::api`.) What
//! decides to fetch is in the main module; each fetch and what it does with the answer is a
//! lazily loaded function (`#[lazy]`), loaded on first use: the board goes live without them.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

use crate::api::get_json;
use crate::model::Keyed;
use crate::model::{FilteredBoard, LanePage, Snapshot, TaskFilter};
use crate::state::Dashboard;

/// Keeps every lane's shown cards held: fetches a lane's top again when the user asked for more,
/// or when a deletion left fewer cards held than shown. A page read at another `seq` than the
/// board's is dropped and asked for again once the board moves (or after a short wait).
pub(super) fn follow_lanes(dashboard: Dashboard) {
    let in_flight: Rc<RefCell<Keyed<()>>> = Rc::default();
    Effect::new(move |_| {
        let wanted = dashboard.board.with(|b| b.lanes_to_fetch());
        for (lane, limit) in wanted {
            if in_flight.borrow_mut().insert(lane.clone(), ()).is_some() {
                continue;
            }
            let in_flight = in_flight.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let taken = fetch_lane(dashboard, lane.clone(), limit).await;
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

/// A lane's first `limit` cards (`GET /api/board/lane`), taken into the board if they were read
/// at its `seq`: whether they were. Loaded with its first use (a lane shown longer, or one a
/// deletion left short), not with the board.
#[lazy]
async fn fetch_lane(dashboard: Dashboard, lane: String, limit: usize) -> bool {
    let path = format!(
        "/api/board/lane?lane={}&limit={limit}",
        js_sys::encode_uri_component(&lane)
    );
    let page = get_json::<LanePage>(&path).await.ok();
    page.is_some_and(|page| {
        let mut taken = false;
        dashboard.board.update(|b| taken = b.add_page(page));
        taken
    })
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
            read_until_whole(dashboard).await;
            polling.set(false);
        });
    });
}

/// Asks how far the first reading got (`GET /api/snapshot`) every 300 ms until the board is
/// whole, and takes it then. Loaded only while a server reads its board for the first time.
#[lazy]
async fn read_until_whole(dashboard: Dashboard) {
    while dashboard.board.with_untracked(|b| b.reading.is_some()) {
        gloo_timers::future::TimeoutFuture::new(300).await;
        let Ok(snapshot) = get_json::<Snapshot>("/api/snapshot").await else {
            continue;
        };
        dashboard.board.update(|board| match snapshot.reading {
            Some(progress) => board.reading = Some(progress),
            None => board.replace(snapshot),
        });
    }
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
            fetch_filtered(dashboard, filter).await;
            in_flight.set(false);
            // The filter or the board may have moved while the answer came.
            again.update(|n| *n += 1);
        });
    });
}

/// The board as `filter` sees it (`GET /api/board/filtered`), kept if the filter is still the
/// page's. Loaded with the first filter the page asks for (one the address names came with the
/// page), not with the board.
#[lazy]
async fn fetch_filtered(dashboard: Dashboard, filter: TaskFilter) {
    let path = format!("/api/board/filtered?{}", filter.to_query());
    if let Ok(answer) = get_json::<FilteredBoard>(&path).await {
        if dashboard.filter.with_untracked(|f| *f == answer.filter) {
            dashboard.filtered.set(Some(answer));
        }
    }
}

/// The team's repositories (`GET /api/repos`).
pub(crate) async fn fetch_repos() -> Option<Vec<crate::model::RepoStatus>> {
    get_json::<crate::model::RepoList>("/api/repos")
        .await
        .ok()
        .map(|list| list.repos)
}
