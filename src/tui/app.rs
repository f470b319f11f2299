//! The app's state and its state machine: `update(&mut App, Msg) -> Vec<Effect>`.
//! No I/O happens here: the event loop runs the effects and feeds their results back
//! as messages. This file holds what the whole app shares and routes each message:
//! every screen keeps its own state, update and drawing under `screens/`.

use super::layout::Target;
use super::screens::form::{self, Form, Page};
use super::screens::history::{self, History};
use super::screens::outbox::{self, OutboxView};
use super::screens::overlays::confirm::{self, Confirm};
use super::screens::overlays::help;
use super::screens::preview::{self, Preview};
use super::text;
use crate::clock::ClinicTime;
use crate::fhir::{self, BundleSettings};
use crate::record::identity::StoredDose;
use crate::record::{Fields, Visit};
use crate::store::{ListQuery, StoredVisit, VisitRow, VisitState};
use std::path::PathBuf;
use tui_input::InputRequest;
use uuid::Uuid;

/// The screen in front of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Form,
    Preview,
    History,
    Outbox,
}

/// A box over the screen that takes the keys while it is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help { scroll: u16 },
    Confirm(Confirm),
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
    /// Esc on a question: not now, nothing is done.
    Dismiss,
    /// A click on something the last draw laid out.
    Clicked(Target),
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
    /// `x` in the outbox: void the chosen sent visit (asks first).
    Void,
    /// F7: fill the patient stored under the MRN typed.
    UseStoredPatient,
    /// `v` in a stored visit's view (Alt+V in the history): its versions.
    Versions,
    /// `e` in a stored visit's view (Alt+E in the history): correct it in the form.
    Amend,
    /// F8: begin a mass clinic from this dose, or end it.
    MassClinic,
    /// Ctrl+F: the list of fields to jump to, or close it.
    JumpToField,
    /// Alt+H: the dose switches between given here and historical.
    ToggleGivenHere,
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
    /// A preview an effect built (the endpoint's answers, a visit's versions).
    PreviewOpened(Box<Preview>),
    /// The lots on hand.
    LotsLoaded {
        lots: Vec<crate::store::lots::Lot>,
        habits: Vec<crate::store::habits::Habit>,
    },
    /// The stored patients matching what was typed.
    PatientSuggestions {
        typed: String,
        matches: Vec<crate::store::patients::PatientMatch>,
    },
    Resubmitted(Result<(), String>),
    /// A visit's doses were voided (which, in words), or why not.
    Voided(Result<String, String>),
    /// A correction of a sent visit was queued as this version, or why not.
    Amended(Result<u32, String>),
    /// A stored visit was put in the outbox, or why not.
    Queued {
        id: Uuid,
        result: Result<(), String>,
    },
    /// The patient stored under an MRN (none if there is none), its doses, and what
    /// the endpoint last said they are.
    PatientLooked {
        mrn: String,
        patient: Option<Box<Fields>>,
        doses: Vec<StoredDose>,
        endpoint: Option<crate::store::endpoint_history::EndpointHistory>,
    },
    /// The endpoint answered about a patient's immunizations.
    EndpointAnswered(super::sync::HistoryAnswer),
}

/// Why a stored visit is opened from the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Read-only preview (a draft is resumed in the form instead).
    View,
    /// A new visit for the same patient.
    CopyAsNew,
    /// Correcting it in the form.
    Amend,
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
    /// The endpoint's answers about a visit; `protocol` says what was sent, so the
    /// answer's entry numbers are read against it.
    OpenAnswer {
        id: Uuid,
        protocol: Option<crate::submit::endpoint::Protocol>,
    },
    /// Show every version of a stored visit.
    OpenVersions(Uuid),
    /// Read the lots on hand again (a save may have added one).
    LoadLots,
    /// Look up the stored patients matching an MRN or family name being typed.
    SuggestPatients(String),
    /// Queue a corrected record of a sent visit as its next message (Ctrl+S and
    /// Ctrl+G alike: a correction is meant to go).
    Amend {
        id: Uuid,
        visit: Box<Visit>,
        message: crate::fhir::Message,
        /// Which new message of the visit it is (the correction of what was sent).
        sending: u32,
    },
    /// Look up the patient stored under this MRN.
    LookupPatient(String),
    /// Ask the endpoint for the immunizations of the patient with this MRN (the
    /// event loop's own: the sender asks).
    AskEndpoint(String),
    /// Put a saved (or failed) visit in the outbox.
    Send(Uuid),
    /// Void one dose of a sent visit, or every dose (sent again as entered-in-error).
    Void {
        id: Uuid,
        dose: Option<usize>,
    },
}

