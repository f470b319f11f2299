//! Drawing: a pure function of `App` into a frame. The header and the status line
//! are drawn here; each screen and overlay draws its own part (`screens/`). `draw`
//! returns the layout of what can be clicked, for the input layer.

use super::app::{App, question_text};
use super::bindings::{self, Scope};
use super::layout::Layout as Hits;
use super::msg::{Mode, Screen};
use super::screens::overlays::{confirm, help};
use super::screens::{card, form, history, outbox, preview};
use super::theme::{OK_MARK, TO_FILL_MARK, Theme};
use super::widgets::key_line;
use crate::record::Severity;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::layout::{MIN_HEIGHT, MIN_WIDTH};

/// Draws the app and returns what can be clicked where.
pub fn draw(frame: &mut Frame, app: &App) -> Hits {
    let mut hits = Hits::default();
    let area = frame.area();
    let theme = Theme { color: app.color };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area);
        return hits;
    }
    // A notice is read whole: the status line grows to wrap it (up to 3 rows).
    let status_rows = app
        .notice
        .as_deref()
        .map_or(1, |n| {
            super::widgets::wrap(n, usize::from(area.width)).len()
        })
        .clamp(1, 3) as u16;
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(status_rows),
    ])
    .areas(area);
    draw_header(frame, app, header, theme);
    match (app.screen, &app.preview) {
        (Screen::Form, _) => {
            let look = form::view::Look {
                now: app.now,
                keys_here: app.mode == Mode::Normal,
                theme,
            };
            form::view::draw(frame, &app.form, body, &mut hits, look)
        }
        (Screen::Preview, Some(shown)) => preview::view::draw(frame, shown, body, theme),
        (Screen::Preview, None) => {}
        (Screen::History, _) => history::view::draw(frame, &app.history, body, &mut hits, theme),
        (Screen::Outbox, _) => outbox::view::draw(
            frame,
            &app.outbox,
            (&app.sync, app.now),
            body,
            &mut hits,
            theme,
        ),
        (Screen::Card, _) => {
            if let Some(view) = &app.card {
                card::view::draw(frame, view, body, theme);
            }
        }
    }
    draw_status(frame, app, status, theme);
    match app.mode {
        Mode::Normal => {}
        Mode::Help { scroll } => {
            help::draw(frame, area, scroll, theme);
            hits.clear();
        }
        Mode::Confirm(question) => {
            confirm::draw(frame, area, &question_text(app, question), theme);
            hits.clear();
        }
    }
    hits
}

fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("vaxentry needs a bigger window."),
        Line::from(format!(
            "This one is {}x{}; make it at least {MIN_WIDTH}x{MIN_HEIGHT}.",
            area.width, area.height
        )),
        Line::from("Nothing is lost: the form comes back when the window is big enough."),
    ];
    // Wrapped, it takes as many rows as the window is narrow; centred in what is left.
    let rows: u16 = text
        .iter()
        .map(|l| super::widgets::wrap(&l.to_string(), usize::from(area.width)).len() as u16)
        .sum();
    let y = area.height.saturating_sub(rows) / 2;
    let rect = Rect {
        y: area.y + y,
        height: rows.min(area.height),
        ..area
    };
    frame.render_widget(
        Paragraph::new(text).centered().wrap(Wrap { trim: true }),
        rect,
    );
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    // A stored visit being corrected (the notice said whether it was sent).
    let state = |short: bool| match (&app.form.mass, &app.form.amending, app.form.dirty) {
        (_, Some(_), _) => "correcting".to_string(),
        (Some(mass), None, _) => {
            let (vaccine, lot) = (
                mass.value(crate::record::FieldId::Vaccine),
                mass.value(crate::record::FieldId::Lot),
            );
            match short {
                false => format!("mass clinic: {vaccine} lot {lot} · {} saved", mass.saved),
                true => format!("mass: {vaccine} {lot} · {} saved", mass.saved),
            }
        }
        (None, None, true) => "not saved".to_string(),
        (None, None, false) => "new visit".to_string(),
    };
    let sync = sync_status(app, theme);
    let sync_width = sync.width() as u16;
    // What matters most stays whole: the clinic's name goes first, then the date.
    let candidates = [
        (false, false, true),
        (false, true, true),
        (true, true, true),
        (true, true, false),
    ];
    let fits = |(short, no_name, date): (bool, bool, bool)| {
        let text = match (&app.form.mass, no_name) {
            (Some(_), _) | (None, true) => format!(" {}", state(short)),
            (None, false) => format!(" {} · {}", app.source_name(), state(short)),
        };
        let clock = match date {
            true => app.now.format(" %Y-%m-%d %H:%M ").to_string(),
            false => app.now.format(" %H:%M ").to_string(),
        };
        let used = 10 + text.width() as u16 + sync_width + clock.width() as u16;
        (used <= area.width).then_some((text, clock))
    };
    let (text, clock) = candidates.iter().find_map(|c| fits(*c)).unwrap_or_else(|| {
        (
            format!(" {}", state(true)),
            app.now.format(" %H:%M ").to_string(),
        )
    });
    let left = Line::from(vec![
        Span::styled(" vaxentry ", theme.title().add_modifier(Modifier::REVERSED)),
        Span::raw(text),
    ]);
    let [left_area, sync_area, clock_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(sync_width),
        Constraint::Length(clock.width() as u16),
    ])
    .areas(area);
    frame.render_widget(left, left_area);
    frame.render_widget(sync, sync_area);
    frame.render_widget(Line::from(clock).right_aligned(), clock_area);
}

