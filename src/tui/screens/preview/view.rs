//! Drawing the preview: the summary, then the bundle JSON highlighted (or the
//! errors that stop it), with search matches underlined and the search prompt.

use super::Preview;
use super::{LineKind, Source, highlight};
use crate::record::Severity;
use crate::tui::theme::Theme;
use crate::tui::widgets::titled;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, preview: &Preview, area: Rect, theme: Theme) {
    let title = match &preview.source {
        Source::Current => " Preview: what Ctrl+S saves and what is sent ".to_string(),
        Source::Stored { state, .. } => {
            format!(" Stored visit ({}), read-only ", state.as_str())
        }
        Source::Answer { .. } => " The endpoint's answers ".to_string(),
        Source::Versions { .. } => " Versions, oldest first, read-only ".to_string(),
    };
    let block = titled(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = preview.lines();
    let matches = preview.matches();
    let height = inner.height.saturating_sub(u16::from(preview.searching)) as usize;
    let shown: Vec<Line> = lines
        .iter()
        .enumerate()
        .skip(preview.scroll)
        .take(height)
        .map(|(i, (kind, text))| {
            let mut line = match kind {
                LineKind::Json => highlight(text, theme),
                LineKind::Error => {
                    Line::from(Span::styled(text.clone(), theme.mark(Severity::Error).1))
                }
                LineKind::Plain => Line::from(text.clone()),
            };
            if matches.contains(&i) {
                line = line.patch_style(Style::new().add_modifier(Modifier::UNDERLINED));
            }
            line
        })
        .collect();
    frame.render_widget(
        Paragraph::new(shown),
        Rect {
            height: height as u16,
            ..inner
        },
    );
    if preview.searching {
        let y = inner.bottom() - 1;
        let prompt = format!("/{}", preview.search.value());
        frame.render_widget(
            Paragraph::new(Span::styled(prompt, theme.key())),
            Rect {
                y,
                height: 1,
                ..inner
            },
        );
        frame.set_cursor_position((inner.x + 1 + preview.search.visual_cursor() as u16, y));
    }
}
