//! The lean JSON reader: how the browser reads every JSON the server sends it — the socket's
//! messages ([`Envelope::from_json`](super::Envelope::from_json)), the hydration data (the
//! [`LeanJson`] encoding of `InitialView` and of the pages' `Resource`s) and every fetch
//! (`crate::api`). The server writes with serde, and reads with serde (`crate::api::Readable`);
//! the wire is unchanged.
//!
//! The text is parsed by the browser itself (`JSON.parse`), and a [`FromJson`] type reads its
//! fields from the parsed value ([`JsonValue`]: the browser's, or serde_json's `Value` in native
//! tests). serde's derived `Deserialize` is generic over the deserializer and reads a struct as
//! a map or a sequence, its field names through a visitor of their own; with serde_json's parser
//! the readers were 197 KB of the first load's WASM before wasm-opt, and the pages carried their
//! own (BENCHMARKS.md, "The readers of the board's data"). A `#[derive(FromJson)]` reader is a
//! call per field.
//!
//! The derive takes the type's own serde attributes (`rename`, `rename_all`, `default`,
//! `flatten`, `skip_deserializing`), so the two readers cannot drift apart; the tests read rich
//! values of every type the browser reads both ways, and each again with every key in it removed
//! in turn. Two differences, neither of which the server writes: a whole number written as
//! `3.0` is read as an integer (JavaScript has one kind of number), and a repeated key takes its
//! last value where serde refuses it.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use app_derive::FromJson;

/// A parsed JSON value, as a reader walks it.
pub trait JsonValue: Sized {
    /// The member `name` of an object; `None` when it has none (or is not an object).
    fn member(&self, name: &str) -> Option<Self>;
    fn is_object(&self) -> bool;
    fn is_null(&self) -> bool;
    fn string(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    fn boolean(&self) -> Option<bool>;
    /// An array's items.
    fn items(&self) -> Option<Vec<Self>>;
    /// An object's members, in their order.
    fn members(&self) -> Option<Vec<(String, Self)>>;
    /// The value as JSON text again.
    fn text(&self) -> String;
}

/// A type the lean reader reads; derive it (`#[derive(FromJson)]`) for a struct with named
/// fields or an enum of unit variants.
pub trait FromJson: Sized {
    fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError>;

    /// What a field that failed to read holds until the value it is part of is dropped (see
    /// [`field`]).
    fn placeholder() -> Self;

    /// A member that is not there, read as this type: only an `Option` can be (`None`), as
    /// with serde's derive.
    fn missing() -> Option<Self> {
        None
    }
}

/// Why a JSON text was not read: where in it (`tasks[3].column`) and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    path: String,
    reason: String,
}

impl ReadError {
    /// The value was not `what`.
    pub fn expected(what: &str) -> ReadError {
        ReadError::new(format!("expected {what}"))
    }

    pub fn new(reason: String) -> ReadError {
        ReadError {
            path: String::new(),
            reason,
        }
    }

