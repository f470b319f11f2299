//! Screen snapshots of the form, driven by key events through the same decoding,
//! `update` and drawing the real app runs, at 80x24 and 120x40.

#[path = "../common/mod.rs"]
mod common;

/// An insta snapshot kept under `tests/snapshots/` with the name it had when these
/// tests were one file (`screens__NAME.snap`).
macro_rules! snap {
    ($name:expr, $value:expr $(,)?) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_path("../snapshots");
        settings.bind(|| insta::assert_snapshot!(format!("screens__{}", $name), $value));
    }};
}

/// [`snap!`] for a value's debug form.
macro_rules! snap_debug {
    ($name:expr, $value:expr $(,)?) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_path("../snapshots");
        settings.bind(|| insta::assert_debug_snapshot!(format!("screens__{}", $name), $value));
    }};
}

mod card;
mod clinic;
mod form;
mod outbox;
mod patients;
mod visits;

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
                "Home" => key(KeyCode::Home, none),
                "End" => key(KeyCode::End, none),
                "BS" => key(KeyCode::Backspace, none),
                "F1" => key(KeyCode::F(1), none),
                "F4" => key(KeyCode::F(4), none),
                "F6" => key(KeyCode::F(6), none),
                "F7" => key(KeyCode::F(7), none),
                "F8" => key(KeyCode::F(8), none),
                "Delete" => key(KeyCode::Delete, none),
                "A-Down" => key(KeyCode::Down, KeyModifiers::ALT),
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
        snap!(
            format!("{name}-{}x{}", size.0, size.1),
            render(&app).backend()
        );
    }
}

const PATIENT: &str = "MRN-4471<Tab>Lindqvist<Tab>Astrid Maria<Tab>03/14/1987<Tab>f<Enter>413 555 0142<Tab>12 Harbour Road<Tab>Springfield<Tab>ma<Enter>01101";

const FLU: &str =
    "flu<Down><Enter>UT8291AA<Tab>pmc<Enter>06/30/2027<Tab><Tab>0.5<Tab>la<Enter>Jordan Okafor";

fn with_store<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    STORE.with(|s| f(&mut s.borrow_mut()))
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
                dose_ml: String::new(),
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
    with_station_defaults(app_with_flu_lots(&[(
        "UT8291AA",
        "2027-06-30",
        "49281042550",
    )]))
}

