//! A pack's GS1 barcode scanned into a dose field: what it says goes into the dose.

use super::{Form, Page};
use crate::clock::ClinicTime;
use crate::record::FieldId;
use crate::record::gs1::{Scan, ndc11_matches};
use crate::tui::text;
use tui_input::Input;

impl Form {
    /// What a scan says goes into dose `i`: lot, expiry and, when a lot on hand has
    /// the scan's NDC, the vaccine, maker and NDC. The field it was typed into gets
    /// its value back (unless the scan fills it). Returns what to tell the user.
    pub(super) fn apply_scan(
        &mut self,
        i: usize,
        scanned: Result<Scan, String>,
        now: ClinicTime,
    ) -> String {
        let page = Page::Dose(i);
        let typed_into = self.focus.field;
        self.overlay = None;
        self.set_value(page, typed_into, self.focus.entered_with.clone());
        self.focus.input = Input::new(self.focus.entered_with.clone());
        let scan = match scanned {
            Ok(scan) => scan,
            Err(why) => return text::scan_unreadable(&why),
        };
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
        if let Some(product) = &on_hand {
            filled.push((FieldId::Vaccine, product.vaccine.clone()));
            filled.push((FieldId::Manufacturer, product.manufacturer.clone()));
            filled.push((FieldId::Ndc, product.ndc.clone()));
        }
        for (field, value) in &filled {
            self.set_value(page, *field, value.clone());
            self.changed(*field, now);
        }
        self.focus.input = Input::new(self.value(page, typed_into).to_string());
        self.focus.fresh = true;
        text::scanned(&scan, on_hand.as_ref().map(|l| l.vaccine.as_str()))
    }
}
