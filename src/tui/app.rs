//! The app's state and its state machine: `update(&mut App, Msg) -> Vec<Effect>`.
//! No I/O happens here: the event loop runs the effects and feeds their results back
//! as messages. Each screen keeps its own state and update under `screens/` and
//! answers with a [`Reply`]; what involves several screens (answering a question,
//! opening a stored visit, what a save or a send means for the header) is here.

use super::msg::{Action, Confirm, Done, Effect, Mode, Msg, Purpose, Screen, SyncStatus};
use super::reply::{Ctx, Reply};
use super::screens::card::{self, CardView};
use super::screens::form::{self, Amending, Form};
use super::screens::history::{self, History};
use super::screens::outbox::{self, OutboxView};
use super::screens::overlays::help;
use super::screens::preview::{self, Preview};
use super::text;
use crate::clock::ClinicTime;
use crate::fhir::BundleSettings;
use crate::record::{FieldId, Visit};
use crate::store::{ListQuery, StoredVisit, Summary, VisitState};
use std::path::PathBuf;
use uuid::Uuid;

pub struct App {
    pub form: Form,
    pub now: ClinicTime,
    pub settings: BundleSettings,
    pub screen: Screen,
    pub mode: Mode,
    pub preview: Option<Preview>,
    pub history: History,
    pub outbox: OutboxView,
    /// The SMART Health Card on screen.
    pub card: Option<CardView>,
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
        form.lists = crate::tui::screens::form::picker::Lists::of(&settings.directory);
        form.touch();
        form.refresh(now);
        App {
            form,
            now,
            settings,
            screen: Screen::Form,
            mode: Mode::Normal,
            preview: None,
            history: History::default(),
            outbox: OutboxView::default(),
            card: None,
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
        self.size.0 < super::layout::MIN_WIDTH || self.size.1 < super::layout::MIN_HEIGHT
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

    /// Carries out a screen's reply: its notice, its question, where it goes; gives
    /// back its work for the event loop.
    fn apply(&mut self, reply: Reply) -> Vec<Effect> {
        if reply.notice.is_some() {
            self.notice = reply.notice;
        }
        if let Some(question) = reply.ask {
            self.ask(question);
        }
        if let Some(screen) = reply.go {
            self.go(screen);
        }
        reply.effects
    }

    /// Shows `screen`. The preview asked for from the form shows the visit in it; a
    /// preview left is closed.
    fn go(&mut self, screen: Screen) {
        match (self.screen, screen) {
            (Screen::Form, Screen::Preview) => {
                self.preview = Some(Preview::of_current(
                    &mut self.form,
                    self.now,
                    &self.settings,
                ));
            }
            // The card asked from a visit's view goes back to it.
            (Screen::Preview, to) if to != Screen::Preview && to != Screen::Card => {
                self.preview = None
            }
            (Screen::Card, to) if to != Screen::Card => {
                self.card = None;
                if to != Screen::Preview {
                    self.preview = None;
                }
            }
            _ => {}
        }
        self.screen = screen;
    }
}

/// Applies one message to the state and says what the loop must do.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Resize { width, height } => {
            app.size = (width, height);
            Vec::new()
        }
        Msg::Tick(now) => tick(app, now),
        Msg::Done(done) => finished(app, done),
        Msg::User(action) => {
            // Anything the user does clears the last notice.
            app.notice = None;
            user(app, action)
        }
    }
}

