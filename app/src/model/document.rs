//! A task file's whole YAML mapping, kept as compact JSON text: a fraction of the memory of a
//! parsed tree, written into responses as it is, and shared (not copied) when cloned, so an
//! export can stream the documents without holding the board's lock.

use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// A task file's mapping as JSON text. The default is the empty mapping (`{}`), made without
/// parsing anything: the browser, which leaves a task's document out, then needs none of
/// serde_json's reader.
#[derive(Clone, Debug, Default)]
pub struct Document(Option<Arc<RawValue>>);

impl Document {
    pub fn from_value(value: &Value) -> Document {
        let raw = serde_json::value::to_raw_value(value).expect("a JSON value serializes");
        Document::from_raw(raw)
    }

    /// A document from JSON text already checked (a cache of documents read before).
    pub fn from_raw(raw: Box<RawValue>) -> Document {
        Document(Some(Arc::from(raw)))
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.as_deref().map_or("{}", RawValue::get)
    }

    /// The parsed document (for reading fields or pretty-printing).
    pub fn value(&self) -> Value {
        serde_json::from_str(self.json()).unwrap_or(Value::Null)
    }
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => RawValue::serialize(raw, serializer),
            None => serializer.serialize_map(Some(0))?.end(),
        }
    }
}

/// For the lean reader (the server's tests: the browser leaves a task's document out).
impl super::lean::FromJson for Document {
    fn from_json<J: super::lean::JsonValue>(value: &J) -> Result<Self, super::lean::ReadError> {
        RawValue::from_string(value.text())
            .map(Document::from_raw)
            .map_err(|e| super::lean::ReadError::new(e.to_string()))
    }

    fn placeholder() -> Self {
        Document::default()
    }
}

impl<'de> Deserialize<'de> for Document {
    /// Through a `Value`, so it also works inside tagged and flattened enums (where serde buffers
    /// the input and a `RawValue` cannot be borrowed).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|value| Document::from_value(&value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_empty_mapping_in_every_form() {
        let empty = Document::default();
        assert_eq!(empty.json(), "{}");
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
        assert_eq!(empty.value(), serde_json::json!({}));
        let read: Document = serde_json::from_str("{}").unwrap();
        assert_eq!(read, empty);
    }
}