    /// The same error one level up, in the member or item `at`.
    fn within(mut self, at: &str) -> ReadError {
        if !self.path.is_empty() && !self.path.starts_with('[') {
            self.path.insert(0, '.');
        }
        self.path.insert_str(0, at);
        self
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ReadError {}

/// A parsed JSON text: the browser's own value, parsed by `JSON.parse`; serde_json's elsewhere.
#[cfg(feature = "hydrate")]
pub type Parsed = wasm_bindgen::JsValue;
#[cfg(not(feature = "hydrate"))]
pub type Parsed = serde_json::Value;

/// `text` parsed, or why it is not JSON.
pub fn parse(text: &str) -> Result<Parsed, ReadError> {
    #[cfg(feature = "hydrate")]
    return js_sys::JSON::parse(text).map_err(|_| ReadError::new("not JSON".to_owned()));
    #[cfg(not(feature = "hydrate"))]
    serde_json::from_str(text).map_err(|e| ReadError::new(format!("not JSON ({e})")))
}

/// `text` read as `T`.
pub fn from_str<T: FromJson>(text: &str) -> Result<T, ReadError> {
    T::from_json(&parse(text)?)
}

/// The member `name` of `object` as `T` (for the derive). A failure is noted in `failure` (the
/// first one only) and the field given a placeholder, rather than returned at once: the caller
/// then drops the whole value once, instead of each field read so far at each field.
#[inline(never)]
pub fn field<J: JsonValue, T: FromJson>(
    object: &J,
    name: &str,
    failure: &mut Option<ReadError>,
) -> T {
    let read = match object.member(name) {
        Some(member) => T::from_json(&member),
        None => T::missing().ok_or_else(|| missing_field(name)),
    };
    settle(read, Some(name), failure)
}

/// As [`field`], `default()` when the member is not there (serde's `#[serde(default)]`).
#[inline(never)]
pub fn field_or<J: JsonValue, T: FromJson>(
    object: &J,
    name: &str,
    default: fn() -> T,
    failure: &mut Option<ReadError>,
) -> T {
    match object.member(name) {
        Some(member) => settle(T::from_json(&member), Some(name), failure),
        None => default(),
    }
}

/// `object` itself as `T`: a `#[serde(flatten)]` field (its members beside the others).
#[inline(never)]
pub fn flattened<J: JsonValue, T: FromJson>(object: &J, failure: &mut Option<ReadError>) -> T {
    settle(T::from_json(object), None, failure)
}

/// The value read, or a placeholder with the failure noted. What does not depend on `T` is in
/// functions of their own, once in the WASM rather than once per type read.
fn settle<T: FromJson>(
    read: Result<T, ReadError>,
    at: Option<&str>,
    failure: &mut Option<ReadError>,
) -> T {
    match read {
        Ok(value) => value,
        Err(error) => {
            note_failure(failure, error, at);
            T::placeholder()
        }
    }
}

/// Notes `error` (at the member `at`) unless a failure is noted already.
#[inline(never)]
fn note_failure(failure: &mut Option<ReadError>, error: ReadError, at: Option<&str>) {
    if failure.is_none() {
        *failure = Some(match at {
            Some(at) => error.within(at),
            None => error,
        });
    }
}

#[inline(never)]
fn missing_field(name: &str) -> ReadError {
    ReadError::new(format!("missing field `{name}`"))
}

/// The value read, or the first failure noted while reading it.
pub fn finish<T>(read: T, failure: Option<ReadError>) -> Result<T, ReadError> {
    match failure {
        None => Ok(read),
        Some(error) => Err(error),
    }
}

macro_rules! scalars {
    ($($ty:ty: $read:ident, $expected:literal, $placeholder:expr;)*) => {$(
        impl FromJson for $ty {
            fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
                value.$read().ok_or_else(|| ReadError::expected($expected))
            }

            fn placeholder() -> Self {
                $placeholder
            }
        }
    )*};
}

scalars! {
    String: string, "a string", String::new();
    bool: boolean, "true or false", false;
    f64: number, "a number", 0.0;
}

/// A whole number within `min..=max`.
fn whole<J: JsonValue>(value: &J, min: f64, max: f64) -> Result<f64, ReadError> {
    match value.number() {
        Some(n) if n.fract() == 0.0 && (min..=max).contains(&n) => Ok(n),
        _ => Err(ReadError::expected("a whole number in range")),
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl FromJson for $ty {
            fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
                whole(value, <$ty>::MIN as f64, <$ty>::MAX as f64).map(|n| n as $ty)
            }

            fn placeholder() -> Self {
                0
            }
        }
    )*};
}

integers!(u8, u16, u32, u64, usize, i32, i64);

impl<T: FromJson> FromJson for Option<T> {
    fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
        if value.is_null() {
            Ok(None)
        } else {
            T::from_json(value).map(Some)
        }
    }

    fn placeholder() -> Self {
        None
    }

    fn missing() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
        let items = value.items().ok_or_else(|| ReadError::expected("a list"))?;
        let mut read = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            read.push(T::from_json(item).map_err(|e| e.within(&format!("[{index}]")))?);
        }
        Ok(read)
    }

    fn placeholder() -> Self {
        Vec::new()
    }
}

