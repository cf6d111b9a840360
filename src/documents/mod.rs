//! The Markdown files of the repository and how they are shown: the specifications
//! (`specifications/**/*.md`), the agent profiles (`.github/agents/*.agent.md`), and the
//! Markdown of any text (a task's fields, a specification's body) rendered to safe HTML.
//!
//! Why one group: all three read a file someone wrote by hand, front matter and Markdown, from
//! the repository; the parsing of front matter is shared (`specifications::split_front_matter`, also
//! used by `agent_profiles`). They depend on nothing of the crate but each other; the feeds and
//! the HTTP layer use them.
//!
//! * `specifications`: the repository's specifications with their front matter, bounded.
//! * `agent_profiles`: the agent profiles that `GET /api/agents/portfolio` lists (the original
//!   named that list a portfolio; here "portfolio" is only the initiatives' one, see
//!   [`crate::reports`]).
//! * `markdown`: Markdown to sanitized HTML (pulldown-cmark, ammonia).

mod agent_profiles;
mod markdown;
mod specifications;

pub(crate) use agent_profiles::{load as load_agent_profiles, AgentProfiles};
pub(crate) use markdown::render as render_markdown;
pub use markdown::render_texts;
pub(crate) use specifications::{list as list_specifications, read_document, SPECIFICATIONS_DIR};
