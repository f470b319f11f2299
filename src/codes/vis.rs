//! Vaccine Information Statements (`assets/codes/vis.json`, from CDC's VIS lookup
//! table, VIS URLs and CVX-to-VIS map): each document, its editions with CDC's fully
//! encoded string (the GS1 GDTI its barcode holds), and which documents go with each
//! vaccine.
//!
//! A dose is given with one or more VIS. By default they are those CDC maps to its
//! vaccine, each at the edition current on the dose day; for a combination vaccine
//! that is one VIS per component, or the Multi Pediatric VIS alone.

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The key of the Multi Pediatric Vaccines VIS ("Your Child's First Vaccines").
pub const MULTI_PEDIATRIC: &str = "multi-pediatric";

/// One edition of a VIS.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Edition {
    pub date: NaiveDate,
    /// CDC's fully encoded string: `253`, the 13-digit GDTI document code, and the
    /// edition's serial.
    pub encoded: String,
    /// CDC marks it the current edition.
    #[serde(default)]
    pub current: bool,
}

/// One VIS document.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// vaxentry's short name for it, from CDC's web address (`influenza-inactivated`).
    pub key: String,
    /// The GDTI document code (13 digits).
    pub gdti: String,
    /// CDC's name of its latest edition.
    pub name: String,
    /// CDC's page for it, when CDC still lists one.
    pub url: Option<String>,
    /// Oldest first.
    pub editions: Vec<Edition>,
}

impl Document {
    /// CDC still lists a current edition.
    pub fn in_use(&self) -> bool {
        self.editions.iter().any(|e| e.current)
    }

    /// The edition current on `day`: the latest published by then.
    pub fn edition_on(&self, day: NaiveDate) -> Option<&Edition> {
        self.editions.iter().rev().find(|e| e.date <= day)
    }

    /// The edition of that date, if CDC published one.
    pub fn edition(&self, date: NaiveDate) -> Option<&Edition> {
        self.editions.iter().find(|e| e.date == date)
    }

    /// The edition that replaced `edition` by `day`, if one did.
    pub fn replaced_by(&self, edition: NaiveDate, day: NaiveDate) -> Option<&Edition> {
        self.edition_on(day).filter(|newest| newest.date > edition)
    }

    /// The name as a sentence says it: CDC's name, which mostly ends in "VIS"
    /// (`Polio Vaccine VIS`), with "VIS" added where it does not say it.
    pub fn said_name(&self) -> String {
        if self.name.contains("VIS") || self.name.contains("IIS") {
            self.name.clone()
        } else {
            format!("{} VIS", self.name)
        }
    }

    /// The editions as a list for a message: the latest few, newest last.
    pub fn editions_said(&self) -> String {
        let dates: Vec<String> = self
            .editions
            .iter()
            .rev()
            .take(3)
            .rev()
            .map(|e| e.date.format("%Y-%m-%d").to_string())
            .collect();
        match dates.as_slice() {
            [] => "none".into(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisFile {
    #[serde(rename = "name")]
    _name: String,
    #[serde(rename = "source")]
    _source: String,
    documents: Vec<Document>,
    /// CVX -> GDTI document codes.
    cvx: HashMap<String, Vec<String>>,
}

struct Statements {
    documents: Vec<Document>,
    /// Each document's key and name as lower-case words, for `named`.
    words: Vec<Vec<String>>,
    by_cvx: HashMap<String, Vec<usize>>,
    by_encoded: HashMap<String, (usize, usize)>,
}

fn lower_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

const SOURCE: &str = include_str!("../../assets/codes/vis.json");

fn parse(text: &str) -> Result<Statements, String> {
    let file: VisFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let place = |gdti: &str| file.documents.iter().position(|d| d.gdti == gdti);
    let mut by_cvx = HashMap::new();
    for (cvx, codes) in &file.cvx {
        let places = codes
            .iter()
            .map(|g| place(g).ok_or_else(|| format!("CVX {cvx}: no VIS document {g}")))
            .collect::<Result<Vec<_>, _>>()?;
        by_cvx.insert(cvx.clone(), places);
    }
    let mut by_encoded = HashMap::new();
    for (d, doc) in file.documents.iter().enumerate() {
        for (e, edition) in doc.editions.iter().enumerate() {
            by_encoded.insert(edition.encoded.clone(), (d, e));
        }
    }
    let words = file
        .documents
        .iter()
        .map(|d| lower_words(&format!("{} {}", d.key, d.name)))
        .collect();
    Ok(Statements {
        documents: file.documents,
        words,
        by_cvx,
        by_encoded,
    })
}

fn statements() -> &'static Statements {
    static STATEMENTS: OnceLock<Statements> = OnceLock::new();
    // Compiled in and checked by a test: a failure here leaves the table empty.
    STATEMENTS.get_or_init(|| {
        parse(SOURCE).unwrap_or(Statements {
            documents: Vec::new(),
            words: Vec::new(),
            by_cvx: HashMap::new(),
            by_encoded: HashMap::new(),
        })
    })
}

/// Every document, current or not.
pub fn documents() -> &'static [Document] {
    &statements().documents
}

/// Every document CDC maps to the vaccine `cvx` (a CDC CVX code), current or not.
pub fn for_vaccine(cvx: &str) -> Vec<&'static Document> {
    let all = statements();
    all.by_cvx
        .get(cvx)
        .map(|places| places.iter().map(|&i| &all.documents[i]).collect())
        .unwrap_or_default()
}

/// The documents a dose of `cvx` is given with when nobody says otherwise: those CDC
/// maps to it that are still in use, one per component; the Multi Pediatric VIS only
/// when it is the only one.
pub fn usual(cvx: &str) -> Vec<&'static Document> {
    let in_use: Vec<_> = for_vaccine(cvx)
        .into_iter()
        .filter(|d| d.in_use())
        .collect();
    let each: Vec<_> = in_use
        .iter()
        .copied()
        .filter(|d| d.key != MULTI_PEDIATRIC)
        .collect();
    if each.is_empty() { in_use } else { each }
}

