//! The app's state and its state machine: `update(&mut App, Msg) -> Vec<Effect>`.
//! No I/O happens here: the event loop runs the effects and feeds their results
//! back as messages. The form's own logic is here; the preview and history screens
//! have theirs in `preview` and `history`.

use super::history::{self, History};
use super::preview::{self, Preview};
use crate::clock::ClinicTime;
use crate::codes::{Code, search, table};
use crate::fhir::{self, BundleSettings};
use crate::record::values::{DoseContext, Expectation};
use crate::record::{
    Carry, FieldId, FieldRef, Fields, Finding, Kind, Rule, Section, Severity, Visit, new_dose,
    validate,
};
use crate::store::{ListQuery, StoredVisit, VisitRow};
use std::collections::HashMap;
use std::path::PathBuf;
use tui_input::{Input, InputRequest};
use uuid::Uuid;

/// The screen in front of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Form,
    Preview,
    History,
    Outbox,
}

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
    /// A draft from an earlier session was found at start.
    ResumeDraft,
    DeleteDraft(Uuid),
    /// Send a submitted visit again, as a new message.
    Resubmit(Uuid),
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
    Click {
        column: u16,
        row: u16,
    },
    Resize {
        width: u16,
        height: u16,
    },
    Tick(ClinicTime),
    /// Ctrl+P: show the exact bundle.
    Preview,
    /// Ctrl+S: save the visit and its bundle.
    Save,
    /// F4: the saved visits.
    History,
    /// `/` in the preview: search.
    Search,
    /// `n` in the preview: next match.
    NextMatch,
    /// Ctrl+R: a new visit for the same patient.
    CopyAsNew,
    Home,
    End,
    PageUp,
    PageDown,
    /// Delete on a history row.
    Delete,
    /// Ctrl+G: save, then send.
    SaveAndSubmit,
    /// F6: the outbox.
    Outbox,
    /// `r` in the outbox.
    Retry,
    /// `a` in the outbox.
    RetryAll,
    /// `s` in the outbox.
    Resubmit,
    // Results of effects, fed back by the event loop.
    Saved {
        result: Result<PathBuf, String>,
        submitted: bool,
    },
    DraftSaved(Result<(), String>),
    HistoryLoaded {
        text: String,
        rows: Vec<VisitRow>,
        append: bool,
    },
    Opened {
        visit: Box<StoredVisit>,
        purpose: Purpose,
    },
    StoreFailed(String),
    Synced(super::sync::Report),
    OutboxLoaded(Vec<crate::store::outbox::OutboxRow>),
    AnswerOpened(Box<Preview>),
    Resubmitted(Result<(), String>),
}

/// Why a stored visit is opened from the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Read-only preview (a draft is resumed in the form instead).
    View,
    /// A new visit for the same patient.
    CopyAsNew,
}

/// Work for the event loop.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Quit,
    SaveDraft {
        id: Uuid,
        visit: Box<Visit>,
    },
    /// Save the visit with exactly this message (and put it in the outbox).
    Save {
        id: Uuid,
        visit: Box<Visit>,
        message: fhir::Message,
        submit: bool,
    },
    DeleteDraft(Uuid),
    LoadHistory {
        query: ListQuery,
        append: bool,
    },
    Open {
        id: Uuid,
        purpose: Purpose,
    },
    /// Ask the sender to go now.
    SyncNow,
    LoadOutbox,
    RetryNow(Option<Uuid>),
    Resubmit(Uuid),
    OpenAnswer(Uuid),
}

/// What a click landed on (decided by the view's layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Page(Page),
    Field(FieldId),
    Finding(usize),
    /// A row of the history or the outbox.
    Row(usize),
}

/// Where sending stands, for the header.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncStatus {
    /// An endpoint is configured (and the sender runs).
    pub configured: bool,
    pub waiting: u32,
    pub failed: u32,
    /// When the last pass ended, and its problem if it had one.
    pub last: Option<(ClinicTime, Option<String>)>,
}

