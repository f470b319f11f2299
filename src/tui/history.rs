//! The history screen: the visits in the database, newest first, filtered as you
//! type, loaded a page at a time so it stays instant with any number of records.

use super::app::{App, Confirm, Effect, Mode, Msg, Purpose, Screen};
use crate::store::{ListQuery, VisitRow, VisitState};
use tui_input::Input;

/// Rows asked for at a time.
pub const PAGE_ROWS: usize = 100;

#[derive(Clone, Debug, Default)]
pub struct History {
    pub filter: Input,
    pub rows: Vec<VisitRow>,
    pub selected: usize,
    /// The last page came back short: there is nothing more to load.
    pub complete: bool,
}

impl History {
    pub fn selected_row(&self) -> Option<&VisitRow> {
        self.rows.get(self.selected)
    }

    fn query(&self, offset: usize) -> ListQuery {
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
    app.history.selected = 0;
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
        h.selected = 0;
    }
    h.selected = h.selected.min(h.rows.len().saturating_sub(1));
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
        Msg::Paste(text) => {
            let clean: String = text.chars().filter(|c| !c.is_control()).collect();
            h.filter = Input::new(format!("{}{clean}", h.filter.value()));
            return vec![Effect::LoadHistory {
                query: h.query(0),
                append: false,
            }];
        }
        Msg::Up => h.selected = h.selected.saturating_sub(1),
        Msg::PageUp => h.selected = h.selected.saturating_sub(PAGE_ROWS / 5),
        Msg::Down | Msg::PageDown => {
            let step = if msg == Msg::Down { 1 } else { PAGE_ROWS / 5 };
            h.selected = (h.selected + step).min(h.rows.len().saturating_sub(1));
            // Near the end of what is loaded: ask for the next page.
            if !h.complete && h.selected + 20 >= h.rows.len() {
                h.complete = true;
                return vec![Effect::LoadHistory {
                    query: h.query(h.rows.len()),
                    append: true,
                }];
            }
        }
        Msg::Click { column, row } => {
            if let Some(super::app::Target::Row(i)) = super::view::hit(app, column, row) {
                app.history.selected = i;
            }
        }
        Msg::Home => h.selected = 0,
        Msg::End => h.selected = h.rows.len().saturating_sub(1),
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
        Msg::Delete => match h.selected_row() {
            Some(row) if row.state == VisitState::Draft => {
                app.mode = Mode::Confirm(Confirm::DeleteDraft(row.id))
            }
            Some(row) => {
                app.notice = Some(format!(
                    "Only drafts can be deleted; this visit is {}",
                    row.state.as_str()
                ))
            }
            None => {}
        },
        Msg::Escape | Msg::History => app.screen = Screen::Form,
        _ => {}
    }
    Vec::new()
}
