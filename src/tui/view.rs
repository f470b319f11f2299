//! Drawing: pure functions of `App` into a frame, one per screen region. Rendering
//! never changes state; `hit` maps a click back through the same layout.

use super::app::{App, Confirm, Mode, Page, Screen, Target};
use super::bindings::{self, BINDINGS, Scope};
use super::theme::{FOCUS_MARK, OK_MARK, TO_FILL_MARK, Theme};
use crate::codes::table;
use crate::record::parse::{display_date, parse_date, parse_datetime};
use crate::record::{FIELDS, FieldId, Finding, Kind, Rule, Severity};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
const PAGES_WIDTH: u16 = 14;
const LABEL_WIDTH: usize = 16;
/// Focus mark, severity mark, space: the columns before a label.
const MARKS_WIDTH: u16 = 4;

struct Regions {
    header: Rect,
    pages: Rect,
    fields: Rect,
    detail: Rect,
    status: Rect,
}

fn regions(area: Rect) -> Regions {
    let [header, body, detail, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(area);
    let [pages, fields] =
        Layout::horizontal([Constraint::Length(PAGES_WIDTH), Constraint::Min(10)]).areas(body);
    Regions {
        header,
        pages,
        fields,
        detail,
        status,
    }
}

/// The body of the preview, history and outbox screens (between header and status).
fn screen_body(area: Rect) -> Rect {
    let [_, body, _] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    body
}

/// History: the filter line, the column header and the list, inside the box.
fn history_areas(body: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(Block::new().borders(Borders::ALL).inner(body))
}

/// Outbox: the column header, the list and the detail lines, inside the box.
fn outbox_areas(body: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(Block::new().borders(Borders::ALL).inner(body))
}

/// The inside of the bordered fields box.
fn fields_inner(fields: Rect) -> Rect {
    Block::new().borders(Borders::ALL).inner(fields)
}

/// First row shown so that the focused row stays in view, centred when it can be.
fn scroll_offset(focused: usize, count: usize, height: usize) -> usize {
    if count <= height {
        0
    } else {
        focused.saturating_sub(height / 2).min(count - height)
    }
}

/// The mark of a stored visit's state (with its name beside it, never alone).
fn state_mark(state: crate::store::VisitState, theme: Theme) -> (&'static str, Style) {
    use crate::store::VisitState::*;
    match state {
        Failed => theme.mark(Severity::Error),
        Draft | Queued => ("…", theme.dim()),
        Saved | Submitted => (OK_MARK, theme.ok()),
    }
}

/// A list's column header, indented past the focus and state marks of its rows.
fn draw_column_header(frame: &mut Frame, area: Rect, text: &str, theme: Theme) {
    frame.render_widget(
        Paragraph::new(Span::styled(format!("   {text}"), theme.dim())),
        area,
    );
}

/// A bordered box with a title, as every screen uses.
fn titled(title: String, theme: Theme) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.title()))
        .border_style(theme.dim())
}

