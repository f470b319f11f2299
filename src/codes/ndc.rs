//! CDC's vaccine NDC crosswalk (`assets/codes/ndc.json`): what each National Drug Code
//! on a pack or a vial is (vaccine, maker, route, packaging, marketing dates, GTIN),
//! and which unit of use a unit of sale holds.
//!
//! An NDC is kept as its 11 digits and written as CDC's crosswalk and the US Core
//! vaccine NDC value set write it: 5-4-2 with hyphens (`49281-0424-88`). A dose
//! reports the unit of use, the vial or syringe given (see [`Package::reported`]).

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One package CDC lists: a unit of sale (the carton), a unit of use (the vial or
/// syringe), or both (a vial sold alone).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// 5-4-2, with hyphens.
    pub ndc: String,
    #[serde(default)]
    pub sale: bool,
    #[serde(default, rename = "use")]
    pub unit_of_use: bool,
    /// The vaccines it may be recorded as (Engerix-B is CVX 43 or 44 by the dose).
    #[serde(default)]
    pub cvx: Vec<String>,
    #[serde(default)]
    pub mvx: Vec<String>,
    pub name: String,
    #[serde(default)]
    pub packaging: String,
    /// Route codes of the route table, the usual one first.
    #[serde(default)]
    pub routes: Vec<String>,
    /// First and last day on the market, as CDC lists them.
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub gtin: Option<String>,
    /// For a unit of sale: the units of use it holds.
    #[serde(default)]
    pub uses: Vec<String>,
    /// For a unit of use: the units of sale it comes in.
    #[serde(default)]
    pub sales: Vec<String>,
}

impl Package {
    /// The 11 digits.
    pub fn digits(&self) -> String {
        self.ndc.replace('-', "")
    }

    /// Whether it was on the market on `day` (CDC's dates, both included).
    pub fn marketed_on(&self, day: NaiveDate) -> bool {
        self.start.is_none_or(|s| day >= s) && self.end.is_none_or(|e| day <= e)
    }

    /// The NDC a dose reports: the unit of use, the vial or syringe actually given.
    /// CDC's guidance lets a provider record either (CDC, "Updated Guidance for
    /// Documenting Vaccine NDCs and Lot Numbers in IISs and EHRs", January 2021), and
    /// US Core's NDC-to-CVX map and IIS inventories read the unit of use. A carton
    /// that holds one kind of vial reports that vial; a kit of several components
    /// (a powder and its liquid) reports the carton, since which vial is meant
    /// cannot be told.
    pub fn reported(&'static self) -> &'static Package {
        match self.uses.as_slice() {
            [only] if !self.unit_of_use => find(&only.replace('-', "")).unwrap_or(self),
            _ => self,
        }
    }

    /// The dose it holds in mL, for a single-dose syringe, vial or applicator whose
    /// packaging CDC describes with its volume (`SYRINGE, .5 mL` is 0.5); `None` for
    /// a multi-dose vial, a carton, or a package described without a volume.
    pub fn dose_ml(&self) -> Option<f64> {
        let packaging = self.packaging.to_lowercase();
        if packaging.contains("multi") || !self.unit_of_use {
            return None;
        }
        let spaced = packaging.replace("ml", " ml ");
        let words: Vec<&str> = spaced
            .split(|c: char| c.is_whitespace() || c == ',' || c == '/')
            .filter(|w| !w.is_empty())
            .collect();
        let at = words.iter().position(|w| *w == "ml")?;
        let ml: f64 = words.get(at.checked_sub(1)?)?.parse().ok()?;
        (ml > 0.0 && ml <= 2.0).then_some(ml)
    }

    /// Whether it may be recorded as the vaccine `cvx` (a CDC CVX code).
    pub fn is_vaccine(&self, cvx: &str) -> bool {
        self.cvx.iter().any(|c| c == cvx)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NdcFile {
    #[serde(rename = "name")]
    _name: String,
    #[serde(rename = "source")]
    _source: String,
    packages: Vec<Package>,
}

/// The crosswalk, indexed by 11 digits and by GTIN.
struct Crosswalk {
    packages: Vec<Package>,
    by_digits: HashMap<String, usize>,
    by_gtin: HashMap<String, usize>,
}

const SOURCE: &str = include_str!("../../assets/codes/ndc.json");

/// Reads a crosswalk file; the shipped one is checked by tests.
fn parse(text: &str) -> Result<Crosswalk, String> {
    let file: NdcFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut by_digits = HashMap::new();
    let mut by_gtin = HashMap::new();
    for (i, p) in file.packages.iter().enumerate() {
        if !is_five_four_two(&p.ndc) {
            return Err(format!("NDC {} is not written 5-4-2", p.ndc));
        }
        by_digits.insert(p.digits(), i);
        if let Some(gtin) = &p.gtin {
            by_gtin.insert(gtin.clone(), i);
        }
    }
    Ok(Crosswalk {
        packages: file.packages,
        by_digits,
        by_gtin,
    })
}

fn crosswalk() -> &'static Crosswalk {
    static CROSSWALK: OnceLock<Crosswalk> = OnceLock::new();
    // Compiled in and checked by a test: a failure here leaves the crosswalk empty.
    CROSSWALK.get_or_init(|| {
        parse(SOURCE).unwrap_or(Crosswalk {
            packages: Vec::new(),
            by_digits: HashMap::new(),
            by_gtin: HashMap::new(),
        })
    })
}

fn is_five_four_two(ndc: &str) -> bool {
    let parts: Vec<&str> = ndc.split('-').collect();
    matches!(parts.as_slice(), [a, b, c] if a.len() == 5 && b.len() == 4 && c.len() == 2)
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Every package CDC lists.
pub fn all() -> &'static [Package] {
    &crosswalk().packages
}

/// The route every package CDC lists for the vaccine `cvx` is usually given by, when
/// they all agree (`None` when they differ, as for a vaccine made for two routes, or
/// when CDC lists none).
pub fn usual_route(cvx: &str) -> Option<&'static str> {
    let mut routes = all()
        .iter()
        .filter(|p| p.is_vaccine(cvx))
        .filter_map(|p| p.routes.first());
    let first = routes.next()?;
    routes.all(|r| r == first).then_some(first.as_str())
}

/// The package with these 11 digits.
pub fn find(digits: &str) -> Option<&'static Package> {
    let crosswalk = crosswalk();
    crosswalk
        .by_digits
        .get(digits)
        .map(|&i| &crosswalk.packages[i])
}

