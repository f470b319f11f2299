//! Drawing the card: who it is for and what it holds above, the QR code below in half
//! blocks, black on white whatever the theme (the colours a camera reads), with the
//! quiet zone round it; when the window is too small for the code, how large it must
//! be and how to get the card as a file instead.

use super::CardView;
use crate::card::{described, qr};
use crate::tui::theme::Theme;
use crate::tui::widgets::{titled, wrap};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, view: &CardView, area: Rect, theme: Theme) {
    let which = match view.whole {
        true => "every dose held here",
        false => "this visit's doses",
    };
    frame.render_widget(titled(format!(" SMART Health Card: {which} "), theme), area);
    let inner = area.inner(ratatui::layout::Margin::new(1, 1));
    let about: Vec<Line> = wrap(&described(&view.card), usize::from(inner.width))
        .into_iter()
        .map(Line::from)
        .collect();
    let about_rows = (about.len() as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(about),
        Rect {
            height: about_rows,
            ..inner
        },
    );
    let room = Rect {
        y: inner.y + about_rows,
        height: inner.height.saturating_sub(about_rows),
        ..inner
    };
    let code = qr::half_blocks(&view.card.matrix);
    let (wide, high) = (view.card.matrix.framed() as u16, code.len() as u16);
    if wide > room.width || high > room.height {
        let needed = crate::tui::text::card_too_small(
            view.card.matrix.version,
            wide + 2,
            high + 2 + about_rows + 3,
        );
        let lines: Vec<Line> = wrap(&needed, usize::from(room.width))
            .into_iter()
            .map(|l| Line::styled(l, theme.label()))
            .collect();
        frame.render_widget(Paragraph::new(lines), room);
        return;
    }
    let black_on_white = Style::new().fg(Color::Black).bg(Color::White);
    let lines: Vec<Line> = code
        .into_iter()
        .map(|l| Line::styled(l, black_on_white))
        .collect();
    let top = room.y + (room.height - high) / 2;
    let left = room.x + (room.width - wide) / 2;
    frame.render_widget(
        Paragraph::new(lines).alignment(Alignment::Left),
        Rect::new(left, top, wide, high),
    );
}
