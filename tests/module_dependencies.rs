//! Specifies which of kettle's source files may import which: the layering
//! that DESIGN.md ("Choices") promises, checked on the source text so that an
//! accidental import cycle fails a test instead of waiting for a reader.
//!
//! The graph has one node per file of `src/` (test-only modules left out)
//! and an edge for every path a file names — in a `use`, or inline as
//! `crate::…` / `super::…` — to the file of the longest module prefix of that
//! path. A path to an item of one's own parent module (or any ancestor) is
//! not an edge: the parent declares the child, and a child using its parent's
//! items is how Rust modules are built. Every other cycle is an accident,
//! except the one kettle keeps on purpose, between two files: a task's
//! header names its runtime's injector (`task/header.rs` holds an
//! `Arc<Shared>`, so a wake from any thread reaches the loop), and the
//! injector holds tasks (`runtime/shared.rs` holds `TaskRef`s). Everything
//! else points one way: the loop (`runtime/core.rs`) uses tasks and wakers;
//! a waker needs only the run queue (`runtime/run_queue.rs`); the free
//! functions (`kettle::spawn`, `sleep`, ...) find the loop through
//! `runtime/context.rs`, which nothing the loop imports may use.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// A module path (`["runtime", "core"]`) and the file that defines it.
type Modules = BTreeMap<Vec<String>, String>;
/// For each file (relative to `src/`), the files it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_task_files_import_each_other_in_one_direction_only() {
    let graph = graph();
    let task_files: BTreeSet<&String> =
        graph.keys().filter(|f| f.starts_with("task/") && *f != "task/mod.rs").collect();
    let among_tasks: Graph = task_files
        .iter()
        .map(|f| (f.to_string(), graph[*f].iter().filter(|t| task_files.contains(t)).cloned().collect()))
        .collect();
    let cycles = cycles(&among_tasks);
    assert!(cycles.is_empty(), "task files that import each other in a cycle: {cycles:?}");
}

#[test]
fn the_task_state_imports_no_other_task_file() {
    let graph = graph();
    let from_task: Vec<_> = graph["task/state.rs"].iter().filter(|t| t.starts_with("task/")).collect();
    assert!(from_task.is_empty(), "task/state.rs imports {from_task:?}");
}

#[test]
fn the_timer_queue_is_a_plain_data_structure_that_imports_nothing_of_kettle() {
    let graph = graph();
    assert_eq!(graph["time/queue.rs"], BTreeSet::new(), "time/queue.rs imports parts of kettle");
}

#[test]
fn the_blocking_pool_knows_nothing_of_tasks_or_the_loop() {
    let graph = graph();
    let imports: Vec<_> = graph["runtime/blocking_pool.rs"].iter().collect();
    assert_eq!(
        imports,
        ["contain.rs", "loom.rs"],
        "runtime/blocking_pool.rs should need only the panic guard and the loom shim (its mutex, \
         condition variable and threads)"
    );
}

/// The one import circle kettle keeps on purpose (see the module docs).
const DOCUMENTED_CIRCLE: [&str; 2] = ["runtime/shared.rs", "task/header.rs"];

#[test]
fn the_only_import_circle_is_the_documented_one_between_a_tasks_header_and_its_injector() {
    let circles = cycles(&graph());
    let undocumented: Vec<_> = circles.iter().filter(|circle| *circle != &DOCUMENTED_CIRCLE).collect();
    assert!(
        undocumented.is_empty(),
        "import circles besides {DOCUMENTED_CIRCLE:?}: {undocumented:?} — make the dependency point one way \
         (the module docs say how the loop, the wakers, the run queue and the context avoid it)"
    );
    assert!(circles.len() <= 1 && circles.iter().all(|circle| circle.len() <= 4), "{circles:?}");
}

#[test]
fn the_loop_never_reaches_the_context_that_reaches_it() {
    // The circle that grew to 21 files ran through `context.rs`: the loop
    // imported a file that found the current runtime through it. Anything
    // the loop imports, directly or not, must do without it.
    let graph = graph();
    let reached = reachable(&graph, "runtime/core.rs");
    assert!(!reached.contains("runtime/context.rs"), "runtime/core.rs reaches runtime/context.rs");
    for waker_side in ["task/waker.rs", "runtime/run_queue.rs", "runtime/reactor.rs"] {
        assert!(reached.contains(waker_side), "the loop should use {waker_side}");
    }
}

