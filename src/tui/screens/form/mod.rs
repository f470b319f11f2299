//! The entry form: the visit being typed, which section and field has the focus, the
//! overlay open over the fields (a code picker or the jump list), and the keys that
//! work on the form. What carries over between doses and visits is in `carry`, the
//! returning patient in `returning`, mass clinics in `mass`, the picker in `picker`,
//! scans in `scan`, the endpoint's doses in `endpoint`, the jump list in `jump`, and
//! the drawing in `view`.
//!
//! `update` takes the form's own state and a [`Ctx`], and gives back a [`Reply`];
//! the visit is validated once per message, at its end.

pub mod carry;
pub mod due;
pub mod endpoint;
pub mod jump;
pub mod mass;
pub mod picker;
pub mod returning;
pub mod scan;
pub mod suggest;
pub mod view;
pub mod whole;

use crate::clock::ClinicTime;
use crate::fhir::{self, BundleSettings};
use crate::record::fields::Need;
use crate::record::identity::check_stored_doses;
use crate::record::parse::parse_yes_no;
use crate::record::values::{DoseContext, Expectation};
use crate::record::{
    FieldId, FieldRef, Finding, Kind, Rule, Section, Severity, Visit, check_known_patient,
    new_dose, validate,
};
use crate::tui::msg::{Action, Confirm, Effect, Page, Screen, Target};
use crate::tui::reply::{Ctx, Reply};
use crate::tui::text;
use crate::tui::widgets::{Cursor, one_line};
use carry::{DoseNotes, Session, carried_values, carry_into};
use std::collections::BTreeSet;
use tui_input::{Input, InputRequest};
use uuid::Uuid;

/// The field with the focus and what is typed in it.
#[derive(Clone, Debug)]
pub struct Focus {
    pub page: Page,
    pub field: FieldId,
    pub input: Input,
    /// The value was there before the field got the focus and is untouched: the
    /// first character typed replaces it.
    pub fresh: bool,
    /// The value when the field got the focus (a scan typed into it gives it back).
    pub entered_with: String,
}

/// A box open over the fields, which takes the keys it knows.
#[derive(Clone, Debug)]
pub enum Overlay {
    /// The code picker of the focused coded field.
    Picker(picker::Picker),
    /// The jump-to-field list (Ctrl+F).
    Jump(jump::Jump),
    /// What is due, in full (Alt+D).
    Due,
}

/// What the checks found, and the problem chosen on Review.
#[derive(Clone, Debug, Default)]
pub struct Checks {
    pub findings: Vec<Finding>,
    pub review: Cursor,
}

/// A stored visit being corrected: a saved one is saved again in its place; a sent
/// one (submitted or failed) goes again as its next message about the same Patient
/// and Immunizations, with the doses it had, carrying those that changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Amending {
    pub state: crate::store::VisitState,
    /// What its next message is made against.
    pub correction: fhir::Correction,
}

impl Amending {
    /// It was sent: the correction is a new message, and its doses stay as they are.
    pub fn was_sent(&self) -> bool {
        self.state.may_be_corrected()
    }

    /// It was sent, and the form now names another patient (another MRN): saving
    /// voids its doses and records them anew (see `corrections::amend`).
    pub fn moves_patient(&self, visit: &Visit) -> bool {
        self.was_sent()
            && self
                .correction
                .before
                .as_ref()
                .is_some_and(|before| crate::corrections::moves_patient(before, visit))
    }
}

