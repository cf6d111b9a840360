//! The shape of the code base itself: the layers of `src/` depend on each other one way only,
//! and the two copies of the site settings (`Leptos.toml` for the server at run time,
//! `[[workspace.metadata.leptos]]` in `Cargo.toml` for cargo-leptos) cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Top-level module of `src/` → the top-level modules it names through `crate::`.
fn module_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if matches!(name.as_str(), "lib" | "main") {
            continue;
        }
        let mut uses = BTreeSet::new();
        for file in rust_files(&path) {
            let source = std::fs::read_to_string(&file).unwrap();
            // Code only: a comment may name any module.
            let text: String = source
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for (at, _) in text.match_indices("crate::") {
                let rest = &text[at + "crate::".len()..];
                let target: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // `crate::{a, b}` lists several.
                if target.is_empty() && rest.starts_with('{') {
                    let list = &rest[1..rest.find('}').unwrap()];
                    uses.extend(
                        list.split(',')
                            .map(|m| m.trim().split("::").next().unwrap().to_owned()),
                    );
                } else if !target.is_empty() {
                    uses.insert(target);
                }
            }
        }
        uses.remove(&name);
        uses.retain(|m| !m.is_empty());
        graph.insert(name, uses);
    }
    graph
}

/// The crates of the HTTP layer.
const WEB_FRAMEWORK: [&str; 4] = ["axum", "tower", "tower_http", "leptos_axum"];

/// Top-level module of `src/` → the crates of [`WEB_FRAMEWORK`] its code names (`axum::…`, in a
/// path or a `use`).
fn external_crates() -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(repo().join("src")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if matches!(name.as_str(), "lib" | "main") {
            continue;
        }
        let mut crates = BTreeSet::new();
        for file in rust_files(&path) {
            let source = std::fs::read_to_string(&file).unwrap();
            for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for krate in WEB_FRAMEWORK {
                    let named = line.match_indices(&format!("{krate}::")).any(|(at, _)| {
                        // Not the tail of a longer name (`leptos_axum::` is not `axum::`).
                        line[..at]
                            .chars()
                            .next_back()
                            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
                    });
                    if named {
                        crates.insert(krate.to_owned());
                    }
                }
            }
        }
        found.insert(name, crates);
    }
    found
}

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        files.extend(rust_files(&entry.unwrap().path()));
    }
    files
}

#[test]
fn src_modules_depend_one_way() {
    let graph = module_dependencies();
    // The layers, lowest first: a module may use only modules of lower layers.
    let layers: [&[&str]; 9] = [
        &[
            "memory",
            "config",
            "markdown",
            "specifications",
            "portfolio",
            "history",
            "forecast",
            "prices",
        ],
        &["board", "telemetry", "agent_profiles"],
        &["usage"],
        &[
            "agent_logs",
            "attribution",
            "cost_feed",
            "demo",
            "mcp",
            "otlp",
            "portfolio_feed",
            "team",
        ],
        &["sessions"],
        &["alerts"],
        &["http"],
        &["server"],
        &["cli"],
    ];
    let layer_of = |module: &str| {
        layers
            .iter()
            .position(|layer| layer.contains(&module))
            .unwrap_or_else(|| panic!("src/{module} is in no layer of this test: add it"))
    };
    for (module, uses) in &graph {
        for used in uses {
            assert!(
                layer_of(used) < layer_of(module),
                "src/{module} uses crate::{used}, a module of the same or a higher layer"
            );
        }
    }
    assert!(graph["board"].iter().all(|m| m == "memory"), "{graph:?}");
    // The web framework stays in the HTTP layer and above it: below, a module knows no axum,
    // tower or leptos_axum (it takes and returns its own types).
    let http = layer_of("http");
    for (module, crates) in external_crates() {
        assert!(
            layer_of(&module) >= http || crates.is_empty(),
            "src/{module} is below the HTTP layer but names {crates:?}"
        );
    }
    // The telemetry knows only where it lives (`config::Location`).
    assert!(
        graph["telemetry"].iter().all(|m| m == "config"),
        "{graph:?}"
    );
}

#[test]
fn the_site_settings_agree() {
    let cargo: toml::Table = std::fs::read_to_string(repo().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let build = &cargo["workspace"]["metadata"]["leptos"][0];
    let leptos: toml::Table = std::fs::read_to_string(repo().join("Leptos.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let run = leptos["package"]["metadata"]["leptos"].as_table().unwrap();
    assert!(run.len() >= 5, "{run:?}");
    for (key, value) in run {
        assert_eq!(
            build.get(key),
            Some(value),
            "Leptos.toml's {key} differs from Cargo.toml's [[workspace.metadata.leptos]]"
        );
    }
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every `(#anchor)` link of the README and the docs names a heading of its own file.
#[test]
fn in_page_links_lead_to_headings_that_exist() {
    let mut files = vec![repo().join("README.md")];
    files.extend(
        rust_files(&repo().join("docs"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let anchors: BTreeSet<String> = text
            .lines()
            .filter_map(|line| line.strip_prefix('#'))
            .map(|rest| anchor_of(rest.trim_start_matches('#')))
            .collect();
        for (at, _) in text.match_indices("](#") {
            let rest = &text[at + 3..];
            let target = &rest[..rest.find(')').unwrap_or(rest.len())];
            assert!(
                anchors.contains(target),
                "{}: the link to #{target} leads to no heading",
                file.display()
            );
        }
    }
}
