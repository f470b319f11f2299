//! The help box: every key binding by where it works (from the binding table), then
//! what each field means (from the field catalogue). Its rows are wrapped here, with a
//! hanging indent, so the box knows exactly how far it scrolls: ↑ ↓ PgUp PgDn Home End
//! reach the last field at any size, and never scroll past it.

use crate::record::FIELDS;
use crate::tui::bindings::{BINDINGS, Scope};
use crate::tui::msg::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::{PAGE_STEP, centered, wrap};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

/// One entry: a name in its column, and what it does or means.
struct Entry {
    name: String,
    name_style: Style,
    text: &'static str,
}

/// What the help says, as headings and entries.
enum Item {
    Heading(String, Style),
    Entry(Entry),
    Blank,
}

fn items(theme: Theme) -> Vec<Item> {
    let mut items = vec![Item::Heading("Keys".into(), theme.title())];
    for scope in Scope::ALL {
        items.push(Item::Heading(
            format!(" {}", scope.heading()),
            theme.label(),
        ));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            items.push(Item::Entry(Entry {
                name: format!("  {:<22}", b.keys_label()),
                name_style: theme.key(),
                text: b.help,
            }));
        }
    }
    items.push(Item::Blank);
    items.push(Item::Heading("Fields".into(), theme.title()));
    for spec in &FIELDS {
        items.push(Item::Entry(Entry {
            name: format!("  {:<17}", spec.label),
            name_style: theme.label(),
            text: spec.help,
        }));
    }
    items
}

/// The help as rows of a box `width` columns wide inside its border.
pub fn rows(theme: Theme, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let mut rows = Vec::new();
    for item in items(theme) {
        match item {
            Item::Heading(text, style) => rows.push(Line::from(Span::styled(text, style))),
            Item::Blank => rows.push(Line::from("")),
            Item::Entry(entry) => {
                let indent = entry.name.width();
                // A name wider than the box half: the text goes under it.
                let (first, room) = match width.saturating_sub(indent) {
                    room if room >= width / 2 => (Some(entry.name.clone()), room),
                    _ => (None, width.saturating_sub(4)),
                };
                let pad = width.saturating_sub(room);
                let text = wrap(entry.text, room);
                if first.is_none() {
                    rows.push(Line::from(Span::styled(
                        entry.name.clone(),
                        entry.name_style,
                    )));
                }
                for (i, part) in text.into_iter().enumerate() {
                    let lead = match (&first, i) {
                        (Some(name), 0) => Span::styled(name.clone(), entry.name_style),
                        _ => Span::raw(" ".repeat(pad)),
                    };
                    rows.push(Line::from(vec![lead, Span::raw(part)]));
                }
            }
        }
    }
    rows
}

/// Where the box is drawn in a window of `area`.
fn box_area(area: Rect) -> Rect {
    centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    )
}

/// How far the help scrolls in a window of `area`: its last row at the box's foot.
pub fn max_scroll(area: Rect) -> u16 {
    let rect = box_area(area);
    let inner_height = rect.height.saturating_sub(2);
    let count = rows(Theme { color: false }, rect.width.saturating_sub(2)).len();
    u16::try_from(count)
        .unwrap_or(u16::MAX)
        .saturating_sub(inner_height)
}

/// Keys while the help is open: where it is scrolled to next (at most `max`), or
/// `None` to close it.
pub fn update(scroll: u16, max: u16, action: &Action) -> Option<u16> {
    let step = PAGE_STEP as u16;
    let scroll = scroll.min(max);
    match action {
        Action::Down => Some(scroll.saturating_add(1).min(max)),
        Action::PageDown | Action::NextPage => Some(scroll.saturating_add(step).min(max)),
        Action::Up => Some(scroll.saturating_sub(1)),
        Action::PageUp | Action::PrevPage => Some(scroll.saturating_sub(step)),
        Action::Home => Some(0),
        Action::End => Some(max),
        Action::Escape | Action::Help | Action::Enter => None,
        _ => Some(scroll),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, scroll: u16, theme: Theme) {
    let rect = box_area(area);
    let rows = rows(theme, rect.width.saturating_sub(2));
    let block = Block::new().borders(Borders::ALL).title(Span::styled(
        " Help: ↑ ↓ PgUp PgDn Home End scroll, Esc close ",
        theme.title(),
    ));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(rows)
            .block(block)
            .scroll((scroll.min(max_scroll(area)), 0)),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_stops_at_the_end_and_comes_back_at_once() {
        let area = Rect::new(0, 0, 80, 24);
        let max = max_scroll(area);
        assert!(max > 50, "{max}");
        let at_end = update(0, max, &Action::End).unwrap();
        assert_eq!(at_end, max);
        assert_eq!(update(at_end, max, &Action::Down), Some(max), "no further");
        assert_eq!(
            update(at_end, max, &Action::Up),
            Some(max - 1),
            "one press back"
        );
        assert_eq!(update(max, max, &Action::Home), Some(0));
        assert_eq!(update(0, max, &Action::PageDown), Some(PAGE_STEP as u16));
    }
}
