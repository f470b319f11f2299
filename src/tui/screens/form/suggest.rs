//! What a vaccine chosen for a dose given here brings besides its lot and this
//! station's habits, each only into an empty field and marked as filled in: an
//! adult's VFC eligibility (V01: the Vaccines for Children program ends at 19), the
//! route and single-dose volume CDC lists for the lot's NDC (the route also when every
//! pack of the vaccine has the same), and for a patient whose doses this station
//! knows, the dose number they make it.

use super::{Form, Page};
use crate::clock::ClinicTime;
use crate::codes::ndc;
use crate::record::FieldId;
use crate::record::dose_number::{KnownDose, dose_number};
use crate::record::parse::parse_ndc;
use crate::record::values::DoseContext;
use crate::tui::text;

/// The age from which no one is eligible for VFC.
const ADULT_YEARS: u32 = 19;

impl Form {
    /// After vaccine `cvx` was chosen for dose `i`: fills what it brings; says what.
    pub(super) fn fill_what_the_vaccine_brings(
        &mut self,
        i: usize,
        cvx: &str,
        now: ClinicTime,
    ) -> Vec<String> {
        let Some(dose) = self.visit.doses.get(i) else {
            return Vec::new();
        };
        let ctx = DoseContext::of(dose);
        if ctx.not_done || ctx.in_error {
            return Vec::new();
        }
        let mut said = Vec::new();
        if ctx.given_here {
            said.extend(self.fill_adult_eligibility(i, now));
            said.extend(self.fill_from_pack(i, cvx));
        }
        said.extend(self.fill_dose_number(i, cvx, now));
        said
    }

    /// An adult's eligibility: V01, for dose `i` given here and the visit's others,
    /// with the funding that goes with it.
    pub(super) fn fill_adult_eligibility(&mut self, i: usize, now: ClinicTime) -> Option<String> {
        let page = Page::Dose(i);
        let ctx = DoseContext::of(self.visit.doses.get(i)?);
        if !ctx.given_here || ctx.not_done || ctx.in_error {
            return None;
        }
        let (birth, on) = self.age_dates(i, now)?;
        let adult = on
            .years_since(birth)
            .is_some_and(|years| years >= ADULT_YEARS);
        let filled_in = self.was_filled(i, FieldId::Eligibility);
        // V01 filled in for a birth date since corrected to a child's: it goes.
        if !adult && filled_in && self.value(page, FieldId::Eligibility) == "V01" {
            self.set_value(page, FieldId::Eligibility, String::new());
            return Some(text::CHILD_ELIGIBILITY.into());
        }
        if !adult || !self.value(page, FieldId::Eligibility).trim().is_empty() {
            return None;
        }
        self.set_value(page, FieldId::Eligibility, "V01".into());
        self.mark_filled(i, FieldId::Eligibility);
        self.eligibility_left(i);
        Some(text::ADULT_ELIGIBILITY.into())
    }

    /// From the pack CDC lists for the dose's NDC: its route and, for a single-dose
    /// syringe or vial, the volume it holds; the route also when every pack of the
    /// vaccine has the same one. Only into empty fields; says what was filled.
    pub(super) fn fill_from_pack(&mut self, i: usize, cvx: &str) -> Option<String> {
        let page = Page::Dose(i);
        let empty = |form: &Form, field| form.value(page, field).trim().is_empty();
        let pack = parse_ndc(self.value(page, FieldId::Ndc))
            .ok()
            .and_then(|digits| ndc::find(&digits))
            .filter(|p| p.is_vaccine(cvx));
        let route = pack
            .and_then(|p| p.routes.first().map(String::as_str))
            .or_else(|| ndc::usual_route(cvx))
            .filter(|_| empty(self, FieldId::Route));
        let amount = pack
            .and_then(ndc::Package::dose_ml)
            .map(|ml| ml.to_string())
            .filter(|_| empty(self, FieldId::Amount));
        let filled: Vec<String> = [
            (FieldId::Route, route.map(str::to_string)),
            (FieldId::Amount, amount),
        ]
        .into_iter()
        .filter_map(|(field, value)| {
            let value = value?;
            self.set_value(page, field, value.clone());
            self.mark_filled(i, field);
            Some(value)
        })
        .collect();
        (!filled.is_empty()).then(|| text::from_cdc_pack(&filled.join(" ")))
    }

    /// For a patient whose doses this station knows (stored here or read from the
    /// endpoint): the number this dose makes in its vaccine group, counting those
    /// doses and the visit's others.
    fn fill_dose_number(&mut self, i: usize, cvx: &str, now: ClinicTime) -> Option<String> {
        let page = Page::Dose(i);
        if !self.history_known() || !self.value(page, FieldId::DoseNumber).trim().is_empty() {
            return None;
        }
        let (_, on) = self.age_dates(i, now)?;
        let known: Vec<KnownDose> = self
            .known_doses(Some(i), now)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let (number, counted) = dose_number(cvx, on, &known)?;
        self.set_value(page, FieldId::DoseNumber, number.to_string());
        self.mark_filled(i, FieldId::DoseNumber);
        Some(text::dose_number_from(number, counted))
    }

    /// Whether field `field` of dose `i` holds what was filled in (not typed).
    pub(super) fn was_filled(&self, i: usize, field: FieldId) -> bool {
        self.notes
            .get(i)
            .is_some_and(|n| n.carried.contains(&field))
    }

    /// Field `field` of dose `i` was filled in, not typed: a dose switched to given
    /// elsewhere loses it (see `clear_carried`).
    pub(super) fn mark_filled(&mut self, i: usize, field: FieldId) {
        self.notes
            .resize_with(self.visit.doses.len(), Default::default);
        if let Some(notes) = self.notes.get_mut(i) {
            notes.carried.insert(field);
        }
    }
}
