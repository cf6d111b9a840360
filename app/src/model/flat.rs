//! Objects written with serde's `flatten` (a task: its summary's fields beside its description;
//! an initiative's or a specification's cost shares beside its name), read in the browser
//! without it.
//!
//! serde reads a flattened field by buffering every key of the object in its `Content` tree and
//! reading the field's type again from that: a second reader of each such type over `Content`,
//! and `Content`'s own code, 17 KB of the task's and the costs' modules before optimisation. The
//! browser instead takes the object as its raw JSON text and reads it twice, as each part (each
//! ignoring the other's keys), with the readers of JSON text it has anyway (the board reads task
//! summaries). The JSON is the same; the server and the tests keep serde's derived readers,
//! against which the unit tests below compare these.

use serde::de::{DeserializeOwned, Deserializer, Error};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{CostShare, Document, InitiativeCost, SpecificationCost, Task, TaskSummary};

/// The JSON object `deserializer` is at, read as `A` and as `B`. Only serde_json's deserializers
/// can give an object as its text: the browser reads nothing else.
fn read_both<'de, D, A, B>(deserializer: D) -> Result<(A, B), D::Error>
where
    D: Deserializer<'de>,
    A: DeserializeOwned,
    B: DeserializeOwned,
{
    let raw = Box::<RawValue>::deserialize(deserializer)?;
    let first = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
    let second = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
    Ok((first, second))
}

/// A task as the browser reads it: its summary and its description (the document, which the
/// page never reads, left empty).
pub fn read_task<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Task, D::Error> {
    #[derive(Deserialize)]
    struct Added {
        description: Option<String>,
    }
    let (summary, Added { description }) = read_both::<_, TaskSummary, Added>(deserializer)?;
    Ok(Task {
        summary,
        description,
        document: Document::default(),
    })
}

/// An initiative's cost as the browser reads it.
pub fn read_initiative_cost<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<InitiativeCost, D::Error> {
    #[derive(Deserialize)]
    struct Named {
        id: String,
        title: String,
        specifications: Vec<SpecificationCost>,
    }
    let (named, cost) = read_both::<_, Named, CostShare>(deserializer)?;
    Ok(InitiativeCost {
        id: named.id,
        title: named.title,
        cost,
        specifications: named.specifications,
    })
}

/// A specification's cost as the browser reads it.
pub fn read_specification_cost<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<SpecificationCost, D::Error> {
    #[derive(Deserialize)]
    struct Named {
        path: String,
        title: String,
    }
    let (named, cost) = read_both::<_, Named, CostShare>(deserializer)?;
    Ok(SpecificationCost {
        path: named.path,
        title: named.title,
        cost,
    })
}

/// The browser's readers of the flattened types (the server derives serde's).
#[cfg(feature = "hydrate")]
mod browser {
    use serde::{Deserialize, Deserializer};

    use super::super::{InitiativeCost, SpecificationCost, Task};

    impl<'de> Deserialize<'de> for Task {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::read_task(deserializer)
        }
    }

    impl<'de> Deserialize<'de> for InitiativeCost {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::read_initiative_cost(deserializer)
        }
    }

    impl<'de> Deserialize<'de> for SpecificationCost {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::read_specification_cost(deserializer)
        }
    }
}

#[cfg(all(test, not(feature = "hydrate")))]
mod tests {
    use super::*;
    use crate::model::{Column, Priority};

    /// A field among others, as the detail's task and the costs' initiatives are.
    #[derive(Deserialize)]
    struct Detail {
        #[serde(deserialize_with = "read_task")]
        task: Task,
        #[serde(deserialize_with = "read_initiative_cost")]
        initiative: InitiativeCost,
    }

    fn task() -> Task {
        serde_json::from_value(serde_json::json!({
            "path": "assigned/pedro/parser.yaml", "column": "assigned", "lane": "pedro",
            "id": "parser", "title": "Parse \"profiles\"", "agent": "pedro",
            "status": "in_progress", "priority": "high", "created_at": "2026-02-06T11:48:00Z",
            "updated_at": null, "started_at": null, "completed_at": null, "tags": ["a", "b"],
            "specification": "specifications/a.md", "estimated_hours": 2.5, "budget_usd": 3.0,
            "blocked_reason": null, "state": "working", "activity_ms": 5, "repo": "alpha",
            "description": "Read **every** profile.", "document": {"id": "parser", "x": [1]},
        }))
        .unwrap()
    }

    fn initiative() -> InitiativeCost {
        InitiativeCost {
            id: "i".into(),
            title: "Ship \"it\"".into(),
            cost: CostShare {
                cost_usd: 1.25,
                tokens: 10,
                invocations: 2,
            },
            specifications: vec![SpecificationCost {
                path: "specifications/a.md".into(),
                title: "A".into(),
                cost: CostShare {
                    cost_usd: 0.5,
                    tokens: 4,
                    invocations: 1,
                },
            }],
        }
    }

    #[test]
    fn a_task_reads_as_the_derived_reader_reads_it_but_for_its_document() {
        let json = serde_json::to_string(&task()).unwrap();
        let derived: Task = serde_json::from_str(&json).unwrap();
        let read = read_task(&mut serde_json::Deserializer::from_str(&json)).unwrap();
        assert_eq!(read.column, Column::Assigned);
        assert_eq!(read.priority, Some(Priority::High));
        assert_eq!(read.description.as_deref(), Some("Read **every** profile."));
        assert_eq!(read.document, Document::default());
        assert_ne!(derived.document, Document::default());
        assert_eq!(
            read,
            Task {
                document: Document::default(),
                ..derived
            }
        );
    }

    #[test]
    fn costs_read_as_the_derived_readers_read_them() {
        let json = serde_json::to_string(&initiative()).unwrap();
        let derived: InitiativeCost = serde_json::from_str(&json).unwrap();
        assert_eq!(derived, initiative());
        let read = read_initiative_cost(&mut serde_json::Deserializer::from_str(&json)).unwrap();
        assert_eq!(read, derived);
    }

    #[test]
    fn the_parts_are_read_where_the_object_is_a_field() {
        let text = format!(
            r#"{{"before":[1,{{"id":"x"}}],"task":{},"initiative":{},"after":"z"}}"#,
            serde_json::to_string(&task()).unwrap(),
            serde_json::to_string(&initiative()).unwrap()
        );
        let detail: Detail = serde_json::from_str(&text).unwrap();
        assert_eq!(detail.task.title, "Parse \"profiles\"");
        assert_eq!(detail.task.tags, ["a", "b"]);
        assert_eq!(detail.initiative, initiative());
    }

    #[test]
    fn a_missing_or_wrong_part_is_an_error_as_with_the_derived_reader() {
        let missing_share = r#"{"path":"p","title":"t","cost_usd":1.0,"tokens":1}"#;
        assert!(serde_json::from_str::<SpecificationCost>(missing_share).is_err());
        let read = read_specification_cost(&mut serde_json::Deserializer::from_str(missing_share));
        assert!(read.unwrap_err().to_string().contains("invocations"));
        let not_an_object = r#""parser""#;
        assert!(read_task(&mut serde_json::Deserializer::from_str(not_an_object)).is_err());
    }
}
