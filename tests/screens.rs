//! Screen snapshots of the form, driven by key events through the same decoding,
//! `update` and drawing the real app runs, at 80x24 and 120x40.

mod common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use vaxentry::record::FieldId;
use vaxentry::store::Store;
use vaxentry::tui::app::{App, update};
use vaxentry::tui::input::{KeyContext, to_msg};
use vaxentry::tui::msg::{Done, Effect, Mode, Msg, Page};
use vaxentry::tui::view;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

/// Turns `"A123<Tab>Smith<C-d>"` into key events.
fn keys(script: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut rest = script;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            let name = &rest[1..end];
            let none = KeyModifiers::NONE;
            events.push(match name {
                "Tab" => key(KeyCode::Tab, none),
                "BackTab" => key(KeyCode::BackTab, KeyModifiers::SHIFT),
                "Enter" => key(KeyCode::Enter, none),
                "Esc" => key(KeyCode::Esc, none),
                "Up" => key(KeyCode::Up, none),
                "Down" => key(KeyCode::Down, none),
                "Left" => key(KeyCode::Left, none),
                "PgDn" => key(KeyCode::PageDown, none),
                "PgUp" => key(KeyCode::PageUp, none),
                "BS" => key(KeyCode::Backspace, none),
                "F1" => key(KeyCode::F(1), none),
                "F4" => key(KeyCode::F(4), none),
                "F6" => key(KeyCode::F(6), none),
                "F7" => key(KeyCode::F(7), none),
                "F8" => key(KeyCode::F(8), none),
                "Delete" => key(KeyCode::Delete, none),
                other if other.starts_with("C-") => key(
                    KeyCode::Char(other.chars().nth(2).unwrap()),
                    KeyModifiers::CONTROL,
                ),
                other if other.starts_with("A-") => key(
                    KeyCode::Char(other.chars().nth(2).unwrap()),
                    KeyModifiers::ALT,
                ),
                other => panic!("unknown key <{other}>"),
            });
            rest = &rest[end + 1..];
            continue;
        }
        events.push(key(KeyCode::Char(c), KeyModifiers::NONE));
        rest = &rest[c.len_utf8()..];
    }
    events
}

fn app(size: (u16, u16)) -> App {
    let mut settings = common::settings();
    settings.source_name = Some("Riverside Family Clinic".into());
    App::new(common::now(), settings, size, true)
}

thread_local! {
    /// Each test runs on its own thread, so each gets its own database.
    static STORE: std::cell::RefCell<Store> = std::cell::RefCell::new(new_store());
}

fn new_store() -> Store {
    Store::open(
        &std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("vaxentry-screens-{}", uuid::Uuid::new_v4())),
    )
    .expect("test store")
}

/// Feeds events the way the event loop does, running the effects against a test
/// database and feeding their outcomes back; returns the effects.
fn drive(app: &mut App, events: Vec<Event>) -> Vec<Effect> {
    let mut effects = Vec::new();
    for event in events {
        // As in the event loop: what a click means comes from the last draw.
        let layout = draw(app);
        let mut msgs: std::collections::VecDeque<_> = to_msg(&event, KeyContext::of(app), &layout)
            .into_iter()
            .collect();
        while let Some(msg) = msgs.pop_front() {
            for effect in update(app, msg) {
                effects.push(effect.clone());
                msgs.extend(STORE.with(|s| {
                    vaxentry::tui::effects::run(effect, &mut s.borrow_mut(), app.now, &app.settings)
                        .map(Msg::Done)
                }));
            }
        }
    }
    effects
}

/// The effects that change something (not the look-ups the form asks for as it goes).
fn writes(effects: Vec<Effect>) -> Vec<Effect> {
    effects
        .into_iter()
        .filter(|e| {
            !matches!(
                e,
                Effect::LookupPatient(_) | Effect::SuggestPatients(_) | Effect::AskEndpoint(_)
            )
        })
        .collect()
}

fn render(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal
        .draw(|f| {
            view::draw(f, app);
        })
        .unwrap();
    terminal
}

/// Draws the app and returns what can be clicked where.
fn draw(app: &App) -> vaxentry::tui::layout::Layout {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    let mut layout = Default::default();
    terminal.draw(|f| layout = view::draw(f, app)).unwrap();
    layout
}

/// A left click at a screen position, as the terminal reports it.
fn click(column: u16, row: u16) -> Event {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

/// Snapshots the screen after `script` at both sizes.
fn screens(name: &str, script: &str) {
    for size in SIZES {
        let mut app = app(size);
        drive(&mut app, keys(script));
        insta::assert_snapshot!(
            format!("{name}-{}x{}", size.0, size.1),
            render(&app).backend()
        );
    }
}

const PATIENT: &str = "MRN-4471<Tab>Lindqvist<Tab>Astrid Maria<Tab>03/14/1987<Tab>f<Enter>413 555 0142<Tab>12 Harbour Road<Tab>Springfield<Tab>ma<Enter>01101";
const FLU: &str = "flu<Down><Enter><Tab><Tab><Tab>UT8291AA<Tab>pmc<Enter>06/30/2027<Tab><Tab>0.5<Tab>la<Enter>im<Enter>Jordan Okafor";

#[test]
fn empty_form() {
    screens("empty", "");
}

#[test]
fn patient_section_filled() {
    screens("patient-filled", PATIENT);
}

#[test]
fn field_with_an_error() {
    screens(
        "birth-date-error",
        "MRN-4471<Tab>Lindqvist<Tab>Astrid<Tab>02/30/1987",
    );
}

#[test]
fn vaccine_picker_with_flu_typed() {
    screens("picker-flu", &format!("{PATIENT}<PgDn>flu"));
}

#[test]
fn not_done_dose_shows_reason_and_skips_lot() {
    screens(
        "not-done",
        &format!("{PATIENT}<PgDn>shingrix<Enter>n<Enter>"),
    );
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>shingrix<Enter>n<Enter>")),
    );
    let fields = a.form.visible_fields(Page::Dose(0));
    assert!(fields.contains(&FieldId::StatusReason));
    assert!(!fields.contains(&FieldId::Lot));
    assert_eq!(
        a.form.focus.field,
        FieldId::StatusReason,
        "Enter moves straight to the reason"
    );
}

#[test]
fn two_doses() {
    screens(
        "two-doses",
        &format!("{PATIENT}<PgDn>{FLU}<C-d>tdap<Enter>"),
    );
}

#[test]
fn review_section() {
    screens(
        "review",
        &format!("{PATIENT}<PgDn>{FLU}<C-d>tdap<Enter><PgDn>"),
    );
}

#[test]
fn help_overlay() {
    screens("help", "<F1>");
}

#[test]
fn window_too_small() {
    let mut a = app((79, 23));
    drive(&mut a, keys("MRN"));
    insta::assert_snapshot!("too-small-79x23", render(&a).backend());
}

#[test]
fn error_marks_are_symbols_not_only_colour() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys("MRN-4471<Tab>Lindqvist<Tab>Astrid<Tab>02/30/1987<Tab>"),
    );
    let terminal = render(&a);
    // The styled buffer: the ✗ symbol is there with its colour, and the same screen
    // without colour still carries the ✗.
    insta::assert_debug_snapshot!("error-mark-styled", terminal.backend().buffer());
    let mut plain = app((80, 24));
    plain.color = false;
    drive(
        &mut plain,
        keys("MRN-4471<Tab>Lindqvist<Tab>Astrid<Tab>02/30/1987<Tab>"),
    );
    let text = render(&plain).backend().to_string();
    assert!(text.contains("✗  Birth date"), "{text}");
    let colours: Vec<_> = render(&plain)
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.fg)
        .filter(|c| *c != ratatui::style::Color::Reset)
        .collect();
    assert!(colours.is_empty(), "NO_COLOR must mean no colours");
}

#[test]
fn backtab_goes_back_with_or_without_shift() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<Tab><Tab>"));
    assert_eq!(a.form.focus.field, FieldId::Given);
    drive(&mut a, vec![key(KeyCode::BackTab, KeyModifiers::NONE)]);
    assert_eq!(a.form.focus.field, FieldId::Family);
    drive(&mut a, vec![key(KeyCode::BackTab, KeyModifiers::SHIFT)]);
    assert_eq!(a.form.focus.field, FieldId::Mrn);
}

#[test]
fn paste_strips_line_breaks_and_control_characters() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        vec![Event::Paste("Jean-\r\nLuc\u{7}\tPicard\n".into())],
    );
    assert_eq!(a.form.visit.patient.get(FieldId::Mrn), "Jean-  Luc Picard");
}

#[test]
fn wide_characters_put_the_cursor_by_display_width() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<Tab>山田太郎<Left>"));
    let mut terminal = render(&a);
    // Label column ends at x = 14 (pages) + 1 (border) + 4 (marks) + 16 + 1: the value
    // starts at 36; three wide characters before the cursor take 6 columns.
    terminal.backend_mut().assert_cursor_position((36 + 6, 3));
}

#[test]
fn combining_characters_edit_as_one_position() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<Tab>Zoe\u{308}<BS>"));
    assert_eq!(
        a.form.visit.patient.get(FieldId::Family),
        "Zo",
        "e + combining diaeresis is one character to delete"
    );
}

#[test]
fn ctrl_c_with_unsaved_input_asks_first() {
    let mut a = app((80, 24));
    assert_eq!(
        drive(&mut a, keys("<C-c>")),
        vec![Effect::Quit],
        "nothing typed: quit at once"
    );
    let mut a = app((80, 24));
    let effects = writes(drive(&mut a, keys("A1<C-c>")));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(a.mode, Mode::Confirm(_)));
    insta::assert_snapshot!("quit-confirm-80x24", render(&a).backend());
    assert!(drive(&mut a, keys("n")).is_empty());
    assert_eq!(a.mode, Mode::Normal);
    let effects = drive(&mut a, keys("<C-c>y"));
    assert!(
        matches!(effects.as_slice(), [Effect::SaveDraft { .. }, Effect::Quit]),
        "the visit is kept as a draft on the way out: {effects:?}"
    );
}

