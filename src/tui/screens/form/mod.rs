//! The entry form: the visit being typed, which section and field has the focus,
//! the open code picker, what carries over between doses and visits, and the keys
//! that work on the form. Its drawing is in `view`.

pub mod endpoint;
pub mod jump;
pub mod view;

use crate::clock::ClinicTime;
use crate::codes::products;
use crate::codes::{Code, search, table};
use crate::fhir::{self, BundleSettings};
use crate::record::identity::{StoredDose, check_stored_doses};
use crate::record::parse::{parse_date, parse_datetime, parse_yes_no};
use crate::record::values::{DoseContext, Expectation};
use crate::record::{
    Carry, FieldId, FieldRef, Fields, Finding, Kind, Rule, Section, Severity, Visit,
    check_known_patient, new_dose, validate,
};
use crate::tui::app::{App, Effect, Msg, Screen};
use crate::tui::layout::Target;
use crate::tui::screens::overlays::confirm::Confirm;
use crate::tui::screens::preview::Preview;
use crate::tui::text;
use crate::tui::widgets::{Cursor, one_line};
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashMap};
use tui_input::{Input, InputRequest};
use uuid::Uuid;

/// A section of the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Patient,
    Dose(usize),
    Review,
}

/// Values remembered between visits in one session.
#[derive(Clone, Debug, Default)]
pub struct Sticky {
    /// The station's fields (performer, place ...) of the last dose entered.
    pub dose_defaults: Vec<(FieldId, String)>,
    /// vaccine code -> the product fields (lot, manufacturer, expiration) last used
    /// with it.
    pub lots: HashMap<String, Vec<(FieldId, String)>>,
    /// The station's defaults (`[station]`), for what a new visit has nothing for.
    pub station: Vec<(FieldId, String)>,
}

/// Field labels for a notice: "Given by, Location and Funding".
fn labels(fields: &[FieldId]) -> String {
    let names: Vec<&str> = fields.iter().map(|f| f.spec().label).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The values of the fields that carry over in this way.
fn carried_values(from: &Fields, carry: Carry) -> Vec<(FieldId, String)> {
    FieldId::carried(carry)
        .map(|f| (f, from.get(f).to_string()))
        .collect()
}

/// Puts `values` into a new visit's `dose` (with `only_empty`, only where it has
/// nothing), noted as carried rather than typed.
fn carry_into(
    dose: &mut Fields,
    notes: &mut DoseNotes,
    values: &[(FieldId, String)],
    only_empty: bool,
) {
    for (field, value) in values {
        if only_empty && !dose.get(*field).trim().is_empty() {
            continue;
        }
        dose.set(*field, value.clone());
        if !value.is_empty() {
            notes.carried.insert(*field);
        }
    }
}

/// What the form knows about a dose besides its values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DoseNotes {
    /// Fields filled in from the dose before or the last visit and not typed since.
    pub carried: BTreeSet<FieldId>,
    /// Administered still holds the time the blank dose was made, not one typed: it
    /// becomes the time the dose's first field is typed.
    pub time_is_default: bool,
}

pub struct Form {
    pub visit: Visit,
    /// One per dose, in step with `visit.doses`.
    pub notes: Vec<DoseNotes>,
    /// The focused field's value was there before it got the focus and is untouched:
    /// the first character typed replaces it.
    pub fresh: bool,
    /// What the form has to tell the user after the last change.
    pub notice: Option<String>,
    /// The MRN last looked up in the store, and the patient and doses stored under it.
    pub looked_up: Option<String>,
    pub stored_patient: Option<Fields>,
    pub stored_doses: Vec<StoredDose>,
    /// What the endpoint holds for the patient looked up, and why it could not be
    /// asked (or read whole) when it could not.
    pub endpoint: Option<endpoint::EndpointView>,
    pub endpoint_problem: Option<String>,
    /// The visit's id in the store; its message ids derive from it.
    pub visit_id: Uuid,
    pub page: Page,
    pub field: FieldId,
    pub input: Input,
    /// The open code picker's highlighted choice.
    pub picker: Option<usize>,
    /// The jump-to-field list, while it is open (Ctrl+F).
    pub jump: Option<jump::Jump>,
    /// The focused field's value before the picker opened, for Esc.
    pub before_picker: String,
    pub findings: Vec<Finding>,
    /// The chosen problem on Review.
    pub review: Cursor,
    /// Something was typed since the visit was started or last saved.
    pub dirty: bool,
    /// Changed since the draft was last written.
    pub draft_dirty: bool,
    pub sticky: Sticky,
    /// A stored visit opened for correcting, rather than a new one.
    pub amending: Option<Amending>,
    /// The clinic's own rules (from the config).
    pub rules: crate::record::Rules,
    /// The lots on hand (the store's inventory), soonest expiry first.
    pub inventory: Vec<crate::store::lots::Lot>,
    /// How this station last gave each vaccine (amount, route, site).
    pub habits: Vec<crate::store::habits::Habit>,
    /// Stored patients matching the MRN or family name being typed (F7 takes the
    /// first), and the text they were looked up for.
    pub suggestions: Vec<crate::store::patients::PatientMatch>,
    pub suggested_for: Option<String>,
    /// The focused field's value when it got the focus (a scan typed into it gives
    /// it back).
    pub entered_with: String,
    /// A mass-clinic session: every new visit's dose comes from its template.
    pub mass: Option<MassClinic>,
}

/// A mass-clinic session (F8): one product given to patient after patient.
#[derive(Clone, Debug, PartialEq)]
pub struct MassClinic {
    /// The dose fields every visit gets: vaccine, lot, performer, place, funding, VIS.
    pub template: Vec<(FieldId, String)>,
    /// Visits saved since it began.
    pub saved: u32,
}

