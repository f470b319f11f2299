//! The outbox screen: visits waiting to be sent, failed ones with their reason, and
//! those already submitted; retry one or all, read the endpoint's answer, or send a
//! submitted visit again as a new message. Its drawing is in `view`.

pub mod view;

use crate::store::VisitState;
use crate::store::outbox::OutboxRow;
use crate::tui::app::{App, Effect, Msg, Screen};
use crate::tui::layout::Target;
use crate::tui::screens::overlays::confirm::Confirm;
use crate::tui::text;
use crate::tui::widgets::{Cursor, PAGE_STEP};

/// Rows shown at most (waiting and failed first).
pub const ROWS: usize = 500;

#[derive(Clone, Debug, Default)]
pub struct OutboxView {
    pub rows: Vec<OutboxRow>,
    pub cursor: Cursor,
}

impl OutboxView {
    pub fn selected_row(&self) -> Option<&OutboxRow> {
        self.rows.get(self.cursor.selected)
    }
}

pub fn open(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::Outbox;
    vec![Effect::LoadOutbox]
}

/// New rows arrived: the cursor stays on the visit it was on.
pub fn loaded(app: &mut App, rows: Vec<OutboxRow>) {
    let view = &mut app.outbox;
    let keep = view.selected_row().map(|r| r.row.id);
    view.rows = rows;
    view.cursor.selected = keep
        .and_then(|id| view.rows.iter().position(|r| r.row.id == id))
        .unwrap_or(0);
    view.cursor.clamp(view.rows.len());
}

/// Keys on the outbox screen.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let view = &mut app.outbox;
    let count = view.rows.len();
    match msg {
        Msg::Up => view.cursor.up(1),
        Msg::Down => view.cursor.down(1, count),
        Msg::PageUp => view.cursor.up(PAGE_STEP),
        Msg::PageDown => view.cursor.down(PAGE_STEP, count),
        Msg::Home => view.cursor.home(),
        Msg::End => view.cursor.end(count),
        Msg::Clicked(Target::Row(i)) => view.cursor.selected = i,
        Msg::Enter => {
            if let Some(row) = view.selected_row() {
                return vec![Effect::OpenAnswer {
                    id: row.row.id,
                    protocol: app.sync.protocol,
                }];
            }
        }
        Msg::Retry => match view.selected_row() {
            Some(row) if matches!(row.row.state, VisitState::Queued | VisitState::Failed) => {
                let id = row.row.id;
                app.notice = Some(text::SENDING_NOW.into());
                return vec![
                    Effect::RetryNow(Some(id)),
                    Effect::SyncNow,
                    Effect::LoadOutbox,
                ];
            }
            Some(_) => app.notice = Some(text::ALREADY_SUBMITTED_SEND_AGAIN.into()),
            None => {}
        },
        Msg::RetryAll => {
            app.notice = Some(text::SENDING_ALL.into());
            return vec![Effect::RetryNow(None), Effect::SyncNow, Effect::LoadOutbox];
        }
        Msg::Resubmit => match view.selected_row() {
            Some(row) if matches!(row.row.state, VisitState::Submitted | VisitState::Failed) => {
                let id = row.row.id;
                app.ask(Confirm::Resubmit(id));
            }
            Some(_) => app.notice = Some(text::STILL_WAITING_RETRY.into()),
            None => {}
        },
        Msg::Void => match view.selected_row() {
            Some(row) if row.row.state == VisitState::Submitted => {
                let id = row.row.id;
                app.ask(Confirm::Void(id));
            }
            Some(_) => app.notice = Some(text::VOID_ONLY_SUBMITTED.into()),
            None => {}
        },
        Msg::Escape | Msg::Outbox => app.screen = Screen::Form,
        _ => {}
    }
    Vec::new()
}
