//! Drawing the outbox: the column header, the visits with their state and tries,
//! and the chosen visit's last outcome and next try.

use super::OutboxView;
use crate::clock::ClinicTime;
use crate::tui::layout::Layout as Hits;
use crate::tui::msg::{SyncStatus, Target};
use crate::tui::theme::Theme;
use crate::tui::widgets::{draw_column_header, draw_list, state_mark, titled};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// The column header, the list and the detail lines, inside the box.
fn areas(body: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(Block::new().borders(Borders::ALL).inner(body))
}

/// Draws the outbox; `sync` says where sending stands, and times show at `now`'s zone.
pub fn draw(
    frame: &mut Frame,
    view: &OutboxView,
    (sync, now): (&SyncStatus, ClinicTime),
    area: Rect,
    hits: &mut Hits,
    theme: Theme,
) {
    let (waiting, failed) = (sync.waiting, sync.failed);
    let title = format!(" Outbox: {waiting} waiting, {failed} failed ");
    frame.render_widget(titled(title, theme), area);
    let [header, list, detail] = areas(area);
    let columns = |state: &str, name: &str, vaccines: &str, tries: &str, last: &str| {
        format!("{state:<12} {name:<22} {vaccines:<10} {tries:>5}  {last}")
    };
    draw_column_header(
        frame,
        header,
        &columns("State", "Patient", "Vaccines", "Tries", "Last attempt"),
        theme,
    );
    if view.rows.is_empty() {
        let text = if sync.protocol.is_some() {
            "Nothing waiting. Ctrl+G saves a visit and sends it."
        } else {
            "Nothing waiting. No endpoint is configured: visits are saved here only (see README, [endpoint])."
        };
        frame.render_widget(Paragraph::new(text), list);
        return;
    }
    draw_list(
        frame,
        hits,
        list,
        (view.rows.len(), view.cursor.selected),
        theme,
        |i| {
            let r = &view.rows[i];
            let mark = state_mark(r.row.state, theme);
            let name: String = r.row.patient_name.chars().take(22).collect();
            (
                Target::Row(i),
                mark,
                columns(
                    &r.row.state_label(),
                    &name,
                    &r.row.vaccines,
                    &r.attempts.to_string(),
                    &r.last_outcome,
                ),
            )
        },
    );
    if let Some(r) = view.selected_row() {
        let next = r
            .next_attempt_at
            .filter(|_| r.row.state == crate::store::VisitState::Queued)
            .map(|t| {
                format!(
                    " · next try {}",
                    t.with_timezone(&now.timezone()).format("%Y-%m-%d %H:%M:%S")
                )
            })
            .unwrap_or_default();
        let text = format!(
            "{}{next}",
            if r.last_outcome.is_empty() {
                "Not tried yet"
            } else {
                r.last_outcome.as_str()
            }
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), detail);
    }
}
