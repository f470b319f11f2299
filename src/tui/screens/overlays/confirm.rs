//! The box that asks a yes/no question (what each answer does is the app's).

use crate::tui::bindings::{self, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::{centered, key_line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

/// Draws `question` (in words) with the keys that answer it.
pub fn draw(frame: &mut Frame, area: Rect, question: &str, theme: Theme) {
    // Tall enough for the question as it wraps, a blank line and the keys.
    let wrapped = question.width().div_ceil(56).max(1) as u16;
    let rect = centered(area, 60, wrapped + 5);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(" Please confirm ", theme.title()));
    let lines = vec![
        Line::from(question),
        Line::from(""),
        key_line(&bindings::hints(Scope::Confirm), rect.width, theme),
    ];
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        rect,
    );
}
