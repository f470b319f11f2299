//! Drawing the form: the sections down the left, the fields (or Review's list of
//! problems) in the middle, the focused field's help and problems below, and the code
//! picker over the fields. Each clickable row is added to the layout.

use super::Form;
use crate::clock::ClinicTime;
use crate::codes::{products, table};
use crate::record::parse::{display_date, parse_date, parse_datetime};
use crate::record::{FieldId, Finding, Kind, Rule, Severity};
use crate::tui::layout::Layout as Hits;
use crate::tui::msg::{Page, Target};
use crate::tui::theme::{FOCUS_MARK, OK_MARK, Theme};
use crate::tui::widgets::{draw_list, scroll_offset, skip_width, titled};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const PAGES_WIDTH: u16 = 14;
const LABEL_WIDTH: usize = 16;
/// Focus mark, severity mark, space: the columns before a label.
const MARKS_WIDTH: u16 = 4;
const PICKER_ROWS: usize = 8;

/// The form's regions between the header and the status line.
struct Regions {
    pages: Rect,
    fields: Rect,
    detail: Rect,
}

fn regions(body: Rect) -> Regions {
    let [main, detail] = Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(body);
    let [pages, fields] =
        Layout::horizontal([Constraint::Length(PAGES_WIDTH), Constraint::Min(10)]).areas(main);
    Regions {
        pages,
        fields,
        detail,
    }
}

/// The fields of the section shown, the focused one's index, and the first one
/// shown in `inner` (the focused field stays in view).
fn shown_fields(form: &Form, inner: Rect) -> (Vec<FieldId>, usize, usize) {
    let fields = form.visible_fields(form.focus.page);
    let focused = fields
        .iter()
        .position(|f| *f == form.focus.field)
        .unwrap_or(0);
    let offset = scroll_offset(focused, fields.len(), inner.height as usize);
    (fields, focused, offset)
}

/// The inside of the bordered fields box.
fn fields_inner(fields: Rect) -> Rect {
    Block::new().borders(Borders::ALL).inner(fields)
}

/// What drawing the form needs besides the form: the time (dates are shown with the
/// day they stand for), whether the keys come to the form (no help or question over
/// it), and the theme.
#[derive(Clone, Copy)]
pub struct Look {
    pub now: ClinicTime,
    pub keys_here: bool,
    pub theme: Theme,
}

/// Draws the form into `body` (the space between header and status line).
pub fn draw(frame: &mut Frame, form: &Form, body: Rect, hits: &mut Hits, look: Look) {
    let r = regions(body);
    let theme = look.theme;
    draw_pages(frame, form, r.pages, hits, theme);
    match form.focus.page {
        Page::Review => draw_review(frame, form, r.fields, hits, theme),
        _ => draw_fields(frame, form, r.fields, hits, look),
    }
    draw_detail(frame, form, r.detail, theme);
    if matches!(form.overlay, Some(super::Overlay::Due))
        && let Some(due) = &form.due
    {
        draw_due(frame, due, r.fields, theme);
        hits.clear();
    } else if let Some(jump) = form.jump() {
        draw_jump(frame, form, r.fields, jump, theme);
        hits.clear();
    } else if let Some(picker) = form.picker() {
        draw_picker(frame, form, r.fields, picker, theme);
        // The picker covers the fields: a click means nothing until it closes.
        hits.clear();
    }
}

