//! The page's address, kept by leptos_router. `/tasks/{id}` is the board with that task's detail
//! open over it (the board stands beside the routes, so it is not drawn again): opening a card
//! navigates there, the back button and closing return to the board, and a link to it can be
//! shared (the server renders it so). Query parameters (the board's filters) are kept.
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

/// The live socket's path under `base`, naming the board the page holds (`since`, `instance`) so
/// the server leaves the board out of its `connection_ack` when nothing changed since. The server
/// writes it into the page (`<html data-socket>`: boot.js opens the socket while the WASM is still
/// downloading); the browser side uses it for every reconnect.
pub fn socket_path(base: &str, seq: u64, instance: &str) -> String {
    if instance.is_empty() {
        format!("{base}/ws")
    } else {
        format!(
            "{base}/ws?since={seq}&instance={}",
            encode_segment(instance)
        )
    }
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
        // Under the router's base, which the router puts in front.
        let href = task_href("", &id);
        let replace = dashboard.selected.get_untracked().is_some();
        router::go(&href, replace, !replace);
    }
    dashboard.selected.set(Some(id));
}

/// Writes the filter's query into the address (the same entry: typing is not a history step).
pub fn set_query(query: &str) {
    #[cfg(feature = "hydrate")]
    router::set_query(query);
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
    router::leave_task();
    dashboard.selected.set(None);
    #[cfg(feature = "hydrate")]
    focus_card(&id);
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Follows the address (set by the router: a navigation here, the back and forward buttons):
/// the task it names is the one whose detail is open. Called under the router.
#[cfg(feature = "hydrate")]
pub(crate) fn follow_address(dashboard: Dashboard) {
    let base = dashboard.settings.with_value(|s| s.base.clone());
    router::install(leptos_router::hooks::use_navigate(), base.clone());
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        let path = location.pathname.get();
        let selected = task_in_path(&path, &base)
            .and_then(|id| js_sys::decode_uri_component(id).ok().map(String::from));
        let previous = dashboard.selected.get_untracked();
        if previous != selected {
            dashboard.selected.set(selected.clone());
            if let (None, Some(id)) = (selected, previous) {
                focus_card(&id);
            }
        }
    });
}

/// Navigation through the router, from anywhere on the page (event handlers have no reactive
/// owner to find the router's context in): the router's `navigate`, kept when the app mounts.
/// Addresses given to it are under the router's base (`/tasks/x`), which it puts in front.
#[cfg(feature = "hydrate")]
mod router {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos_router::location::State;
    use leptos_router::NavigateOptions;
    use wasm_bindgen::JsValue;

    /// The history state of an entry this page pushed to open a detail: closing it goes back.
    const OPENED_HERE: &str = "execdash-detail";

    type Navigate = Rc<dyn Fn(&str, NavigateOptions)>;

    thread_local! {
        static NAVIGATE: RefCell<Option<Navigate>> = const { RefCell::new(None) };
        static BASE: RefCell<String> = const { RefCell::new(String::new()) };
    }

    pub(super) fn install(navigate: impl Fn(&str, NavigateOptions) + 'static, base: String) {
        NAVIGATE.with_borrow_mut(|n| *n = Some(Rc::new(navigate)));
        BASE.with_borrow_mut(|b| *b = base);
    }

    /// The page's path under the router's base.
    fn path_under_base() -> String {
        let path = location()
            .and_then(|l| l.pathname().ok())
            .unwrap_or_default();
        let under = BASE.with_borrow(|base| path.strip_prefix(base.as_str()).map(str::to_owned));
        match under {
            Some(rest) if rest.is_empty() => "/".to_owned(),
            Some(rest) => rest,
            None => path,
        }
    }

    fn navigate(to: &str, replace: bool, state: Option<JsValue>) {
        let Some(navigate) = NAVIGATE.with_borrow(Clone::clone) else {
            return;
        };
        navigate(
            to,
            NavigateOptions {
                replace,
                scroll: false,
                state: State::new(state),
                ..NavigateOptions::default()
            },
        );
    }

    fn location() -> Option<web_sys::Location> {
        web_sys::window().map(|w| w.location())
    }

    fn history_state() -> JsValue {
        web_sys::window()
            .and_then(|w| w.history().ok())
            .and_then(|h| h.state().ok())
            .unwrap_or(JsValue::NULL)
    }

    /// To `address` with the query kept: a new entry marked as opened here, or in place of
    /// this one (its mark kept).
    pub(super) fn go(address: &str, replace: bool, opened_here: bool) {
        let search = location().and_then(|l| l.search().ok()).unwrap_or_default();
        let state = if opened_here {
            JsValue::from_str(OPENED_HERE)
        } else {
            history_state()
        };
        navigate(&format!("{address}{search}"), replace, Some(state));
    }

    pub(super) fn set_query(query: &str) {
        let path = path_under_base();
        let address = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        navigate(&address, true, Some(history_state()));
    }

    pub(super) fn leave_task() {
        let opened_here = history_state()
            .as_string()
            .is_some_and(|s| s == OPENED_HERE);
        let history = web_sys::window().and_then(|w| w.history().ok());
        match history {
            Some(history) if opened_here => {
                let _ = history.back();
            }
            _ => {
                let search = location().and_then(|l| l.search().ok()).unwrap_or_default();
                navigate(&format!("/{search}"), true, None);
            }
        }
    }
}

/// Moves the focus to the card of task `id` (where the detail was opened from).
#[cfg(feature = "hydrate")]
fn focus_card(id: &str) {
    use wasm_bindgen::JsCast;
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

    #[test]
    fn the_socket_names_the_board_held() {
        assert_eq!(socket_path("", 0, ""), "/ws");
        assert_eq!(
            socket_path("/dash/repos/api", 16, "00ff&x"),
            "/dash/repos/api/ws?since=16&instance=00ff%26x"
        );
    }
}
