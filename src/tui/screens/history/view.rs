//! Drawing the history: the filter line, the column header and the visits, with the
//! chosen visit written whole under them when its row is cut.

use super::History;
use crate::tui::layout::Layout as Hits;
use crate::tui::msg::Target;
use crate::tui::theme::Theme;
use crate::tui::widgets::{draw_column_header, draw_list, state_mark, titled, wrap};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthStr;

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
    // The chosen visit whole, under the list, when its row is cut at this width.
    let list = match h.rows.get(h.cursor.selected) {
        Some(r)
            if columns(
                &r.visit_date,
                &r.state_label(),
                &r.mrn,
                &r.patient_name,
                &r.vaccines,
            )
            .width()
                > usize::from(list.width) =>
        {
            let whole = wrap(
                &format!("{} · {} · {}", r.patient_name, r.mrn, r.vaccines),
                usize::from(list.width),
            );
            let rows = (whole.len() as u16)
                .min(3)
                .min(list.height.saturating_sub(1));
            let [list, detail] =
                Layout::vertical([Constraint::Min(1), Constraint::Length(rows)]).areas(list);
            let lines: Vec<Line> = whole
                .into_iter()
                .map(|l| Line::from(Span::styled(l, theme.dim())))
                .collect();
            frame.render_widget(Paragraph::new(lines), detail);
            list
        }
        _ => list,
    };
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
