//! The architecture's invariants, checked on the source tree (after rust-analyzer's tidy
//! test). Each test names the invariant of ARCHITECTURE.md it enforces; a failure lists
//! every offending file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A Rust source file of the workspace, with the part before its `#[cfg(test)] mod tests`.
struct Source {
    /// Relative to the repository root, with `/` separators.
    path: String,
    /// The code outside the unit-test module.
    code: String,
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("tests.rs") {
            // A `tests.rs` is a unit-test module (`#[cfg(test)] mod tests;`), not code.
            out.push(p);
        }
    }
}

/// Every library and binary source of the workspace (not tests, benches or fuzz targets):
/// the core, the crates under `crates/` and the Python binding.
fn sources() -> Vec<Source> {
    let mut files = Vec::new();
    collect(&root().join("src"), &mut files);
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        collect(&entry.expect("entry").path().join("src"), &mut files);
    }
    collect(&root().join("bindings/python/src"), &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable source");
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            let path = p
                .strip_prefix(root())
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            Source { path, code }
        })
        .collect()
}

/// Lines of code: not blank, not a comment.
fn code_lines(code: &str) -> impl Iterator<Item = (usize, &str)> {
    code.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with("//")
        })
}

fn fail_if_any(what: &str, offenders: Vec<String>) {
    assert!(
        offenders.is_empty(),
        "{what}:\n  {}",
        offenders.join("\n  ")
    );
}

/// Every line of code, outside the files under `allowed` (path prefixes), that
/// contains one of `needles`, as `path:line: code`.
fn lines_naming(allowed: &[&str], needles: &[&str]) -> Vec<String> {
    let mut offenders = Vec::new();
    for s in sources() {
        if allowed.iter().any(|a| s.path.starts_with(a)) {
            continue;
        }
        for (n, l) in code_lines(&s.code) {
            if needles.iter().any(|x| l.contains(x)) {
                offenders.push(format!("{}:{n}: {}", s.path, l.trim()));
            }
        }
    }
    offenders
}

/// rhai is known to three stage folders of the core: `lang/` (the only parse of officer
/// text), `compile/` (the engine, scripts) and `eval/` (running them).
#[test]
fn rhai_only_in_lang_compile_and_eval() {
    fail_if_any(
        "rhai used outside src/lang, src/compile, src/eval",
        lines_naming(
            &["src/lang/", "src/compile/", "src/eval/"],
            &["rhai::", "use rhai"],
        ),
    );
}

/// The file system is touched in known places only: the rules directory reader, the
/// JSON Lines profile reader, the batch crate's file modules and the command line.
#[test]
fn file_system_only_in_io_modules() {
    fail_if_any(
        "file system access outside the IO modules",
        lines_naming(
            &[
                "src/rules/sources.rs",
                "src/profile/jsonl.rs",
                "crates/batch/src/",
                "crates/cli/src/",
            ],
            &["std::fs", "File::", "fs::read"],
        ),
    );
}

/// `unsafe` code only at the Arrow C stream interface, which is raw pointers by
/// definition: the batch crate's reader and writer of streams and the Python binding's
/// capsules. The workspace denies `unsafe_code`; these two modules allow it.
#[test]
fn unsafe_only_at_the_arrow_boundary() {
    fail_if_any(
        "unsafe code outside the Arrow C stream modules",
        lines_naming(
            &[
                "crates/batch/src/tabular/arrow.rs",
                "bindings/python/src/arrow.rs",
            ],
            &["unsafe"],
        ),
    );
}

/// The only clock read for a date is the command line's `clock::today`: the library and
/// the batch take `as_of` as an argument (a run is reproducible). Monotonic `Instant`s
/// for timings are not dates and are allowed.
#[test]
fn the_date_comes_from_the_command_line() {
    fail_if_any(
        "a clock read outside crates/cli/src/clock.rs",
        lines_naming(
            &["crates/cli/src/clock.rs"],
            &[
                "Timestamp::now",
                "Zoned::now",
                "SystemTime::now",
                "Local::now",
                "Utc::now",
            ],
        ),
    );
}

/// No `unwrap`/`expect` outside tests, except where a comment on the line or the line
/// above says why it cannot fail.
#[test]
fn unwrap_only_with_a_reason() {
    let mut offenders = Vec::new();
    for s in sources() {
        let lines: Vec<&str> = s.code.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if t.starts_with("//") || !(l.contains(".unwrap()") || l.contains(".expect(")) {
                continue;
            }
            // A comment on the line, or above the statement the call ends (a chained
            // call spans a few lines).
            let mut reasoned = l.contains("//");
            for above in lines[..i].iter().rev().take(4) {
                let above = above.trim();
                if above.starts_with("//") {
                    reasoned = true;
                    break;
                }
                if above.ends_with(';') || above.ends_with('{') || above.ends_with('}') {
                    break;
                }
            }
            if !reasoned {
                offenders.push(format!("{}:{}: {}", s.path, i + 1, t));
            }
        }
    }
    fail_if_any(
        "unwrap/expect without a comment saying why it cannot fail",
        offenders,
    );
}

/// The marker a long module writes at its top to say why it is long.
const LONG_ON_PURPOSE: &str = "//! Long on purpose:";
const MAX_CODE_LINES: usize = 600;

/// No module over ~600 lines of code (tests excluded) without a reason at its top.
#[test]
fn modules_are_small_or_say_why() {
    let mut offenders = Vec::new();
    for s in sources() {
        let n = code_lines(&s.code).count();
        if n > MAX_CODE_LINES && !s.code.contains(LONG_ON_PURPOSE) {
            offenders.push(format!("{}: {n} lines of code", s.path));
        }
    }
    fail_if_any(
        &format!("modules over {MAX_CODE_LINES} lines of code without `{LONG_ON_PURPOSE}`"),
        offenders,
    );
}