/// What the user asked for.
fn user(app: &mut App, action: Action) -> Vec<Effect> {
    // A window too small to show the form: keys must not act on what cannot be
    // seen. The quit keys still quit, keeping the visit as a draft.
    if app.too_small() {
        if action != Action::Quit {
            return Vec::new();
        }
        app.form.draft_dirty = true;
        let mut effects: Vec<Effect> = app.form.draft_effect(app.now).into_iter().collect();
        effects.push(Effect::Quit);
        return effects;
    }
    match app.mode {
        Mode::Confirm(question) => return answer(app, question, action),
        Mode::Help { scroll } => {
            if action == Action::Quit {
                return app.quit();
            }
            let area = ratatui::layout::Rect::new(0, 0, app.size.0, app.size.1);
            app.mode = match help::update(scroll, help::max_scroll(area), &action) {
                Some(scroll) => Mode::Help { scroll },
                None => Mode::Normal,
            };
            return Vec::new();
        }
        Mode::Normal => {}
    }
    // Keys that work on every screen.
    match action {
        Action::Quit => return app.quit(),
        Action::Help => {
            app.mode = Mode::Help { scroll: 0 };
            return Vec::new();
        }
        Action::History if app.screen != Screen::History => {
            let reply = history::open(&mut app.history);
            return app.apply(reply);
        }
        Action::Outbox if app.screen != Screen::Outbox => {
            return app.apply(outbox::open());
        }
        Action::NewVisit => {
            if app.form.dirty {
                app.ask(Confirm::NewVisit);
            } else {
                app.new_visit();
            }
            return Vec::new();
        }
        _ => {}
    }
    let ctx = Ctx {
        now: app.now,
        settings: &app.settings,
        sync: &app.sync,
    };
    let reply = match app.screen {
        Screen::Form => form::update(&mut app.form, &ctx, action),
        Screen::Preview => match app.preview.as_mut() {
            // Ctrl+S on the preview of the visit in the form saves exactly what is shown.
            Some(shown) if matches!(action, Action::Save | Action::SaveAndSubmit) => {
                match (&shown.source, &shown.message) {
                    (preview::Source::Current, Some(message)) => Reply::effect(Effect::Save {
                        id: app.form.visit_id,
                        visit: Box::new(app.form.visit.clone()),
                        message: message.clone(),
                        submit: action == Action::SaveAndSubmit,
                    }),
                    _ => preview::update(shown, &ctx, action),
                }
            }
            Some(shown) => preview::update(shown, &ctx, action),
            None => Reply::go(Screen::Form),
        },
        Screen::History => history::update(&mut app.history, &ctx, action),
        Screen::Outbox => outbox::update(&mut app.outbox, &ctx, action),
        Screen::Card => match app.card.as_ref() {
            Some(view) => card::update(view, action),
            None => Reply::go(Screen::Form),
        },
    };
    app.apply(reply)
}

/// Once a second: keep the clock current and write the draft if it changed.
fn tick(app: &mut App, now: ClinicTime) -> Vec<Effect> {
    let minute_changed = now.format("%H%M").to_string() != app.now.format("%H%M").to_string();
    app.now = now;
    app.form.ticked(minute_changed, now);
    app.form.draft_effect(now).into_iter().collect()
}

/// Finished work, reported by the event loop.
fn finished(app: &mut App, done: Done) -> Vec<Effect> {
    let now = app.now;
    match done {
        Done::Saved { result, submitted } => saved(app, result, submitted),
        Done::CardIssued {
            visit,
            whole,
            result,
        } => {
            match result {
                Ok(card) => {
                    let back = match (&app.card, app.screen) {
                        (Some(shown), _) => shown.back,
                        (None, screen) => screen,
                    };
                    app.card = Some(CardView {
                        card: *card,
                        visit,
                        whole,
                        back,
                    });
                    app.screen = Screen::Card;
                }
                Err(e) => app.notice = Some(e),
            }
            Vec::new()
        }
        Done::CardSaved(result) => {
            app.notice = Some(match result {
                Ok(paths) => text::card_saved(&paths),
                Err(e) => e,
            });
            Vec::new()
        }
        Done::DraftSaved(result) => {
            if let Err(e) = result {
                app.form.draft_dirty = true;
                app.notice = Some(text::draft_not_kept(&e));
            }
            Vec::new()
        }
        Done::HistoryLoaded { text, rows, append } => {
            app.history.loaded(text, rows, append);
            Vec::new()
        }
        Done::Opened { visit, purpose } => opened(app, *visit, purpose),
        Done::StoreFailed(e) => {
            app.notice = Some(e);
            Vec::new()
        }
        Done::Synced(report) => synced(app, report),
        Done::OutboxLoaded(rows) => {
            app.outbox.loaded(rows);
            Vec::new()
        }
        Done::AnswerLoaded(read) => {
            app.preview = Some(Preview::of_answer(
                &read.row,
                &read.attempts,
                read.body.as_deref(),
                read.sent.as_deref(),
                now.timezone(),
            ));
            app.screen = Screen::Preview;
            Vec::new()
        }
        Done::VersionsLoaded { id, versions } => {
            let from_view = app.screen == Screen::Preview
                && app
                    .preview
                    .as_ref()
                    .is_some_and(|p| matches!(p.source, preview::Source::Stored { .. }));
            app.preview = Some(Preview::of_versions(
                id,
                &versions,
                now.timezone(),
                from_view,
            ));
            app.screen = Screen::Preview;
            Vec::new()
        }
        Done::PatientSuggestions { typed, matches } => {
            app.form.suggested(typed, matches);
            Vec::new()
        }
        Done::LotsLoaded { lots, habits } => {
            app.form.stock(lots, habits);
            Vec::new()
        }
        Done::PatientLooked {
            mrn,
            patient,
            doses,
            endpoint,
        } => {
            let notice = app.form.known(mrn.clone(), patient.map(|p| *p), doses, now);
            app.form.endpoint_kept(&mrn, endpoint, now);
            if notice.is_some() {
                app.notice = notice;
            }
            // With an endpoint, it is asked too; its answer comes when it comes.
            match app.sync.protocol {
                Some(_) if app.form.returning.looked_up.as_deref() == Some(mrn.as_str()) => {
                    vec![Effect::AskEndpoint(mrn)]
                }
                _ => Vec::new(),
            }
        }
        Done::EndpointAnswered(answer) => {
            app.form.endpoint_answered(answer, now);
            Vec::new()
        }
        Done::Queued { id, result } => queued(app, id, result),
        Done::Amended(result) => amended(app, result),
        Done::Voided(result) => {
            app.notice = Some(match result {
                Ok(what) => {
                    app.sync.waiting += 1;
                    text::voided(&what)
                }
                Err(e) => text::not_voided(&e),
            });
            vec![Effect::SyncNow, Effect::LoadOutbox]
        }
        Done::Resubmitted(result) => {
            app.notice = Some(match result {
                Ok(()) => text::RESUBMITTED.into(),
                Err(e) => text::not_resubmitted(&e),
            });
            vec![Effect::SyncNow, Effect::LoadOutbox]
        }
    }
}

