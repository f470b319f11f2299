//! The VIS field: one or more documents, separated by commas. Each is a short name
//! (`polio`, `multi-pediatric`, or words of CDC's name, `hep b`), with its edition
//! after `@` when it is not the current one (`dtap@2021-08-06`), or CDC's fully
//! encoded string (`253088698300017211250131`, what a VIS barcode holds), which names
//! the edition too.

use super::parse::parse_date;
use crate::codes::vis::{self, Document};
use chrono::NaiveDate;

/// One VIS given with a dose.
#[derive(Clone, Debug, PartialEq)]
pub struct VisGiven {
    pub document: &'static Document,
    /// The edition: as named, or once resolved, the one current on the dose day.
    pub edition: Option<NaiveDate>,
    /// The edition was named with the document (`polio@2021-08-06`, an encoded
    /// string), not by the VIS edition field or by default.
    pub own_edition: bool,
    /// When it was given to the patient (once resolved).
    pub presented: Option<NaiveDate>,
}

/// Reads the VIS field.
pub fn parse_list(raw: &str, today: NaiveDate) -> Result<Vec<VisGiven>, String> {
    let mut out: Vec<VisGiven> = Vec::new();
    for item in raw
        .split([',', ';'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let given = parse_item(item, today)?;
        if out.iter().any(|g| g.document.key == given.document.key) {
            return Err(format!(
                "the {} is named twice; name it once",
                given.document.said_name()
            ));
        }
        out.push(given);
    }
    Ok(out)
}

fn parse_item(item: &str, today: NaiveDate) -> Result<VisGiven, String> {
    let digits = item.trim_start_matches("(253)");
    let digits = if digits.len() == 21 && !item.starts_with("253") {
        format!("253{digits}")
    } else {
        digits.to_string()
    };
    if digits.len() > 13 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let (document, edition) = vis::by_encoded(&digits).ok_or_else(|| {
            format!("'{item}' is not the barcode of a VIS edition CDC lists; check it, or type the VIS's short name")
        })?;
        return Ok(VisGiven {
            document,
            edition: Some(edition.date),
            own_edition: true,
            presented: None,
        });
    }
    let (name, edition) = match item.split_once('@') {
        Some((name, edition)) => {
            let date = parse_date(edition.trim(), today)
                .map_err(|e| format!("the edition of '{}': {e}", name.trim()))?;
            (name, Some(date))
        }
        None => (item, None),
    };
    Ok(VisGiven {
        document: vis::named(name)?,
        edition,
        own_edition: edition.is_some(),
        presented: None,
    })
}

/// How a list of VIS is typed back into the field: `dtap, polio@2021-08-06`.
pub fn said(list: &[VisGiven]) -> String {
    list.iter()
        .map(|g| match (g.own_edition, g.edition) {
            (true, Some(date)) => format!("{}@{}", g.document.key, date.format("%Y-%m-%d")),
            _ => g.document.key.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_field_reads_names_editions_and_encoded_strings() {
        let today = day("2026-10-01");
        let list = parse_list("dtap@2021-08-06, hep b; 253088698300017211250131", today).unwrap();
        let keys: Vec<_> = list
            .iter()
            .map(|g| (g.document.key.as_str(), g.edition, g.own_edition))
            .collect();
        assert_eq!(
            keys,
            [
                ("dtap", Some(day("2021-08-06")), true),
                ("hepatitis-b", None, false),
                ("polio", Some(day("2025-01-31")), true),
            ]
        );
        assert_eq!(
            said(&list),
            "dtap@2021-08-06, hepatitis-b, polio@2025-01-31"
        );
        assert!(
            parse_list("polio, polio", today)
                .unwrap_err()
                .contains("twice")
        );
        assert!(parse_list("253088698300017299999999", today).is_err());
        assert!(
            parse_list("polio@soon", today)
                .unwrap_err()
                .contains("edition of 'polio'")
        );
        assert!(parse_list("", today).unwrap().is_empty());
    }
}