/// The visible rows of a list with a cursor: focus mark, state mark, text; scrolled
/// so the selected row stays in view. `row(i)` gives row i's mark and text.
fn list_lines<'a>(
    count: usize,
    selected: usize,
    height: usize,
    theme: Theme,
    row: impl Fn(usize) -> ((&'a str, Style), String),
) -> Vec<Line<'a>> {
    let offset = scroll_offset(selected, count, height);
    (offset..count.min(offset + height))
        .map(|i| {
            let ((mark, mark_style), text) = row(i);
            let chosen = i == selected;
            Line::from(vec![
                Span::raw(if chosen { FOCUS_MARK } else { " " }),
                Span::styled(mark, mark_style),
                Span::raw(" "),
                Span::styled(text, if chosen { theme.focus() } else { Style::new() }),
            ])
        })
        .collect()
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let theme = Theme { color: app.color };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area);
        return;
    }
    let r = regions(area);
    draw_header(frame, app, r.header, theme);
    if app.screen != Screen::Form {
        let body = screen_body(area);
        let status = Rect {
            y: area.bottom() - 1,
            height: 1,
            ..area
        };
        match app.screen {
            Screen::Preview => draw_preview(frame, app, body, theme),
            Screen::Outbox => draw_outbox(frame, app, body, theme),
            _ => draw_history(frame, app, body, theme),
        }
        draw_status(frame, app, status, theme);
        match app.mode {
            Mode::Help { scroll } => draw_help(frame, area, scroll, theme),
            Mode::Confirm(question) => draw_confirm(frame, app, area, question, theme),
            _ => {}
        }
        return;
    }
    draw_pages(frame, app, r.pages, theme);
    match app.page {
        Page::Review => draw_review(frame, app, r.fields, theme),
        _ => draw_fields(frame, app, r.fields, theme),
    }
    draw_detail(frame, app, r.detail, theme);
    draw_status(frame, app, r.status, theme);
    match app.mode {
        Mode::Picker { selected } => draw_picker(frame, app, r.fields, selected, theme),
        Mode::Help { scroll } => draw_help(frame, area, scroll, theme),
        Mode::Confirm(question) => draw_confirm(frame, app, area, question, theme),
        Mode::Form => {}
    }
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
    let y = area.height.saturating_sub(3) / 2;
    let rect = Rect {
        y: area.y + y,
        height: 3.min(area.height),
        ..area
    };
    frame.render_widget(
        Paragraph::new(text).centered().wrap(Wrap { trim: true }),
        rect,
    );
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let state = if app.dirty { "not saved" } else { "new visit" };
    let left = Line::from(vec![
        Span::styled(" vaxentry ", theme.title().add_modifier(Modifier::REVERSED)),
        Span::raw(format!(" {} · {state}", app.source_name())),
    ]);
    let clock = app.now.format(" %Y-%m-%d %H:%M ").to_string();
    let sync = sync_status(app, theme);
    let sync_width = sync.width() as u16;
    let [left_area, sync_area, clock_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(sync_width),
        Constraint::Length(clock.width() as u16),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(left), left_area);
    frame.render_widget(Paragraph::new(sync), sync_area);
    frame.render_widget(Paragraph::new(clock).right_aligned(), clock_area);
}