/// The 11-digit forms ten digits without hyphens may stand for: 4-4-2, 5-3-2 and
/// 5-4-1, each padded with a zero where the segment is short.
pub fn eleven_digit_forms(ten: &str) -> [String; 3] {
    let (a, b, c) = (&ten[..4], &ten[4..8], &ten[8..]);
    let (d, e, f) = (&ten[..5], &ten[5..8], &ten[8..]);
    let (g, h, i) = (&ten[..5], &ten[5..9], &ten[9..]);
    [
        format!("0{a}{b}{c}"),
        format!("{d}0{e}{f}"),
        format!("{g}{h}0{i}"),
    ]
}

/// The packages ten digits without hyphens can be: of the three 11-digit forms, those
/// CDC lists.
pub fn from_ten_digits(ten: &str) -> Vec<&'static Package> {
    if ten.len() != 10 || !ten.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let mut found: Vec<&Package> = eleven_digit_forms(ten)
        .iter()
        .filter_map(|digits| find(digits))
        .collect();
    // `66521000001` is both 6652-1000-01 and 66521-000-01 padded.
    found.dedup_by(|a, b| a.ndc == b.ndc);
    found
}

/// The package a GS1 GTIN-14 stands for: by the GTIN CDC lists, else by the NDC a US
/// drug GTIN carries (`0`/`3`, `03`, ten NDC digits, check digit).
pub fn by_gtin(gtin: &str) -> Option<&'static Package> {
    let crosswalk = crosswalk();
    if let Some(&i) = crosswalk.by_gtin.get(gtin) {
        return Some(&crosswalk.packages[i]);
    }
    let ten = gtin.get(1..3).filter(|p| *p == "03").and(gtin.get(3..13))?;
    match from_ten_digits(ten).as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// 11 digits as 5-4-2 with hyphens.
