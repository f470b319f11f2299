//! A FHIR server without messaging (`[endpoint] kind = "fhir"`, `mode =
//! "transaction"`), played by the local test server: conditional transactions that
//! write each resource once, whatever is sent again; amendments and voids that update
//! the doses in place; and transaction answers that name the dose a server refused.

mod common;

use common::server::{Behaviour, TestServer};
use common::*;
use serde_json::{Value, json};
use uuid::Uuid;
use vaxentry::delivery::sync;
use vaxentry::fhir::message_for;
use vaxentry::record::{FieldId, FieldRef};
use vaxentry::store::{Store, VisitState};
use vaxentry::submit::{Outcome, Parcel, Submitter};

fn transaction_submitter(server: &TestServer) -> Submitter {
    let toml = format!(
        "[endpoint]\nkind = \"fhir\"\nmode = \"transaction\"\nbase_url = \"{}/fhir\"\nrequest_timeout_secs = 2\n",
        server.base_url()
    );
    submitter_of(&toml)
}

fn new_store() -> Store {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-fhir-server-{}", Uuid::new_v4()));
    Store::open(&dir).unwrap()
}

fn kinds(server: &TestServer) -> Vec<String> {
    server.with(|s| kinds_of(&s.records))
}

#[test]
fn a_visit_is_written_once_and_sending_it_again_changes_nothing() {
    let server = TestServer::start();
    let mut sub = transaction_submitter(&server);
    let mut store = new_store();
    let visit = example("child-four-doses");
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &message, now()).unwrap();
    store.queue(id, now()).unwrap();
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(
        store.get(id).unwrap().unwrap().row.state,
        VisitState::Submitted
    );
    let (sent, changes) = server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        (s.received[0].clone(), s.records.changes)
    });
    assert_eq!(sent["type"], "transaction");
    assert_eq!(sent["id"], message.bundle_id.as_str(), "the message's id");
    let mut stored = kinds(&server);
    stored.sort();
    assert_eq!(
        stored,
        [
            "Immunization",
            "Immunization",
            "Immunization",
            "Immunization",
            "Patient"
        ]
    );
    // The doses point at the patient the server stored.
    server.with(|s| {
        let patient = s
            .records
            .resources
            .iter()
            .find(|r| r.kind == "Patient")
            .unwrap();
        for dose in s
            .records
            .resources
            .iter()
            .filter(|r| r.kind == "Immunization")
        {
            assert_eq!(
                dose.resource["patient"]["reference"],
                format!("Patient/{}", patient.id)
            );
        }
    });

    // The same message again (a retry after a lost answer): nothing changes.
    assert!(matches!(
        sub.send(
            &Parcel {
                visit: id,
                bundle_id: &message.bundle_id,
                message: &message.json,
            },
            &|| true
        ),
        Outcome::Submitted { status: 200, .. }
    ));
    assert_eq!(server.with(|s| s.records.changes), changes);
    assert_eq!(kinds(&server).len(), 5);
}

#[test]
fn amendments_and_voids_update_the_doses_the_server_has() {
    use vaxentry::corrections;
    let server = TestServer::start();
    let mut sub = transaction_submitter(&server);
    let mut store = new_store();
    let mut visit = example("child-four-doses");
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &message, now()).unwrap();
    store.queue(id, now()).unwrap();
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    visit.doses[2].set(FieldId::Lot, "CORRECTED1");
    let correction = corrections::correction_of(&store.get(id).unwrap().unwrap(), true).unwrap();
    let amendment =
        vaxentry::fhir::message_sent_again(&visit, &settings(), now(), id, &correction).unwrap();
    let sent = amendment.json.clone();
    assert_eq!(
        sent.matches("\"resourceType\": \"Immunization\"").count(),
        1,
        "only the corrected dose goes"
    );
    corrections::amend(
        &mut store,
        id,
        &visit,
        &amendment,
        correction.sending,
        now(),
        &settings(),
    )
    .unwrap();
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    let plan = corrections::plan_void(&store, id, Some(1)).unwrap();
    corrections::void(&mut store, id, &plan, now(), &settings()).unwrap();
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(report.sent, 1, "{report:?}");

    server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.received.len(), 3, "three transactions");
        let doses: Vec<&Value> = s
            .records
            .resources
            .iter()
            .filter(|r| r.kind == "Immunization")
            .map(|r| &r.resource)
            .collect();
        assert_eq!(doses.len(), 4, "still four doses");
        let statuses: Vec<&str> = doses
            .iter()
            .map(|d| d["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            ["completed", "entered-in-error", "completed", "completed"]
        );
        assert_eq!(doses[2]["lotNumber"], "CORRECTED1");
        let versions: Vec<u32> = s
            .records
            .resources
            .iter()
            .filter(|r| r.kind == "Immunization")
            .map(|r| r.version)
            .collect();
        assert_eq!(
            versions,
            [1, 2, 2, 1],
            "only what changed has a new version"
        );
    });
}

