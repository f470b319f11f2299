//! The preview screen: a plain summary of the visit above the exact Bundle JSON that
//! is saved and sent (or the errors that stop it), scrollable and searchable. Its
//! drawing is in `view`.

pub mod view;

use crate::clock::ClinicTime;
use crate::codes::{TableId, table};
use crate::fhir::BundleSettings;
use crate::record::parse::{parse_date, parse_datetime};
use crate::record::{FieldId, Finding, Visit};
use crate::store::outbox::{Attempt, OutboxRow};
use crate::store::versions::Version;
use crate::store::{StoredVisit, VisitState};
use crate::tui::msg::{Action, Effect, Purpose, Screen};
use crate::tui::reply::{Ctx, Reply};
use crate::tui::screens::form::Form;
use crate::tui::text;
use crate::tui::theme::Theme;
use crate::tui::widgets::{PAGE_STEP, one_line};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use tui_input::Input;
use uuid::Uuid;

/// What a line of the preview holds, and so how it is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Plain,
    /// A line of JSON (highlighted).
    Json,
    /// An error that stops the bundle.
    Error,
}

/// Whose preview this is.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The visit in the form: Ctrl+S saves exactly what is shown.
    Current,
    /// A stored visit, read-only.
    Stored { id: Uuid, state: VisitState },
    /// The endpoint's answers about a visit, from the outbox.
    Answer { id: Uuid },
    /// Every version of a stored visit, with each bundle as it was; `from_view` when
    /// opened from the visit's own view, which Esc goes back to.
    Versions { id: Uuid, from_view: bool },
}

