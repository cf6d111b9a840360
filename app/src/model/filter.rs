//! Which tasks a view shows: free text over title, id, description and tags, and the agent,
//! priority, status and tag. It travels in the address's query (`?q=parser&agent=python-pedro`)
//! so a view can be shared and survives a reload; the server applies it to the page and to the
//! API (`/api/tasks`, the exports), the page to what it holds.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;
use crate::format::lowercase;

use super::{Priority, TaskSummary};

/// The longest free text accepted (bytes).
pub const MAX_QUERY_BYTES: usize = 200;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJson)]
pub struct TaskFilter {
    /// Words that must all appear (any case) in the title, id, description or tags.
    pub q: Option<String>,
    /// The agent (its `agent` field, else its folder), any case.
    pub agent: Option<String>,
    pub priority: Option<Priority>,
    /// As written, lower case (`in_progress`, `blocked`, …).
    pub status: Option<String>,
    pub tag: Option<String>,
}

/// A query parameter with a value the filter cannot take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub field: &'static str,
    pub message: String,
}

impl TaskFilter {
    /// From query parameters (`q`, `agent`, `priority`, `status`, `tag`; others are left to the
    /// caller). Empty values mean no filter.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TaskFilter, FilterError> {
        let mut filter = TaskFilter::default();
        for (key, value) in pairs {
            let value = value.trim();
            let slot = match key {
                "q" => &mut filter.q,
                "agent" => &mut filter.agent,
                "status" => &mut filter.status,
                "tag" => &mut filter.tag,
                "priority" => {
                    if !value.is_empty() {
                        filter.priority =
                            Some(Priority::parse(value).ok_or_else(|| FilterError {
                                field: "priority",
                                message: format!(
                                "\"{value}\" is not a priority (critical, high, medium, normal, low)"
                            ),
                            })?);
                    }
                    continue;
                }
                _ => continue,
            };
            if value.len() > MAX_QUERY_BYTES {
                return Err(FilterError {
                    field: match key {
                        "q" => "q",
                        "agent" => "agent",
                        "status" => "status",
                        _ => "tag",
                    },
                    message: format!("longer than {MAX_QUERY_BYTES} bytes"),
                });
            }
            *slot = (!value.is_empty()).then(|| value.to_owned());
        }
        if let Some(status) = &mut filter.status {
            *status = status.to_ascii_lowercase();
        }
        Ok(filter)
    }

    pub fn is_empty(&self) -> bool {
        *self == TaskFilter::default()
    }

    /// The filter as a query string (`q=a%20b&agent=x`), empty when it filters nothing.
    pub fn to_query(&self) -> String {
        let mut pairs = Vec::new();
        let mut push = |key: &str, value: Option<&str>| {
            if let Some(value) = value {
                pairs.push(format!(
                    "{key}={}",
                    crate::navigation::encode_segment(value)
                ));
            }
        };
        push("q", self.q.as_deref());
        push("agent", self.agent.as_deref());
        push("priority", self.priority.map(|p| p.as_str()));
        push("status", self.status.as_deref());
        push("tag", self.tag.as_deref());
        pairs.join("&")
    }

    /// Whether `task` (with its description, when known) passes.
    pub fn matches(&self, task: &TaskSummary, description: Option<&str>) -> bool {
        if let Some(agent) = &self.agent {
            if !task.owner().is_some_and(|o| o.eq_ignore_ascii_case(agent)) {
                return false;
            }
        }
        if self.priority.is_some() && task.priority != self.priority {
            return false;
        }
        if let Some(status) = &self.status {
            if task.status.as_deref() != Some(status.as_str()) {
                return false;
            }
        }
        if let Some(tag) = &self.tag {
            if !task.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                return false;
            }
        }
        if let Some(q) = &self.q {
            // Every word of the query in one of the fields (a word has no whitespace, so it
            // cannot run from one field or tag into the next).
            let fields = [
                task.title.as_str(),
                task.id.as_str(),
                description.unwrap_or(""),
            ]
            .into_iter()
            .chain(task.tags.iter().map(String::as_str))
            .map(lowercase)
            .collect::<Vec<_>>();
            return lowercase(q)
                .split_whitespace()
                .all(|word| fields.iter().any(|field| field.contains(word)));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> TaskSummary {
        TaskSummary {
            path: "assigned/python-pedro/parser.yaml".into(),
            column: super::super::Column::Assigned,
            lane: Some("python-pedro".into()),
            id: "T-7".into(),
            title: "Parse the agent Profiles".into(),
            agent: None,
            status: Some("in_progress".into()),
            priority: Some(Priority::High),
            created_at: None,
            updated_at: None,
            started_at: None,
            completed_at: None,
            tags: vec!["Parsing".into()],
            specification: None,
            estimated_hours: None,
            budget_usd: None,
            blocked_reason: None,
            state: None,
            activity_ms: None,
            repo: None,
        }
    }

    fn filter(query: &[(&str, &str)]) -> TaskFilter {
        TaskFilter::from_pairs(query.iter().copied()).unwrap()
    }

    #[test]
    fn every_criterion_must_hold() {
        let t = task();
        assert!(filter(&[]).matches(&t, None));
        assert!(filter(&[("q", "profiles PARSE")]).matches(&t, None));
        assert!(filter(&[("q", "t-7")]).matches(&t, None));
        assert!(filter(&[("q", "parsing")]).matches(&t, None), "tags");
        assert!(filter(&[("q", "schema")]).matches(&t, Some("Needs the schema")));
        assert!(!filter(&[("q", "schema")]).matches(&t, None));
        assert!(filter(&[("agent", "Python-Pedro"), ("priority", "HIGH")]).matches(&t, None));
        assert!(!filter(&[("agent", "curator")]).matches(&t, None));
        assert!(filter(&[("status", "In_Progress"), ("tag", "parsing")]).matches(&t, None));
        assert!(!filter(&[("status", "done")]).matches(&t, None));
        assert!(!filter(&[("priority", "low")]).matches(&t, None));
    }

    #[test]
    fn the_query_round_trips_and_bad_values_name_their_field() {
        let f = filter(&[
            ("q", "a b&c"),
            ("priority", "High"),
            ("agent", ""),
            ("x", "y"),
        ]);
        assert_eq!(f.to_query(), "q=a%20b%26c&priority=high");
        assert!(filter(&[]).is_empty());
        let error = TaskFilter::from_pairs([("priority", "urgent")]).unwrap_err();
        assert_eq!(error.field, "priority");
        let long = "x".repeat(MAX_QUERY_BYTES + 1);
        assert_eq!(
            TaskFilter::from_pairs([("q", long.as_str())])
                .unwrap_err()
                .field,
            "q"
        );
    }
}