pub struct Form {
    pub visit: Visit,
    /// The visit's id in the store; its message ids derive from it.
    pub visit_id: Uuid,
    /// One per dose, in step with `visit.doses`.
    pub notes: Vec<DoseNotes>,
    pub focus: Focus,
    pub overlay: Option<Overlay>,
    pub checks: Checks,
    /// The stored patient and doses of the MRN typed, and suggestions while typing.
    pub returning: returning::Returning,
    /// What the endpoint holds for the patient looked up.
    pub endpoint: endpoint::EndpointState,
    /// What this session remembers between visits: carried values, lots on hand,
    /// this station's habits.
    pub session: Session,
    /// A mass-clinic session: every new visit's dose comes from its template.
    pub mass: Option<mass::MassClinic>,
    /// A stored visit opened for correcting, rather than a new one.
    pub amending: Option<Amending>,
    /// The clinic's own rules (from the config).
    pub rules: crate::record::Rules,
    /// The clinic's staff and places, to pick from (from the config).
    pub lists: picker::Lists,
    /// Something was typed since the visit was started or last saved.
    pub dirty: bool,
    /// Changed since the draft was last written.
    pub draft_dirty: bool,
    /// Changed since the checks last ran.
    stale: bool,
    /// The day the checks last ran: what "today" is for what needs no exact time.
    today: chrono::NaiveDate,
    /// The visit as a new one starts (with the station's fields), to tell a form
    /// with something typed from one only touched; `None` for a stored visit.
    blank: Option<Visit>,
    /// What to tell the user after this message (handed back in the reply).
    said: Option<String>,
    /// The field before was taken whole as it was typed: the rest of its word, and
    /// an Enter or Tab, still to be absorbed (see `whole`).
    typed_ahead: Option<whole::TypedAhead>,
    /// What is due for the patient, as the checks last worked it out.
    pub due: Option<due::Due>,
}

impl Form {
    pub fn new(now: ClinicTime) -> Form {
        let visit = Visit::new(now);
        let mut form = Form {
            focus: Focus {
                page: Page::Patient,
                field: FieldId::Mrn,
                input: Input::new(visit.patient.get(FieldId::Mrn).to_string()),
                fresh: false,
                entered_with: String::new(),
            },
            visit,
            notes: vec![DoseNotes {
                time_is_default: true,
                ..DoseNotes::default()
            }],
            visit_id: Uuid::new_v4(),
            overlay: None,
            checks: Checks::default(),
            returning: returning::Returning::default(),
            endpoint: endpoint::EndpointState::default(),
            session: Session::default(),
            mass: None,
            amending: None,
            lists: picker::Lists::default(),
            today: now.date_naive(),
            blank: None,
            rules: crate::record::Rules::default(),
            dirty: false,
            draft_dirty: false,
            stale: true,
            said: None,
            typed_ahead: None,
            due: None,
        };
        form.blank = Some(form.visit.clone());
        form.refresh(now);
        form
    }

    /// Puts a visit into the form for editing.
    pub fn load(&mut self, id: Uuid, visit: Visit, now: ClinicTime) {
        self.notes = vec![DoseNotes::default(); visit.doses.len()];
        self.returning = returning::Returning::default();
        self.endpoint = endpoint::EndpointState::default();
        self.visit = visit;
        self.visit_id = id;
        self.amending = None;
        self.blank = None;
        self.dirty = true;
        self.draft_dirty = false;
        self.focus(Page::Patient, FieldId::Mrn, now);
        self.touch();
        self.refresh(now);
    }

    /// The message this visit would send now, or the errors that prevent it. Date
    /// shortcuts are fixed first, so the stored record says what the message says.
    pub fn message(
        &mut self,
        now: ClinicTime,
        settings: &BundleSettings,
    ) -> Result<fhir::Message, fhir::InvalidVisit> {
        self.leave_field(now);
        self.focus.input = Input::new(self.value(self.focus.page, self.focus.field).to_string());
        self.refresh(now);
        match self.amending.as_ref().filter(|a| a.was_sent()) {
            Some(a) => {
                fhir::message_sent_again(&self.visit, settings, now, self.visit_id, &a.correction)
            }
            None => fhir::message_for(&self.visit, settings, now, self.visit_id),
        }
    }

    pub fn mark_changed(&mut self) {
        self.dirty = true;
        self.draft_dirty = true;
        self.stale = true;
    }

    /// Something the checks read changed (the stored patient, the endpoint's doses,
    /// the clock): they run again at the end of the message.
    pub fn touch(&mut self) {
        self.stale = true;
    }

    /// Runs the checks again when something they read changed since they last ran.
    pub fn refresh(&mut self, now: ClinicTime) {
        self.today = now.date_naive();
        if self.stale {
            self.stale = false;
            self.revalidate(now);
        }
    }

