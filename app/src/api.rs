//! The server's JSON API as the pages ask it, the same on both sides: in the browser over HTTP
//! (gloo-net), on the server in process through the [`Api`] the server provides in context, so a
//! page rendered there holds exactly what the browser would have fetched. A page's data is a
//! Leptos [`Resource`] made by [`page_data`]: resolved during server rendering, carried to the
//! browser by Leptos's hydration data, fetched again when what it depends on moves.

use std::sync::{Arc, Mutex};

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
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {}", response.status()))),
        Err(error) => Err(format!("the server could not be reached: {error}")),
    }
}

/// A page's data: what the API answers at the path `source` names, fetched again whenever
/// `source` (tracked: the path and what the answer depends on, such as the board's `seq`) moves.
/// A later failure at the same path keeps what was shown (the page says nothing new rather than
/// blanking).
pub fn page_data<T, K>(
    source: impl Fn() -> (String, K) + Send + Sync + 'static,
) -> Resource<Fetched<T>>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    K: PartialEq + Clone + Send + Sync + 'static,
{
    let last_good: Arc<Mutex<Option<(String, T)>>> = Arc::default();
    #[cfg(feature = "ssr")]
    let api = use_context::<Api>();
    Resource::new(source, move |(path, _)| {
        let last_good = last_good.clone();
        #[cfg(feature = "ssr")]
        let api = api.clone();
        async move {
            #[cfg(feature = "ssr")]
            let outcome: Fetched<T> = match api {
                Some(Api(get)) => get(path.clone()).await.and_then(|body| {
                    serde_json::from_str(&body)
                        .map_err(|e| format!("the answer could not be read: {e}"))
                }),
                None => Err("no API on this side".to_owned()),
            };
            #[cfg(feature = "hydrate")]
            let outcome: Fetched<T> = send_wrapper::SendWrapper::new(get_json::<T>(&path)).await;
            #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
            let outcome: Fetched<T> = Err(format!("{path}: no API on this side"));
            let mut last = last_good.lock().unwrap_or_else(|e| e.into_inner());
            match outcome {
                Ok(value) => {
                    *last = Some((path, value.clone()));
                    Ok(value)
                }
                Err(reason) => match last.as_ref() {
                    Some((shown, value)) if *shown == path => Ok(value.clone()),
                    _ => Err(reason),
                },
            }
        }
    })
}
