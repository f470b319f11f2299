//! Yes/no questions: what is asked, what each answer does, and the box that asks.

use crate::record::FieldId;
use crate::store::{ListQuery, Summary};
use crate::tui::app::{App, Effect, Mode, Msg};
use crate::tui::bindings::{self, Scope};
use crate::tui::screens::{form, history};
use crate::tui::text;
use crate::tui::theme::Theme;
use crate::tui::widgets::{centered, key_line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;
use uuid::Uuid;

/// A question the user must answer with y or n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    Quit,
    RemoveDose(usize),
    NewVisit,
    /// A draft from an earlier session was found at start.
    ResumeDraft,
    /// Discard the draft found at start, for good.
    DiscardDraft,
    DeleteDraft(Uuid),
    /// Send a submitted visit again, as a new message.
    Resubmit(Uuid),
    /// Void every dose of a sent visit.
    Void(Uuid),
    /// Void one dose of a sent visit, from its correction in the form.
    VoidDose {
        id: Uuid,
        dose: usize,
    },
    /// Save a visit with a dose the patient already has that day in another visit.
    SaveGivenBefore {
        submit: bool,
    },
}

/// Carries out the answer to `question`.
pub fn answer(app: &mut App, question: Confirm, msg: Msg) -> Vec<Effect> {
    let yes = match msg {
        Msg::Answer(yes) => yes,
        Msg::Dismiss => {
            app.mode = Mode::Normal;
            // A draft found at start is kept for later: it is in History.
            if question == Confirm::ResumeDraft && app.pending_draft.take().is_some() {
                app.notice = Some(text::DRAFT_KEPT_FOR_LATER.into());
            }
            return Vec::new();
        }
        _ => return Vec::new(),
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
            app.form.draft_dirty = true;
            effects.extend(app.form.draft_effect(now));
            app.new_visit();
            app.notice = Some(text::NEW_VISIT_DRAFT_KEPT.into());
        }
        (Confirm::ResumeDraft, true) => {
            if let Some((id, visit)) = app.pending_draft.take() {
                app.load_visit(id, visit);
                app.notice = Some(text::DRAFT_RESUMED.into());
            }
        }
        // Discarding loses what was typed: asked once more.
        (Confirm::ResumeDraft, false) => app.ask(Confirm::DiscardDraft),
        (Confirm::DiscardDraft, true) => {
            if let Some((id, _)) = app.pending_draft.take() {
                effects.push(Effect::DeleteDraft(id));
                app.notice = Some(text::DRAFT_DISCARDED.into());
            }
        }
        (Confirm::DiscardDraft, false) => app.ask(Confirm::ResumeDraft),
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
            effects.extend(form::save(app, submit, true));
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

/// The vaccine of dose `i` in the form, as typed.
fn dose_vaccine(app: &App, i: usize) -> &str {
    app.form
        .visit
        .doses
        .get(i)
        .map(|d| d.get(FieldId::Vaccine))
        .unwrap_or_default()
}

/// The question, in words.
fn question_text(app: &App, question: Confirm) -> String {
    match question {
        Confirm::Quit => text::ASK_QUIT.into(),
        Confirm::RemoveDose(i) => text::ask_remove_dose(i, dose_vaccine(app, i)),
        Confirm::ResumeDraft => {
            let name = app
                .pending_draft
                .as_ref()
                .map(|(_, v)| Summary::of(v, app.now).patient_name)
                .unwrap_or_default();
            text::ask_resume_draft(&name)
        }
        Confirm::DeleteDraft(_) => text::ASK_DELETE_DRAFT.into(),
        Confirm::DiscardDraft => text::ASK_DISCARD_DRAFT.into(),
        Confirm::Resubmit(_) => text::ASK_RESUBMIT.into(),
        Confirm::Void(_) => text::ASK_VOID.into(),
        Confirm::VoidDose { dose, .. } => text::ask_void_dose(dose, dose_vaccine(app, dose)),
        Confirm::NewVisit if app.form.amending.is_some() => text::ASK_DROP_CORRECTION.into(),
        Confirm::NewVisit => text::ASK_NEW_VISIT.into(),
        Confirm::SaveGivenBefore { .. } => text::ask_save_given_before(app.form.given_before()),
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect, question: Confirm, theme: Theme) {
    let question = question_text(app, question);
    // Tall enough for the question as it wraps, a blank line and the keys.
    let wrapped = question.width().div_ceil(56).max(1) as u16;
    let rect = centered(area, 60, wrapped + 5);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(" Please confirm ", theme.title()));
    let lines = vec![
        Line::from(question),
        Line::from(""),
        key_line(&bindings::hints(Scope::Confirm), rect.width, theme),
    ];
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        rect,
    );
}