#[test]
fn ctrl_c_and_ctrl_q_answer_no_to_every_question() {
    // Quit, remove a dose, new visit: Ctrl+C or Ctrl+Q on the question does nothing.
    for script in ["A1<C-c>", "A1<C-d><C-x>", "A1<C-n>"] {
        for answer in ["<C-c>", "<C-q>"] {
            let mut a = app((80, 24));
            drive(&mut a, keys(script));
            assert!(matches!(a.mode, Mode::Confirm(_)), "{script}");
            let doses = a.form.visit.doses.len();
            let effects = drive(&mut a, keys(answer));
            assert!(effects.is_empty(), "{script}{answer}: {effects:?}");
            assert_eq!(a.mode, Mode::Normal, "{script}{answer}");
            assert_eq!(a.form.visit.doses.len(), doses, "{script}{answer}");
            assert_eq!(
                a.form.visit.patient.get(FieldId::Mrn),
                "A1",
                "{script}{answer}"
            );
        }
    }
}

#[test]
fn picker_escape_restores_the_previous_code() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<PgDn>flu<Enter><Up>covid<Esc>"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Vaccine), "111");
}

#[test]
fn a_new_dose_copies_the_visit_level_fields() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!(
            "<PgDn>{FLU}<Tab><Tab><Tab>Riverside<Tab>public<C-d>"
        )),
    );
    assert_eq!(a.form.focus.page, Page::Dose(1));
    assert_eq!(a.form.focus.field, FieldId::Vaccine);
    let second = &a.form.visit.doses[1];
    assert_eq!(second.get(FieldId::Performer), "Jordan Okafor");
    assert_eq!(second.get(FieldId::Location), "Riverside");
    assert_eq!(second.get(FieldId::Funding), "public");
    assert_eq!(
        second.get(FieldId::Lot),
        "",
        "the lot belongs to the vial, not the visit"
    );
}

/// The historical dose after Ctrl+D: "Given here" to no clears what was carried from
/// this clinic (performer, NPI, place, funding, eligibility, date), and says so; what
/// was typed for the dose stays.
#[test]
fn a_dose_switched_to_historical_loses_what_was_carried_and_says_so() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!(
            "{PATIENT}<PgDn>{FLU}<Tab>1234567893<Tab><Tab>Riverside<Tab>public<Tab>v02<Enter><C-d>03<Enter>"
        )),
    );
    let page = a.form.focus.page;
    assert_eq!(page, Page::Dose(1));
    let second = a.form.visit.doses[1].clone();
    assert_eq!(
        second.get(FieldId::Eligibility),
        "V02",
        "carried while given here"
    );
    // Go to "Given here" and say no.
    while a.form.focus.field != FieldId::PrimarySource {
        drive(&mut a, keys("<Tab>"));
    }
    // Leaving the field (or saving from it) makes it take effect.
    drive(&mut a, keys("n<Tab>"));
    let dose = &a.form.visit.doses[1];
    assert_eq!(
        dose.get(FieldId::PrimarySource),
        "n",
        "typing replaced the default yes"
    );
    for field in [
        FieldId::Performer,
        FieldId::PerformerNpi,
        FieldId::Location,
        FieldId::Funding,
        FieldId::Eligibility,
        FieldId::Administered,
    ] {
        assert_eq!(dose.get(field), "", "{field:?} was carried and is cleared");
    }
    assert_eq!(dose.get(FieldId::Vaccine), "03", "what was typed stays");
    let notice = a.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("A dose given elsewhere") && notice.contains("Given by"),
        "{notice}"
    );
    drive(&mut a, keys("<PgUp>"));
    let first = &a.form.visit.doses[0];
    assert_eq!(
        first.get(FieldId::Performer),
        "Jordan Okafor",
        "the first dose keeps its own"
    );
}

/// Alt+H switches the dose in front between given here and historical from any of
/// its fields, as typing into "Given here" does, and says which.
#[test]
fn alt_h_switches_a_dose_between_given_here_and_historical() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<A-h>"));
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .contains("go to the dose first"),
        "{:?}",
        a.notice
    );
    drive(
        &mut a,
        keys(&format!(
            "{PATIENT}<PgDn>{FLU}<Tab>1234567893<C-d>03<Enter>"
        )),
    );
    assert_eq!(
        a.form.visit.doses[1].get(FieldId::Performer),
        "Jordan Okafor"
    );
    drive(&mut a, keys("<A-h>"));
    let dose = &a.form.visit.doses[1];
    assert_eq!(dose.get(FieldId::PrimarySource), "no");
    assert_eq!(dose.get(FieldId::Performer), "", "carried, so cleared");
    assert_eq!(dose.get(FieldId::Vaccine), "03", "typed, so kept");
    let notice = a.notice.clone().unwrap();
    assert!(
        notice.starts_with("Dose 2 is historical (given elsewhere); A dose given elsewhere"),
        "{notice}"
    );
    insta::assert_snapshot!("alt-h-historical-80x24", render(&a).backend());
    drive(&mut a, keys("<A-h>"));
    assert_eq!(a.form.visit.doses[1].get(FieldId::PrimarySource), "yes");
    assert_eq!(a.notice.as_deref(), Some("Dose 2 is given here"));
}

#[test]
fn funding_and_eligibility_never_follow_the_user_to_the_next_patient() {
    for next in ["<C-n>y", "<C-s>"] {
        let mut a = app((80, 24));
        drive(
            &mut a,
            keys(&format!(
                "{PATIENT}<PgDn>{FLU}<Tab><Tab><Tab>Riverside<Tab>public<Tab>v02<Enter>{next}"
            )),
        );
        assert_eq!(
            a.form.visit.patient.get(FieldId::Mrn),
            "",
            "{next}: a new visit"
        );
        let dose = &a.form.visit.doses[0];
        assert_eq!(
            dose.get(FieldId::Performer),
            "Jordan Okafor",
            "{next}: station facts carry"
        );
        assert_eq!(dose.get(FieldId::Location), "Riverside", "{next}");
        assert_eq!(
            dose.get(FieldId::Funding),
            "",
            "{next}: a fact about the last patient"
        );
        assert_eq!(
            dose.get(FieldId::Eligibility),
            "",
            "{next}: a fact about the last patient"
        );
    }
}

#[test]
fn typing_into_a_prefilled_value_replaces_it_and_moving_first_keeps_it() {
    let mut a = app((80, 24));
    // Country is prefilled "US".
    while a.form.focus.field != FieldId::Country {
        drive(&mut a, keys("<Tab>"));
    }
    assert!(a.form.focus.fresh);
    drive(&mut a, keys("CA"));
    assert_eq!(a.form.visit.patient.get(FieldId::Country), "CA");
    drive(&mut a, keys("<BackTab><Tab>"));
    drive(&mut a, keys("<Left>X"));
    assert_eq!(
        a.form.visit.patient.get(FieldId::Country),
        "CXA",
        "← keeps it for editing"
    );
    // Administered and Given here are prefilled on a dose.
    drive(&mut a, keys("<PgDn>"));
    while a.form.focus.field != FieldId::Administered {
        drive(&mut a, keys("<Tab>"));
    }
    drive(&mut a, keys("05/10/2019"));
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Administered),
        "05/10/2019"
    );
}

#[test]
fn administered_is_when_the_dose_is_first_typed_and_a_typed_time_is_kept() {
    let mut a = app((80, 24));
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Administered),
        "2026-11-25 15:30"
    );
    // The form sits idle for 40 minutes; then the dose is typed.
    let later = common::now() + chrono::Duration::minutes(40);
    vaxentry::tui::app::update(&mut a, vaxentry::tui::msg::Msg::Tick(later));
    drive(&mut a, keys("<PgDn>flu"));
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Administered),
        "2026-11-25 16:10"
    );
    // A typed time is never changed.
    while a.form.focus.field != FieldId::Administered {
        drive(&mut a, keys("<Tab>"));
    }
    drive(&mut a, keys("t 9:05a<Tab>"));
    let even_later = later + chrono::Duration::minutes(30);
    vaxentry::tui::app::update(&mut a, vaxentry::tui::msg::Msg::Tick(even_later));
    drive(&mut a, keys("LOT1"));
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Administered),
        "2026-11-25 09:05"
    );
}

#[test]
fn not_done_clears_what_does_not_apply_instead_of_warning() {
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}")));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Lot), "UT8291AA");
    drive(&mut a, keys("<PgUp><PgDn><Tab>not-done<Enter>"));
    let dose = &a.form.visit.doses[0];
    assert_eq!(dose.get(FieldId::Status), "not-done");
    for field in [
        FieldId::Lot,
        FieldId::Site,
        FieldId::Route,
        FieldId::Amount,
        FieldId::Manufacturer,
    ] {
        assert_eq!(dose.get(field), "", "{field:?}");
    }
    assert!(
        a.form
            .checks
            .findings
            .iter()
            .all(|f| f.rule != vaxentry::record::Rule::NotExpected),
        "{:?}",
        a.form.checks.findings
    );
    assert!(
        a.notice.as_deref().unwrap_or("").contains("do not apply"),
        "{:?}",
        a.notice
    );
}

#[test]
fn removing_a_dose_asks_and_the_last_dose_stays() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<PgDn><C-x>"));
    assert_eq!(a.form.visit.doses.len(), 1);
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("at least one dose")
    );
    drive(&mut a, keys("<C-d><C-x>"));
    assert!(matches!(a.mode, Mode::Confirm(_)));
    drive(&mut a, keys("y"));
    assert_eq!(a.form.visit.doses.len(), 1);
}

#[test]
fn new_visit_keeps_sticky_fields_and_remembers_lots() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!(
            "{PATIENT}<PgDn>{FLU}<Tab><Tab><Tab>Riverside<C-n>y"
        )),
    );
    assert_eq!(a.form.visit.patient.get(FieldId::Mrn), "");
    assert_eq!(a.form.focus.page, Page::Patient);
    let dose = &a.form.visit.doses[0];
    assert_eq!(dose.get(FieldId::Performer), "Jordan Okafor");
    assert_eq!(dose.get(FieldId::Location), "Riverside");
    drive(&mut a, keys("<PgDn>140<Enter>"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Lot), "UT8291AA");
    assert_eq!(a.form.visit.doses[0].get(FieldId::Manufacturer), "PMC");
    assert!(a.notice.as_deref().unwrap_or("").contains("UT8291AA"));
}

