//! Terminology tables (CVX, MVX, funding, sites, routes, reasons, gender, race, ...),
//! with the NDC crosswalk and the VIS table beside them.
//!
//! The tables are JSON files under `assets/codes/`, embedded at compile time and
//! parsed once on first use. Each entry has a code, a display, search aliases and an
//! active flag; `search` ranks entries for the type-to-filter pickers.

pub mod groups;
pub mod ndc;
pub mod products;
mod search;
pub mod vis;

use serde::Deserialize;
use std::sync::OnceLock;

pub use search::{only_match, search};

/// Every code table vaxentry knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableId {
    Cvx,
    Mvx,
    Site,
    Route,
    Status,
    StatusReason,
    Funding,
    Eligibility,
    Gender,
    Race,
    Ethnicity,
    ReportOrigin,
    State,
    YesNo,
    PhoneUse,
    Relationship,
    /// CDC's CDSi coded observations (conditions the schedule weighs).
    Observation,
}

impl TableId {
    pub const ALL: [TableId; 17] = [
        TableId::Cvx,
        TableId::Mvx,
        TableId::Site,
        TableId::Route,
        TableId::Status,
        TableId::StatusReason,
        TableId::Funding,
        TableId::Eligibility,
        TableId::Gender,
        TableId::Race,
        TableId::Ethnicity,
        TableId::ReportOrigin,
        TableId::State,
        TableId::YesNo,
        TableId::PhoneUse,
        TableId::Relationship,
        TableId::Observation,
    ];

    /// The short name used on the command line (`vaxentry codes cvx`).
    pub fn key(self) -> &'static str {
        match self {
            TableId::Cvx => "cvx",
            TableId::Mvx => "mvx",
            TableId::Site => "site",
            TableId::Route => "route",
            TableId::Status => "status",
            TableId::StatusReason => "status-reason",
            TableId::Funding => "funding",
            TableId::Eligibility => "eligibility",
            TableId::Gender => "gender",
            TableId::Race => "race",
            TableId::Ethnicity => "ethnicity",
            TableId::ReportOrigin => "report-origin",
            TableId::State => "state",
            TableId::YesNo => "yes-no",
            TableId::PhoneUse => "phone-use",
            TableId::Relationship => "relationship",
            TableId::Observation => "observation",
        }
    }

    pub fn from_key(key: &str) -> Option<TableId> {
        TableId::ALL
            .into_iter()
            .find(|t| t.key().eq_ignore_ascii_case(key))
    }

    fn source(self) -> &'static str {
        match self {
            TableId::Cvx => include_str!("../../assets/codes/cvx.json"),
            TableId::Mvx => include_str!("../../assets/codes/mvx.json"),
            TableId::Site => include_str!("../../assets/codes/site.json"),
            TableId::Route => include_str!("../../assets/codes/route.json"),
            TableId::Status => include_str!("../../assets/codes/status.json"),
            TableId::StatusReason => include_str!("../../assets/codes/status-reason.json"),
            TableId::Funding => include_str!("../../assets/codes/funding.json"),
            TableId::Eligibility => include_str!("../../assets/codes/eligibility.json"),
            TableId::Gender => include_str!("../../assets/codes/gender.json"),
            TableId::Race => include_str!("../../assets/codes/race.json"),
            TableId::Ethnicity => include_str!("../../assets/codes/ethnicity.json"),
            TableId::ReportOrigin => include_str!("../../assets/codes/report-origin.json"),
            TableId::State => include_str!("../../assets/codes/state.json"),
            TableId::YesNo => include_str!("../../assets/codes/yes-no.json"),
            TableId::PhoneUse => include_str!("../../assets/codes/phone-use.json"),
            TableId::Relationship => include_str!("../../assets/codes/relationship.json"),
            TableId::Observation => include_str!("../../assets/codes/observation.json"),
        }
    }
}

/// One entry of a code table.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub code: String,
    pub display: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default = "active_by_default")]
    pub active: bool,
    /// A code system for this entry alone (e.g. NullFlavor entries in the race table).
    #[serde(default)]
    pub system: Option<String>,
    /// Not a US product (CDC's Non-US CVX codes): for doses given abroad.
    #[serde(default)]
    pub non_us: bool,
    /// The same concept in other code systems, sent beside it (e.g. the NCI Thesaurus
    /// route code).
    #[serde(default)]
    pub also: Vec<AlsoCoding>,
    /// Codes this entry had before (vaxentry's own `private` and `public` funding),
    /// which still read as this entry.
    #[serde(default)]
    pub formerly: Vec<String>,
    /// For a funding source: the VFC eligibility codes CDC links to it.
    #[serde(default)]
    pub eligibility: Vec<String>,
}