fn page_label(form: &Form, page: Page) -> String {
    match page {
        Page::Patient => "Patient".into(),
        Page::Dose(i) => {
            let vaccine = form.visit.doses[i].get(FieldId::Vaccine);
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
fn page_finding(form: &Form, page: Page) -> Option<&Finding> {
    let rank = |f: &&Finding| match (f.severity, f.rule) {
        (Severity::Error, Rule::Required) => 1,
        (Severity::Error, _) => 0,
        (Severity::Warning, Rule::Recommended) => 3,
        (Severity::Warning, _) => 2,
    };
    form.checks
        .findings
        .iter()
        .filter(|f| match page {
            Page::Patient => f.at.dose.is_none(),
            Page::Dose(i) => f.at.dose == Some(i),
            Page::Review => true,
        })
        .min_by_key(rank)
}

fn draw_pages(frame: &mut Frame, form: &Form, area: Rect, hits: &mut Hits, theme: Theme) {
    let block = Block::new()
        .borders(Borders::RIGHT)
        .border_style(theme.dim());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let pages = form.pages();
    let focused = pages
        .iter()
        .position(|p| *p == form.focus.page)
        .unwrap_or(0);
    draw_list(frame, hits, inner, (pages.len(), focused), theme, |i| {
        let page = pages[i];
        let mark = match page_finding(form, page) {
            Some(f) => theme.finding_mark(f),
            None => (OK_MARK, theme.ok()),
        };
        (
            Target::Page(page),
            mark,
            format!("{:<11}", page_label(form, page)),
        )
    });
}

/// The value as shown when the field is not being edited: codes with their display,
/// dates with the date they stand for.
fn shown_value(
    form: &Form,
    page: Page,
    field: FieldId,
    now: ClinicTime,
) -> (String, Option<String>) {
    let raw = form.value(page, field);
    let hint = match field.spec().kind {
        Kind::Coded(t) => table(t)
            .get(raw)
            .filter(|c| c.code != c.display)
            .map(|c| c.display.clone()),
        Kind::Date => parse_date(raw, now.date_naive()).ok().map(display_date),
        Kind::ExpiryDate => crate::record::parse::parse_expiry(raw, now.date_naive())
            .ok()
            .map(display_date),
        Kind::DateTime => parse_datetime(raw, now).ok().map(|d| d.to_display()),
        _ => None,
    };
    let hint = hint.filter(|h| !raw.is_empty() && h != raw);
    // The VIS as given: by default CDC's for the vaccine; an edition shows where it is
    // not the one current on the dose day.
    let hint = match (field, page) {
        (FieldId::Vis, Page::Dose(i)) => form.visit.doses.get(i).and_then(|dose| {
            let day = crate::record::parse::parse_datetime(dose.get(FieldId::Administered), now)
                .map(|d| d.date())
                .unwrap_or(now.date_naive());
            let given = crate::record::education::of_dose(dose, now);
            let said: Vec<String> = given
                .iter()
                .map(|g| match g.edition {
                    Some(date) if g.document.edition_on(day).map(|e| e.date) != Some(date) => {
                        format!("{} {}", g.document.key, date.format("%Y-%m-%d"))
                    }
                    _ => g.document.key.clone(),
                })
                .collect();
            match (said.is_empty(), raw.trim().is_empty()) {
                (true, _) => None,
                (false, true) => Some(format!("CDC's: {}", said.join(", "))),
                (false, false) => Some(said.join(", ")).filter(|s| s != raw.trim()),
            }
        }),
        _ => hint,
    };
    (raw.to_string(), hint)
}

/// The most serious finding about a field (findings are sorted errors first).
fn worst(form: &Form, page: Page, field: FieldId) -> Option<&Finding> {
    form.findings_at(page, field).next()
}

fn draw_fields(frame: &mut Frame, form: &Form, area: Rect, hits: &mut Hits, look: Look) {
    let (theme, now) = (look.theme, look.now);
    let title = match form.focus.page {
        Page::Patient => " Patient ".to_string(),
        Page::Dose(i) => format!(" Dose {} of {} ", i + 1, form.visit.doses.len()),
        Page::Review => String::new(),
    };
    let block = titled(title.clone(), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (fields, _, offset) = shown_fields(form, inner);
    let value_x = inner.x + MARKS_WIDTH + LABEL_WIDTH as u16 + 1;
    let value_width = inner.right().saturating_sub(value_x) as usize;
    for (row, field) in fields
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner.height as usize)
    {
        let y = inner.y + (row - offset) as u16;
        let line = Rect {
            x: inner.x,
            y,
            width: inner.width,
            height: 1,
        };
        hits.add(line, Target::Field(*field));
        let focused = *field == form.focus.field;
        let (mark, mark_style) = match worst(form, form.focus.page, *field) {
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
        let (raw, hint) = shown_value(form, form.focus.page, *field, now);
        // Under a help or question overlay the field shows its value, with no cursor.
        if focused && look.keys_here {
            let input = &form.focus.input;
            let scroll = input.visual_scroll(value_width.saturating_sub(1));
            // A value that typing will replace is shown selected.
            let style = if form.focus.fresh {
                theme.focus()
            } else {
                Style::new()
            };
            spans.push(Span::styled(skip_width(input.value(), scroll), style));
            let cursor_x = value_x + (input.visual_cursor().saturating_sub(scroll)) as u16;
            frame.set_cursor_position((cursor_x.min(inner.right().saturating_sub(1)), y));
        } else {
            spans.push(Span::raw(raw.clone()));
        }
        if let Some(hint) = hint {
            spans.push(Span::styled(format!("  → {hint}"), theme.dim()));
        }
        // One line: drawn as a line, without a paragraph's reflow.
        frame.render_widget(Line::from(spans), line);
    }
    // A returning patient's doses from other visits, on the box's lower edge.
    // " Earlier: " and the "↓ N more" of the same edge take 28 columns.
    let room = usize::from(area.width.saturating_sub(28));
    if let Some(earlier) = form.earlier_doses(room) {
        let text = format!(" Earlier: {earlier} ");
        let width = area.width.saturating_sub(18).min(text.width() as u16);
        frame.render_widget(
            Line::from(Span::styled(text, theme.dim())),
            Rect {
                x: area.x + 2,
                y: area.bottom() - 1,
                width,
                height: 1,
            },
        );
    }
    // What the endpoint holds for the patient, apart: on the box's upper edge, right
    // of the title.
    if let Some(theirs) = form.endpoint_doses(now) {
        let text = format!(" {theirs} ");
        let left = area.x + title.width() as u16 + 3;
        let room = area.right().saturating_sub(left + 1);
        let width = room.min(text.width() as u16);
        frame.render_widget(
            Line::from(Span::styled(text, theme.dim())),
            Rect {
                x: area.right().saturating_sub(width + 1),
                y: area.y,
                width,
                height: 1,
            },
        );
    }
    if offset + (inner.height as usize) < fields.len() {
        let more = format!(" ↓ {} more ", fields.len() - offset - inner.height as usize);
        let x = area.right().saturating_sub(more.width() as u16 + 2);
        frame.render_widget(
            Line::from(Span::styled(more, theme.dim())),
            Rect {
                x,
                y: area.bottom() - 1,
                width: 14,
                height: 1,
            },
        );
    }
}

fn draw_review(frame: &mut Frame, form: &Form, area: Rect, hits: &mut Hits, theme: Theme) {
    let title = format!(
        " Review: {} to fill, {} error(s), {} warning(s) ",
        form.to_fill(),
        form.errors(),
        form.warnings()
    );
    let block = titled(title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if form.checks.findings.is_empty() {
        let line = Line::from(vec![
            Span::styled(OK_MARK, theme.ok()),
            Span::raw(" No problems found. This visit is ready."),
        ]);
        frame.render_widget(Paragraph::new(line), inner);
        return;
    }
    let findings = &form.checks.findings;
    draw_list(
        frame,
        hits,
        inner,
        (findings.len(), form.checks.review.selected),
        theme,
        |i| {
            let f = &findings[i];
            (
                Target::Finding(i),
                theme.finding_mark(f),
                format!("{} · {}", f.at.section(), f.message),
            )
        },
    );
}

fn draw_detail(frame: &mut Frame, form: &Form, area: Rect, theme: Theme) {
    // On Review, the chosen problem in full (its line in the list may be cut).
    let chosen = (form.focus.page == Page::Review)
        .then(|| form.checks.findings.get(form.checks.review.selected))
        .flatten();
    let (title, mut lines) = if let Some(f) = chosen {
        let (mark, style) = theme.finding_mark(f);
        (
            format!(" {} ", f.at.section()),
            vec![Line::from(vec![
                Span::styled(mark, style),
                Span::raw(" "),
                Span::raw(f.message.clone()),
            ])],
        )
    } else if form.focus.page == Page::Review {
        (
            " Review ".to_string(),
            vec![Line::from(
                "↑ ↓ choose a problem, Enter to go to its field. Fix every ✗ before the visit can be sent.",
            )],
        )
    } else {
        let spec = form.focus.field.spec();
        (
            format!(" {} ", spec.label),
            vec![Line::from(Span::styled(spec.help, theme.dim()))],
        )
    };
    if form.picker().is_some() {
        lines.push(Line::from(
            "Pick from the list: ↑ ↓ to choose, Enter or Tab to take it, Esc to undo.",
        ));
    } else if form.focus.page != Page::Review {
        let findings: Vec<_> = form
            .findings_at(form.focus.page, form.focus.field)
            .collect();
        // A problem is read whole: when the help and it do not both fit, the help
        // (F1 has it) gives way.
        let width = usize::from(area.width);
        let rows = |text: &str| crate::tui::widgets::wrap(text, width).len();
        let finding_rows: usize = findings.iter().take(2).map(|f| rows(&f.message)).sum();
        if !findings.is_empty() && rows(form.focus.field.spec().help) + finding_rows > 3 {
            lines.clear();
        }
        for f in findings.iter().take(2) {
            let (mark, style) = theme.finding_mark(f);
            lines.push(Line::from(vec![
                Span::styled(mark, style),
                Span::raw(" "),
                Span::raw(f.message.clone()),
            ]));
        }
        if let Some(suggested) = form.suggestion() {
            let more = match form.returning.suggestions.len() {
                1 => String::new(),
                n => format!(" ({} of {n}: Alt+↓ the next)", form.returning.chosen + 1),
            };
            lines.push(Line::from(vec![
                Span::styled("F7 fills ", theme.title()),
                Span::raw(format!("{}{more}", suggested.describe())),
            ]));
        } else if findings.is_empty() && !form.value(form.focus.page, form.focus.field).is_empty() {
            lines.push(Line::from(vec![
                Span::styled(OK_MARK, theme.ok()),
                Span::raw(" looks right"),
            ]));
        }
    }
    let mut block = Block::new()
        .borders(Borders::TOP)
        .title(Span::styled(title.clone(), theme.title()))
        .border_style(theme.dim());
    // What is due, on the panel's edge: always in sight, Alt+D for the whole of it.
    if let Some(due) = &form.due {
        let room = usize::from(area.width).saturating_sub(title.width() + 4);
        let text = fit(&format!(" {} · Alt+D ", due.summary), room);
        block = block.title_top(Line::from(Span::styled(text, theme.title())).right_aligned());
    }
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}

/// `text` cut to `room` columns, with "…" where it was cut.
fn fit(text: &str, room: usize) -> String {
    if text.width() <= room {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if out.width() + c.width().unwrap_or(0) + 2 > room {
            break;
        }
        out.push(c);
    }
    format!("{out}… ")
}

/// Alt+D: each vaccine group still needed, soonest first, then those done.
fn draw_due(frame: &mut Frame, due: &super::due::Due, fields: Rect, theme: Theme) {
    use crate::forecast::SeriesStatus;
    use crate::record::due::{or_dash, short_name};
    let today = due.assessment.as_of;
    let block = Block::new().borders(Borders::ALL).title(Span::styled(
        format!(
            " Due on {today} (CDC CDSi {}): Esc closes ",
            crate::forecast::data::SUPPORTING_DATA_VERSION
        ),
        theme.title(),
    ));
    let inner = block.inner(fields);
    frame.render_widget(Clear, fields);
    frame.render_widget(block, fields);
    let mut needed: Vec<_> = due
        .assessment
        .groups
        .iter()
        .filter(|g| g.forecast.status == SeriesStatus::NotComplete)
        .collect();
    needed.sort_by_key(|g| g.forecast.recommended);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<12} {:>4}  {:<10}  {:<11} {:<10}",
            "Group", "Dose", "Earliest", "Recommended", "Past due"
        ),
        theme.dim(),
    ))];
    for g in &needed {
        let (flag, style) = if g.forecast.overdue_on(today) {
            (
                "overdue",
                theme.mark(crate::record::finding::Severity::Error).1,
            )
        } else if g.forecast.due_on(today) {
            ("due", theme.title())
        } else {
            ("", Style::new())
        };
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:<12} {:>4}  {:<10}  {:<11} {:<10} ",
                short_name(g.group),
                or_dash(g.forecast.dose_number),
                or_dash(g.forecast.earliest),
                or_dash(g.forecast.recommended),
                or_dash(g.forecast.past_due),
            )),
            Span::styled(flag, style),
        ]));
    }
    let mut done: Vec<String> = Vec::new();
    for status in [
        SeriesStatus::Complete,
        SeriesStatus::Immune,
        SeriesStatus::AgedOut,
        SeriesStatus::Contraindicated,
        SeriesStatus::NotRecommended,
    ] {
        let names: Vec<&str> = due
            .assessment
            .groups
            .iter()
            .filter(|g| g.forecast.status == status)
            .map(|g| short_name(g.group))
            .collect();
        if !names.is_empty() {
            done.push(format!("{status}: {}", names.join(", ")));
        }
    }
    if !done.is_empty() {
        lines.push(Line::from(Span::styled(done.join(" · "), theme.dim())));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}

