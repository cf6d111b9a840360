//! The server's JSON API as the pages ask it, the same on both sides: in the browser over HTTP
//! (gloo-net), on the server in process through the [`Api`] the server provides in context, so a
//! page rendered there holds exactly what the browser would have fetched. A page's data is a
//! [`PageData`] made by [`page_data`]: one Leptos [`Resource`] type of JSON [`Answer`]s for every
//! page, resolved during server rendering, carried to the browser by Leptos's hydration data,
//! fetched again when what it depends on moves, and read as the page's type where it is shown.

use std::marker::PhantomData;
use std::sync::Arc;

use leptos::prelude::*;
use serde::Serialize;

use crate::model::lean::{FromJson, LeanJson, ReadError};

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

/// An answer of the API as its JSON text, read as the type its reader expects where it is read.
/// Carried whole from the server to the browser in the page's hydration data (written as the
/// JSON it is, not as a string of it).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer(String);

impl Answer {
    /// The answer `text`; on the server, or why it is not JSON (a browser finds that out when it
    /// reads it: checking it here would take serde_json's parser into the WASM).
    pub fn from_text(text: String) -> Fetched<Answer> {
        #[cfg(not(feature = "hydrate"))]
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
            return Err(format!("the answer could not be read: {e}"));
        }
        Ok(Answer(text))
    }

    /// The answer as `T`, or why it is not one.
    pub fn read<T: Readable>(&self) -> Fetched<T> {
        read_json(&self.0)
    }
}

/// Written as the JSON it is.
impl Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.clone())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Read as the JSON it is (its text again).
impl FromJson for Answer {
    fn from_json<J: crate::model::lean::JsonValue>(value: &J) -> Result<Self, ReadError> {
        Ok(Answer(value.text()))
    }

    fn placeholder() -> Self {
        Answer(String::new())
    }
}

/// What an answer can be read as: on the server with serde's derived reader (the types'
/// `Deserialize`, straight from the text), in the browser with the lean reader ([`FromJson`]:
/// no serde reader in the WASM). Every type the pages read derives both; `tests/lean_reader.rs`
/// checks that they read every answer alike.
pub trait Readable: FromJson + serde::de::DeserializeOwned {}

impl<T: FromJson + serde::de::DeserializeOwned> Readable for T {}

/// JSON `text` as `T`, or why it is not one.
fn read_json<T: Readable>(text: &str) -> Fetched<T> {
    #[cfg(feature = "hydrate")]
    let read = crate::model::lean::from_str(text).map_err(|e| e.to_string());
    #[cfg(not(feature = "hydrate"))]
    let read = serde_json::from_str(text).map_err(|e| e.to_string());
    read.map_err(|e| format!("the answer could not be read: {e}"))
}

/// `GET {base}{path}` as `T`, or why not: the server's `error` when it refused, else the status;
/// or that it could not be reached or its answer read.
#[cfg(feature = "hydrate")]
pub async fn get_json<T: Readable>(path: &str) -> Fetched<T> {
    read_json(&get_text(path).await?)
}

/// `GET {base}{path}`: the answer, or why there is none.
#[cfg(feature = "hydrate")]
async fn get_answer(path: &str) -> Fetched<Answer> {
    Answer::from_text(get_text(path).await?)
}

/// `GET {base}{path}`: the answer's text, or why there is none (the one fetch every reader
/// shares).
#[cfg(feature = "hydrate")]
async fn get_text(path: &str) -> Fetched<String> {
    let url = format!("{}{path}", crate::client::base_path());
    match gloo_net::http::Request::get(&url).send().await {
        Ok(response) if response.ok() => response
            .text()
            .await
            .map_err(|e| format!("the answer could not be read: {}", request_failure(e))),
        Ok(response) => Err(refusal(&response).await),
        Err(error) => Err(format!(
            "the server could not be reached: {}",
            request_failure(error)
        )),
    }
}

