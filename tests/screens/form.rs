//! Typing into the form: fields, pickers, doses, carry-over, keys and the window.

use super::*;

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
    screens("not-done", &format!("{PATIENT}<PgDn>shingrix<Enter><A-n>"));
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>shingrix<Enter><A-n>")),
    );
    let fields = a.form.visible_fields(Page::Dose(0));
    assert!(fields.contains(&FieldId::StatusReason));
    assert!(!fields.contains(&FieldId::Lot));
    assert_eq!(
        a.form.focus.field,
        FieldId::StatusReason,
        "Alt+N goes straight to the reason"
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
    snap!("too-small-79x23", render(&a).backend());
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
    snap_debug!("error-mark-styled", terminal.backend().buffer());
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
    snap!("quit-confirm-80x24", render(&a).backend());
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
    // Back from the lot (where choosing the vaccine went) to "Given here", and no.
    while a.form.focus.field != FieldId::PrimarySource {
        drive(&mut a, keys("<BackTab>"));
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
    assert_eq!(
        (dose.get(FieldId::Administered), a.form.focus.field),
        ("", FieldId::Administered),
        "the time the dose was begun is not when it was given elsewhere: asked for"
    );
    let notice = a.notice.clone().unwrap();
    assert!(
        notice.starts_with("Dose 2 is historical (given elsewhere); A dose given elsewhere"),
        "{notice}"
    );
    snap!("alt-h-historical-80x24", render(&a).backend());
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

/// The next visit keeps the station's fields, and a vaccine chosen again gets the lot
/// the inventory has for it: the one memory of lots is the inventory, which a saved
/// dose adds its lot to (a lot only typed, never saved, is not remembered).
#[test]
fn new_visit_keeps_sticky_fields_and_finds_the_saved_lot() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!(
            "{PATIENT}<PgDn>{FLU}<Tab><Tab><Tab>Riverside<C-s>"
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
    assert_eq!(
        a.form.focus.page,
        Page::Patient,
        "PgUp on the first page stays"
    );
    drive(&mut a, keys("<PgDn><PgDn>"));
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
    drive(&mut a, keys("sano"));
    assert_eq!(
        a.form.picker_choices()[0].code,
        "PMC",
        "Sanofi Pasteur makes 140"
    );
    // Its alias typed whole is taken, and the focus goes on.
    drive(&mut a, keys("fi"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Manufacturer), "PMC");
    assert_ne!(a.form.focus.field, FieldId::Manufacturer);
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
    snap!("jump-to-field-80x24", render(&a).backend());
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

/// The station's vaccinator, NPI and place never vanish: after a visit whose last dose
/// was historical or refused, after Ctrl+D from a dose not given, and after Alt+H
/// twice, a dose given here has them again.
#[test]
fn the_stations_defaults_never_vanish() {
    let mut a = clinic_station();
    let station = |a: &App, i: usize| {
        [FieldId::Performer, FieldId::PerformerNpi, FieldId::Location]
            .map(|f| a.form.visit.doses[i].get(f).to_string())
    };
    let expected = ["Jordan Okafor", "1234567893", "Riverside Family Clinic"].map(String::from);
    // A visit whose only dose is historical, put aside: the next one still has them.
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>03<Enter><A-h><C-n>y")),
    );
    assert_eq!(station(&a, 0), expected, "after a historical dose");
    // Ctrl+D from a dose not given.
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>187<Enter><A-n><C-d>")),
    );
    assert_eq!(station(&a, 1), expected, "after a dose not given");
    // Alt+H twice.
    drive(&mut a, keys("140<Enter><A-h>"));
    assert_eq!(a.form.visit.doses[1].get(FieldId::Performer), "");
    drive(&mut a, keys("<A-h>"));
    assert_eq!(station(&a, 1), expected, "given here again");
}

/// The VFC eligibility is the patient's: chosen on one dose it goes to the visit's
/// other doses, and the funding follows it by CDC's links (VFC stock for a
/// VFC-eligible child) even at a station whose default is private stock; a funding
/// typed for the dose stays.
#[test]
fn funding_follows_the_patients_eligibility() {
    // The station's default is private stock (`funding = "private"`, CDC's PHC70).
    let mut a = clinic_station();
    let child = PATIENT.replace("03/14/1987", "03/14/2016");
    drive(
        &mut a,
        keys(&format!("{child}<PgDn>140<Enter><C-d>115<Enter>")),
    );
    assert_eq!(a.form.visit.doses[0].get(FieldId::Funding), "private");
    drive(&mut a, keys("<C-f>d1 vfc<Enter>2<Enter>"));
    for i in 0..2 {
        let dose = &a.form.visit.doses[i];
        assert_eq!(dose.get(FieldId::Eligibility), "V02", "dose {i}");
        assert_eq!(dose.get(FieldId::Funding), "VXC51", "dose {i}: VFC stock");
    }
    assert!(
        a.notice.as_deref().unwrap_or("").contains("VXC51"),
        "{:?}",
        a.notice
    );
    // Typed, it stays (the funding check warns if it does not go).
    drive(
        &mut a,
        keys("<C-f>d2 funding<Enter>vxc2<Enter><C-f>d2 vfc<Enter>3<Enter>"),
    );
    assert_eq!(a.form.visit.doses[1].get(FieldId::Funding), "VXC2");
}

/// After a vaccine is chosen the focus goes to the first field the dose still needs,
/// for a first-timer with nothing on hand too (the lot), past the defaulted status,
/// time and "Given here"; Alt+N makes the dose not given and goes to its reason.
#[test]
fn after_the_vaccine_the_focus_goes_to_what_the_dose_needs() {
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>140<Enter>")));
    assert_eq!(a.form.focus.field, FieldId::Lot);
    drive(&mut a, keys("<A-n>"));
    assert_eq!(a.form.focus.field, FieldId::StatusReason);
    assert_eq!(a.form.visit.doses[0].get(FieldId::Status), "not-done");
    drive(&mut a, keys("<A-n>"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Status), "completed");
    assert_eq!(a.form.focus.field, FieldId::Lot);
}

/// The help reads to its end at every size: End (or ↓ and PgDn) reaches the last
/// field's help, and ↑ comes back at once however often ↓ was pressed past the end.
#[test]
fn help_scrolls_to_the_last_field_at_every_size() {
    let last = FieldId::Note.spec().help;
    for size in [(80, 24), (120, 40), (200, 50)] {
        let mut a = app(size);
        drive(&mut a, keys("<F1><End>"));
        let screen = render(&a).backend().to_string();
        assert!(screen.contains(last), "{size:?}: {screen}");
        if size == (80, 24) {
            snap!("help-end-80x24", render(&a).backend());
        }
        let at_end = a.mode;
        drive(&mut a, keys(&"<Down>".repeat(90)));
        assert_eq!(a.mode, at_end, "{size:?}: no further than the end");
        drive(&mut a, keys("<Up>"));
        assert_ne!(a.mode, at_end, "{size:?}: one press back");
        drive(&mut a, keys("<Home>"));
        assert_eq!(a.mode, Mode::Help { scroll: 0 }, "{size:?}");
        drive(&mut a, keys("<PgDn>"));
        assert!(
            matches!(a.mode, Mode::Help { scroll } if scroll > 1),
            "{size:?}: {:?}",
            a.mode
        );
    }
}

/// A field typed whole moves on by itself: a date no key could change, a code only
/// one entry can mean. The keys typed after it out of habit (the rest of the word,
/// Enter or Tab) are absorbed; any other key is typed where the focus now is. What
/// could be the start of a scan, or of a longer code, is left as typed.
#[test]
fn a_field_typed_whole_moves_on_and_the_keys_of_habit_are_absorbed() {
    let mut a = app((80, 24));
    drive(&mut a, keys("MRN-1<Tab>Lee<Tab>Ann<Tab>01151987"));
    assert_eq!(
        a.form.focus.field,
        FieldId::Gender,
        "the date is whole (a January one too: no scan is read on the patient)"
    );
    drive(&mut a, keys("<Tab>f"));
    assert_eq!(a.form.visit.patient.get(FieldId::Gender), "female");
    assert_eq!(a.form.focus.field, FieldId::Phone);
    drive(&mut a, keys("emale<Enter>"));
    assert_eq!(
        (a.form.focus.field, a.form.visit.patient.get(FieldId::Phone)),
        (FieldId::Phone, ""),
        "the rest of the word and its Enter were absorbed"
    );
    drive(&mut a, keys("4135550142"));
    assert_eq!(a.form.visit.patient.get(FieldId::Phone), "4135550142");
    // On the dose: 14 is the start of 140 and 141; 01 may be the start of a scan.
    drive(&mut a, keys("<PgDn>14"));
    assert_eq!(
        (a.form.focus.field, a.form.focus.input.value()),
        (FieldId::Vaccine, "14")
    );
    drive(&mut a, keys("<BS><BS>01"));
    assert_eq!(
        (a.form.focus.field, a.form.focus.input.value()),
        (FieldId::Vaccine, "01")
    );
    drive(&mut a, keys("<BS><BS>140"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Vaccine), "140");
    assert_eq!(a.form.focus.field, FieldId::Lot, "what the dose needs next");
    drive(&mut a, keys("<Enter>X1"));
    assert_eq!(
        (a.form.focus.field, a.form.visit.doses[0].get(FieldId::Lot)),
        (FieldId::Lot, "X1"),
        "Enter absorbed, then a key of another kind is typed where the focus is"
    );
    // A typed expiry month is whole; its Tab is absorbed.
    drive(&mut a, keys("<Tab>pmc<Enter>06/2027<Tab>"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Expiration), "2027-06-30");
    assert_eq!(a.form.focus.field, FieldId::Ndc);
}

/// A returning patient's dose gets the number it makes in its group, from the doses
/// this station knows, and says so; a patient whose doses are not known gets none.
#[test]
fn a_returning_patients_dose_number_follows_their_known_doses() {
    let mut a = station_that_gave(&["unicode-race"]);
    drive(&mut a, keys("MRN-220045<F7>309"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::DoseNumber), "2");
    let notice = a.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("dose number 2 from 1 known dose"),
        "{notice}"
    );
    let mut a = clinic_station();
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>140")));
    assert_eq!(a.form.visit.doses[0].get(FieldId::DoseNumber), "");
}

/// An adult's eligibility is V01 as soon as the vaccine is chosen; a birth date
/// corrected to a child's takes that V01 away again, and says to type theirs.
#[test]
fn an_adults_eligibility_is_filled_in_and_a_childs_is_asked_for() {
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>140")));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Eligibility), "V01");
    drive(&mut a, keys("<PgUp><C-f>birth<Enter>03142016<Tab>"));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Eligibility), "");
    assert!(
        a.notice.as_deref().unwrap_or("").contains("under 19"),
        "{:?}",
        a.notice
    );
    // Typed, it stays whatever the age.
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!(
            "{PATIENT}<PgDn>140<C-f>vfc<Enter>1<PgUp><C-f>birth<Enter>03142016<Tab>"
        )),
    );
    assert_eq!(a.form.visit.doses[0].get(FieldId::Eligibility), "V01");
}