/// Where sending stands: "⇅ 3 waiting · 14:05 ok", or "offline" when no endpoint.
fn sync_status(app: &App, theme: Theme) -> Line<'static> {
    let s = &app.sync;
    if !s.configured {
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

fn page_label(app: &App, page: Page) -> String {
    match page {
        Page::Patient => "Patient".into(),
        Page::Dose(i) => {
            let vaccine = app.visit.doses[i].get(FieldId::Vaccine);
            let short = table(crate::codes::TableId::Cvx)
                .get(vaccine)
                .map(|c| c.code.clone())
                .unwrap_or_default();
            format!("Dose {} {short}", i + 1)
        }
        Page::Review => "Review".into(),
    }
}

/// The finding that decides a page's mark: a real error first, then a field to
/// fill, then a warning.
fn page_finding(app: &App, page: Page) -> Option<&Finding> {
    let rank = |f: &&Finding| match (f.severity, f.rule) {
        (Severity::Error, Rule::Required) => 1,
        (Severity::Error, _) => 0,
        (Severity::Warning, Rule::Recommended) => 3,
        (Severity::Warning, _) => 2,
    };
    app.findings
        .iter()
        .filter(|f| match page {
            Page::Patient => f.at.dose.is_none(),
            Page::Dose(i) => f.at.dose == Some(i),
            Page::Review => true,
        })
        .min_by_key(rank)
}

fn draw_pages(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let lines: Vec<Line> = app
        .pages()
        .into_iter()
        .map(|page| {
            let (mark, mark_style) = match page_finding(app, page) {
                Some(f) => theme.finding_mark(f),
                None => (OK_MARK, theme.ok()),
            };
            let focused = page == app.page;
            let text = format!("{:<11}", page_label(app, page));
            Line::from(vec![
                Span::raw(if focused { FOCUS_MARK } else { " " }),
                Span::styled(mark, mark_style),
                Span::raw(" "),
                Span::styled(text, if focused { theme.focus() } else { Style::new() }),
            ])
        })
        .collect();
    let block = Block::new()
        .borders(Borders::RIGHT)
        .border_style(theme.dim());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The value as shown when the field is not being edited: codes with their display,
/// dates with the date they stand for.
fn shown_value(app: &App, page: Page, field: FieldId) -> (String, Option<String>) {
    let raw = app.value(page, field);
    let hint = match field.spec().kind {
        Kind::Coded(t) => table(t)
            .get(raw)
            .filter(|c| c.code != c.display)
            .map(|c| c.display.clone()),
        Kind::Date => parse_date(raw, app.now.date_naive()).ok().map(display_date),
        Kind::DateTime => parse_datetime(raw, app.now).ok().map(|d| d.to_display()),
        _ => None,
    };
    let hint = hint.filter(|h| !raw.is_empty() && h != raw);
    (raw.to_string(), hint)
}

/// The most serious finding about a field (findings are sorted errors first).
fn worst(app: &App, page: Page, field: FieldId) -> Option<&Finding> {
    app.findings_at(page, field).next()
}

fn draw_fields(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let title = match app.page {
        Page::Patient => " Patient ".to_string(),
        Page::Dose(i) => format!(" Dose {} of {} ", i + 1, app.visit.doses.len()),
        Page::Review => String::new(),
    };
    let block = titled(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let fields = app.visible_fields(app.page);
    let focused_index = fields.iter().position(|f| *f == app.field).unwrap_or(0);
    let offset = scroll_offset(focused_index, fields.len(), inner.height as usize);
    let value_x = inner.x + MARKS_WIDTH + LABEL_WIDTH as u16 + 1;
    let value_width = inner.right().saturating_sub(value_x) as usize;
    for (row, field) in fields
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner.height as usize)
    {
        let y = inner.y + (row - offset) as u16;
        let focused = *field == app.field;
        let (mark, mark_style) = match worst(app, app.page, *field) {
            Some(f) => theme.finding_mark(f),
            None => (" ", Style::new()),
        };
        let label = format!("{:<width$}", field.spec().label, width = LABEL_WIDTH);
        let mut spans = vec![
            Span::raw(if focused { FOCUS_MARK } else { " " }),
            Span::styled(mark, mark_style),
            Span::raw("  "),
            Span::styled(
                label,
                if focused {
                    theme.focus()
                } else {
                    theme.label()
                },
            ),
            Span::raw(" "),
        ];
        let (raw, hint) = shown_value(app, app.page, *field);
        if focused && app.mode != Mode::Form && !matches!(app.mode, Mode::Picker { .. }) {
            spans.push(Span::raw(raw.clone()));
        } else if focused {
            let scroll = app.input.visual_scroll(value_width.saturating_sub(1));
            let visible: String = skip_width(app.input.value(), scroll);
            spans.push(Span::raw(visible));
            let cursor_x = value_x + (app.input.visual_cursor().saturating_sub(scroll)) as u16;
            if !matches!(app.mode, Mode::Help { .. } | Mode::Confirm(_)) {
                frame.set_cursor_position((cursor_x.min(inner.right().saturating_sub(1)), y));
            }
        } else {
            spans.push(Span::raw(raw.clone()));
        }
        if let Some(hint) = hint {
            spans.push(Span::styled(format!("  → {hint}"), theme.dim()));
        }
        frame.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect {
                x: inner.x,
                y,
                width: inner.width,
                height: 1,
            },
        );
    }
    if offset + (inner.height as usize) < fields.len() {
        let more = format!(" ↓ {} more ", fields.len() - offset - inner.height as usize);
        let x = area.right().saturating_sub(more.width() as u16 + 2);
        frame.render_widget(
            Paragraph::new(Span::styled(more, theme.dim())),
            Rect {
                x,
                y: area.bottom() - 1,
                width: 14,
                height: 1,
            },
        );
    }
}

/// The text after the first `width` columns.
fn skip_width(text: &str, width: usize) -> String {
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

fn draw_review(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let title = format!(
        " Review: {} to fill, {} error(s), {} warning(s) ",
        app.to_fill(),
        app.errors(),
        app.warnings()
    );
    let block = titled(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.findings.is_empty() {
        let line = Line::from(vec![
            Span::styled(OK_MARK, theme.ok()),
            Span::raw(" No problems found. This visit is ready."),
        ]);
        frame.render_widget(Paragraph::new(line), inner);
        return;
    }
    let lines = list_lines(
        app.findings.len(),
        app.review_index,
        inner.height as usize,
        theme,
        |i| {
            let f = &app.findings[i];
            (
                theme.finding_mark(f),
                format!("{} · {}", f.at.section(), f.message),
            )
        },
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_detail(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let (title, mut lines) = if app.page == Page::Review {
        (
            " Review ".to_string(),
            vec![Line::from(
                "↑ ↓ choose a problem, Enter to go to its field. Fix every ✗ before the visit can be sent.",
            )],
        )
    } else {
        let spec = app.field.spec();
        (
            format!(" {} ", spec.label),
            vec![Line::from(Span::styled(spec.help, theme.dim()))],
        )
    };
    if let Mode::Picker { .. } = app.mode {
        lines.push(Line::from(
            "Pick from the list: ↑ ↓ to choose, Enter or Tab to take it, Esc to undo.",
        ));
    } else if app.page != Page::Review {
        let findings: Vec<_> = app.findings_at(app.page, app.field).collect();
        for f in findings.iter().take(2) {
            let (mark, style) = theme.finding_mark(f);
            lines.push(Line::from(vec![
                Span::styled(mark, style),
                Span::raw(" "),
                Span::raw(f.message.clone()),
            ]));
        }
        if findings.is_empty() && !app.value(app.page, app.field).is_empty() {
            lines.push(Line::from(vec![
                Span::styled(OK_MARK, theme.ok()),
                Span::raw(" looks right"),
            ]));
        }
    }
    let block = Block::new()
        .borders(Borders::TOP)
        .title(Span::styled(title, theme.title()))
        .border_style(theme.dim());
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let (to_fill, errors, warnings) = (app.to_fill(), app.errors(), app.warnings());
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
            .is_some_and(|p| p.source == super::preview::Source::Current),
        Screen::History | Screen::Outbox => false,
    };
    // A notice (saved, failed, ...) gets the whole line.
    if !about_form || app.notice.is_some() {
        counts.clear();
    }
    let counts_width: usize = counts.iter().map(|s| s.content.width()).sum();
    let [left, right] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(counts_width as u16)])
            .areas(area);
    let keys: Line = match &app.notice {
        Some(notice) => Line::from(Span::raw(notice.clone())),
        None => key_line(&status_hints(app), left.width, theme),
    };
    frame.render_widget(Paragraph::new(keys), left);
    frame.render_widget(Paragraph::new(Line::from(counts)), right);
}

/// The hints for what is in front of the user, from the binding table: the screen's
/// own (the form's are followed by the ones that work everywhere).
fn status_hints(app: &App) -> Vec<(String, &'static str)> {
    let scope = match (app.mode, app.screen) {
        (Mode::Confirm(_), _) => Scope::Confirm,
        (Mode::Help { .. }, _) => Scope::Help,
        (Mode::Picker { .. }, _) => Scope::Picker,
        (Mode::Form, Screen::Form) => {
            let mut hints = bindings::hints(Scope::Form);
            hints.extend(bindings::hints(Scope::Everywhere));
            return hints;
        }
        (Mode::Form, Screen::Preview) => Scope::Preview,
        (Mode::Form, Screen::History) => Scope::History,
        (Mode::Form, Screen::Outbox) => Scope::Outbox,
    };
    bindings::hints(scope)
}

/// Key hints, as many whole ones as fit in `width`.
fn key_line(keys: &[(String, &str)], width: u16, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (key, what) in keys {
        let hint = format!(" {what}  ");
        let needed = key.width() + hint.width();
        if used + needed > width as usize {
            break;
        }
        used += needed;
        spans.push(Span::styled(key.clone(), theme.key()));
        spans.push(Span::raw(hint));
    }
    Line::from(spans)
}

const PICKER_ROWS: usize = 8;

/// Where the picker box goes: under the focused row if it fits, else above it.
fn picker_area(app: &App, fields: Rect, rows: usize) -> Rect {
    let inner = fields_inner(fields);
    let visible = app.visible_fields(app.page);
    let index = visible.iter().position(|f| *f == app.field).unwrap_or(0);
    let offset = scroll_offset(index, visible.len(), inner.height as usize);
    let row_y = inner.y + (index - offset) as u16;
    let height = rows as u16 + 2;
    let x = inner.x + MARKS_WIDTH + 2;
    let width = inner.right().saturating_sub(x);
    let y = if row_y + 1 + height <= fields.bottom() {
        row_y + 1
    } else {
        row_y.saturating_sub(height)
    };
    Rect {
        x,
        y,
        width,
        height,
    }
}

fn draw_picker(frame: &mut Frame, app: &App, fields: Rect, selected: usize, theme: Theme) {
    let Kind::Coded(t) = app.field.spec().kind else {
        return;
    };
    let choices = app.picker_choices();
    let rows = choices.len().clamp(1, PICKER_ROWS);
    let area = picker_area(app, fields, rows);
    let title = format!(" {}: {} match(es) ", table(t).name, choices.len());
    let block = Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    if choices.is_empty() {
        let text = format!(
            "No code matches '{}'. Keep typing, or Esc to undo.",
            app.input.value()
        );
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    let offset = scroll_offset(selected, choices.len(), rows);
    let lines: Vec<Line> = choices
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(i, c)| {
            let chosen = i == selected;
            let inactive = if c.active { "" } else { " (inactive)" };
            let style = if chosen { theme.focus() } else { Style::new() };
            Line::from(vec![
                Span::raw(if chosen { FOCUS_MARK } else { " " }),
                Span::styled(format!("{:<9}{}", c.code, c.display), style),
                Span::styled(inactive, theme.dim()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// The help text: every key binding by where it works, then what each field means.
pub fn help_lines(theme: Theme) -> Vec<Line<'static>> {
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

fn draw_help(frame: &mut Frame, area: Rect, scroll: u16, theme: Theme) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    );
    let lines = help_lines(theme);
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

fn draw_confirm(frame: &mut Frame, app: &App, area: Rect, question: Confirm, theme: Theme) {
    let text = match question {
        Confirm::Quit => {
            "Quit vaxentry? This visit is not saved yet; it is kept as a draft and offered when vaxentry starts again.".to_string()
        }
        Confirm::RemoveDose(i) => {
            let vaccine = app
                .visit
                .doses
                .get(i)
                .map(|d| d.get(FieldId::Vaccine))
                .unwrap_or_default();
            format!(
                "Remove dose {} ({})? Its fields will be lost.",
                i + 1,
                if vaccine.is_empty() {
                    "no vaccine yet"
                } else {
                    vaccine
                }
            )
        }
        Confirm::ResumeDraft => {
            let name = app.pending_draft.as_ref().map(|(_, v)| crate::store::Summary::of(v, app.now).patient_name).unwrap_or_default();
            let name = if name.is_empty() { "no name yet".to_string() } else { name };
            format!("A visit was being typed when vaxentry last stopped ({name}). Resume it? n discards it.")
        }
        Confirm::DeleteDraft(_) => "Delete this draft? What was typed in it is lost.".to_string(),
        Confirm::Resubmit(_) => "Send this visit again as a NEW message, with a new Bundle.id? The endpoint will see it as a second message; do this only when it asks for it.".to_string(),
        Confirm::NewVisit => {
            "Start a new visit? This one is not saved yet; it stays in History (F4) as a draft.".to_string()
        }
    };
    let rect = centered(area, 60, 6);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(" Please confirm ", theme.title()));
    let lines = vec![
        Line::from(text),
        Line::from(""),
        key_line(&bindings::hints(Scope::Confirm), rect.width, theme),
    ];
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        rect,
    );
}

/// What is at a screen position, laid out exactly as `draw` lays it out.
pub fn hit(app: &App, column: u16, row: u16) -> Option<Target> {
    let area = Rect {
        x: 0,
        y: 0,
        width: app.size.0,
        height: app.size.1,
    };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT || app.mode != Mode::Form {
        return None;
    }
    let r = regions(area);
    let inside = |rect: Rect| {
        column >= rect.x && column < rect.right() && row >= rect.y && row < rect.bottom()
    };
    // A row of a list screen.
    let list_row = |list: Rect, selected: usize, count: usize| {
        let offset = scroll_offset(selected, count, list.height as usize);
        let index = offset + (row - list.y) as usize;
        (inside(list) && index < count).then_some(Target::Row(index))
    };
    match app.screen {
        Screen::History => {
            return list_row(
                history_areas(screen_body(area))[2],
                app.history.selected,
                app.history.rows.len(),
            );
        }
        Screen::Outbox => {
            return list_row(
                outbox_areas(screen_body(area))[1],
                app.outbox.selected,
                app.outbox.rows.len(),
            );
        }
        Screen::Preview => return None,
        Screen::Form => {}
    }
    if inside(r.pages) {
        return app
            .pages()
            .get((row - r.pages.y) as usize)
            .map(|p| Target::Page(*p));
    }
    let inner = fields_inner(r.fields);
    if !inside(inner) {
        return None;
    }
    let line = (row - inner.y) as usize;
    if app.page == Page::Review {
        let offset = scroll_offset(app.review_index, app.findings.len(), inner.height as usize);
        return (offset + line < app.findings.len()).then_some(Target::Finding(offset + line));
    }
    let fields = app.visible_fields(app.page);
    let focused = fields.iter().position(|f| *f == app.field).unwrap_or(0);
    let offset = scroll_offset(focused, fields.len(), inner.height as usize);
    fields.get(offset + line).map(|f| Target::Field(*f))
}

fn draw_preview(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let Some(preview) = &app.preview else { return };
    let title = match &preview.source {
        super::preview::Source::Current => {
            " Preview: what Ctrl+S saves and what is sent ".to_string()
        }
        super::preview::Source::Stored { state, .. } => {
            format!(" Stored visit ({}), read-only ", state.as_str())
        }
        super::preview::Source::Answer { .. } => " The endpoint's answers ".to_string(),
    };
    let block = titled(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = preview.text_lines();
    let json_start = preview.summary.len() + 2;
    let matches = preview.matches();
    let height = inner.height.saturating_sub(u16::from(preview.searching)) as usize;
    let shown: Vec<Line> = lines
        .iter()
        .enumerate()
        .skip(preview.scroll)
        .take(height)
        .map(|(i, text)| {
            let mut line = if preview.message.is_some() && i >= json_start {
                super::preview::highlight(text, theme)
            } else if text.trim_start().starts_with(super::theme::ERROR_MARK) {
                Line::from(Span::styled(text.clone(), theme.mark(Severity::Error).1))
            } else {
                Line::from(text.clone())
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

fn draw_history(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let h = &app.history;
    let title = format!(
        " History: {} shown{} ",
        h.rows.len(),
        if h.complete { "" } else { "+" }
    );
    frame.render_widget(titled(title, theme), area);
    let [filter, header, list] = history_areas(area);
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
        format!("{date:<10}  {state:<9}  {mrn:<12}  {name:<26}  {vaccines}")
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
    let lines = list_lines(h.rows.len(), h.selected, list.height as usize, theme, |i| {
        let r = &h.rows[i];
        let name: String = r.patient_name.chars().take(26).collect();
        (
            state_mark(r.state, theme),
            columns(&r.visit_date, r.state.as_str(), &r.mrn, &name, &r.vaccines),
        )
    });
    frame.render_widget(Paragraph::new(lines), list);
}

fn draw_outbox(frame: &mut Frame, app: &App, area: Rect, theme: Theme) {
    let view = &app.outbox;
    let (waiting, failed) = (app.sync.waiting, app.sync.failed);
    let title = format!(" Outbox: {waiting} waiting, {failed} failed ");
    frame.render_widget(titled(title, theme), area);
    let [header, list, detail] = outbox_areas(area);
    let columns = |state: &str, name: &str, vaccines: &str, tries: &str, last: &str| {
        format!("{state:<10} {name:<24} {vaccines:<10} {tries:>5}  {last}")
    };
    draw_column_header(
        frame,
        header,
        &columns("State", "Patient", "Vaccines", "Tries", "Last attempt"),
        theme,
    );
    if view.rows.is_empty() {
        let text = if app.sync.configured {
            "Nothing waiting. Ctrl+G saves a visit and sends it."
        } else {
            "Nothing waiting. No endpoint is configured: visits are saved here only (see README, [endpoint])."
        };
        frame.render_widget(Paragraph::new(text), list);
        return;
    }
    let lines = list_lines(
        view.rows.len(),
        view.selected,
        list.height as usize,
        theme,
        |i| {
            let r = &view.rows[i];
            let mark = state_mark(r.row.state, theme);
            let name: String = r.row.patient_name.chars().take(24).collect();
            (
                mark,
                columns(
                    r.row.state.as_str(),
                    &name,
                    &r.row.vaccines,
                    &r.attempts.to_string(),
                    &r.last_outcome,
                ),
            )
        },
    );
    frame.render_widget(Paragraph::new(lines), list);
    if let Some(r) = view.selected_row() {
        let next = r
            .next_attempt_at
            .filter(|_| r.row.state == crate::store::VisitState::Queued)
            .map(|t| {
                format!(
                    " · next try {}",
                    t.with_timezone(&app.now.timezone())
                        .format("%Y-%m-%d %H:%M:%S")
                )
            })
            .unwrap_or_default();
        let text = format!(
            "{}{next}",
            if r.last_outcome.is_empty() {
                "Not tried yet"
            } else {
                r.last_outcome.as_str()
            }
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), detail);
    }
}
