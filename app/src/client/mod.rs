//! The browser side: hydration, the live socket, the polling fallback, what is fetched on
//! demand, and the clock.

mod fetch;
pub(crate) mod notify;
mod socket;

pub(crate) use fetch::{
    fetch_repos, follow_agent, follow_agents, follow_connect, follow_forecast, follow_history,
    follow_initiative_costs, follow_mcp, follow_portfolio, get_json,
};

use leptos::prelude::*;

use crate::components::App;
use crate::model::{
    AgentList, AgentPage, ConnectInfo, FilteredBoard, Forecast, History, McpOverview, Portfolio,
    PortfolioCosts, Snapshot, TaskDetails,
};
use crate::state::{Dashboard, InitialView, PageSettings};
use crate::{
    AGENTS_ELEMENT_ID, AGENT_PAGE_ELEMENT_ID, CONNECT_ELEMENT_ID, DETAIL_ELEMENT_ID,
    FILTERED_ELEMENT_ID, FORECAST_ELEMENT_ID, HISTORY_ELEMENT_ID, INITIATIVE_COSTS_ELEMENT_ID,
    MCP_ELEMENT_ID, PORTFOLIO_ELEMENT_ID, STATE_ELEMENT_ID,
};

/// Reads the server's snapshot from the page, hydrates the body and goes live.
pub fn hydrate_dashboard() {
    let snapshot = initial_snapshot().unwrap_or_default();
    let settings = PageSettings {
        base: base_path(),
        home: html_attribute("data-home").unwrap_or_default(),
        writable: html_attribute("data-writable").is_some_and(|v| v == "true"),
        repo: html_attribute("data-repo").unwrap_or_default(),
        local_repo: html_attribute("data-local-repo").unwrap_or_default(),
    };
    // As the server rendered it: the task the address names, or that there is none.
    let task = crate::navigation::task_in_location(&settings.base).map(|id| {
        let detail = initial_detail()
            .filter(|d| d.answers(&id))
            .ok_or_else(|| crate::state::task_not_found(&id));
        (id, detail)
    });
    let filter = crate::navigation::filter_in_location();
    let filtered =
        json_element::<FilteredBoard>(FILTERED_ELEMENT_ID).filter(|f| f.filter == filter);
    let view = InitialView {
        task,
        filter,
        filtered,
        portfolio: json_element::<Portfolio>(PORTFOLIO_ELEMENT_ID),
        initiative_costs: json_element::<PortfolioCosts>(INITIATIVE_COSTS_ELEMENT_ID),
        forecast: json_element::<Forecast>(FORECAST_ELEMENT_ID),
        agents: json_element::<AgentList>(AGENTS_ELEMENT_ID),
        agent_page: json_element::<AgentPage>(AGENT_PAGE_ELEMENT_ID),
        history: json_element::<History>(HISTORY_ELEMENT_ID),
        mcp: json_element::<McpOverview>(MCP_ELEMENT_ID),
        connect: json_element::<ConnectInfo>(CONNECT_ELEMENT_ID),
        not_found: false,
    };
    leptos::mount::hydrate_body(move || {
        let dashboard = Dashboard::with_settings(snapshot, now_ms(), settings, view);
        crate::navigation::follow_history(dashboard);
        close_on_escape(dashboard);
        socket::connect(dashboard);
        socket::poll_while_disconnected(dashboard);
        tick_clock(dashboard);
        fetch::follow_cost_range(dashboard);
        fetch::follow_lanes(dashboard);
        fetch::follow_selection(dashboard);
        fetch::follow_filter(dashboard);
        fetch::follow_first_reading(dashboard);
        view! { <App dashboard/> }
    });
}

fn initial_snapshot() -> Option<Snapshot> {
    json_element(STATE_ELEMENT_ID)
}

/// The task the page was rendered with (`/tasks/{id}`).
fn initial_detail() -> Option<TaskDetails> {
    json_element(DETAIL_ELEMENT_ID)
}

fn json_element<T: serde::de::DeserializeOwned>(id: &str) -> Option<T> {
    let text = web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .text_content()?;
    serde_json::from_str(&text).ok()
}

fn html_attribute(name: &str) -> Option<String> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute(name))
}

/// The path the server lives under (`""` or `/dashboard`), from `<html data-base>`.
pub(crate) fn base_path() -> String {
    html_attribute("data-base").unwrap_or_default()
}

fn typing_in_a_field(ev: &web_sys::KeyboardEvent) -> bool {
    let target = ev
        .target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok());
    target.is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// Escape closes the task's detail; `/` focuses the search.
fn close_on_escape(dashboard: Dashboard) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && dashboard.selected.get_untracked().is_some() {
            crate::navigation::close_task(dashboard);
        }
        if ev.key() == "/" && !typing_in_a_field(&ev) {
            let search = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("search"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(search) = search {
                ev.prevent_default();
                let _ = search.focus();
            }
        }
    });
    std::mem::forget(handle);
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
