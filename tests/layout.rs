//! The shape of the code base itself: the layers of `src/` depend on each other one way only,
//! and the two copies of the site settings (`Leptos.toml` for the server at run time,
//! `[[workspace.metadata.leptos]]` in `Cargo.toml` for cargo-leptos) cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folders of `src/` that group modules of one role rather than split one module: each of
/// their submodules is a node of the graph (`runtime::config`), in a layer of its own choosing.
const GROUPS: [&str; 5] = ["documents", "feeds", "invocations", "reports", "runtime"];

/// A group's `mod.rs` re-exports what the crate uses of it (`pub(crate) use config::{Config,
/// Webhook}`): re-exported name → the submodule it comes from.
fn reexports(group: &Path) -> BTreeMap<String, String> {
    let source = std::fs::read_to_string(group.join("mod.rs")).unwrap();
    let text = code(&source);
    let mut names = BTreeMap::new();
    for (at, _) in text.match_indices("use ") {
        if !text[..at].ends_with(|c: char| c.is_whitespace() || c == ')') && at > 0 {
            continue;
        }
        let rest = text[at + "use ".len()..].trim_start_matches("self::");
        for path in use_paths(rest, true) {
            let [module, .., name] = path.as_slice() else {
                continue;
            };
            names.insert(name.clone(), module.clone());
        }
    }
    names
}

/// The source without its comment lines: a comment may name any module.
fn code(source: &str) -> String {
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths of a use tree or a path in code, from its start: `a::b` → `[a, b]`, `a::{b, c::d}` →
/// `[a, b]` and `[a, c, d]`; `a::b as c` → `[a, b]`, or with `aliases` `[a, c]` (the name it
/// has where it is used).
fn use_paths(text: &str, aliases: bool) -> Vec<Vec<String>> {
    fn ident(text: &str) -> (&str, &str) {
        let end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        text.split_at(end)
    }
    // → the paths of the tree at the start of `text`, and what follows the tree.
    fn tree(text: &str, aliases: bool) -> (Vec<Vec<String>>, &str) {
        let text = text.trim_start();
        if let Some(inner) = text.strip_prefix('{') {
            let mut paths = Vec::new();
            let mut rest = inner;
            loop {
                rest = rest.trim_start();
                if let Some(after) = rest.strip_prefix('}') {
                    return (paths, after);
                }
                if rest.is_empty() {
                    return (paths, rest);
                }
                let (found, after) = tree(rest, aliases);
                paths.extend(found);
                rest = after.trim_start();
                rest = rest.strip_prefix(',').unwrap_or(rest);
            }
        }
        let (name, rest) = ident(text);
        if name.is_empty() {
            // `*` or anything else that is no name: skipped.
            let skip = text.find([',', '}', ';', '\n']).unwrap_or(text.len());
            return (Vec::new(), &text[skip..]);
        }
        if let Some(after) = rest.strip_prefix("::") {
            let (found, rest) = tree(after, aliases);
            let mut paths: Vec<Vec<String>> = found
                .into_iter()
                .map(|mut path| {
                    path.insert(0, name.to_owned());
                    path
                })
                .collect();
            if paths.is_empty() {
                paths.push(vec![name.to_owned()]);
            }
            return (paths, rest);
        }
        let trimmed = rest.trim_start();
        if let Some(alias) = trimmed.strip_prefix("as ") {
            let (alias, rest) = ident(alias.trim_start());
            let used = if aliases { alias } else { name };
            return (vec![vec![used.to_owned()]], rest);
        }
        (vec![vec![name.to_owned()]], rest)
    }
    tree(text, aliases).0
}

/// The nodes of `src/`: a top-level module (a file, or a folder that splits one module), or a
/// submodule of a group (`runtime::config`) → its files.
fn nodes() -> BTreeMap<String, Vec<PathBuf>> {
    let mut nodes = BTreeMap::new();
    for entry in std::fs::read_dir(repo().join("src")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if matches!(name.as_str(), "lib" | "main") {
            continue;
        }
        if GROUPS.contains(&name.as_str()) {
            for entry in std::fs::read_dir(&path).unwrap() {
                let sub = entry.unwrap().path();
                let sub_name = sub.file_stem().unwrap().to_str().unwrap().to_owned();
                if sub_name != "mod" {
                    nodes.insert(format!("{name}::{sub_name}"), rust_files(&sub));
                }
            }
        } else {
            nodes.insert(name, rust_files(&path));
        }
    }
    nodes
}

/// Node of `src/` → the nodes it names: `crate::board`, `crate::runtime::Config` (the group's
/// `mod.rs` says which submodule that is), `crate::runtime::config::…`, `crate::{a, b}` lists,
/// and in a group's submodule `super::sibling`.
fn module_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("src");
    let groups: BTreeMap<&str, BTreeMap<String, String>> = GROUPS
        .iter()
        .map(|group| (*group, reexports(&src.join(group))))
        .collect();
    let node_of = |path: &[String]| -> Option<String> {
        let first = path.first()?;
        let Some(names) = groups.get(first.as_str()) else {
            return Some(first.clone());
        };
        let second = path.get(1)?;
        assert!(
            second != "self",
            "crate::{first}::{{self}}: name what you use of a group (its module is unknown)"
        );
        let sub = if src.join(first).join(format!("{second}.rs")).is_file()
            || src.join(first).join(second).is_dir()
        {
            second.clone()
        } else {
            names
                .get(second)
                .unwrap_or_else(|| panic!("crate::{first}::{second} is re-exported by no use"))
                .clone()
        };
        Some(format!("{first}::{sub}"))
    };
    let mut graph = BTreeMap::new();
    for (node, files) in nodes() {
        let group = node.split_once("::").map(|(group, _)| group.to_owned());
        let mut uses = BTreeSet::new();
        for file in files {
            let text = code(&std::fs::read_to_string(&file).unwrap());
            for (at, _) in text.match_indices("crate::") {
                for path in use_paths(&text[at + "crate::".len()..], false) {
                    uses.extend(node_of(&path));
                }
            }
            // A sibling in the same group, by `super::`.
            if let Some(group) = &group {
                for (at, _) in text.match_indices("super::") {
                    for path in use_paths(&text[at + "super::".len()..], false) {
                        let sibling = &path[0];
                        if src.join(group).join(format!("{sibling}.rs")).is_file()
                            || src.join(group).join(sibling).is_dir()
                        {
                            uses.insert(format!("{group}::{sibling}"));
                        }
                    }
                }
            }
        }
        uses.remove(&node);
        graph.insert(node, uses);
    }
    // A group's `mod.rs` only declares and re-exports: it uses nothing of the crate.
    for group in GROUPS {
        let text = code(&std::fs::read_to_string(src.join(group).join("mod.rs")).unwrap());
        assert!(
            !text.contains("crate::"),
            "src/{group}/mod.rs names crate::: a group's mod.rs only re-exports"
        );
    }
    graph
}