/// The dose fields a mass-clinic template fixes (the site, the time and the patient's
/// own facts are asked each visit).
const MASS_TEMPLATE: [FieldId; 15] = [
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
    FieldId::VisEdition,
];

/// A stored visit being corrected: a saved one is saved again in its place; a sent
/// one (submitted or failed) goes again as its `sending`th new message about the same
/// Patient and Immunizations, with the doses it had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amending {
    pub state: crate::store::VisitState,
    pub sending: u32,
}

impl Amending {
    /// It was sent: the correction is a new message, and its doses stay as they are.
    pub fn was_sent(self) -> bool {
        matches!(
            self.state,
            crate::store::VisitState::Submitted | crate::store::VisitState::Failed
        )
    }
}

impl Form {
    pub fn new(now: ClinicTime) -> Form {
        let visit = Visit::new(now);
        let mut form = Form {
            input: Input::new(visit.patient.get(FieldId::Mrn).to_string()),
            visit,
            notes: vec![DoseNotes {
                time_is_default: true,
                ..DoseNotes::default()
            }],
            fresh: false,
            notice: None,
            looked_up: None,
            stored_patient: None,
            stored_doses: Vec::new(),
            endpoint: None,
            endpoint_problem: None,
            visit_id: Uuid::new_v4(),
            page: Page::Patient,
            field: FieldId::Mrn,
            picker: None,
            jump: None,
            before_picker: String::new(),
            findings: Vec::new(),
            review: Cursor::default(),
            dirty: false,
            draft_dirty: false,
            sticky: Sticky::default(),
            amending: None,
            rules: crate::record::Rules::default(),
            inventory: Vec::new(),
            habits: Vec::new(),
            suggestions: Vec::new(),
            suggested_for: None,
            entered_with: String::new(),
            mass: None,
        };
        form.revalidate(now);
        form
    }

    /// Puts a visit into the form for editing.
    pub fn load(&mut self, id: Uuid, visit: Visit, now: ClinicTime) {
        self.notes = vec![DoseNotes::default(); visit.doses.len()];
        self.looked_up = None;
        self.stored_patient = None;
        self.stored_doses.clear();
        self.forget_endpoint();
        self.visit = visit;
        self.visit_id = id;
        self.amending = None;
        self.dirty = true;
        self.draft_dirty = false;
        self.focus(Page::Patient, FieldId::Mrn, now);
        self.revalidate(now);
    }

    /// The message this visit would send now, or the errors that prevent it. Date
    /// shortcuts are fixed first, so the stored record says what the message says.
    pub fn message(
        &mut self,
        now: ClinicTime,
        settings: &BundleSettings,
    ) -> Result<fhir::Message, fhir::InvalidVisit> {
        self.leave_field(now);
        self.input = Input::new(self.value(self.page, self.field).to_string());
        match self.amending.filter(|a| a.was_sent()) {
            Some(a) => {
                fhir::message_sent_again(&self.visit, settings, now, self.visit_id, a.sending)
            }
            None => fhir::message_for(&self.visit, settings, now, self.visit_id),
        }
    }

    pub fn mark_changed(&mut self) {
        self.dirty = true;
        self.draft_dirty = true;
    }

    pub fn revalidate(&mut self, now: ClinicTime) {
        self.findings = validate(&self.visit, now, self.rules);
        let typed_mrn = self.visit.patient.get(FieldId::Mrn).trim();
        let stored = self
            .stored_patient
            .as_ref()
            .filter(|p| p.get(FieldId::Mrn).trim() == typed_mrn);
        let conflict =
            stored.and_then(|known| check_known_patient(&self.visit.patient, known, now));
        let mut given_before =
            check_stored_doses(&self.visit, self.visit_id, &self.stored_doses, now);
        given_before.extend(self.endpoint_findings(&given_before, now));
        if conflict.is_some() || !given_before.is_empty() {
            self.findings.extend(conflict);
            self.findings.extend(given_before);
            self.findings
                .sort_by_key(|f| (f.severity, f.at.dose.map_or(0, |d| d + 1), f.at.field));
        }
    }

    /// The store answered a look-up of `mrn`.
    pub fn known(
        &mut self,
        mrn: String,
        patient: Option<Fields>,
        doses: Vec<StoredDose>,
        now: ClinicTime,
    ) {
        if self.looked_up.as_deref() == Some(mrn.as_str()) {
            // A returning patient whose details are not typed yet: say F7 fills them.
            let nothing_typed = [FieldId::Family, FieldId::Given, FieldId::BirthDate]
                .iter()
                .all(|f| self.visit.patient.get(*f).trim().is_empty());
            if let Some(known) = patient.as_ref().filter(|_| nothing_typed) {
                self.notice = Some(text::stored_patient_found(&mrn, known));
            }
            self.stored_patient = patient;
            self.stored_doses = doses;
            self.revalidate(now);
        }
    }

    /// Doses the patient already has on the same day in another visit.
    pub fn given_before(&self) -> usize {
        self.count(|f| f.rule == Rule::AlreadyGiven)
    }

    /// The look-up to ask for: the MRN once it is typed and left, when it changed.
    fn lookup_effect(&mut self) -> Option<Effect> {
        let mrn = self.visit.patient.get(FieldId::Mrn).trim().to_string();
        let typing_it = self.page == Page::Patient && self.field == FieldId::Mrn;
        if mrn.is_empty() || typing_it || self.looked_up.as_deref() == Some(mrn.as_str()) {
            return None;
        }
        self.looked_up = Some(mrn.clone());
        self.stored_patient = None;
        self.stored_doses.clear();
        self.forget_endpoint();
        Some(Effect::LookupPatient(mrn))
    }

