//! The browser side: hydration, the live socket, the polling fallback, what is fetched on
//! demand, and the clock.

mod fetch;
pub(crate) mod notify;
mod socket;

pub(crate) use fetch::fetch_repos;

use leptos::prelude::*;

use crate::components::{App, LazyPage};
use crate::state::{Connection, Dashboard, InitialView, PageSettings};

/// Hydrates the body on what the server rendered it with and goes live, on the socket boot.js
/// opened (`early_socket`, see [`socket::connect`]) when there is one.
pub fn hydrate_dashboard(early_socket: wasm_bindgen::JsValue) {
    let settings = PageSettings {
        base: base_path(),
        home: html_attribute("data-home").unwrap_or_default(),
        writable: html_attribute("data-writable").is_some_and(|v| v == "true"),
        repo: html_attribute("data-repo").unwrap_or_default(),
        local_repo: html_attribute("data-local-repo").unwrap_or_default(),
    };
    // The page's lazily loaded module first (the server preloads its files with the page), then
    // hydration, synchronously: the vendored tachys keeps one hydration path for every view
    // (vendor/README.md), so the router must find the route's view loaded. Then live: a change
    // applied before hydration would make the page differ from the HTML it hydrates.
    wasm_bindgen_futures::spawn_local(async move {
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        let base = settings.base.clone();
        if let Some(page) = LazyPage::at(path.strip_prefix(base.as_str()).unwrap_or(&path)) {
            page.load().await;
        }
        let root = std::rc::Rc::new(std::cell::RefCell::new(None));
        let body = document().body().expect("the page has a body");
        let hydrated = leptos::mount::hydrate_from(body, {
            let root = root.clone();
            move || {
                // What the server wrote into the page's hydration data (the server parsed the
                // address's filter); an empty board should it be missing, which the socket then
                // fills.
                let view = InitialView::shared(|| InitialView {
                    now_ms: now_ms(),
                    ..InitialView::default()
                });
                let dashboard = Dashboard::with_settings(settings, view);
                provide_context(dashboard);
                *root.borrow_mut() = Owner::current().map(|owner| (owner, dashboard));
                view! { <App/> }
            }
        });
        mark("execdash:hydrated");
        if let Some((owner, dashboard)) = root.take() {
            owner.with(|| go_live(dashboard, early_socket));
        }
        // For the page's whole life.
        hydrated.forget();
    });
}

/// Starts what changes the page on its own: the socket, the polls, the clock, the keys.
fn go_live(dashboard: Dashboard, early_socket: wasm_bindgen::JsValue) {
    close_on_escape(dashboard);
    socket::connect(dashboard, early_socket);
    socket::poll_while_disconnected(dashboard);
    tick_clock(dashboard);
    fetch::follow_lanes(dashboard);
    fetch::follow_filter(dashboard);
    fetch::follow_first_reading(dashboard);
    preload_task_detail_when_live(dashboard);
}

/// Once the page is first live, loads the task detail's code in the background (it is a module
/// of its own, left out of what the page needs to go live); then the page is settled.
fn preload_task_detail_when_live(dashboard: Dashboard) {
    Effect::new(move |preloaded: Option<bool>| {
        if preloaded == Some(true) {
            return true;
        }
        let live = dashboard.connection.get() == Connection::Live;
        if live {
            // In a task of its own: the page shows Live first (the socket boot.js opened may have
            // brought the ack in the same turn as the hydration).
            set_timeout(
                move || {
                    leptos::task::spawn_local(async move {
                        LazyPage::Task.load().await;
                        dashboard.settled.set(true);
                    })
                },
                std::time::Duration::ZERO,
            );
        }
        live
    });
}

/// A User Timing mark (`performance.mark`): where a launch's time goes, read by
/// end2end/bench/launch.mjs and visible in any browser's performance panel.
fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
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