/// The core's folders in dependency order: a module may use modules of its own rank or
/// lower, never higher. Shared words live at the bottom (`dates`, `diag`, `names`).
const RANKS: &[(&str, usize)] = &[
    ("dates", 0),
    ("diag", 0),
    ("names", 0),
    ("profile", 1),
    ("lang", 2),
    ("synth", 2),
    ("rules", 3),
    ("compile", 4),
    ("eval", 5),
    ("load", 6),
    ("report", 7),
    ("sql", 7),
    ("lib", 8),
];

/// The module a file is: `src/compile/native.rs` → `compile::native`, `src/eval/mod.rs`
/// → `eval`, `src/lib.rs` → `lib`.
fn module_of(path: &str) -> String {
    let rel = path.strip_prefix("src/").expect("a core file");
    let rel = rel.strip_suffix(".rs").expect("a .rs file");
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    rel.replace('/', "::")
}

/// The modules a file's code names through `crate::` paths (in `use` trees and inline).
fn imports(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut paths = Vec::new();
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at + "crate::".len()..];
        if tail.starts_with('{') {
            let end = tail.find("};").unwrap_or(tail.len());
            let inner: String = tail[1..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            expand(&inner, "", &mut paths);
            rest = &tail[end..];
        } else {
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let path = &tail[..end];
            if tail[end..].starts_with('{') {
                let close = tail.find("};").unwrap_or(tail.len());
                let inner: String = tail[end + 1..close]
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                expand(&inner, path, &mut paths);
                rest = &tail[close..];
            } else {
                paths.push(path.trim_end_matches(':').to_owned());
                rest = &tail[end..];
            }
        }
    }
    paths
        .iter()
        .filter_map(|p| {
            let segs: Vec<&str> = p.split("::").collect();
            (1..=segs.len())
                .rev()
                .map(|k| segs[..k].join("::"))
                .find(|m| modules.contains(m))
        })
        .collect()
}

/// Expands a `use` tree's braces (`a::{b, c::{d}}`) into paths, prefixed.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let mut depth = 0;
    let mut start = 0;
    let bytes: Vec<char> = tree.chars().collect();
    let mut parts = Vec::new();
    for (i, c) in bytes.iter().enumerate() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(bytes[start..i].iter().collect::<String>());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(bytes[start..].iter().collect::<String>());
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        let joined = if prefix.is_empty() {
            part.clone()
        } else {
            format!("{}::{part}", prefix.trim_end_matches(':'))
        };
        match joined.find('{') {
            Some(b) => {
                let head = joined[..b].trim_end_matches(':').to_owned();
                let inner = &joined[b + 1..joined.rfind('}').unwrap_or(joined.len())];
                expand(inner, &head, out);
            }
            None => out.push(joined.replace("::self", "")),
        }
    }
}

fn rank(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or(module);
    RANKS
        .iter()
        .find(|(name, _)| *name == top)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| {
            panic!("module `{module}` has no rank in tests/tidy.rs: add its folder to RANKS")
        })
}

/// Dependencies point one way: `profile` → `lang` → `rules` → `compile` → `eval` →
/// `load` → `report`/`sql`; within a folder, modules form no cycle. Unit tests are not
/// counted (they may build a catalog to test a lower stage).
#[test]
fn core_dependencies_point_one_way() {
    let core: Vec<Source> = sources()
        .into_iter()
        .filter(|s| s.path.starts_with("src/"))
        .collect();
    let modules: BTreeSet<String> = core.iter().map(|s| module_of(&s.path)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for s in &core {
        let from = module_of(&s.path);
        for to in imports(&s.code, &modules) {
            if to == from || from.starts_with(&format!("{to}::")) {
                continue;
            }
            if rank(&to) > rank(&from) {
                upward.push(format!(
                    "{} (`{from}`, rank {}) uses `{to}` (rank {})",
                    s.path,
                    rank(&from),
                    rank(&to)
                ));
            }
            edges.entry(from.clone()).or_default().insert(to);
        }
    }
    fail_if_any("a module uses a later stage", upward);

    // A depth-first search for a cycle among the edges.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(m.to_owned(), 1);
        stack.push(m.to_owned());
        for next in edges.get(m).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == next).unwrap_or(0);
                    cycles.push(format!("{} → {next}", stack[at..].join(" → ")));
                }
                Some(_) => {}
                None => visit(next, edges, state, stack, cycles),
            }
        }
        stack.pop();
        state.insert(m.to_owned(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for m in edges.keys() {
        if !state.contains_key(m.as_str()) {
            visit(m, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    fail_if_any("import cycles between core modules", cycles);
}

/// The tidy test's own parser finds what it should, so that the layering test above
/// cannot pass by reading nothing.
#[test]
fn the_import_parser_sees_use_trees_and_inline_paths() {
    let modules: BTreeSet<String> = [
        "eval",
        "eval::columns",
        "compile",
        "compile::native",
        "dates",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let code = "use crate::{compile::native::Bool, eval::{self, columns::Row}};\nfn f() { crate::dates::parse_date(\"\"); }\n// crate::compile::catalog in a comment\n";
    let got = imports(code, &modules);
    let want: BTreeSet<String> = ["compile::native", "eval", "eval::columns", "dates"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(got, want);
}

/// The tests above read every member's sources: the core, the batch crate, the service,
/// the command line and the Python binding.
#[test]
fn the_sources_cover_every_member() {
    let paths: Vec<String> = sources().into_iter().map(|s| s.path).collect();
    for member in [
        "src/",
        "crates/batch/src/",
        "crates/server/src/",
        "crates/cli/src/",
        "bindings/python/src/",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(member)),
            "no source read under {member}"
        );
    }
}
