//! Terminal events -> `Msg`. The key map lives here and nowhere else, so the help
//! screen and the status line can be checked against it.

use super::app::{App, Mode, Msg, Page, Screen};
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use tui_input::backend::crossterm::to_input_request;

/// Every binding, as the help screen lists it.
pub const KEY_HELP: [(&str, &str); 26] = [
    (
        "Tab  Enter  ↓",
        "next field; fields that do not apply are skipped",
    ),
    ("Shift+Tab  ↑", "previous field"),
    ("PgDn  Ctrl+→", "next section (Patient, Dose 1.., Review)"),
    ("PgUp  Ctrl+←", "previous section"),
    ("typing", "edits the field; coded fields open a picker"),
    ("↑ ↓  Enter  Esc", "in a picker: choose, take, cancel"),
    ("←  →  Home  End", "move in the field (also Ctrl+A, Ctrl+E)"),
    ("Alt+B  Alt+F", "move a word left or right"),
    ("Backspace  Delete", "delete a character"),
    ("Ctrl+W  Alt+Backspace", "delete the word before the cursor"),
    ("Ctrl+U", "clear the field"),
    (
        "Ctrl+D  F2",
        "add a dose; copies date, performer, place, funding",
    ),
    ("Ctrl+X  F3", "remove this dose (asks first)"),
    ("Ctrl+N  F9", "start a new visit (asks first)"),
    ("Enter on Review", "jump to the field of the chosen problem"),
    (
        "Ctrl+P",
        "preview the exact bundle; / searches it, n finds the next",
    ),
    (
        "Ctrl+S",
        "save the visit and its bundle (here or in the preview)",
    ),
    (
        "Ctrl+G  F5",
        "save and send to the endpoint (waits in the outbox if offline)",
    ),
    (
        "F6  Ctrl+L",
        "outbox: r retry now, a retry all, Enter the endpoint's answer,",
    ),
    ("", "s send a submitted visit again as a new message"),
    (
        "F4  Ctrl+O",
        "history: type to filter, Enter open, Ctrl+R new visit for",
    ),
    ("", "the same patient, Delete removes a draft, Esc back"),
    (
        "(automatic)",
        "the visit is kept as a draft every second; it is offered",
    ),
    ("", "again if vaxentry stops before it is saved"),
    ("F1  ? on Review", "this help (↑ ↓ scroll, Esc close)"),
    ("Ctrl+Q  Ctrl+C", "quit (asks first if anything was typed)"),
];

/// What the key map needs to know about the app.
#[derive(Clone, Copy, Debug)]
pub struct KeyContext {
    pub mode: Mode,
    pub page: Page,
    pub screen: Screen,
    /// Typing goes into the preview's search box.
    pub searching: bool,
}

impl KeyContext {
    pub fn of(app: &App) -> KeyContext {
        KeyContext {
            mode: app.mode,
            page: app.page,
            screen: app.screen,
            searching: app.preview.as_ref().is_some_and(|p| p.searching),
        }
    }
}

/// Decodes one terminal event; `None` for events that mean nothing here.
pub fn to_msg(event: &Event, ctx: KeyContext) -> Option<Msg> {
    match event {
        Event::Key(key) if key.kind == KeyEventKind::Press => key_to_msg(key, event, ctx),
        Event::Paste(text) => Some(Msg::Paste(text.clone())),
        Event::Mouse(m) if m.kind == MouseEventKind::Down(MouseButton::Left) => Some(Msg::Click {
            column: m.column,
            row: m.row,
        }),
        Event::Mouse(m) if m.kind == MouseEventKind::ScrollDown => Some(Msg::Down),
        Event::Mouse(m) if m.kind == MouseEventKind::ScrollUp => Some(Msg::Up),
        Event::Resize(width, height) => Some(Msg::Resize {
            width: *width,
            height: *height,
        }),
        _ => None,
    }
}

