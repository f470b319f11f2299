//! What is where on the screen, as the last draw laid it out. `view::draw` returns a
//! [`Layout`]; the input layer turns a click into a message from it, so a click always
//! means what the user saw under the pointer.

use super::screens::form::Page;
use crate::record::FieldId;
use ratatui::layout::Rect;

/// What a click can land on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A section of the form (Patient, a dose, Review).
    Page(Page),
    /// A field of the section shown.
    Field(FieldId),
    /// A problem on the Review section.
    Finding(usize),
    /// A row of the history or the outbox.
    Row(usize),
}

/// The clickable areas of one drawn frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    hits: Vec<(Rect, Target)>,
}

impl Layout {
    pub fn add(&mut self, area: Rect, target: Target) {
        self.hits.push((area, target));
    }

    /// Nothing underneath can be clicked (an overlay covers the screen).
    pub fn clear(&mut self) {
        self.hits.clear();
    }

    pub fn target_at(&self, column: u16, row: u16) -> Option<Target> {
        self.hits
            .iter()
            .find(|(r, _)| column >= r.x && column < r.right() && row >= r.y && row < r.bottom())
            .map(|(_, t)| *t)
    }
}
