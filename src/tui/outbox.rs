//! The outbox screen: visits waiting to be sent, failed ones with their reason, and
//! those already submitted; retry one or all, read the endpoint's answer, or send a
//! submitted visit again as a new message.

use super::app::{App, Confirm, Effect, Mode, Msg, Screen};
use crate::store::VisitState;
use crate::store::outbox::OutboxRow;

/// Rows shown at most (waiting and failed first).
pub const ROWS: usize = 500;

#[derive(Clone, Debug, Default)]
pub struct OutboxView {
    pub rows: Vec<OutboxRow>,
    pub selected: usize,
}

impl OutboxView {
    pub fn selected_row(&self) -> Option<&OutboxRow> {
        self.rows.get(self.selected)
    }
}

pub fn open(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::Outbox;
    vec![Effect::LoadOutbox]
}

pub fn loaded(app: &mut App, rows: Vec<OutboxRow>) {
    let keep = app.outbox.selected_row().map(|r| r.row.id);
    app.outbox.rows = rows;
    app.outbox.selected = keep
        .and_then(|id| app.outbox.rows.iter().position(|r| r.row.id == id))
        .unwrap_or(0)
        .min(app.outbox.rows.len().saturating_sub(1));
}

/// Keys on the outbox screen.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let view = &mut app.outbox;
    match msg {
        Msg::Up => view.selected = view.selected.saturating_sub(1),
        Msg::Down => view.selected = (view.selected + 1).min(view.rows.len().saturating_sub(1)),
        Msg::PageUp => view.selected = view.selected.saturating_sub(10),
        Msg::PageDown => {
            view.selected = (view.selected + 10).min(view.rows.len().saturating_sub(1))
        }
        Msg::Click { column, row } => {
            if let Some(super::app::Target::Row(i)) = super::view::hit(app, column, row) {
                app.outbox.selected = i;
            }
        }
        Msg::Home => view.selected = 0,
        Msg::End => view.selected = view.rows.len().saturating_sub(1),
        Msg::Enter => {
            if let Some(row) = view.selected_row() {
                return vec![Effect::OpenAnswer(row.row.id)];
            }
        }
        Msg::Retry => {
            match view.selected_row() {
                Some(row) if matches!(row.row.state, VisitState::Queued | VisitState::Failed) => {
                    app.notice = Some("Sending it now".into());
                    return vec![
                        Effect::RetryNow(Some(row.row.id)),
                        Effect::SyncNow,
                        Effect::LoadOutbox,
                    ];
                }
                Some(_) => app.notice = Some(
                    "This visit was submitted already; press s to send it again as a new message"
                        .into(),
                ),
                None => {}
            }
        }
        Msg::RetryAll => {
            app.notice = Some("Sending everything that waits or failed".into());
            return vec![Effect::RetryNow(None), Effect::SyncNow, Effect::LoadOutbox];
        }
        Msg::Resubmit => match view.selected_row() {
            Some(row) if matches!(row.row.state, VisitState::Submitted | VisitState::Failed) => {
                app.mode = Mode::Confirm(Confirm::Resubmit(row.row.id));
            }
            Some(_) => app.notice = Some("This visit is still waiting; r sends it now".into()),
            None => {}
        },
        Msg::Escape | Msg::Outbox => app.screen = Screen::Form,
        _ => {}
    }
    Vec::new()
}
