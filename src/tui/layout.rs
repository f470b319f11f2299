//! What is where on the screen, as the last draw laid it out. `view::draw` returns a
//! [`Layout`]; the input layer turns a click into a message from it, so a click always
//! means what the user saw under the pointer.

use super::msg::Target;
use ratatui::layout::Rect;

/// The smallest window the screens are drawn in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

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
