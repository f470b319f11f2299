//! Ranking of code-table entries for a typed query (the picker and `vaxentry codes`).
//!
//! An exact code ranks first, then a code prefix, then entries whose display or alias
//! words start with every typed word; fuzzy matches (nucleo) only when none of those
//! match, for typos. Within a rank, active entries come before inactive ones.

use super::{Code, CodeTable};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cell::RefCell;

thread_local! {
    static MATCHER: RefCell<Matcher> = RefCell::new(Matcher::new(Config::DEFAULT));
}

/// What the search reads of one entry, in lower case, made once per table.
#[derive(Debug, Default)]
pub(super) struct Searched {
    code: String,
    /// The display's words and each alias, every one a candidate for a typed word.
    words: Vec<String>,
    /// Code, display and aliases, for the fuzzy match.
    haystack: String,
}

impl Searched {
    pub(super) fn of(c: &Code) -> Searched {
        let display = c.display.to_lowercase();
        let words = display
            .split(|ch: char| !ch.is_alphanumeric())
            .map(str::to_string)
            .chain(c.aliases.iter().map(|a| a.to_lowercase()))
            .collect();
        Searched {
            code: c.code.to_lowercase(),
            words,
            haystack: format!("{} {} {}", c.code, c.display, c.aliases.join(" ")),
        }
    }
}

/// The entries of `table` that match `query`, best first.
pub fn search<'t>(table: &'t CodeTable, query: &str) -> Vec<&'t Code> {
    let query = query.trim();
    if query.is_empty() {
        let mut all: Vec<&Code> = table.entries.iter().collect();
        all.sort_by_key(|c| !c.active);
        return all;
    }
    let lower = query.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let exact = table.get(query).map(|c| c.code.as_str());
    let mut buf = Vec::new();
    let mut ranked: Vec<(u8, u32, usize, &Code)> = MATCHER.with(|m| {
        let mut matcher = m.borrow_mut();
        table
            .entries
            .iter()
            .zip(&table.searched)
            .enumerate()
            .filter_map(|(i, (c, searched))| {
                let tier = if exact == Some(c.code.as_str()) {
                    0
                } else if searched.code.starts_with(&lower) {
                    1
                } else if words_prefix_match(&words, searched) {
                    2
                } else {
                    3
                };
                let score =
                    pattern.score(Utf32Str::new(&searched.haystack, &mut buf), &mut matcher);
                match (tier, score) {
                    (3, None) => None,
                    (tier, score) => Some((tier, score.unwrap_or(0), i, c)),
                }
            })
            .collect()
    });
    // A near miss (fuzzy) only when nothing matches by code or by word: `rota` is
    // rotavirus, not every name that holds r, o, t and a.
    if ranked.iter().any(|(tier, ..)| *tier < 3) {
        ranked.retain(|(tier, ..)| *tier < 3);
    }
    ranked.sort_by(|a, b| {
        (a.0, !a.3.active, std::cmp::Reverse(a.1), a.2).cmp(&(
            b.0,
            !b.3.active,
            std::cmp::Reverse(b.1),
            b.2,
        ))
    });
    ranked.into_iter().map(|(_, _, _, c)| c).collect()
}