/// Carries out the answer to `question`.
fn answer(app: &mut App, question: Confirm, action: Action) -> Vec<Effect> {
    let yes = match action {
        Action::Answer(yes) => yes,
        Action::Dismiss => {
            app.mode = Mode::Normal;
            // A draft found at start is kept for later: it is in History.
            if question == Confirm::ResumeDraft && app.pending_draft.take().is_some() {
                app.notice = Some(text::draft_kept_for_later());
            }
            return Vec::new();
        }
        // Anything else is no answer: refused, with how to answer, and never taken
        // for one (an MRN typed while the question was up changes nothing).
        _ => {
            app.notice = Some(text::answer_the_question());
            return Vec::new();
        }
    };
    app.mode = Mode::Normal;
    let now = app.now;
    let mut effects = Vec::new();
    match (question, yes) {
        (Confirm::Quit, true) => {
            app.form.draft_dirty = true;
            effects.extend(app.form.draft_effect(now));
            effects.push(Effect::Quit);
        }
        (Confirm::RemoveDose(i), true) => {
            if let Some(notice) = app.form.remove_dose(i, now) {
                app.notice = Some(notice);
            }
        }
        // A correction has no draft: dropping it leaves the stored visit as it was.
        (Confirm::NewVisit, true) if app.form.amending.is_some() => {
            app.new_visit();
            app.notice = Some(text::CORRECTION_DROPPED.into());
        }
        (Confirm::NewVisit, true) => {
            let kept = app.form.aside_effect(now);
            let notice = match kept {
                Some(_) => text::new_visit_draft_kept(),
                None => text::NEW_VISIT_STARTED.into(),
            };
            effects.extend(kept);
            app.new_visit();
            app.notice = Some(notice);
        }
        (Confirm::ResumeDraft, true) => {
            if let Some((id, visit)) = app.pending_draft.take() {
                app.load_visit(id, visit);
                app.notice = Some(text::DRAFT_RESUMED.into());
            }
        }
        // Not now: the draft stays, in History (discarding it is done there, with
        // Delete, and asked once more).
        (Confirm::ResumeDraft, false) => {
            app.pending_draft = None;
            app.notice = Some(text::draft_kept_for_later());
        }
        (Confirm::Resubmit(id), true) => effects.push(Effect::Resubmit(id)),
        (Confirm::Void(id), true) => effects.push(Effect::Void { id, dose: None }),
        (Confirm::VoidDose { id, dose }, true) => {
            effects.push(Effect::Void {
                id,
                dose: Some(dose),
            });
            // The correction in the form is over: the dose goes as it was sent.
            app.new_visit();
        }
        (Confirm::SaveGivenBefore { submit }, true) => {
            let ctx = Ctx {
                now: app.now,
                settings: &app.settings,
                sync: &app.sync,
            };
            let reply = form::save(&mut app.form, &ctx, submit, true);
            effects.extend(app.apply(reply));
        }
        (Confirm::MoveDoses, true) => {
            let ctx = Ctx {
                now: app.now,
                settings: &app.settings,
                sync: &app.sync,
            };
            let reply = form::save(&mut app.form, &ctx, true, true);
            effects.extend(app.apply(reply));
        }
        (Confirm::DeleteDraft(id), true) => {
            effects.push(Effect::DeleteDraft(id));
            effects.push(Effect::LoadHistory {
                query: ListQuery {
                    limit: history::PAGE_ROWS,
                    ..app.history.query(0)
                },
                append: false,
            });
            app.notice = Some(text::DRAFT_DELETED.into());
        }
        (_, false) => {}
    }
    effects
}

