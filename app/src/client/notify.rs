//! Browser notifications of alerts: when this browser was asked to (the Sessions page's switch,
//! remembered in localStorage) and allowed them, an alert that arrives while the dashboard is
//! not in front (a background tab, or a window behind others) shows as a system notification;
//! clicking it brings the dashboard to the page the alert is about. In front, the page itself
//! is what the person looks at: nothing pops up.
//!
//! Each alert is announced once per page: the socket sends an alert again as its deliveries
//! progress (same key).

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

use crate::components::BrowserNotifications;
use crate::model::Alert;

/// The localStorage key: `on` when this browser should notify.
const STORAGE_KEY: &str = "execdash-notify";
/// Alert keys remembered as announced (past that, the oldest are forgotten). Looked up in a
/// list, oldest first: alerts are rare, and a `HashSet` of strings would add its own hashing
/// code to the WASM.
const REMEMBERED: usize = 1_000;

thread_local! {
    static ANNOUNCED: RefCell<Vec<String>> = RefCell::default();
}

fn supported() -> bool {
    web_sys::window()
        .is_some_and(|w| js_sys::Reflect::has(&w, &"Notification".into()).unwrap_or(false))
}

fn switched_on() -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .is_some_and(|v| v == "on")
}

fn switch(on: bool) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = if on {
            storage.set_item(STORAGE_KEY, "on")
        } else {
            storage.remove_item(STORAGE_KEY)
        };
    }
}

/// What this browser does with alerts now.
pub(crate) fn current() -> BrowserNotifications {
    if !supported() {
        return BrowserNotifications::Unsupported;
    }
    match Notification::permission() {
        NotificationPermission::Denied => BrowserNotifications::Blocked,
        NotificationPermission::Granted if switched_on() => BrowserNotifications::On,
        _ => BrowserNotifications::Off,
    }
}

/// Asks the browser for permission (it asks the person the first time) and, given it, turns the
/// notifications on with one that says so.
pub(crate) async fn turn_on() -> BrowserNotifications {
    if !supported() {
        return BrowserNotifications::Unsupported;
    }
    if let Ok(promise) = Notification::request_permission() {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    if Notification::permission() == NotificationPermission::Granted {
        switch(true);
        show(
            "execdash notifications are on",
            "Alerts will show here while the dashboard is not in front.",
            "execdash-notifications-on",
            None,
        );
    }
    current()
}

pub(crate) fn turn_off() -> BrowserNotifications {
    switch(false);
    current()
}

/// Shows `alert` if it is new to this page, notifications are on and the page is not in front.
pub(crate) fn announce(alert: &Alert) {
    let new = ANNOUNCED.with(|announced| {
        let keys = &mut *announced.borrow_mut();
        if keys.contains(&alert.key) {
            return false;
        }
        keys.push(alert.key.clone());
        if keys.len() > REMEMBERED {
            keys.remove(0);
        }
        true
    });
    if !new || current() != BrowserNotifications::On || in_front() {
        return;
    }
    let link = alert
        .link
        .as_ref()
        .map(|link| format!("{}{link}", super::base_path()));
    show(&alert.title, &alert.text, &alert.key, link);
}

/// The dashboard is what the person looks at: its tab is shown and its window has the focus.
fn in_front() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| !d.hidden() && d.has_focus().unwrap_or(true))
}

fn show(title: &str, body: &str, tag: &str, link: Option<String>) {
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    let Ok(notification) = Notification::new_with_options(title, &options) else {
        return;
    };
    let on_click = wasm_bindgen::closure::Closure::once_into_js(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
            if let Some(link) = link {
                let _ = window.location().assign(&link);
            }
        }
    });
    notification.set_onclick(Some(on_click.unchecked_ref()));
}