/// Where sending stands, for the header.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncStatus {
    /// How the configured endpoint takes messages; `None` when none is configured
    /// (no sender runs).
    pub protocol: Option<crate::submit::endpoint::Protocol>,
    pub waiting: u32,
    pub failed: u32,
    /// When the last pass ended, and its problem if it had one.
    pub last: Option<(ClinicTime, Option<String>)>,
}

pub struct App {
    pub form: Form,
    pub now: ClinicTime,
    pub settings: BundleSettings,
    pub screen: Screen,
    pub mode: Mode,
    pub preview: Option<Preview>,
    pub history: History,
    pub outbox: OutboxView,
    pub sync: SyncStatus,
    /// A draft found at start, waiting for the user's answer.
    pub pending_draft: Option<(Uuid, Visit)>,
    pub notice: Option<String>,
    pub size: (u16, u16),
    pub color: bool,
}

impl App {
    pub fn new(now: ClinicTime, settings: BundleSettings, size: (u16, u16), color: bool) -> App {
        let mut form = Form::new(now);
        form.rules = settings.rules;
        form.revalidate(now);
        App {
            form,
            now,
            settings,
            screen: Screen::Form,
            mode: Mode::Normal,
            preview: None,
            history: History::default(),
            outbox: OutboxView::default(),
            sync: SyncStatus::default(),
            pending_draft: None,
            notice: None,
            size,
            color,
        }
    }

    /// The clinic's name for the header.
    pub fn source_name(&self) -> &str {
        self.settings.source_name.as_deref().unwrap_or("vaxentry")
    }

    /// Offers a draft left by an earlier session.
    pub fn offer_draft(&mut self, id: Uuid, visit: Visit) {
        self.pending_draft = Some((id, visit));
        self.ask(Confirm::ResumeDraft);
    }

    pub fn ask(&mut self, question: Confirm) {
        self.mode = Mode::Confirm(question);
    }

    /// Puts a visit into the form for editing.
    pub fn load_visit(&mut self, id: Uuid, visit: Visit) {
        self.form.load(id, visit, self.now);
        self.screen = Screen::Form;
        self.preview = None;
    }

    /// Starts a new visit in the form, keeping the session's carried values.
    pub fn new_visit(&mut self) {
        self.form.new_visit(self.now);
        self.screen = Screen::Form;
        self.preview = None;
        self.notice = Some(text::NEW_VISIT_STARTED.into());
    }

    /// The window is below the size the screens need.
    pub fn too_small(&self) -> bool {
        self.size.0 < super::view::MIN_WIDTH || self.size.1 < super::view::MIN_HEIGHT
    }