    /// Every check of the visit: its own rules, the stored patient, the doses stored
    /// here and at the endpoint.
    fn revalidate(&mut self, now: ClinicTime) {
        let mut findings = validate(&self.visit, now, self.rules);
        let typed_mrn = self.visit.patient.get(FieldId::Mrn).trim();
        let stored = self
            .returning
            .stored_patient
            .as_ref()
            .filter(|p| p.get(FieldId::Mrn).trim() == typed_mrn);
        let conflict =
            stored.and_then(|known| check_known_patient(&self.visit.patient, known, now));
        let mut given_before = check_stored_doses(
            &self.visit,
            self.visit_id,
            &self.returning.stored_doses,
            now,
        );
        given_before.extend(self.endpoint_findings(&given_before, now));
        let would_not_count = self.check_due(now);
        let lots = crate::record::stock::check_lots(&self.visit, &self.session.on_hand(), now);
        if conflict.is_some()
            || !given_before.is_empty()
            || !lots.is_empty()
            || !would_not_count.is_empty()
        {
            findings.extend(conflict);
            findings.extend(would_not_count);
            findings.extend(given_before);
            findings.extend(lots);
            findings.sort_by_key(|f| (f.severity, f.at.dose.map_or(0, |d| d + 1), f.at.field));
        }
        self.checks.findings = findings;
    }

    /// The day dose `page` was given: its Administered date, or today.
    pub fn dose_day(&self, page: Page) -> chrono::NaiveDate {
        let raw = self.value(page, FieldId::Administered).trim();
        raw.get(..10)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or(self.today)
    }

    /// Tells the user `text` after this message.
    fn say(&mut self, text: impl Into<String>) {
        self.said = Some(text.into());
    }

    /// What the form has to tell the user, once.
    pub fn take_said(&mut self) -> Option<String> {
        self.said.take()
    }