impl Source {
    /// The stored visit this preview is about; `None` for the visit in the form.
    pub fn stored_id(&self) -> Option<Uuid> {
        match self {
            Source::Current => None,
            Source::Stored { id, .. } | Source::Answer { id } | Source::Versions { id, .. } => {
                Some(*id)
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Preview {
    pub source: Source,
    pub summary: Vec<String>,
    /// The bundle, exactly as stored and sent; `None` when errors stop it.
    pub message: Option<crate::fhir::Message>,
    pub errors: Vec<Finding>,
    /// Further documents shown after the summary: a heading and the JSON.
    pub documents: Vec<(String, String)>,
    pub scroll: usize,
    pub search: Input,
    pub searching: bool,
    /// Where Esc goes back to.
    pub back: Screen,
}

impl PartialEq for Preview {
    fn eq(&self, other: &Preview) -> bool {
        (
            &self.source,
            &self.summary,
            &self.message,
            &self.errors,
            &self.documents,
            self.scroll,
            self.search.value(),
            self.searching,
            self.back,
        ) == (
            &other.source,
            &other.summary,
            &other.message,
            &other.errors,
            &other.documents,
            other.scroll,
            other.search.value(),
            other.searching,
            other.back,
        )
    }
}

impl Preview {
    pub fn of_current(form: &mut Form, now: ClinicTime, settings: &BundleSettings) -> Preview {
        let (message, errors) = match form.message(now, settings) {
            Ok(m) => (Some(m), Vec::new()),
            Err(invalid) => (None, invalid.0),
        };
        Preview::new(
            Source::Current,
            summary(&form.visit, now),
            message,
            errors,
            Screen::Form,
        )
    }

    /// The stored visit shown was put in the outbox.
    pub fn queued(&mut self, id: Uuid) {
        if let Source::Stored { id: shown, state } = &mut self.source
            && *shown == id
        {
            *state = VisitState::Queued;
        }
    }

    pub fn of_stored(stored: &StoredVisit, visit: &Visit, now: ClinicTime) -> Preview {
        let message = stored
            .bundle_json
            .as_ref()
            .map(|json| crate::fhir::Message {
                bundle_id: stored.bundle_id.clone().unwrap_or_default(),
                json: json.clone(),
            });
        let mut lines = vec![format!(
            "Stored visit {} · {} · updated {}",
            stored.row.id,
            stored.row.state.as_str(),
            stored
                .row
                .updated_at
                .with_timezone(&now.timezone())
                .format("%Y-%m-%d %H:%M")
        )];
        if let Some((from, at)) = &stored.received {
            lines.push(text::received_from(
                from,
                &at.with_timezone(&now.timezone())
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            ));
        }
        lines.extend(summary(visit, now));
        Preview::new(
            Source::Stored {
                id: stored.row.id,
                state: stored.row.state,
            },
            lines,
            message,
            Vec::new(),
            Screen::History,
        )
    }

    /// The attempts made for a visit and the endpoint's last answer, with the
    /// OperationOutcome's issues named by form field.
    pub fn of_answer(
        row: &OutboxRow,
        attempts: &[Attempt],
        body: Option<&str>,
        sent: Option<&str>,
        zone: chrono_tz::Tz,
    ) -> Preview {
        let mut lines = vec![format!(
            "{} · {} · {} · {} attempt(s)",
            row.row.patient_name,
            row.row.vaccines,
            row.row.state.as_str(),
            attempts.len()
        )];
        for a in attempts {
            let status = a
                .http_status
                .map(|s| format!("HTTP {s}"))
                .unwrap_or_else(|| "no answer".into());
            let at = a.at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S");
            lines.push(format!("  {at} · {status} · {}", a.detail));
        }
        let issues = body
            .map(|b| crate::fhir::answer::issues(b, sent))
            .unwrap_or_default();
        if !issues.is_empty() {
            lines.push(String::new());
            lines.push(
                match issues.iter().any(crate::fhir::answer::Issue::is_error) {
                    true => "What the endpoint says is wrong:".into(),
                    false => "What the endpoint says:".into(),
                },
            );
            for issue in &issues {
                use crate::fhir::answer::Severity;
                // Each issue with its own weight: information is not an error.
                let mark = match issue.severity {
                    Severity::Fatal | Severity::Error => "✗",
                    Severity::Warning => "!",
                    Severity::Information => "i",
                };
                let place = issue
                    .field
                    .map(|f| format!("{} · {}: ", f.section(), f.field.spec().label))
                    .unwrap_or_default();
                let at = match issue.expression.as_slice() {
                    [] => String::new(),
                    paths => format!(" ({})", paths.join(", ")),
                };
                lines.push(format!("  {mark} {place}{}{at}", issue.text));
            }
        }
        let message = body.map(|b| crate::fhir::Message {
            bundle_id: String::new(),
            json: serde_json::from_str::<serde_json::Value>(b)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| b.to_string()),
        });
        Preview::new(
            Source::Answer { id: row.row.id },
            lines,
            message,
            Vec::new(),
            Screen::Outbox,
        )
    }

    /// Every version of a stored visit, oldest first: who made it, when, at which
    /// station and why, then each bundle exactly as it was saved and sent.
    pub fn of_versions(
        id: Uuid,
        versions: &[Version],
        zone: chrono_tz::Tz,
        from_view: bool,
    ) -> Preview {
        let mut lines = vec![
            format!("Versions of visit {id}: {}", versions.len()),
            "Each bundle follows, exactly as it was saved and sent.".to_string(),
        ];
        let mut documents = Vec::new();
        for v in versions {
            let at = v.at.with_timezone(&zone).format("%Y-%m-%d %H:%M");
            let who = match (v.author.user.as_str(), v.author.station.as_str()) {
                ("", "") => "someone (before versions were kept)".to_string(),
                (user, "") => user.to_string(),
                (user, station) => format!("{user} at {station}"),
            };
            lines.push(format!("  {} · {at} · {who} · {}", v.number, v.why));
            documents.push((
                format!(
                    "Version {}: bundle {}, {} bytes:",
                    v.number,
                    v.bundle_id,
                    v.bundle_json.len()
                ),
                v.bundle_json.clone(),
            ));
        }
        let mut preview = Preview::new(
            Source::Versions { id, from_view },
            lines,
            None,
            Vec::new(),
            Screen::History,
        );
        preview.documents = documents;
        preview
    }

    fn new(
        source: Source,
        summary: Vec<String>,
        message: Option<crate::fhir::Message>,
        errors: Vec<Finding>,
        back: Screen,
    ) -> Preview {
        Preview {
            source,
            summary,
            message,
            errors,
            documents: Vec::new(),
            scroll: 0,
            search: Input::default(),
            searching: false,
            back,
        }
    }

    /// Every line of the screen's body, with what kind of line it is.
    pub fn lines(&self) -> Vec<(LineKind, String)> {
        let plain = |text: String| (LineKind::Plain, text);
        let mut lines: Vec<_> = self.summary.iter().cloned().map(plain).collect();
        lines.push(plain(String::new()));
        let json = |m: &crate::fhir::Message| {
            m.json
                .lines()
                .map(|l| (LineKind::Json, l.to_string()))
                .collect::<Vec<_>>()
        };
        match &self.message {
            _ if matches!(self.source, Source::Versions { .. }) => {
                for (heading, json) in &self.documents {
                    lines.push(plain(heading.clone()));
                    lines.extend(json.lines().map(|l| (LineKind::Json, l.to_string())));
                    lines.push(plain(String::new()));
                }
            }
            Some(m) if matches!(self.source, Source::Answer { .. }) => {
                lines.push(plain("The endpoint's last answer:".into()));
                lines.extend(json(m));
            }
            None if matches!(self.source, Source::Answer { .. }) => {
                lines.push(plain("The endpoint has not answered yet.".into()))
            }
            Some(m) => {
                lines.push(plain(format!(
                    "Bundle {} ({} bytes), exactly as it is saved and sent:",
                    m.bundle_id,
                    m.json.len()
                )));
                lines.extend(json(m));
            }
            None if self.errors.is_empty() => {
                lines.push(plain("This visit has no bundle yet: it is a draft.".into()))
            }
            None => {
                lines.push(plain(format!(
                    "No bundle: {} error(s) must be fixed first (Esc, then Review):",
                    self.errors.len()
                )));
                lines.extend(self.errors.iter().map(|f| {
                    (
                        LineKind::Error,
                        format!("  ✗ {} · {}", f.at.section(), f.message),
                    )
                }));
            }
        }
        lines
    }

    /// Every line of the screen's body, as text.
    pub fn text_lines(&self) -> Vec<String> {
        self.lines().into_iter().map(|(_, text)| text).collect()
    }

    /// Lines holding the search text (case-insensitive).
    pub fn matches(&self) -> Vec<usize> {
        let needle = self.search.value().to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        self.text_lines()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect()
    }

    fn jump_to_match(&mut self, after: Option<usize>) -> bool {
        let matches = self.matches();
        let next = match after {
            Some(line) => matches.iter().find(|m| **m > line).or(matches.first()),
            None => matches.first(),
        };
        match next {
            Some(line) => {
                self.scroll = *line;
                true
            }
            None => false,
        }
    }
}

/// One line for the patient and one per dose, with dates as the dates they stand for.
fn summary(visit: &Visit, now: ClinicTime) -> Vec<String> {
    let p = &visit.patient;
    let date = |raw: &str| {
        parse_date(raw, now.date_naive())
            .map(|d| d.to_string())
            .unwrap_or_else(|_| raw.to_string())
    };
    let when = |raw: &str| {
        parse_datetime(raw, now)
            .map(|d| d.to_display())
            .unwrap_or_else(|_| raw.to_string())
    };
    let mut lines = vec![format!(
        "Patient: {}, {} · MRN {} · born {} · {}",
        p.get(FieldId::Family),
        p.get(FieldId::Given),
        p.get(FieldId::Mrn),
        date(p.get(FieldId::BirthDate)),
        p.get(FieldId::Gender)
    )];
    let cvx = table(TableId::Cvx);
    for (i, d) in visit.doses.iter().enumerate() {
        let vaccine = d.get(FieldId::Vaccine);
        let name = cvx.get(vaccine).map(|c| c.display.as_str()).unwrap_or("");
        let lot = d.get(FieldId::Lot);
        let lot = if lot.is_empty() {
            String::new()
        } else {
            format!(" · lot {lot}")
        };
        lines.push(format!(
            "Dose {}: {vaccine} {name} · {} · {}{lot} · {} {}",
            i + 1,
            d.get(FieldId::Status),
            when(d.get(FieldId::Administered)),
            d.get(FieldId::Site),
            d.get(FieldId::Route)
        ));
    }
    lines
}

/// One JSON line with its keys, strings and numbers styled.
pub fn highlight(line: &str, theme: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(stripped) = rest.strip_prefix('"') {
            let end = string_end(stripped);
            let (token, after) = rest.split_at(end + 2.min(rest.len() - end));
            let is_key = after.trim_start().starts_with(':');
            spans.push(Span::styled(
                token.to_string(),
                if is_key {
                    theme.label()
                } else {
                    theme.string()
                },
            ));
            rest = after;
        } else {
            let end = rest.find('"').unwrap_or(rest.len());
            let (plain, after) = rest.split_at(end);
            let trimmed = plain.trim().trim_end_matches(',');
            let style = if !trimmed.is_empty()
                && (trimmed.parse::<f64>().is_ok() || trimmed == "true" || trimmed == "false")
            {
                theme.number()
            } else {
                Style::new()
            };
            spans.push(Span::styled(plain.to_string(), style));
            rest = after;
        }
    }
    Line::from(spans)
}

/// The byte index of the closing quote of a JSON string body.
fn string_end(body: &str) -> usize {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i,
            _ => escaped = false,
        }
    }
    body.len().saturating_sub(1)
}

