//! What CDC's product table and the package inserts say about each vaccine (CVX): its
//! products, who makes them and the ages it is licensed for
//! (`assets/codes/cvx-products.json`).

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Deserialize;
use std::sync::OnceLock;

/// A unit of age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Days,
    Weeks,
    Months,
    Years,
}

impl Unit {
    /// The short form for narrow columns.
    fn short(self) -> &'static str {
        match self {
            Unit::Days => "d",
            Unit::Weeks => "wk",
            Unit::Months => "mo",
            Unit::Years => "y",
        }
    }

    fn name(self, count: u32) -> &'static str {
        match (self, count == 1) {
            (Unit::Days, true) => "day",
            (Unit::Days, false) => "days",
            (Unit::Weeks, true) => "week",
            (Unit::Weeks, false) => "weeks",
            (Unit::Months, true) => "month",
            (Unit::Months, false) => "months",
            (Unit::Years, true) => "year",
            (Unit::Years, false) => "years",
        }
    }
}

/// An age: `6 months`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Age {
    pub count: u32,
    pub unit: Unit,
}

impl Age {
    fn parse(text: &str) -> Option<Age> {
        let (count, unit) = text.trim().split_once(' ')?;
        let unit = match unit.trim() {
            "day" | "days" => Unit::Days,
            "week" | "weeks" => Unit::Weeks,
            "month" | "months" => Unit::Months,
            "year" | "years" => Unit::Years,
            _ => return None,
        };
        Some(Age {
            count: count.parse().ok()?,
            unit,
        })
    }

    /// The date someone born on `birth` reaches this age.
    pub fn reached(self, birth: NaiveDate) -> Option<NaiveDate> {
        match self.unit {
            Unit::Days => birth.checked_add_days(Days::new(self.count.into())),
            Unit::Weeks => birth.checked_add_days(Days::new(u64::from(self.count) * 7)),
            Unit::Months => birth.checked_add_months(Months::new(self.count)),
            Unit::Years => birth.checked_add_months(Months::new(self.count.checked_mul(12)?)),
        }
    }
}

/// The ages a product is licensed for: from `from`, up to (not including) `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ages {
    pub from: Age,
    pub to: Option<Age>,
}

impl Ages {
    fn parse(text: &str) -> Option<Ages> {
        let (from, to) = text.split_once("..")?;
        Some(Ages {
            from: Age::parse(from)?,
            to: match to.trim() {
                "" => None,
                to => Some(Age::parse(to)?),
            },
        })
    }

    /// Whether someone born on `birth` may have it on `on`.
    pub fn fits(&self, birth: NaiveDate, on: NaiveDate) -> bool {
        let old_enough = self.from.reached(birth).is_none_or(|d| on >= d);
        let young_enough = self
            .to
            .and_then(|a| a.reached(birth))
            .is_none_or(|d| on < d);
        old_enough && young_enough
    }

    /// How people say it: `6 months–4 years`, `65 years+`, `6–32 weeks`, `birth–24 months`.
    pub fn label(&self) -> String {
        self.said(|unit, count| unit.name(count).to_string())
    }

    /// The same for a narrow column: `6 mo–4 y`, `65 y+`.
    pub fn short_label(&self) -> String {
        self.said(|unit, _| unit.short().to_string())
    }

    fn said(&self, unit_name: impl Fn(Unit, u32) -> String) -> String {
        let from = |unit_shown: bool| match self.from.count {
            0 => "birth".to_string(),
            n if unit_shown => format!("{n} {}", unit_name(self.from.unit, n)),
            n => n.to_string(),
        };
        match self.to {
            None if self.from.count == 0 => "all ages".into(),
            None => format!("{}+", from(true)),
            Some(to) => {
                // `to` is not included: the last age is one unit less.
                let last = to.count.saturating_sub(1);
                let same_unit = to.unit == self.from.unit && self.from.count > 0;
                format!("{}–{last} {}", from(!same_unit), unit_name(to.unit, last))
            }
        }
    }
}