fn answer(status: u16, body: Value) -> Behaviour {
    Behaviour::Raw {
        status,
        headers: String::new(),
        body: body.to_string().into_bytes(),
        accepts: false,
    }
}

/// A message queued for the test server, and the submitter.
fn one_visit(server: &TestServer) -> (Submitter, String) {
    let visit = example("child-four-doses");
    let message = message_for(&visit, &settings(), now(), ONE_VISIT).unwrap();
    (transaction_submitter(server), message.json)
}

/// The visit of [`one_visit`].
const ONE_VISIT: Uuid = Uuid::from_u128(7);

/// Sends [`one_visit`]'s message (its first).
fn send_first(sub: &Submitter, message: &str) -> Outcome {
    let bundle: serde_json::Value = serde_json::from_str(message).unwrap();
    let parcel = Parcel {
        visit: ONE_VISIT,
        bundle_id: bundle["id"].as_str().unwrap(),
        message,
    };
    sub.send(&parcel, &|| true)
}

#[test]
fn an_entry_the_server_refused_fails_the_visit_and_names_the_dose() {
    let server = TestServer::start();
    let (sub, message) = one_visit(&server);
    // A server that answers 200 but did not take entry 2 (the second dose), saying why.
    server.with(|s| {
        s.script.push_back(answer(
            200,
            json!({"resourceType": "Bundle", "type": "transaction-response", "entry": [
                {"response": {"status": "200 OK"}},
                {"response": {"status": "201 Created"}},
                {"response": {"status": "422 Unprocessable Entity", "outcome": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "invalid",
                               "diagnostics": "Lot number unknown",
                               "expression": ["Immunization.lotNumber"]}]}}},
                {"response": {"status": "409 Conflict"}},
                {"response": {"status": "201 Created"}},
            ]}),
        ))
    });
    match send_first(&sub, &message) {
        Outcome::Rejected { status, issues, .. } => {
            assert_eq!(status, 200);
            assert_eq!(issues.len(), 2, "{issues:?}");
            assert_eq!(issues[0].text, "Lot number unknown");
            assert_eq!(issues[0].field, Some(FieldRef::dose(1, FieldId::Lot)));
            assert!(
                issues[1]
                    .text
                    .starts_with("the server did not take dose 3 (")
                    && issues[1].text.ends_with("(409 Conflict)"),
                "{}",
                issues[1].text
            );
        }
        other => panic!("{other:?}"),
    }
    // A whole transaction refused: its expressions count the transaction's entries.
    server.with(|s| {
        s.script.push_back(answer(
            400,
            json!({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "required", "diagnostics": "birth date needed",
                 "expression": ["Bundle.entry[0].resource.birthDate"]},
                {"severity": "error", "code": "invalid", "diagnostics": "bad site",
                 "expression": ["Bundle.entry[1].resource.site"]}]}),
        ))
    });
    match send_first(&sub, &message) {
        Outcome::Rejected { issues, .. } => {
            let fields: Vec<_> = issues.iter().map(|i| i.field).collect();
            assert_eq!(
                fields,
                [
                    Some(FieldRef::patient(FieldId::BirthDate)),
                    Some(FieldRef::dose(0, FieldId::Site))
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    // Every entry taken: sent.
    server.with(|s| {
        s.script.push_back(answer(
            200,
            json!({"resourceType": "Bundle", "type": "transaction-response", "entry": [
                {"response": {"status": "201 Created"}}, {"response": {"status": "201"}},
                {"response": {"status": "201"}}, {"response": {"status": "201"}},
                {"response": {"status": "201"}}]}),
        ))
    });
    assert!(matches!(
        send_first(&sub, &message),
        Outcome::Submitted { .. }
    ));
}

/// A SMART Backend Services server: an ES384 client assertion with its `kid`, the
/// scopes asked for with a standard token URL, and the token used for the transaction.
#[test]
fn a_smart_server_gets_an_es384_assertion_and_the_scopes() {
    let server = TestServer::start();
    let keys = format!("{}/tests/fixtures/keys", env!("CARGO_MANIFEST_DIR"));
    server.with(|s| {
        s.jwt = Some(common::server::JwtCheck {
            key: jsonwebtoken::DecodingKey::from_ec_pem(
                &std::fs::read(format!("{keys}/test-es384-public.pem")).unwrap(),
            )
            .unwrap(),
            algorithm: jsonwebtoken::Algorithm::ES384,
            client_id: "smart-client".into(),
            key_id: "es384-2026".into(),
        })
    });
    let toml = format!(
        "[endpoint]\nkind = \"fhir\"\nmode = \"transaction\"\nbase_url = \"{base}/fhir\"\n[endpoint.auth]\nkind = \"jwt\"\ntoken_url = \"{token}\"\nclient_id = \"smart-client\"\nkey_id = \"es384-2026\"\nalgorithm = \"ES384\"\nprivate_key_file = \"{keys}/test-es384-private.pem\"\nscope = \"system/Immunization.write  system/Immunization.read system/Patient.read\"\n",
        base = server.base_url(),
        token = server.token_url(),
    );
    let sub = submitter_of(&toml);
    let (_, message) = one_visit(&server);
    let sent = send_first(&sub, &message);
    assert!(matches!(sent, Outcome::Submitted { .. }), "{sent:?}");
    server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            s.scopes,
            [Some(
                "system/Immunization.write system/Immunization.read system/Patient.read".into()
            )]
        );
        assert_eq!(
            kinds_of(&s.records),
            [
                "Patient",
                "Immunization",
                "Immunization",
                "Immunization",
                "Immunization"
            ]
        );
    });
}