    /// While the MRN or family name is typed (two characters or more), the stored
    /// patients it matches are looked up.
    fn suggest_effect(&mut self) -> Option<Effect> {
        let typing = self.on_patient_key() && self.amending.is_none();
        let typed = self.input.value().trim().to_string();
        if !typing || typed.chars().count() < 2 {
            self.suggestions.clear();
            self.suggested_for = None;
            return None;
        }
        if self.suggested_for.as_deref() == Some(typed.as_str()) {
            return None;
        }
        self.suggested_for = Some(typed.clone());
        Some(Effect::SuggestPatients(typed))
    }

    /// The focus is on a field a returning patient is found by: the MRN or family name.
    fn on_patient_key(&self) -> bool {
        self.page == Page::Patient && matches!(self.field, FieldId::Mrn | FieldId::Family)
    }

    /// The stored patients matching `typed` arrived (dropped when typing moved on).
    pub fn suggested(&mut self, typed: String, matches: Vec<crate::store::patients::PatientMatch>) {
        if self.suggested_for.as_deref() == Some(typed.as_str()) {
            self.suggestions = matches;
        }
    }

    /// The patient's doses stored in other visits, newest first, in a few words:
    /// "140 on 2026-10-01 · 115 on 2025-09-02 (+2)".
    pub fn earlier_doses(&self) -> Option<String> {
        let mut doses: Vec<_> = self
            .stored_doses
            .iter()
            .filter(|d| d.visit != self.visit_id)
            .collect();
        if doses.is_empty() {
            return None;
        }
        doses.sort_by_key(|d| std::cmp::Reverse(d.key.given_on));
        let shown: Vec<String> = doses
            .iter()
            .take(3)
            .map(|d| format!("{} on {}", d.key.vaccine, d.key.given_on))
            .collect();
        let more = match doses.len() {
            n if n > 3 => format!(" (+{})", n - 3),
            _ => String::new(),
        };
        Some(format!("{}{more}", shown.join(" · ")))
    }

    /// The suggestion F7 would take, when the MRN typed is not itself stored.
    pub fn suggestion(&self) -> Option<&crate::store::patients::PatientMatch> {
        let showing = self.on_patient_key()
            && self.suggested_for.as_deref() == Some(self.input.value().trim());
        let mrn = self.visit.patient.get(FieldId::Mrn).trim();
        // The patient already in the form is not offered again.
        self.suggestions
            .first()
            .filter(|p| showing && (p.mrn != mrn || self.field == FieldId::Mrn))
    }