/// A coding of the same concept in another code system.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlsoCoding {
    pub system: String,
    pub code: String,
    pub display: String,
}

fn active_by_default() -> bool {
    true
}

/// A whole code table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeTable {
    pub name: String,
    pub system: String,
    #[serde(default)]
    pub source: Option<String>,
    pub entries: Vec<Code>,
    /// Each entry's place by its code in lower case, and by its number for numeric
    /// codes: made once when the table is read.
    #[serde(skip)]
    index: std::collections::HashMap<String, usize>,
    /// What the search reads of each entry, made once (see `search`).
    #[serde(skip)]
    searched: Vec<search::Searched>,
}

impl CodeTable {
    /// Finds an entry by its code. Case does not matter, and for numeric codes such
    /// as CVX a missing leading zero does not either (`3` finds `03`).
    pub fn get(&self, code: &str) -> Option<&Code> {
        let code = code.trim();
        if code.is_empty() {
            return None;
        }
        let place = match self.index.get(&code.to_ascii_lowercase()) {
            Some(place) => Some(*place),
            None => code
                .parse::<u32>()
                .ok()
                .and_then(|n| self.index.get(&format!("#{n}")).copied()),
        };
        place.and_then(|i| self.entries.get(i))
    }

    /// Makes the index and the search text (after the entries are read).
    fn indexed(mut self) -> CodeTable {
        for (i, entry) in self.entries.iter().enumerate() {
            self.index
                .entry(entry.code.to_ascii_lowercase())
                .or_insert(i);
            for old in &entry.formerly {
                self.index.entry(old.to_ascii_lowercase()).or_insert(i);
            }
            if let Ok(n) = entry.code.parse::<u32>() {
                self.index.entry(format!("#{n}")).or_insert(i);
            }
        }
        self.searched = self.entries.iter().map(search::Searched::of).collect();
        self
    }

    /// The code system of one entry of this table.
    pub fn system_of<'a>(&'a self, code: &'a Code) -> &'a str {
        code.system.as_deref().unwrap_or(&self.system)
    }
}

/// The parsed table. The tables are compiled in and checked by tests, so a parse
/// failure here is a build defect; it yields an empty table rather than a panic.
pub fn table(id: TableId) -> &'static CodeTable {
    static TABLES: OnceLock<Vec<CodeTable>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        TableId::ALL
            .iter()
            .map(|t| {
                parse_table(t.source()).unwrap_or_else(|_| CodeTable {
                    name: t.key().to_string(),
                    system: String::new(),
                    source: None,
                    entries: Vec::new(),
                    index: Default::default(),
                    searched: Vec::new(),
                })
            })
            .collect()
    });
    &tables[id as usize]
}

/// Parses one table file.
pub fn parse_table(text: &str) -> Result<CodeTable, serde_json::Error> {
    serde_json::from_str(text).map(CodeTable::indexed)
}

impl Code {
    /// An entry with just a code and a display (a list made at run time).
    pub fn plain(code: &str, display: &str) -> Code {
        Code {
            code: code.to_string(),
            display: display.to_string(),
            aliases: Vec::new(),
            active: true,
            system: None,
            non_us: false,
            also: Vec::new(),
            formerly: Vec::new(),
            eligibility: Vec::new(),
        }
    }
}

/// A table made at run time (the clinic's staff and places, for the pickers), kept
/// for the life of the process so the pickers can point into it like a built-in
/// table. The same entries give the same table: a process makes one per list it is
/// configured with, however many forms it opens.
pub fn local_table(name: &str, entries: Vec<Code>) -> &'static CodeTable {
    type Made = std::collections::HashMap<(String, Vec<(String, String)>), &'static CodeTable>;
    static MADE: OnceLock<std::sync::Mutex<Made>> = OnceLock::new();
    let key = (
        name.to_string(),
        entries
            .iter()
            .map(|c| (c.code.clone(), c.display.clone()))
            .collect(),
    );
    let made = MADE.get_or_init(Default::default);
    let mut made = made
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    made.entry(key).or_insert_with(|| {
        let table = CodeTable {
            name: name.to_string(),
            system: String::new(),
            source: None,
            entries,
            index: Default::default(),
            searched: Vec::new(),
        };
        Box::leak(Box::new(table.indexed()))
    })
}