fn key_to_msg(key: &KeyEvent, event: &Event, ctx: KeyContext) -> Option<Msg> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if let Mode::Confirm(_) = ctx.mode {
        return match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(Msg::Answer(true)),
            KeyCode::Char('c' | 'q') if ctrl => Some(Msg::Answer(true)),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Msg::Answer(false)),
            _ => None,
        };
    }
    // Keys that mean the same on every screen.
    let global = match (key.code, ctrl) {
        (KeyCode::Char('c' | 'q'), true) => Some(Msg::Quit),
        (KeyCode::Char('s'), true) => Some(Msg::Save),
        (KeyCode::Char('g'), true) | (KeyCode::F(5), _) => Some(Msg::SaveAndSubmit),
        (KeyCode::Char('l'), true) | (KeyCode::F(6), _) => Some(Msg::Outbox),
        (KeyCode::Char('p'), true) => Some(Msg::Preview),
        (KeyCode::Char('o'), true) | (KeyCode::F(4), _) => Some(Msg::History),
        (KeyCode::Char('r'), true) => Some(Msg::CopyAsNew),
        (KeyCode::Char('n'), true) | (KeyCode::F(9), _) => Some(Msg::NewVisit),
        (KeyCode::F(1), _) => Some(Msg::Help),
        (KeyCode::Esc, _) => Some(Msg::Escape),
        (KeyCode::Enter, _) => Some(Msg::Enter),
        (KeyCode::Up, _) => Some(Msg::Up),
        (KeyCode::Down, _) => Some(Msg::Down),
        _ => None,
    };
    if global.is_some() {
        return global;
    }
    let msg = match ctx.screen {
        Screen::Preview if ctx.searching => return to_input_request(event).map(Msg::Edit),
        Screen::Preview => match key.code {
            KeyCode::PageDown | KeyCode::Char(' ') => Msg::PageDown,
            KeyCode::PageUp => Msg::PageUp,
            KeyCode::Home | KeyCode::Char('g') => Msg::Home,
            KeyCode::End | KeyCode::Char('G') => Msg::End,
            KeyCode::Char('/') => Msg::Search,
            KeyCode::Char('n') => Msg::NextMatch,
            KeyCode::Char('c') => Msg::CopyAsNew,
            KeyCode::Char('q') => Msg::Escape,
            _ => return None,
        },
        Screen::Outbox => match key.code {
            KeyCode::PageDown => Msg::PageDown,
            KeyCode::PageUp => Msg::PageUp,
            KeyCode::Home => Msg::Home,
            KeyCode::End => Msg::End,
            KeyCode::Char('r') => Msg::Retry,
            KeyCode::Char('a') => Msg::RetryAll,
            KeyCode::Char('s') => Msg::Resubmit,
            _ => return None,
        },
        Screen::History => match (key.code, ctrl) {
            (KeyCode::PageDown, _) => Msg::PageDown,
            (KeyCode::PageUp, _) => Msg::PageUp,
            (KeyCode::Delete, _) | (KeyCode::Char('x'), true) => Msg::Delete,
            _ => return to_input_request(event).map(Msg::Edit),
        },
        Screen::Form => match (key.code, ctrl) {
            (KeyCode::Char('d'), true) | (KeyCode::F(2), _) => Msg::AddDose,
            (KeyCode::Char('x'), true) | (KeyCode::F(3), _) => Msg::RemoveDose,
            (KeyCode::Char('?'), false) if ctx.page == Page::Review => Msg::Help,
            // Shift+Tab arrives as BackTab, with or without the SHIFT flag.
            (KeyCode::BackTab, _) => Msg::PrevField,
            (KeyCode::Tab, _) if key.modifiers.contains(KeyModifiers::SHIFT) => Msg::PrevField,
            (KeyCode::Tab, _) => Msg::NextField,
            (KeyCode::PageDown, _) | (KeyCode::Right, true) => Msg::NextPage,
            (KeyCode::PageUp, _) | (KeyCode::Left, true) => Msg::PrevPage,
            _ => return to_input_request(event).map(Msg::Edit),
        },
    };
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventState;
    use tui_input::InputRequest;

    fn ctx() -> KeyContext {
        KeyContext {
            mode: Mode::Form,
            page: Page::Patient,
            screen: Screen::Form,
            searching: false,
        }
    }

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        })
    }

    #[test]
    fn backtab_with_and_without_shift_goes_back() {
        assert_eq!(
            to_msg(&key(KeyCode::BackTab, KeyModifiers::NONE), ctx()),
            Some(Msg::PrevField)
        );
        assert_eq!(
            to_msg(&key(KeyCode::BackTab, KeyModifiers::SHIFT), ctx()),
            Some(Msg::PrevField)
        );
        assert_eq!(
            to_msg(&key(KeyCode::Tab, KeyModifiers::NONE), ctx()),
            Some(Msg::NextField)
        );
    }

    #[test]
    fn only_presses_count() {
        let release = Event::Key(KeyEvent {
            code: KeyCode::Char('a'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        });
        assert_eq!(to_msg(&release, ctx()), None);
    }

    #[test]
    fn ctrl_c_quits_and_typing_edits() {
        assert_eq!(
            to_msg(&key(KeyCode::Char('c'), KeyModifiers::CONTROL), ctx()),
            Some(Msg::Quit)
        );
        assert_eq!(
            to_msg(&key(KeyCode::Char('a'), KeyModifiers::NONE), ctx()),
            Some(Msg::Edit(InputRequest::InsertChar('a')))
        );
        assert_eq!(
            to_msg(&key(KeyCode::Char('w'), KeyModifiers::CONTROL), ctx()),
            Some(Msg::Edit(InputRequest::DeletePrevWord))
        );
        assert_eq!(
            to_msg(&key(KeyCode::Backspace, KeyModifiers::ALT), ctx()),
            Some(Msg::Edit(InputRequest::DeletePrevWord))
        );
        assert_eq!(
            to_msg(&key(KeyCode::Char('u'), KeyModifiers::CONTROL), ctx()),
            Some(Msg::Edit(InputRequest::DeleteLine))
        );
    }

    #[test]
    fn question_mark_is_text_in_a_field_but_help_on_review() {
        let q = key(KeyCode::Char('?'), KeyModifiers::NONE);
        assert_eq!(
            to_msg(&q, ctx()),
            Some(Msg::Edit(InputRequest::InsertChar('?')))
        );
        assert_eq!(
            to_msg(
                &q,
                KeyContext {
                    page: Page::Review,
                    ..ctx()
                }
            ),
            Some(Msg::Help)
        );
        assert_eq!(
            to_msg(&key(KeyCode::F(1), KeyModifiers::NONE), ctx()),
            Some(Msg::Help)
        );
    }

    #[test]
    fn confirm_takes_y_and_n() {
        let c = KeyContext {
            mode: Mode::Confirm(super::super::app::Confirm::Quit),
            ..ctx()
        };
        assert_eq!(
            to_msg(&key(KeyCode::Char('y'), KeyModifiers::NONE), c),
            Some(Msg::Answer(true))
        );
        assert_eq!(
            to_msg(&key(KeyCode::Esc, KeyModifiers::NONE), c),
            Some(Msg::Answer(false))
        );
        assert_eq!(
            to_msg(&key(KeyCode::Char('z'), KeyModifiers::NONE), c),
            None
        );
    }
}
