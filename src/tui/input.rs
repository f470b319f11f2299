//! The input layer: terminal events -> `Msg`. Keys by the binding table in
//! `bindings`, clicks by the layout the last draw returned.

use super::app::App;
use super::bindings::{Scope, lookup};
use super::layout::Layout;
use super::msg::{Action, Mode, Msg, Page, Screen};
use ratatui::crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEventKind};
use tui_input::backend::crossterm::to_input_request;

/// What decoding needs to know about the app.
#[derive(Clone, Copy, Debug)]
pub struct KeyContext {
    pub mode: Mode,
    pub screen: Screen,
    pub page: Page,
    /// Typing goes into the preview's search box.
    pub searching: bool,
}

impl KeyContext {
    pub fn of(app: &App) -> KeyContext {
        KeyContext {
            mode: app.mode,
            screen: app.screen,
            page: app.form.focus.page,
            searching: app.preview.as_ref().is_some_and(|p| p.searching),
        }
    }
}

/// Decodes one terminal event; `None` for events that mean nothing here. A click
/// means what the last draw put under the pointer (`layout`).
pub fn to_msg(event: &Event, ctx: KeyContext, layout: &Layout) -> Option<Msg> {
    let action = match event {
        Event::Key(key) if key.kind == KeyEventKind::Press => key_to_action(key, event, ctx),
        Event::Paste(text) => Some(Action::Paste(text.clone())),
        Event::Mouse(m) if m.kind == MouseEventKind::Down(MouseButton::Left) => {
            layout.target_at(m.column, m.row).map(Action::Clicked)
        }
        Event::Mouse(m) if m.kind == MouseEventKind::ScrollDown => Some(Action::Down),
        Event::Mouse(m) if m.kind == MouseEventKind::ScrollUp => Some(Action::Up),
        Event::Resize(width, height) => {
            return Some(Msg::Resize {
                width: *width,
                height: *height,
            });
        }
        _ => None,
    };
    action.map(Msg::User)
}

