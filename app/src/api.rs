//! The server's JSON API as the pages ask it, the same on both sides: in the browser over HTTP
//! (gloo-net), on the server in process through the [`Api`] the server provides in context, so a
//! page rendered there holds exactly what the browser would have fetched. A page's data is a
//! Leptos [`Resource`] made by [`page_data`]: resolved during server rendering, carried to the
//! browser by Leptos's hydration data, fetched again when what it depends on moves.

#[cfg(any(feature = "ssr", feature = "hydrate"))]
use std::sync::Arc;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a page shows: the server's answer, or why there is none.
pub type Fetched<T> = Result<T, String>;

/// The server's API in process: `path` (under the page's base, with its query) to the JSON body,
/// or the reason the server gave. Provided by the server around each page it renders.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct Api(pub Arc<dyn Fn(String) -> ApiAnswer + Send + Sync>);

/// What the server's [`Api`] answers: the JSON body, or the reason.
#[cfg(feature = "ssr")]
pub type ApiAnswer = std::pin::Pin<Box<dyn std::future::Future<Output = Fetched<String>> + Send>>;

/// `GET {base}{path}` as `T`, or why not: the server's `error` when it refused, else the status;
/// or that it could not be reached or its answer read.
#[cfg(feature = "hydrate")]
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Fetched<T> {
    let url = format!("{}{path}", crate::client::base_path());
    match gloo_net::http::Request::get(&url).send().await {
        Ok(response) if response.ok() => response
            .json::<T>()
            .await
            .map_err(|e| format!("the answer could not be read: {e}")),
        Ok(response) => Err(response
            .json::<crate::model::Refusal>()
            .await
            .map(|refusal| refusal.error)
            .unwrap_or_else(|_| format!("HTTP {}", response.status()))),
        Err(error) => Err(format!("the server could not be reached: {error}")),
    }
}

/// A page's data: what the API answers at the path `source` names, fetched again whenever
/// `source` (tracked: the path and what the answer depends on, such as the board's `seq`) moves.
/// In the browser, a page shown again shows at once the answer it last had for that path and
/// asks for a fresh one meanwhile (see [`held`]); a failure keeps what was shown rather than
/// blanking the page.
pub fn page_data<T, K>(
    source: impl Fn() -> (String, K) + Send + Sync + 'static,
) -> Resource<Fetched<T>>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    K: PartialEq + Clone + Send + Sync + 'static,
{
    api_data(source, true)
}

/// As [`page_data`], but always the server's answer now: nothing held is shown, and a failure
/// is the failure (a task's detail: a task deleted meanwhile says so).
pub fn fresh_data<T, K>(
    source: impl Fn() -> (String, K) + Send + Sync + 'static,
) -> Resource<Fetched<T>>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    K: PartialEq + Clone + Send + Sync + 'static,
{
    api_data(source, false)
}

fn api_data<T, K>(
    source: impl Fn() -> (String, K) + Send + Sync + 'static,
    hold: bool,
) -> Resource<Fetched<T>>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    K: PartialEq + Clone + Send + Sync + 'static,
{
    #[cfg(not(feature = "hydrate"))]
    let _ = hold;
    #[cfg(feature = "ssr")]
    let api = use_context::<Api>();
    // Bumped to ask again after answering with what was held.
    #[cfg(feature = "hydrate")]
    let again = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let tracked = move || {
        #[cfg(feature = "hydrate")]
        again.track();
        source()
    };
    Resource::new(tracked, move |(path, _)| {
        #[cfg(feature = "ssr")]
        let api = api.clone();
        #[cfg(feature = "hydrate")]
        let first = first.swap(false, std::sync::atomic::Ordering::Relaxed);
        async move {
            #[cfg(feature = "ssr")]
            return match api {
                Some(Api(get)) => get(path).await.and_then(|body| {
                    serde_json::from_str(&body)
                        .map_err(|e| format!("the answer could not be read: {e}"))
                }),
                None => Err("no API on this side".to_owned()),
            };
            #[cfg(feature = "hydrate")]
            {
                if !hold {
                    return send_wrapper::SendWrapper::new(get_json::<T>(&path)).await;
                }
                if first {
                    if let Some(shown) = held::get::<T>(&path) {
                        leptos::task::spawn_local(async move { again.update(|n| *n += 1) });
                        return Ok(shown);
                    }
                }
                match send_wrapper::SendWrapper::new(get_json::<T>(&path)).await {
                    Ok(value) => {
                        held::keep(&path, value.clone());
                        Ok(value)
                    }
                    Err(reason) => held::get::<T>(&path).ok_or(reason),
                }
            }
            #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
            Err(format!("{path}: no API on this side"))
        }
    })
}

/// The last answer of each path a page fetched in this tab (at most [`held::KEPT`] paths), so a
/// page shown again shows it at once.
#[cfg(feature = "hydrate")]
mod held {
    use std::any::Any;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    pub(super) const KEPT: usize = 32;

    thread_local! {
        static HELD: RefCell<VecDeque<(String, Rc<dyn Any>)>> = const { RefCell::new(VecDeque::new()) };
    }

    pub(super) fn get<T: Clone + 'static>(path: &str) -> Option<T> {
        HELD.with_borrow(|held| {
            held.iter()
                .find(|(p, _)| p == path)
                .and_then(|(_, value)| value.downcast_ref::<T>().cloned())
        })
    }

    pub(super) fn keep<T: 'static>(path: &str, value: T) {
        HELD.with_borrow_mut(|held| {
            held.retain(|(p, _)| p != path);
            if held.len() == KEPT {
                held.pop_front();
            }
            held.push_back((path.to_owned(), Rc::new(value)));
        });
    }
}
