//! Sending: the outbox, its answers, sending a stored visit, voiding.

use super::*;

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
    snap!("outbox-100x30", render(&a).backend());
    // The failed one comes first; Enter shows what the endpoint said, by field.
    drive(&mut a, keys("<Enter>"));
    let text = a.preview.as_ref().unwrap().text_lines().join("\n");
    assert!(
        text.contains("✗ Dose 1 · Lot number: Lot number is not valid for this product"),
        "{text}"
    );
    snap!("operation-outcome-100x30", render(&a).backend());
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

/// A visit saved with Ctrl+S can be sent later: Ctrl+G in History or in its view puts
/// it in the outbox; a visit already there, or sent, says so.
#[test]
fn a_saved_visit_is_sent_with_ctrl_g_from_history_or_its_view() {
    use vaxentry::store::VisitState;
    let mut a = app((80, 24));
    a.sync.protocol = Some(vaxentry::submit::protocol::Protocol::RedoxWrite);
    // The second visit gets the lot the first put on hand, and goes past it.
    for (mrn, lot) in [("MRN-1", "L1<Tab>pmc<Enter>06/30/2027"), ("MRN-2", "")] {
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
    snap!("void-confirm-100x30", render(&a).backend());
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

/// The header says "sent" only when something was sent: a pass over an empty outbox
/// (a new database) leaves it at "not tried yet".
#[test]
fn the_header_says_sent_only_after_something_was_sent() {
    use vaxentry::delivery::SyncReport;
    use vaxentry::tui::sync::Report;
    let mut a = app((80, 24));
    a.sync.protocol = Some(vaxentry::submit::protocol::Protocol::Transaction);
    let pass = |sent: usize| {
        Msg::Done(Done::Synced(Report {
            at: common::now(),
            result: Ok(SyncReport {
                sent,
                ..SyncReport::default()
            }),
            counts: Some((0, 0)),
        }))
    };
    update(&mut a, pass(0));
    let header = render(&a).backend().to_string();
    let top = header.lines().next().unwrap();
    assert!(
        top.contains("not tried yet") && !top.contains("sent"),
        "{top}"
    );
    update(&mut a, pass(1));
    let header = render(&a).backend().to_string();
    let top = header.lines().next().unwrap();
    assert!(top.contains("✓ sent 15:30"), "{top}");
}

/// An answer whose OperationOutcome only informs is shown as information, each issue
/// with its own mark, and with no empty "()" where it names no element.
#[test]
fn an_informational_answer_is_not_shown_as_an_error() {
    use common::server::Behaviour;
    with_store(|s| *s = new_store());
    let outcome = serde_json::json!({"resourceType": "OperationOutcome", "issue": [
        {"severity": "information", "code": "informational", "diagnostics": "queued"},
        {"severity": "warning", "code": "business-rule", "diagnostics": "lot number not on file",
         "expression": ["Bundle.entry[2].resource.lotNumber"]}]});
    send_through_a_test_server(vec![(
        common::example("adult-flu"),
        Behaviour::Raw {
            status: 200,
            headers: "Content-Type: application/fhir+json\r\n".into(),
            body: outcome.to_string().into_bytes(),
            accepts: true,
        },
    )]);
    let mut a = app((100, 30));
    drive(&mut a, keys("<F6><Enter>"));
    let text = a.preview.as_ref().unwrap().text_lines().join("\n");
    assert!(text.contains("What the endpoint says:\n"), "{text}");
    assert!(text.contains("\n  i queued\n"), "{text}");
    assert!(
        text.contains(
            "\n  ! Dose 1 · Lot number: lot number not on file (Bundle.entry[2].resource.lotNumber)"
        ),
        "{text}"
    );
    assert!(!text.contains("✗") && !text.contains("()"), "{text}");
}
