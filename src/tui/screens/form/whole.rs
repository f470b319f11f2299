//! A field typed whole moves the focus on by itself: a code that only one entry can
//! mean (`140`, `la`, `f`, `2` for V02) is taken as Enter would take it, and a date
//! that no further key could change (`03/14/1987`, `06/2027` for an expiry, the date
//! of a dose given elsewhere) goes on to the next field the dose needs. The keys
//! typed out of habit after it (the rest of the word, the Enter or Tab) are absorbed,
//! so a typist who does not wait loses nothing.

use super::{Form, Overlay, Page, picker};
use crate::clock::ClinicTime;
use crate::codes::only_match;
use crate::record::Kind;
use crate::record::parse::is_whole_date;
use crate::record::values::DoseContext;
use crate::tui::msg::Action;
use crate::tui::reply::Reply;
use tui_input::InputRequest;

/// What is still to be absorbed after a field taken whole.
#[derive(Clone, Debug)]
pub struct TypedAhead {
    /// The untyped rest of the word the field was taken for.
    rest: String,
    /// What taking it said (the facts filled in), kept on the status line while the
    /// keys that follow are absorbed.
    said: Option<String>,
}

impl Form {
    /// Whether `action` is a key typed out of habit after the field before was taken
    /// whole (the untyped rest of its word, then Enter or Tab): it is absorbed, and
    /// what taking the field said is said again. Any other key ends the absorbing.
    pub(super) fn absorbs(&mut self, action: &Action) -> Option<Reply> {
        let ahead = self.typed_ahead.take()?;
        let reply = Reply {
            notice: ahead.said.clone(),
            ..Reply::none()
        };
        match action {
            Action::Enter | Action::NextField => Some(reply),
            Action::Edit(InputRequest::InsertChar(c)) => {
                let mut left = ahead.rest.chars();
                left.next().filter(|n| n.eq_ignore_ascii_case(c))?;
                self.typed_ahead = Some(TypedAhead {
                    rest: left.collect(),
                    said: ahead.said,
                });
                Some(reply)
            }
            _ => None,
        }
    }

    /// Whether the focused dose was given elsewhere (a historical record).
    fn given_elsewhere(&self) -> bool {
        match self.focus.page {
            Page::Dose(i) => self
                .visit
                .doses
                .get(i)
                .is_some_and(|d| !DoseContext::of(d).given_here),
            _ => false,
        }
    }

    /// After a key typed at the end of the focused field: when the field is whole,
    /// takes it and moves on.
    pub(super) fn move_on_when_whole(&mut self, now: ClinicTime) {
        let text = self.focus.input.value();
        // A scan is read only in a dose's fields: there, what may be the start of one
        // (`01…`, `(01)`, `]d2`) waits for its Enter.
        let may_be_scan = matches!(self.focus.page, Page::Dose(_))
            && (crate::record::gs1::could_be_scan(text) || text.starts_with(['(', ']']));
        if self.focus.input.cursor() != text.chars().count() || may_be_scan {
            return;
        }
        let kind = self.focus.field.spec().kind;
        let whole_date = match kind {
            Kind::Date => is_whole_date(text, false, self.today),
            Kind::ExpiryDate => is_whole_date(text, true, self.today),
            // A dose given elsewhere is recorded by its date: no time follows it.
            Kind::DateTime => self.given_elsewhere() && is_whole_date(text, false, self.today),
            _ => false,
        };
        let rest = if whole_date {
            self.go_on(now);
            String::new()
        } else {
            let Some(rest) = self.take_the_only_code(now) else {
                return;
            };
            rest
        };
        self.typed_ahead = Some(TypedAhead {
            rest,
            said: self.said.clone(),
        });
    }

    /// In a coded field whose picker is open: when what is typed can mean only one
    /// entry (an active one), takes it as Enter would; the rest of its word, untyped.
    fn take_the_only_code(&mut self, now: ClinicTime) -> Option<String> {
        let Kind::Coded(_) = self.focus.field.spec().kind else {
            return None;
        };
        let Some(Overlay::Picker(open)) = &self.overlay else {
            return None;
        };
        let table = self.picker_table()?;
        let (code, rest) = only_match(table, self.focus.input.value()).filter(|(c, _)| c.active)?;
        let at = open.choices.iter().position(|c| c.code == code.code)?;
        if let Some(Overlay::Picker(open)) = self.overlay.as_mut() {
            open.selected = at;
        }
        self.accept_choice(now, picker::Then::Needed);
        Some(rest)
    }
}