    /// Quits, asking first when something typed is not saved.
    pub fn quit(&mut self) -> Vec<Effect> {
        if self.form.dirty {
            self.ask(Confirm::Quit);
            Vec::new()
        } else {
            vec![Effect::Quit]
        }
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
                app.form.draft_dirty = true;
                app.notice = Some(text::draft_not_kept(&e));
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
            outbox::loaded(app, rows);
            return Vec::new();
        }
        Msg::PatientSuggestions { typed, matches } => {
            app.form.suggested(typed, matches);
            return Vec::new();
        }
        Msg::LotsLoaded { lots, habits } => {
            app.form.inventory = lots;
            app.form.habits = habits;
            return Vec::new();
        }
        Msg::PreviewOpened(preview) => {
            app.preview = Some(*preview);
            app.screen = Screen::Preview;
            return Vec::new();
        }
        Msg::PatientLooked {
            mrn,
            patient,
            doses,
            endpoint,
        } => {
            app.form
                .known(mrn.clone(), patient.map(|p| *p), doses, app.now);
            app.form.endpoint_kept(&mrn, endpoint, app.now);
            if let Some(notice) = app.form.notice.take() {
                app.notice = Some(notice);
            }
            // With an endpoint, it is asked too; its answer comes when it comes.
            return match app.sync.protocol {
                Some(_) if app.form.looked_up.as_deref() == Some(mrn.as_str()) => {
                    vec![Effect::AskEndpoint(mrn)]
                }
                _ => Vec::new(),
            };
        }
        Msg::EndpointAnswered(answer) => {
            app.form.endpoint_answered(answer, app.now);
            return Vec::new();
        }
        Msg::Queued { id, result } => return queued(app, id, result),
        Msg::Amended(result) => return amended(app, result),
        Msg::Voided(result) => {
            app.notice = Some(match result {
                Ok(what) => {
                    app.sync.waiting += 1;
                    text::voided(&what)
                }
                Err(e) => text::not_voided(&e),
            });
            return vec![Effect::SyncNow, Effect::LoadOutbox];
        }
        Msg::Resubmitted(result) => {
            app.notice = Some(match result {
                Ok(()) => text::RESUBMITTED.into(),
                Err(e) => text::not_resubmitted(&e),
            });
            return vec![Effect::SyncNow, Effect::LoadOutbox];
        }
        _ => {}
    }
    // A window too small to show the form: keys must not act on what cannot be
    // seen. The quit keys still quit, keeping the visit as a draft.
    if app.too_small() && is_user_action(&msg) {
        if msg != Msg::Quit {
            return Vec::new();
        }
        app.form.draft_dirty = true;
        let mut effects: Vec<Effect> = app.form.draft_effect(app.now).into_iter().collect();
        effects.push(Effect::Quit);
        return effects;
    }
    match app.mode {
        Mode::Confirm(question) => return confirm::answer(app, question, msg),
        Mode::Help { scroll } => return help::update(app, scroll, msg),
        Mode::Normal => {}
    }
    // Keys that work on every screen.
    match msg {
        Msg::Quit => return app.quit(),
        Msg::Help => {
            app.mode = Mode::Help { scroll: 0 };
            return Vec::new();
        }
        Msg::History if app.screen != Screen::History => return history::open(app),
        Msg::Outbox if app.screen != Screen::Outbox => return outbox::open(app),
        Msg::NewVisit => {
            if app.form.dirty {
                app.ask(Confirm::NewVisit);
            } else {
                app.new_visit();
            }
            return Vec::new();
        }
        _ => {}
    }
    match app.screen {
        Screen::Form => form::update(app, msg),
        Screen::Preview => preview::update(app, msg),
        Screen::History => history::update(app, msg),
        Screen::Outbox => outbox::update(app, msg),
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
            | Msg::PreviewOpened(_)
            | Msg::LotsLoaded { .. }
            | Msg::PatientSuggestions { .. }
            | Msg::Resubmitted(_)
            | Msg::Queued { .. }
            | Msg::Voided(_)
            | Msg::Amended(_)
            | Msg::PatientLooked { .. }
            | Msg::EndpointAnswered(_)
    )
}

/// Once a second: keep the clock current and write the draft if it changed.
fn tick(app: &mut App, now: ClinicTime) -> Vec<Effect> {
    let minute_changed = now.format("%H%M").to_string() != app.now.format("%H%M").to_string();
    app.now = now;
    if minute_changed {
        app.form.revalidate(now);
    }
    app.form.draft_effect(now).into_iter().collect()
}

fn saved(app: &mut App, result: Result<PathBuf, String>, submitted: bool) -> Vec<Effect> {
    let path = match result {
        Ok(path) => path,
        Err(e) => {
            app.notice = Some(text::not_saved(&e));
            return Vec::new();
        }
    };
    app.form.mass_visit_saved();
    app.new_visit();
    if !submitted {
        app.notice = Some(text::saved(&path));
        return vec![Effect::LoadLots];
    }
    let mut effects = one_more_waiting(
        app,
        text::saved_and_queued(&path),
        text::saved_no_endpoint(&path),
    );
    effects.push(Effect::LoadLots);
    effects
}

