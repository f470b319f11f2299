//! Styles and marks. Meaning is never carried by colour alone: every state has a
//! symbol or text too, and with `NO_COLOR` set only bold/reverse/dim are used.

use crate::record::{Finding, Rule, Severity};
use ratatui::style::{Color, Modifier, Style};

pub const ERROR_MARK: &str = "✗";
pub const WARNING_MARK: &str = "!";
pub const OK_MARK: &str = "✓";
pub const FOCUS_MARK: &str = "›";
/// A required field still empty: not a mistake yet, just not done.
pub const TO_FILL_MARK: &str = "*";
/// A recommended field still empty.
pub const SUGGESTED_MARK: &str = "·";

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless the `NO_COLOR` convention asks for none.
    pub fn from_env() -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn mark(self, severity: Severity) -> (&'static str, Style) {
        match severity {
            Severity::Error => (ERROR_MARK, self.fg(Color::Red).add_modifier(Modifier::BOLD)),
            Severity::Warning => (
                WARNING_MARK,
                self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
        }
    }

    /// The mark of one finding: empty fields get the quieter "to fill" marks.
    pub fn finding_mark(self, finding: &Finding) -> (&'static str, Style) {
        match finding.rule {
            Rule::Required => (TO_FILL_MARK, self.to_fill()),
            Rule::Recommended => (SUGGESTED_MARK, self.dim()),
            _ => self.mark(finding.severity),
        }
    }

    pub fn to_fill(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn focus(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn label(self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    pub fn title(self) -> Style {
        self.fg(Color::LightBlue).add_modifier(Modifier::BOLD)
    }

    /// JSON strings in the preview.
    pub fn string(self) -> Style {
        self.fg(Color::Green)
    }

    /// JSON numbers and booleans in the preview.
    pub fn number(self) -> Style {
        self.fg(Color::Magenta)
    }

    pub fn key(self) -> Style {
        self.fg(Color::LightBlue).add_modifier(Modifier::BOLD)
    }
}
