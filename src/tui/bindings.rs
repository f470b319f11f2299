//! The one table of key bindings. Key decoding (`input::to_msg`), the Help screen and
//! the status-line hints all read it, so what a key does and what the screen says it
//! does cannot drift apart.

use super::msg::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::LazyLock;
use tui_input::InputRequest;

/// Where a binding works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// On every screen (unless a question is asked).
    Everywhere,
    /// In the entry form.
    Form,
    /// On the form's Review section.
    Review,
    /// While a code picker is open.
    Picker,
    /// While the jump-to-field list is open (Ctrl+F).
    Jump,
    Preview,
    History,
    Outbox,
    /// A patient's SMART Health Card.
    Card,
    Help,
    /// While a yes/no question is asked: nothing else works.
    Confirm,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::Everywhere,
        Scope::Form,
        Scope::Review,
        Scope::Picker,
        Scope::Jump,
        Scope::Preview,
        Scope::History,
        Scope::Outbox,
        Scope::Card,
        Scope::Help,
        Scope::Confirm,
    ];

    /// The heading of this scope's part of the Help screen.
    pub fn heading(self) -> &'static str {
        match self {
            Scope::Everywhere => "Everywhere",
            Scope::Form => "In the form",
            Scope::Review => "On Review",
            Scope::Picker => "In a code picker",
            Scope::Jump => "Jump to a field (Ctrl+F)",
            Scope::Preview => "Preview (Ctrl+P)",
            Scope::History => "History (F4)",
            Scope::Outbox => "Outbox (F6)",
            Scope::Card => "SMART Health Card (k in a visit's view, Alt+K in History)",
            Scope::Help => "Help (F1)",
            Scope::Confirm => "When asked to confirm",
        }
    }
}

/// Which modifier a key needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mods {
    /// No Ctrl or Alt (Shift is allowed: it is part of `G` or `?`).
    Plain,
    Ctrl,
    Alt,
    Shift,
    /// Any modifiers (Shift+Tab arrives as BackTab with or without SHIFT).
    Any,
}

/// One key as bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: Mods,
}

const fn plain(code: KeyCode) -> Key {
    Key {
        code,
        mods: Mods::Plain,
    }
}

const fn ch(c: char) -> Key {
    plain(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: Mods::Ctrl,
    }
}

const fn alt(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: Mods::Alt,
    }
}

const fn ctrl_code(code: KeyCode) -> Key {
    Key {
        code,
        mods: Mods::Ctrl,
    }
}

impl Key {
    pub fn matches(self, key: &KeyEvent) -> bool {
        let m = key.modifiers;
        let mods_ok = match self.mods {
            Mods::Plain => !m.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT),
            Mods::Ctrl => m.contains(KeyModifiers::CONTROL),
            Mods::Alt => m.intersects(KeyModifiers::ALT | KeyModifiers::META),
            Mods::Shift => m.contains(KeyModifiers::SHIFT),
            Mods::Any => true,
        };
        mods_ok && key.code == self.code
    }

    /// How the Help screen writes the key: `Ctrl+S`, `F5`, `Shift+Tab`.
    pub fn label(self) -> String {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if matches!(self.mods, Mods::Ctrl | Mods::Alt) => {
                c.to_ascii_uppercase().to_string()
            }
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift+Tab".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Delete => "Delete".into(),
            KeyCode::Backspace => "Backspace".into(),
            other => format!("{other:?}"),
        };
        match self.mods {
            Mods::Ctrl => format!("Ctrl+{name}"),
            Mods::Alt => format!("Alt+{name}"),
            Mods::Shift if self.code != KeyCode::BackTab => format!("Shift+{name}"),
            _ => name,
        }
    }

    /// The short form for the status line: `^S`.
    pub fn short(self) -> String {
        match (self.mods, self.code) {
            (Mods::Ctrl, KeyCode::Char(c)) => format!("^{}", c.to_ascii_uppercase()),
            _ => self.label(),
        }
    }
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Binding {
    pub scope: Scope,
    pub keys: Vec<Key>,
    /// What the keys do; `None` for keys handled by the text field itself (editing),
    /// listed for Help only.
    pub action: Option<Action>,
    /// How Help lists the keys when they are not single keys (`typing`).
    pub keys_text: Option<&'static str>,
    pub help: &'static str,
    /// The word for the status line, when the binding is worth a hint there.
    pub hint: Option<&'static str>,
    /// The keys as the status line writes them, for a row without single keys.
    pub hint_keys: Option<&'static str>,
}

