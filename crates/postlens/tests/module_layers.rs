//! Every library crate's top-level modules form layers: a module may use the ones below
//! it, never one that uses it back (issue 32). A cycle is how "shared" code ends up in
//! whichever module needed it first (a text fold inside the caption parser that the tagger
//! then borrowed); this test names the modules of any cycle that comes back.
//!
//! It reads the sources as text: `crate::name` in code (comments and unit-test modules
//! left out) is an edge from the file's top-level module to `name`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a source file without its comments and its `#[cfg(test)]` module, which
/// may reach anywhere in the crate.
fn code_of(source: &str) -> String {
    let without_tests = source.split("#[cfg(test)]").next().unwrap_or_default();
    without_tests
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules each module of the crate at `src` uses.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("below src");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs").to_owned();
        let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if matches!(module.as_str(), "lib" | "main" | "bin")
            || name == "tests.rs"
            || name.ends_with("_tests.rs")
        {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).expect("readable source"));
        let used = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let before = code[..at].chars().next_back();
            // `postlens_runtime::crate_name::` or `$crate::` are not this crate's paths.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let target: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // Lower-case: a module; an item re-exported at the root (`crate::Worker`) is
            // not a module edge.
            if !target.is_empty() && target != module && target.starts_with(char::is_lowercase) {
                used.insert(target);
            }
        }
    }
    graph
}

/// One cycle of the graph as a path `a -> b -> a`, if there is any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn every_crate_s_modules_are_layered() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/");
    let mut checked = Vec::new();
    let mut cycles = Vec::new();
    for entry in std::fs::read_dir(crates).expect("crates/").flatten() {
        let src = entry.path().join("src");
        if !src.join("lib.rs").exists() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(cycle) = find_cycle(&module_graph(&src)) {
            cycles.push(format!("{name}: {}", cycle.join(" -> ")));
        }
        checked.push(name);
    }
    assert!(
        checked.iter().any(|c| c == "runtime") && checked.iter().any(|c| c == "analysis"),
        "{checked:?}"
    );
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph: Graph = [
        ("config", &["metrics"][..]),
        ("metrics", &["engine"][..]),
        ("engine", &["config", "error"][..]),
        ("error", &[][..]),
    ]
    .into_iter()
    .map(|(m, used)| (m.to_owned(), used.iter().map(|u| u.to_string()).collect()))
    .collect();
    let cycle = find_cycle(&graph).expect("config -> metrics -> engine -> config");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    let mut layered = graph.clone();
    layered.insert("engine".into(), ["error".to_owned()].into());
    assert_eq!(find_cycle(&layered), None);
}
