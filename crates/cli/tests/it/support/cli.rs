//! Running the `policy-match` binary from integration tests, and reading what a batch run
//! leaves in its output folder.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub fn cmd() -> Command {
    let mut cmd = Command::cargo_bin("policy-match").expect("binary built");
    cmd.current_dir(super::root());
    cmd
}

pub fn run(args: &[&str]) -> Output {
    cmd().args(args).output().expect("runs")
}

/// The command exited with `code`; its stderr shown when it did not.
pub fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

pub fn generate(dir: &Path, file: &str, count: usize, bad_rows: f64) -> PathBuf {
    let path = dir.join(file);
    let out = run(&[
        "gen",
        "--count",
        &count.to_string(),
        "--seed",
        "7",
        "--bad-rows",
        &bad_rows.to_string(),
        "--out",
        p(&path),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

pub fn match_into(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "match",
        "--enterprises",
        p(input),
        "--out",
        p(out),
        "--as-of",
        "2025-06-30",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every output file but summary.json (whose timings vary), by name.
pub fn tables(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("output folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                read(&p),
            )
        })
        .collect();
    out.sort();
    out
}

pub fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(&dir.join("summary.json"))).expect("summary.json")
}

/// The names in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// No partial output folder is left in `dir`.
pub fn assert_no_partial(dir: &Path) {
    let leftovers: Vec<String> = entries(dir)
        .into_iter()
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Copies the folder `from` into `to`, subfolders included.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}
