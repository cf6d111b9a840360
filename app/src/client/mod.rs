//! The browser side: hydration, the live socket, the polling fallback, what is fetched on
//! demand, and the clock.

mod fetch;
mod socket;

use leptos::prelude::*;

use crate::components::App;
use crate::model::Snapshot;
use crate::state::Dashboard;
use crate::STATE_ELEMENT_ID;

/// Reads the server's snapshot from the page, hydrates the body and goes live.
pub fn hydrate_dashboard() {
    let snapshot = initial_snapshot().unwrap_or_default();
    leptos::mount::hydrate_body(move || {
        let dashboard = Dashboard::new(snapshot, now_ms());
        socket::connect(dashboard);
        socket::poll_while_disconnected(dashboard);
        tick_clock(dashboard);
        fetch::follow_cost_range(dashboard);
        fetch::follow_lanes(dashboard);
        fetch::follow_selection(dashboard);
        fetch::follow_first_reading(dashboard);
        view! { <App dashboard/> }
    });
}

fn initial_snapshot() -> Option<Snapshot> {
    let text = web_sys::window()?
        .document()?
        .get_element_by_id(STATE_ELEMENT_ID)?
        .text_content()?;
    serde_json::from_str(&text).ok()
}

/// The path the server lives under (`""` or `/dashboard`), from `<html data-base>`.
pub(crate) fn base_path() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute("data-base"))
        .unwrap_or_default()
}

pub(crate) fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Keeps the cards' ages current.
fn tick_clock(dashboard: Dashboard) {
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(15_000).await;
            dashboard.now_ms.set(now_ms());
        }
    });
}