fn key_to_action(key: &KeyEvent, event: &Event, ctx: KeyContext) -> Option<Action> {
    // A question takes only its answers; any other key is told how to answer.
    if let Mode::Confirm(_) = ctx.mode {
        return lookup(Scope::Confirm, key).or(Some(Action::NotAnAnswer));
    }
    // The help box scrolls with its own keys; the others work as everywhere.
    if let Mode::Help { .. } = ctx.mode
        && let Some(action) = lookup(Scope::Help, key)
    {
        return Some(action);
    }
    // A barcode scanner's FNC1 comes as the GS byte (0x1D), which terminals report as
    // Ctrl+] or Ctrl+5: in a dose field it is part of the scan being typed.
    if ctx.screen == Screen::Form
        && matches!(ctx.page, Page::Dose(_))
        && key
            .modifiers
            .contains(ratatui::crossterm::event::KeyModifiers::CONTROL)
        && matches!(
            key.code,
            ratatui::crossterm::event::KeyCode::Char(']' | '5')
        )
    {
        return Some(Action::Edit(tui_input::InputRequest::InsertChar('\u{1d}')));
    }
    if let Some(msg) = lookup(Scope::Everywhere, key) {
        return Some(msg);
    }
    // The keys of the screen in front; what is left is typing into its text field.
    let scopes: &[Scope] = match ctx.screen {
        Screen::Preview if ctx.searching => &[],
        Screen::Preview => return lookup(Scope::Preview, key),
        Screen::Outbox => return lookup(Scope::Outbox, key),
        Screen::Card => return lookup(Scope::Card, key),
        Screen::History => &[Scope::History],
        Screen::Form if ctx.page == Page::Review => &[Scope::Review, Scope::Form],
        Screen::Form => &[Scope::Form],
    };
    scopes
        .iter()
        .find_map(|scope| lookup(*scope, key))
        .or_else(|| to_input_request(event).map(Action::Edit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEventState, KeyModifiers};
    use tui_input::InputRequest;

    /// Decodes a key (no click areas needed).
    fn decode(event: &Event, ctx: KeyContext) -> Option<Action> {
        match to_msg(event, ctx, &Layout::default()) {
            Some(Msg::User(action)) => Some(action),
            _ => None,
        }
    }

    fn ctx() -> KeyContext {
        KeyContext {
            mode: Mode::Normal,
            page: Page::Patient,
            screen: Screen::Form,
            searching: false,
        }
    }

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    /// A context in which keys of `scope` are read.
    fn ctx_for(scope: Scope) -> KeyContext {
        let form = ctx();
        match scope {
            Scope::Everywhere | Scope::Form | Scope::Picker | Scope::Jump => form,
            Scope::Review => KeyContext {
                page: Page::Review,
                ..form
            },
            Scope::Preview => KeyContext {
                screen: Screen::Preview,
                ..form
            },
            Scope::History => KeyContext {
                screen: Screen::History,
                ..form
            },
            Scope::Outbox => KeyContext {
                screen: Screen::Outbox,
                ..form
            },
            Scope::Card => KeyContext {
                screen: Screen::Card,
                ..form
            },
            Scope::Help => KeyContext {
                mode: Mode::Help { scroll: 0 },
                ..form
            },
            Scope::Confirm => KeyContext {
                mode: Mode::Confirm(crate::tui::msg::Confirm::Quit),
                ..form
            },
        }
    }

    /// An event for a bound key.
    fn event_of(k: super::super::bindings::Key) -> Event {
        use super::super::bindings::Mods;
        let modifiers = match k.mods {
            Mods::Plain | Mods::Any => KeyModifiers::NONE,
            Mods::Ctrl => KeyModifiers::CONTROL,
            Mods::Alt => KeyModifiers::ALT,
            Mods::Shift => KeyModifiers::SHIFT,
        };
        key(k.code, modifiers)
    }

    #[test]
    fn every_bound_key_does_what_the_table_says_where_the_table_says() {
        use super::super::bindings::BINDINGS;
        for b in BINDINGS.iter() {
            let Some(msg) = &b.action else { continue };
            let contexts: Vec<KeyContext> = if b.scope == Scope::Everywhere {
                [
                    Scope::Form,
                    Scope::Review,
                    Scope::Preview,
                    Scope::History,
                    Scope::Outbox,
                    Scope::Card,
                ]
                .map(ctx_for)
                .to_vec()
            } else {
                vec![ctx_for(b.scope)]
            };
            for k in &b.keys {
                for c in &contexts {
                    assert_eq!(
                        decode(&event_of(*k), *c).as_ref(),
                        Some(msg),
                        "{} in {:?} ({})",
                        k.label(),
                        b.scope,
                        b.help
                    );
                }
            }
        }
    }

    #[test]
    fn the_editing_keys_help_lists_are_handled_by_the_field() {
        for (code, mods) in [
            (KeyCode::Left, KeyModifiers::NONE),
            (KeyCode::Home, KeyModifiers::NONE),
            (KeyCode::Char('a'), KeyModifiers::CONTROL),
            (KeyCode::Char('b'), KeyModifiers::ALT),
            (KeyCode::Backspace, KeyModifiers::NONE),
            (KeyCode::Delete, KeyModifiers::NONE),
            (KeyCode::Char('w'), KeyModifiers::CONTROL),
            (KeyCode::Char('u'), KeyModifiers::CONTROL),
        ] {
            assert!(
                matches!(decode(&key(code, mods), ctx()), Some(Action::Edit(_))),
                "{code:?} {mods:?}"
            );
        }
    }

    #[test]
    fn help_lists_every_binding_and_the_hints_come_from_the_table() {
        use super::super::bindings::{BINDINGS, hints};
        let help: String =
            // Wide enough that no help line wraps.
            crate::tui::screens::overlays::help::rows(crate::tui::theme::Theme { color: false }, 400)
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join("\n");
        for b in BINDINGS.iter() {
            let row = format!("{:<22}{}", b.keys_label(), b.help);
            assert!(help.contains(&row), "Help does not list: {row}");
        }
        for scope in Scope::ALL {
            for (keys, word) in hints(scope) {
                assert!(
                    BINDINGS
                        .iter()
                        .any(|b| b.scope == scope && b.hint == Some(word)),
                    "hint {keys} {word} of {scope:?} has no binding"
                );
            }
        }
        assert!(!hints(Scope::Form).is_empty() && !hints(Scope::Preview).is_empty());
    }

    #[test]
    fn backtab_with_and_without_shift_goes_back() {
        assert_eq!(
            decode(&key(KeyCode::BackTab, KeyModifiers::NONE), ctx()),
            Some(Action::PrevField)
        );
        assert_eq!(
            decode(&key(KeyCode::BackTab, KeyModifiers::SHIFT), ctx()),
            Some(Action::PrevField)
        );
        assert_eq!(
            decode(&key(KeyCode::Tab, KeyModifiers::NONE), ctx()),
            Some(Action::NextField)
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
        assert_eq!(decode(&release, ctx()), None);
    }

    #[test]
    fn ctrl_c_quits_and_typing_edits() {
        assert_eq!(
            decode(&key(KeyCode::Char('c'), KeyModifiers::CONTROL), ctx()),
            Some(Action::Quit)
        );
        assert_eq!(
            decode(&key(KeyCode::Char('a'), KeyModifiers::NONE), ctx()),
            Some(Action::Edit(InputRequest::InsertChar('a')))
        );
        assert_eq!(
            decode(&key(KeyCode::Char('w'), KeyModifiers::CONTROL), ctx()),
            Some(Action::Edit(InputRequest::DeletePrevWord))
        );
        assert_eq!(
            decode(&key(KeyCode::Backspace, KeyModifiers::ALT), ctx()),
            Some(Action::Edit(InputRequest::DeletePrevWord))
        );
        assert_eq!(
            decode(&key(KeyCode::Char('u'), KeyModifiers::CONTROL), ctx()),
            Some(Action::Edit(InputRequest::DeleteLine))
        );
    }

    #[test]
    fn question_mark_is_text_in_a_field_but_help_on_review() {
        let q = key(KeyCode::Char('?'), KeyModifiers::NONE);
        assert_eq!(
            decode(&q, ctx()),
            Some(Action::Edit(InputRequest::InsertChar('?')))
        );
        assert_eq!(
            decode(
                &q,
                KeyContext {
                    page: Page::Review,
                    ..ctx()
                }
            ),
            Some(Action::Help)
        );
        assert_eq!(
            decode(&key(KeyCode::F(1), KeyModifiers::NONE), ctx()),
            Some(Action::Help)
        );
    }

    #[test]
    fn confirm_takes_y_and_n() {
        let c = KeyContext {
            mode: Mode::Confirm(crate::tui::msg::Confirm::Quit),
            ..ctx()
        };
        assert_eq!(
            decode(&key(KeyCode::Char('y'), KeyModifiers::NONE), c),
            Some(Action::Answer(true))
        );
        assert_eq!(
            decode(&key(KeyCode::Char('n'), KeyModifiers::NONE), c),
            Some(Action::Answer(false))
        );
        assert_eq!(
            decode(&key(KeyCode::Esc, KeyModifiers::NONE), c),
            Some(Action::Dismiss),
            "Esc is not now, not no"
        );
        for other in [KeyCode::Char('z'), KeyCode::Enter, KeyCode::Char('1')] {
            assert_eq!(
                decode(&key(other, KeyModifiers::NONE), c),
                Some(Action::NotAnAnswer),
                "{other:?} is no answer: refused with how to answer, never taken for yes"
            );
        }
    }
}
