//! `GET /api/agents/portfolio` as the original answers it: the agent profiles of the repository,
//! `.github/agents/*.agent.md`, each from its YAML front matter (`name`, `description` or
//! `specialization`, `capabilities`, `directives`; missing ones left empty), with the file's
//! SHA-256. No folder → an empty list, as the original. Bounded: at most [`MAX_PROFILES`] files,
//! the first 64 KiB of each; links are not followed.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use serde_norway::Value;
use sha2::{Digest, Sha256};

use super::specifications::front_matter;

/// Where the profiles are, in the repository.
const PROFILES_DIR: &str = ".github/agents";
const MAX_PROFILES: usize = 500;
const MAX_BYTES: u64 = 64 * 1024;

#[derive(Debug, Serialize)]
pub(crate) struct AgentProfiles {
    pub(crate) agents: Vec<AgentProfile>,
    pub(crate) metadata: Metadata,
    pub(crate) timestamp: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Metadata {
    pub(crate) total_agents: usize,
    pub(crate) load_time_ms: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct AgentProfile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) specialization: String,
    pub(crate) capability_descriptions: Vec<String>,
    pub(crate) directive_compliance: DirectiveCompliance,
    /// Relative to the repository.
    pub(crate) source_file: String,
    pub(crate) source_hash: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct DirectiveCompliance {
    pub(crate) required_directives_count: usize,
    pub(crate) compliance_percentage: f64,
}

pub(crate) fn load(repo: &Path, timestamp: String) -> AgentProfiles {
    let started = Instant::now();
    let mut files: Vec<_> = fs::read_dir(repo.join(PROFILES_DIR))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|name| name.ends_with(".agent.md"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.truncate(MAX_PROFILES);
    let agents: Vec<AgentProfile> = files
        .iter()
        .filter_map(|name| profile(repo, name))
        .collect();
    AgentProfiles {
        metadata: Metadata {
            total_agents: agents.len(),
            load_time_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
        agents,
        timestamp,
    }
}

fn profile(repo: &Path, name: &str) -> Option<AgentProfile> {
    let relative = format!("{PROFILES_DIR}/{name}");
    let mut bytes = Vec::new();
    fs::File::open(repo.join(&relative))
        .ok()?
        .take(MAX_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let yaml: Value = front_matter(text.strip_prefix('\u{feff}').unwrap_or(&text))
        .and_then(|yaml| serde_norway::from_str(yaml).ok())
        .unwrap_or(Value::Null);
    let text_of = |key: &str| match &yaml[key] {
        Value::String(s) => Some(s.trim().to_owned()),
        _ => None,
    };
    let list_of = |key: &str| -> Vec<String> {
        match &yaml[key] {
            Value::Sequence(items) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Mapping(_) => i["description"]
                        .as_str()
                        .or_else(|| i["name"].as_str())
                        .map(str::to_owned),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let id = name.strip_suffix(".agent.md").unwrap_or(name).to_owned();
    Some(AgentProfile {
        name: text_of("name").unwrap_or_else(|| id.clone()),
        specialization: text_of("specialization")
            .or_else(|| text_of("description"))
            .unwrap_or_default(),
        capability_descriptions: list_of("capabilities"),
        directive_compliance: DirectiveCompliance {
            required_directives_count: list_of("directives").len(),
            compliance_percentage: 100.0,
        },
        source_hash: Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        source_file: relative,
        id,
    })
}