impl<T: FromJson> FromJson for BTreeMap<String, T> {
    fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
        Ok(read_members(value)?.into_iter().collect())
    }

    fn placeholder() -> Self {
        BTreeMap::new()
    }
}

/// serde's form of a pair: a list of two.
impl<A: FromJson, B: FromJson> FromJson for (A, B) {
    fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
        match value.items().as_deref() {
            Some([a, b]) => Ok((
                A::from_json(a).map_err(|e| e.within("[0]"))?,
                B::from_json(b).map_err(|e| e.within("[1]"))?,
            )),
            _ => Err(ReadError::expected("a list of two")),
        }
    }

    fn placeholder() -> Self {
        (A::placeholder(), B::placeholder())
    }
}

/// Any JSON, as serde_json's tree (the server's tests; the browser reads none).
impl FromJson for serde_json::Value {
    fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
        serde_json::from_str(&value.text()).map_err(|e| ReadError::new(e.to_string()))
    }

    fn placeholder() -> Self {
        serde_json::Value::Null
    }
}

/// An object's members, each value read as `T`.
pub fn read_members<J: JsonValue, T: FromJson>(value: &J) -> Result<Vec<(String, T)>, ReadError> {
    let members = value
        .members()
        .ok_or_else(|| ReadError::expected("an object"))?;
    members
        .into_iter()
        .map(|(key, member)| {
            T::from_json(&member)
                .map(|read| (key.clone(), read))
                .map_err(|e| e.within(&key))
        })
        .collect()
}

/// serde's form of a `Result`: `{"Ok": …}` or `{"Err": …}`.
impl<T: FromJson, E: FromJson> FromJson for Result<T, E> {
    fn from_json<J: JsonValue>(value: &J) -> Result<Self, ReadError> {
        if let Some(ok) = value.member("Ok") {
            T::from_json(&ok).map(Ok).map_err(|e| e.within("Ok"))
        } else if let Some(err) = value.member("Err") {
            E::from_json(&err).map(Err).map_err(|e| e.within("Err"))
        } else {
            Err(ReadError::expected("`Ok` or `Err`"))
        }
    }

    fn placeholder() -> Self {
        Err(E::placeholder())
    }
}

/// The hydration data's encoding (a Leptos `SharedValue`'s or `Resource`'s): written by the
/// server with serde, read by the browser with the lean reader.
pub struct LeanJson;

impl<T: Serialize> codee::Encoder<T> for LeanJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: FromJson> codee::Decoder<T> for LeanJson {
    type Error = ReadError;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, ReadError> {
        from_str(text)
    }
}

/// serde_json's parsed value: what the native tests walk (the server reads with serde).
impl JsonValue for serde_json::Value {
    fn member(&self, name: &str) -> Option<Self> {
        self.as_object()?.get(name).cloned()
    }

    fn is_object(&self) -> bool {
        self.is_object()
    }

    fn is_null(&self) -> bool {
        self.is_null()
    }

    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }

    fn number(&self) -> Option<f64> {
        self.as_f64()
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }

    fn members(&self) -> Option<Vec<(String, Self)>> {
        self.as_object()
            .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    fn text(&self) -> String {
        self.to_string()
    }
}

/// The browser's parsed value (`JSON.parse`). A member is looked up as a property (`Reflect`):
/// no field of these types is named as one of `Object.prototype`'s.
#[cfg(feature = "hydrate")]
impl JsonValue for wasm_bindgen::JsValue {
    fn member(&self, name: &str) -> Option<Self> {
        if !JsonValue::is_object(self) {
            return None;
        }
        let member = js_sys::Reflect::get(self, &wasm_bindgen::JsValue::from_str(name)).ok()?;
        (!member.is_undefined()).then_some(member)
    }

