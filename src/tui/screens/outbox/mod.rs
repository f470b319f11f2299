//! The outbox screen: visits waiting to be sent, failed ones with their reason, and
//! those already submitted; retry one or all, read the endpoint's answer, or send a
//! submitted visit again as a new message. Its drawing is in `view`.

pub mod view;

use crate::store::outbox::OutboxRow;
use crate::tui::msg::{Action, Confirm, Effect, Screen, Target};
use crate::tui::reply::{Ctx, Reply};
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

pub fn open() -> Reply {
    Reply {
        go: Some(Screen::Outbox),
        ..Reply::effect(Effect::LoadOutbox)
    }
}

impl OutboxView {
    /// New rows arrived: the cursor stays on the visit it was on.
    pub fn loaded(&mut self, rows: Vec<OutboxRow>) {
        let keep = self.selected_row().map(|r| r.row.id);
        self.rows = rows;
        self.cursor.selected = keep
            .and_then(|id| self.rows.iter().position(|r| r.row.id == id))
            .unwrap_or(0);
        self.cursor.clamp(self.rows.len());
    }
}

/// Keys on the outbox screen.
pub fn update(view: &mut OutboxView, ctx: &Ctx, action: Action) -> Reply {
    let count = view.rows.len();
    match action {
        Action::Up => view.cursor.up(1),
        Action::Down => view.cursor.down(1, count),
        Action::PageUp => view.cursor.up(PAGE_STEP),
        Action::PageDown => view.cursor.down(PAGE_STEP, count),
        Action::Home => view.cursor.home(),
        Action::End => view.cursor.end(count),
        Action::Clicked(Target::Row(i)) => view.cursor.selected = i,
        Action::Enter => {
            if let Some(row) = view.selected_row() {
                return Reply::effect(Effect::OpenAnswer {
                    id: row.row.id,
                    protocol: ctx.sync.protocol,
                });
            }
        }
        Action::Retry => match view.selected_row() {
            Some(row) if row.row.state.may_be_retried() => {
                return Reply {
                    notice: Some(text::SENDING_NOW.into()),
                    ..Reply::effects(vec![
                        Effect::RetryNow(Some(row.row.id)),
                        Effect::SyncNow,
                        Effect::LoadOutbox,
                    ])
                };
            }
            Some(_) => return Reply::notice(text::already_submitted_send_again()),
            None => {}
        },
        Action::RetryAll => {
            return Reply {
                notice: Some(text::SENDING_ALL.into()),
                ..Reply::effects(vec![
                    Effect::RetryNow(None),
                    Effect::SyncNow,
                    Effect::LoadOutbox,
                ])
            };
        }
        Action::Resubmit => match view.selected_row() {
            Some(row) if row.row.state.may_be_corrected() => {
                return Reply::ask(Confirm::Resubmit(row.row.id));
            }
            Some(_) => return Reply::notice(text::still_waiting_retry()),
            None => {}
        },
        Action::Void => match view.selected_row() {
            Some(row) if row.row.state.may_be_voided() => {
                return Reply::ask(Confirm::Void(row.row.id));
            }
            Some(_) => return Reply::notice(text::VOID_ONLY_SUBMITTED),
            None => {}
        },
        Action::Escape | Action::Outbox => return Reply::go(Screen::Form),
        _ => {}
    }
    Reply::none()
}