fn kinds_of(records: &common::fhir_records::Records) -> Vec<String> {
    records.resources.iter().map(|r| r.kind.clone()).collect()
}

/// The test server holding the child's four doses, written by a transaction.
fn server_with_four_doses() -> (TestServer, Submitter) {
    let server = TestServer::start();
    let (sub, message) = one_visit(&server);
    assert!(matches!(
        send_first(&sub, &message),
        Outcome::Submitted { .. }
    ));
    (server, sub)
}

#[test]
fn a_fhir_server_is_searched_by_the_patients_identifier_page_by_page() {
    let (server, sub) = server_with_four_doses();
    server.with(|s| s.page_size = 3);
    let found = sub
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap();
    assert_eq!(found.immunizations.len(), 4);
    assert_eq!(found.incomplete, None);
    assert!(
        found
            .immunizations
            .iter()
            .all(|r| r["resourceType"] == "Immunization")
    );
    let searches = server.with(|s| s.searches.clone());
    assert_eq!(searches.len(), 2, "two pages: {searches:?}");
    assert_eq!(searches[0].0, "GET");
    assert!(
        searches[0]
            .1
            .starts_with("/fhir/Immunization?patient.identifier=urn%3Avaxentry%3Amrn%7CMRN-118832"),
        "{searches:?}"
    );
    assert!(searches[1].1.ends_with("&_page=2"), "{searches:?}");
    // Another patient: nothing.
    let none = sub.immunizations_of("urn:vaxentry:mrn", "MRN-0").unwrap();
    assert!(none.immunizations.is_empty());
}

#[test]
fn redox_is_searched_with_a_form_post() {
    let (server, _) = server_with_four_doses();
    let toml = format!(
        "[endpoint]\nkind = \"redox\"\nbase_url = \"{}\"\ndestination_slug = \"test-destination\"\n",
        server.base_url()
    );
    let redox = submitter_of(&toml);
    let found = redox
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap();
    assert_eq!(found.immunizations.len(), 4);
    let (method, path, body) = server.with(|s| s.searches[0].clone());
    assert_eq!(method, "POST");
    assert_eq!(
        path,
        "/fhir/R4/test-destination/Development/Immunization/_search"
    );
    assert_eq!(
        body,
        "patient.identifier=urn%3Avaxentry%3Amrn%7CMRN-118832&_include=Immunization%3Apatient"
    );
    server.with(|s| assert!(s.problems.is_empty(), "{:?}", s.problems));
}

