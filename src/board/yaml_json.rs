//! A YAML document straight into a JSON value, in one pass over the parser's events: no YAML
//! tree is built and converted afterwards (at 10 000 task files that tree was a sixth of the
//! first scan). The rules are those of the board's documents: keys become text (`1` → `"1"`,
//! `~` → `"null"`, a list or mapping key → its JSON text), tags are dropped, non-finite numbers
//! become `.nan`/`.inf`/`-.inf` strings; a key repeated in one mapping is an error, as YAML
//! says; the parser's own limits (aliases, nesting) still hold.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses one YAML document into JSON.
pub(super) fn parse(text: &str) -> Result<Value, serde_norway::Error> {
    Json.deserialize(serde_norway::Deserializer::from_str(text))
}

/// Deserializes any YAML value as JSON (a seed, so it works on keys, values and tag contents).
#[derive(Clone, Copy)]
struct Json;

impl<'de> DeserializeSeed<'de> for Json {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Json {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(match Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None if f.is_nan() => Value::String(".nan".into()),
            None if f.is_sign_negative() => Value::String("-.inf".into()),
            None => Value::String(".inf".into()),
        })
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut list = Vec::with_capacity(items.size_hint().unwrap_or(0).min(64));
        while let Some(item) = items.next_element_seed(Json)? {
            list.push(item);
        }
        Ok(Value::Array(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        // Keys that were not strings in the YAML: `1` and `"1"` are two keys there (the later
        // wins in JSON), while `1` twice is a duplicate.
        let mut non_string_keys: Vec<String> = Vec::new();
        while let Some(key) = entries.next_key_seed(Json)? {
            let was_string = key.is_string();
            let text = key_text(key);
            let value = entries.next_value_seed(Json)?;
            let seen_as_non_string = non_string_keys.contains(&text);
            if let Some(_earlier) = map.insert(text.clone(), value) {
                if was_string != seen_as_non_string {
                    return Err(de::Error::custom(duplicate(&text, was_string)));
                }
            }
            if !was_string && !seen_as_non_string {
                non_string_keys.push(text);
            }
        }
        Ok(Value::Object(map))
    }

    /// A tagged value (`!custom 5`): the tag is dropped, the value kept.
    fn visit_enum<A: EnumAccess<'de>>(self, tagged: A) -> Result<Value, A::Error> {
        let (_tag, contents) = tagged.variant::<de::IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(contents, Json)
    }
}

fn key_text(key: Value) -> String {
    match key {
        Value::String(s) => s,
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

/// The parser's own wording for a repeated key.
fn duplicate(text: &str, was_string: bool) -> String {
    match (was_string, text) {
        (true, _) => format!("duplicate entry with key {text:?}"),
        (false, "null") => "duplicate entry with null key".to_owned(),
        (false, "true" | "false") => format!("duplicate entry with key `{text}`"),
        (false, _) => format!("duplicate entry with key {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_rules_of_the_board_s_documents() {
        let value = parse(
            "id: a\n1: one\n~: nothing\ntrue: yes\nx: !custom 5\n[1, 2]: list\n\
             inf: .inf\nneg: -.inf\nnan: .nan\nbig: 18446744073709551615\nf: 1.5\n\
             nested: {a: [1, {b: null}]}\n",
        )
        .unwrap();
        assert_eq!(
            value,
            json!({
                "id": "a", "1": "one", "null": "nothing", "true": "yes", "x": 5,
                "[1,2]": "list", "inf": ".inf", "neg": "-.inf", "nan": ".nan",
                "big": 18446744073709551615u64, "f": 1.5, "nested": {"a": [1, {"b": null}]}
            })
        );
    }

    #[test]
    fn a_repeated_key_is_an_error_but_a_string_and_a_number_are_two_keys() {
        let err = parse("id: a\ntitle: x\nid: b\n").unwrap_err().to_string();
        assert!(err.starts_with("duplicate entry with key \"id\""), "{err}");
        let err = parse("1: a\n1: b\n").unwrap_err().to_string();
        assert!(err.starts_with("duplicate entry with key 1"), "{err}");
        assert_eq!(parse("1: a\n'1': b\n").unwrap(), json!({"1": "b"}));
        assert_eq!(parse("'1': a\n1: b\n").unwrap(), json!({"1": "b"}));
    }

    #[test]
    fn the_same_errors_as_the_yaml_tree_for_broken_documents() {
        for text in [
            "id: a\ntitle: x\ndescription: |\n  ok\nnotes:\n* Phase 1\n",
            "a: &a [1]\nb: *c\n",
            "--- a\n--- b\n",
        ] {
            let ours = parse(text).unwrap_err();
            let tree = serde_norway::from_str::<serde_norway::Value>(text).unwrap_err();
            assert_eq!(ours.to_string(), tree.to_string());
        }
    }
}
