//! What a scan fills, read through CDC's tables: a pack's GS1 barcode gives its GTIN,
//! lot, expiry and serial, and the NDC crosswalk the NDC, vaccine (CVX) and maker
//! (MVX) with nothing on hand; a VIS barcode gives the document and its edition.
//! The form fills a dose from it, and `vaxentry scan` prints it.

use super::gs1::{self, Scan};
use crate::codes::ndc::{self, Package};
use crate::codes::vis::{self, Document, Edition};
use serde_json::{Value, json};

/// What a scan says.
#[derive(Clone, Debug, PartialEq)]
pub enum Scanned {
    /// A vaccine pack or vial, and the package CDC lists for its GTIN.
    Pack {
        scan: Scan,
        package: Option<&'static Package>,
    },
    /// A Vaccine Information Statement.
    Vis {
        document: &'static Document,
        edition: &'static Edition,
    },
}

/// `None` when `text` is no barcode; otherwise what it says, or what is wrong with it.
pub fn read(text: &str) -> Option<Result<Scanned, String>> {
    if let Some(vis) = gs1::parse_vis(text) {
        return Some(vis.and_then(|encoded| {
            let (document, edition) = vis::by_encoded(&encoded).ok_or_else(|| {
                format!("VIS barcode {encoded} is no VIS edition CDC lists; type the VIS instead")
            })?;
            Ok(Scanned::Vis { document, edition })
        }));
    }
    let scan = gs1::parse(text)?;
    Some(scan.map(|scan| {
        let package = ndc::by_gtin(&scan.gtin);
        Scanned::Pack { scan, package }
    }))
}

impl Scanned {
    /// The vaccine, when the pack's NDC is one vaccine's (Engerix-B may be two).
    pub fn cvx(&self) -> Option<&'static str> {
        self.package().and_then(|p| only(&p.cvx))
    }

    /// The maker, when the crosswalk names one.
    pub fn mvx(&self) -> Option<&'static str> {
        self.package().and_then(|p| only(&p.mvx))
    }

    fn package(&self) -> Option<&'static Package> {
        match self {
            Scanned::Pack { package, .. } => *package,
            Scanned::Vis { .. } => None,
        }
    }

    /// As `vaxentry scan --json` prints it.
    pub fn to_json(&self) -> Value {
        match self {
            Scanned::Pack { scan, package } => json!({
                "gtin": scan.gtin,
                "ndc": package.map(|p| p.ndc.as_str()),
                "cvx": self.cvx(),
                "mvx": self.mvx(),
                "lot": scan.lot,
                "expiration": scan.expiry.map(|d| d.format("%Y-%m-%d").to_string()),
                "serial": scan.serial,
            }),
            Scanned::Vis { document, edition } => json!({
                "vis_document": document.key,
                "vis_edition": edition.date.format("%Y-%m-%d").to_string(),
            }),
        }
    }

    /// As `vaxentry scan` prints it: one line per fact, with what to check.
    pub fn said(&self) -> Vec<String> {
        match self {
            Scanned::Vis { document, edition } => vec![
                format!("VIS      {} ({})", document.key, document.said_name()),
                format!(
                    "edition  {}{}",
                    edition.date,
                    if edition.current { " (current)" } else { "" }
                ),
            ],
            Scanned::Pack { scan, package } => {
                let mut lines = vec![format!(
                    "GTIN     {}{}",
                    scan.gtin,
                    if scan.check_digit_ok {
                        ""
                    } else {
                        "  (check digit wrong: compare the pack)"
                    }
                )];
                match package {
                    Some(p) => {
                        let kind = match (p.sale, p.unit_of_use) {
                            (true, false) => "carton",
                            (false, true) => "vial or syringe",
                            _ => "package",
                        };
                        lines.push(format!("NDC      {} ({kind}, {})", p.ndc, p.name));
                        lines.push(format!("CVX      {}", p.cvx.join(" or ")));
                        lines.push(format!("MVX      {}", p.mvx.join(" or ")));
                    }
                    None => lines.push(
                        "NDC      not in CDC's vaccine NDC list: type the vaccine".to_string(),
                    ),
                }
                if let Some(lot) = &scan.lot {
                    lines.push(format!("lot      {lot}"));
                }
                if let Some(expiry) = scan.expiry {
                    lines.push(format!("expires  {expiry}"));
                }
                if let Some(serial) = &scan.serial {
                    lines.push(format!("serial   {serial}"));
                }
                if scan.lot_may_hold_serial {
                    lines.push(
                        "check the lot: the scan had no GS, so a serial may have run into it"
                            .to_string(),
                    );
                }
                lines
            }
        }
    }
}

/// The one code of a list that has one.
fn only(codes: &[String]) -> Option<&str> {
    match codes {
        [one] => Some(one),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_scan_finds_its_vaccine_maker_and_ndc_in_the_crosswalk() {
        let scanned = read("]d2010035816082311417271231\u{1d}10AB12C\u{1d}21XYZ")
            .unwrap()
            .unwrap();
        assert_eq!(scanned.cvx(), Some("187"));
        assert_eq!(scanned.mvx(), Some("SKB"));
        assert_eq!(
            scanned.to_json(),
            json!({"gtin": "00358160823114", "ndc": "58160-0823-11", "cvx": "187", "mvx": "SKB",
                   "lot": "AB12C", "expiration": "2027-12-31", "serial": "XYZ"})
        );
    }

    #[test]
    fn a_vis_scan_names_its_document_and_edition() {
        let scanned = read("253088698300010311250131").unwrap().unwrap();
        assert_eq!(
            scanned.to_json(),
            json!({"vis_document": "influenza-inactivated", "vis_edition": "2025-01-31"})
        );
        assert!(
            read("253088698300010399991231").unwrap().is_err(),
            "no such edition"
        );
        assert!(read("flu").is_none());
    }
}