/// The crates of the HTTP layer.
const WEB_FRAMEWORK: [&str; 4] = ["axum", "tower", "tower_http", "leptos_axum"];

/// Node of `src/` (see [`nodes`]) → the crates of [`WEB_FRAMEWORK`] its code names (`axum::…`,
/// in a path or a `use`).
fn external_crates() -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    for (node, files) in nodes() {
        let mut crates = BTreeSet::new();
        for file in files {
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
        found.insert(node, crates);
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
            "runtime::memory",
            "runtime::config",
            "documents::markdown",
            "documents::specifications",
            "reports::initiatives",
            "reports::throughput",
            "reports::forecast",
            "invocations::prices",
        ],
        &["board", "telemetry", "documents::agent_profiles"],
        &["invocations::usage"],
        &[
            "agent_logs",
            "invocations::attribution",
            "feeds::costs",
            "runtime::demo",
            "mcp",
            "otlp",
            "feeds::initiatives",
            "team",
        ],
        &["sessions"],
        &["alerts"],
        &["http"],
        &["runtime::server"],
        &["runtime::cli"],
    ];
    let layer_of = |module: &str| {
        layers
            .iter()
            .position(|layer| layer.contains(&module))
            .unwrap_or_else(|| panic!("{module} is in no layer of this test: add it"))
    };
    // Every name of the list is a module that is there (a file moved is a name changed here).
    for module in layers.iter().flat_map(|layer| layer.iter()) {
        assert!(
            graph.contains_key(*module),
            "no module {module} in src/: {graph:?}"
        );
    }
    for (module, uses) in &graph {
        for used in uses {
            assert!(
                layer_of(used) < layer_of(module),
                "{module} uses {used}, a module of the same or a higher layer"
            );
        }
    }
    assert!(
        graph["board"].iter().all(|m| m == "runtime::memory"),
        "{graph:?}"
    );
    // The web framework stays in the HTTP layer and above it: below, a module knows no axum,
    // tower or leptos_axum (it takes and returns its own types).
    let http = layer_of("http");
    for (module, crates) in external_crates() {
        assert!(
            layer_of(&module) >= http || crates.is_empty(),
            "{module} is below the HTTP layer but names {crates:?}"
        );
    }
    // The telemetry knows only where it lives (`runtime::config`'s `Location`).
    assert!(
        graph["telemetry"].iter().all(|m| m == "runtime::config"),
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
