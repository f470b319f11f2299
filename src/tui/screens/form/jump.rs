//! Jump to a field (Ctrl+F): a type-to-filter list of the visit's field labels, like
//! the code pickers, for fields far down a section ("site", "d2 lot", "npi").

use super::{Form, Overlay, Page};
use crate::clock::ClinicTime;
use crate::record::FieldId;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use tui_input::{Input, InputRequest};

/// The open jump list: what is typed, and which match is chosen.
#[derive(Clone, Debug, Default)]
pub struct Jump {
    pub query: Input,
    pub selected: usize,
}

/// A field the list offers: where it is, and its name as shown ("Dose 2 · Lot
/// number").
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub page: Page,
    pub field: FieldId,
    pub label: String,
}

impl Form {
    /// Every field of the visit that applies, the section in front first.
    fn jump_targets(&self) -> Vec<Target> {
        let mut pages = self.pages();
        pages.retain(|p| *p != Page::Review);
        // The section in front first: a bare "lot" means this dose's.
        pages.sort_by_key(|p| *p != self.focus.page);
        let many_doses = self.visit.doses.len() > 1;
        pages
            .into_iter()
            .flat_map(|page| {
                self.visible_fields(page).into_iter().map(move |field| {
                    let label = field.spec().label;
                    let label = match page {
                        Page::Dose(i) if many_doses => format!("Dose {} · {label}", i + 1),
                        Page::Dose(_) => format!("Dose · {label}"),
                        _ => format!("Patient · {label}"),
                    };
                    Target { page, field, label }
                })
            })
            .collect()
    }

    /// The fields whose names match what is typed, best first (all of them, in form
    /// order, before anything is typed).
    pub fn jump_matches(&self) -> Vec<Target> {
        let targets = self.jump_targets();
        let typed = self.jump().map_or("", |j| j.query.value()).trim();
        if typed.is_empty() {
            return targets;
        }
        let pattern = Pattern::parse(typed, CaseMatching::Ignore, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut scored: Vec<(u32, usize, Target)> = targets
            .into_iter()
            .enumerate()
            .filter_map(|(order, target)| {
                let score = pattern.score(Utf32Str::new(&target.label, &mut buf), &mut matcher)?;
                Some((score, order, target))
            })
            .collect();
        scored.sort_by_key(|(score, order, _)| (std::cmp::Reverse(*score), *order));
        scored.into_iter().map(|(_, _, t)| t).collect()
    }

    /// Ctrl+F: opens the list (or closes it).
    pub fn toggle_jump(&mut self) {
        self.overlay = match self.overlay {
            Some(Overlay::Jump(_)) => None,
            _ => Some(Overlay::Jump(Jump::default())),
        };
    }

    /// Typing into the list's filter.
    pub fn jump_typed(&mut self, request: InputRequest) {
        if let Some(Overlay::Jump(jump)) = self.overlay.as_mut() {
            jump.query.handle(request);
            jump.selected = 0;
        }
    }

    /// ↓ / ↑ in the list.
    pub fn jump_step(&mut self, down: bool) {
        let count = self.jump_matches().len();
        if let Some(Overlay::Jump(jump)) = self.overlay.as_mut() {
            jump.selected = match down {
                true => (jump.selected + 1).min(count.saturating_sub(1)),
                false => jump.selected.saturating_sub(1),
            };
        }
    }

    /// Enter: to the chosen field; the list closes.
    pub fn jump_go(&mut self, now: ClinicTime) {
        let selected = self.jump().map_or(0, |j| j.selected);
        let chosen = self.jump_matches().into_iter().nth(selected);
        self.overlay = None;
        if let Some(target) = chosen {
            self.focus(target.page, target.field, now);
        }
    }
}