#[test]
fn the_checker_finds_a_circle_and_a_three_file_cycle() {
    let edges = |pairs: &[(&str, &str)]| -> Graph {
        let mut graph = Graph::new();
        for (from, to) in pairs {
            graph.entry(from.to_string()).or_default().insert(to.to_string());
            graph.entry(to.to_string()).or_default();
        }
        graph
    };
    let circle = cycles(&edges(&[("a.rs", "b.rs"), ("b.rs", "c.rs"), ("c.rs", "a.rs"), ("c.rs", "d.rs")]));
    assert_eq!(circle, [vec!["a.rs".to_string(), "b.rs".into(), "c.rs".into()]]);
    assert!(cycles(&edges(&[("a.rs", "b.rs"), ("b.rs", "c.rs")])).is_empty());
}

#[test]
fn the_dependency_reader_sees_the_imports_it_is_meant_to_see() {
    // The checker checks itself on a few edges known to exist, so that a
    // parser gone blind cannot pass the tests above by finding nothing.
    let graph = graph();
    for (from, to) in [
        ("runtime/core.rs", "task/cell.rs"), // `use crate::task::cell::RunOutcome`
        ("task/cell.rs", "task/header.rs"),  // `use super::header::{...}`
        ("task/cell.rs", "task/cell/stage.rs"), // `use stage::TaskCell` (a child)
        ("runtime/shared.rs", "time/queue.rs"), // `use crate::time::queue::TimerKey`
        ("runtime/shared.rs", "task/header.rs"), // the documented circle
        ("task/header.rs", "runtime/shared.rs"), // ... both ways
        ("time/sleep.rs", "runtime/context.rs"), // `use crate::runtime::context`
        ("task/waker.rs", "runtime/run_queue.rs"), // `use crate::runtime::run_queue`
    ] {
        assert!(graph[from].contains(to), "{from} should import {to}; it imports {:?}", graph[from]);
    }
}

// ----- reading the source -------------------------------------------------------

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    collect(&src, &src, &mut sources);
    // Test-only modules (`#[cfg(test)] mod tests;`, the loom models) are not
    // part of the structure a reader follows.
    let test_only: BTreeSet<String> =
        sources.iter().flat_map(|(file, text)| test_children(file, text)).collect();
    sources.retain(|file, _| !test_only.contains(file));
    let modules: Modules = sources.keys().map(|file| (module_path(file), file.clone())).collect();
    sources
        .iter()
        .map(|(file, text)| {
            let code = code_of(text);
            let here = module_path(file);
            let children = child_modules(&code);
            let targets = paths_named(&code)
                .into_iter()
                .filter_map(|path| resolve(&path, &here, &children))
                .filter_map(|path| file_of(&path, &modules))
                .filter(|target| target != file && !is_ancestor(&module_path(target), &here))
                .collect();
            (file.clone(), targets)
        })
        .collect()
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, fs::read_to_string(&path).unwrap());
        }
    }
}

