//! The history screen: the visits in the database, newest first, filtered as you
//! type, loaded a page at a time so it stays instant with any number of records.
//! Its drawing is in `view`.

pub mod view;

use crate::store::{ListQuery, VisitRow, VisitState};
use crate::tui::msg::{Action, Confirm, Effect, Purpose, Screen, Target};
use crate::tui::reply::{Ctx, Reply};
use crate::tui::text;
use crate::tui::widgets::{Cursor, PAGE_STEP, one_line};
use tui_input::Input;
use uuid::Uuid;

/// Rows asked for at a time.
pub const PAGE_ROWS: usize = 100;

#[derive(Clone, Debug, Default)]
pub struct History {
    pub filter: Input,
    pub rows: Vec<VisitRow>,
    pub cursor: Cursor,
    /// The last page came back short: there is nothing more to load.
    pub complete: bool,
}

impl History {
    pub fn selected_row(&self) -> Option<&VisitRow> {
        self.rows.get(self.cursor.selected)
    }

    pub fn query(&self, offset: usize) -> ListQuery {
        ListQuery {
            text: self.filter.value().to_string(),
            offset,
            limit: PAGE_ROWS,
            ..ListQuery::default()
        }
    }

    /// A page of rows arrived; stale pages (for an older filter) are dropped.
    pub fn loaded(&mut self, text: String, rows: Vec<VisitRow>, append: bool) {
        if text != self.filter.value() {
            return;
        }
        self.complete = rows.len() < PAGE_ROWS;
        if append {
            self.rows.extend(rows);
        } else {
            self.rows = rows;
            self.cursor.home();
        }
        self.cursor.clamp(self.rows.len());
    }

    /// A visit shown was put in the outbox.
    pub fn queued(&mut self, id: Uuid) {
        if let Some(row) = self.rows.iter_mut().find(|r| r.id == id) {
            row.state = VisitState::Queued;
        }
    }

    /// The chosen row's visit, opened for `purpose`.
    fn open_selected(&self, purpose: Purpose) -> Reply {
        match self.selected_row() {
            Some(row) => Reply::effect(Effect::Open {
                id: row.id,
                purpose,
            }),
            None => Reply::none(),
        }
    }

    /// The rows for the filter as it is now, from the first.
    fn reload(&self) -> Reply {
        Reply::effect(Effect::LoadHistory {
            query: self.query(0),
            append: false,
        })
    }
}

/// Opens the history afresh: no filter left from last time to type onto.
pub fn open(h: &mut History) -> Reply {
    h.cursor.home();
    h.filter = Input::default();
    Reply {
        go: Some(Screen::History),
        ..h.reload()
    }
}

/// Keys on the history screen.
pub fn update(h: &mut History, _ctx: &Ctx, action: Action) -> Reply {
    match action {
        Action::Edit(request) => {
            let before = h.filter.value().to_string();
            h.filter.handle(request);
            if h.filter.value() != before {
                return h.reload();
            }
        }
        Action::Paste(pasted) => {
            h.filter = Input::new(format!("{}{}", h.filter.value(), one_line(&pasted)));
            return h.reload();
        }
        Action::Up => h.cursor.up(1),
        Action::PageUp => h.cursor.up(PAGE_STEP),
        Action::Down | Action::PageDown => {
            let step = if action == Action::Down { 1 } else { PAGE_STEP };
            h.cursor.down(step, h.rows.len());
            // Near the end of what is loaded: ask for the next page.
            if !h.complete && h.cursor.selected + 2 * PAGE_STEP >= h.rows.len() {
                h.complete = true;
                return Reply::effect(Effect::LoadHistory {
                    query: h.query(h.rows.len()),
                    append: true,
                });
            }
        }
        Action::Clicked(Target::Row(i)) => h.cursor.selected = i,
        Action::Home => h.cursor.home(),
        Action::End => h.cursor.end(h.rows.len()),
        Action::Enter => return h.open_selected(Purpose::View),
        Action::CopyAsNew => return h.open_selected(Purpose::CopyAsNew),
        Action::Amend => return h.open_selected(Purpose::Amend),
        Action::Versions => {
            if let Some(row) = h.selected_row() {
                return Reply::effect(Effect::OpenVersions(row.id));
            }
        }
        Action::Card => {
            if let Some(row) = h.selected_row() {
                return Reply::effect(Effect::IssueCard {
                    visit: row.id,
                    whole: true,
                });
            }
        }
        Action::Delete => match h.selected_row() {
            Some(row) if row.state == VisitState::Draft => {
                return Reply::ask(Confirm::DeleteDraft(row.id));
            }
            Some(row) => return Reply::notice(text::only_drafts_deleted(row.state)),
            None => {}
        },
        Action::SaveAndSubmit => {
            if let Some(row) = h.selected_row() {
                return Reply::send_stored(row.id, row.state);
            }
        }
        Action::Escape | Action::History => return Reply::go(Screen::Form),
        _ => {}
    }
    Reply::none()
}
