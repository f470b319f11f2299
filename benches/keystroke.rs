//! What a user feels on every key: one key event decoded, applied by `update` (which
//! re-validates the whole visit) and a full 120x40 frame drawn, for a filled
//! two-dose visit.

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::hint::black_box;
use vaxentry::record::{FieldId, file};
use vaxentry::tui::app::{App, update};
use vaxentry::tui::input::{KeyContext, to_msg};
use vaxentry::tui::msg::{Action, Page};
use vaxentry::tui::view;

fn filled_app() -> App {
    let now =
        vaxentry::clock::Clock::fixed("2026-11-25T15:30:00-05:00", chrono_tz::America::New_York)
            .expect("time")
            .now();
    let mut app = App::new(
        now,
        vaxentry::config::Config::default().bundle_settings(),
        (120, 40),
        true,
    );
    let text = include_str!("../assets/examples/adult-flu.json");
    let mut visit = file::from_json(text).expect("example record");
    let mut second = visit.doses[0].clone();
    second.set(FieldId::Vaccine, "115");
    second.set(FieldId::Lot, "TD7781");
    visit.doses.push(second);
    app.form.visit = visit;
    app.form.focus.page = Page::Dose(1);
    app.form.focus.field = FieldId::Lot;
    app.form.focus.input = tui_input::Input::new("TD7781".into());
    app.form.touch();
    app.form.refresh(app.now);
    app
}

/// Types `x` and deletes it again, alternately, so the state stays the same size.
fn bench_typing(c: &mut Criterion, name: &str, mut app: App) {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let type_x = Event::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
    let backspace = Event::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    let mut flip = false;
    let mut layout = Default::default();
    c.bench_function(name, |b| {
        b.iter(|| {
            flip = !flip;
            let event = if flip { &type_x } else { &backspace };
            if let Some(msg) = to_msg(event, KeyContext::of(&app), &layout) {
                black_box(update(&mut app, msg));
            }
            terminal
                .draw(|f| layout = view::draw(f, &app))
                .expect("draw");
        })
    });
}

fn keystroke(c: &mut Criterion) {
    bench_typing(
        c,
        "keystroke: decode + update + validate + render 120x40, two doses",
        filled_app(),
    );
    // The vaccine picker open on "flu", as typing it opens it.
    let mut picker = filled_app();
    let now = picker.now;
    picker.form.focus(Page::Dose(1), FieldId::Vaccine, now);
    for c in "flu".chars() {
        update(
            &mut picker,
            Action::Edit(tui_input::InputRequest::InsertChar(c)).into(),
        );
    }
    assert!(picker.form.picker().is_some(), "the picker is open");
    bench_typing(
        c,
        "keystroke: vaccine picker filtering 'flu' + render 120x40",
        picker,
    );
}

criterion_group!(benches, keystroke);
criterion_main!(benches);
