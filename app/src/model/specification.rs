//! The specifications a task can be linked to (`specifications/**/*.md` in the repository),
//! as `GET /api/specifications` lists them.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;
use crate::format::lowercase;

/// One specification: its path (what a task's `specification` field holds) and what its YAML
/// front matter says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SpecificationRef {
    /// Relative to the repository, `specifications/…/x.md`.
    pub path: String,
    pub id: Option<String>,
    /// The front matter's `title`, else the file's name.
    pub title: String,
    pub initiative: Option<String>,
    pub status: Option<String>,
    /// As written (`HIGH`, …).
    pub priority: Option<String>,
    /// A manual progress (0–100) that overrides the one of its tasks.
    pub completion: Option<u8>,
    pub features: Vec<FeatureRef>,
}

/// A feature of a specification (a task's `feature` field names one by title).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct FeatureRef {
    pub id: Option<String>,
    pub title: String,
    pub status: Option<String>,
}

/// A specification file that could not be read as one (it is still listed by its path when it
/// could be opened).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SpecificationProblem {
    pub path: String,
    pub error: String,
    /// Where in the file, when the YAML parser says.
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// `GET /api/specifications`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SpecificationList {
    /// By initiative (those without one last), then title.
    pub specifications: Vec<SpecificationRef>,
    pub problems: Vec<SpecificationProblem>,
    /// More files than are read at once: the list stops there.
    pub truncated: bool,
}

impl SpecificationRef {
    /// Whether `query` (lower case) is in its title, id, path, initiative or a feature's title.
    pub fn matches(&self, query: &str) -> bool {
        let has = |text: &str| lowercase(text).contains(query);
        query.is_empty()
            || has(&self.title)
            || has(&self.path)
            || self.id.as_deref().is_some_and(has)
            || self.initiative.as_deref().is_some_and(has)
            || self.features.iter().any(|f| has(&f.title))
    }
}

/// `GET /api/specifications/document?path=…`: a specification to read, its Markdown rendered and
/// sanitized on the server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SpecificationDocument {
    pub path: String,
    pub title: String,
    pub html: String,
}