/// Where sending stands: "⇅ 3 waiting · 14:05 ok", or "offline" when no endpoint.
fn sync_status(app: &App, theme: Theme) -> Line<'static> {
    let s = &app.sync;
    if s.protocol.is_none() {
        return Line::from(Span::styled(" local only ", theme.dim()));
    }
    let mut spans = vec![Span::raw(format!(" ⇅ {} waiting", s.waiting))];
    if s.failed > 0 {
        let (mark, style) = theme.mark(Severity::Error);
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(format!("{mark} {} failed", s.failed), style));
    }
    match &s.last {
        Some((at, None)) => {
            spans.push(Span::raw(" · "));
            spans.push(Span::styled(OK_MARK, theme.ok()));
            spans.push(Span::raw(format!(" sent {} ", at.format("%H:%M"))));
        }
        Some((at, Some(_))) => {
            let (mark, style) = theme.mark(Severity::Warning);
            spans.push(Span::raw(" · "));
            spans.push(Span::styled(mark, style));
            spans.push(Span::raw(format!(" unreachable {} ", at.format("%H:%M"))));
        }
        None => spans.push(Span::raw(" · not tried yet ")),
    }
    Line::from(spans)
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let form = &app.form;
    let (to_fill, errors, warnings) = (form.to_fill(), form.errors(), form.warnings());
    let mut counts = Vec::new();
    // Only what is there is counted, so the line stays short.
    for (n, (mark, style), what) in [
        (to_fill, (TO_FILL_MARK, theme.to_fill()), "to fill"),
        (errors, theme.mark(Severity::Error), "error(s)"),
        (warnings, theme.mark(Severity::Warning), "warning(s)"),
    ] {
        if n > 0 {
            counts.push(Span::styled(mark, style));
            counts.push(Span::raw(format!(" {n} {what} ")));
        }
    }
    if counts.is_empty() {
        counts = vec![Span::styled(OK_MARK, theme.ok()), Span::raw(" ready ")];
    }
    // The counts are about the visit in the form: not shown over the history or a
    // stored visit.
    let about_form = match app.screen {
        Screen::Form => true,
        Screen::Preview => app
            .preview
            .as_ref()
            .is_some_and(|p| p.source == preview::Source::Current),
        Screen::History | Screen::Outbox | Screen::Card => false,
    };
    // A notice (saved, failed, ...) gets the whole line.
    if !about_form || app.notice.is_some() {
        counts.clear();
    }
    let counts_width: usize = counts.iter().map(|s| s.content.width()).sum();
    let [left, right] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(counts_width as u16)])
            .areas(area);
    match &app.notice {
        Some(notice) => {
            let rows: Vec<Line> = super::widgets::wrap(notice, usize::from(left.width))
                .into_iter()
                .map(Line::from)
                .collect();
            frame.render_widget(Paragraph::new(rows), left);
        }
        None => frame.render_widget(key_line(&status_hints(app), left.width, theme), left),
    }
    frame.render_widget(Line::from(counts), right);
}

/// The hints for what is in front of the user, from the binding table: the screen's
/// own (the form's are followed by the ones that work everywhere).
fn status_hints(app: &App) -> Vec<(String, &'static str)> {
    let scope = match (app.mode, app.screen) {
        (Mode::Confirm(_), _) => Scope::Confirm,
        (Mode::Help { .. }, _) => Scope::Help,
        (Mode::Normal, Screen::Form) if app.form.jump().is_some() => Scope::Jump,
        (Mode::Normal, Screen::Form) if app.form.picker().is_some() => Scope::Picker,
        (Mode::Normal, Screen::Form) => {
            let mut hints = bindings::hints(Scope::Form);
            hints.extend(bindings::hints(Scope::Everywhere));
            return hints;
        }
        (Mode::Normal, Screen::Preview) => {
            // The visit in the form is saved from here; a stored one is corrected,
            // its versions read or copied.
            let source = app.preview.as_ref().map(|p| &p.source);
            let stored_only = ["correct", "versions", "copy", "card"];
            return bindings::hints(Scope::Preview)
                .into_iter()
                .filter(|(_, word)| match source {
                    None | Some(preview::Source::Current) => !stored_only.contains(word),
                    Some(preview::Source::Versions { .. }) => !["save", "versions"].contains(word),
                    Some(_) => *word != "save",
                })
                .collect();
        }
        (Mode::Normal, Screen::History) => Scope::History,
        (Mode::Normal, Screen::Outbox) => Scope::Outbox,
        (Mode::Normal, Screen::Card) => Scope::Card,
    };
    bindings::hints(scope)
}
