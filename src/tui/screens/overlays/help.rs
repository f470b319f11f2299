//! The help box: every key binding by where it works (from the binding table), then
//! what each field means (from the field catalogue).

use crate::record::FIELDS;
use crate::tui::app::{App, Effect, Mode, Msg};
use crate::tui::bindings::{BINDINGS, Scope};
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

/// Keys while the help is open: scroll, or close.
pub fn update(app: &mut App, scroll: u16, msg: Msg) -> Vec<Effect> {
    let step = PAGE_STEP as u16;
    app.mode = match msg {
        Msg::Down => Mode::Help {
            scroll: scroll.saturating_add(1),
        },
        Msg::PageDown => Mode::Help {
            scroll: scroll.saturating_add(step),
        },
        Msg::Up => Mode::Help {
            scroll: scroll.saturating_sub(1),
        },
        Msg::PageUp => Mode::Help {
            scroll: scroll.saturating_sub(step),
        },
        Msg::Quit => return app.quit(),
        Msg::Escape | Msg::Help | Msg::Enter => Mode::Normal,
        _ => Mode::Help { scroll },
    };
    Vec::new()
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