/// Why a request was not made or did not reach the server, in the browser's words ("TypeError:
/// Failed to fetch"). Not through gloo-net's `Display`, which would bring serde_json's error
/// messages into the WASM for its JSON variant: a request's body is always one of our own types,
/// which serde_json always writes, so that variant says only that.
#[cfg(feature = "hydrate")]
pub(crate) fn request_failure(error: gloo_net::Error) -> String {
    match error {
        gloo_net::Error::JsError(error) => error.to_string(),
        gloo_net::Error::GlooError(reason) => reason,
        gloo_net::Error::SerdeError(_) => "the request could not be written as JSON".to_owned(),
    }
}

/// What a refused request's answer says: the server's `error` (a [`crate::model::Refusal`]),
/// else the status.
#[cfg(feature = "hydrate")]
pub(crate) async fn refusal(response: &gloo_net::http::Response) -> String {
    let said = response.text().await.ok();
    said.and_then(|text| read_json::<crate::model::Refusal>(&text).ok())
        .map(|refusal| refusal.error)
        .unwrap_or_else(|| format!("HTTP {}", response.status()))
}

/// What a page's data is for besides its path: the board's `seq` and the cost summary's version
/// (`generated_at`) it was fetched at, each left at its default when the page does not follow it.
/// A change of either fetches the data again.
pub type Moved = (u64, Option<String>);

/// Where a page's data is and what it is for: the path (under the page's base, with its query)
/// and what it moves with.
pub type PageSource = Arc<dyn Fn() -> (String, Moved) + Send + Sync>;

/// A page's data: the API's answer at the path its source names, fetched again whenever that
/// source moves, and read as `T` where the page shows it ([`PageData::answer`]). Every page's data
/// is one `Resource` type (of [`Answer`]s), so its machinery is in the WASM once rather than once
/// per page's type.
///
/// Resolved during server rendering, carried to the browser by Leptos's hydration data. In the
/// browser, a page shown again shows at once the answer it last had for that path, and asks for a
/// fresh one once that is on screen when what it follows (the board, the costs) has moved since
/// (see [`held`]); a failure keeps what was shown rather than blanking the page.
pub struct PageData<T> {
    answers: Resource<Fetched<Answer>, LeanJson>,
    read_as: PhantomData<fn() -> T>,
}

impl<T> Clone for PageData<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for PageData<T> {}

impl<T: Readable> PageData<T> {
    /// The latest answer, once there is one, as `T`.
    pub async fn answer(self) -> Fetched<T> {
        self.answers.await.and_then(|answer| answer.read())
    }
}

/// The data of a page at the path `source` names (see [`PageData`]).
pub fn page_data<T>(source: PageSource) -> PageData<T> {
    PageData {
        answers: page_answers(source),
        read_as: PhantomData,
    }
}

fn page_answers(source: PageSource) -> Resource<Fetched<Answer>, LeanJson> {
    #[cfg(feature = "ssr")]
    let api = use_context::<Api>();
    // Bumped to ask again after answering with what was held from an older version: part of what
    // the resource follows (its source is compared with the last one, so a change it does not
    // show would not count).
    #[cfg(feature = "hydrate")]
    let again = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let tracked = move || {
        #[cfg(feature = "hydrate")]
        let asked = again.get();
        #[cfg(not(feature = "hydrate"))]
        let asked = 0u32;
        (source(), asked)
    };
    Resource::new_with_options(
        tracked,
        move |((path, moved), _)| {
            #[cfg(feature = "ssr")]
            let api = api.clone();
            #[cfg(feature = "hydrate")]
            let first = first.swap(false, std::sync::atomic::Ordering::Relaxed);
            #[cfg(not(feature = "hydrate"))]
            let _ = moved;
            async move {
                #[cfg(feature = "ssr")]
                return answer_in_process(api, path)
                    .await
                    .and_then(Answer::from_text);
                #[cfg(feature = "hydrate")]
                {
                    if first {
                        if let Some((shown, current)) = held::get(&path, &moved) {
                            if !current {
                                // Once it is on screen (a task after this turn's rendering), so the
                                // page's `Transition` keeps it while the fresh answer comes.
                                set_timeout(move || again.update(|n| *n += 1), Default::default());
                            }
                            return Ok(shown);
                        }
                    }
                    match send_wrapper::SendWrapper::new(get_answer(&path)).await {
                        Ok(answer) => {
                            held::keep(&path, moved, answer.clone());
                            Ok(answer)
                        }
                        Err(reason) => held::get(&path, &moved)
                            .map(|(shown, _)| shown)
                            .ok_or(reason),
                    }
                }
                #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
                Err(format!("{path}: no API on this side"))
            }
        },
        false,
    )
}

