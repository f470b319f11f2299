//! The history screen: the visits in the database, newest first, filtered as you
//! type, loaded a page at a time so it stays instant with any number of records.
//! Its drawing is in `view`.

pub mod view;

use crate::store::{ListQuery, VisitRow, VisitState};
use crate::tui::app::{self, App, Effect, Msg, Purpose, Screen};
use crate::tui::layout::Target;
use crate::tui::screens::overlays::confirm::Confirm;
use crate::tui::text;
use crate::tui::widgets::{Cursor, PAGE_STEP, one_line};
use tui_input::Input;

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
}

/// Opens the history with the current filter.
pub fn open(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::History;
    app.history.cursor.home();
    vec![Effect::LoadHistory {
        query: app.history.query(0),
        append: false,
    }]
}

/// A page of rows arrived; stale pages (for an older filter) are dropped.
pub fn loaded(app: &mut App, text: String, rows: Vec<VisitRow>, append: bool) {
    let h = &mut app.history;
    if text != h.filter.value() {
        return;
    }
    h.complete = rows.len() < PAGE_ROWS;
    if append {
        h.rows.extend(rows);
    } else {
        h.rows = rows;
        h.cursor.home();
    }
    h.cursor.clamp(h.rows.len());
}

/// Keys on the history screen.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let h = &mut app.history;
    match msg {
        Msg::Edit(request) => {
            let before = h.filter.value().to_string();
            h.filter.handle(request);
            if h.filter.value() != before {
                return vec![Effect::LoadHistory {
                    query: h.query(0),
                    append: false,
                }];
            }
        }
        Msg::Paste(pasted) => {
            h.filter = Input::new(format!("{}{}", h.filter.value(), one_line(&pasted)));
            return vec![Effect::LoadHistory {
                query: h.query(0),
                append: false,
            }];
        }
        Msg::Up => h.cursor.up(1),
        Msg::PageUp => h.cursor.up(PAGE_STEP),
        Msg::Down | Msg::PageDown => {
            let step = if msg == Msg::Down { 1 } else { PAGE_STEP };
            h.cursor.down(step, h.rows.len());
            // Near the end of what is loaded: ask for the next page.
            if !h.complete && h.cursor.selected + 2 * PAGE_STEP >= h.rows.len() {
                h.complete = true;
                return vec![Effect::LoadHistory {
                    query: h.query(h.rows.len()),
                    append: true,
                }];
            }
        }
        Msg::Clicked(Target::Row(i)) => h.cursor.selected = i,
        Msg::Home => h.cursor.home(),
        Msg::End => h.cursor.end(h.rows.len()),
        Msg::Enter => {
            if let Some(row) = h.selected_row() {
                return vec![Effect::Open {
                    id: row.id,
                    purpose: Purpose::View,
                }];
            }
        }
        Msg::CopyAsNew => {
            if let Some(row) = h.selected_row() {
                return vec![Effect::Open {
                    id: row.id,
                    purpose: Purpose::CopyAsNew,
                }];
            }
        }
        Msg::Amend => {
            if let Some(row) = h.selected_row() {
                return vec![Effect::Open {
                    id: row.id,
                    purpose: Purpose::Amend,
                }];
            }
        }
        Msg::Versions => {
            if let Some(row) = h.selected_row() {
                return vec![Effect::OpenVersions(row.id)];
            }
        }
        Msg::Delete => match h.selected_row() {
            Some(row) if row.state == VisitState::Draft => {
                let id = row.id;
                app.ask(Confirm::DeleteDraft(id))
            }
            Some(row) => app.notice = Some(text::only_drafts_deleted(row.state)),
            None => {}
        },
        Msg::SaveAndSubmit => {
            if let Some((id, state)) = h.selected_row().map(|r| (r.id, r.state)) {
                return app::send_stored(app, id, state);
            }
        }
        Msg::Escape | Msg::History => app.screen = Screen::Form,
        _ => {}
    }
    Vec::new()
}