/// Values remembered between visits in one session.
#[derive(Clone, Debug, Default)]
pub struct Sticky {
    /// performer, NPI, location, funding, eligibility of the last dose entered.
    pub dose_defaults: Vec<(FieldId, String)>,
    /// vaccine code -> the product fields (lot, manufacturer, expiration) last used
    /// with it.
    pub lots: HashMap<String, Vec<(FieldId, String)>>,
}

/// The values of the fields that carry over in this way.
fn carried_values(from: &Fields, carry: Carry) -> Vec<(FieldId, String)> {
    FieldId::carried(carry)
        .map(|f| (f, from.get(f).to_string()))
        .collect()
}

pub struct App {
    pub visit: Visit,
    /// The visit's id in the store; its message ids derive from it.
    pub visit_id: Uuid,
    pub now: ClinicTime,
    pub settings: BundleSettings,
    pub screen: Screen,
    pub preview: Option<Preview>,
    pub history: History,
    /// Changed since the draft was last written.
    pub draft_dirty: bool,
    /// A draft found at start, waiting for the user's answer.
    pub pending_draft: Option<(Uuid, Visit)>,
    pub outbox: super::outbox::OutboxView,
    pub sync: SyncStatus,
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
    pub fn new(now: ClinicTime, settings: BundleSettings, size: (u16, u16), color: bool) -> App {
        let visit = Visit::new(now);
        let mut app = App {
            findings: Vec::new(),
            input: Input::new(visit.patient.get(FieldId::Mrn).to_string()),
            visit,
            visit_id: Uuid::new_v4(),
            now,
            settings,
            screen: Screen::Form,
            preview: None,
            history: History::default(),
            draft_dirty: false,
            pending_draft: None,
            outbox: Default::default(),
            sync: SyncStatus::default(),
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

    /// The clinic's name for the header.
    pub fn source_name(&self) -> &str {
        self.settings.source_name.as_deref().unwrap_or("vaxentry")
    }

    /// Offers a draft left by an earlier session.
    pub fn offer_draft(&mut self, id: Uuid, visit: Visit) {
        self.pending_draft = Some((id, visit));
        self.mode = Mode::Confirm(Confirm::ResumeDraft);
    }

    /// Puts a visit into the form for editing.
    pub fn load_visit(&mut self, id: Uuid, visit: Visit) {
        self.visit = visit;
        self.visit_id = id;
        self.dirty = true;
        self.draft_dirty = false;
        self.screen = Screen::Form;
        self.preview = None;
        self.focus(Page::Patient, FieldId::Mrn);
        self.revalidate();
    }

    /// The message this visit would send now, or the errors that prevent it. Date
    /// shortcuts are fixed first, so the stored record says what the message says.
    pub fn message(&mut self) -> Result<fhir::Message, fhir::InvalidVisit> {
        self.visit.fix_dates(self.now);
        self.input = Input::new(self.value(self.page, self.field).to_string());
        fhir::message_for(&self.visit, &self.settings, self.now, self.visit_id)
    }

    fn mark_changed(&mut self) {
        self.dirty = true;
        self.draft_dirty = true;
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
        // Leaving a field: a date typed as a shortcut becomes the date it means.
        if self.visit.fix_dates(self.now) {
            self.mark_changed();
            self.revalidate();
        }
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
        self.mark_changed();
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
                .then(|| carried_values(d, Carry::WithVaccine))
        });
        let Some(remembered) = from_this_visit.or_else(|| self.sticky.lots.get(vaccine).cloned())
        else {
            return;
        };
        for (field, value) in remembered {
            self.set_value(self.page, field, value);
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
            for carry in [Carry::ToNextDose, Carry::ToNextVisit] {
                for (field, value) in carried_values(previous, carry) {
                    dose.set(field, value);
                }
            }
        }
        self.visit.doses.push(dose);
        let page = Page::Dose(self.visit.doses.len() - 1);
        self.focus(page, FieldId::Vaccine);
        self.mark_changed();
        self.notice = Some(format!(
            "Dose {} added; date, performer, location and funding copied from the dose before",
            self.visit.doses.len()
        ));
        self.revalidate();
    }

