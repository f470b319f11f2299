//! Ranking of code-table entries for a typed query (the picker and `vaxentry codes`).
//!
//! An exact code ranks first, then a code prefix, then entries whose display or alias
//! words start with every typed word, then fuzzy matches (nucleo). Within a rank,
//! active entries come before inactive ones.

use super::{Code, CodeTable};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cell::RefCell;

thread_local! {
    static MATCHER: RefCell<Matcher> = RefCell::new(Matcher::new(Config::DEFAULT));
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
            .enumerate()
            .filter_map(|(i, c)| {
                let code = c.code.to_lowercase();
                let tier = if exact == Some(c.code.as_str()) {
                    0
                } else if code.starts_with(&lower) {
                    1
                } else if words_prefix_match(&words, c) {
                    2
                } else {
                    3
                };
                let haystack = format!("{} {} {}", c.code, c.display, c.aliases.join(" "));
                let score = pattern.score(Utf32Str::new(&haystack, &mut buf), &mut matcher);
                match (tier, score) {
                    (3, None) => None,
                    (tier, score) => Some((tier, score.unwrap_or(0), i, c)),
                }
            })
            .collect()
    });
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

/// Every typed word starts some word of the display or an alias.
fn words_prefix_match(words: &[&str], code: &Code) -> bool {
    let display = code.display.to_lowercase();
    let aliases: Vec<String> = code.aliases.iter().map(|a| a.to_lowercase()).collect();
    words.iter().all(|w| {
        display
            .split(|ch: char| !ch.is_alphanumeric())
            .chain(aliases.iter().map(String::as_str))
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