#[test]
fn enter_on_a_review_finding_jumps_to_its_field() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<PgUp>"));
    assert_eq!(a.form.focus.page, Page::Review);
    drive(&mut a, keys("<Down><Enter>"));
    let expected = a.form.checks.findings[1].at;
    assert_eq!(
        vaxentry::tui::screens::form::Form::field_ref(a.form.focus.page, a.form.focus.field),
        expected
    );
}

#[test]
fn clicking_a_field_or_section_focuses_it() {
    let mut a = app((80, 24));
    // Row 5 of the screen is the fourth field row: Birth date.
    drive(&mut a, vec![click(30, 5)]);
    assert_eq!(a.form.focus.field, FieldId::BirthDate);
    drive(&mut a, vec![click(3, 2)]);
    assert_eq!(a.form.focus.page, Page::Dose(0));
}

#[test]
fn resize_is_followed() {
    let mut a = app((80, 24));
    drive(&mut a, vec![Event::Resize(60, 20)]);
    assert_eq!(a.size, (60, 20));
    assert!(render(&a).backend().to_string().contains("at least 80x24"));
}

fn with_store<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    STORE.with(|s| f(&mut s.borrow_mut()))
}

#[test]
fn preview_of_a_valid_visit_is_exactly_what_is_saved() {
    for size in SIZES {
        // Each size saves the same dose: in a database of its own, it is no repeat.
        with_store(|s| *s = new_store());
        let mut a = app(size);
        drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}<C-p>")));
        assert_eq!(a.screen, vaxentry::tui::msg::Screen::Preview);
        // Visit ids are random, so the message ids in the bundle are too.
        insta::with_settings!({filters => vec![(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]")]}, {
            insta::assert_snapshot!(format!("preview-valid-{}x{}", size.0, size.1), render(&a).backend());
        });
        let shown = a
            .preview
            .as_ref()
            .unwrap()
            .message
            .clone()
            .expect("a valid visit has a bundle");
        let id = a.form.visit_id;
        drive(&mut a, keys("<C-s>"));
        let stored = with_store(|s| s.get(id).unwrap()).expect("saved");
        assert_eq!(
            stored.bundle_json.as_deref(),
            Some(shown.json.as_str()),
            "byte for byte"
        );
        let file = std::fs::read_to_string(
            a.notice
                .as_deref()
                .unwrap()
                .trim_start_matches("Saved. Bundle file: "),
        )
        .unwrap();
        assert_eq!(file, shown.json);
        assert_eq!(
            a.screen,
            vaxentry::tui::msg::Screen::Form,
            "after saving, a new visit starts"
        );
        assert_ne!(a.form.visit_id, id);
    }
}

#[test]
fn preview_with_errors_lists_them_instead_of_a_bundle() {
    screens("preview-errors", "MRN-1<Tab>Lee<Tab><Tab>02/30/1990<C-p>");
}

#[test]
fn preview_search_jumps_to_the_match() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>{FLU}<C-p>/lotNumber<Enter>")),
    );
    let p = a.preview.as_ref().unwrap();
    assert!(p.text_lines()[p.scroll].contains("\"lotNumber\": \"UT8291AA\""));
    drive(&mut a, keys("<Esc>"));
    assert_eq!(a.screen, vaxentry::tui::msg::Screen::Form);
}

#[test]
fn saving_with_errors_is_refused_and_shows_review() {
    let mut a = app((80, 24));
    let effects = writes(drive(&mut a, keys("MRN-1<C-s>")));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(a.form.focus.page, Page::Review);
    assert!(a.notice.as_deref().unwrap().starts_with("Not saved:"));
}

#[test]
fn history_with_records_and_a_filter() {
    let patients = [
        ("MRN-1001", "Lindqvist", "Astrid", "flu"),
        ("MRN-1002", "Okafor", "Jordan", "tdap"),
        ("MRN-1003", "Lindgren", "Erik", "covid"),
    ];
    for size in SIZES {
        let mut a = app(size);
        for (mrn, family, given, vaccine) in patients {
            drive(
                &mut a,
                keys(&format!(
                    "{mrn}<Tab>{family}<Tab>{given}<Tab>01/02/1980<Tab>m<Enter><PgDn>{vaccine}<Enter><Tab><Tab><Tab>L1<C-s>"
                )),
            );
            assert!(
                a.notice.as_deref().unwrap_or("").starts_with("Saved"),
                "{:?}",
                a.notice
            );
        }
        drive(&mut a, keys("<F4>lind"));
        assert_eq!(a.history.rows.len(), 2);
        insta::assert_snapshot!(
            format!("history-filtered-{}x{}", size.0, size.1),
            render(&a).backend()
        );
        // A click picks a row: the list starts on screen row 4.
        drive(&mut a, vec![click(20, 5)]);
        assert_eq!(a.history.cursor.selected, 1);
        drive(&mut a, vec![click(20, 4)]);
        assert_eq!(a.history.cursor.selected, 0);
        // Enter opens the stored visit read-only, with its stored bundle.
        drive(&mut a, keys("<Enter>"));
        assert_eq!(a.screen, vaxentry::tui::msg::Screen::Preview);
        // Ctrl+R: a new visit for the same patient.
        drive(&mut a, keys("<C-r>"));
        assert_eq!(a.screen, vaxentry::tui::msg::Screen::Form);
        assert_eq!(a.form.visit.patient.get(FieldId::Family), "Lindgren");
        assert_eq!(a.form.focus.page, Page::Dose(0));
        with_store(|s| {
            for row in s.list(&Default::default()).unwrap() {
                s.delete_draft(row.id).unwrap();
            }
        });
        with_store(|s| *s = new_store());
    }
}

#[test]
fn a_stored_visits_versions_show_who_when_why_and_each_bundle() {
    for size in SIZES {
        with_store(|s| *s = new_store());
        // Saved, then saved again changed, by a named user at a named station.
        let id = uuid::Uuid::new_v4();
        with_store(|s| {
            s.author = vaxentry::store::versions::Author {
                user: "nurse.ana".into(),
                station: "Room 2".into(),
            };
            let mut visit = common::example("adult-flu");
            for given in ["Astrid", "Astrid Maria"] {
                visit.patient.set(FieldId::Given, given);
                let message =
                    vaxentry::fhir::message_for(&visit, &common::settings(), common::now(), id)
                        .unwrap();
                s.save(id, &visit, &message, common::now()).unwrap();
            }
        });
        let mut a = app(size);
        // From the history (Alt+V) and from the visit's own view (v).
        drive(&mut a, keys("<F4><A-v>"));
        let from_history = a.preview.clone().expect("the versions");
        drive(&mut a, keys("<Esc><Enter>v"));
        assert_eq!(a.preview.as_ref(), Some(&from_history));
        insta::with_settings!({filters => vec![(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]")]}, {
            insta::assert_snapshot!(format!("versions-{}x{}", size.0, size.1), render(&a).backend());
        });
        let lines = from_history.text_lines();
        let first = lines
            .iter()
            .position(|l| l.starts_with("Version 1:"))
            .unwrap();
        let second = lines
            .iter()
            .position(|l| l.starts_with("Version 2:"))
            .unwrap();
        let given = |from: usize, to: usize, name: &str| {
            lines[from..to]
                .iter()
                .any(|l| l.trim() == format!("\"{name}\""))
        };
        assert!(
            given(first, second, "Astrid") && !given(first, second, "Astrid Maria"),
            "version 1 keeps the name it was saved with"
        );
        assert!(given(second, lines.len(), "Astrid Maria"));
        // A visit being typed has none yet; it says where they are.
        drive(&mut a, keys("<Esc><Esc><C-p>v"));
        assert!(
            a.notice.as_deref().unwrap().contains("History (F4)"),
            "{:?}",
            a.notice
        );
    }
}

#[test]
fn drafts_are_kept_every_tick_and_can_be_deleted_from_history() {
    let mut a = app((80, 24));
    drive(&mut a, keys("MRN-77<Tab>Draftly"));
    let id = a.form.visit_id;
    let effects = vaxentry::tui::app::update(&mut a, vaxentry::tui::msg::Msg::Tick(common::now()));
    assert!(matches!(effects.as_slice(), [Effect::SaveDraft { .. }]));
    for e in effects {
        with_store(|s| vaxentry::tui::effects::run(e, s, common::now(), &common::settings()));
    }
    assert!(
        vaxentry::tui::app::update(&mut a, vaxentry::tui::msg::Msg::Tick(common::now())).is_empty(),
        "nothing new, nothing written"
    );
    let draft = with_store(|s| s.latest_draft().unwrap()).expect("draft stored");
    assert_eq!(draft.row.id, id);
    drive(&mut a, keys("<F4><Delete>"));
    assert!(matches!(a.mode, Mode::Confirm(_)));
    drive(&mut a, keys("y"));
    assert!(with_store(|s| s.latest_draft().unwrap()).is_none());
}

#[test]
fn resume_draft_prompt() {
    let mut a = app((80, 24));
    let visit = vaxentry::record::file::from_json(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/examples/adult-flu.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let id = uuid::Uuid::new_v4();
    a.offer_draft(id, visit.clone());
    insta::assert_snapshot!("resume-draft-80x24", render(&a).backend());
    drive(&mut a, keys("y"));
    let mut expected = visit.clone();
    expected.fix_dates(common::now());
    assert_eq!(
        a.form.visit, expected,
        "the draft, with its dates written out"
    );
    assert_eq!(
        a.form.visit_id, id,
        "the draft keeps its id, so saving it replaces the draft"
    );
}

/// A store (the test thread's) with one visit of each outbox state, sent to a local
/// server that rejects one with an OperationOutcome and is down for another.
fn outbox_with_each_state() {
    use common::server::Behaviour;
    let visits = [
        ("Accepted", Behaviour::Ok),
        ("Rejected", Behaviour::BadRequest),
        ("Waiting", Behaviour::ServerError),
    ]
    .map(|(name, behaviour)| {
        let mut visit = common::example("adult-flu");
        visit.patient.set(FieldId::Family, name);
        (visit, behaviour)
    });
    send_through_a_test_server(visits.to_vec());
}

/// Saves each visit and sends it to a local endpoint that answers as told; the ids.
fn send_through_a_test_server(
    visits: Vec<(vaxentry::record::Visit, common::server::Behaviour)>,
) -> Vec<uuid::Uuid> {
    use common::server::TestServer;
    let server = TestServer::start();
    let mut sub = common::submitter_of(&format!(
        "[endpoint]\nkind = \"fhir\"\nbase_url = \"{}/fhir\"\nrequest_timeout_secs = 0.5\n",
        server.base_url()
    ));
    let mut ids = Vec::new();
    for (visit, behaviour) in visits {
        let id = uuid::Uuid::new_v4();
        let message =
            vaxentry::fhir::message_for(&visit, &common::settings(), common::now(), id).unwrap();
        with_store(|s| {
            s.save(id, &visit, &message, common::now()).unwrap();
            s.queue(id, common::now()).unwrap();
        });
        server.with(|st| st.script.push_back(behaviour));
        with_store(|s| vaxentry::delivery::sync(s, &mut sub, false, &mut |_, _| {}).unwrap());
        ids.push(id);
    }
    ids
}

#[test]
fn outbox_screen_and_an_operation_outcome_shown_to_the_user() {
    outbox_with_each_state();
    let mut a = app((100, 30));
    a.sync.protocol = Some(vaxentry::submit::protocol::Protocol::RedoxWrite);
    a.sync.waiting = 1;
    a.sync.failed = 1;
    a.sync.last = Some((
        common::now(),
        Some("the server had a problem (HTTP 500)".into()),
    ));
    drive(&mut a, keys("<F6>"));
    assert_eq!(a.outbox.rows.len(), 3);
    // A click picks a row (the list starts on screen row 3); outside the list, nothing.
    drive(&mut a, vec![click(30, 5)]);
    assert_eq!(a.outbox.cursor.selected, 2);
    drive(&mut a, vec![click(30, 20)]);
    assert_eq!(a.outbox.cursor.selected, 2);
    drive(&mut a, vec![click(30, 3)]);
    assert_eq!(a.outbox.cursor.selected, 0);
    insta::assert_snapshot!("outbox-100x30", render(&a).backend());
    // The failed one comes first; Enter shows what the endpoint said, by field.
    drive(&mut a, keys("<Enter>"));
    let text = a.preview.as_ref().unwrap().text_lines().join("\n");
    assert!(
        text.contains("✗ Dose 1 · Lot number: Lot number is not valid for this product"),
        "{text}"
    );
    insta::assert_snapshot!("operation-outcome-100x30", render(&a).backend());
    drive(&mut a, keys("<Esc><Down>"));
    assert_eq!(
        a.screen,
        vaxentry::tui::msg::Screen::Outbox,
        "Esc goes back to the outbox"
    );
    assert_eq!(a.outbox.cursor.selected, 1);
    drive(&mut a, keys("r"));
    assert!(
        a.notice.as_deref().unwrap_or("").contains("Sending it now"),
        "{:?}",
        a.notice
    );
}

#[test]
fn save_and_submit_queues_the_visit() {
    let mut a = app((80, 24));
    let id = a.form.visit_id;
    let effects = writes(drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}<C-g>"))));
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Save { submit: true, .. }, Effect::LoadLots]
        ),
        "{effects:?}"
    );
    assert_eq!(
        with_store(|s| s.get(id).unwrap().unwrap().row.state),
        vaxentry::store::VisitState::Queued
    );
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .contains("no endpoint is configured"),
        "{:?}",
        a.notice
    );
}

