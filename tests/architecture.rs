//! The modules point one way (README, "Development"): a module may use only those below
//! it, and no two files import each other.
//! Read from the source, so an arrow the wrong way fails here, not in review.

use std::collections::BTreeSet;
use std::path::Path;

/// What the front ends (the command line and the form) may use: everything else.
const BELOW_FRONT_ENDS: &[&str] = &[
    "card",
    "clinic",
    "clock",
    "codes",
    "config",
    "corrections",
    "delivery",
    "fhir",
    "forecast",
    "record",
    "store",
    "submit",
    "untrusted",
];

/// Each top-level module and the modules it may use.
const ALLOWED: [(&str, &[&str]); 16] = [
    ("untrusted", &[]),
    ("forecast", &[]),
    ("clock", &[]),
    ("codes", &[]),
    ("clinic", &[]),
    ("record", &["clock", "codes", "forecast", "untrusted"]),
    ("fhir", &["clinic", "clock", "codes", "record", "untrusted"]),
    ("config", &["clinic", "clock", "codes", "fhir", "record"]),
    ("store", &["clock", "codes", "fhir", "record"]),
    ("card", &["clock", "codes", "record", "store"]),
    (
        "submit",
        &["clock", "codes", "config", "fhir", "record", "untrusted"],
    ),
    ("delivery", &["clock", "store", "submit"]),
    (
        "corrections",
        &["clinic", "clock", "fhir", "record", "store"],
    ),
    ("cli", BELOW_FRONT_ENDS),
    ("tui", BELOW_FRONT_ENDS),
    ("main", &[]),
];

fn sources(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            sources(&entry.path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The top-level modules a file names as `crate::name` or `crate::{a, b::{c, d}}`.
fn used_modules(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let name_at = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            used.insert(name_at(rest));
            continue;
        };
        // Names at the group's top level: after the `{` and after each `,` at depth 0.
        used.insert(name_at(group));
        let mut depth = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    used.insert(name_at(&group[i + 1..]));
                }
                _ => {}
            }
        }
    }
    used.remove("");
    used
}

#[test]
fn modules_use_only_the_modules_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let path = entry.path();
        let module = path.file_stem().unwrap().to_string_lossy().to_string();
        if module == "lib" {
            continue;
        }
        let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| *m == module) else {
            problems.push(format!("src/{module} is not in the table of modules"));
            continue;
        };
        seen.insert(module.clone());
        let mut files = Vec::new();
        sources(&path, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for used in used_modules(&text) {
                if used != module && !allowed.contains(&used.as_str()) {
                    problems.push(format!(
                        "{} uses crate::{used}, which {module} may not",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        seen.len(),
        ALLOWED.len(),
        "every module in the table exists"
    );
}

#[test]
fn the_reader_finds_grouped_and_nested_uses() {
    let found = used_modules(
        "use crate::{fhir::Message, record::{FieldId, Kind}};\nlet x = crate::clock::Clock::Wall;",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["clock", "fhir", "record"]
    );
}

/// Every source file under `src/`, by its module path (`tui/screens/form` for
/// `tui/screens/form/mod.rs`).
fn module_files(src: &Path) -> Vec<(Vec<String>, String)> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(src).unwrap().with_extension("");
            let mut path: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if path.last().is_some_and(|last| last == "mod") {
                path.pop();
            }
            (path, std::fs::read_to_string(&file).unwrap())
        })
        .collect()
}

/// The modules of `known` that `text` (the file of module `module`) names, through
/// `crate::…`, `super::…` or `super::{…}`.
fn imports(module: &[String], text: &str, known: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    let longest_known = |base: Vec<String>, names: &[&str]| -> Option<Vec<String>> {
        (1..=names.len()).rev().find_map(|n| {
            let mut path = base.clone();
            path.extend(names[..n].iter().map(|s| s.to_string()));
            known.contains(&path).then_some(path)
        })
    };
    let words = |rest: &str| -> Vec<String> {
        rest.split("::")
            .map(|part| {
                part.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|w| !w.is_empty())
            .collect()
    };
    // The module `super` names: the one above (a folder's `mod.rs` and the files in
    // it both have their folder's path as theirs).
    let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for name in group.split(',') {
                    let name = name.trim();
                    let parts = words(name);
                    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                    if let Some(path) = longest_known(base.clone(), &parts) {
                        found.insert(path);
                    }
                }
            } else {
                let parts = words(rest);
                let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                if let Some(path) = longest_known(base.clone(), &parts) {
                    found.insert(path);
                }
            }
        }
    }
    found.remove(module);
    found
}

#[test]
fn no_two_files_in_a_folder_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = module_files(&src);
    let known: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let uses: Vec<(Vec<String>, BTreeSet<Vec<String>>)> = files
        .iter()
        .map(|(module, text)| (module.clone(), imports(module, text, &known)))
        .collect();
    let mut circles = Vec::new();
    for (a, a_uses) in &uses {
        for (b, b_uses) in &uses {
            let siblings = a.len() == b.len() && a[..a.len() - 1] == b[..b.len() - 1];
            if a < b && siblings && a_uses.contains(b) && b_uses.contains(a) {
                circles.push(format!("{} <-> {}", a.join("/"), b.join("/")));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "files that import each other:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_reader_finds_sibling_imports() {
    let known: BTreeSet<Vec<String>> = [
        vec!["tui".to_string(), "app".into()],
        vec!["tui".into(), "view".into()],
        vec!["tui".into()],
    ]
    .into_iter()
    .collect();
    let module = vec!["tui".to_string(), "view".into()];
    let found = imports(
        &module,
        "use super::{app::App, theme};\nuse crate::tui::view::x;",
        &known,
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [vec!["tui".to_string(), "app".into()]]
    );
}
