//! The smallest client of the dashboard's kind: a list of cards read from the live socket as JSON
//! (serde_json), kept in a signal and drawn keyed, a button with a counter; with the features, a
//! router with two routes (`router`), a `Resource` shown through `Transition` (`resource`), or
//! the list as an island (`islands`). What it weighs is what Leptos, the standard library,
//! serde_json and the JS bindings cost before any of the dashboard's own code.

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// A card as the socket sends it.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
pub struct Card {
    id: String,
    title: String,
    agent: Option<String>,
    priority: u8,
    cost: f64,
}

/// Cards read from the socket at `/ws`, appended to `cards`.
fn follow_socket(cards: RwSignal<Vec<Card>>) {
    let socket = web_sys::WebSocket::new("/ws").expect("a socket");
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let card = e.data().as_string().and_then(|text| serde_json::from_str::<Card>(&text).ok());
        if let Some(card) = card {
            cards.update(|cards| cards.push(card));
        }
    });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}

/// The cards as a keyed list, and a counter.
fn live_list(cards: RwSignal<Vec<Card>>) -> impl IntoView {
    let count = RwSignal::new(0);
    view! {
        <button on:click=move |_| count.update(|c| *c += 1)>{move || count.get()}</button>
        <ul>
            <For each=move || cards.get() key=|card| card.id.clone() let:card>
                <li class:urgent={
                    let priority = card.priority;
                    move || priority > 2
                }>{card.title.clone()}" "{card.agent.clone()}" "{format!("{:.2}", card.cost)}</li>
            </For>
        </ul>
    }
}

#[cfg(not(feature = "islands"))]
mod hydrated {
    use super::*;

    #[component]
    fn Board() -> impl IntoView {
        let cards = RwSignal::new(Vec::<Card>::new());
        follow_socket(cards);
        #[cfg(feature = "resource")]
        let data = {
            let first = Resource::new(|| (), |_| async { Vec::<Card>::new() });
            view! {
                <Transition fallback=|| "…">
                    {move || Suspend::new(async move {
                        first.await.into_iter().map(|card| view! { <p>{card.title}</p> }).collect_view()
                    })}
                </Transition>
            }
        };
        #[cfg(not(feature = "resource"))]
        let data = ();
        view! { {data} {live_list(cards)} }
    }

    #[cfg(feature = "router")]
    #[component]
    fn App() -> impl IntoView {
        use leptos_router::components::{Route, Router, Routes, A};
        use leptos_router::path;
        view! {
            <Router>
                <nav><A href="/">"Board"</A><A href="/other">"Other"</A></nav>
                <Routes fallback=|| "Not found">
                    <Route path=path!("/") view=Board/>
                    <Route path=path!("/other") view=|| view! { <p>"Other"</p> }/>
                </Routes>
            </Router>
        }
    }

    #[cfg(not(feature = "router"))]
    #[component]
    fn App() -> impl IntoView {
        view! { <Board/> }
    }

    #[wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_body(App);
    }
}

#[cfg(feature = "islands")]
mod islands {
    use super::*;

    #[island]
    fn Board(cards: Vec<Card>) -> impl IntoView {
        let cards = RwSignal::new(cards);
        follow_socket(cards);
        live_list(cards)
    }

    #[wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_islands();
    }
}
