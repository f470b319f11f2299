//! Visits: the preview, saving, drafts, the history, versions and corrections.

use super::*;

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
            snap!(format!("preview-valid-{}x{}", size.0, size.1), render(&a).backend());
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
                    "{mrn}<Tab>{family}<Tab>{given}<Tab>01/02/1980<Tab>m<Enter><PgDn>{vaccine}<Enter>L1<C-s>"
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
        snap!(
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
        // Its keys are a stored visit's: correct, versions, copy; not save.
        let screen = render(&a).backend().to_string();
        let hints = screen.lines().last().unwrap();
        assert!(
            hints.contains("e correct  v versions  c copy") && !hints.contains("save"),
            "{hints}"
        );
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
        let from_view = a.preview.as_ref().expect("the versions");
        assert_eq!(from_view.text_lines(), from_history.text_lines());
        insta::with_settings!({filters => vec![(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]")]}, {
            snap!(format!("versions-{}x{}", size.0, size.1), render(&a).backend());
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
        // Esc goes back where the versions were opened from: the visit's view.
        drive(&mut a, keys("<Esc>"));
        let view = a.preview.as_ref().expect("the visit's view");
        assert!(
            !view
                .text_lines()
                .iter()
                .any(|l| l.starts_with("Version 1:")),
            "{:?}",
            view.summary
        );
        assert!(matches!(
            view.source,
            vaxentry::tui::screens::preview::Source::Stored { .. }
        ));
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
    snap!("resume-draft-80x24", render(&a).backend());
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
        drive(&mut a, keys("<BackTab>"));
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
        snap!("bundle-historical-after-ctrl-d", stored.bundle_json.unwrap());
    });
}

/// The draft found at start: y resumes it; n, Esc or anything typed keeps it (an MRN
/// typed while the question is up is refused with how to answer, never taken for an
/// answer); it is discarded only from History, with Delete and a confirmation.
#[test]
fn the_draft_question_takes_only_its_answers_and_never_discards() {
    let visit = common::example("adult-flu");
    let id = uuid::Uuid::new_v4();
    for answer in ["<Esc>", "n"] {
        let mut a = app((80, 24));
        a.offer_draft(id, visit.clone());
        let effects = drive(&mut a, keys(answer));
        assert!(effects.is_empty(), "{answer}: {effects:?}");
        assert_eq!(a.mode, Mode::Normal);
        assert!(
            a.notice.as_deref().unwrap_or("").contains("kept"),
            "{:?}",
            a.notice
        );
    }
    let mut a = app((80, 24));
    a.offer_draft(id, visit.clone());
    // The digits and Enter of an MRN (Enter no longer says yes).
    let effects = drive(&mut a, keys("A-7731<Enter>"));
    assert!(effects.is_empty(), "typing is no answer: {effects:?}");
    assert!(matches!(a.mode, Mode::Confirm(_)), "still asked");
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .starts_with("Answer the question first"),
        "{:?}",
        a.notice
    );
    drive(&mut a, keys("y"));
    assert_eq!(a.form.visit_id, id, "resumed");
    assert_eq!(
        a.form.visit.patient.get(FieldId::Mrn),
        visit.patient.get(FieldId::Mrn)
    );
}

/// Ctrl+N on a form only touched (the defaults, the station's fields) keeps no draft;
/// with something typed, the draft is put aside, and not offered at start as if it
/// had been cut short.
#[test]
fn only_a_form_with_something_typed_is_put_aside_and_not_offered_at_start() {
    let mut a = app((80, 24));
    with_store(|s| *s = new_store());
    let effects = writes(drive(&mut a, keys("<Tab><BackTab><C-n>y")));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::SaveDraft { .. })),
        "nothing typed, no draft: {effects:?}"
    );
    let effects = writes(drive(&mut a, keys("MRN-9<C-n>y")));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::SaveDraft { aside: true, .. })),
        "{effects:?}"
    );
    assert!(
        with_store(|s| s.latest_draft().unwrap()).is_none(),
        "put aside: not offered at start"
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
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>flu<Enter>")));
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
    snap!("save-given-before-80x24", render(&a).backend());
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
        snap!(
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
        // The lists say so (the history opens afresh, with no filter left from before).
        drive(&mut a, keys("<F4>"));
        assert_eq!(a.history.filter.value(), "");
        let at = a.history.rows.iter().position(|r| r.id == id).unwrap();
        assert_eq!(a.history.rows[at].state_label(), "amended v2");
        drive(&mut a, keys(&"<Down>".repeat(at)));
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
    snap!("void-dose-confirm-80x24", render(&a).backend());
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
    // The history lists the voided dose, marked.
    drive(&mut a, keys("<F4>"));
    let row = a.history.rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row.vaccines, "110 48(voided) 216 116");
    assert!(
        render(&a).backend().to_string().contains("48(voided)"),
        "{}",
        render(&a).backend()
    );
}

/// The history opens with no filter left from before (typing starts a new one), and
/// a date typed as staff write it (`10/01`, `10/01/2026`) finds the visits of that day.
#[test]
fn the_history_filter_starts_empty_and_reads_dates_as_typed() {
    with_store(|s| *s = new_store());
    save_visit(&common::example("adult-flu"));
    let mut a = app((80, 24));
    for (typed, found) in [
        ("10/01", 1),
        ("10/1/2026", 1),
        ("2026-10-01", 1),
        ("10/02", 0),
    ] {
        drive(&mut a, keys(&format!("<F4>{typed}")));
        assert_eq!(
            a.history.filter.value(),
            typed,
            "not appended to the last one"
        );
        assert_eq!(a.history.rows.len(), found, "{typed}");
        drive(&mut a, keys("<Esc>"));
    }
}