    /// F7: the stored patient's fields replace what was typed for the patient: the one
    /// stored under the MRN typed, else the first suggestion for what is being typed.
    fn use_stored_patient(&mut self, now: ClinicTime) -> &'static str {
        let known = match (&self.stored_patient, self.suggestion()) {
            (Some(known), _) => known.clone(),
            (None, Some(suggested)) => suggested.fields.clone(),
            (None, None) => return text::NO_STORED_PATIENT,
        };
        self.suggestions.clear();
        self.visit.patient = known;
        self.mark_changed();
        self.input = Input::new(self.value(self.page, self.field).to_string());
        self.fresh = false;
        self.revalidate(now);
        text::STORED_PATIENT_USED
    }

    /// Errors other than empty required fields.
    pub fn errors(&self) -> usize {
        self.count(|f| f.severity == Severity::Error && f.rule != Rule::Required)
    }

    /// Required fields still empty.
    pub fn to_fill(&self) -> usize {
        self.count(|f| f.rule == Rule::Required)
    }

    /// Warnings other than empty recommended fields.
    pub fn warnings(&self) -> usize {
        self.count(|f| f.severity == Severity::Warning && f.rule != Rule::Recommended)
    }

    fn count(&self, which: impl Fn(&Finding) -> bool) -> usize {
        self.findings.iter().filter(|f| which(f)).count()
    }

    /// The raw text of a field on a page.
    pub fn value(&self, page: Page, field: FieldId) -> &str {
        match page {
            Page::Patient => self.visit.patient.get(field),
            Page::Dose(i) => self.visit.doses.get(i).map_or("", |d| d.get(field)),
            Page::Review => "",
        }
    }

    fn set_value(&mut self, page: Page, field: FieldId, value: String) {
        match page {
            Page::Patient => self.visit.patient.set(field, value),
            Page::Dose(i) => {
                if let Some(d) = self.visit.doses.get_mut(i) {
                    d.set(field, value);
                }
            }
            Page::Review => {}
        }
    }

    /// Where a field of a page is, for findings.
    pub fn field_ref(page: Page, field: FieldId) -> FieldRef {
        match page {
            Page::Dose(i) => FieldRef::dose(i, field),
            _ => FieldRef::patient(field),
        }
    }

    /// The findings about one field.
    pub fn findings_at(&self, page: Page, field: FieldId) -> impl Iterator<Item = &Finding> {
        let at = Form::field_ref(page, field);
        self.findings.iter().filter(move |f| f.at == at)
    }

    /// The fields the user moves through on a page: those that apply to the dose.
    pub fn visible_fields(&self, page: Page) -> Vec<FieldId> {
        match page {
            Page::Patient => FieldId::of(Section::Patient).collect(),
            Page::Dose(i) => {
                let Some(dose) = self.visit.doses.get(i) else {
                    return Vec::new();
                };
                let ctx = DoseContext::of(dose);
                FieldId::of(Section::Dose)
                    .filter(|f| {
                        ctx.expectation(f.spec()) != Expectation::NotExpected
                            || !dose.get(*f).is_empty()
                    })
                    .collect()
            }
            Page::Review => Vec::new(),
        }
    }

    pub fn pages(&self) -> Vec<Page> {
        let mut pages = vec![Page::Patient];
        pages.extend((0..self.visit.doses.len()).map(Page::Dose));
        pages.push(Page::Review);
        pages
    }

    /// The picker's choices for the focused field, best first: for a vaccine, the
    /// products licensed for the patient's age come first; for a manufacturer, the
    /// makers of the dose's vaccine.
    pub fn picker_choices(&self, now: ClinicTime) -> Vec<&'static Code> {
        let Kind::Coded(t) = self.field.spec().kind else {
            return Vec::new();
        };
        let mut choices = search(table(t), self.input.value());
        let Page::Dose(i) = self.page else {
            return choices;
        };
        match self.field {
            FieldId::Vaccine => {
                let dates = self.age_dates(i, now);
                let given_here = self
                    .visit
                    .doses
                    .get(i)
                    .is_some_and(|d| DoseContext::of(d).given_here);
                // A stable sort: within each group the search's order stays. Products
                // for the patient's age first; non-US products last for a dose given here.
                choices.sort_by_key(|c| {
                    let fits = dates.is_none_or(|(birth, on)| {
                        products::product(&c.code)
                            .and_then(|p| p.ages)
                            .is_none_or(|a| a.fits(birth, on))
                    });
                    (!fits, given_here && c.non_us)
                });
            }
            FieldId::Manufacturer => {
                let vaccine = self.value(self.page, FieldId::Vaccine);
                if let Some(product) = products::product(vaccine) {
                    choices.sort_by_key(|c| !product.makers.contains(&c.code));
                }
            }
            _ => {}
        }
        choices
    }

    /// The patient's birth date and the day of dose `i` (today when not typed yet).
    pub fn age_dates(&self, i: usize, now: ClinicTime) -> Option<(NaiveDate, NaiveDate)> {
        let today = now.date_naive();
        let birth = parse_date(self.visit.patient.get(FieldId::BirthDate), today).ok()?;
        let on = self
            .visit
            .doses
            .get(i)
            .and_then(|d| parse_datetime(d.get(FieldId::Administered), now).ok())
            .map_or(today, |d| d.date());
        Some((birth, on))
    }

    pub fn focus(&mut self, page: Page, field: FieldId, now: ClinicTime) {
        self.leave_field(now);
        self.page = page;
        self.field = field;
        self.picker = None;
        self.jump = None;
        self.input = Input::new(self.value(page, field).to_string());
        self.entered_with = self.input.value().to_string();
        self.fresh = !self.input.value().is_empty();
    }

    /// Leaving the focused field (or saving from it): a date typed as a shortcut
    /// becomes the date it means, and a dose's new status or source takes effect.
    fn leave_field(&mut self, now: ClinicTime) {
        let mut changed = self.visit.fix_dates(now);
        if let Page::Dose(i) = self.page {
            let notice = match self.field {
                FieldId::PrimarySource
                    if parse_yes_no(self.value(self.page, self.field)) == Ok(false) =>
                {
                    self.clear_carried(i)
                }
                FieldId::Status => self.clear_what_does_not_apply(i),
                _ => None,
            };
            if notice.is_some() {
                self.notice = notice;
                changed = true;
            }
        }
        if changed {
            self.mark_changed();
            self.revalidate(now);
        }
    }

    /// Alt+H: the dose in front switches between given here and historical (given
    /// elsewhere), as if "no" or "yes" were typed into Given here and left; says which.
    fn toggle_given_here(&mut self, now: ClinicTime) -> String {
        let Page::Dose(i) = self.page else {
            return text::NOT_ON_A_DOSE.to_string();
        };
        let given_here = parse_yes_no(self.value(self.page, FieldId::PrimarySource)) != Ok(false);
        let value = if given_here { "no" } else { "yes" };
        self.set_value(self.page, FieldId::PrimarySource, value.to_string());
        self.changed(FieldId::PrimarySource, now);
        let cleared = match given_here {
            true => self.clear_carried(i),
            false => None,
        };
        if self.field == FieldId::PrimarySource {
            self.input = Input::new(value.to_string());
        }
        self.revalidate(now);
        text::given_here_switched(i, !given_here, cleared.as_deref())
    }

    pub fn focus_page(&mut self, page: Page, last: bool, now: ClinicTime) {
        // In a mass clinic, the dose asks only for the site.
        if self.mass.is_some() && matches!(page, Page::Dose(0)) && !last {
            return self.focus(page, FieldId::Site, now);
        }
        let fields = self.visible_fields(page);
        let field = if last { fields.last() } else { fields.first() };
        match field {
            Some(f) => self.focus(page, *f, now),
            None => {
                self.page = page;
                self.picker = None;
            }
        }
    }

    fn step_page(&self, forward: bool) -> Page {
        let pages = self.pages();
        let here = pages.iter().position(|p| *p == self.page).unwrap_or(0);
        let next = if forward {
            (here + 1) % pages.len()
        } else {
            (here + pages.len() - 1) % pages.len()
        };
        pages[next]
    }

    fn move_field(&mut self, forward: bool, now: ClinicTime) {
        if self.page == Page::Review {
            let page = self.step_page(forward);
            self.focus_page(page, !forward, now);
            return;
        }
        let fields = self.visible_fields(self.page);
        let here = fields.iter().position(|f| *f == self.field);
        let next = match (here, forward) {
            (Some(i), true) => fields.get(i + 1),
            (Some(i), false) => i.checked_sub(1).and_then(|j| fields.get(j)),
            (None, _) => fields.first(),
        };
        match next {
            Some(f) => self.focus(self.page, *f, now),
            None => {
                let page = self.step_page(forward);
                self.focus_page(page, !forward, now);
            }
        }
    }

    /// Applies one edit to the focused field.
    fn edit(&mut self, request: InputRequest, now: ClinicTime) {
        if let InputRequest::InsertChar(c) = request {
            return self.insert(&c.to_string(), now);
        }
        if self.page == Page::Review {
            return;
        }
        let before = self.input.value().to_string();
        self.fresh = false;
        if self.input.handle(request).is_none() || self.input.value() == before {
            return;
        }
        self.edited(before, now);
    }

    /// Puts typed or pasted text at the cursor, in one step however long, up to what
    /// the field holds (and says so when it is full).
    fn insert(&mut self, text: &str, now: ClinicTime) {
        if self.page == Page::Review || text.is_empty() {
            return;
        }
        let before = self.input.value().to_string();
        let coded = matches!(self.field.spec().kind, Kind::Coded(_));
        // Typing over a value that was there (a default, a chosen code) replaces it;
        // moving in it first (←, End) keeps it for editing.
        if self.fresh || coded && self.picker.is_none() {
            self.input = Input::default();
        }
        self.fresh = false;
        let value = self.input.value().to_string();
        // A barcode scan typed into a dose field is read at its Enter: until then the
        // field holds all of it, however short the field's own values are.
        let scanning = matches!(self.page, Page::Dose(_))
            && crate::record::gs1::could_be_scan(&format!("{value}{text}"));
        let most = match scanning {
            true => self.field.max_len().max(crate::record::gs1::LONGEST),
            false => self.field.max_len(),
        };
        let room = most.saturating_sub(value.chars().count());
        let added: String = text.chars().take(room).collect();
        if added.chars().count() < text.chars().count() {
            self.notice = Some(text::field_full(self.field.spec().label, most));
        }
        if added.is_empty() {
            self.input = Input::new(before);
            return;
        }
        let cursor = self.input.cursor();
        let at = value
            .char_indices()
            .nth(cursor)
            .map_or(value.len(), |(i, _)| i);
        let new = format!("{}{added}{}", &value[..at], &value[at..]);
        self.input = Input::new(new).with_cursor(cursor + added.chars().count());
        self.edited(before, now);
    }

    /// The focused field's text changed from `before`.
    fn edited(&mut self, before: String, now: ClinicTime) {
        let coded = matches!(self.field.spec().kind, Kind::Coded(_));
        if coded && self.picker.is_none() {
            self.before_picker = before;
        }
        self.set_value(self.page, self.field, self.input.value().to_string());
        self.picker = match self.field.spec().kind {
            Kind::Coded(_) if !self.input.value().is_empty() => Some(0),
            _ => None,
        };
        self.changed(self.field, now);
    }

    /// After a field of the focused page changed: keeps the dose's notes.
    fn changed(&mut self, field: FieldId, now: ClinicTime) {
        self.mark_changed();
        if let Page::Dose(i) = self.page {
            self.noted(i, field, now);
        }
        self.revalidate(now);
    }

    /// Field `field` of dose `i` was typed: it is no longer carried, and the dose's
    /// default time becomes now.
    fn noted(&mut self, i: usize, field: FieldId, now: ClinicTime) {
        self.notes
            .resize_with(self.visit.doses.len(), DoseNotes::default);
        if let Some(notes) = self.notes.get_mut(i) {
            notes.carried.remove(&field);
            if field == FieldId::Administered {
                notes.time_is_default = false;
            } else if notes.time_is_default {
                // The dose is being typed now: that is when it was given, unless typed.
                notes.time_is_default = false;
                let time = now.format("%Y-%m-%d %H:%M").to_string();
                self.set_value(Page::Dose(i), FieldId::Administered, time);
            }
        }
    }

    /// A dose became historical (given elsewhere): what was carried from this
    /// station (performer, place, funding ...) is not true of it.
    fn clear_carried(&mut self, i: usize) -> Option<String> {
        let carried = std::mem::take(&mut self.notes.get_mut(i)?.carried);
        let dose = self.visit.doses.get_mut(i)?;
        let cleared: Vec<FieldId> = carried
            .into_iter()
            .filter(|f| !dose.get(*f).is_empty())
            .collect();
        for f in &cleared {
            dose.set(*f, "");
        }
        (!cleared.is_empty()).then(|| text::carried_cleared(&labels(&cleared)))
    }

    /// A dose's status changed: fields that no longer apply to it are emptied.
    fn clear_what_does_not_apply(&mut self, i: usize) -> Option<String> {
        let dose = self.visit.doses.get_mut(i)?;
        let ctx = DoseContext::of(dose);
        let cleared: Vec<FieldId> = FieldId::of(Section::Dose)
            .filter(|f| {
                ctx.expectation(f.spec()) == Expectation::NotExpected && !dose.get(*f).is_empty()
            })
            .collect();
        for f in &cleared {
            dose.set(*f, "");
        }
        (!cleared.is_empty()).then(|| text::not_applying_cleared(&labels(&cleared)))
    }

    /// Takes the highlighted picker choice (if any) and moves on; says what was
    /// filled in besides. A vaccine whose lot (or how it is given) was filled in moves
    /// on to the next of the dose's fields still empty, past what was filled.
    fn accept_choice(&mut self, selected: usize, now: ClinicTime) {
        let mut filled_in = false;
        if let Some(code) = self
            .picker_choices(now)
            .get(selected)
            .map(|c| c.code.clone())
        {
            self.set_value(self.page, self.field, code.clone());
            self.changed(self.field, now);
            if self.field == FieldId::Vaccine {
                let notices: Vec<String> =
                    [self.fill_remembered_lot(&code, now), self.fill_habit(&code)]
                        .into_iter()
                        .flatten()
                        .collect();
                if !notices.is_empty() {
                    self.notice = Some(notices.join("; "));
                    filled_in = true;
                }
            }
        }
        self.picker = None;
        self.revalidate(now);
        self.move_field(true, now);
        if filled_in {
            self.skip_filled(now);
        }
    }

    /// From the focused field on, the first of the page's fields that is empty.
    fn skip_filled(&mut self, now: ClinicTime) {
        let fields = self.visible_fields(self.page);
        let from = fields.iter().position(|f| *f == self.field).unwrap_or(0);
        if let Some(empty) = fields[from..]
            .iter()
            .find(|f| self.value(self.page, **f).trim().is_empty())
        {
            self.focus(self.page, *empty, now);
        }
    }

    /// Esc in the picker: the field gets back the value it had before.
    fn cancel_picker(&mut self, now: ClinicTime) {
        let before = std::mem::take(&mut self.before_picker);
        self.set_value(self.page, self.field, before.clone());
        self.input = Input::new(before);
        self.picker = None;
        self.revalidate(now);
    }

    /// What a scan says goes into dose `i`: lot, expiry and, when a lot on hand has
    /// the scan's NDC, the vaccine, maker and NDC. The field it was typed into gets
    /// its value back (unless the scan fills it). Returns what to tell the user.
    fn apply_scan(
        &mut self,
        i: usize,
        scanned: Result<crate::record::gs1::Scan, String>,
        now: ClinicTime,
    ) -> String {
        let page = Page::Dose(i);
        let typed_into = self.field;
        self.picker = None;
        self.set_value(page, typed_into, self.entered_with.clone());
        self.input = Input::new(self.entered_with.clone());
        let scan = match scanned {
            Ok(scan) => scan,
            Err(why) => {
                self.revalidate(now);
                return text::scan_unreadable(&why);
            }
        };
        let mut filled = Vec::new();
        if let Some(lot) = &scan.lot {
            filled.push((FieldId::Lot, lot.clone()));
        }
        if let Some(expiry) = scan.expiry {
            filled.push((FieldId::Expiration, expiry.format("%Y-%m-%d").to_string()));
        }
        let on_hand = scan.ndc_digits().and_then(|digits| {
            self.inventory
                .iter()
                .find(|l| crate::record::gs1::ndc11_matches(&l.ndc, digits))
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
        self.input = Input::new(self.value(page, typed_into).to_string());
        self.fresh = true;
        self.revalidate(now);
        text::scanned(&scan, on_hand.as_ref().map(|l| l.vaccine.as_str()))
    }

    /// When a vaccine is chosen, the amount, route and site this station last gave it
    /// with go into those of the dose's fields that are empty; says which.
    fn fill_habit(&mut self, vaccine: &str) -> Option<String> {
        let habit = self.habits.iter().find(|h| h.vaccine == vaccine)?.clone();
        let mut filled = Vec::new();
        for (field, value) in [
            (FieldId::Amount, &habit.amount),
            (FieldId::Route, &habit.route),
            (FieldId::Site, &habit.site),
        ] {
            if !value.is_empty() && self.value(self.page, field).trim().is_empty() {
                self.set_value(self.page, field, value.clone());
                filled.push(value.as_str());
            }
        }
        (!filled.is_empty()).then(|| text::as_last_time(&filled.join(" ")))
    }

    /// When a vaccine is chosen for a dose with no lot, reuse the lot last used with
    /// that vaccine in this visit or session, else the lot on hand that expires first
    /// (not expired on the day the dose is given).
    fn fill_remembered_lot(&mut self, vaccine: &str, now: ClinicTime) -> Option<String> {
        let Page::Dose(i) = self.page else {
            return None;
        };
        if !self.value(self.page, FieldId::Lot).is_empty() {
            return None;
        }
        let from_this_visit = self.visit.doses.iter().enumerate().find_map(|(j, d)| {
            (j != i && d.get(FieldId::Vaccine) == vaccine && !d.get(FieldId::Lot).is_empty())
                .then(|| carried_values(d, Carry::WithVaccine))
        });
        if let Some(remembered) = from_this_visit.or_else(|| self.sticky.lots.get(vaccine).cloned())
        {
            for (field, value) in remembered {
                self.set_value(self.page, field, value);
            }
            return Some(text::lot_filled(self.value(self.page, FieldId::Lot)));
        }
        let on = self
            .age_dates(i, now)
            .map_or(now.date_naive(), |(_, on)| on)
            .to_string();
        let mut usable = self
            .inventory
            .iter()
            .filter(|l| l.vaccine == vaccine && !l.retired)
            .filter(|l| l.expiration.is_empty() || l.expiration >= on);
        let lot = usable.next()?.clone();
        let others = usable.count();
        for (field, value) in [
            (FieldId::Lot, &lot.lot),
            (FieldId::Manufacturer, &lot.manufacturer),
            (FieldId::Expiration, &lot.expiration),
            (FieldId::Ndc, &lot.ndc),
        ] {
            self.set_value(self.page, field, value.clone());
        }
        Some(text::lot_from_inventory(&lot.lot, &lot.expiration, others))
    }

    fn add_dose(&mut self, now: ClinicTime) -> String {
        let mut dose = new_dose(now);
        let template = match self.page {
            Page::Dose(i) => self.visit.doses.get(i),
            _ => self.visit.doses.last(),
        };
        if let Some(previous) = template {
            for carry in [Carry::ToNextDose, Carry::ToNextVisit] {
                for (field, value) in carried_values(previous, carry) {
                    dose.set(field, value);
                }
            }
        }
        let carried = FieldId::of(Section::Dose)
            .filter(|f| !dose.get(*f).is_empty() && f.spec().carry != Carry::Never)
            .collect();
        self.visit.doses.push(dose);
        self.notes
            .resize_with(self.visit.doses.len() - 1, DoseNotes::default);
        self.notes.push(DoseNotes {
            carried,
            time_is_default: false,
        });
        let page = Page::Dose(self.visit.doses.len() - 1);
        self.focus(page, FieldId::Vaccine, now);
        self.mark_changed();
        self.revalidate(now);
        text::dose_added(self.visit.doses.len())
    }

    pub fn remove_dose(&mut self, i: usize, now: ClinicTime) -> Option<String> {
        if i >= self.visit.doses.len() || self.visit.doses.len() < 2 {
            return None;
        }
        self.visit.doses.remove(i);
        if i < self.notes.len() {
            self.notes.remove(i);
        }
        self.mark_changed();
        self.focus_page(Page::Dose(i.min(self.visit.doses.len() - 1)), false, now);
        self.revalidate(now);
        Some(text::dose_removed(i))
    }

    /// Starts a new visit, keeping the session's sticky values.
    pub fn new_visit(&mut self, now: ClinicTime) {
        if let Some(last) = self.visit.doses.last() {
            self.sticky.dose_defaults = carried_values(last, Carry::ToNextVisit);
        }
        for dose in &self.visit.doses {
            let vaccine = dose.get(FieldId::Vaccine);
            if !vaccine.is_empty() && !dose.get(FieldId::Lot).is_empty() {
                self.sticky.lots.insert(
                    vaccine.to_string(),
                    carried_values(dose, Carry::WithVaccine),
                );
            }
        }
        self.visit = Visit::new(now);
        self.visit_id = Uuid::new_v4();
        self.amending = None;
        self.looked_up = None;
        self.stored_patient = None;
        self.stored_doses.clear();
        self.forget_endpoint();
        let mut notes = DoseNotes {
            time_is_default: true,
            ..DoseNotes::default()
        };
        carry_into(
            &mut self.visit.doses[0],
            &mut notes,
            &self.sticky.dose_defaults,
            false,
        );
        self.notes = vec![notes];
        self.fill_station_defaults();
        self.fill_mass_template(now);
        self.dirty = false;
        self.draft_dirty = false;
        self.review.home();
        self.focus(Page::Patient, FieldId::Mrn, now);
        self.revalidate(now);
    }

    /// F8 on a dose: begins a mass-clinic session with this dose as the template, or
    /// ends the session. Returns what to tell the user.
    pub fn toggle_mass_clinic(&mut self, now: ClinicTime) -> String {
        if let Some(mass) = self.mass.take() {
            return text::mass_clinic_ended(mass.saved);
        }
        let Page::Dose(i) = self.page else {
            return text::MASS_CLINIC_FROM_A_DOSE.into();
        };
        let dose = &self.visit.doses[i];
        if dose.get(FieldId::Vaccine).trim().is_empty() || dose.get(FieldId::Lot).trim().is_empty()
        {
            return text::MASS_CLINIC_NEEDS_PRODUCT.into();
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
    fn fill_mass_template(&mut self, now: ClinicTime) {
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

    /// Takes this station's defaults (`[station]`) and fills them into the visit being
    /// started, where it has nothing yet.
    pub fn use_station_defaults(&mut self, defaults: Vec<(FieldId, String)>, now: ClinicTime) {
        self.sticky.station = defaults;
        if !self.dirty {
            self.fill_station_defaults();
            self.revalidate(now);
        }
    }

    /// The station's defaults into the first dose's empty fields, marked as carried.
    fn fill_station_defaults(&mut self) {
        let (Some(dose), Some(notes)) = (self.visit.doses.first_mut(), self.notes.first_mut())
        else {
            return;
        };
        carry_into(dose, notes, &self.sticky.station, true);
    }

    pub fn jump_to_finding(&mut self, index: usize, now: ClinicTime) {
        let Some(at) = self.findings.get(index).map(|f| f.at) else {
            return;
        };
        let page = match at.dose {
            Some(i) => Page::Dose(i),
            None => Page::Patient,
        };
        self.focus(page, at.field, now);
    }

    /// The effect that writes the draft, if there is anything new to keep.
    pub fn draft_effect(&mut self, now: ClinicTime) -> Option<Effect> {
        if !(self.draft_dirty && self.dirty) {
            return None;
        }
        self.draft_dirty = false;
        let mut visit = self.visit.clone();
        visit.fix_dates(now);
        Some(Effect::SaveDraft {
            id: self.visit_id,
            visit: Box::new(visit),
        })
    }
}

/// Saves the visit (and puts it in the outbox with `submit`), once it has no errors.
/// A dose the patient already has on that day in another visit is asked about first,
/// unless `confirmed`.
pub fn save(app: &mut App, submit: bool, confirmed: bool) -> Vec<Effect> {
    let now = app.now;
    let form = &mut app.form;
    match form.message(now, &app.settings) {
        Ok(_) if form.given_before() > 0 && !confirmed => {
            app.ask(Confirm::SaveGivenBefore { submit });
            Vec::new()
        }
        Ok(message) if form.amending.is_some_and(Amending::was_sent) => vec![Effect::Amend {
            id: form.visit_id,
            visit: Box::new(form.visit.clone()),
            message,
            sending: form.amending.map_or(1, |a| a.sending),
        }],
        Ok(message) => vec![Effect::Save {
            id: form.visit_id,
            visit: Box::new(form.visit.clone()),
            message,
            submit,
        }],
        Err(invalid) => {
            form.picker = None;
            form.page = Page::Review;
            form.review.home();
            app.notice = Some(text::not_saved_errors(invalid.0.len()));
            Vec::new()
        }
    }
}

/// Keys on the form.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let now = app.now;
    let form = &mut app.form;
    // A barcode scanned into a dose field ends with Enter (or Tab): what it says goes
    // into the dose's fields, whatever field it was typed into.
    if matches!(msg, Msg::Enter | Msg::NextField)
        && let Page::Dose(i) = form.page
        && let Some(scanned) = crate::record::gs1::parse(form.input.value())
    {
        app.notice = Some(form.apply_scan(i, scanned, now));
        return Vec::new();
    }
    if form.jump.is_some() {
        match msg {
            Msg::Edit(request) => form.jump_typed(request),
            Msg::Paste(text) => {
                for c in one_line(&text).chars() {
                    form.jump_typed(InputRequest::InsertChar(c));
                }
            }
            Msg::Down | Msg::NextField => form.jump_step(true),
            Msg::Up | Msg::PrevField => form.jump_step(false),
            Msg::Enter => form.jump_go(now),
            Msg::Escape | Msg::JumpToField => form.jump = None,
            _ => return Vec::new(),
        }
        return Vec::new();
    }
    if let Some(selected) = form.picker {
        match msg {
            Msg::Down => {
                let count = form.picker_choices(now).len();
                form.picker = Some((selected + 1).min(count.saturating_sub(1)));
                return Vec::new();
            }
            Msg::Up => {
                form.picker = Some(selected.saturating_sub(1));
                return Vec::new();
            }
            Msg::Enter | Msg::NextField => {
                form.accept_choice(selected, now);
                if let Some(notice) = form.notice.take() {
                    app.notice = Some(notice);
                }
                return Vec::new();
            }
            Msg::Escape => {
                form.cancel_picker(now);
                return Vec::new();
            }
            _ => {}
        }
    }
    match msg {
        Msg::Edit(request) => form.edit(request, now),
        Msg::Paste(pasted) => form.insert(&one_line(&pasted), now),
        Msg::NextField => form.move_field(true, now),
        Msg::PrevField => form.move_field(false, now),
        Msg::NextPage | Msg::PageDown => {
            let page = form.step_page(true);
            form.focus_page(page, false, now);
        }
        Msg::PrevPage | Msg::PageUp => {
            let page = form.step_page(false);
            form.focus_page(page, false, now);
        }
        Msg::Down if form.page == Page::Review => form.review.down(1, form.findings.len()),
        Msg::Up if form.page == Page::Review => form.review.up(1),
        Msg::Down => form.move_field(true, now),
        Msg::Up => form.move_field(false, now),
        Msg::Enter if form.page == Page::Review => form.jump_to_finding(form.review.selected, now),
        Msg::Enter => form.move_field(true, now),
        // A sent dose is taken back by voiding it, as it was sent; one is not added.
        Msg::RemoveDose if form.amending.is_some_and(Amending::was_sent) => match form.page {
            Page::Dose(_) if form.dirty => app.notice = Some(text::VOID_AFTER_CORRECTING.into()),
            Page::Dose(dose) => {
                let id = form.visit_id;
                app.ask(Confirm::VoidDose { id, dose });
            }
            _ => app.notice = Some(text::GO_TO_DOSE_FIRST.into()),
        },
        Msg::AddDose if form.amending.is_some_and(Amending::was_sent) => {
            app.notice = Some(text::SENT_DOSES_STAY.into());
        }
        Msg::AddDose => app.notice = Some(form.add_dose(now)),
        Msg::RemoveDose => match form.page {
            Page::Dose(_) if form.visit.doses.len() == 1 => {
                app.notice = Some(text::LAST_DOSE_STAYS.into());
            }
            Page::Dose(i) => app.ask(Confirm::RemoveDose(i)),
            _ => app.notice = Some(text::GO_TO_DOSE_FIRST.into()),
        },
        Msg::Preview => {
            app.preview = Some(Preview::of_current(app));
            app.screen = Screen::Preview;
        }
        Msg::Save | Msg::SaveAndSubmit => {
            return save(app, msg == Msg::SaveAndSubmit, false);
        }
        Msg::CopyAsNew => app.notice = Some(text::COPY_AS_NEW_IN_HISTORY.into()),
        Msg::UseStoredPatient => app.notice = Some(form.use_stored_patient(now).into()),
        Msg::MassClinic => app.notice = Some(form.toggle_mass_clinic(now)),
        Msg::JumpToField => form.toggle_jump(),
        Msg::ToggleGivenHere => app.notice = Some(form.toggle_given_here(now)),
        Msg::Clicked(Target::Page(page)) => form.focus_page(page, false, now),
        Msg::Clicked(Target::Field(field)) => form.focus(form.page, field, now),
        Msg::Clicked(Target::Finding(i)) => {
            form.review.selected = i;
            form.jump_to_finding(i, now);
        }
        _ => {}
    }
    if let Some(notice) = app.form.notice.take() {
        app.notice = Some(notice);
    }
    app.form
        .lookup_effect()
        .into_iter()
        .chain(app.form.suggest_effect())
        .collect()
}
