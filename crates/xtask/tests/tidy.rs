//! Tidy checks: the layering and purity rules of ARCHITECTURE.md, enforced by `cargo test`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Crates that must stay pure: no I/O, no clock, no async, no global randomness.
const PURE: &[&str] = &["domain", "routing", "dialer", "flow", "engine", "sip", "media"];

/// Which workspace crates each crate may depend on (normal dependencies).
fn allowed_deps() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("domain", &[][..]),
        ("routing", &["domain"][..]),
        ("dialer", &["domain"][..]),
        ("flow", &["domain"][..]),
        ("engine", &["domain", "routing", "dialer", "flow"][..]),
        ("sip", &["domain"][..]),
        ("media", &["domain"][..]),
        ("telephony", &["domain", "sip", "media"][..]),
        ("store", &["domain"][..]),
        ("notify", &["domain"][..]),
        ("api", &["domain", "engine", "routing", "store", "media"][..]),
        ("sim", &["domain", "routing", "dialer", "engine", "telephony"][..]),
        (
            "switchboard",
            &[
                "domain",
                "routing",
                "engine",
                "telephony",
                "store",
                "api",
                "sim",
                "dialer",
                "flow",
                "media",
                "notify",
                "sip",
            ][..],
        ),
        ("xtask", &[][..]),
    ])
}

/// Text that must not appear in a pure crate's source, with the reason.
const FORBIDDEN_IN_PURE: &[(&str, &str)] = &[
    ("Instant::now", "reads the clock"),
    ("SystemTime::now", "reads the clock"),
    ("Utc::now", "reads the clock"),
    ("Local::now", "reads the clock"),
    ("thread_rng", "global randomness"),
    ("rand::random", "global randomness"),
    ("std::fs", "file I/O"),
    ("std::net", "network I/O"),
    ("std::env", "environment"),
    ("std::process", "process I/O"),
    ("std::thread::sleep", "blocks on time"),
    ("tokio", "async runtime"),
    ("async fn", "async"),
    (".await", "async"),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

fn crates() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let dir = workspace_root().join("crates");
    for entry in fs::read_dir(&dir).expect("crates/ is readable") {
        let path = entry.expect("dir entry").path();
        if path.join("Cargo.toml").is_file() {
            let name = path.file_name().expect("has a name").to_string_lossy().to_string();
            out.push((name, path));
        }
    }
    out.sort();
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Strips `//` comments so that prose may mention forbidden names.
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

#[test]
fn every_crate_is_listed_in_the_layering_rules() {
    let rules = allowed_deps();
    for (name, _) in crates() {
        assert!(rules.contains_key(name.as_str()), "crate {name} has no layering rule here");
    }
}

#[test]
fn crates_depend_only_on_allowed_layers() {
    let rules = allowed_deps();
    let names: Vec<String> = crates().into_iter().map(|(n, _)| n).collect();
    let mut violations = Vec::new();
    for (name, path) in crates() {
        let text = fs::read_to_string(path.join("Cargo.toml")).expect("manifest readable");
        let manifest: toml::Table = text.parse().expect("manifest parses");
        let deps =
            manifest.get("dependencies").and_then(|d| d.as_table()).cloned().unwrap_or_default();
        let allowed = rules.get(name.as_str()).copied().unwrap_or(&[]);
        for dep in deps.keys() {
            if names.contains(dep) && !allowed.contains(&dep.as_str()) {
                violations.push(format!("{name} depends on {dep}"));
            }
        }
    }
    assert!(violations.is_empty(), "layering violations: {violations:#?}");
}

#[test]
fn pure_crates_do_no_io_and_read_no_clock() {
    let mut violations = Vec::new();
    for (name, path) in crates() {
        if !PURE.contains(&name.as_str()) {
            continue;
        }
        let manifest = fs::read_to_string(path.join("Cargo.toml")).expect("manifest readable");
        for banned in ["tokio", "sqlx", "axum", "reqwest"] {
            if manifest.lines().any(|l| l.trim_start().starts_with(banned)) {
                violations.push(format!("{name}/Cargo.toml: depends on {banned}"));
            }
        }
        let mut files = Vec::new();
        rust_files(&path.join("src"), &mut files);
        for file in files {
            let text = fs::read_to_string(&file).expect("source readable");
            for (no, line) in text.lines().enumerate() {
                let code = code_of(line);
                for (pattern, why) in FORBIDDEN_IN_PURE {
                    if code.contains(pattern) {
                        violations.push(format!(
                            "{}:{}: {pattern} ({why})",
                            file.display(),
                            no + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "pure crates must stay pure: {violations:#?}");
}

#[test]
fn no_debug_leftovers_and_every_crate_is_documented() {
    let mut violations = Vec::new();
    for (name, path) in crates() {
        let mut files = Vec::new();
        rust_files(&path.join("src"), &mut files);
        for file in &files {
            let text = fs::read_to_string(file).expect("source readable");
            for (no, line) in text.lines().enumerate() {
                let code = code_of(line);
                if code.contains("dbg!(")
                    || code.contains("todo!(")
                    || code.contains("unimplemented!(")
                {
                    violations.push(format!("{}:{}: leftover macro", file.display(), no + 1));
                }
                if code.contains("#[ignore") {
                    violations.push(format!("{}:{}: ignored test", file.display(), no + 1));
                }
            }
        }
        let root =
            ["lib.rs", "main.rs"].iter().map(|f| path.join("src").join(f)).find(|p| p.is_file());
        if let Some(root) = root {
            let text = fs::read_to_string(&root).expect("crate root readable");
            if !text.trim_start().starts_with("//!") {
                violations.push(format!("{name}: crate root has no //! doc comment"));
            }
        }
    }
    assert!(violations.is_empty(), "tidy: {violations:#?}");
}