    fn is_object(&self) -> bool {
        wasm_bindgen::JsValue::is_object(self) && !js_sys::Array::is_array(self)
    }

    fn is_null(&self) -> bool {
        wasm_bindgen::JsValue::is_null(self)
    }

    fn string(&self) -> Option<String> {
        self.as_string()
    }

    fn number(&self) -> Option<f64> {
        self.as_f64()
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn items(&self) -> Option<Vec<Self>> {
        use wasm_bindgen::JsCast;
        self.dyn_ref::<js_sys::Array>().map(|array| array.to_vec())
    }

    fn members(&self) -> Option<Vec<(String, Self)>> {
        use wasm_bindgen::JsCast;
        if !JsonValue::is_object(self) {
            return None;
        }
        let object = self.unchecked_ref::<js_sys::Object>();
        Some(
            js_sys::Object::entries(object)
                .to_vec()
                .into_iter()
                .map(|entry| {
                    let entry = entry.unchecked_into::<js_sys::Array>();
                    (entry.get(0).as_string().unwrap_or_default(), entry.get(1))
                })
                .collect(),
        )
    }

    fn text(&self) -> String {
        js_sys::JSON::stringify(self)
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default()
    }
}

/// Whether the lean reader reads `text` as serde's derived reader does: the same value (or both
/// refuse it), and again with each key of each object in it removed in turn (a field one reader
/// defaults and the other requires would differ there). The first difference, if any. Native
/// only: what the tests (unit and against the real server's answers) check.
#[cfg(not(feature = "hydrate"))]
pub fn same_reading<T>(text: &str) -> Result<(), String>
where
    T: serde::de::DeserializeOwned + FromJson + PartialEq + fmt::Debug,
{
    fn compare<T>(text: &str) -> Result<(), String>
    where
        T: serde::de::DeserializeOwned + FromJson + PartialEq + fmt::Debug,
    {
        let serde = serde_json::from_str::<T>(text).ok();
        let lean = from_str::<T>(text).ok();
        if serde == lean {
            Ok(())
        } else {
            Err(format!("serde read {serde:?}, the lean reader {lean:?}"))
        }
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    compare::<T>(text)?;
    for (path, without) in each_key_removed(&value) {
        compare::<T>(&without.to_string()).map_err(|e| format!("without {path}: {e}"))?;
    }
    Ok(())
}

/// `value` once for every key of every object in it, with that key removed.
#[cfg(not(feature = "hydrate"))]
fn each_key_removed(value: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    use serde_json::Value;
    let mut all = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let mut without = map.clone();
                without.remove(key);
                all.push((key.clone(), Value::Object(without)));
                for (path, inner_without) in each_key_removed(inner) {
                    let mut with = map.clone();
                    with.insert(key.clone(), inner_without);
                    all.push((format!("{key}.{path}"), Value::Object(with)));
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                for (path, item_without) in each_key_removed(item) {
                    let mut with = items.clone();
                    with[index] = item_without;
                    all.push((format!("[{index}].{path}"), Value::Array(with)));
                }
            }
        }
        _ => {}
    }
    all
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};

    use super::*;
    use crate::model::{
        Alert, BudgetAlert, CostUpdate, FilteredBoard, LanePage, RepoList, Snapshot,
    };
    use crate::state::InitialView;

    /// A task summary with every field set.
    fn task() -> Value {
        json!({
            "path": "assigned/ada/t1.yaml", "column": "assigned", "lane": "ada", "id": "t1",
            "title": "Write the parser \u{2014} \"quoted\", \\ and \u{1F680}", "agent": "ada",
            "status": "in_progress", "priority": "high", "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-02T10:00:00Z", "started_at": "2026-12-01T11:00:00Z",
            "completed_at": "2026-12-03T10:00:00Z", "tags": ["parser", "blocked"],
            "specification": "specifications/p.md", "estimated_hours": 2.5, "budget_usd": 4.0,
            "blocked_reason": "waits on #12", "state": "blocked",
            "activity_ms": 1_764_669_600_000_i64, "repo": "main"
        })
    }

    fn session() -> Value {
        json!({
            "id": "s-1", "source": "claude-code", "agent": "ada", "task_id": "t1",
            "attribution": "hook", "models": ["claude-sonnet-4-5"], "cwd": "/work/repo",
            "started": "2026-12-06T05:00:00Z", "last_event": "2026-12-06T05:10:00Z",
            "state": "waiting", "state_since": "2026-12-06T05:09:00Z",
            "waiting_for": "permission to run cargo test", "calls": 12, "tokens": 48_000,
            "cost_usd": 0.42, "burn_rate_usd_per_hour": 2.5, "cache_hit_rate": 0.8,
            "errors": 1, "tools": 7
        })
    }

    fn costs() -> Value {
        json!({
            "range": "7d",
            "totals": {"today": 1.25, "month": 30.5, "total": 120.0, "invocations": 900},
            "by_model": [{"model": "gpt-5", "invocations": 3, "tokens": 900, "cost_usd": 0.5,
                          "latency_p50_ms": 900, "latency_p95_ms": 2400,
                          "error_rate": 0.25}],
            "by_agent": [{"agent": "ada", "invocations": 3, "tokens": 900, "cost_usd": 0.5,
                          "today_usd": 0.25, "month_usd": 0.5}],
            "by_tool": [{"tool": "codex", "invocations": 3, "tokens": 900, "cost_usd": 0.5}],
            "daily": [{"date": "2026-12-06", "model": "gpt-5", "cost_usd": 0.5, "tokens": 900}],
            "active": [{"invocation_id": "i-1", "timestamp": "2026-12-06T05:00:00Z",
                        "agent": "ada", "tool": "codex", "model": "gpt-5", "total_tokens": 900,
                        "cost_usd": 0.5, "latency_ms": 1200, "status": "success",
                        "task_id": "t1", "reported_cost_usd": 0.5, "computed_cost_usd": 0.45,
                        "attribution": "otlp", "source": "codex"}],
            "per_task": [{"task_id": "t1", "invocations": 3, "tokens": 900, "cost_usd": 0.5}],
            "per_agent": [{"agent": null, "invocations": 1, "tokens": 10, "cost_usd": 0.0,
                           "today_usd": 0.0, "month_usd": 0.0}],
            "unpriced": [{"model": "local-llm", "invocations": 2, "tokens": 50}],
            "error_rate": 0.1,
            "generated_at": "2026-12-06T05:00:00Z"
        })
    }

    fn snapshot() -> Value {
        json!({
            "instance": "b7c1", "seq": 42, "tasks": [task()],
            "lanes": {"assigned/ada": 1, "inbox": 0},
            "problems": [{"path": "inbox/bad.yaml", "line": 3, "column": 7,
                          "reason": "mapping values are not allowed here"}],
            "costs": costs(),
            "budgets": {"daily_usd": 10.0, "monthly_usd": 200.0},
            "mcp": {"healthy": 1, "checked": 2, "configured": 3},
            "reading": {"files_read": 10, "files_total": 20},
            "sessions": [session()]
        })
    }

    fn filter() -> Value {
        json!({"q": "parser", "agent": "ada", "priority": "critical", "status": "blocked",
               "tag": "parser"})
    }

    /// One rich value of each type the first load reads besides the socket's events (which
    /// `event.rs` reads both ways, every type of them).
    fn examples() -> Vec<(&'static str, Value)> {
        vec![
            ("snapshot", snapshot()),
            (
                "initial view",
                json!({"snapshot": snapshot(), "now_ms": 1_765_000_000_000_i64,
                                    "task": "t1", "filter": filter(),
                                    "filtered": {"filter": filter(), "seq": 42,
                                                 "tasks": [task()], "lanes": {"inbox": 2}}}),
            ),
            (
                "lane page",
                json!({"seq": 42, "lane": "assigned/ada", "count": 60, "offset": 50,
                                 "tasks": [task()]}),
            ),
            (
                "repositories",
                json!({"local": "main", "repos": [{
                "name": "main", "node": "n1", "seq": 42, "inbox": 1, "assigned": 2, "done": 3,
                "problems": 0, "heartbeat_at": "2026-12-06T05:00:00Z",
                "started_at": "2026-12-06T04:00:00Z", "cost_today": 1.5, "cost_total": 12.25,
                "stale": false}]}),
            ),
            ("cost update", json!({"summary": costs()})),
            (
                "budget alert",
                json!({"period": "monthly", "limit_usd": 200.0,
                                    "spent_usd": 201.5}),
            ),
            (
                "alert",
                json!({"key": "budget:daily", "kind": "budget", "title": "Daily budget",
                             "text": "100 % of $10", "at": "2026-12-06T05:00:00Z",
                             "link": "/costs", "deliveries": [{"index": 1,
                             "destination": "slack (hooks.slack.com)", "status": "undelivered",
                             "attempts": 3, "error": "HTTP 500"}]}),
            ),
        ]
    }

    fn assert_read_alike<T>(name: &str, value: &Value)
    where
        T: DeserializeOwned + FromJson + PartialEq + Debug,
    {
        let text = value.to_string();
        assert!(
            serde_json::from_str::<T>(&text).is_ok(),
            "{name}: serde reads the example"
        );
        if let Err(difference) = same_reading::<T>(&text) {
            panic!("{name}: {difference}");
        }
    }

    #[test]
    fn lean_reader_reads_what_serde_reads_and_refuses_what_it_refuses() {
        for (name, value) in examples() {
            match name {
                "snapshot" => assert_read_alike::<Snapshot>(name, &value),
                "initial view" => assert_read_alike::<InitialView>(name, &value),
                "lane page" => assert_read_alike::<LanePage>(name, &value),
                "repositories" => assert_read_alike::<RepoList>(name, &value),
                "cost update" => assert_read_alike::<CostUpdate>(name, &value),
                "budget alert" => assert_read_alike::<BudgetAlert>(name, &value),
                "alert" => assert_read_alike::<Alert>(name, &value),
                other => panic!("no reader named for {other}"),
            }
        }
        // A filtered board alone too (the fetch answers it on its own).
        let filtered = json!({"filter": filter(), "seq": 3, "tasks": [], "lanes": {}});
        assert_read_alike::<FilteredBoard>("filtered", &filtered);
    }

    #[test]
    fn every_field_of_the_examples_is_set() {
        // A field left out of an example would be read as its default by both readers and
        // prove nothing: every `Option` here is `Some`, every list has an item.
        fn nothing_empty(path: &str, value: &Value) {
            match value {
                Value::Null if path.ends_with("agent") && path.contains("per_agent") => {}
                Value::Null => panic!("{path} is null"),
                Value::Array(items) if items.is_empty() => panic!("{path} is empty"),
                Value::Array(items) => items.iter().for_each(|v| nothing_empty(path, v)),
                Value::Object(map) => map
                    .iter()
                    .for_each(|(key, v)| nothing_empty(&format!("{path}.{key}"), v)),
                _ => {}
            }
        }
        for (name, value) in examples() {
            nothing_empty(name, &value);
        }
        let written =
            serde_json::to_value(serde_json::from_value::<Snapshot>(snapshot()).unwrap()).unwrap();
        assert_eq!(written, snapshot(), "the example is what the server writes");
    }

    #[test]
    fn wrong_values_are_refused_with_where() {
        let mut bad = snapshot();
        bad["tasks"][0]["column"] = json!("archive");
        let error = from_str::<Snapshot>(&bad.to_string()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "tasks[0].column: expected inbox, assigned, done",
            "where, and what was expected"
        );
        assert!(from_str::<Snapshot>(r#"{"seq":"42"}"#).is_err());
        assert!(from_str::<Snapshot>(r#"{"seq":1,"tasks":[],"problems":[]"#).is_err());
    }
}