    fn remove_dose(&mut self, i: usize) {
        if i < self.visit.doses.len() && self.visit.doses.len() > 1 {
            self.visit.doses.remove(i);
            self.mark_changed();
            self.notice = Some(format!("Dose {} removed", i + 1));
            self.focus_page(Page::Dose(i.min(self.visit.doses.len() - 1)), false);
            self.revalidate();
        }
    }

    /// Starts a new visit, keeping the session's sticky values.
    fn new_visit(&mut self) {
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
        self.visit = Visit::new(self.now);
        self.visit_id = Uuid::new_v4();
        for (field, value) in &self.sticky.dose_defaults {
            self.visit.doses[0].set(*field, value.clone());
        }
        self.dirty = false;
        self.draft_dirty = false;
        self.screen = Screen::Form;
        self.preview = None;
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
    if is_user_action(&msg) {
        app.notice = None;
    }
    match msg {
        Msg::Resize { width, height } => {
            app.size = (width, height);
            return Vec::new();
        }
        Msg::Tick(now) => return tick(app, now),
        Msg::Saved { result, submitted } => return saved(app, result, submitted),
        Msg::DraftSaved(result) => {
            if let Err(e) = result {
                app.draft_dirty = true;
                app.notice = Some(format!(
                    "The draft could not be kept ({e}); it is tried again in a second"
                ));
            }
            return Vec::new();
        }
        Msg::HistoryLoaded { text, rows, append } => {
            history::loaded(app, text, rows, append);
            return Vec::new();
        }
        Msg::Opened { visit, purpose } => return opened(app, *visit, purpose),
        Msg::StoreFailed(e) => {
            app.notice = Some(e);
            return Vec::new();
        }
        Msg::Synced(report) => return synced(app, report),
        Msg::OutboxLoaded(rows) => {
            super::outbox::loaded(app, rows);
            return Vec::new();
        }
        Msg::AnswerOpened(preview) => {
            app.preview = Some(*preview);
            app.screen = Screen::Preview;
            return Vec::new();
        }
        Msg::Resubmitted(result) => {
            app.notice = Some(match result {
                Ok(()) => "Queued again as a NEW message (new Bundle.id); the receiver will see it as a separate message".into(),
                Err(e) => format!("Not sent again: {e}"),
            });
            return vec![Effect::SyncNow, Effect::LoadOutbox];
        }
        _ => {}
    }
    match app.mode {
        Mode::Confirm(question) => return answer(app, question, msg),
        Mode::Help { scroll } => {
            match msg {
                Msg::Down | Msg::PageDown => {
                    app.mode = Mode::Help {
                        scroll: scroll.saturating_add(if msg == Msg::Down { 1 } else { 10 }),
                    }
                }
                Msg::Up | Msg::PageUp => {
                    app.mode = Mode::Help {
                        scroll: scroll.saturating_sub(if msg == Msg::Up { 1 } else { 10 }),
                    }
                }
                Msg::Quit => return quit(app),
                Msg::Escape | Msg::Help | Msg::Enter => app.mode = Mode::Form,
                _ => {}
            }
            return Vec::new();
        }
        _ => {}
    }
    // Keys that work on every screen.
    match msg {
        Msg::Quit => return quit(app),
        Msg::Help => {
            app.mode = Mode::Help { scroll: 0 };
            return Vec::new();
        }
        Msg::History if app.screen != Screen::History => return history::open(app),
        Msg::Outbox if app.screen != Screen::Outbox => return super::outbox::open(app),
        Msg::NewVisit => {
            if app.dirty {
                app.ask(Confirm::NewVisit);
                return Vec::new();
            }
            app.new_visit();
            return Vec::new();
        }
        _ => {}
    }
    match app.screen {
        Screen::Preview => preview::update(app, msg),
        Screen::History => history::update(app, msg),
        Screen::Outbox => super::outbox::update(app, msg),
        Screen::Form => form_update(app, msg),
    }
}

/// Messages that come from the user (and so clear the last notice).
fn is_user_action(msg: &Msg) -> bool {
    !matches!(
        msg,
        Msg::Tick(_)
            | Msg::Resize { .. }
            | Msg::Saved { .. }
            | Msg::DraftSaved(_)
            | Msg::HistoryLoaded { .. }
            | Msg::Opened { .. }
            | Msg::StoreFailed(_)
            | Msg::Synced(_)
            | Msg::OutboxLoaded(_)
            | Msg::AnswerOpened(_)
            | Msg::Resubmitted(_)
    )
}

/// Once a second: keep the clock current and write the draft if it changed.
fn tick(app: &mut App, now: ClinicTime) -> Vec<Effect> {
    let minute_changed = now.format("%H%M").to_string() != app.now.format("%H%M").to_string();
    app.now = now;
    if minute_changed {
        app.revalidate();
    }
    draft_effect(app).into_iter().collect()
}

/// The effect that writes the draft, if there is anything new to keep.
fn draft_effect(app: &mut App) -> Option<Effect> {
    if !(app.draft_dirty && app.dirty) {
        return None;
    }
    app.draft_dirty = false;
    let mut visit = app.visit.clone();
    visit.fix_dates(app.now);
    Some(Effect::SaveDraft {
        id: app.visit_id,
        visit: Box::new(visit),
    })
}

fn quit(app: &mut App) -> Vec<Effect> {
    if app.dirty {
        app.ask(Confirm::Quit);
        Vec::new()
    } else {
        vec![Effect::Quit]
    }
}

fn answer(app: &mut App, question: Confirm, msg: Msg) -> Vec<Effect> {
    let Msg::Answer(yes) = msg else {
        return Vec::new();
    };
    app.mode = Mode::Form;
    let mut effects = Vec::new();
    match (question, yes) {
        (Confirm::Quit, true) => {
            app.draft_dirty = true;
            effects.extend(draft_effect(app));
            effects.push(Effect::Quit);
        }
        (Confirm::RemoveDose(i), true) => app.remove_dose(i),
        (Confirm::NewVisit, true) => {
            app.draft_dirty = true;
            effects.extend(draft_effect(app));
            app.new_visit();
            app.notice =
                Some("New visit started; the last one stays in History (F4) as a draft".into());
        }
        (Confirm::ResumeDraft, true) => {
            if let Some((id, visit)) = app.pending_draft.take() {
                app.load_visit(id, visit);
                app.notice = Some("Draft resumed: carry on where you left off".into());
            }
        }
        (Confirm::ResumeDraft, false) => {
            if let Some((id, _)) = app.pending_draft.take() {
                effects.push(Effect::DeleteDraft(id));
                app.notice = Some("Draft discarded".into());
            }
        }
        (Confirm::Resubmit(id), true) => effects.push(Effect::Resubmit(id)),
        (Confirm::DeleteDraft(id), true) => {
            effects.push(Effect::DeleteDraft(id));
            effects.push(Effect::LoadHistory {
                query: ListQuery {
                    text: app.history.filter.value().to_string(),
                    limit: history::PAGE_ROWS,
                    ..ListQuery::default()
                },
                append: false,
            });
            app.notice = Some("Draft deleted".into());
        }
        (_, false) => {}
    }
    effects
}

fn saved(app: &mut App, result: Result<PathBuf, String>, submitted: bool) -> Vec<Effect> {
    match result {
        Ok(path) if submitted && app.sync.configured => {
            app.new_visit();
            app.sync.waiting += 1;
            app.notice = Some(format!(
                "Saved and queued to send. Bundle file: {}",
                path.display()
            ));
            vec![Effect::SyncNow]
        }
        Ok(path) if submitted => {
            app.new_visit();
            app.notice = Some(format!(
                "Saved and queued, but no endpoint is configured: add [endpoint] to config.toml (see README) to send it. Bundle file: {}",
                path.display()
            ));
            Vec::new()
        }
        Ok(path) => {
            app.new_visit();
            app.notice = Some(format!("Saved. Bundle file: {}", path.display()));
            Vec::new()
        }
        Err(e) => {
            app.notice = Some(format!("Not saved: {e}"));
            Vec::new()
        }
    }
}

fn synced(app: &mut App, report: super::sync::Report) -> Vec<Effect> {
    // Counts that could not be read keep their last known values rather than "0".
    if let Some((waiting, failed)) = report.counts {
        app.sync.waiting = waiting;
        app.sync.failed = failed;
    }
    let problem = match &report.result {
        Ok(r) => r.problem.clone().filter(|_| r.failed + r.deferred > 0),
        Err(e) => Some(e.clone()),
    };
    app.sync.last = Some((report.at, problem));
    if app.screen == Screen::Outbox {
        vec![Effect::LoadOutbox]
    } else {
        Vec::new()
    }
}

fn opened(app: &mut App, stored: StoredVisit, purpose: Purpose) -> Vec<Effect> {
    let visit = match stored.visit() {
        Ok(v) => v,
        Err(e) => {
            app.notice = Some(format!("{e:#}"));
            return Vec::new();
        }
    };
    let mut effects = Vec::new();
    match (purpose, stored.row.state) {
        (Purpose::View, crate::store::VisitState::Draft) => {
            effects.extend(draft_effect(app));
            app.load_visit(stored.row.id, visit);
            app.notice = Some("Draft opened in the form".into());
        }
        (Purpose::View, _) => {
            app.preview = Some(Preview::of_stored(&stored, &visit, app.now));
            app.screen = Screen::Preview;
        }
        (Purpose::CopyAsNew, _) => {
            effects.extend(draft_effect(app));
            app.new_visit();
            app.visit.patient = visit.patient;
            app.mark_changed();
            app.screen = Screen::Form;
            app.preview = None;
            app.focus_page(Page::Dose(0), false);
            app.revalidate();
            app.notice = Some("New visit for the same patient: add today's doses".into());
        }
    }
    effects
}

/// Keys on the form.
fn form_update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let submit = msg == Msg::SaveAndSubmit;
    match (app.mode, msg) {
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
        (_, Msg::Edit(request)) => app.edit(request),
        (_, Msg::Paste(text)) => {
            // One-line fields: line breaks become spaces, other control characters go.
            let clean: String = text
                .chars()
                .map(|c| {
                    if matches!(c, '\n' | '\r' | '\t') {
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
        (_, Msg::NextPage | Msg::PageDown) => {
            let page = app.step_page(true);
            app.focus_page(page, false);
        }
        (_, Msg::PrevPage | Msg::PageUp) => {
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
        (_, Msg::AddDose) => app.add_dose(),
        (_, Msg::RemoveDose) => match app.page {
            Page::Dose(_) if app.visit.doses.len() == 1 => {
                app.notice =
                    Some("A visit needs at least one dose; change this one instead".into());
            }
            Page::Dose(i) => app.ask(Confirm::RemoveDose(i)),
            _ => app.notice = Some("Go to the dose you want to remove first (PgDn)".into()),
        },
        (_, Msg::Preview) => {
            app.mode = Mode::Form;
            app.preview = Some(Preview::of_current(app));
            app.screen = Screen::Preview;
        }
        (_, Msg::Save | Msg::SaveAndSubmit) => match app.message() {
            Ok(message) => {
                return vec![Effect::Save {
                    id: app.visit_id,
                    visit: Box::new(app.visit.clone()),
                    message,
                    submit,
                }];
            }
            Err(invalid) => {
                app.mode = Mode::Form;
                app.page = Page::Review;
                app.review_index = 0;
                app.notice = Some(format!(
                    "Not saved: {} error(s) to fix first, listed here",
                    invalid.0.len()
                ));
            }
        },
        (_, Msg::CopyAsNew) => {
            app.notice = Some("Ctrl+R works in History (F4): pick a past visit to start a new one for that patient".into());
        }
        (_, Msg::Click { column, row }) => match super::view::hit(app, column, row) {
            Some(Target::Page(page)) => app.focus_page(page, false),
            Some(Target::Field(field)) => app.focus(app.page, field),
            Some(Target::Finding(i)) => {
                app.review_index = i;
                app.jump_to_finding(i);
            }
            Some(Target::Row(_)) | None => {}
        },
        _ => {}
    }
    Vec::new()
}