/// The one entry of `table` that `query` can mean, and what of that entry is still
/// untyped (`f` is female, with `emale` to go): the entry whose code or alias it is
/// when no other code or alias starts so (`la` is LA, though "lateralis" starts so
/// too), else the only entry it matches by code or by words of its name or aliases (a
/// near miss does not count). `None` when several or none match.
pub fn only_match<'t>(table: &'t CodeTable, query: &str) -> Option<(&'t Code, String)> {
    let lower = query.trim().to_lowercase();
    if lower.is_empty() {
        return None;
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    let exact = table.get(&lower).map(|c| c.code.as_str());
    let entries = || table.entries.iter().zip(&table.searched);
    // Its code and aliases, in lower case.
    let names = |c: &Code, searched: &Searched| {
        std::iter::once(searched.code.clone())
            .chain(c.aliases.iter().map(|a| a.to_lowercase()))
            .collect::<Vec<String>>()
    };
    let named =
        single(entries().filter(|(c, s)| names(c, s).iter().any(|n| n.starts_with(&lower))))
            .filter(|(c, s)| exact == Some(c.code.as_str()) || names(c, s).contains(&lower));
    let (code, searched) = named.or_else(|| {
        single(entries().filter(|(c, searched)| {
            exact == Some(c.code.as_str())
                || searched.code.starts_with(&lower)
                || words_prefix_match(&words, searched)
        }))
    })?;
    let display = code.display.to_lowercase();
    let rest = std::iter::once(searched.code.as_str())
        .chain(searched.words.iter().map(String::as_str))
        .chain(std::iter::once(display.as_str()))
        .find_map(|said| said.strip_prefix(lower.as_str()))
        .unwrap_or("")
        .to_string();
    Some((code, rest))
}

/// The only item, when there is exactly one.
fn single<T>(mut items: impl Iterator<Item = T>) -> Option<T> {
    let first = items.next()?;
    items.next().is_none().then_some(first)
}

/// Every typed word starts some word of the display or an alias.
fn words_prefix_match(words: &[&str], searched: &Searched) -> bool {
    words.iter().all(|w| {
        searched
            .words
            .iter()
            .any(|candidate| candidate.starts_with(w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{TableId, table};

    fn codes(table_id: TableId, query: &str) -> Vec<String> {
        search(table(table_id), query)
            .into_iter()
            .map(|c| c.code.clone())
            .collect()
    }

    #[test]
    fn a_word_that_matches_leaves_out_the_near_misses() {
        let rota = codes(TableId::Cvx, "rota");
        assert!(!rota.is_empty());
        for code in &rota {
            let entry = table(TableId::Cvx).get(code).unwrap();
            let said = format!("{} {}", entry.display, entry.aliases.join(" ")).to_lowercase();
            assert!(said.contains("rota"), "{code}: {said}");
        }
        // A typo still finds its vaccine.
        assert!(
            codes(TableId::Cvx, "rotavirsu")
                .iter()
                .any(|c| c == "116" || c == "119")
        );
    }

    #[test]
    fn only_one_entry_is_meant_once_nothing_else_matches() {
        let only = |id: TableId, typed: &str| {
            only_match(table(id), typed).map(|(c, rest)| (c.code.clone(), rest))
        };
        let pair = |code: &str, rest: &str| Some((code.to_string(), rest.to_string()));
        assert_eq!(only(TableId::Gender, "f"), pair("female", "emale"));
        assert_eq!(only(TableId::Gender, "FEM"), pair("female", "ale"));
        assert_eq!(only(TableId::Eligibility, "2"), pair("V02", ""));
        assert_eq!(only(TableId::Cvx, "140"), pair("140", ""));
        assert_eq!(only(TableId::Cvx, "48"), pair("48", ""));
        assert_eq!(only(TableId::Site, "la"), pair("LA", ""));
        assert_eq!(only(TableId::StatusReason, "r"), pair("PATOBJ", "efused"));
        // Several entries start so: nothing yet.
        for (id, typed) in [
            (TableId::Cvx, "14"),
            (TableId::Cvx, "11"),
            (TableId::Cvx, "flu"),
            (TableId::Site, "l"),
            (TableId::ReportOrigin, "rec"),
            (TableId::Gender, ""),
            (TableId::Gender, "x"),
        ] {
            assert_eq!(only(id, typed), None, "{typed}");
        }
        // A near miss is never taken for the one meant.
        assert_eq!(only(TableId::Gender, "femlae"), None);
    }

    #[test]
    fn exact_code_ranks_first() {
        assert_eq!(codes(TableId::Cvx, "140")[0], "140");
        assert_eq!(codes(TableId::Cvx, "3")[0], "03");
    }

    #[test]
    fn aliases_find_vaccines() {
        let flu = codes(TableId::Cvx, "flu");
        assert!(flu.len() > 5);
        // The first hits are influenza vaccines in current use.
        let first = table(TableId::Cvx).get(&flu[0]).unwrap();
        assert!(first.display.to_lowercase().contains("influenza"));
        assert!(first.active);
        assert!(
            codes(TableId::Cvx, "covid")
                .iter()
                .take(6)
                .any(|c| c == "309")
        );
        assert_eq!(codes(TableId::Cvx, "tdap")[0], "115");
        assert_eq!(codes(TableId::Cvx, "shingrix")[0], "187");
        assert_eq!(codes(TableId::Mvx, "pfizer")[0], "PFR");
    }

    #[test]
    fn fuzzy_matches_typos_of_order() {
        assert!(codes(TableId::Cvx, "hepb adult").contains(&"43".to_string()));
        assert!(codes(TableId::Route, "intramusc").first() == Some(&"IM".to_string()));
    }

    #[test]
    fn nonsense_finds_nothing_and_empty_lists_active_first() {
        assert!(codes(TableId::Gender, "zzzz").is_empty());
        let all = search(table(TableId::Cvx), "");
        assert_eq!(all.len(), table(TableId::Cvx).entries.len());
        assert!(all[0].active);
        assert!(!all.last().unwrap().active);
    }
}