#[test]
fn a_date_shortcut_becomes_the_date_when_the_field_is_left() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<Tab><Tab><Tab>t-3"));
    assert_eq!(
        a.form.visit.patient.get(FieldId::BirthDate),
        "t-3",
        "kept as typed while typing"
    );
    let effects = vaxentry::tui::app::update(&mut a, vaxentry::tui::msg::Msg::Tick(common::now()));
    match effects.as_slice() {
        [Effect::SaveDraft { visit, .. }] => assert_eq!(
            visit.patient.get(FieldId::BirthDate),
            "2026-11-22",
            "a draft never keeps a shortcut"
        ),
        other => panic!("{other:?}"),
    }
    drive(&mut a, keys("<Tab>"));
    assert_eq!(a.form.visit.patient.get(FieldId::BirthDate), "2026-11-22");
}

/// The real event loop (`tui::run_loop`) on a test terminal: scripted events in,
/// the visit saved to the database, the screen drawn, and Ctrl+Q ends the loop.
#[test]
fn the_real_event_loop_saves_a_typed_visit_and_quits() {
    let mut a = app((80, 24));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-loop-{}", uuid::Uuid::new_v4()));
    let mut store = Store::open(&dir).unwrap();
    let mut script: std::collections::VecDeque<Event> =
        keys(&format!("{PATIENT}<PgDn>{FLU}<C-s>")).into();
    let id = a.form.visit_id;
    let mut quit_sent = false;
    let quit = key(KeyCode::Char('q'), KeyModifiers::CONTROL);
    let result = vaxentry::tui::run_loop(
        &mut terminal,
        &mut a,
        &mut store,
        None,
        common::clock(),
        |_wait| {
            Ok(match script.pop_front() {
                Some(event) => Some(event),
                None if !quit_sent => {
                    quit_sent = true;
                    Some(quit.clone())
                }
                None => anyhow::bail!("the loop went on after Ctrl+Q"),
            })
        },
    );
    result.expect("the loop ends on Ctrl+Q");
    let saved = store.get(id).unwrap().expect("the visit was saved");
    assert_eq!(saved.row.state, vaxentry::store::VisitState::Saved);
    assert_eq!(saved.row.mrn, "MRN-4471");
    // The last frame drawn before Ctrl+Q: a new visit, and the save's notice.
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("Saved. Bundle file:"), "{screen}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Golden bundle: a dose given here and, after Ctrl+D, a historical dose from another
/// provider. The historical one carries nothing from this clinic.
#[test]
fn golden_historical_dose_after_ctrl_d() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!(
            "{PATIENT}<PgDn>{FLU}<Tab>1234567893<Tab><Tab>Riverside<Tab>public<Tab>v02<Enter><C-d>03<Enter>"
        )),
    );
    while a.form.focus.field != FieldId::PrimarySource {
        drive(&mut a, keys("<Tab>"));
    }
    drive(&mut a, keys("n<Tab>record<Enter>"));
    while a.form.focus.field != FieldId::Administered {
        drive(&mut a, keys("<BackTab>"));
    }
    drive(&mut a, keys("05/10/2019"));
    let id = a.form.visit_id;
    drive(&mut a, keys("<C-s>"));
    let stored = with_store(|s| s.get(id).unwrap()).expect("saved");
    let bundle: serde_json::Value =
        serde_json::from_str(stored.bundle_json.as_deref().unwrap()).unwrap();
    let historical = &bundle["entry"][3]["resource"];
    assert_eq!(historical["primarySource"], false);
    for absent in [
        "performer",
        "location",
        "fundingSource",
        "programEligibility",
    ] {
        assert!(historical.get(absent).is_none(), "{absent}: {historical:#}");
    }
    assert!(common::schema_errors(&bundle).is_empty());
    insta::with_settings!({filters => vec![(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]")]}, {
        insta::assert_snapshot!("bundle-historical-after-ctrl-d", stored.bundle_json.unwrap());
    });
}

/// The picker ranks the products that fit the patient's age first, and the makers of
/// the chosen vaccine first.
#[test]
fn pickers_rank_what_fits_the_patient_and_the_vaccine_first() {
    for typed in ["covid", "comirnaty", "pfizer"] {
        let mut a = app((80, 24));
        drive(&mut a, keys(&format!("{PATIENT}<PgDn>{typed}")));
        let first = a.form.picker_choices()[0].code.clone();
        assert_ne!(first, "308", "{typed}: 308 is for 6 months to 4 years");
        drive(&mut a, keys("<Enter>"));
        let findings: Vec<_> = a
            .form
            .checks
            .findings
            .iter()
            .filter(|f| f.rule == vaxentry::record::Rule::AgeOutOfRange)
            .collect();
        assert!(findings.is_empty(), "{typed}: {first}: {findings:?}");
    }
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}")));
    while a.form.focus.field != FieldId::Manufacturer {
        drive(&mut a, keys("<BackTab>"));
    }
    drive(&mut a, keys("sanofi"));
    assert_eq!(
        a.form.picker_choices()[0].code,
        "PMC",
        "Sanofi Pasteur makes 140"
    );
}

/// An MRN already stored for another person: a warning on the MRN naming both, and F7
/// fills in the stored patient.
#[test]
fn an_mrn_stored_for_someone_else_warns_and_f7_uses_the_stored_patient() {
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}<C-s>")));
    assert!(
        a.notice.as_deref().unwrap_or("").starts_with("Saved"),
        "{:?}",
        a.notice
    );
    // Only the MRN typed: no conflict yet, but the form says F7 fills the patient in.
    drive(&mut a, keys("MRN-4471<Tab>"));
    assert_eq!(
        a.notice.as_deref(),
        Some("MRN-4471 is stored: Lindqvist, Astrid Maria, born 1987-03-14. F7 fills it in")
    );
    assert!(
        a.form
            .checks
            .findings
            .iter()
            .all(|f| f.rule != vaxentry::record::Rule::MrnConflict)
    );
    drive(&mut a, keys("Smith<Tab>Bob<Tab>01/01/1960<Tab>m<Enter>"));
    let conflict = a
        .form
        .checks
        .findings
        .iter()
        .find(|f| f.rule == vaxentry::record::Rule::MrnConflict)
        .unwrap_or_else(|| panic!("{:#?}", a.form.checks.findings));
    assert!(
        conflict
            .message
            .contains("Lindqvist, Astrid Maria (female, born 1987-03-14)")
            && conflict
                .message
                .contains("not Smith, Bob (male, born 1960-01-01)"),
        "{}",
        conflict.message
    );
    drive(&mut a, keys("<F7>"));
    assert_eq!(a.form.visit.patient.get(FieldId::Family), "Lindqvist");
    assert!(
        a.form
            .checks
            .findings
            .iter()
            .all(|f| f.rule != vaxentry::record::Rule::MrnConflict)
    );
    // The same person typed again gives no warning.
    let mut b = app((80, 24));
    drive(&mut b, keys(&format!("{PATIENT}<PgDn>")));
    assert!(
        b.form
            .checks
            .findings
            .iter()
            .all(|f| f.rule != vaxentry::record::Rule::MrnConflict)
    );
}