/// Whether the Multi Pediatric VIS may stand for all of `cvx`'s VIS.
pub fn multi_pediatric_covers(cvx: &str) -> bool {
    for_vaccine(cvx)
        .iter()
        .any(|d| d.key == MULTI_PEDIATRIC && d.in_use())
}

/// The document and edition of a fully encoded string (what a VIS barcode holds).
pub fn by_encoded(encoded: &str) -> Option<(&'static Document, &'static Edition)> {
    let all = statements();
    let &(d, e) = all.by_encoded.get(encoded)?;
    let doc = &all.documents[d];
    Some((doc, &doc.editions[e]))
}

/// A document named by its key, its GDTI document code, or words its name starts
/// with (`multi`, `hep b`). Names that fit several documents find none: the error
/// lists them.
pub fn named(name: &str) -> Result<&'static Document, String> {
    let wanted = name.trim().to_lowercase();
    let all = statements();
    let docs = &all.documents;
    if let Some(doc) = docs.iter().find(|d| d.key == wanted || d.gdti == wanted) {
        return Ok(doc);
    }
    let words = lower_words(&wanted);
    if words.is_empty() {
        return Err("name a VIS, e.g. polio or multi-pediatric".into());
    }
    let found: Vec<&Document> = docs
        .iter()
        .zip(&all.words)
        .filter(|(_, theirs)| {
            words
                .iter()
                .all(|w| theirs.iter().any(|t| t.starts_with(w.as_str())))
        })
        .map(|(d, _)| d)
        .collect();
    // A current document is meant over the retired ones of the same words.
    let current: Vec<&Document> = found.iter().copied().filter(|d| d.in_use()).collect();
    let candidates = if current.is_empty() { &found } else { &current };
    match candidates.as_slice() {
        [] => Err(format!(
            "'{}' is no VIS CDC lists; type its short name, e.g. polio, hepatitis-b or multi-pediatric",
            name.trim()
        )),
        [one] => Ok(one),
        several => {
            let keys: Vec<&str> = several.iter().map(|d| d.key.as_str()).collect();
            Err(format!(
                "'{}' could be {}; type one of them",
                name.trim(),
                keys.join(" or ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_table_reads_with_unique_keys_and_encoded_strings() {
        let all = parse(SOURCE).expect("the shipped table reads");
        let mut keys: Vec<&str> = all.documents.iter().map(|d| d.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), all.documents.len());
        for doc in &all.documents {
            for e in &doc.editions {
                assert!(
                    e.encoded.starts_with(&format!("253{}", doc.gdti)),
                    "{}",
                    e.encoded
                );
            }
        }
        assert!(
            parse(r#"{"name": "x", "source": "y", "documents": [], "cvx": {"03": ["1"]}}"#)
                .is_err()
        );
    }

    #[test]
    fn the_flu_vis_edition_is_the_one_current_on_the_dose_day() {
        let flu = named("influenza-inactivated").unwrap();
        let dates: Vec<_> = flu.editions.iter().map(|e| e.date).collect();
        assert!(dates.contains(&day("2021-08-06")) && dates.contains(&day("2025-01-31")));
        assert_eq!(
            flu.edition_on(day("2026-10-01")).unwrap().date,
            day("2025-01-31")
        );
        assert_eq!(
            flu.edition_on(day("2024-12-01")).unwrap().date,
            day("2021-08-06")
        );
        assert!(flu.edition(day("2023-08-06")).is_none(), "not an edition");
        assert_eq!(
            flu.replaced_by(day("2021-08-06"), day("2026-10-01"))
                .unwrap()
                .date,
            day("2025-01-31")
        );
        assert!(
            flu.replaced_by(day("2025-01-31"), day("2026-10-01"))
                .is_none()
        );
    }

    #[test]
    fn a_combination_vaccine_has_one_vis_per_component_or_the_multi_pediatric() {
        let keys: Vec<&str> = usual("110").iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["dtap", "hepatitis-b", "polio"]);
        assert!(multi_pediatric_covers("110"));
        assert!(!multi_pediatric_covers("140"));
        let flu: Vec<&str> = usual("140").iter().map(|d| d.key.as_str()).collect();
        assert_eq!(flu, ["influenza-inactivated"]);
        assert!(usual("999").is_empty());
    }

    #[test]
    fn names_find_a_document_by_key_code_or_words() {
        assert_eq!(named("multi").unwrap().key, MULTI_PEDIATRIC);
        assert_eq!(named("Hep B").unwrap().key, "hepatitis-b");
        assert_eq!(named("0886983000172").unwrap().key, "polio");
        let flu = named("flu").unwrap_err();
        assert!(
            flu.contains("influenza-inactivated") && flu.contains("influenza-live"),
            "{flu}"
        );
        assert!(named("zzz").unwrap_err().contains("no VIS"));
        let (doc, edition) = by_encoded("253088698300026411230724").unwrap();
        assert_eq!(
            (doc.key.as_str(), edition.date),
            (MULTI_PEDIATRIC, day("2023-07-24"))
        );
    }
}
