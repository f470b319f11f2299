//! What a scan or a typed NDC puts into a dose: a pack's barcode gives the lot, the
//! expiry and, from the lots on hand or else CDC's NDC crosswalk, the vaccine, maker,
//! NDC and usual route; a VIS barcode names that VIS and its edition.

use super::{Form, Page};
use crate::clock::ClinicTime;
use crate::codes::ndc::{self, Package};
use crate::record::FieldId;
use crate::record::gs1::ndc11_matches;
use crate::record::scan::Scanned;
use crate::record::vis_field::{self, VisGiven};
use crate::tui::text;
use tui_input::Input;

impl Form {
    /// What a scan says goes into dose `i`. The field it was typed into gets its
    /// value back (unless the scan fills it). Returns what to tell the user.
    pub(super) fn apply_scan(
        &mut self,
        i: usize,
        scanned: Result<Scanned, String>,
        now: ClinicTime,
    ) -> String {
        let page = Page::Dose(i);
        let typed_into = self.focus.field;
        self.overlay = None;
        self.set_value(page, typed_into, self.focus.entered_with.clone());
        self.focus.input = Input::new(self.focus.entered_with.clone());
        let scanned = match scanned {
            Ok(scanned) => scanned,
            Err(why) => return text::scan_unreadable(&why),
        };
        let (filled, said) = match &scanned {
            Scanned::Vis { document, edition } => {
                let mut list =
                    vis_field::parse_list(self.value(page, FieldId::Vis), now.date_naive())
                        .unwrap_or_default();
                list.retain(|g| g.document.key != document.key);
                list.push(VisGiven {
                    document,
                    edition: Some(edition.date),
                    own_edition: true,
                    presented: None,
                });
                (
                    vec![(FieldId::Vis, vis_field::said(&list))],
                    text::vis_scanned(&document.key, edition.date, edition.current),
                )
            }
            Scanned::Pack { scan, package } => {
                let mut filled = Vec::new();
                if let Some(lot) = &scan.lot {
                    filled.push((FieldId::Lot, lot.clone()));
                }
                if let Some(expiry) = scan.expiry {
                    filled.push((FieldId::Expiration, expiry.format("%Y-%m-%d").to_string()));
                }
                let on_hand = scan.ndc_digits().and_then(|digits| {
                    self.session
                        .inventory
                        .iter()
                        .find(|l| ndc11_matches(&l.ndc, digits))
                        .cloned()
                });
                let product = match (&on_hand, package) {
                    (Some(lot), _) => {
                        filled.push((FieldId::Vaccine, lot.vaccine.clone()));
                        filled.push((FieldId::Manufacturer, lot.manufacturer.clone()));
                        filled.push((FieldId::Ndc, ndc::dashed(&lot.ndc)));
                        text::ScannedProduct::OnHand(&lot.vaccine)
                    }
                    (None, Some(package)) => {
                        filled.extend(self.product_fields(i, package, true));
                        text::ScannedProduct::Listed(package)
                    }
                    (None, None) => text::ScannedProduct::NotListed,
                };
                let said = text::scanned(scan, product);
                (filled, said)
            }
        };
        for (field, value) in &filled {
            self.set_value(page, *field, value.clone());
            self.changed(*field, now);
        }
        self.focus.input = Input::new(self.value(page, typed_into).to_string());
        self.focus.fresh = true;
        said
    }

    /// An NDC typed into dose `i` (on leaving the field): the vaccine, maker and usual
    /// route CDC lists for it go into those fields that are empty. Says what it did.
    pub(super) fn fill_from_ndc(&mut self, i: usize, now: ClinicTime) -> Option<String> {
        let page = Page::Dose(i);
        let digits = crate::record::parse::parse_ndc(self.value(page, FieldId::Ndc)).ok()?;
        let package = ndc::find(&digits)?;
        let filled = self.product_fields(i, package, false);
        if filled.is_empty() {
            return None;
        }
        for (field, value) in &filled {
            self.set_value(page, *field, value.clone());
            self.noted(i, *field, now);
        }
        Some(text::ndc_filled(package, filled.len()))
    }

    /// What a package fills into dose `i`: its NDC (from a scan), and where the dose
    /// has none yet (or always, from a scan), the vaccine and maker when CDC names
    /// one, and the usual route.
    fn product_fields(&self, i: usize, package: &Package, scanned: bool) -> Vec<(FieldId, String)> {
        let page = Page::Dose(i);
        let empty = |field| self.value(page, field).trim().is_empty();
        let mut filled = Vec::new();
        // A typed NDC of another vaccine is an error on the NDC, and fills nothing.
        let vaccine = self.value(page, FieldId::Vaccine).trim();
        let other = crate::codes::table(crate::codes::TableId::Cvx)
            .get(vaccine)
            .is_some_and(|c| !package.is_vaccine(&c.code));
        if !scanned && other {
            return filled;
        }
        if scanned {
            filled.push((FieldId::Ndc, package.ndc.clone()));
        }
        if let [cvx] = package.cvx.as_slice()
            && (scanned || empty(FieldId::Vaccine))
        {
            filled.push((FieldId::Vaccine, cvx.clone()));
        }
        if let [mvx] = package.mvx.as_slice()
            && (scanned || empty(FieldId::Manufacturer))
        {
            filled.push((FieldId::Manufacturer, mvx.clone()));
        }
        if let Some(route) = package.routes.first().filter(|_| empty(FieldId::Route)) {
            filled.push((FieldId::Route, route.clone()));
        }
        if let Some(ml) = package.dose_ml().filter(|_| empty(FieldId::Amount)) {
            filled.push((FieldId::Amount, ml.to_string()));
        }
        filled
    }
}
