use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// A task file (or a specification's front matter) that could not be read: where, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Problem {
    /// Path relative to `work/collaboration`; for a specification, `specifications/…` (relative
    /// to the repository).
    pub path: String,
    /// 1-based line of the error, when the parser knows it.
    pub line: Option<u32>,
    /// 1-based column of the error, when the parser knows it.
    pub column: Option<u32>,
    pub reason: String,
}