#[test]
fn a_search_that_cannot_be_read_whole_says_why() {
    let (server, sub) = server_with_four_doses();
    let page = |next: &str, dose: &str| {
        json!({"resourceType": "Bundle", "type": "searchset",
               "link": [{"relation": "next", "url": next}],
               "entry": [{"resource": {"resourceType": "Immunization", "id": dose, "status": "completed",
                                       "patient": {"reference": "Patient/p1"}}},
                         {"resource": {"resourceType": "Patient", "id": "p1",
                                       "identifier": [{"system": "urn:vaxentry:mrn", "value": "MRN-118832"}]},
                          "search": {"mode": "include"}}]})
        .to_string()
    };
    // A next page on another server is never asked for (the token would go there).
    server.with(|s| {
        s.search_script.push_back((
            200,
            page("https://elsewhere.example.net/Immunization?page=2", "i1"),
        ))
    });
    let found = sub
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap();
    assert_eq!(found.immunizations.len(), 1, "the Patient is not a dose");
    assert!(
        found
            .incomplete
            .as_deref()
            .unwrap()
            .contains("on another server"),
        "{found:?}"
    );
    assert_eq!(server.with(|s| s.searches.len()), 1);
    // A server that pages without end is read up to the limit.
    let here = |n: usize| {
        format!(
            "{}/fhir/Immunization?patient.identifier=x&_page={n}",
            server.base_url()
        )
    };
    server.with(|s| {
        for n in 0..vaxentry::submit::search::MAX_PAGES {
            s.search_script
                .push_back((200, page(&here(n + 2), &format!("i{n}"))));
        }
    });
    let found = sub
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap();
    assert_eq!(
        found.immunizations.len(),
        vaxentry::submit::search::MAX_PAGES
    );
    assert!(
        found
            .incomplete
            .unwrap()
            .contains("only the first 20 pages")
    );
    // A next link back to a page already read ends the reading; a dose on two pages
    // is kept once.
    server.with(|s| {
        s.search_script.push_back((200, page(&here(2), "i1")));
        s.search_script.push_back((200, page(&here(2), "i1")));
        s.search_script.push_back((200, page(&here(2), "i2")));
    });
    let found = sub
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap();
    assert_eq!(found.immunizations.len(), 1, "{found:?}");
    assert!(
        found
            .incomplete
            .as_deref()
            .unwrap()
            .contains("already read"),
        "{found:?}"
    );
    assert_eq!(server.with(|s| s.search_script.len()), 1, "two pages read");
    server.with(|s| s.search_script.clear());
    // No search here, or an answer that is not a Bundle.
    server.with(|s| {
        s.search_script.push_back((501, String::new()));
        s.search_script
            .push_back((200, "{\"resourceType\": \"OperationOutcome\"}".into()));
        s.search_script.push_back((200, "<html>".into()));
    });
    let err = sub
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap_err();
    assert!(
        err.contains("does not offer an Immunization search (HTTP 501)"),
        "{err}"
    );
    let err = sub
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap_err();
    assert!(err.contains("with OperationOutcome, not a Bundle"), "{err}");
    let err = sub
        .immunizations_of("urn:vaxentry:mrn", "MRN-118832")
        .unwrap_err();
    assert!(err.contains("not JSON"), "{err}");
}

/// The form's sender asks the endpoint when told, answers on its own channel, and
/// keeps the answer for when the endpoint cannot be reached.
#[test]
fn the_sender_asks_the_endpoint_for_a_patient_and_keeps_the_answer() {
    use vaxentry::tui::sync::{Command, Worker};
    let (server, _) = server_with_four_doses();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-ask-{}", Uuid::new_v4()));
    Store::open(&dir).unwrap();
    let toml = format!(
        "[endpoint]\nkind = \"fhir\"\nmode = \"transaction\"\nbase_url = \"{}/fhir\"\n",
        server.base_url()
    );
    let worker = Worker::spawn(
        dir.clone(),
        endpoint_of(&toml),
        clock(),
        "urn:vaxentry:mrn".into(),
    );
    worker
        .commands
        .send(Command::History("MRN-118832".into()))
        .unwrap();
    let answer = worker
        .answers
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("an answer");
    worker.stop();
    assert_eq!(answer.mrn, "MRN-118832");
    assert_eq!(answer.result.unwrap().immunizations.len(), 4);
    let kept = Store::open(&dir)
        .unwrap()
        .endpoint_history("MRN-118832")
        .unwrap()
        .expect("kept");
    assert_eq!(kept.immunizations.len(), 4);
}