/// One vaccine product.
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    pub cvx: String,
    /// MVX codes of the companies that make it.
    pub makers: Vec<String>,
    /// CDC's product names (`FLULAVAL`, `Fluzone High-Dose`).
    pub names: Vec<String>,
    pub ages: Option<Ages>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductsFile {
    /// Required, so the file says what it is and where it comes from.
    #[serde(rename = "name")]
    _name: String,
    #[serde(rename = "source")]
    _source: String,
    products: Vec<ProductRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductRow {
    cvx: String,
    makers: Vec<String>,
    names: Vec<String>,
    ages: Option<String>,
}

const SOURCE: &str = include_str!("../../assets/codes/cvx-products.json");

/// Reads the products file; a row whose ages do not read is an error naming it.
pub fn parse_products(text: &str) -> Result<Vec<Product>, String> {
    let file: ProductsFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    file.products
        .into_iter()
        .map(|row| {
            let ages = match &row.ages {
                None => None,
                Some(text) => Some(
                    Ages::parse(text)
                        .ok_or_else(|| format!("CVX {}: ages '{text}' do not read", row.cvx))?,
                ),
            };
            Ok(Product {
                cvx: row.cvx,
                makers: row.makers,
                names: row.names,
                ages,
            })
        })
        .collect()
}

/// The product facts for a CVX code, if the table has them.
pub fn product(cvx: &str) -> Option<&'static Product> {
    static PRODUCTS: OnceLock<std::collections::HashMap<String, Product>> = OnceLock::new();
    // Compiled in and checked by a test: a failure here leaves the table empty.
    let products = PRODUCTS.get_or_init(|| {
        parse_products(SOURCE)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.cvx.clone(), p))
            .collect()
    });
    let code = super::table(super::TableId::Cvx).get(cvx)?;
    products.get(&code.code)
}

/// An age in the words a clinic uses: days and weeks for babies, then months, then
/// years.
pub fn age_text(birth: NaiveDate, on: NaiveDate) -> String {
    let days = (on - birth).num_days();
    let months = (on.year() - birth.year()) * 12 + on.month() as i32
        - birth.month() as i32
        - i32::from(on.day() < birth.day());
    match (days, months) {
        (..=0, _) => "a newborn".into(),
        (1..=41, _) => format!("{days} days old"),
        (_, ..=3) => format!("{} weeks old", days / 7),
        (_, ..=23) => format!("{months} months old"),
        _ => format!("{} years old", months / 12),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{TableId, table};

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_table_reads_and_names_only_known_codes() {
        let products = parse_products(SOURCE).expect("the shipped table reads");
        assert!(products.len() > 50);
        for p in &products {
            assert!(table(TableId::Cvx).get(&p.cvx).is_some(), "CVX {}", p.cvx);
            for m in &p.makers {
                assert!(
                    table(TableId::Mvx).get(m).is_some(),
                    "CVX {}: MVX {m}",
                    p.cvx
                );
            }
        }
        assert!(parse_products(r#"{"name": "x", "source": "y", "products": [{"cvx": "03", "makers": [], "names": [], "ages": "soon"}]}"#).is_err());
    }

    #[test]
    fn ages_include_the_start_and_stop_before_the_end() {
        let covid_small = product("308").unwrap().ages.unwrap();
        let birth = date("2022-06-15");
        assert!(
            !covid_small.fits(birth, date("2022-12-14")),
            "a day short of 6 months"
        );
        assert!(covid_small.fits(birth, date("2022-12-15")), "6 months");
        assert!(
            covid_small.fits(birth, date("2027-06-14")),
            "the last day of 4 years"
        );
        assert!(!covid_small.fits(birth, date("2027-06-15")), "5 years");
        assert_eq!(covid_small.label(), "6 months–4 years");
        assert_eq!(product("135").unwrap().ages.unwrap().label(), "65 years+");
        assert_eq!(product("116").unwrap().ages.unwrap().label(), "6–32 weeks");
        assert_eq!(
            product("306").unwrap().ages.unwrap().label(),
            "birth–24 months"
        );
        assert_eq!(product("175").unwrap().ages.unwrap().label(), "all ages");
        assert_eq!(covid_small.short_label(), "6 mo–4 y");
        assert_eq!(product("135").unwrap().ages.unwrap().short_label(), "65 y+");
    }

    #[test]
    fn ages_are_said_as_a_clinic_says_them() {
        let birth = date("2026-01-10");
        assert_eq!(age_text(birth, date("2026-01-30")), "20 days old");
        assert_eq!(age_text(birth, date("2026-03-12")), "8 weeks old");
        assert_eq!(age_text(birth, date("2027-06-10")), "17 months old");
        assert_eq!(
            age_text(date("1987-03-14"), date("2026-11-25")),
            "39 years old"
        );
    }
}