/// The question being asked, in words.
pub fn question_text(app: &App, question: Confirm) -> String {
    let dose_vaccine = |i: usize| {
        app.form
            .visit
            .doses
            .get(i)
            .map(|d| d.get(FieldId::Vaccine))
            .unwrap_or_default()
    };
    match question {
        Confirm::Quit => text::ASK_QUIT.into(),
        Confirm::RemoveDose(i) => text::ask_remove_dose(i, dose_vaccine(i)),
        Confirm::ResumeDraft => {
            let name = app
                .pending_draft
                .as_ref()
                .map(|(_, v)| Summary::of(v, app.now).patient_name)
                .unwrap_or_default();
            text::ask_resume_draft(&name)
        }
        Confirm::DeleteDraft(_) => text::ASK_DELETE_DRAFT.into(),
        Confirm::Resubmit(_) => text::ASK_RESUBMIT.into(),
        Confirm::Void(_) => text::ASK_VOID.into(),
        Confirm::VoidDose { dose, .. } => text::ask_void_dose(dose, dose_vaccine(dose)),
        Confirm::NewVisit if app.form.amending.is_some() => text::ASK_DROP_CORRECTION.into(),
        Confirm::NewVisit => text::ask_new_visit(),
        Confirm::SaveGivenBefore { .. } => text::ask_save_given_before(app.form.given_before()),
        Confirm::MoveDoses => text::ask_move_doses(
            app.form
                .amending
                .as_ref()
                .and_then(|a| a.correction.before.as_ref())
                .map_or("", |before| {
                    before.patient.get(crate::record::FieldId::Mrn).trim()
                }),
            app.form
                .visit
                .patient
                .get(crate::record::FieldId::Mrn)
                .trim(),
        ),
    }
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
fn amended(app: &mut App, result: Result<crate::corrections::Amended, String>) -> Vec<Effect> {
    let (sending, no_endpoint, waiting) = match result {
        Ok(crate::corrections::Amended::Version(version)) => (
            text::amended(version),
            text::amended_no_endpoint(version),
            1,
        ),
        Ok(crate::corrections::Amended::Moved { .. }) => {
            (text::MOVED.into(), text::MOVED_NO_ENDPOINT.into(), 2)
        }
        Err(e) => {
            app.notice = Some(text::not_amended(&e));
            return Vec::new();
        }
    };
    app.new_visit();
    app.sync.waiting += waiting - 1;
    one_more_waiting(app, sending, no_endpoint)
}

fn queued(app: &mut App, id: Uuid, result: Result<(), String>) -> Vec<Effect> {
    if let Err(e) = result {
        app.notice = Some(text::not_queued(&e));
        return Vec::new();
    }
    // What is on screen now says "queued".
    if let Some(preview) = app.preview.as_mut() {
        preview.queued(id);
    }
    app.history.queued(id);
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
    // A pass with nothing to send says nothing: "sent" is only what was sent.
    let (tried, problem) = match &report.result {
        Ok(r) => (
            r.sent + r.failed + r.deferred > 0,
            r.problem.clone().filter(|_| r.failed + r.deferred > 0),
        ),
        Err(e) => (true, Some(e.clone())),
    };
    if tried {
        app.sync.last = Some((report.at, problem));
    }
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
        app.notice = Some(text::correction_open());
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
        (Purpose::Amend, VisitState::Received) => {
            app.notice = Some(text::RECEIVED_NOT_CORRECTED.into())
        }
        (Purpose::Amend, state) if state != VisitState::Draft => {
            effects.extend(app.form.draft_effect(now));
            app.load_visit(stored.row.id, visit);
            let correction = match crate::corrections::correction_of(&stored, true) {
                Ok(correction) => correction,
                Err(e) => {
                    app.notice = Some(format!("{e:#}"));
                    return effects;
                }
            };
            let amending = Amending { state, correction };
            let was_sent = amending.was_sent();
            app.form.amending = Some(amending);
            app.form.dirty = false;
            app.notice = Some(if was_sent {
                text::correcting_sent()
            } else {
                text::correcting_saved()
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
            app.form
                .focus_page(crate::tui::msg::Page::Dose(0), false, now);
            app.form.refresh(now);
            app.notice = Some(text::NEW_VISIT_SAME_PATIENT.into());
        }
    }
    effects
}