/// Where the picker box goes: under the focused row if it fits, else above it.
fn picker_area(form: &Form, fields: Rect, rows: usize) -> Rect {
    let inner = fields_inner(fields);
    let (_, index, offset) = shown_fields(form, inner);
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

/// The jump-to-field list: what is typed, then the fields it matches.
fn draw_jump(
    frame: &mut Frame,
    form: &Form,
    fields: Rect,
    jump: &crate::tui::screens::form::jump::Jump,
    theme: Theme,
) {
    let matches = form.jump_matches();
    let rows = matches.len().clamp(1, PICKER_ROWS);
    let area = picker_area(form, fields, rows + 1);
    let block = Block::new().borders(Borders::ALL).title(Span::styled(
        format!(" Jump to: {} field(s) ", matches.len()),
        theme.title(),
    ));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let typed = jump.query.value();
    let mut lines = vec![Line::from(vec![
        Span::styled("› ", theme.key()),
        Span::raw(typed.to_string()),
    ])];
    frame.set_cursor_position((inner.x + 2 + jump.query.visual_cursor() as u16, inner.y));
    if matches.is_empty() {
        lines.push(Line::from(format!(
            "No field is called '{typed}'; keep typing, or Esc"
        )));
    }
    let offset = scroll_offset(jump.selected, matches.len(), rows);
    lines.extend(
        matches
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows)
            .map(|(i, target)| {
                let style = if i == jump.selected {
                    theme.focus()
                } else {
                    Style::new()
                };
                Line::from(Span::styled(format!(" {}", target.label), style))
            }),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_picker(
    frame: &mut Frame,
    form: &Form,
    fields: Rect,
    picker: &crate::tui::screens::form::picker::Picker,
    theme: Theme,
) {
    let selected = picker.selected;
    let Some(picked_from) = form.picker_table() else {
        return;
    };
    let cvx = form.focus.field.spec().kind == Kind::Coded(crate::codes::TableId::Cvx);
    let choices = form.picker_choices();
    let ages = |c: &crate::codes::Code| {
        let product = cvx.then(|| products::product(&c.code));
        product
            .flatten()
            .and_then(|p| p.ages)
            .map(|a| a.short_label())
    };
    let rows = choices.len().clamp(1, PICKER_ROWS);
    let area = picker_area(form, fields, rows);
    let title = format!(" {}: {} match(es) ", picked_from.name, choices.len());
    let block = Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    if choices.is_empty() {
        let text = format!(
            "No code matches '{}'. Keep typing, or Esc to undo.",
            form.focus.input.value()
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
            let mut notes = Vec::new();
            // A lot says itself why it cannot be used.
            if !c.active && form.focus.field != FieldId::Lot {
                notes.push("inactive");
            }
            if c.non_us {
                notes.push("non-US");
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join(", "))
            };
            let style = if chosen { theme.focus() } else { Style::new() };
            Line::from(vec![
                Span::raw(if chosen { FOCUS_MARK } else { " " }),
                Span::styled(format!("{:<5}", c.code), style),
                Span::styled(format!("{:<10}", ages(c).unwrap_or_default()), theme.dim()),
                Span::styled(c.display.clone(), style),
                Span::styled(notes, theme.dim()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