/// The form with the station's defaults of the config's `[station]`.
fn with_station_defaults(mut a: App) -> App {
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

/// The station of issue 22's counts, on its first day: `[station]` in the config and
/// eight lots added with `lots add` (maker, expiry, NDC and, where CDC's pack does
/// not say it, the volume of a dose; one lot expired), and nothing given yet.
fn configured_station() -> App {
    with_store(|s| *s = new_store());
    with_store(|s| {
        for (vaccine, lot, maker, expires, ndc, ml) in [
            ("140", "UT8291AA", "PMC", "2027-06-30", "49281042588", ""),
            ("140", "OLD111", "PMC", "2026-10-31", "49281042588", ""),
            ("309", "LP1234", "PFR", "2027-03-31", "00069243201", ""),
            ("110", "PX1180", "SKB", "2027-05-31", "58160081143", "0.5"),
            ("48", "HB2201", "PMC", "2027-04-30", "49281054758", "0.5"),
            ("216", "PV3302", "PFR", "2027-08-31", "00005200001", ""),
            ("116", "RT4403", "MSD", "2027-02-28", "00006404701", "2"),
            ("115", "TD5504", "PMC", "2027-09-30", "49281040089", "0.5"),
        ] {
            let lot = vaxentry::store::lots::Lot {
                vaccine: vaccine.into(),
                lot: lot.into(),
                manufacturer: maker.into(),
                expiration: expires.into(),
                ndc: ndc.into(),
                dose_ml: ml.into(),
                last_used: common::now().to_utc(),
                retired: false,
            };
            s.add_lot(&lot, common::now()).unwrap();
        }
    });
    let mut a = with_station_defaults(app((80, 24)));
    a.form.session.inventory = with_store(|s| s.lots(None, false).unwrap());
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
    for name in examples {
        save_visit(&common::example(name));
    }
    let mut a = clinic_station();
    a.form.session.inventory = with_store(|s| s.lots(None, false).unwrap());
    a.form.session.habits = with_store(|s| s.habits().unwrap());
    a
}

/// Saves a visit into the store, as this station.
fn save_visit(visit: &vaxentry::record::Visit) {
    with_store(|s| {
        let id = uuid::Uuid::new_v4();
        let message =
            vaxentry::fhir::message_for(visit, &common::settings(), common::now(), id).unwrap();
        s.save(id, visit, &message, common::now()).unwrap();
    });
}

/// Saves the visit in the form with the counted keys; the visit is saved with no
/// errors and in full (see `in_full`), and the count is at most `most`.
fn keys_to_save(a: &mut App, script: &str, most: usize) -> usize {
    let (events, count) = counted(script);
    let id = a.form.visit_id;
    drive(a, events);
    let saved = with_store(|s| s.get(id).unwrap())
        .unwrap_or_else(|| panic!("not saved: {:?} {:#?}", a.notice, a.form.checks.findings));
    assert_eq!(saved.row.state, vaxentry::store::VisitState::Saved);
    in_full(&saved.visit().unwrap(), script);
    assert!(count <= most, "{count} keys, more than {most}: {script}");
    count
}

/// What a registry needs of each dose is in the visit: a dose given here has its lot
/// (with maker and expiry), amount, route, site, vaccinator, VFC eligibility and
/// funding, and the message carries the VIS given for it; a dose not given says why;
/// a dose given elsewhere has its date and the source of the record.
fn in_full(visit: &vaxentry::record::Visit, script: &str) {
    use vaxentry::record::values::DoseContext;
    let message =
        vaxentry::fhir::message_for(visit, &common::settings(), common::now(), uuid::Uuid::nil())
            .unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&message.json).unwrap();
    let immunizations: Vec<&serde_json::Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Immunization")
        .collect();
    for (i, dose) in visit.doses.iter().enumerate() {
        let ctx = DoseContext::of(dose);
        let needed: &[FieldId] = if ctx.not_done {
            &[FieldId::Vaccine, FieldId::StatusReason]
        } else if !ctx.given_here {
            &[
                FieldId::Vaccine,
                FieldId::Administered,
                FieldId::ReportOrigin,
            ]
        } else {
            &[
                FieldId::Vaccine,
                FieldId::Lot,
                FieldId::Manufacturer,
                FieldId::Expiration,
                FieldId::Amount,
                FieldId::Route,
                FieldId::Site,
                FieldId::Performer,
                FieldId::Eligibility,
                FieldId::Funding,
            ]
        };
        let siteless = vaxentry::record::validate::siteless(dose.get(FieldId::Route));
        for field in needed
            .iter()
            .filter(|f| !(**f == FieldId::Site && siteless))
        {
            assert!(
                !dose.get(*field).is_empty(),
                "dose {i}: {field:?}: {script}"
            );
        }
        if ctx.given_here && !ctx.not_done {
            let education = immunizations[i]["education"].as_array();
            assert!(
                education.is_some_and(|e| !e.is_empty()),
                "dose {i}: the VIS: {script}"
            );
        }
    }
}

/// Every notice that can be longer than the window is read whole at 80 columns: the
/// status line wraps it. Each of these, at its longest, is on the screen word for word.
#[test]
fn every_notice_is_read_whole_at_80_columns() {
    use vaxentry::tui::text;
    let long_path = std::path::Path::new(
        "/home/clinic/.local/share/vaxentry/bundles/2026-11-25/0123456789abcdef0123456789abcdef.json",
    );
    let scan = vaxentry::record::gs1::parse("]d2010034928142550117270630\u{1d}10UT82921SN123")
        .unwrap()
        .unwrap();
    let notices = [
        text::saved_and_queued(long_path),
        text::saved(long_path),
        text::not_saved("the database is locked by another program; close it and try again"),
        text::voided("dose 1 (CVX 140), dose 2 (CVX 115), dose 3 (CVX 187), dose 4 (CVX 33)"),
        text::scanned(&scan, text::ScannedProduct::NotListed),
        text::carried_cleared(
            "Administered, Given by, Given by NPI, Location, Funding and VFC eligibility",
        ),
        text::new_lot_cleared("NEWLOT-2026-ABCDEF", "Expiration date and NDC"),
        text::funding_follows("VXC51", "V02"),
        text::answer_the_question(),
        text::MOVED_NO_ENDPOINT.to_string(),
    ];
    // Letters in order, whatever the line breaks (a long path is cut mid-word).
    let words = |text: &str| text.split_whitespace().collect::<String>();
    for notice in notices {
        let mut a = app((80, 24));
        a.notice = Some(notice.clone());
        let screen = render(&a).backend().to_string();
        let bottom: String = screen
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(|l| l.trim_matches('"').trim_end())
            .collect::<Vec<_>>()
            .join("");
        assert!(
            words(&bottom).contains(&words(&notice)),
            "cut at 80 columns:\n{notice}\n{screen}"
        );
    }
}
