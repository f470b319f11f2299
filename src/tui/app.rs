//! The form's state and its state machine: `update(&mut App, Msg) -> Vec<Effect>`.
//! No I/O happens here; the event loop runs the effects.

use crate::codes::{Code, search, table};
use crate::record::values::{DoseContext, Expectation};
use crate::record::{
    FieldId, FieldRef, Finding, Kind, Rule, Section, Severity, Visit, new_dose, validate,
};
use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;
use tui_input::{Input, InputRequest};

/// A page of the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Patient,
    Dose(usize),
    Review,
}

/// What the keyboard is talking to right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Form,
    /// The code picker of the focused coded field is open.
    Picker {
        selected: usize,
    },
    Help {
        scroll: u16,
    },
    Confirm(Confirm),
}

/// A question the user must answer with y or n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    Quit,
    RemoveDose(usize),
    NewVisit,
}

/// Everything the user can ask for, already decoded from keys and mouse.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    NextField,
    PrevField,
    NextPage,
    PrevPage,
    Up,
    Down,
    Enter,
    Escape,
    Edit(InputRequest),
    Paste(String),
    Help,
    AddDose,
    RemoveDose,
    NewVisit,
    Quit,
    Answer(bool),
    Click { column: u16, row: u16 },
    Resize { width: u16, height: u16 },
    Tick(DateTime<FixedOffset>),
}

/// Work for the event loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Quit,
}

/// What a click landed on (decided by the view's layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Page(Page),
    Field(FieldId),
    Finding(usize),
}

/// Values remembered between visits in one session.
#[derive(Clone, Debug, Default)]
pub struct Sticky {
    /// performer, NPI, location, funding, eligibility of the last dose entered.
    pub dose_defaults: Vec<(FieldId, String)>,
    /// vaccine code -> (lot, manufacturer, expiration) last used with it.
    pub lots: HashMap<String, [String; 3]>,
}

/// Fields copied from the previous dose to a new one: the visit-level facts.
const CARRIED_FIELDS: [FieldId; 8] = [
    FieldId::Administered,
    FieldId::Performer,
    FieldId::PerformerNpi,
    FieldId::Orderer,
    FieldId::Location,
    FieldId::Funding,
    FieldId::Eligibility,
    FieldId::VisPresented,
];
const STICKY_FIELDS: [FieldId; 5] = [
    FieldId::Performer,
    FieldId::PerformerNpi,
    FieldId::Location,
    FieldId::Funding,
    FieldId::Eligibility,
];
const LOT_FIELDS: [FieldId; 3] = [FieldId::Lot, FieldId::Manufacturer, FieldId::Expiration];

pub struct App {
    pub visit: Visit,
    pub now: DateTime<FixedOffset>,
    pub source_name: String,
    pub page: Page,
    pub field: FieldId,
    pub input: Input,
    /// The focused field's value before the picker opened, for Esc.
    pub before_picker: String,
    pub findings: Vec<Finding>,
    pub mode: Mode,
    pub review_index: usize,
    pub dirty: bool,
    pub notice: Option<String>,
    pub sticky: Sticky,
    pub size: (u16, u16),
    pub color: bool,
}

impl App {
    pub fn new(
        now: DateTime<FixedOffset>,
        source_name: &str,
        size: (u16, u16),
        color: bool,
    ) -> App {
        let visit = Visit::new(now);
        let mut app = App {
            findings: Vec::new(),
            input: Input::new(visit.patient.get(FieldId::Mrn).to_string()),
            visit,
            now,
            source_name: source_name.to_string(),
            page: Page::Patient,
            field: FieldId::Mrn,
            before_picker: String::new(),
            mode: Mode::Form,
            review_index: 0,
            dirty: false,
            notice: None,
            sticky: Sticky::default(),
            size,
            color,
        };
        app.revalidate();
        app
    }

    pub fn revalidate(&mut self) {
        self.findings = validate(&self.visit, self.now);
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
        let at = App::field_ref(page, field);
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

    /// The picker's choices for the focused field, best first.
    pub fn picker_choices(&self) -> Vec<&'static Code> {
        match self.field.spec().kind {
            Kind::Coded(t) => search(table(t), self.input.value()),
            _ => Vec::new(),
        }
    }

    fn focus(&mut self, page: Page, field: FieldId) {
        self.page = page;
        self.field = field;
        self.mode = Mode::Form;
        self.input = Input::new(self.value(page, field).to_string());
    }

