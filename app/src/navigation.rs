//! The page's address. `/tasks/{id}` is the board with that task's detail open over it: opening a
//! card pushes that address, the back button and closing return to the board, and a link to it
//! can be shared (the server renders it so). Query parameters (the board's filters) are kept.
//!
//! Everything that touches the browser is compiled in the `hydrate` build only; on the server
//! these functions only change the state.

use leptos::prelude::*;

use crate::state::Dashboard;

/// The address of a task's detail page under `base`.
pub fn task_href(base: &str, id: &str) -> String {
    format!("{base}/tasks/{}", encode_segment(id))
}

/// The task id a path names (`{base}/tasks/{id}`, the id percent-decoded by the caller), or
/// `None` for the board.
pub fn task_in_path<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(base)?.strip_prefix("/tasks/")?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Opens the detail of task `id` over the board, at its own address. From one detail to another
/// (a related task) the address is replaced, so closing and the back button lead to the board.
pub fn open_task(dashboard: Dashboard, id: String) {
    #[cfg(feature = "hydrate")]
    {
        let href = task_href(&dashboard.settings.with_value(|s| s.base.clone()), &id);
        if dashboard.selected.get_untracked().is_some() {
            browser::replace(&href);
        } else {
            browser::push(&href);
        }
    }
    dashboard.selected.set(Some(id));
}

/// Writes the filter's query into the address (the same entry: typing is not a history step).
pub fn set_query(query: &str) {
    #[cfg(feature = "hydrate")]
    browser::set_query(query);
    #[cfg(not(feature = "hydrate"))]
    let _ = query;
}

/// Closes the detail: back to the board's address (through the history when the detail was
/// opened here, so the back button does not reopen it), and focus to the task's card.
pub fn close_task(dashboard: Dashboard) {
    let Some(id) = dashboard.selected.get_untracked() else {
        return;
    };
    #[cfg(feature = "hydrate")]
    {
        let base = dashboard.settings.with_value(|s| s.base.clone());
        browser::leave_task(&base);
    }
    dashboard.selected.set(None);
    #[cfg(feature = "hydrate")]
    browser::focus_card(&id);
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::{JsCast, JsValue};

    /// The history state of an entry this page pushed to open a detail: closing it goes back.
    const OPENED_HERE: &str = "execdash-detail";

    fn history() -> Option<(web_sys::Window, web_sys::History)> {
        let window = web_sys::window()?;
        let history = window.history().ok()?;
        Some((window, history))
    }

    pub(super) fn push(address: &str) {
        let Some((window, history)) = history() else {
            return;
        };
        let search = window.location().search().unwrap_or_default();
        let _ = history.push_state_with_url(
            &JsValue::from_str(OPENED_HERE),
            "",
            Some(&format!("{address}{search}")),
        );
    }

    /// Another task in the same entry (its state kept).
    pub(super) fn replace(address: &str) {
        let Some((window, history)) = history() else {
            return;
        };
        let search = window.location().search().unwrap_or_default();
        let state = history.state().unwrap_or(JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(&format!("{address}{search}")));
    }

    pub(super) fn set_query(query: &str) {
        let Some((window, history)) = history() else {
            return;
        };
        let path = window.location().pathname().unwrap_or_default();
        let address = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        let state = history.state().unwrap_or(JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(&address));
    }

    pub(super) fn leave_task(base: &str) {
        let Some((window, history)) = history() else {
            return;
        };
        let opened_here = history
            .state()
            .ok()
            .and_then(|s| s.as_string())
            .is_some_and(|s| s == OPENED_HERE);
        if opened_here {
            let _ = history.back();
        } else {
            let search = window.location().search().unwrap_or_default();
            let _ = history.replace_state_with_url(
                &JsValue::NULL,
                "",
                Some(&format!("{base}/{search}")),
            );
        }
    }

    /// The task id the page's address names.
    pub(super) fn selected_from_location(base: &str) -> Option<String> {
        let path = web_sys::window()?.location().pathname().ok()?;
        let id = super::task_in_path(&path, base)?;
        js_sys::decode_uri_component(id).ok().map(String::from)
    }

    pub(super) fn focus_card(id: &str) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(cards) = document.query_selector_all(".card[data-id]") else {
            return;
        };
        for i in 0..cards.length() {
            let Some(card) = cards.item(i) else { continue };
            let Ok(card) = card.dyn_into::<web_sys::HtmlElement>() else {
                continue;
            };
            if card.get_attribute("data-id").as_deref() == Some(id) {
                let _ = card.focus();
                return;
            }
        }
    }
}

/// Follows the back and forward buttons: the address says which task's detail is open.
#[cfg(feature = "hydrate")]
pub(crate) fn follow_history(dashboard: Dashboard) {
    use leptos::prelude::*;
    let handle = window_event_listener(leptos::ev::popstate, move |_| {
        let base = dashboard.settings.with_value(|s| s.base.clone());
        let selected = browser::selected_from_location(&base);
        if dashboard.selected.get_untracked() != selected {
            let previous = dashboard.selected.get_untracked();
            dashboard.selected.set(selected.clone());
            if selected.is_none() {
                if let Some(id) = previous {
                    browser::focus_card(&id);
                }
            }
        }
    });
    // For the page's whole life.
    std::mem::forget(handle);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_addresses_round_trip() {
        assert_eq!(task_href("", "T-1"), "/tasks/T-1");
        assert_eq!(
            task_href("/dash", "a b/ü<x>"),
            "/dash/tasks/a%20b%2F%C3%BC%3Cx%3E"
        );
        assert_eq!(task_in_path("/dash/tasks/T-1", "/dash"), Some("T-1"));
        assert_eq!(task_in_path("/tasks/T-1", ""), Some("T-1"));
        assert_eq!(task_in_path("/", ""), None);
        assert_eq!(task_in_path("/tasks/", ""), None);
        assert_eq!(task_in_path("/tasks/a/b", ""), None);
    }
}
