//! Returning patients: the stored patient, suggestions, the endpoint's doses.

use super::*;

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
        snap!(
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
        // The patient needs nothing more: the focus goes on to the dose, and leaving
        // the MRN looked up the patient's doses: the earlier ones are shown.
        assert_eq!(
            (a.form.focus.page, a.form.focus.field),
            (Page::Dose(0), FieldId::Vaccine)
        );
        assert_eq!(
            a.form.earlier_doses(60).as_deref(),
            Some("140 on 2026-10-01")
        );
        snap!(
            format!("returning-patient-filled-{}x{}", size.0, size.1),
            render(&a).backend()
        );
        // By family name too, in any case; nothing for what matches no one.
        drive(&mut a, keys("<C-n>y"));
        assert_eq!(
            a.form.earlier_doses(60),
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

/// When several stored patients match what is typed, the detail says which of how
/// many is offered; Alt+↓ offers the next (round again after the last), and F7 fills
/// the one offered.
#[test]
fn several_matching_patients_are_offered_one_after_another() {
    with_store(|s| *s = new_store());
    for (mrn, given) in [
        ("MRN-1001", "Astrid"),
        ("MRN-1002", "Berit"),
        ("MRN-1003", "Cecilia"),
    ] {
        let mut visit = common::example("adult-flu");
        visit.patient.set(FieldId::Mrn, mrn);
        visit.patient.set(FieldId::Given, given);
        save_visit(&visit);
    }
    let mut a = app((80, 24));
    drive(&mut a, keys("<Tab>lindq"));
    let offered = |a: &App| a.form.suggestion().map(|p| p.mrn.clone()).unwrap();
    let first = offered(&a);
    assert!(
        render(&a)
            .backend()
            .to_string()
            .contains("MRN-1001 (1 of 3: Alt+↓"),
        "{}",
        render(&a).backend()
    );
    drive(&mut a, keys("<A-Down>"));
    let second = offered(&a);
    assert_ne!(second, first);
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .starts_with("Suggested 2 of 3: "),
        "{:?}",
        a.notice
    );
    drive(&mut a, keys("<A-Down>"));
    let third = offered(&a);
    assert!(third != first && third != second);
    drive(&mut a, keys("<A-Down>"));
    assert_eq!(offered(&a), first, "round again after the last");
    drive(&mut a, keys("<A-Down><F7>"));
    assert_eq!(a.form.visit.patient.get(FieldId::Mrn), second);
}

/// When the endpoint answered but cannot be searched (a 404), the panel says so in
/// a few words, not that it was not reached; when it could not be reached, that.
#[test]
fn the_endpoint_panel_says_what_went_wrong() {
    use vaxentry::tui::sync::HistoryAnswer;
    with_store(|s| *s = new_store());
    for (why, says) in [
        (
            "the endpoint does not offer an Immunization search (HTTP 404): not found",
            "Endpoint: does not offer an Immunization search (HTTP 404)",
        ),
        (
            "cannot connect to the server; it is retried",
            "Endpoint: cannot connect to the server",
        ),
        ("", "Endpoint: not reached"),
    ] {
        let mut a = app((80, 24));
        a.sync.protocol = Some(vaxentry::submit::protocol::Protocol::Transaction);
        drive(&mut a, keys("MRN-404<Tab>"));
        update(
            &mut a,
            Msg::Done(Done::EndpointAnswered(HistoryAnswer {
                mrn: "MRN-404".into(),
                result: Err(why.into()),
                incomplete: None,
            })),
        );
        assert_eq!(a.form.endpoint_doses(a.now).as_deref(), Some(says));
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
    snap!("endpoint-doses-80x24", render(&a).backend());
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

/// A visit received from elsewhere is listed in History as received, its view says
/// where it came from, and its patient is a returning patient like any other.
#[test]
fn a_received_visit_is_listed_shown_with_its_source_and_its_patient_returns() {
    let text = vaxentry::fhir::message_for(
        &common::example("adult-flu"),
        &common::settings(),
        common::now(),
        uuid::Uuid::new_v4(),
    )
    .unwrap()
    .json;
    let read = vaxentry::fhir::received::read_bundle(&text, &common::settings()).unwrap();
    with_store(|s| {
        s.receive(
            &read.visits[0],
            &text,
            "file from-the-annex.json",
            common::now(),
        )
        .unwrap()
    });
    let mut a = app((80, 24));
    drive(&mut a, keys("<F4>"));
    let screen = render(&a).backend().to_string();
    assert!(
        screen.contains("received") && screen.contains("Lindqvist"),
        "{screen}"
    );
    drive(&mut a, keys("<Enter>"));
    let screen = render(&a).backend().to_string();
    assert!(
        screen.contains("Received from file from-the-annex.json at 2026-11-25 15:30"),
        "{screen}"
    );
    // Never sent, nor corrected, from here: Ctrl+G and e say so.
    drive(&mut a, keys("e"));
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("corrected by the system that made it"),
        "{:?}",
        a.notice
    );
    assert_eq!(
        a.screen,
        vaxentry::tui::msg::Screen::Preview,
        "the form is not touched"
    );
    drive(&mut a, keys("<C-g>"));
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("never sent from here"),
        "{:?}",
        a.notice
    );
    drive(&mut a, keys("<Esc><Esc><C-n>MRN-0042"));
    assert_eq!(
        a.form.suggestion().map(|p| p.mrn.clone()).as_deref(),
        Some("MRN-004211")
    );
}

/// Once a stored patient's doses are known, what is due shows on the detail panel's
/// edge, Alt+D shows it in full (Esc closes it), and a dose too soon is a warning on
/// its Vaccine naming the vaccine group, the reason and the day it counts from; the
/// visit can still be saved.
#[test]
fn what_is_due_shows_once_the_patients_doses_are_known() {
    for size in SIZES {
        with_store(|s| *s = new_store());
        save_visit(&common::example("child-four-doses"));
        let mut a = app(size);
        assert!(a.form.due.is_none(), "nothing is known of a new patient");
        drive(&mut a, keys("<A-d>"));
        assert!(
            a.notice
                .as_deref()
                .unwrap_or("")
                .starts_with("What is due shows once the patient's doses are known"),
            "{:?}",
            a.notice
        );
        drive(&mut a, keys("MRN-118832<F7>"));
        let due = a.form.due.as_ref().expect("the patient's doses are known");
        assert_eq!(due.summary, "Due today: RSV 1 · Next: HepB 2 on 2026-12-22");
        snap!(
            format!("due-line-{}x{}", size.0, size.1),
            render(&a).backend()
        );
        drive(&mut a, keys("<A-d>"));
        snap!(
            format!("due-detail-{}x{}", size.0, size.1),
            render(&a).backend()
        );
        drive(&mut a, keys("<Esc>"));
        assert!(a.form.overlay.is_none());
        // DTaP the day after the four doses (Pediarix among them).
        drive(&mut a, keys("20<Enter>"));
        let warning = a
            .form
            .checks
            .findings
            .iter()
            .find(|f| f.rule == vaxentry::record::Rule::WouldNotCount)
            .unwrap_or_else(|| panic!("{:#?}", a.form.checks.findings));
        assert_eq!(warning.severity, vaxentry::record::Severity::Warning);
        assert_eq!(
            warning.message,
            "Vaccine: by CDC's schedule this dose would not count for DTaP/Tdap/Td: too soon after an earlier dose; it counts from 2026-12-22. It can still be saved"
        );
    }
}

/// The patient's condition (a CDSi observation, picked by name) changes what is due:
/// MMR is not offered to a patient recorded as pregnant. It is never sent.
#[test]
fn a_condition_on_the_patient_changes_what_is_due() {
    with_store(|s| *s = new_store());
    save_visit(&common::example("adult-flu"));
    let mut a = app((80, 24));
    drive(&mut a, keys("MRN-004211<F7>"));
    let before = a
        .form
        .due
        .as_ref()
        .expect("the patient's doses are known")
        .summary
        .clone();
    assert!(before.contains("MMR 1"), "{before}");
    drive(&mut a, keys("<C-f>condition<Enter>pregnant<Enter>"));
    assert_eq!(a.form.visit.patient.get(FieldId::Condition), "007");
    let after = &a.form.due.as_ref().unwrap().summary;
    assert!(!after.contains("MMR"), "{after}");
    let mut visit = common::example("adult-flu");
    visit.patient.set(FieldId::Condition, "007");
    let message = vaxentry::fhir::message_for(
        &visit,
        &common::settings(),
        common::now(),
        uuid::Uuid::new_v4(),
    )
    .unwrap();
    let text = serde_json::to_string(&message.json).unwrap();
    assert!(
        !text.contains("Pregnant") && !text.contains("\"007\""),
        "the condition is not sent"
    );
}
