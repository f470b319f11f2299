//! The modules point one way (see DESIGN): a module may use only those below it.
//! Read from the source, so an arrow the wrong way fails here, not in review.

use std::collections::BTreeSet;
use std::path::Path;

/// What the front ends (the command line and the form) may use: everything else.
const BELOW_FRONT_ENDS: &[&str] = &[
    "clock",
    "codes",
    "config",
    "corrections",
    "delivery",
    "fhir",
    "record",
    "store",
    "submit",
    "untrusted",
];

/// Each top-level module and the modules it may use.
const ALLOWED: [(&str, &[&str]); 13] = [
    ("untrusted", &[]),
    ("clock", &[]),
    ("codes", &[]),
    ("record", &["clock", "codes", "untrusted"]),
    ("fhir", &["clock", "codes", "record", "untrusted"]),
    ("config", &["clock", "codes", "fhir", "record"]),
    ("store", &["clock", "codes", "fhir", "record"]),
    (
        "submit",
        &["clock", "codes", "config", "fhir", "record", "untrusted"],
    ),
    ("delivery", &["clock", "store", "submit"]),
    ("corrections", &["clock", "fhir", "record", "store"]),
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