    fn focus_page(&mut self, page: Page, last: bool) {
        let fields = self.visible_fields(page);
        let field = if last { fields.last() } else { fields.first() };
        match field {
            Some(f) => self.focus(page, *f),
            None => {
                self.page = page;
                self.mode = Mode::Form;
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

    fn move_field(&mut self, forward: bool) {
        if self.page == Page::Review {
            let page = self.step_page(forward);
            self.focus_page(page, !forward);
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
            Some(f) => self.focus(self.page, *f),
            None => {
                let page = self.step_page(forward);
                self.focus_page(page, !forward);
            }
        }
    }

    fn edit(&mut self, request: InputRequest) {
        if self.page == Page::Review {
            return;
        }
        let before = self.input.value().to_string();
        let coded = matches!(self.field.spec().kind, Kind::Coded(_));
        // Typing over a chosen code starts a new search rather than appending to it.
        if coded && self.mode == Mode::Form && matches!(request, InputRequest::InsertChar(_)) {
            self.input = Input::default();
        }
        if self.input.handle(request).is_none() || self.input.value() == before {
            return;
        }
        if coded && self.mode == Mode::Form {
            self.before_picker = before;
        }
        self.set_value(self.page, self.field, self.input.value().to_string());
        self.dirty = true;
        self.mode = match self.field.spec().kind {
            Kind::Coded(_) if !self.input.value().is_empty() => Mode::Picker { selected: 0 },
            _ => Mode::Form,
        };
        self.revalidate();
    }

    /// Takes the highlighted picker choice (if any) and moves on.
    fn accept_choice(&mut self, selected: usize) {
        if let Some(code) = self.picker_choices().get(selected).map(|c| c.code.clone()) {
            self.set_value(self.page, self.field, code.clone());
            if self.field == FieldId::Vaccine {
                self.fill_remembered_lot(&code);
            }
        }
        self.mode = Mode::Form;
        self.revalidate();
        self.move_field(true);
    }

    /// When a vaccine is chosen for a dose with no lot, reuse the lot last used with
    /// that vaccine in this session.
    fn fill_remembered_lot(&mut self, vaccine: &str) {
        let Page::Dose(i) = self.page else { return };
        if !self.value(self.page, FieldId::Lot).is_empty() {
            return;
        }
        let from_this_visit = self.visit.doses.iter().enumerate().find_map(|(j, d)| {
            (j != i && d.get(FieldId::Vaccine) == vaccine && !d.get(FieldId::Lot).is_empty())
                .then(|| LOT_FIELDS.map(|f| d.get(f).to_string()))
        });
        let Some(remembered) = from_this_visit.or_else(|| self.sticky.lots.get(vaccine).cloned())
        else {
            return;
        };
        for (field, value) in LOT_FIELDS.iter().zip(remembered) {
            self.set_value(self.page, *field, value);
        }
        self.notice = Some(format!(
            "Lot {} filled in from the last dose of this vaccine; check it matches the vial",
            self.value(self.page, FieldId::Lot)
        ));
    }

    fn add_dose(&mut self) {
        let mut dose = new_dose(self.now);
        let template = match self.page {
            Page::Dose(i) => self.visit.doses.get(i),
            _ => self.visit.doses.last(),
        };
        if let Some(previous) = template {
            for f in CARRIED_FIELDS {
                dose.set(f, previous.get(f).to_string());
            }
        }
        self.visit.doses.push(dose);
        let page = Page::Dose(self.visit.doses.len() - 1);
        self.focus(page, FieldId::Vaccine);
        self.dirty = true;
        self.notice = Some(format!(
            "Dose {} added; date, performer, location and funding copied from the dose before",
            self.visit.doses.len()
        ));
        self.revalidate();
    }

    fn remove_dose(&mut self, i: usize) {
        if i < self.visit.doses.len() && self.visit.doses.len() > 1 {
            self.visit.doses.remove(i);
            self.dirty = true;
            self.notice = Some(format!("Dose {} removed", i + 1));
            self.focus_page(Page::Dose(i.min(self.visit.doses.len() - 1)), false);
            self.revalidate();
        }
    }

    /// Starts a new visit, keeping the session's sticky values.
    fn new_visit(&mut self) {
        if let Some(last) = self.visit.doses.last() {
            self.sticky.dose_defaults = STICKY_FIELDS
                .iter()
                .map(|f| (*f, last.get(*f).to_string()))
                .collect();
        }
        for dose in &self.visit.doses {
            let vaccine = dose.get(FieldId::Vaccine);
            if !vaccine.is_empty() && !dose.get(FieldId::Lot).is_empty() {
                self.sticky.lots.insert(
                    vaccine.to_string(),
                    LOT_FIELDS.map(|f| dose.get(f).to_string()),
                );
            }
        }
        self.visit = Visit::new(self.now);
        for (field, value) in &self.sticky.dose_defaults {
            self.visit.doses[0].set(*field, value.clone());
        }
        self.dirty = false;
        self.review_index = 0;
        self.notice = Some(
            "New visit started; performer, location and funding kept from the last one".into(),
        );
        self.focus(Page::Patient, FieldId::Mrn);
        self.revalidate();
    }

    fn jump_to_finding(&mut self, index: usize) {
        let Some(at) = self.findings.get(index).map(|f| f.at) else {
            return;
        };
        let page = match at.dose {
            Some(i) => Page::Dose(i),
            None => Page::Patient,
        };
        self.focus(page, at.field);
    }

    fn ask(&mut self, question: Confirm) {
        self.mode = Mode::Confirm(question);
    }
}

/// Applies one message to the state and says what the loop must do.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    if !matches!(msg, Msg::Tick(_) | Msg::Resize { .. }) {
        app.notice = None;
    }
    match (app.mode, msg) {
        (_, Msg::Resize { width, height }) => app.size = (width, height),
        (_, Msg::Tick(now)) => {
            let minute_changed =
                now.format("%H%M").to_string() != app.now.format("%H%M").to_string();
            app.now = now;
            if minute_changed {
                app.revalidate();
            }
        }
        (Mode::Confirm(question), Msg::Answer(yes)) => {
            app.mode = Mode::Form;
            if yes {
                match question {
                    Confirm::Quit => return vec![Effect::Quit],
                    Confirm::RemoveDose(i) => app.remove_dose(i),
                    Confirm::NewVisit => app.new_visit(),
                }
            }
        }
        (Mode::Confirm(_), _) => {}
        (Mode::Help { scroll }, Msg::Down) => {
            app.mode = Mode::Help {
                scroll: scroll.saturating_add(1),
            }
        }
        (Mode::Help { scroll }, Msg::Up) => {
            app.mode = Mode::Help {
                scroll: scroll.saturating_sub(1),
            }
        }
        (Mode::Help { .. }, Msg::Quit) => app.ask(Confirm::Quit),
        (Mode::Help { .. }, Msg::Escape | Msg::Help | Msg::Enter) => app.mode = Mode::Form,
        (Mode::Help { .. }, _) => {}
        (Mode::Picker { selected }, Msg::Down) => {
            let count = app.picker_choices().len();
            app.mode = Mode::Picker {
                selected: (selected + 1).min(count.saturating_sub(1)),
            };
        }
        (Mode::Picker { selected }, Msg::Up) => {
            app.mode = Mode::Picker {
                selected: selected.saturating_sub(1),
            }
        }
        (Mode::Picker { selected }, Msg::Enter | Msg::NextField) => app.accept_choice(selected),
        (Mode::Picker { .. }, Msg::Escape) => {
            let before = std::mem::take(&mut app.before_picker);
            app.set_value(app.page, app.field, before.clone());
            app.input = Input::new(before);
            app.mode = Mode::Form;
            app.revalidate();
        }
        (_, Msg::Quit) => {
            if app.dirty {
                app.ask(Confirm::Quit);
            } else {
                return vec![Effect::Quit];
            }
        }
        (_, Msg::Help) => app.mode = Mode::Help { scroll: 0 },
        (_, Msg::Edit(request)) => app.edit(request),
        (_, Msg::Paste(text)) => {
            // One-line fields: line breaks become spaces, other control characters go.
            let clean: String = text
                .chars()
                .map(|c| {
                    if c == '\n' || c == '\r' || c == '\t' {
                        ' '
                    } else {
                        c
                    }
                })
                .filter(|c| !c.is_control())
                .collect();
            for c in clean.trim_end().chars() {
                app.edit(InputRequest::InsertChar(c));
            }
        }
        (_, Msg::NextField) => app.move_field(true),
        (_, Msg::PrevField) => app.move_field(false),
        (_, Msg::NextPage) => {
            let page = app.step_page(true);
            app.focus_page(page, false);
        }
        (_, Msg::PrevPage) => {
            let page = app.step_page(false);
            app.focus_page(page, false);
        }
        (_, Msg::Down) if app.page == Page::Review => {
            app.review_index = (app.review_index + 1).min(app.findings.len().saturating_sub(1));
        }
        (_, Msg::Up) if app.page == Page::Review => {
            app.review_index = app.review_index.saturating_sub(1)
        }
        (_, Msg::Down) => app.move_field(true),
        (_, Msg::Up) => app.move_field(false),
        (_, Msg::Enter) if app.page == Page::Review => app.jump_to_finding(app.review_index),
        (_, Msg::Enter) => app.move_field(true),
        (_, Msg::Escape) => {}
        (_, Msg::AddDose) => app.add_dose(),
        (_, Msg::RemoveDose) => match app.page {
            Page::Dose(_) if app.visit.doses.len() == 1 => {
                app.notice =
                    Some("A visit needs at least one dose; change this one instead".into());
            }
            Page::Dose(i) => app.ask(Confirm::RemoveDose(i)),
            _ => app.notice = Some("Go to the dose you want to remove first (PgDn)".into()),
        },
        (_, Msg::NewVisit) => {
            if app.dirty {
                app.ask(Confirm::NewVisit);
            } else {
                app.new_visit();
            }
        }
        (_, Msg::Answer(_)) => {}
        (_, Msg::Click { column, row }) => match super::view::hit(app, column, row) {
            Some(Target::Page(page)) => app.focus_page(page, false),
            Some(Target::Field(field)) => app.focus(app.page, field),
            Some(Target::Finding(i)) => {
                app.review_index = i;
                app.jump_to_finding(i);
            }
            None => {}
        },
    }
    Vec::new()
}