#[test]
fn esc_on_the_draft_question_keeps_it_and_only_a_confirmed_discard_deletes_it() {
    let visit = common::example("adult-flu");
    let mut a = app((80, 24));
    let id = uuid::Uuid::new_v4();
    a.offer_draft(id, visit.clone());
    let effects = drive(&mut a, keys("<Esc>"));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(a.mode, Mode::Normal);
    assert!(
        a.notice.as_deref().unwrap_or("").contains("kept"),
        "{:?}",
        a.notice
    );
    let mut a = app((80, 24));
    a.offer_draft(id, visit.clone());
    assert!(drive(&mut a, keys("n")).is_empty(), "n asks again first");
    assert!(matches!(a.mode, Mode::Confirm(_)));
    let effects = drive(&mut a, keys("n"));
    assert!(effects.is_empty(), "n to the discard keeps it: {effects:?}");
    drive(&mut a, keys("n"));
    let effects = drive(&mut a, keys("y"));
    assert_eq!(effects, vec![Effect::DeleteDraft(id)], "discarded only now");
}

#[test]
fn keys_typed_into_a_window_too_small_do_nothing_but_quit_keeps_the_draft() {
    let mut a = app((60, 20));
    drive(&mut a, keys("MRN-1<Tab>Lee<C-d><C-s>"));
    assert_eq!(
        a.form.visit.patient.get(FieldId::Mrn),
        "",
        "no typing into a hidden field"
    );
    assert_eq!(a.form.visit.doses.len(), 1);
    let mut a = app((80, 24));
    drive(&mut a, keys("MRN-1"));
    vaxentry::tui::app::update(
        &mut a,
        vaxentry::tui::msg::Msg::Resize {
            width: 50,
            height: 10,
        },
    );
    let effects = drive(&mut a, keys("<C-c>"));
    assert!(
        matches!(effects.as_slice(), [Effect::SaveDraft { .. }, Effect::Quit]),
        "{effects:?}"
    );
}

#[test]
fn a_huge_paste_goes_in_at_once_up_to_what_the_field_holds() {
    let mut a = app((80, 24));
    drive(&mut a, keys("<PgDn>"));
    while a.form.focus.field != FieldId::Note {
        drive(&mut a, keys("<Tab>"));
    }
    let megabyte = "word ".repeat(200_000);
    drive(&mut a, vec![Event::Paste(megabyte)]);
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Note).chars().count(),
        2000
    );
    assert!(
        a.notice.as_deref().unwrap_or("").contains("at most 2000"),
        "{:?}",
        a.notice
    );
    drive(&mut a, keys("x"));
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Note).chars().count(),
        2000,
        "full is full"
    );
}

/// Quitting when the draft cannot be written does not quit: what was typed would be lost.
#[test]
fn quit_does_not_go_when_the_draft_cannot_be_written() {
    let mut a = app((80, 24));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-nodraft-{}", uuid::Uuid::new_v4()));
    let mut store = Store::open(&dir).unwrap();
    // Writing drafts now fails, as on a full disk.
    rusqlite::Connection::open(store.path())
        .unwrap()
        .execute_batch("CREATE TRIGGER no_room BEFORE INSERT ON visits BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;")
        .unwrap();
    let mut script: std::collections::VecDeque<Event> = keys("A1<C-q>y").into();
    let result = vaxentry::tui::run_loop(
        &mut terminal,
        &mut a,
        &mut store,
        None,
        common::clock(),
        |_| match script.pop_front() {
            Some(event) => Ok(Some(event)),
            None => anyhow::bail!("the script ended and vaxentry was still open"),
        },
    );
    let error = result.expect_err("it must not quit");
    assert!(error.to_string().contains("still open"), "{error}");
    assert!(
        a.notice.as_deref().unwrap_or("").starts_with("Not quit"),
        "{:?}",
        a.notice
    );
    assert_eq!(
        a.form.visit.patient.get(FieldId::Mrn),
        "A1",
        "what was typed is still there"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dose the patient already has that day in another visit: a warning on the
/// vaccine, and saving asks first; no saves nothing, yes saves.
#[test]
fn a_vaccine_the_patient_already_has_that_day_warns_and_saving_asks_first() {
    use vaxentry::record::Rule;
    use vaxentry::tui::msg::Confirm;
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}<C-s>")));
    assert!(
        a.notice.as_deref().unwrap_or("").starts_with("Saved"),
        "{:?}",
        a.notice
    );
    // The lot, amount, route and site come back from the first visit.
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>flu<Down><Enter>")));
    let given = a
        .form
        .checks
        .findings
        .iter()
        .find(|f| f.rule == Rule::AlreadyGiven)
        .unwrap_or_else(|| panic!("{:#?}", a.form.checks.findings));
    assert!(
        given
            .message
            .starts_with("Vaccine: MRN MRN-4471 already has CVX 140 on 2026-11-25"),
        "{}",
        given.message
    );
    let effects = writes(drive(&mut a, keys("<C-s>")));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(
        a.mode,
        Mode::Confirm(Confirm::SaveGivenBefore { submit: false })
    );
    insta::assert_snapshot!("save-given-before-80x24", render(&a).backend());
    let effects = writes(drive(&mut a, keys("n")));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(a.mode, Mode::Normal);
    let effects = writes(drive(&mut a, keys("<C-s>y")));
    assert!(
        matches!(effects.as_slice(), [Effect::Save { submit: false, .. }, ..]),
        "{effects:?}"
    );

    // Another vaccine that day is no second entry.
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>tdap<Enter>")));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Vaccine), "115");
    assert!(
        a.form
            .checks
            .findings
            .iter()
            .all(|f| f.rule != Rule::AlreadyGiven)
    );
}

/// A visit saved with Ctrl+S can be sent later: Ctrl+G in History or in its view puts
/// it in the outbox; a visit already there, or sent, says so.
#[test]
fn a_saved_visit_is_sent_with_ctrl_g_from_history_or_its_view() {
    use vaxentry::store::VisitState;
    let mut a = app((80, 24));
    a.sync.protocol = Some(vaxentry::submit::protocol::Protocol::RedoxWrite);
    // The second visit gets the lot the first used, and goes past it.
    for (mrn, lot) in [("MRN-1", "<Tab><Tab><Tab>L1"), ("MRN-2", "")] {
        drive(
            &mut a,
            keys(&format!(
                "{mrn}<Tab>Lindgren<Tab>Ola<Tab>01/02/1980<Tab>m<Enter><PgDn>flu<Enter>{lot}<C-s>"
            )),
        );
    }
    let state = |id| with_store(|s| s.get(id).unwrap().unwrap().row.state);
    drive(&mut a, keys("<F4>"));
    let newest = a.history.rows[0].id;
    let effects = writes(drive(&mut a, keys("<C-g>")));
    assert!(
        matches!(effects.as_slice(), [Effect::Send(id), Effect::SyncNow] if *id == newest),
        "{effects:?}"
    );
    assert_eq!(state(newest), VisitState::Queued);
    assert_eq!(
        a.notice.as_deref(),
        Some("Put in the outbox; sending it now")
    );
    drive(&mut a, keys("<C-g>"));
    assert_eq!(
        a.notice.as_deref(),
        Some("This visit already waits in the outbox (F6)")
    );
    // From its read-only view: the other one.
    drive(&mut a, keys("<Down><Enter>"));
    assert_eq!(a.screen, vaxentry::tui::msg::Screen::Preview);
    let other = a.history.rows[1].id;
    drive(&mut a, keys("<C-g>"));
    assert_eq!(state(other), VisitState::Queued);
    drive(&mut a, keys("<C-g>"));
    assert_eq!(
        a.notice.as_deref(),
        Some("This visit already waits in the outbox (F6)"),
        "the view knows it is queued now"
    );
}

/// `e` on a sent visit corrects it in the form; saving sends the correction as a new
/// message about the same Patient and Immunizations, kept as version 2.
#[test]
fn a_sent_visit_is_corrected_in_the_form_and_goes_again_as_an_amendment() {
    use vaxentry::store::VisitState;
    for size in SIZES {
        with_store(|s| *s = new_store());
        outbox_with_each_state();
        let mut a = app(size);
        drive(&mut a, keys("<F4>accepted"));
        assert_eq!(a.history.rows.len(), 1);
        let id = a.history.rows[0].id;
        let before = with_store(|s| s.get(id).unwrap().unwrap());
        assert_eq!(before.row.state, VisitState::Submitted);
        drive(&mut a, keys("<Enter>e"));
        assert_eq!(a.screen, vaxentry::tui::msg::Screen::Form);
        assert_eq!(a.form.visit_id, id);
        drive(&mut a, keys("<PgDn><Tab><Tab><Tab><Tab>"));
        assert_eq!(a.form.focus.field, FieldId::Lot);
        drive(&mut a, keys("CORR42"));
        insta::assert_snapshot!(
            format!("correcting-sent-{}x{}", size.0, size.1),
            render(&a).backend()
        );
        // The doses that were sent stay: no adding or taking away here.
        drive(&mut a, keys("<C-d>"));
        assert_eq!(a.form.visit.doses.len(), 1);
        assert!(
            a.notice.as_deref().unwrap().contains("voids it"),
            "{:?}",
            a.notice
        );
        // The preview shows the message the correction sends.
        drive(&mut a, keys("<C-p>"));
        let shown = a.preview.as_ref().unwrap().message.clone().unwrap();
        // (The other visits of this test hold the same dose for the same MRN: asked.)
        drive(&mut a, keys("<Esc><C-s>y"));
        assert_eq!(
            a.notice.as_deref(),
            Some(
                "Correction kept as version 2; no endpoint is configured, so it waits in the outbox (see README: [endpoint])"
            )
        );
        assert_eq!(a.form.amending, None, "a new visit starts");
        let after = with_store(|s| s.get(id).unwrap().unwrap());
        assert_eq!(after.row.state, VisitState::Queued);
        assert_eq!(
            after.bundle_json.as_deref(),
            Some(shown.json.as_str()),
            "as previewed"
        );
        let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        let (first, second) = (
            json(before.bundle_json.as_deref().unwrap()),
            json(after.bundle_json.as_deref().unwrap()),
        );
        assert_ne!(first["id"], second["id"], "a new message");
        let immunization = |b: &serde_json::Value| b["entry"][2]["resource"].clone();
        assert_eq!(immunization(&first)["id"], immunization(&second)["id"]);
        assert_eq!(
            immunization(&first)["identifier"],
            immunization(&second)["identifier"],
            "the receiver updates the dose it has"
        );
        assert_eq!(immunization(&second)["lotNumber"], "CORR42");
        let versions = with_store(|s| s.versions(id).unwrap());
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1].why, vaxentry::store::versions::Reason::Amended);
        assert_eq!(Some(&versions[0].bundle_json), before.bundle_json.as_ref());
        // The lists say so (the history keeps its filter).
        drive(&mut a, keys("<F4>"));
        assert_eq!(a.history.filter.value(), "accepted");
        assert_eq!(a.history.rows[0].state_label(), "amended v2");
        // A visit waiting in the outbox is corrected once it is sent.
        drive(&mut a, keys("<A-e>"));
        assert_eq!(a.screen, vaxentry::tui::msg::Screen::History);
        assert!(
            a.notice
                .as_deref()
                .unwrap()
                .starts_with("It waits in the outbox")
        );
    }
}

