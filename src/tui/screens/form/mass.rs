//! Mass clinic (F8): one product given to patient after patient. The dose in front
//! becomes the template of every new visit's dose, which then asks only for the
//! patient and the site.

use super::carry::carry_into;
use super::{Form, Page};
use crate::clock::ClinicTime;
use crate::record::FieldId;
use crate::tui::text;

/// A mass-clinic session.
#[derive(Clone, Debug, PartialEq)]
pub struct MassClinic {
    /// The dose fields every visit gets: vaccine, lot, performer, place, funding, VIS.
    pub template: Vec<(FieldId, String)>,
    /// Visits saved since it began.
    pub saved: u32,
}

impl MassClinic {
    /// The template's value of a field ("" when it has none).
    pub fn value(&self, field: FieldId) -> &str {
        self.template
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The dose fields a mass-clinic template fixes (the site, the time and the patient's
/// own facts are asked each visit).
const MASS_TEMPLATE: [FieldId; 16] = [
    FieldId::Vaccine,
    FieldId::Status,
    FieldId::PrimarySource,
    FieldId::Lot,
    FieldId::Manufacturer,
    FieldId::Expiration,
    FieldId::Ndc,
    FieldId::Amount,
    FieldId::Route,
    FieldId::Performer,
    FieldId::PerformerNpi,
    FieldId::Orderer,
    FieldId::Location,
    FieldId::Funding,
    FieldId::Vis,
    FieldId::VisEdition,
];

impl Form {
    /// F8 on a dose: begins a mass-clinic session with this dose as the template, or
    /// ends the session. Returns what to tell the user.
    pub fn toggle_mass_clinic(&mut self, now: ClinicTime) -> String {
        if let Some(mass) = self.mass.take() {
            // The next visit, started from the template and not typed into, starts
            // again as any new visit.
            if mass.saved > 0 && !self.has_content() {
                self.new_visit(now);
            }
            return text::mass_clinic_ended(mass.saved);
        }
        let Page::Dose(i) = self.focus.page else {
            return text::mass_clinic_from_a_dose();
        };
        let dose = &self.visit.doses[i];
        if dose.get(FieldId::Vaccine).trim().is_empty() || dose.get(FieldId::Lot).trim().is_empty()
        {
            return text::mass_clinic_needs_product();
        }
        self.leave_field(now);
        let dose = &self.visit.doses[i];
        let template: Vec<(FieldId, String)> = MASS_TEMPLATE
            .iter()
            .map(|f| (*f, dose.get(*f).trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let notice = text::mass_clinic_started(dose.get(FieldId::Vaccine), dose.get(FieldId::Lot));
        self.mass = Some(MassClinic { template, saved: 0 });
        notice
    }

    /// A visit was saved during a mass clinic.
    pub fn mass_visit_saved(&mut self) {
        if let Some(mass) = &mut self.mass {
            mass.saved += 1;
        }
    }

    /// The mass-clinic template into the new visit's dose; the VIS is given today.
    pub(super) fn fill_mass_template(&mut self, now: ClinicTime) {
        let (Some(mass), Some(dose), Some(notes)) = (
            &self.mass,
            self.visit.doses.first_mut(),
            self.notes.first_mut(),
        ) else {
            return;
        };
        carry_into(dose, notes, &mass.template, false);
        dose.set(FieldId::VisPresented, now.format("%Y-%m-%d").to_string());
    }
}
