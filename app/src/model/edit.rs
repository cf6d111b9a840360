//! The bodies of the edit endpoints (`PATCH /api/tasks/{id}/priority`, `…/specification`) and
//! their answer: what the page sends and the server reads.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A body field as sent: absent, `null`, a value of its type, or a value of another type. Never
/// fails to deserialize, so the server can answer each case with its own message (the original's
/// "Missing priority field" for an absent one, the valid values for a `null` or a number).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Given(T),
    /// Of another JSON type than the field's.
    WrongType,
}

impl<T> Field<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Null => Field::Null,
            value => serde_json::from_value(value).map_or(Field::WrongType, Field::Given),
        })
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Given(value) => value.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }
}

/// `PATCH /api/tasks/{id}/priority`: `{"priority": "HIGH", "last_modified"?}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PriorityEdit {
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` in any case, or `normal`.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub priority: Field<String>,
    /// The task's `last_modified` as the sender read it: the edit is refused if it changed.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub last_modified: Field<String>,
}

/// `PATCH /api/tasks/{id}/specification`: `{"specification": "specifications/x.md",
/// "feature"?, "last_modified"?}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecificationEdit {
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub specification: Field<String>,
    /// One of the specification's features (one line).
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub feature: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub last_modified: Field<String>,
}

/// An edit's answer: the task file as it is now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditAnswer {
    pub success: bool,
    /// The task's whole YAML mapping, as `/api/tasks` gives it.
    pub task: serde_json::Value,
    /// The file edited (relative to the collaboration folder).
    pub path: String,
    /// The file's new version (also the `ETag` header).
    pub etag: String,
}

/// What the API answers with a 4xx or 5xx status: `{"error", "field"?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, super::lean::FromJson)]
pub struct Refusal {
    pub error: String,
    /// The request's field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_of_sending_a_field_is_told_apart() {
        let read = |json: &str| serde_json::from_str::<PriorityEdit>(json).unwrap();
        assert_eq!(read("{}").priority, Field::Absent);
        assert_eq!(read(r#"{"priority":null}"#).priority, Field::Null);
        assert_eq!(read(r#"{"priority":0}"#).priority, Field::WrongType);
        assert_eq!(
            read(r#"{"priority":"HIGH","last_modified":false}"#),
            PriorityEdit {
                priority: Field::Given("HIGH".into()),
                last_modified: Field::WrongType,
            }
        );
    }

    #[test]
    fn what_the_page_sends_has_only_the_fields_given() {
        let edit = SpecificationEdit {
            specification: Field::Given("specifications/a.md".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&edit).unwrap(),
            r#"{"specification":"specifications/a.md"}"#
        );
    }
}