/// Ctrl+X on a dose of a sent visit being corrected voids that dose, after asking.
#[test]
fn a_sent_dose_is_voided_from_its_correction_after_asking() {
    use vaxentry::store::VisitState;
    use vaxentry::tui::msg::Confirm;
    let ids = send_through_a_test_server(vec![(
        common::example("child-four-doses"),
        common::server::Behaviour::Ok,
    )]);
    let id = ids[0];
    let mut a = app((80, 24));
    drive(&mut a, keys("<F4><A-e><PgDn><PgDn>"));
    assert_eq!(a.form.focus.page, Page::Dose(1));
    // With a change typed, the void waits: it sends the dose as it was sent.
    drive(&mut a, keys("<Tab><Tab><Tab>X<C-x>"));
    assert_eq!(a.mode, Mode::Normal);
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .starts_with("Save the correction (^S)")
    );
    // Nor does another visit open over it; Ctrl+N drops it, after asking.
    drive(&mut a, keys("<F4><A-e>"));
    assert_eq!(
        a.notice.as_deref(),
        Some("A correction is open in the form: save it (Ctrl+S) or drop it (Ctrl+N) first")
    );
    drive(&mut a, keys("<Esc><C-n>y"));
    assert_eq!(
        a.notice.as_deref(),
        Some("Correction dropped; the stored visit is as it was")
    );
    drive(&mut a, keys("<F4><A-e><PgDn><PgDn><C-x>"));
    assert_eq!(a.mode, Mode::Confirm(Confirm::VoidDose { id, dose: 1 }));
    insta::assert_snapshot!("void-dose-confirm-80x24", render(&a).backend());
    let effects = writes(drive(&mut a, keys("y")));
    assert!(
        matches!(effects.first(), Some(Effect::Void { id: v, dose: Some(1) }) if *v == id),
        "{effects:?}"
    );
    assert_eq!(a.form.amending, None, "the correction is over");
    let stored = with_store(|s| s.get(id).unwrap().unwrap());
    assert_eq!(stored.row.state, VisitState::Queued);
    let visit = stored.visit().unwrap();
    let statuses: Vec<&str> = visit.doses.iter().map(|d| d.get(FieldId::Status)).collect();
    assert_eq!(statuses[1], "entered-in-error");
    assert!(
        statuses
            .iter()
            .enumerate()
            .all(|(i, s)| i == 1 || *s != "entered-in-error")
    );
    assert_eq!(
        with_store(|s| s.versions(id).unwrap()).last().unwrap().why,
        vaxentry::store::versions::Reason::Voided
    );
}

/// `x` in the outbox voids a submitted visit after asking; other states say why not.
#[test]
fn x_in_the_outbox_voids_a_submitted_visit_after_asking() {
    use vaxentry::store::VisitState;
    use vaxentry::tui::msg::Confirm;
    outbox_with_each_state();
    let mut a = app((100, 30));
    drive(&mut a, keys("<F6>"));
    let at = |state| {
        a.outbox
            .rows
            .iter()
            .position(|r| r.row.state == state)
            .unwrap()
    };
    let (submitted, failed) = (at(VisitState::Submitted), at(VisitState::Failed));
    a.outbox.cursor.selected = failed;
    drive(&mut a, keys("x"));
    assert_eq!(a.mode, Mode::Normal);
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .starts_with("Only a visit the endpoint accepted")
    );
    a.outbox.cursor.selected = submitted;
    let id = a.outbox.rows[submitted].row.id;
    drive(&mut a, keys("x"));
    assert_eq!(a.mode, Mode::Confirm(Confirm::Void(id)));
    insta::assert_snapshot!("void-confirm-100x30", render(&a).backend());
    let effects = writes(drive(&mut a, keys("y")));
    assert!(
        matches!(effects.first(), Some(Effect::Void { id: v, dose: None }) if *v == id),
        "{effects:?}"
    );
    assert_eq!(
        a.notice.as_deref(),
        Some(
            "Voided dose 1 (CVX 140): the message is queued; the receiver will mark them entered-in-error"
        )
    );
    assert_eq!(a.sync.waiting, 1, "the header counts it");
    let stored = with_store(|s| s.get(id).unwrap().unwrap());
    assert_eq!(stored.row.state, VisitState::Queued);
    assert_eq!(
        stored.visit().unwrap().doses[0].get(FieldId::Status),
        "entered-in-error"
    );
}

/// `[clinic] require_npi`: the form marks a dose given here without the NPI, and does
/// not save it until it is filled in.
#[test]
fn a_required_npi_is_asked_for_in_the_form() {
    let mut settings = common::settings();
    settings.rules.require_npi = true;
    let mut a = App::new(common::now(), settings, (80, 24), true);
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}")));
    let missing = |a: &App| {
        a.form
            .checks
            .findings
            .iter()
            .any(|f| f.rule == vaxentry::record::Rule::NpiRequired)
    };
    assert!(missing(&a));
    let effects = writes(drive(&mut a, keys("<C-s>")));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(a.form.focus.page, Page::Review);
    assert!(a.notice.as_deref().unwrap().starts_with("Not saved:"));
    a.form.visit.doses[0].set(FieldId::PerformerNpi, "1234567893");
    a.form.touch();
    a.form.refresh(common::now());
    assert!(!missing(&a));
}

/// An expiration typed as the vial prints it, month and year, becomes that month's
/// last day when the field is left.
#[test]
fn an_expiration_month_becomes_its_last_day() {
    let mut a = app((80, 24));
    let flu = FLU.replace("06/30/2027", "06/2027");
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{flu}")));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Expiration), "2027-06-30");
    assert!(
        !a.form
            .checks
            .findings
            .iter()
            .any(|f| f.at.field == FieldId::Expiration),
        "{:?}",
        a.form.checks.findings
    );
}

/// An 80x24 app whose inventory holds these lots (lot, expiry, NDC) of CVX 140 by PMC,
/// read as the form reads it at start.
fn app_with_flu_lots(lots: &[(&str, &str, &str)]) -> App {
    with_store(|s| {
        for (lot, expiration, ndc) in lots {
            let lot = vaxentry::store::lots::Lot {
                vaccine: "140".into(),
                lot: lot.to_string(),
                manufacturer: "PMC".into(),
                expiration: expiration.to_string(),
                ndc: ndc.to_string(),
                last_used: common::now().to_utc(),
                retired: false,
            };
            s.add_lot(&lot, common::now()).unwrap();
        }
    });
    let mut a = app((80, 24));
    a.form.session.inventory = with_store(|s| s.lots(None, false).unwrap());
    a
}

/// Choosing a vaccine fills in the lot on hand that expires first (an expired one is
/// passed over), with its maker, expiry and NDC; a save reads the inventory again.
#[test]
fn choosing_a_vaccine_fills_the_lot_on_hand_that_expires_first() {
    let mut a = app_with_flu_lots(&[
        ("OLD1", "2026-01-31", ""),
        ("LATER7", "2027-09-30", ""),
        ("SOON3", "2027-06-30", "49281042450"),
    ]);
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>flu<Down><Enter>")));
    let dose = &a.form.visit.doses[0];
    assert_eq!(dose.get(FieldId::Vaccine), "140");
    assert_eq!(
        [
            FieldId::Lot,
            FieldId::Manufacturer,
            FieldId::Expiration,
            FieldId::Ndc
        ]
        .map(|f| dose.get(f).to_string()),
        ["SOON3", "PMC", "2027-06-30", "49281042450"]
    );
    assert_eq!(
        a.notice.as_deref(),
        Some("Lot SOON3 exp 2027-06-30 on hand, 1 more; check the vial")
    );
    assert_eq!(
        a.form.focus.field,
        FieldId::Amount,
        "past what was filled in"
    );
    let effects = writes(drive(
        &mut a,
        keys("0.5<Tab>la<Enter>im<Enter>Jordan Okafor<C-s>"),
    ));
    assert!(effects.contains(&Effect::LoadLots), "{effects:?}");
}