    /// Doses the patient already has on the same day in another visit.
    pub fn given_before(&self) -> usize {
        self.count(|f| f.rule == Rule::AlreadyGiven)
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
        self.checks.findings.iter().filter(|f| which(f)).count()
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
        self.stale = true;
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
        self.checks.findings.iter().filter(move |f| f.at == at)
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

    /// The jump list, while it is open.
    pub fn jump(&self) -> Option<&jump::Jump> {
        match &self.overlay {
            Some(Overlay::Jump(jump)) => Some(jump),
            _ => None,
        }
    }

    /// The code picker, while it is open.
    pub fn picker(&self) -> Option<&picker::Picker> {
        match &self.overlay {
            Some(Overlay::Picker(picker)) => Some(picker),
            _ => None,
        }
    }

    pub fn focus(&mut self, page: Page, field: FieldId, now: ClinicTime) {
        self.leave_field(now);
        self.focus.page = page;
        self.focus.field = field;
        self.overlay = None;
        self.focus.input = Input::new(self.value(page, field).to_string());
        self.focus.entered_with = self.focus.input.value().to_string();
        self.focus.fresh = !self.focus.input.value().is_empty();
    }

    /// Leaving the focused field (or saving from it): a date typed as a shortcut
    /// becomes the date it means, and a dose's new status or source takes effect.
    fn leave_field(&mut self, now: ClinicTime) {
        let mut changed = self.visit.fix_dates(now);
        if let Page::Dose(i) = self.focus.page {
            let notice = match self.focus.field {
                FieldId::PrimarySource
                    if parse_yes_no(self.value(self.focus.page, self.focus.field)) == Ok(false) =>
                {
                    self.clear_carried(i)
                }
                FieldId::Status => self.clear_what_does_not_apply(i),
                FieldId::Ndc => self.fill_from_ndc(i, now),
                FieldId::Eligibility => self.eligibility_left(i),
                FieldId::PrimarySource
                    if parse_yes_no(self.value(self.focus.page, self.focus.field)) == Ok(true) =>
                {
                    self.fill_defaults_into(i);
                    None
                }
                FieldId::Lot => {
                    let before = self.focus.entered_with.clone();
                    self.lot_left(self.focus.page, &before)
                }
                _ => None,
            };
            if let Some(notice) = notice {
                self.say(notice);
                changed = true;
            }
        }
        // The birth date known: an adult's doses with a vaccine (a mass clinic's
        // template, one typed first) are not VFC eligible.
        if self.focus.page == Page::Patient && self.focus.field == FieldId::BirthDate {
            let with_vaccine: Vec<usize> = (0..self.visit.doses.len())
                .filter(|&i| !self.visit.doses[i].get(FieldId::Vaccine).trim().is_empty())
                .collect();
            let filled: Vec<String> = with_vaccine
                .into_iter()
                .filter_map(|i| self.fill_adult_eligibility(i, now))
                .collect();
            if let Some(said) = filled.into_iter().next() {
                self.say(said);
                changed = true;
            }
        }
        if changed {
            self.mark_changed();
        }
    }

    /// Alt+H: the dose in front switches between given here and historical (given
    /// elsewhere), as if "no" or "yes" were typed into Given here and left; says which.
    fn toggle_given_here(&mut self, now: ClinicTime) -> String {
        let Page::Dose(i) = self.focus.page else {
            return text::not_on_a_dose();
        };
        let page = self.focus.page;
        let given_here = parse_yes_no(self.value(page, FieldId::PrimarySource)) != Ok(false);
        let value = if given_here { "no" } else { "yes" };
        self.set_value(page, FieldId::PrimarySource, value.to_string());
        self.changed(FieldId::PrimarySource, now);
        let cleared = match given_here {
            true => self.clear_carried(i),
            false => {
                self.fill_defaults_into(i);
                None
            }
        };
        if self.focus.field == FieldId::PrimarySource {
            self.focus.input = Input::new(value.to_string());
        }
        let said = text::given_here_switched(i, !given_here, cleared.as_deref());
        // A dose given elsewhere was not given now: the time it was begun goes, and
        // its date is asked for.
        if given_here && !self.notes.get(i).is_some_and(|n| n.time_typed) {
            self.set_value(page, FieldId::Administered, String::new());
            if let Some(notes) = self.notes.get_mut(i) {
                notes.time_is_default = false;
            }
            self.focus(page, FieldId::Administered, now);
            self.refresh(now);
            return format!("{said}{}", text::DATE_GIVEN_ELSEWHERE);
        }
        said
    }

    /// Alt+N: the dose in front becomes not given, and the focus goes to its reason;
    /// again, it is given (completed) once more. What no longer applies is cleared,
    /// and it says so.
    fn toggle_not_done(&mut self, now: ClinicTime) -> String {
        let Page::Dose(i) = self.focus.page else {
            return text::not_on_a_dose();
        };
        let page = self.focus.page;
        let not_done = DoseContext::of(&self.visit.doses[i]).not_done;
        let status = if not_done { "completed" } else { "not-done" };
        self.set_value(page, FieldId::Status, status.to_string());
        self.changed(FieldId::Status, now);
        let cleared = self.clear_what_does_not_apply(i);
        if not_done {
            self.fill_defaults_into(i);
        } else if self.was_filled(i, FieldId::DoseNumber) {
            // A dose not given is no dose of the series: the number filled in goes.
            self.set_value(page, FieldId::DoseNumber, String::new());
        }
        let field = if not_done {
            FieldId::Lot
        } else {
            FieldId::StatusReason
        };
        self.focus(page, field, now);
        text::not_done_switched(i, !not_done, cleared.as_deref())
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
                self.focus.page = page;
                self.overlay = None;
            }
        }
    }

    fn step_page(&self, forward: bool) -> Page {
        let pages = self.pages();
        let here = pages
            .iter()
            .position(|p| *p == self.focus.page)
            .unwrap_or(0);
        let next = if forward {
            (here + 1) % pages.len()
        } else {
            (here + pages.len() - 1) % pages.len()
        };
        pages[next]
    }

    /// Enter: on a dose, on to the next field it still needs after this one (a
    /// required one first, then one registries expect; fields with defaults, such as
    /// status, time and given here, are passed over), else the next field.
    pub(super) fn go_on(&mut self, now: ClinicTime) {
        let page = self.focus.page;
        let Page::Dose(i) = page else {
            return self.move_field(true, now);
        };
        let fields = self.visible_fields(page);
        let after = fields
            .iter()
            .position(|f| *f == self.focus.field)
            .map_or(0, |at| at + 1);
        let ctx = self.visit.doses.get(i).map(DoseContext::of);
        let siteless = crate::record::validate::siteless(self.value(page, FieldId::Route));
        let empty_and = |need: Need| {
            fields[after.min(fields.len())..].iter().copied().find(|f| {
                self.value(page, *f).trim().is_empty()
                    && !(*f == FieldId::Site && siteless)
                    && ctx.is_some_and(|c| c.expectation(f.spec()) == Expectation::Expected(need))
            })
        };
        match empty_and(Need::Required).or_else(|| empty_and(Need::Recommended)) {
            Some(field) => self.focus(page, field, now),
            None => self.move_field(true, now),
        }
    }

    fn move_field(&mut self, forward: bool, now: ClinicTime) {
        if self.focus.page == Page::Review {
            let page = self.step_page(forward);
            self.focus_page(page, !forward, now);
            return;
        }
        let fields = self.visible_fields(self.focus.page);
        let here = fields.iter().position(|f| *f == self.focus.field);
        let next = match (here, forward) {
            (Some(i), true) => fields.get(i + 1),
            (Some(i), false) => i.checked_sub(1).and_then(|j| fields.get(j)),
            (None, _) => fields.first(),
        };
        match next {
            Some(f) => self.focus(self.focus.page, *f, now),
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
        if self.focus.page == Page::Review {
            return;
        }
        let before = self.focus.input.value().to_string();
        self.focus.fresh = false;
        if self.focus.input.handle(request).is_none() || self.focus.input.value() == before {
            return;
        }
        self.edited(before, now);
    }

    /// Puts typed or pasted text at the cursor, in one step however long, up to what
    /// the field holds (and says so when it is full).
    fn insert(&mut self, text: &str, now: ClinicTime) {
        if self.focus.page == Page::Review || text.is_empty() {
            return;
        }
        let before = self.focus.input.value().to_string();
        let coded = matches!(self.focus.field.spec().kind, Kind::Coded(_));
        // Typing over a value that was there (a default, a chosen code) replaces it;
        // moving in it first (←, End) keeps it for editing.
        if self.focus.fresh || coded && self.picker().is_none() {
            self.focus.input = Input::default();
        }
        self.focus.fresh = false;
        let value = self.focus.input.value().to_string();
        // A barcode scan typed into a dose field is read at its Enter: until then the
        // field holds all of it, however short the field's own values are.
        let scanning = matches!(self.focus.page, Page::Dose(_))
            && crate::record::gs1::could_be_scan(&format!("{value}{text}"));
        let most = match scanning {
            true => self.focus.field.max_len().max(crate::record::gs1::LONGEST),
            false => self.focus.field.max_len(),
        };
        let room = most.saturating_sub(value.chars().count());
        let added: String = text.chars().take(room).collect();
        if added.chars().count() < text.chars().count() {
            self.say(text::field_full(self.focus.field.spec().label, most));
        }
        if added.is_empty() {
            self.focus.input = Input::new(before);
            return;
        }
        let cursor = self.focus.input.cursor();
        let at = value
            .char_indices()
            .nth(cursor)
            .map_or(value.len(), |(i, _)| i);
        let new = format!("{}{added}{}", &value[..at], &value[at..]);
        self.focus.input = Input::new(new).with_cursor(cursor + added.chars().count());
        self.edited(before, now);
    }

    /// The focused field's text changed from `before`: a coded field's picker opens
    /// (or follows what is typed).
    fn edited(&mut self, before: String, now: ClinicTime) {
        let (page, field) = (self.focus.page, self.focus.field);
        self.set_value(page, field, self.focus.input.value().to_string());
        self.changed(field, now);
        self.typed_in_picker(before, now);
    }

    /// After a field of the focused page changed: keeps the dose's notes.
    fn changed(&mut self, field: FieldId, now: ClinicTime) {
        self.mark_changed();
        if let Page::Dose(i) = self.focus.page {
            self.noted(i, field, now);
        }
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
                notes.time_typed = true;
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
        self.stale = true;
        (!cleared.is_empty()).then(|| text::carried_cleared(&carry::labels(&cleared)))
    }

    /// The VFC eligibility of dose `i` was left: it is the patient's, so every dose of
    /// the visit without one typed gets it, and each dose's funding follows it by CDC's links
    /// (see `funding_follows_eligibility`).
    fn eligibility_left(&mut self, i: usize) -> Option<String> {
        let eligibility = self
            .visit
            .doses
            .get(i)?
            .get(FieldId::Eligibility)
            .to_string();
        if eligibility.trim().is_empty() {
            return None;
        }
        for j in 0..self.visit.doses.len() {
            let filled_in = self.was_filled(j, FieldId::Eligibility);
            if j != i
                && (filled_in
                    || self.visit.doses[j]
                        .get(FieldId::Eligibility)
                        .trim()
                        .is_empty())
            {
                self.visit.doses[j].set(FieldId::Eligibility, eligibility.clone());
            }
        }
        let said: Vec<String> = (0..self.visit.doses.len())
            .filter_map(|j| self.funding_follows_eligibility(j))
            .collect();
        said.into_iter().next()
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
        self.stale = true;
        (!cleared.is_empty()).then(|| text::not_applying_cleared(&carry::labels(&cleared)))
    }

    fn add_dose(&mut self, now: ClinicTime) -> String {
        let mut dose = new_dose(now);
        let template = match self.focus.page {
            Page::Dose(i) => self.visit.doses.get(i),
            _ => self.visit.doses.last(),
        };
        if let Some(previous) = template {
            for carry in [
                crate::record::Carry::ToNextDose,
                crate::record::Carry::ToNextVisit,
            ] {
                for (field, value) in carried_values(previous, carry) {
                    dose.set(field, value);
                }
            }
        }
        let carried: BTreeSet<FieldId> = FieldId::of(Section::Dose)
            .filter(|f| !dose.get(*f).is_empty() && f.spec().carry != crate::record::Carry::Never)
            .collect();
        self.visit.doses.push(dose);
        self.notes
            .resize_with(self.visit.doses.len() - 1, DoseNotes::default);
        self.notes.push(DoseNotes {
            carried,
            ..DoseNotes::default()
        });
        self.fill_defaults_into(self.visit.doses.len() - 1);
        let page = Page::Dose(self.visit.doses.len() - 1);
        self.focus(page, FieldId::Vaccine, now);
        self.mark_changed();
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
        self.refresh(now);
        Some(text::dose_removed(i))
    }

    /// Starts a new visit, keeping the session's carried values.
    pub fn new_visit(&mut self, now: ClinicTime) {
        self.session.remember(&self.visit);
        self.visit = Visit::new(now);
        self.visit_id = Uuid::new_v4();
        self.amending = None;
        self.returning = returning::Returning::default();
        self.endpoint = endpoint::EndpointState::default();
        let mut notes = DoseNotes {
            time_is_default: true,
            ..DoseNotes::default()
        };
        carry_into(
            &mut self.visit.doses[0],
            &mut notes,
            &self.session.sticky.dose_defaults,
            false,
        );
        self.notes = vec![notes];
        self.fill_station_defaults();
        self.fill_mass_template(now);
        self.blank = Some(self.visit.clone());
        self.dirty = false;
        self.draft_dirty = false;
        self.checks.review.home();
        self.focus(Page::Patient, FieldId::Mrn, now);
        self.touch();
        self.refresh(now);
    }

    pub fn jump_to_finding(&mut self, index: usize, now: ClinicTime) {
        let Some(at) = self.checks.findings.get(index).map(|f| f.at) else {
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
        self.keep_draft(now, false)
    }

    /// The draft of a visit put aside for later (Ctrl+N), if something was typed.
    pub fn aside_effect(&mut self, now: ClinicTime) -> Option<Effect> {
        self.draft_dirty = true;
        self.keep_draft(now, true)
    }

    fn keep_draft(&mut self, now: ClinicTime, aside: bool) -> Option<Effect> {
        if !(self.draft_dirty && self.dirty && self.has_content()) {
            return None;
        }
        self.draft_dirty = false;
        let mut visit = self.visit.clone();
        visit.fix_dates(now);
        Some(Effect::SaveDraft {
            id: self.visit_id,
            visit: Box::new(visit),
            aside,
        })
    }

    /// Something was typed beyond what a new visit starts with (the defaults, the
    /// station's fields, the time): a form only touched leaves no draft.
    pub fn has_content(&self) -> bool {
        let without_time = |visit: &Visit| {
            let mut visit = visit.clone();
            for dose in &mut visit.doses {
                dose.set(FieldId::Administered, "");
            }
            visit
        };
        match &self.blank {
            Some(blank) => without_time(&self.visit) != without_time(blank),
            None => true,
        }
    }

    /// The clock moved on: checks that depend on the time run again once a minute.
    pub fn ticked(&mut self, minute_changed: bool, now: ClinicTime) {
        if minute_changed {
            self.touch();
            self.refresh(now);
        }
    }
}

/// Saves the visit (and puts it in the outbox with `submit`), once it has no errors.
/// A dose the patient already has on that day in another visit is asked about first,
/// unless `confirmed`.
pub fn save(form: &mut Form, ctx: &Ctx, submit: bool, confirmed: bool) -> Reply {
    match form.message(ctx.now, ctx.settings) {
        Ok(_) if form.given_before() > 0 && !confirmed => {
            Reply::ask(Confirm::SaveGivenBefore { submit })
        }
        Ok(_)
            if !confirmed
                && form
                    .amending
                    .as_ref()
                    .is_some_and(|a| a.moves_patient(&form.visit)) =>
        {
            Reply::ask(Confirm::MoveDoses)
        }
        Ok(message) if form.amending.as_ref().is_some_and(Amending::was_sent) => {
            Reply::effect(Effect::Amend {
                id: form.visit_id,
                visit: Box::new(form.visit.clone()),
                message,
                sending: form.amending.as_ref().map_or(1, |a| a.correction.sending),
            })
        }
        Ok(message) => Reply::effect(Effect::Save {
            id: form.visit_id,
            visit: Box::new(form.visit.clone()),
            message,
            submit,
        }),
        Err(invalid) => {
            form.overlay = None;
            form.focus.page = Page::Review;
            form.checks.review.home();
            Reply::notice(text::not_saved_errors(invalid.0.len()))
        }
    }
}

/// Keys on the form.
pub fn update(form: &mut Form, ctx: &Ctx, action: Action) -> Reply {
    let now = ctx.now;
    let mut reply = handle(form, ctx, action);
    form.refresh(now);
    // What the action itself says comes first; else what happened on the way.
    let said = form.take_said();
    if reply.notice.is_none() {
        reply.notice = said;
    }
    reply.effects.extend(
        form.lookup_effect()
            .into_iter()
            .chain(form.suggest_effect()),
    );
    reply
}

fn handle(form: &mut Form, ctx: &Ctx, action: Action) -> Reply {
    let now = ctx.now;
    if let Some(absorbed) = form.absorbs(&action) {
        return absorbed;
    }
    // A barcode scanned into a dose field ends with Enter (or Tab): what it says goes
    // into the dose's fields, whatever field it was typed into.
    if matches!(action, Action::Enter | Action::NextField)
        && let Page::Dose(i) = form.focus.page
        && let Some(scanned) = crate::record::scan::read(form.focus.input.value())
    {
        return Reply::notice(form.apply_scan(i, scanned, now));
    }
    if matches!(form.overlay, Some(Overlay::Due)) {
        form.overlay = None;
        // Esc and Alt+D only close it; any other key goes on to the form.
        if matches!(action, Action::Escape | Action::ShowDue) {
            return Reply::none();
        }
    }
    if form.jump().is_some() {
        match action {
            Action::Edit(request) => form.jump_typed(request),
            Action::Paste(text) => {
                for c in one_line(&text).chars() {
                    form.jump_typed(InputRequest::InsertChar(c));
                }
            }
            Action::Down | Action::NextField => form.jump_step(true),
            Action::Up | Action::PrevField => form.jump_step(false),
            Action::Enter => form.jump_go(now),
            Action::Escape | Action::JumpToField => form.overlay = None,
            _ => {}
        }
        return Reply::none();
    }
    if form.picker().is_some() {
        match action {
            Action::Down => return form.picker_step(true),
            Action::Up => return form.picker_step(false),
            Action::Enter => {
                form.accept_choice(now, picker::Then::Needed);
                return Reply::none();
            }
            Action::NextField => {
                form.accept_choice(now, picker::Then::NextField);
                return Reply::none();
            }
            Action::Escape => {
                form.cancel_picker();
                return Reply::none();
            }
            _ => {}
        }
    }
    let sent = form.amending.as_ref().is_some_and(Amending::was_sent);
    match action {
        Action::Edit(request) => {
            let typed = matches!(request, InputRequest::InsertChar(_));
            form.edit(request, now);
            if typed {
                form.move_on_when_whole(now);
            }
        }
        Action::Paste(pasted) => {
            form.insert(&one_line(&pasted), now);
            form.move_on_when_whole(now);
        }
        Action::NextField => form.move_field(true, now),
        Action::PrevField => form.move_field(false, now),
        Action::NextPage | Action::PageDown => {
            let page = form.step_page(true);
            form.focus_page(page, false, now);
        }
        // PgUp on the patient stays there: the first section has none before it.
        Action::PrevPage | Action::PageUp if form.focus.page == Page::Patient => {}
        Action::PrevPage | Action::PageUp => {
            let page = form.step_page(false);
            form.focus_page(page, false, now);
        }
        Action::Down if form.focus.page == Page::Review => {
            form.checks.review.down(1, form.checks.findings.len())
        }
        Action::Up if form.focus.page == Page::Review => form.checks.review.up(1),
        Action::Down => form.move_field(true, now),
        Action::Up => form.move_field(false, now),
        Action::Enter if form.focus.page == Page::Review => {
            form.jump_to_finding(form.checks.review.selected, now)
        }
        Action::Enter => form.go_on(now),
        // A sent dose is taken back by voiding it, as it was sent; one is not added.
        Action::RemoveDose if sent => {
            return match form.focus.page {
                Page::Dose(_) if form.dirty => Reply::notice(text::void_after_correcting()),
                Page::Dose(dose) => Reply::ask(Confirm::VoidDose {
                    id: form.visit_id,
                    dose,
                }),
                _ => Reply::notice(text::go_to_dose_first()),
            };
        }
        Action::AddDose if sent => return Reply::notice(text::sent_doses_stay()),
        Action::AddDose => return Reply::notice(form.add_dose(now)),
        Action::RemoveDose => {
            return match form.focus.page {
                Page::Dose(_) if form.visit.doses.len() == 1 => {
                    Reply::notice(text::LAST_DOSE_STAYS)
                }
                Page::Dose(i) => Reply::ask(Confirm::RemoveDose(i)),
                _ => Reply::notice(text::go_to_dose_first()),
            };
        }
        Action::Preview => return Reply::go(Screen::Preview),
        Action::Save | Action::SaveAndSubmit => {
            return save(form, ctx, action == Action::SaveAndSubmit, false);
        }
        Action::CopyAsNew => return Reply::notice(text::copy_as_new_in_history()),
        Action::UseStoredPatient => return Reply::notice(form.use_stored_patient(now)),
        Action::NextSuggestion => {
            if let Some(said) = form.next_suggestion() {
                return Reply::notice(said);
            }
        }
        Action::MassClinic => return Reply::notice(form.toggle_mass_clinic(now)),
        Action::JumpToField => form.toggle_jump(),
        Action::ShowDue => {
            if let Some(why) = form.toggle_due() {
                return Reply::notice(why);
            }
        }
        Action::ToggleGivenHere => return Reply::notice(form.toggle_given_here(now)),
        Action::ToggleNotDone => return Reply::notice(form.toggle_not_done(now)),
        Action::Clicked(Target::Page(page)) => form.focus_page(page, false, now),
        Action::Clicked(Target::Field(field)) => form.focus(form.focus.page, field, now),
        Action::Clicked(Target::Finding(i)) => {
            form.checks.review.selected = i;
            form.jump_to_finding(i, now);
        }
        _ => {}
    }
    Reply::none()
}
