//! Drawing the history: the filter line, the column header and the visits.

use super::History;
use crate::tui::layout::Layout as Hits;
use crate::tui::msg::Target;
use crate::tui::theme::Theme;
use crate::tui::widgets::{draw_column_header, draw_list, state_mark, titled};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// The filter line, the column header and the list, inside the box.
fn areas(body: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(Block::new().borders(Borders::ALL).inner(body))
}

pub fn draw(frame: &mut Frame, h: &History, area: Rect, hits: &mut Hits, theme: Theme) {
    let title = format!(
        " History: {} shown{} ",
        h.rows.len(),
        if h.complete { "" } else { "+" }
    );
    frame.render_widget(titled(title, theme), area);
    let [filter, header, list] = areas(area);
    let filter_line = Line::from(vec![
        Span::styled("Filter: ", theme.label()),
        Span::raw(h.filter.value().to_string()),
        Span::styled(
            if h.filter.value().is_empty() {
                "  name, MRN, vaccine or date"
            } else {
                ""
            },
            theme.dim(),
        ),
    ]);
    frame.render_widget(Paragraph::new(filter_line), filter);
    frame.set_cursor_position((filter.x + 8 + h.filter.visual_cursor() as u16, filter.y));
    let columns = |date: &str, state: &str, mrn: &str, name: &str, vaccines: &str| {
        format!("{date:<10}  {state:<12}  {mrn:<12}  {name:<23}  {vaccines}")
    };
    draw_column_header(
        frame,
        header,
        &columns("Date", "State", "MRN", "Patient", "Vaccines"),
        theme,
    );
    if h.rows.is_empty() {
        let empty = if h.filter.value().is_empty() {
            "No visits yet. Saved visits and drafts appear here."
        } else {
            "Nothing matches the filter."
        };
        frame.render_widget(Paragraph::new(empty), list);
        return;
    }
    let rows = (h.rows.len(), h.cursor.selected);
    draw_list(frame, hits, list, rows, theme, |i| {
        let r = &h.rows[i];
        let name: String = r.patient_name.chars().take(23).collect();
        (
            Target::Row(i),
            state_mark(r.state, theme),
            columns(&r.visit_date, &r.state_label(), &r.mrn, &name, &r.vaccines),
        )
    });
}