/// `[station]` fills a new visit's dose with the station's performer, NPI, place and
/// funding; anything typed replaces them, and the next visit starts from them again
/// (the performer typed carries, funding is the station's).
#[test]
fn a_stations_defaults_fill_each_new_visit() {
    let mut a = app((80, 24));
    let station = vaxentry::config::Config::parse(
        "[station]\nperformer = \"Sam Lee\"\nperformer_npi = \"1234567893\"\nlocation = \"Room 2\"\nfunding = \"public\"\n",
    )
    .unwrap()
    .station
    .defaults()
    .unwrap();
    a.form.use_station_defaults(station, common::now());
    let dose = |a: &App, f| a.form.visit.doses[0].get(f).to_string();
    assert_eq!(dose(&a, FieldId::Performer), "Sam Lee");
    assert_eq!(dose(&a, FieldId::Location), "Room 2");
    assert_eq!(dose(&a, FieldId::Funding), "public");
    assert!(!a.form.dirty, "defaults are not something typed");
    // The FLU script types over the performer; the funding is set to private.
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}")));
    a.form.visit.doses[0].set(FieldId::Funding, "private");
    assert_eq!(dose(&a, FieldId::Performer), "Jordan Okafor");
    drive(&mut a, keys("<C-s>"));
    assert!(
        a.notice.as_deref().unwrap().starts_with("Saved"),
        "{:?}",
        a.notice
    );
    assert_eq!(
        dose(&a, FieldId::Performer),
        "Jordan Okafor",
        "typed, it carries"
    );
    assert_eq!(dose(&a, FieldId::Funding), "public", "the station's again");
    assert_eq!(dose(&a, FieldId::Location), "Room 2");
}

/// Typing an MRN or a family name offers the stored patient it matches; F7 fills in
/// every patient field from it.
#[test]
fn a_returning_patient_is_offered_while_typing_and_filled_with_f7() {
    for size in SIZES {
        with_store(|s| *s = new_store());
        with_store(|s| {
            let visit = common::example("adult-flu");
            let id = uuid::Uuid::new_v4();
            let message =
                vaxentry::fhir::message_for(&visit, &common::settings(), common::now(), id)
                    .unwrap();
            s.save(id, &visit, &message, common::now()).unwrap();
        });
        let mut a = app(size);
        drive(&mut a, keys("MRN-0042"));
        let offered = a.form.suggestion().map(|p| p.mrn.clone());
        assert_eq!(offered.as_deref(), Some("MRN-004211"));
        insta::assert_snapshot!(
            format!("returning-patient-{}x{}", size.0, size.1),
            render(&a).backend()
        );
        drive(&mut a, keys("<F7>"));
        let p = &a.form.visit.patient;
        assert_eq!(
            [
                FieldId::Mrn,
                FieldId::Family,
                FieldId::Given,
                FieldId::Gender
            ]
            .map(|f| p.get(f).to_string()),
            ["MRN-004211", "Lindqvist", "Astrid Maria", "female"]
        );
        // Leaving the MRN looks up the patient's doses: the earlier ones are shown.
        drive(&mut a, keys("<Tab>"));
        assert_eq!(a.form.earlier_doses().as_deref(), Some("140 on 2026-10-01"));
        insta::assert_snapshot!(
            format!("returning-patient-filled-{}x{}", size.0, size.1),
            render(&a).backend()
        );
        // By family name too, in any case; nothing for what matches no one.
        drive(&mut a, keys("<C-n>y"));
        assert_eq!(
            a.form.earlier_doses(),
            None,
            "a new visit has no patient yet"
        );
        drive(&mut a, keys("<Tab>lindq"));
        assert_eq!(a.form.focus.field, FieldId::Family);
        assert!(a.form.suggestion().is_some());
        drive(&mut a, keys("zz"));
        assert!(a.form.suggestion().is_none());
    }
}

/// With an endpoint, opening a patient shows what the endpoint last said (with its
/// age) at once and asks it again; its answer replaces that, a dose it already has is
/// warned about, and when it cannot be reached the kept answer stays, marked so.
#[test]
fn a_patients_doses_at_the_endpoint_show_beside_the_form() {
    use vaxentry::store::endpoint_history::EndpointHistory;
    use vaxentry::tui::sync::HistoryAnswer;
    let flu = |day: &str, id: &str| {
        serde_json::json!({"resourceType": "Immunization", "status": "completed",
            "identifier": [{"system": "urn:oid:1.2.3", "value": id}],
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}]},
            "occurrenceDateTime": format!("{day}T10:00:00-05:00")})
    };
    // The endpoint's answer about `mrn`, given now.
    let answered = |mrn: &str, immunizations: Vec<serde_json::Value>| {
        Msg::Done(Done::EndpointAnswered(HistoryAnswer {
            mrn: mrn.into(),
            result: Ok(EndpointHistory {
                fetched_at: common::now().to_utc(),
                immunizations,
            }),
            incomplete: None,
        }))
    };
    with_store(|s| *s = new_store());
    let yesterday = common::now() - chrono::Duration::hours(20);
    with_store(|s| {
        s.save_endpoint_history("MRN-004211", &[flu("2025-10-02", "a")], yesterday)
            .unwrap()
    });
    let mut a = app((80, 24));
    a.sync.protocol = Some(vaxentry::submit::protocol::Protocol::Transaction);
    let effects = drive(&mut a, keys("MRN-004211<Tab>"));
    assert!(
        effects.contains(&Effect::AskEndpoint("MRN-004211".into())),
        "{effects:?}"
    );
    assert_eq!(
        a.form.endpoint_doses(a.now).as_deref(),
        Some("Endpoint 19:30 yesterday: 140 on 2025-10-02")
    );
    // The endpoint's answer: a flu dose today, which this visit's dose would repeat.
    let today = a.now.date_naive().to_string();
    update(
        &mut a,
        answered("MRN-004211", vec![flu("2025-10-02", "a"), flu(&today, "b")]),
    );
    assert_eq!(
        a.form.endpoint_doses(a.now).as_deref(),
        Some(format!("Endpoint 15:30 today: 140 on {today} (+1)").as_str())
    );
    drive(&mut a, keys("<PgDn>"));
    a.form.visit.doses[0].set(FieldId::Vaccine, "140");
    a.form.touch();
    a.form.refresh(a.now);
    let warned = a
        .form
        .checks
        .findings
        .iter()
        .find(|f| f.rule == vaxentry::record::Rule::AlreadyGiven)
        .map(|f| f.message.clone());
    assert!(
        warned
            .as_deref()
            .is_some_and(|m| m.contains(&format!("the endpoint already has CVX 140 on {today}"))),
        "{warned:?}"
    );
    insta::assert_snapshot!("endpoint-doses-80x24", render(&a).backend());
    // Not reached now: what it said stays, marked.
    update(
        &mut a,
        Msg::Done(Done::EndpointAnswered(HistoryAnswer {
            mrn: "MRN-004211".into(),
            result: Err("cannot connect to the server".into()),
            incomplete: None,
        })),
    );
    assert!(
        a.form
            .endpoint_doses(a.now)
            .unwrap()
            .contains("Endpoint 15:30 today, not reached now")
    );
    // Another patient's answer arriving late changes nothing.
    update(&mut a, answered("MRN-9", vec![]));
    assert!(a.form.endpoint_doses(a.now).unwrap().contains("(+1)"));
    // The endpoint's copy of this very visit's dose (as after sending it) is not a
    // duplicate of it.
    for (field, value) in [
        (FieldId::Family, "Lindqvist"),
        (FieldId::Given, "Astrid"),
        (FieldId::BirthDate, "1987-03-14"),
        (FieldId::Gender, "female"),
    ] {
        a.form.visit.patient.set(field, value);
    }
    a.form.visit.doses[0].set(FieldId::Lot, "UT8291AA");
    let message =
        vaxentry::fhir::message_for(&a.form.visit, &a.settings, a.now, a.form.visit_id).unwrap();
    let sent: serde_json::Value = serde_json::from_str(&message.json).unwrap();
    let own = sent["entry"][2]["resource"].clone();
    assert_eq!(own["resourceType"], "Immunization");
    update(&mut a, answered("MRN-004211", vec![own]));
    assert!(
        a.form
            .checks
            .findings
            .iter()
            .all(|f| f.rule != vaxentry::record::Rule::AlreadyGiven),
        "{:#?}",
        a.form.checks.findings
    );
}

/// A pack's GS1 barcode scanned into a dose field (the scanner types it, GS as Ctrl+],
/// and Enter): lot and expiry go in, and the vaccine, maker and NDC of the lot on hand
/// with that NDC; the field scanned into keeps its value.
#[test]
fn a_scanned_pack_fills_the_dose() {
    let mut a = app_with_flu_lots(&[("OLDER1", "2027-01-31", "49281042450")]);
    // Fluzone, NDC 49281-424-50: GTIN 00349281424502.
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>]d20100349281424502172706001")),
    );
    assert_eq!(
        a.form.focus.field,
        FieldId::Vaccine,
        "typed into the vaccine's picker"
    );
    drive(&mut a, keys("0UT8291AA<C-]>21SN42<Enter>"));
    let dose = &a.form.visit.doses[0];
    assert_eq!(
        [
            FieldId::Vaccine,
            FieldId::Manufacturer,
            FieldId::Ndc,
            FieldId::Lot,
            FieldId::Expiration
        ]
        .map(|f| dose.get(f).to_string()),
        ["140", "PMC", "49281042450", "UT8291AA", "2027-06-30"]
    );
    assert_eq!(
        a.notice.as_deref(),
        Some("Scanned lot UT8291AA exp 2027-06-30; CVX 140 + NDC from lots on hand")
    );
    insta::assert_snapshot!("scanned-pack-80x24", render(&a).backend());
    insta::assert_snapshot!(
        "bundle-scanned-dose",
        golden_bundle(&a.form.visit, &a.settings)
    );
    // Into the lot field, a pack whose NDC is not on hand: lot and expiry only.
    drive(
        &mut a,
        keys("<Tab><Tab><Tab>(01)00312345678906(17)280131(10)B77<Enter>"),
    );
    let dose = &a.form.visit.doses[0];
    assert_eq!(dose.get(FieldId::Lot), "B77");
    assert_eq!(dose.get(FieldId::Expiration), "2028-01-31");
    assert_eq!(dose.get(FieldId::Vaccine), "140", "the vaccine stays");
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .contains("not on hand: choose the vaccine"),
        "{:?}",
        a.notice
    );
    // A scan longer than a coded field's 64 characters (a 20-character lot and
    // serial) is read whole.
    let lot = "L2345678901234567890";
    drive(
        &mut a,
        keys(&format!(
            "<BackTab><BackTab><BackTab>]d2010034928142450217270600<C-]>10{lot}<C-]>21S2345678901234567890<Enter>"
        )),
    );
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Lot),
        lot,
        "{:?}",
        a.notice
    );
}