/// The embedded source text of a table, for the table tests.
pub fn table_source(id: TableId) -> &'static str {
    id.source()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_table_parses_with_unique_codes_and_displays() {
        for id in TableId::ALL {
            let parsed = parse_table(table_source(id))
                .unwrap_or_else(|e| panic!("table {} does not parse: {e}", id.key()));
            assert!(!parsed.entries.is_empty(), "table {} is empty", id.key());
            let mut seen = HashSet::new();
            for entry in &parsed.entries {
                assert!(
                    seen.insert(entry.code.to_ascii_lowercase()),
                    "table {} repeats code {}",
                    id.key(),
                    entry.code
                );
                assert!(
                    !entry.display.trim().is_empty(),
                    "{} has no display",
                    entry.code
                );
                assert!(!entry.code.trim().is_empty());
            }
        }
    }

    #[test]
    fn statuses_are_cdcs() {
        let cvx = table(TableId::Cvx);
        let status = |code: &str| {
            let entry = cvx
                .get(code)
                .unwrap_or_else(|| panic!("CVX {code} missing"));
            (entry.active, entry.non_us)
        };
        for code in [
            "03", "94", "21", "08", "43", "189", "83", "52", "104", "20", "106", "110", "120",
            "130", "146", "10", "48", "49", "116", "119", "215", "216", "327", "33", "115", "113",
            "196", "165", "187", "203", "162", "163", "140", "141", "135", "168", "153", "155",
            "111", "309", "310", "311", "312", "313", "303", "305", "326", "306", "307", "334",
            "801", "09", "44", "62", "149", "150", "158", "161", "171", "185", "186", "197", "205",
            "331",
        ] {
            assert_eq!(
                status(code),
                (true, false),
                "CVX {code} is active in CDC's table"
            );
        }
        for code in ["308", "220", "998", "999"] {
            assert!(!status(code).0, "CVX {code} is not active in CDC's table");
        }
        assert_eq!(status("521"), (true, true), "521 is a Non-US code");
        assert_eq!(
            cvx.get("334").unwrap().display,
            "COVID-19, mRNA, LNP-S, PF, 10 mcg/0.2 mL"
        );
    }

    #[test]
    fn lookup_ignores_case_and_leading_zeros() {
        assert_eq!(
            table(TableId::Cvx).get("3").map(|c| c.code.as_str()),
            Some("03")
        );
        assert_eq!(
            table(TableId::Site).get("la").map(|c| c.code.as_str()),
            Some("LA")
        );
        assert!(table(TableId::Cvx).get("4242").is_none());
        assert!(table(TableId::Cvx).get("").is_none());
    }

    #[test]
    fn null_flavor_race_entries_carry_their_own_system() {
        let race = table(TableId::Race);
        let unk = race.get("UNK").expect("UNK");
        assert_eq!(
            race.system_of(unk),
            "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
        );
        let white = race.get("2106-3").expect("white");
        assert_eq!(race.system_of(white), "urn:oid:2.16.840.1.113883.6.238");
    }

    #[test]
    fn the_corrected_codes_say_what_their_sources_say() {
        let route = table(TableId::Route);
        let nasal = route.get("NASINHL").expect("intranasal is NASINHL");
        assert_eq!(nasal.display, "Inhalation, nasal");
        assert_eq!(nasal.also[0].code, "C38284");
        assert!(route.get("NASINHLC").is_none(), "that is a nasal cannula");
        assert_eq!(route.get("IM").unwrap().also[0].code, "C28161");
        for t in [TableId::Race, TableId::Ethnicity] {
            assert_eq!(table(t).get("ASKU").unwrap().display, "asked but unknown");
        }
        assert!(!table(TableId::Eligibility).get("V06").unwrap().active);
        let cvx = table(TableId::Cvx);
        for active in ["93", "143", "318"] {
            assert!(cvx.get(active).unwrap().active, "{active}");
        }
        assert!(cvx.get("190").unwrap().non_us);
        for code in 500..=520 {
            let c = cvx
                .get(&code.to_string())
                .unwrap_or_else(|| panic!("{code}"));
            assert!(c.non_us, "{code}");
        }
    }
}