fn bind(scope: Scope, keys: &[Key], action: Action, help: &'static str) -> Binding {
    Binding {
        scope,
        keys: keys.to_vec(),
        action: Some(action),
        keys_text: None,
        help,
        hint: None,
        hint_keys: None,
    }
}

/// A row Help lists whose keys the text field handles itself.
fn described(scope: Scope, keys_text: &'static str, help: &'static str) -> Binding {
    Binding {
        scope,
        keys: Vec::new(),
        action: None,
        keys_text: Some(keys_text),
        help,
        hint: None,
        hint_keys: None,
    }
}

impl Binding {
    fn hint(mut self, word: &'static str) -> Binding {
        self.hint = Some(word);
        self
    }

    /// The keys as Help lists them.
    pub fn keys_label(&self) -> String {
        match self.keys_text {
            Some(text) => text.to_string(),
            None => {
                // Shift+Tab is bound twice (BackTab and Tab with SHIFT): listed once.
                let mut labels: Vec<String> = Vec::new();
                for label in self.keys.iter().map(|k| k.label()) {
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
                labels.join("  ")
            }
        }
    }
}

use KeyCode::*;
use Scope::*;

/// Every binding, in the order Help lists them.
pub static BINDINGS: LazyLock<Vec<Binding>> = LazyLock::new(|| {
    vec![
        // Everywhere.
        bind(
            Everywhere,
            &[ctrl('s')],
            Action::Save,
            "save the visit and its bundle",
        )
        .hint("save"),
        bind(
            Everywhere,
            &[ctrl('g'), plain(F(5))],
            Action::SaveAndSubmit,
            "save and send (queued if offline); in History or a visit's view, send that visit",
        ),
        bind(
            Everywhere,
            &[ctrl('p')],
            Action::Preview,
            "preview the exact bundle that is saved and sent",
        )
        .hint("preview"),
        bind(
            Everywhere,
            &[plain(F(4)), ctrl('o')],
            Action::History,
            "history of saved visits and drafts",
        )
        .hint("history"),
        bind(
            Everywhere,
            &[plain(F(6)), ctrl('l')],
            Action::Outbox,
            "outbox: what waits to be sent, what failed, what was sent",
        ),
        bind(
            Everywhere,
            &[ctrl('r')],
            Action::CopyAsNew,
            "a new visit for the same patient (in History and a stored visit's view)",
        ),
        bind(
            Everywhere,
            &[ctrl('n'), plain(F(9))],
            Action::NewVisit,
            "start a new visit (asks first if anything was typed)",
        ),
        bind(Everywhere, &[plain(F(1))], Action::Help, "this help").hint("help"),
        bind(
            Everywhere,
            &[ctrl('q'), ctrl('c')],
            Action::Quit,
            "quit (asks first if anything was typed)",
        ),
        bind(
            Everywhere,
            &[plain(Esc)],
            Action::Escape,
            "back, cancel or close",
        ),
        bind(
            Everywhere,
            &[plain(Enter)],
            Action::Enter,
            "on a dose, the next field it still needs (Tab: the very next); open or take the chosen row",
        ),
        bind(
            Everywhere,
            &[plain(Up)],
            Action::Up,
            "previous field or row",
        ),
        bind(
            Everywhere,
            &[plain(Down)],
            Action::Down,
            "next field or row",
        ),
        // The form.
        bind(
            Form,
            &[
                Key {
                    code: BackTab,
                    mods: Mods::Any,
                },
                Key {
                    code: Tab,
                    mods: Mods::Shift,
                },
            ],
            Action::PrevField,
            "previous field",
        ),
        bind(
            Form,
            &[plain(Tab)],
            Action::NextField,
            "next field; fields that do not apply to the dose are skipped",
        )
        .hint("next"),
        bind(
            Form,
            &[plain(PageDown), ctrl_code(Right)],
            Action::NextPage,
            "next section (Patient, Dose 1.., Review)",
        ),
        bind(
            Form,
            &[plain(PageUp), ctrl_code(Left)],
            Action::PrevPage,
            "previous section",
        ),
        bind(
            Form,
            &[ctrl('d'), plain(F(2))],
            Action::AddDose,
            "add a dose; copies date, performer, place, funding",
        )
        .hint("+dose"),
        bind(
            Form,
            &[ctrl('x'), plain(F(3))],
            Action::RemoveDose,
            "remove this dose (asks first)",
        ),
        bind(
            Form,
            &[plain(F(7))],
            Action::UseStoredPatient,
            "fill in the stored patient: the one under the MRN typed, or the one suggested while the MRN or family name is typed",
        ),
        bind(
            Form,
            &[Key { code: Down, mods: Mods::Alt }],
            Action::NextSuggestion,
            "while several stored patients match what is typed: suggest the next (F7 fills it in)",
        ),
        bind(
            Form,
            &[ctrl('f')],
            Action::JumpToField,
            "jump to a field: type part of its name (site, npi, d2 lot), Enter goes there",
        )
        .hint("jump"),
        bind(
            Form,
            &[alt('h')],
            Action::ToggleGivenHere,
            "the dose switches between given here and historical (given elsewhere); what no longer applies is cleared, and it says so",
        ),
        bind(
            Form,
            &[alt('n')],
            Action::ToggleNotDone,
            "the dose switches between given and not given (refused, contraindicated ...); a dose not given goes to its reason, and what no longer applies is cleared",
        ),
        bind(
            Form,
            &[alt('d')],
            Action::ShowDue,
            "what is due for the patient by CDC's schedule (CDSi), in full: each vaccine group's next dose and its dates; once the patient's doses are known",
        ),
        bind(
            Form,
            &[plain(F(8))],
            Action::MassClinic,
            "mass clinic: this dose's product, performer, place, funding and VIS go into every new visit, which asks only for the patient and the site; F8 again ends it",
        ),
        described(
            Form,
            "typing",
            "edits the field; in a coded field it opens a picker",
        ),
        described(
            Form,
            "←  →  Home  End",
            "move in the field (also Ctrl+A, Ctrl+E)",
        ),
        bind(
            Form,
            &[alt('b')],
            Action::Edit(InputRequest::GoToPrevWord),
            "move a word left",
        ),
        bind(
            Form,
            &[alt('f')],
            Action::Edit(InputRequest::GoToNextWord),
            "move a word right",
        ),
        described(Form, "Backspace  Delete", "delete a character"),
        described(
            Form,
            "Ctrl+W  Alt+Backspace",
            "delete the word before the cursor",
        ),
        described(Form, "Ctrl+U", "clear the field"),
        described(
            Form,
            "(automatic)",
            "the visit is kept as a draft every second, and offered again if vaxentry stops before it is saved",
        ),
        bind(Review, &[ch('?')], Action::Help, "this help"),
        described(
            Review,
            "↑  ↓  Enter",
            "choose a problem and go to its field",
        ),
        // A picker: the keys are the everywhere ones, read this way.
        described(Picker, "↑  ↓", "choose").hint_described("↑↓", "choose"),
        described(
            Picker,
            "Enter  Tab",
            "take the chosen code (a code typed whole is taken by itself); Enter goes on to what the dose still needs, Tab to the next field",
        )
        .hint_described("Enter", "take"),
        described(Picker, "Esc", "undo: the field gets its earlier value back")
            .hint_described("Esc", "cancel"),
        // The jump list: the everywhere keys, read this way.
        described(Jump, "typing", "filter the field names").hint_described("type", "filter"),
        described(Jump, "↑  ↓  Tab", "choose").hint_described("↑↓", "choose"),
        described(Jump, "Enter", "go to the chosen field").hint_described("Enter", "go"),
        described(Jump, "Esc  Ctrl+F", "close the list").hint_described("Esc", "close"),
        // The preview.
        described(Preview, "↑  ↓", "scroll a line").hint_described("↑↓", "scroll"),
        bind(
            Preview,
            &[plain(PageDown), ch(' ')],
            Action::PageDown,
            "scroll a page down",
        ),
        bind(
            Preview,
            &[plain(PageUp)],
            Action::PageUp,
            "scroll a page up",
        ),
        bind(Preview, &[plain(Home), ch('g')], Action::Home, "to the top"),
        bind(
            Preview,
            &[plain(End), ch('G')],
            Action::End,
            "to the bottom",
        ),
        bind(
            Preview,
            &[ch('/')],
            Action::Search,
            "search; Enter jumps to the first match",
        )
        .hint("search"),
        bind(Preview, &[ch('n')], Action::NextMatch, "next match"),
        bind(
            Preview,
            &[ch('e')],
            Action::Amend,
            "correct a stored visit in the form (a sent one goes again as a new message about the same doses)",
        )
        .hint("correct"),
        bind(
            Preview,
            &[ch('v')],
            Action::Versions,
            "a stored visit's versions: who, when, why, and each bundle as it was",
        )
        .hint("versions"),
        bind(
            Preview,
            &[ch('c')],
            Action::CopyAsNew,
            "a new visit for the same patient (a stored visit)",
        )
        .hint("copy"),
        bind(
            Preview,
            &[ch('k')],
            Action::Card,
            "a SMART Health Card of the patient's doses held here (a stored visit; needs [card] issuer)",
        )
        .hint("card"),
        bind(
            Preview,
            &[plain(Esc), ch('q')],
            Action::Escape,
            "back to where the preview was opened from",
        )
        .hint("back"),
        bind(
            Preview,
            &[ctrl('s')],
            Action::Save,
            "save the visit in the form, exactly as shown",
        )
        .hint("save"),
        // The history.
        described(History, "typing", "filters by name, MRN, vaccine or date")
            .hint_described("type", "filter"),
        described(
            History,
            "Enter",
            "open: a draft goes back into the form, others open read-only",
        )
        .hint_described("Enter", "open"),
        bind(History, &[plain(PageDown)], Action::PageDown, "a page down"),
        bind(
            History,
            &[alt('v')],
            Action::Versions,
            "the chosen visit's versions: who, when, why, and each bundle",
        ),
        bind(
            History,
            &[alt('e')],
            Action::Amend,
            "correct the chosen visit in the form",
        ),
        bind(
            History,
            &[alt('k')],
            Action::Card,
            "a SMART Health Card of the chosen visit's patient",
        ),
        bind(History, &[plain(PageUp)], Action::PageUp, "a page up"),
        bind(
            History,
            &[ctrl('r')],
            Action::CopyAsNew,
            "a new visit for the chosen visit's patient",
        )
        .hint("new for patient"),
        bind(
            History,
            &[plain(Delete), ctrl('x')],
            Action::Delete,
            "delete a draft (asks first)",
        )
        .hint("delete draft"),
        bind(History, &[plain(Esc)], Action::Escape, "back to the form").hint("back"),
        // The card.
        bind(
            Card,
            &[ch('a')],
            Action::CardDoses,
            "every dose of the patient held here, or only the visit's",
        )
        .hint("all/visit"),
        bind(
            Card,
            &[ch('s')],
            Action::SaveCard,
            "write the card into the data folder's cards folder: the .smart-health-card file, and the QR code as PNG and SVG",
        )
        .hint("save files"),
        bind(
            Card,
            &[plain(Esc), ch('q')],
            Action::Escape,
            "back to the visit or the history",
        )
        .hint("back"),
        // The outbox.
        bind(
            Outbox,
            &[ch('r')],
            Action::Retry,
            "retry the chosen visit now",
        )
        .hint("retry"),
        bind(
            Outbox,
            &[ch('a')],
            Action::RetryAll,
            "retry everything that waits or failed",
        )
        .hint("retry all"),
        bind(
            Outbox,
            &[ch('s')],
            Action::Resubmit,
            "send a submitted visit again as a new message (asks first)",
        )
        .hint("send again"),
        bind(
            Outbox,
            &[ch('x')],
            Action::Void,
            "void a submitted visit: its doses sent as entered-in-error (asks first)",
        )
        .hint("void"),
        described(
            Outbox,
            "Enter",
            "the endpoint's answer, its problems named by form field",
        )
        .hint_described("Enter", "answer"),
        bind(Outbox, &[plain(PageDown)], Action::PageDown, "a page down"),
        bind(Outbox, &[plain(PageUp)], Action::PageUp, "a page up"),
        bind(Outbox, &[plain(Home)], Action::Home, "to the top"),
        bind(Outbox, &[plain(End)], Action::End, "to the bottom"),
        bind(Outbox, &[plain(Esc)], Action::Escape, "back to the form").hint("back"),
        // Help.
        bind(Help, &[plain(Down)], Action::Down, "scroll down").hint("scroll"),
        bind(Help, &[plain(Up)], Action::Up, "scroll up"),
        bind(Help, &[plain(PageDown)], Action::PageDown, "a page down"),
        bind(Help, &[plain(PageUp)], Action::PageUp, "a page up"),
        bind(Help, &[plain(Home)], Action::Home, "to the top"),
        bind(
            Help,
            &[plain(End)],
            Action::End,
            "to the end: the last field",
        ),
        bind(
            Help,
            &[plain(Esc), plain(F(1)), plain(Enter)],
            Action::Escape,
            "close",
        )
        .hint("close"),
        // Questions.
        bind(Confirm, &[ch('y'), ch('Y')], Action::Answer(true), "yes").hint("yes"),
        bind(Confirm, &[ch('n'), ch('N')], Action::Answer(false), "no").hint("no"),
        bind(
            Confirm,
            &[plain(Esc), ctrl('c'), ctrl('q')],
            Action::Dismiss,
            "not now: nothing is done (Ctrl+C and Ctrl+Q never answer yes)",
        )
        .hint("not now"),
    ]
});

impl Binding {
    /// A status-line hint for a described row: its own short keys and word.
    fn hint_described(mut self, keys: &'static str, word: &'static str) -> Binding {
        self.hint_keys = Some(keys);
        self.hint = Some(word);
        self
    }
}

/// The key that does `action` in `scope` (else everywhere), as messages name it:
/// "Ctrl+G", "F6", "PgDn", "v".
pub fn key(scope: Scope, action: &Action) -> String {
    first_key(scope, action).map_or_else(String::new, Key::label)
}

/// The same key in the status line's short form: "^S".
pub fn short(scope: Scope, action: &Action) -> String {
    first_key(scope, action).map_or_else(String::new, Key::short)
}

fn first_key(scope: Scope, action: &Action) -> Option<Key> {
    let bound = |scope: Scope| {
        BINDINGS
            .iter()
            .filter(|b| b.scope == scope && b.action.as_ref() == Some(action))
            .find_map(|b| b.keys.first().copied())
    };
    bound(scope).or_else(|| bound(Scope::Everywhere))
}

/// The first binding of `scope` whose keys match the event.
pub fn lookup(scope: Scope, key: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.scope == scope)
        .find(|b| b.keys.iter().any(|k| k.matches(key)))
        .and_then(|b| b.action.clone())
}

/// The status-line hints of a scope: (keys, word), in table order.
pub fn hints(scope: Scope) -> Vec<(String, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| b.scope == scope)
        .filter_map(|b| {
            let word = b.hint?;
            let keys = match (b.hint_keys, b.keys.first()) {
                (Some(text), _) => text.to_string(),
                (None, Some(key)) => key.short(),
                (None, None) => return None,
            };
            Some((keys, word))
        })
        .collect()
}