/// The server's answer at `path`, always the server's answer now (nothing held is shown, and a
/// failure is the failure: a task's detail, where a task deleted meanwhile says so), fetched again
/// whenever `source` (tracked: the path and what the answer depends on) moves. Typed, unlike
/// [`PageData`]: the task's detail changes its value in place as an edit is made.
pub fn fresh_data<T, K>(
    source: impl Fn() -> (String, K) + Send + Sync + 'static,
) -> Resource<Fetched<T>, LeanJson>
where
    T: Serialize + Readable + Clone + Send + Sync + 'static,
    K: PartialEq + Clone + Send + Sync + 'static,
{
    #[cfg(feature = "ssr")]
    let api = use_context::<Api>();
    Resource::new_with_options(
        source,
        move |(path, _)| {
            #[cfg(feature = "ssr")]
            let api = api.clone();
            async move {
                #[cfg(feature = "ssr")]
                return answer_in_process(api, path)
                    .await
                    .and_then(|body| read_json(&body));
                #[cfg(feature = "hydrate")]
                return send_wrapper::SendWrapper::new(get_json::<T>(&path)).await;
                #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
                Err(format!("{path}: no API on this side"))
            }
        },
        false,
    )
}

/// The body of the server's answer at `path`, asked in process (server rendering).
#[cfg(feature = "ssr")]
async fn answer_in_process(api: Option<Api>, path: String) -> Fetched<String> {
    match api {
        Some(Api(get)) => get(path).await,
        None => Err("no API on this side".to_owned()),
    }
}

/// The last answer of each path a page fetched in this tab (at most [`held::KEPT`] paths), with
/// the version of what it follows it was asked at, so a page shown again shows it at once (and
/// asks again when that version has moved since).
#[cfg(feature = "hydrate")]
mod held {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::{Answer, Moved};

    pub(super) const KEPT: usize = 32;

    thread_local! {
        static HELD: RefCell<VecDeque<(String, Moved, Answer)>> = const { RefCell::new(VecDeque::new()) };
    }

    /// The answer held for `path`, and whether it was asked at version `moved` (so is current).
    pub(super) fn get(path: &str, moved: &Moved) -> Option<(Answer, bool)> {
        HELD.with_borrow(|held| {
            held.iter()
                .find(|(p, _, _)| p == path)
                .map(|(_, at, answer)| (answer.clone(), at == moved))
        })
    }

    pub(super) fn keep(path: &str, moved: Moved, value: Answer) {
        HELD.with_borrow_mut(|held| {
            held.retain(|(p, _, _)| p != path);
            if held.len() == KEPT {
                held.pop_front();
            }
            held.push_back((path.to_owned(), moved, value));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Refusal;

    #[test]
    fn an_answer_is_carried_to_the_page_as_the_json_it_is() {
        let body = r#"{"error":"no such task","field":"priority"}"#;
        let answer = Answer::from_text(body.to_owned()).unwrap();
        // The page's hydration data holds the answer itself, not a string of it.
        let carried = serde_json::to_string(&Fetched::Ok(answer)).unwrap();
        assert_eq!(carried, format!(r#"{{"Ok":{body}}}"#));
        let back: Fetched<Answer> = crate::model::lean::from_str(&carried).unwrap();
        let refusal: Refusal = back.unwrap().read().unwrap();
        assert_eq!(refusal.error, "no such task");
        assert_eq!(refusal.field.as_deref(), Some("priority"));
    }

    #[test]
    fn an_answer_that_is_not_json_or_not_the_type_says_so() {
        let not_json = Answer::from_text("<html>proxy error</html>".to_owned()).unwrap_err();
        assert!(
            not_json.starts_with("the answer could not be read"),
            "{not_json}"
        );
        let answer = Answer::from_text(r#"{"field":"priority"}"#.to_owned()).unwrap();
        let wrong = answer.read::<Refusal>().unwrap_err();
        assert!(wrong.contains("missing field `error`"), "{wrong}");
    }
}