/// A correction of a sent visit was queued (or not): a new visit starts.
fn amended(app: &mut App, result: Result<u32, String>) -> Vec<Effect> {
    let version = match result {
        Ok(version) => version,
        Err(e) => {
            app.notice = Some(text::not_amended(&e));
            return Vec::new();
        }
    };
    app.new_visit();
    one_more_waiting(
        app,
        text::amended(version),
        text::amended_no_endpoint(version),
    )
}

/// Ctrl+G on a stored visit (its view, or History): a saved or failed visit goes in
/// the outbox; other states say where they stand.
pub fn send_stored(app: &mut App, id: Uuid, state: VisitState) -> Vec<Effect> {
    let notice = match state {
        VisitState::Saved | VisitState::Failed => return vec![Effect::Send(id)],
        VisitState::Queued => text::ALREADY_WAITING,
        VisitState::Submitted => text::ALREADY_SENT,
        VisitState::Draft => text::DRAFT_NOT_SENT,
    };
    app.notice = Some(notice.into());
    Vec::new()
}

fn queued(app: &mut App, id: Uuid, result: Result<(), String>) -> Vec<Effect> {
    if let Err(e) = result {
        app.notice = Some(text::not_queued(&e));
        return Vec::new();
    }
    // What is on screen now says "queued".
    if let Some(preview) = app.preview.as_mut()
        && let preview::Source::Stored { state, .. } = &mut preview.source
    {
        *state = VisitState::Queued;
    }
    if let Some(row) = app.history.rows.iter_mut().find(|r| r.id == id) {
        row.state = VisitState::Queued;
    }
    one_more_waiting(
        app,
        text::STORED_QUEUED.into(),
        text::STORED_QUEUED_NO_ENDPOINT.into(),
    )
}

/// A visit was put in the outbox: with an endpoint it is counted and sent now (the
/// notice `sending`); without one the notice says so (`no_endpoint`).
fn one_more_waiting(app: &mut App, sending: String, no_endpoint: String) -> Vec<Effect> {
    if app.sync.protocol.is_none() {
        app.notice = Some(no_endpoint);
        return Vec::new();
    }
    app.sync.waiting += 1;
    app.notice = Some(sending);
    vec![Effect::SyncNow]
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
    let now = app.now;
    let mut effects = Vec::new();
    // A correction being typed has no draft to keep it: it is saved or dropped first.
    let into_form = purpose != Purpose::View || stored.row.state == VisitState::Draft;
    if into_form && app.form.amending.is_some() && app.form.dirty {
        app.notice = Some(text::CORRECTION_OPEN.into());
        return effects;
    }
    match (purpose, stored.row.state) {
        (Purpose::View, VisitState::Draft) => {
            effects.extend(app.form.draft_effect(now));
            app.load_visit(stored.row.id, visit);
            app.notice = Some(text::DRAFT_OPENED.into());
        }
        (Purpose::View, _) => {
            app.preview = Some(Preview::of_stored(&stored, &visit, now));
            app.screen = Screen::Preview;
        }
        (Purpose::Amend, VisitState::Queued) => app.notice = Some(text::CORRECT_AFTER_SENT.into()),
        (Purpose::Amend, state) if state != VisitState::Draft => {
            effects.extend(app.form.draft_effect(now));
            app.load_visit(stored.row.id, visit);
            let amending = form::Amending {
                state,
                sending: stored.message_seq + 1,
            };
            app.form.amending = Some(amending);
            app.form.dirty = false;
            app.notice = Some(if amending.was_sent() {
                text::CORRECTING_SENT.into()
            } else {
                text::CORRECTING_SAVED.into()
            });
        }
        (Purpose::Amend, _) => {
            effects.extend(app.form.draft_effect(now));
            app.load_visit(stored.row.id, visit);
            app.notice = Some(text::DRAFT_OPENED.into());
        }
        (Purpose::CopyAsNew, _) => {
            effects.extend(app.form.draft_effect(now));
            app.new_visit();
            app.form.visit.patient = visit.patient;
            app.form.mark_changed();
            app.form.focus_page(Page::Dose(0), false, now);
            app.form.revalidate(now);
            app.notice = Some(text::NEW_VISIT_SAME_PATIENT.into());
        }
    }
    effects
}