/// Keys on the preview screen. (Ctrl+S on the preview of the visit in the form is the
/// app's: it saves what the form holds.)
pub fn update(preview: &mut Preview, _ctx: &Ctx, action: Action) -> Reply {
    let last = preview.text_lines().len().saturating_sub(1);
    if preview.searching {
        match action {
            Action::Edit(request) => {
                preview.search.handle(request);
            }
            Action::Paste(pasted) => {
                preview.search =
                    Input::new(format!("{}{}", preview.search.value(), one_line(&pasted)));
            }
            Action::Enter => {
                preview.searching = false;
                if !preview.jump_to_match(None) {
                    return Reply::notice(text::not_in_preview(preview.search.value()));
                }
            }
            Action::Escape => preview.searching = false,
            _ => {}
        }
        return Reply::none();
    }
    match action {
        Action::Up => preview.scroll = preview.scroll.saturating_sub(1),
        Action::Down => preview.scroll = (preview.scroll + 1).min(last),
        Action::PageUp => preview.scroll = preview.scroll.saturating_sub(PAGE_STEP),
        Action::PageDown => preview.scroll = (preview.scroll + PAGE_STEP).min(last),
        Action::Home => preview.scroll = 0,
        Action::End => preview.scroll = last,
        Action::Search => {
            preview.searching = true;
            preview.search = Input::default();
        }
        Action::NextMatch => {
            let from = preview.scroll;
            if !preview.jump_to_match(Some(from)) {
                return Reply::notice(text::NO_MATCH);
            }
        }
        // From a visit's view, its versions go back to that view.
        Action::Escape | Action::Preview
            if matches!(
                preview.source,
                Source::Versions {
                    from_view: true,
                    ..
                }
            ) =>
        {
            if let Some(id) = preview.source.stored_id() {
                return Reply::effect(Effect::Open {
                    id,
                    purpose: Purpose::View,
                });
            }
        }
        Action::Escape | Action::Preview => return Reply::go(preview.back),
        Action::Save | Action::SaveAndSubmit => {
            return match &preview.source {
                Source::Current => Reply::notice(text::NOT_SAVED_FIX_LISTED),
                Source::Stored { id, state } if action == Action::SaveAndSubmit => {
                    Reply::send_stored(*id, *state)
                }
                Source::Stored { .. } | Source::Answer { .. } | Source::Versions { .. } => {
                    Reply::notice(text::already_stored())
                }
            };
        }
        Action::Amend | Action::CopyAsNew => {
            let (purpose, not_stored) = if action == Action::Amend {
                (Purpose::Amend, text::correct_stored_only())
            } else {
                (Purpose::CopyAsNew, text::new_visit_key())
            };
            return match preview.source.stored_id() {
                Some(id) => Reply::effect(Effect::Open { id, purpose }),
                None => Reply::notice(not_stored),
            };
        }
        Action::Card => {
            return match preview.source.stored_id() {
                Some(id) => Reply::effect(Effect::IssueCard {
                    visit: id,
                    whole: true,
                }),
                None => Reply::notice(text::CARD_OF_STORED),
            };
        }
        Action::Versions => match preview.source {
            Source::Versions { .. } => {}
            _ => {
                return match preview.source.stored_id() {
                    Some(id) => Reply::effect(Effect::OpenVersions(id)),
                    None => Reply::notice(text::versions_of_stored()),
                };
            }
        },
        _ => {}
    }
    Reply::none()
}
