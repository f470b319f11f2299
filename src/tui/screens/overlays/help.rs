//! The help box: every key binding by where it works (from the binding table), then
//! what each field means (from the field catalogue).

use crate::record::FIELDS;
use crate::tui::bindings::{BINDINGS, Scope};
use crate::tui::msg::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::{PAGE_STEP, centered};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// The help text.
pub fn lines(theme: Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled("Keys", theme.title()))];
    for scope in Scope::ALL {
        lines.push(Line::from(Span::styled(
            format!(" {}", scope.heading()),
            theme.label(),
        )));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<22}", b.keys_label()), theme.key()),
                Span::raw(b.help),
            ]));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Fields", theme.title())));
    for spec in &FIELDS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<17}", spec.label), theme.label()),
            Span::raw(spec.help),
        ]));
    }
    lines
}

/// Keys while the help is open: where it is scrolled to next, or `None` to close it.
pub fn update(scroll: u16, action: &Action) -> Option<u16> {
    let step = PAGE_STEP as u16;
    match action {
        Action::Down => Some(scroll.saturating_add(1)),
        Action::PageDown => Some(scroll.saturating_add(step)),
        Action::Up => Some(scroll.saturating_sub(1)),
        Action::PageUp => Some(scroll.saturating_sub(step)),
        Action::Escape | Action::Help | Action::Enter => None,
        _ => Some(scroll),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, scroll: u16, theme: Theme) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    );
    let lines = lines(theme);
    let max_scroll = (lines.len() as u16).saturating_sub(rect.height.saturating_sub(2));
    let block = Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(" Help: ↑ ↓ scroll, Esc close ", theme.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll.min(max_scroll), 0)),
        rect,
    );
}
