//! Drawing pieces every screen uses: boxes, scrolled lists with a cursor, key hints,
//! state marks, and the cursor that moves through a list.

use super::layout::Layout;
use super::msg::Target;
use super::theme::{FOCUS_MARK, OK_MARK, Theme};
use crate::record::Severity;
use crate::store::VisitState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthStr;

/// How far PgUp and PgDn move in any list or text.
pub const PAGE_STEP: usize = 10;

/// The chosen row of a list: moves stay within the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
}

impl Cursor {
    pub fn up(&mut self, by: usize) {
        self.selected = self.selected.saturating_sub(by);
    }

    pub fn down(&mut self, by: usize, count: usize) {
        self.selected = self
            .selected
            .saturating_add(by)
            .min(count.saturating_sub(1));
    }

    pub fn home(&mut self) {
        self.selected = 0;
    }

    pub fn end(&mut self, count: usize) {
        self.selected = count.saturating_sub(1);
    }

    /// Keeps the cursor on a row after the list changed length.
    pub fn clamp(&mut self, count: usize) {
        self.selected = self.selected.min(count.saturating_sub(1));
    }
}

/// First row shown so that the focused row stays in view, centred when it can be.
pub fn scroll_offset(focused: usize, count: usize, height: usize) -> usize {
    if count <= height {
        0
    } else {
        focused.saturating_sub(height / 2).min(count - height)
    }
}

/// The mark of a stored visit's state (with its name beside it, never alone).
pub fn state_mark(state: VisitState, theme: Theme) -> (&'static str, Style) {
    match state {
        VisitState::Failed => theme.mark(Severity::Error),
        VisitState::Draft | VisitState::Queued => ("…", theme.dim()),
        VisitState::Saved | VisitState::Submitted => (OK_MARK, theme.ok()),
        VisitState::Received => ("↓", theme.dim()),
    }
}

/// A list's column header, indented past the focus and state marks of its rows.
pub fn draw_column_header(frame: &mut Frame, area: Rect, text: &str, theme: Theme) {
    frame.render_widget(
        Paragraph::new(Span::styled(format!("   {text}"), theme.dim())),
        area,
    );
}

/// A bordered box with a title, as every screen uses.
pub fn titled(title: String, theme: Theme) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.title()))
        .border_style(theme.dim())
}

/// Draws the visible rows of a list with a cursor (focus mark, state mark, text),
/// scrolled so the selected row stays in view, and makes each row clickable.
/// `row(i)` gives row i's click target, mark and text.
pub fn draw_list<'a>(
    frame: &mut Frame,
    layout: &mut Layout,
    area: Rect,
    (count, selected): (usize, usize),
    theme: Theme,
    row: impl Fn(usize) -> (Target, (&'a str, Style), String),
) {
    let height = area.height as usize;
    let offset = scroll_offset(selected, count, height);
    for i in offset..count.min(offset + height) {
        let (target, (mark, mark_style), text) = row(i);
        let rect = Rect {
            y: area.y + (i - offset) as u16,
            height: 1,
            ..area
        };
        layout.add(rect, target);
        let chosen = i == selected;
        let line = Line::from(vec![
            Span::raw(if chosen { FOCUS_MARK } else { " " }),
            Span::styled(mark, mark_style),
            Span::raw(" "),
            Span::styled(text, if chosen { theme.focus() } else { Style::new() }),
        ]);
        frame.render_widget(line, rect);
    }
}

/// Key hints, as many whole ones as fit in `width`.
pub fn key_line(keys: &[(String, &str)], width: u16, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    let needed = |(key, what): &(String, &str)| key.width() + what.width() + 3;
    // The last hint (F1 help, Esc back) stays when the others do not all fit.
    let (last, rest) = match keys.split_last() {
        Some((last, rest)) => (Some(last), rest),
        None => (None, keys),
    };
    let mut room = (width as usize).saturating_sub(1 + last.map_or(0, needed));
    let mut shown: Vec<&(String, &str)> = Vec::new();
    for hint in rest {
        if needed(hint) > room {
            break;
        }
        room -= needed(hint);
        shown.push(hint);
    }
    shown.extend(last.filter(|l| needed(l) < width as usize));
    for (key, what) in shown {
        spans.push(Span::styled(key.clone(), theme.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans)
}

/// A box of `width` x `height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// The text after the first `width` columns.
pub fn skip_width(text: &str, width: usize) -> String {
    let mut skipped = 0;
    text.chars()
        .skip_while(|c| {
            let w = unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
            if skipped + w <= width && skipped < width {
                skipped += w;
                true
            } else {
                false
            }
        })
        .collect()
}

/// A paste into a one-line field: line breaks and tabs become spaces, other control
/// characters go, and the end is trimmed.
pub fn one_line(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !c.is_control())
        .collect();
    clean.trim_end().to_string()
}

/// `text` in lines of at most `width` columns, broken at spaces (a word longer than
/// a line is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let needed = row.width() + usize::from(!row.is_empty()) + word.width();
            if needed <= width {
                if !row.is_empty() {
                    row.push(' ');
                }
                row.push_str(&word);
                break;
            }
            if !row.is_empty() {
                rows.push(std::mem::take(&mut row));
                continue;
            }
            // A word wider than the line: what fits, then the rest.
            let mut cut = 0;
            for (i, c) in word.char_indices() {
                if word[..i + c.len_utf8()].width() > width {
                    break;
                }
                cut = i + c.len_utf8();
            }
            let rest = word.split_off(cut.max(1));
            rows.push(word);
            word = rest;
        }
    }
    rows.push(row);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_spaces_and_cuts_a_word_wider_than_the_line() {
        assert_eq!(wrap("one two three", 8), ["one two", "three"]);
        assert_eq!(wrap("abcdefghijkl", 8), ["abcdefgh", "ijkl"]);
        assert_eq!(wrap("", 8), [""]);
    }

    #[test]
    fn the_cursor_stays_in_the_list() {
        let mut c = Cursor::default();
        c.down(PAGE_STEP, 3);
        assert_eq!(c.selected, 2);
        c.up(5);
        assert_eq!(c.selected, 0);
        c.end(0);
        assert_eq!(c.selected, 0);
        c.selected = 9;
        c.clamp(4);
        assert_eq!(c.selected, 3);
    }

    #[test]
    fn pastes_become_one_clean_line() {
        assert_eq!(one_line("12 Harbour\r\nRoad\u{7}\t\n"), "12 Harbour  Road");
    }
}
