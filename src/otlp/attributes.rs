//! The attributes one record is read with: its own, then its scope's, then its resource's (a
//! record's own value wins). Senders disagree on types (Claude Code sends token counts as
//! strings, the GenAI conventions as integers), so numbers are read from either.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

/// A record's attributes over its scope's and resource's.
#[derive(Clone, Copy)]
pub(super) struct Attributes<'a> {
    layers: [&'a [KeyValue]; 3],
}

impl<'a> Attributes<'a> {
    pub(super) fn new(
        record: &'a [KeyValue],
        scope: &'a [KeyValue],
        resource: &'a [KeyValue],
    ) -> Attributes<'a> {
        Attributes {
            layers: [record, scope, resource],
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.layers.iter().find_map(|layer| {
            layer
                .iter()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| v.value.as_ref())
        })
    }

    /// The first of `keys` that is set, as text (numbers and booleans written out); empty
    /// strings count as unset.
    pub(super) fn text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|key| {
            let text = match self.get(key)? {
                Value::StringValue(s) => s.trim().to_owned(),
                Value::IntValue(i) => i.to_string(),
                Value::DoubleValue(d) => d.to_string(),
                Value::BoolValue(b) => b.to_string(),
                _ => return None,
            };
            (!text.is_empty()).then_some(text)
        })
    }

    /// The first of `keys` that is set, as a count of tokens or milliseconds: an integer, a
    /// whole double or a numeric string, not negative.
    pub(super) fn count(&self, keys: &[&str]) -> Result<Option<i64>, String> {
        self.number(keys, "a count (a number ≥ 0)", |n| n <= i64::MAX as f64)
            .map(|n| n.map(|n| n.round() as i64))
    }

    /// The first of `keys` that is set, as an amount (of US dollars): finite and not negative.
    pub(super) fn amount(&self, keys: &[&str]) -> Result<Option<f64>, String> {
        self.number(keys, "an amount ≥ 0", |_| true)
    }

    /// The first of `keys` that is set, as a finite number ≥ 0 that `fits`; else why not, as
    /// `what` it must be.
    fn number(
        &self,
        keys: &[&str],
        what: &str,
        fits: impl Fn(f64) -> bool,
    ) -> Result<Option<f64>, String> {
        let Some((key, value)) = keys.iter().find_map(|k| Some((*k, self.get(k)?))) else {
            return Ok(None);
        };
        let number = match value {
            Value::IntValue(i) => Some(*i as f64),
            Value::DoubleValue(d) => Some(*d),
            Value::StringValue(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(n) if n.is_finite() && n >= 0.0 && fits(n) => Ok(Some(n)),
            _ => Err(format!("{key} must be {what}, not {}", shown(value))),
        }
    }
}

/// A value as an error message shows it (cut short).
fn shown(value: &Value) -> String {
    let text = match value {
        Value::StringValue(s) => format!("{s:?}"),
        Value::IntValue(i) => i.to_string(),
        Value::DoubleValue(d) => d.to_string(),
        Value::BoolValue(b) => b.to_string(),
        Value::ArrayValue(_) => "an array".into(),
        Value::KvlistValue(_) => "a map".into(),
        Value::BytesValue(_) => "bytes".into(),
        Value::StringValueStrindex(_) => "a string index".into(),
    };
    text.chars().take(80).collect()
}

/// A body or attribute value as text, when it is a string.
pub(super) fn string_of(value: Option<&AnyValue>) -> Option<&str> {
    match value?.value.as_ref()? {
        Value::StringValue(s) => Some(s),
        _ => None,
    }
}