/// F8 makes the dose a mass-clinic template: each next visit asks for the patient and
/// the site only, and Ctrl+S saves it and starts the next (5 keys beyond the patient's
/// own fields).
#[test]
fn a_mass_clinic_asks_each_patient_only_for_the_site() {
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}")));
    drive(&mut a, keys("<F8>"));
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .starts_with("Mass clinic: CVX 140 lot UT8291AA each visit"),
        "{:?}",
        a.notice
    );
    drive(&mut a, keys("<C-s>"));
    assert!(
        a.notice.as_deref().unwrap().starts_with("Saved"),
        "{:?}",
        a.notice
    );
    // The next patient: their own fields, then PgDn, the site, Ctrl+S.
    drive(
        &mut a,
        keys("MRN-5150<Tab>Okafor<Tab>Ada<Tab>02/03/1990<Tab>f<Enter><PgDn>"),
    );
    assert_eq!(
        a.form.focus.field,
        FieldId::Site,
        "the dose asks for the site"
    );
    insta::assert_snapshot!("mass-clinic-80x24", render(&a).backend());
    let id = a.form.visit_id;
    drive(&mut a, keys("la<Enter><C-s>"));
    let saved = with_store(|s| s.get(id).unwrap()).expect("saved with 5 keys");
    insta::assert_snapshot!(
        "bundle-mass-clinic-visit",
        golden_bundle(&saved.visit().unwrap(), &a.settings)
    );
    let dose = &saved.visit().unwrap().doses[0];
    assert_eq!(
        [
            FieldId::Vaccine,
            FieldId::Lot,
            FieldId::Site,
            FieldId::Performer,
            FieldId::VisPresented
        ]
        .map(|f| dose.get(f).to_string()),
        ["140", "UT8291AA", "LA", "Jordan Okafor", "2026-11-25"]
    );
    assert_eq!(a.form.mass.as_ref().unwrap().saved, 2);
    assert!(
        render(&a)
            .backend()
            .to_string()
            .contains("mass clinic: 140 lot UT8291AA · 2 saved")
    );
    drive(&mut a, keys("<F8>"));
    assert_eq!(
        a.notice.as_deref(),
        Some("Mass clinic ended after 2 visit(s)")
    );
    assert_eq!(a.form.mass, None);
}

/// The message for a visit the form made, with ids 1, 2, ... (a golden bundle); it
/// must pass the official R4 schema and the message rules.
fn golden_bundle(
    visit: &vaxentry::record::Visit,
    settings: &vaxentry::fhir::BundleSettings,
) -> String {
    let bundle = vaxentry::fhir::build_bundle(
        visit,
        settings,
        common::now(),
        &mut vaxentry::fhir::SequentialIds(0),
    )
    .expect("the visit makes a message");
    let errors = common::schema_errors(&bundle.json);
    assert!(errors.is_empty(), "{errors:#?}");
    let problems = vaxentry::fhir::message_problems(&bundle.json);
    assert!(problems.is_empty(), "{problems:#?}");
    vaxentry::fhir::to_json(&bundle)
}
/// A clinic station as a new user meets it: station defaults in the config and the
/// lots on hand in the inventory.
fn clinic_station() -> App {
    let mut a = app_with_flu_lots(&[("UT8291AA", "2027-06-30", "49281042450")]);
    let station = vaxentry::config::Config::parse(
        "[station]\nperformer = \"Jordan Okafor\"\nperformer_npi = \"1234567893\"\nlocation = \"Riverside Family Clinic\"\nfunding = \"private\"\n",
    )
    .unwrap()
    .station
    .defaults()
    .unwrap();
    a.form.use_station_defaults(station, common::now());
    a
}

/// A key script with the free text (names, MRN, lot, phone, address, birth date) in
/// braces: the keys, and how many count (each key outside the braces).
fn counted(script: &str) -> (Vec<Event>, usize) {
    let (mut plain, mut counted, mut free) = (String::new(), 0, false);
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' => free = true,
            '}' => free = false,
            '<' => {
                plain.push(c);
                for k in chars.by_ref() {
                    plain.push(k);
                    if k == '>' {
                        break;
                    }
                }
                counted += usize::from(!free);
            }
            c => {
                plain.push(c);
                counted += usize::from(!free);
            }
        }
    }
    (keys(&plain), counted)
}

/// A station that has given these example visits before: their patients, lots and
/// how each vaccine was given are in the store, and the form has read them.
fn station_that_gave(examples: &[&str]) -> App {
    with_store(|s| *s = new_store());
    with_store(|s| {
        for name in examples {
            let visit = common::example(name);
            let id = uuid::Uuid::new_v4();
            let message =
                vaxentry::fhir::message_for(&visit, &common::settings(), common::now(), id)
                    .unwrap();
            s.save(id, &visit, &message, common::now()).unwrap();
        }
    });
    let mut a = clinic_station();
    a.form.session.inventory = with_store(|s| s.lots(None, false).unwrap());
    a.form.session.habits = with_store(|s| s.habits().unwrap());
    a
}

/// Saves the visit in the form with the counted keys; the visit is saved with no
/// errors, and the count is at most `most`.
fn keys_to_save(a: &mut App, script: &str, most: usize) -> usize {
    let (events, count) = counted(script);
    let id = a.form.visit_id;
    drive(a, events);
    let saved = with_store(|s| s.get(id).unwrap())
        .unwrap_or_else(|| panic!("not saved: {:?} {:#?}", a.notice, a.form.checks.findings));
    assert_eq!(saved.row.state, vaxentry::store::VisitState::Saved);
    assert!(count <= most, "{count} keys, more than {most}: {script}");
    count
}

/// Choosing a vaccine brings back how this station last gave it (amount, route,
/// site), into the fields still empty, and goes past them.
#[test]
fn a_vaccine_comes_with_how_this_station_last_gave_it() {
    let mut a = station_that_gave(&["child-four-doses"]);
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>216<Enter>")));
    let dose = &a.form.visit.doses[0];
    assert_eq!(
        [FieldId::Lot, FieldId::Amount, FieldId::Route, FieldId::Site]
            .map(|f| dose.get(f).to_string()),
        ["LK7733", "0.5", "IM", "LT"]
    );
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .ends_with("0.5 IM LT as last time"),
        "{:?}",
        a.notice
    );
    // Another station keeps its own.
    with_store(|s| s.author.station = "Room 9".into());
    assert!(with_store(|s| s.habits().unwrap()).is_empty());
}

/// The visits of issue 12's table, typed as a user would, with the keys counted
/// (free text aside); each must save within its target. The scripts and counts are
/// in the README.
#[test]
fn clinic_visits_are_typed_within_their_key_targets() {
    // A new adult, one flu shot: the station's defaults and its lots on hand.
    let mut a = clinic_station();
    let adult = keys_to_save(
        &mut a,
        "{MRN-5150}<Tab>{Okafor}<Tab>{Ada}<Tab>{02/03/1990}<Tab>f<Enter><PgDn>flu<Down><Enter>0.5<Tab>la<Enter>im<Enter><C-s>",
        25,
    );
    // A returning patient's COVID-19 dose: F7 fills the patient; the lot and how it is
    // given come from the last one.
    let mut a = station_that_gave(&["unicode-race"]);
    let covid = keys_to_save(&mut a, "{MRN-220045}<F7><PgDn>309<Enter><C-s>", 12);
    // A 2-month-old, four doses, at a station that gave them before.
    let mut a = station_that_gave(&["child-four-doses"]);
    let baby = keys_to_save(
        &mut a,
        "{MRN-7001}<Tab>{Rivera}<Tab>{Mateo}<Tab>{09/25/2026}<Tab>m<Enter><PgDn>110<Enter><C-d>48<Enter><C-d>216<Enter><C-d>116<Enter><C-s>",
        45,
    );
    assert_eq!((adult, covid, baby), (23, 7, 26));
}

/// Ctrl+F lists the visit's fields; typing part of a name narrows it, Enter goes
/// there, Esc closes it.
#[test]
fn ctrl_f_jumps_to_a_field_by_its_name() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>{FLU}<C-d>tdap<Enter>")),
    );
    drive(&mut a, keys("<C-f>"));
    assert!(a.form.jump().is_some());
    assert_eq!(
        a.form.jump_matches().first().map(|t| t.label.as_str()),
        Some("Dose 2 · Vaccine"),
        "the section in front first"
    );
    drive(&mut a, keys("d1 npi"));
    insta::assert_snapshot!("jump-to-field-80x24", render(&a).backend());
    drive(&mut a, keys("<Enter>"));
    assert_eq!(
        (a.form.focus.page, a.form.focus.field),
        (Page::Dose(0), FieldId::PerformerNpi)
    );
    assert!(a.form.jump().is_none());
    drive(&mut a, keys("<C-f>birth<Enter>"));
    assert_eq!(
        (a.form.focus.page, a.form.focus.field),
        (Page::Patient, FieldId::BirthDate)
    );
    drive(&mut a, keys("<C-f>zzz<Esc>"));
    assert!(a.form.jump().is_none());
    assert_eq!(a.form.focus.field, FieldId::BirthDate, "Esc stays");
}
