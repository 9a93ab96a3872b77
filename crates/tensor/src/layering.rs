//! The crate's file graph: which source file names which (by `crate::` and `super::` paths),
//! checked for circles. A circle (as `device.rs`, `tensor.rs` and `texture.rs` once made) means
//! no file of it can be understood or changed alone; this test keeps the layering a tree:
//! device state below tensors, tensors below ops, the software-adapter wing beside the ops.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, as paths relative to `root`.
fn sources(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(root).expect("under src/").to_path_buf());
        }
    }
}

/// The module path of a file: `cpu/mod.rs` -> `cpu`, `cpu/texture.rs` -> `cpu::texture`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The file of the longest prefix of `path` that is a module of the crate.
fn file_of(path: &[String], files: &BTreeMap<Vec<String>, PathBuf>) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| files.get(&path[..n]).cloned())
}

/// Which files each file names, outside its tests.
fn graph(root: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut paths = Vec::new();
    sources(root, root, &mut paths);
    let files: BTreeMap<Vec<String>, PathBuf> = paths.iter().map(|p| (module_of(p), p.clone())).collect();
    let mut edges = BTreeMap::new();
    for file in &paths {
        let text = std::fs::read_to_string(root.join(file)).expect("readable");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let here = module_of(file);
        let parent =
            if file.ends_with("mod.rs") { here.clone() } else { here[..here.len().saturating_sub(1)].to_vec() };
        let mut named = BTreeSet::new();
        for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            for (prefix, base) in [("crate::", Vec::new()), ("super::", parent.clone())] {
                for (at, _) in line.match_indices(prefix) {
                    let mut path = base.clone();
                    path.extend(
                        line[at + prefix.len()..]
                            .split("::")
                            .map(|s| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>())
                            .take_while(|s| !s.is_empty()),
                    );
                    if let Some(target) = file_of(&path, &files).filter(|t| t != file) {
                        named.insert(target);
                    }
                }
            }
        }
        edges.insert(file.clone(), named);
    }
    edges
}

/// A circle through `start`, if any: the files from `start` back to it.
fn circle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>, start: &Path) -> Option<Vec<PathBuf>> {
    fn walk(
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        at: &Path,
        start: &Path,
        trail: &mut Vec<PathBuf>,
        seen: &mut BTreeSet<PathBuf>,
    ) -> bool {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                trail.push(next.clone());
                if walk(edges, next, start, trail, seen) {
                    return true;
                }
                trail.pop();
            }
        }
        false
    }
    let mut trail = vec![start.to_path_buf()];
    walk(edges, start, start, &mut trail, &mut BTreeSet::new()).then_some(trail)
}

#[test]
fn no_source_file_is_in_a_use_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&root);
    assert!(edges.len() > 20, "found only {} files", edges.len());
    assert!(edges[Path::new("cpu/texture.rs")].contains(Path::new("device.rs")), "the scan sees `use` lines");
    for file in edges.keys() {
        if let Some(c) = circle(&edges, file) {
            panic!("a use-circle: {}", c.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "));
        }
    }
}
