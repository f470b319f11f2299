//! A returning patient: the patient and doses stored under the MRN typed (looked up
//! once the MRN is left), the stored patients suggested while an MRN or family name
//! is typed, F7 to fill them in, and the patient's doses from other visits.

use super::{Form, Page};
use crate::clock::ClinicTime;
use crate::record::identity::StoredDose;
use crate::record::{FieldId, Fields};
use crate::store::patients::PatientMatch;
use crate::tui::msg::Effect;
use crate::tui::text;
use tui_input::Input;

/// What the store holds for the patient being typed.
#[derive(Clone, Debug, Default)]
pub struct Returning {
    /// The MRN last looked up in the store, and the patient and doses stored under it.
    pub looked_up: Option<String>,
    pub stored_patient: Option<Fields>,
    pub stored_doses: Vec<StoredDose>,
    /// Stored patients matching the MRN or family name being typed (F7 takes the
    /// first), and the text they were looked up for.
    pub suggestions: Vec<PatientMatch>,
    pub suggested_for: Option<String>,
    /// Which of the suggestions F7 takes (Alt+↓ moves on).
    pub chosen: usize,
}

impl Form {
    /// The store answered a look-up of `mrn`; says so when a returning patient's MRN
    /// was typed and nothing else yet.
    pub fn known(
        &mut self,
        mrn: String,
        patient: Option<Fields>,
        doses: Vec<StoredDose>,
        now: ClinicTime,
    ) -> Option<String> {
        if self.returning.looked_up.as_deref() != Some(mrn.as_str()) {
            return None;
        }
        let nothing_typed = [FieldId::Family, FieldId::Given, FieldId::BirthDate]
            .iter()
            .all(|f| self.visit.patient.get(*f).trim().is_empty());
        let notice = patient
            .as_ref()
            .filter(|_| nothing_typed)
            .map(|known| text::stored_patient_found(&mrn, known));
        self.returning.stored_patient = patient;
        self.returning.stored_doses = doses;
        self.touch();
        self.refresh(now);
        notice
    }

    /// The look-up to ask for: the MRN once it is typed and left, when it changed.
    pub(super) fn lookup_effect(&mut self) -> Option<Effect> {
        let mrn = self.visit.patient.get(FieldId::Mrn).trim().to_string();
        let typing_it = self.focus.page == Page::Patient && self.focus.field == FieldId::Mrn;
        if mrn.is_empty() || typing_it || self.returning.looked_up.as_deref() == Some(mrn.as_str())
        {
            return None;
        }
        self.returning = Returning {
            looked_up: Some(mrn.clone()),
            suggestions: std::mem::take(&mut self.returning.suggestions),
            suggested_for: self.returning.suggested_for.take(),
            ..Returning::default()
        };
        self.forget_endpoint();
        self.touch();
        Some(Effect::LookupPatient(mrn))
    }

    /// While the MRN or family name is typed (two characters or more), the stored
    /// patients it matches are looked up.
    pub(super) fn suggest_effect(&mut self) -> Option<Effect> {
        let typing = self.on_patient_key() && self.amending.is_none();
        let typed = self.focus.input.value().trim().to_string();
        if !typing || typed.chars().count() < 2 {
            self.returning.suggestions.clear();
            self.returning.suggested_for = None;
            return None;
        }
        if self.returning.suggested_for.as_deref() == Some(typed.as_str()) {
            return None;
        }
        self.returning.suggested_for = Some(typed.clone());
        Some(Effect::SuggestPatients(typed))
    }

    /// The focus is on a field a returning patient is found by: the MRN or family name.
    fn on_patient_key(&self) -> bool {
        self.focus.page == Page::Patient
            && matches!(self.focus.field, FieldId::Mrn | FieldId::Family)
    }

    /// The stored patients matching `typed` arrived (dropped when typing moved on).
    pub fn suggested(&mut self, typed: String, matches: Vec<PatientMatch>) {
        if self.returning.suggested_for.as_deref() == Some(typed.as_str()) {
            self.returning.suggestions = matches;
            self.returning.chosen = 0;
        }
    }

    /// The patient's doses stored in other visits, newest first, in a few words:
    /// "140 on 2026-10-01 · 115 on 2025-09-02 (+2)".
    pub fn earlier_doses(&self, room: usize) -> Option<String> {
        let mut doses: Vec<_> = self
            .returning
            .stored_doses
            .iter()
            .filter(|d| d.visit != self.visit_id)
            .collect();
        if doses.is_empty() {
            return None;
        }
        doses.sort_by_key(|d| std::cmp::Reverse(d.key.given_on));
        // As many as fit, newest first, and how many more there are: never dropped
        // without a word.
        let said: Vec<String> = doses
            .iter()
            .map(|d| format!("{} on {}", d.key.vaccine, d.key.given_on))
            .collect();
        let mut shown = said.len();
        let text = |shown: usize| {
            let more = match said.len() - shown {
                0 => String::new(),
                n => format!(" (+{n} more)"),
            };
            format!("{}{more}", said[..shown].join(" · "))
        };
        while shown > 1 && text(shown).chars().count() > room {
            shown -= 1;
        }
        Some(text(shown))
    }

    /// The suggestion F7 would take, when the MRN typed is not itself stored.
    pub fn suggestion(&self) -> Option<&PatientMatch> {
        let showing = self.on_patient_key()
            && self.returning.suggested_for.as_deref() == Some(self.focus.input.value().trim());
        let mrn = self.visit.patient.get(FieldId::Mrn).trim();
        // The patient already in the form is not offered again.
        self.returning
            .suggestions
            .get(self.returning.chosen)
            .filter(|p| showing && (p.mrn != mrn || self.focus.field == FieldId::Mrn))
    }

    /// Alt+↓: the next stored patient that matches what is typed, round again after
    /// the last. Says who.
    pub(super) fn next_suggestion(&mut self) -> Option<String> {
        let count = self.returning.suggestions.len();
        if count < 2 {
            return None;
        }
        self.returning.chosen = (self.returning.chosen + 1) % count;
        self.suggestion()
            .map(|p| text::suggestion_shown(self.returning.chosen + 1, count, &p.describe()))
    }

    /// F7: the stored patient's fields replace what was typed for the patient: the one
    /// stored under the MRN typed, else the first suggestion for what is being typed.
    pub(super) fn use_stored_patient(&mut self, now: ClinicTime) -> &'static str {
        let known = match (&self.returning.stored_patient, self.suggestion()) {
            (Some(known), _) => known.clone(),
            (None, Some(suggested)) => suggested.fields.clone(),
            (None, None) => return text::NO_STORED_PATIENT,
        };
        self.returning.suggestions.clear();
        self.visit.patient = known;
        self.mark_changed();
        self.focus.input = Input::new(self.value(self.focus.page, self.focus.field).to_string());
        self.focus.fresh = false;
        self.refresh(now);
        // Nothing of the patient to fix: on to the dose.
        let patient_wrong = self
            .checks
            .findings
            .iter()
            .any(|f| f.at.dose.is_none() && f.severity == crate::record::Severity::Error);
        if self.focus.page == Page::Patient && !patient_wrong {
            self.focus_page(Page::Dose(0), false, now);
        }
        text::STORED_PATIENT_USED
    }
}
