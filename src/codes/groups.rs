//! Which vaccine groups each CVX belongs to (a combination vaccine to several), and
//! how soon a second dose of a group can count, from CDC's CDSi supporting data
//! (`assets/codes/cvx-vaccine-groups.json`, which names its source). Used to tell a
//! dose that is most likely one already recorded.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Default, Deserialize)]
struct Table {
    groups: BTreeMap<String, Group>,
    cvx: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Group {
    min_days: Option<u32>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    // Embedded, and read whole by the tests below: never empty in a build.
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../../assets/codes/cvx-vaccine-groups.json"))
            .unwrap_or_default()
    })
}

/// The vaccine groups of a CVX ("110" → DTaP/Tdap/Td, HepB, Polio); none for a code
/// the table does not map (an unspecified or non-vaccine code).
pub fn groups_of(cvx: &str) -> &'static [String] {
    table()
        .cvx
        .get(cvx.trim())
        .map_or(&[], |groups| groups.as_slice())
}

/// The shortest interval, in days, after which a second dose of the group can count;
/// `None` when CDSi gives none.
pub fn min_days(group: &str) -> Option<u32> {
    table().groups.get(group).and_then(|g| g.min_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combination_vaccines_belong_to_each_of_their_groups() {
        assert_eq!(groups_of("140"), ["Influenza"]);
        assert_eq!(groups_of(" 110 "), ["DTaP/Tdap/Td", "HepB", "Polio"]);
        assert_eq!(groups_of("94"), ["MMR", "Varicella"]);
        assert!(groups_of("999").is_empty());
        assert!(groups_of("not a code").is_empty());
    }

    #[test]
    fn every_group_a_code_names_is_in_the_table() {
        assert!(table().cvx.len() > 200, "the table reads");
        for (cvx, groups) in &table().cvx {
            for group in groups {
                assert!(table().groups.contains_key(group), "{cvx}: {group}");
            }
        }
        assert_eq!(min_days("Influenza"), Some(24));
        assert_eq!(min_days("COVID-19"), Some(17));
        assert_eq!(min_days("RSV"), None);
        assert_eq!(min_days("no such group"), None);
    }
}