/// `runtime/core.rs` → `[runtime, core]`; `task/mod.rs` → `[task]`; `lib.rs` → `[]`.
fn module_path(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn is_ancestor(maybe: &[String], of: &[String]) -> bool {
    maybe.len() < of.len() && of.starts_with(maybe)
}

/// The files of the children that `file` declares under a `cfg` naming `test`.
fn test_children(file: &str, text: &str) -> Vec<String> {
    let here = module_path(file);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for pair in lines.windows(2) {
        let (attr, decl) = (pair[0], pair[1]);
        if attr.starts_with("#[cfg(")
            && attr.contains("test")
            && decl.starts_with("mod ")
            && decl.ends_with(';')
        {
            let name = decl.trim_start_matches("mod ").trim_end_matches(';').trim();
            let dir = here.join("/");
            let dir = if dir.is_empty() { String::new() } else { format!("{dir}/") };
            out.push(format!("{dir}{name}.rs"));
            out.push(format!("{dir}{name}/mod.rs"));
        }
    }
    out
}

/// The text without comments, string and character literals, and a
/// trailing inline test module.
fn code_of(text: &str) -> String {
    let text = text.find("#[cfg(test)]\nmod tests {").map_or(text, |at| &text[..at]);
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            _ if in_string => {}
            '/' if chars.peek() == Some(&'/') => {
                // A comment, to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '\'' => {
                // A character literal ('"', '\'', 'x') is skipped; a lifetime is kept.
                let ahead: String = chars.clone().take(3).collect();
                let skip = if ahead.starts_with('\\') {
                    ahead.find('\'').filter(|&i| i > 0).map(|i| i + 1)
                } else {
                    ahead.chars().nth(1).filter(|&c| c == '\'').map(|_| 2)
                };
                match skip {
                    Some(n) => {
                        chars.nth(n - 1);
                    }
                    None => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Modules declared in this file with `mod name;`.
fn child_modules(code: &str) -> BTreeSet<String> {
    code.lines()
        .map(str::trim)
        .filter_map(|line| line.strip_suffix(';'))
        .filter_map(|line| {
            line.split("mod ").nth(1).filter(|_| line.starts_with("mod ") || line.contains(" mod "))
        })
        .map(|name| name.trim().to_string())
        .collect()
}

/// Every path the code names: each `use` tree expanded, and every inline
/// path starting with `crate::` or `super::`.
fn paths_named(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let after = &rest[at + 3..];
        let end = after.find(';').unwrap_or(after.len());
        expand_use(&[], after[..end].trim(), &mut paths);
        rest = &after[end..];
    }
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let preceded =
                rest[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let tail = &rest[at..];
            let len =
                tail.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
            if !preceded {
                paths.push(split_path(&tail[..len]));
            }
            rest = &tail[len.max(1)..];
        }
    }
    paths
}

/// The position of `word` standing alone (not part of `must_use`, say).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(word).map(|i| i + from) {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let alone = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if alone(before) && after.is_some_and(char::is_whitespace) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

fn split_path(path: &str) -> Vec<String> {
    path.split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// `a::{b, c::{d, e}}` with `prefix` → `prefix::a::b`, `prefix::a::c::d`, ...
fn expand_use(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.split(" as ").next().unwrap_or(tree).trim();
    match tree.find('{') {
        None => out.push([prefix, &split_path(tree)].concat()),
        Some(open) => {
            let head = [prefix, &split_path(&tree[..open])].concat();
            let close = tree.rfind('}').filter(|&close| close > open).unwrap_or(tree.len());
            let inner = &tree[open + 1..close];
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand_use(&head, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if !inner[start..].trim().is_empty() {
                expand_use(&head, &inner[start..], out);
            }
        }
    }
}

/// Makes `path` absolute (from the crate root), if it names kettle at all.
fn resolve(path: &[String], here: &[String], children: &BTreeSet<String>) -> Option<Vec<String>> {
    let first = path.first()?.as_str();
    let (mut base, mut rest) = match first {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (here.to_vec(), &path[1..]),
        "super" => (here.to_vec(), path),
        _ if children.contains(first) => (here.to_vec(), path),
        _ => return None, // std, a dependency, or a local name
    };
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    Some([base.as_slice(), rest].concat())
}

/// The file of the longest module prefix of `path`.
fn file_of(path: &[String], modules: &Modules) -> Option<String> {
    (0..=path.len()).rev().find_map(|n| modules.get(&path[..n]).cloned())
}

// ----- cycles -------------------------------------------------------------------

/// Every file `from` imports, directly or through others.
fn reachable(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(file) = stack.pop() {
        for next in graph.get(&file).into_iter().flatten() {
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    seen
}

/// The strongly connected components with more than one file (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph[v].iter().filter(|w| self.graph.contains_key(*w)) {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    self.low.insert(v, self.low[v].min(self.low[w.as_str()]));
                } else if self.on_stack.contains(w.as_str()) {
                    self.low.insert(v, self.low[v].min(self.index[w.as_str()]));
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}