pub fn dashed(digits: &str) -> String {
    match (digits.get(..5), digits.get(5..9), digits.get(9..)) {
        (Some(a), Some(b), Some(c)) if digits.len() == 11 => format!("{a}-{b}-{c}"),
        _ => digits.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_crosswalk_reads_and_every_ndc_is_written_5_4_2() {
        let crosswalk = parse(SOURCE).expect("the shipped crosswalk reads");
        assert!(
            crosswalk.packages.len() > 900,
            "{}",
            crosswalk.packages.len()
        );
        assert_eq!(crosswalk.by_digits.len(), crosswalk.packages.len());
        assert!(
            parse(r#"{"name": "x", "source": "y", "packages": [{"ndc": "4928104245", "name": "z", "start": null, "end": null, "gtin": null}]}"#)
                .is_err()
        );
    }

    #[test]
    fn a_carton_reports_its_one_kind_of_syringe_and_a_kit_reports_itself() {
        let pack = find("49281042450").unwrap();
        assert!(pack.sale && !pack.unit_of_use);
        assert_eq!(pack.reported().ndc, "49281-0424-88");
        let syringe = find("49281042488").unwrap();
        assert_eq!(syringe.reported().ndc, "49281-0424-88");
        let pentacel = find("49281051005").unwrap();
        assert!(pentacel.uses.len() > 1);
        assert_eq!(pentacel.reported().ndc, "49281-0510-05");
    }

    #[test]
    fn a_single_dose_package_holds_the_volume_its_packaging_says() {
        let package = |packaging: &str, unit_of_use: bool| Package {
            packaging: packaging.into(),
            unit_of_use,
            ..all()[0].clone()
        };
        for (packaging, ml) in [
            ("SYRINGE, 0.5 mL", Some(0.5)),
            ("SYRINGE, .25 mL", Some(0.25)),
            ("SYRINGE, 0.5mL", Some(0.5)),
            ("SYRINGE, PRE-FILLED, GLASS, 30 mcg/0.3 mL", Some(0.3)),
            ("VIAL, .5 mL, SINGLE-DOSE", Some(0.5)),
            ("APPLICATOR .2 mL", Some(0.2)),
            ("VIAL, 5 mL, MULTI-DOSE", None),
            ("SYRINGE", None),
            ("VIAL, 10 mL", None),
            ("", None),
        ] {
            assert_eq!(package(packaging, true).dose_ml(), ml, "{packaging}");
        }
        assert_eq!(
            package("SYRINGE, 0.5 mL", false).dose_ml(),
            None,
            "a carton"
        );
        // CDC's own: Fluzone's syringe.
        assert_eq!(find("49281042588").and_then(Package::dose_ml), Some(0.5));
    }

    #[test]
    fn a_vaccine_has_a_usual_route_when_its_packages_agree() {
        assert_eq!(usual_route("140"), Some("IM"));
        assert_eq!(usual_route("116"), Some("PO"), "rotavirus is swallowed");
        assert_eq!(usual_route("03"), Some("SQ"));
        assert_eq!(usual_route("999"), None, "no packages");
        assert_eq!(usual_route("not a code"), None);
    }

    #[test]
    fn marketing_dates_include_both_ends() {
        let pack = find("49281042450").unwrap();
        assert!(pack.marketed_on(day("2024-07-01")));
        assert!(pack.marketed_on(day("2025-06-30")));
        assert!(!pack.marketed_on(day("2025-07-01")));
        assert!(!pack.marketed_on(day("2024-06-30")));
        assert!(find("80777040060").unwrap().marketed_on(day("2030-01-01")));
    }

    #[test]
    fn ten_digits_find_the_configuration_that_exists() {
        let found = from_ten_digits("4928142450");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].ndc, "49281-0424-50");
        assert!(from_ten_digits("9999999999").is_empty());
        assert!(from_ten_digits("49281").is_empty());
        assert_eq!(
            eleven_digit_forms("1234567890"),
            ["01234567890", "12345067890", "12345678900"]
        );
        assert_eq!(dashed("49281042450"), "49281-0424-50");
        assert_eq!(dashed("123"), "123");
    }

    #[test]
    fn a_gtin_finds_its_package_listed_or_not() {
        assert_eq!(by_gtin("00358160823114").unwrap().ndc, "58160-0823-11");
        // A GTIN CDC does not list still carries its NDC.
        let shingrix = find("58160082311").unwrap();
        assert!(shingrix.gtin.is_some());
        assert_eq!(by_gtin("50358160823119").unwrap().ndc, "58160-0823-11");
        assert!(by_gtin("00012345678905").is_none());
    }
}
