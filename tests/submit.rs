//! Submission against a local server started inside the tests: authentication (JWT
//! RS384/ES384/HS384, bearer), every answer a server gives (200, 400 with an
//! OperationOutcome, 401 once, 429 with Retry-After, 500, too slow, dropped, garbage),
//! a fault run of 500 records, and an outage followed by recovery.

mod common;

use common::server::{Behaviour, JwtCheck, TestServer};
use common::*;
use std::time::Duration;
use uuid::Uuid;
use vaxentry::clock::Clock;
use vaxentry::delivery::sync;
use vaxentry::fhir::message_for;
use vaxentry::record::FieldId;
use vaxentry::store::{AttemptOutcome, Store, VisitState};
use vaxentry::submit::{Outcome, Submitter};

fn keys() -> String {
    format!("{}/tests/fixtures/keys", env!("CARGO_MANIFEST_DIR"))
}

/// A submitter for the test server; timeouts are short unless `extra` sets them.
fn submitter(server: &TestServer, auth: &str, extra: &str) -> Submitter {
    let timeouts = if extra.contains("timeout") {
        ""
    } else {
        "request_timeout_secs = 0.3\nconnect_timeout_secs = 0.3\n"
    };
    let toml = format!(
        "[endpoint]\nkind = \"redox\"\nbase_url = \"{}\"\ndestination_slug = \"test-destination\"\n{timeouts}{extra}\n[endpoint.auth]\n{auth}\n",
        server.base_url()
    );
    submitter_of(&toml)
}

fn jwt_rs384(server: &TestServer) -> String {
    server.with(|s| {
        s.jwt = Some(JwtCheck {
            key: jsonwebtoken::DecodingKey::from_rsa_pem(
                &std::fs::read(format!("{}/test-rs384-public.pem", keys())).unwrap(),
            )
            .unwrap(),
            algorithm: jsonwebtoken::Algorithm::RS384,
            client_id: "vaxentry-test-client".into(),
            key_id: "test-key-1".into(),
        })
    });
    format!(
        "kind = \"jwt\"\ntoken_url = \"{}\"\nclient_id = \"vaxentry-test-client\"\nkey_id = \"test-key-1\"\nalgorithm = \"RS384\"\nprivate_key_file = \"{}/test-rs384-private.pem\"",
        server.token_url(),
        keys()
    )
}

fn store_with(n: usize) -> (Store, Vec<Uuid>) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-submit-{}", Uuid::new_v4()));
    let mut store = Store::open(&dir).unwrap();
    let mut visit = example("adult-flu");
    let mut ids = Vec::new();
    for i in 0..n {
        visit.patient.set(FieldId::Mrn, format!("MRN-{i:05}"));
        let id = Uuid::new_v4();
        let message = message_for(&visit, &settings(), now(), id).unwrap();
        store.save(id, &visit, &message, now()).unwrap();
        store.queue(id, now()).unwrap();
        ids.push(id);
    }
    (store, ids)
}

/// Syncs, ignoring backoff, until nothing waits (at most `rounds` passes).
fn sync_until_done(store: &mut Store, sub: &mut Submitter, rounds: usize) {
    for _ in 0..rounds {
        let report = sync(store, sub, true, &mut |_, _| {}).unwrap();
        if report.waiting == 0 {
            return;
        }
    }
    panic!("records still waiting after {rounds} passes");
}

fn state(store: &Store, id: Uuid) -> VisitState {
    store.get(id).unwrap().unwrap().row.state
}

#[test]
fn jwt_rs384_token_is_fetched_once_and_reused() {
    let server = TestServer::start();
    let auth = jwt_rs384(&server);
    let mut sub = submitter(&server, &auth, "");
    let (mut store, ids) = store_with(3);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!((report.sent, report.failed, report.waiting), (3, 0, 0));
    for id in &ids {
        assert_eq!(state(&store, *id), VisitState::Submitted);
        let attempts = store.attempts(*id).unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].outcome, AttemptOutcome::Submitted);
        assert_eq!(attempts[0].http_status, Some(200));
    }
    server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.token_requests, 1, "the token is cached");
        assert_eq!(s.write_requests, 3);
        assert_eq!(s.connections, 1, "one connection serves the whole batch");
        assert_eq!(s.most_in_flight, 1, "one message at a time by default");
    });
}

#[test]
fn several_connections_send_at_once_each_message_once_with_one_token() {
    let server = TestServer::start();
    let auth = jwt_rs384(&server);
    // Each answer takes a while, so messages sent at once are seen at once.
    server.with(|s| s.default = Some(Behaviour::Late(Duration::from_millis(300))));
    let mut sub = submitter(&server, &auth, "connections = 4\nrequest_timeout_secs = 10");
    let (mut store, ids) = store_with(12);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!((report.sent, report.failed, report.waiting), (12, 0, 0));
    for id in &ids {
        assert_eq!(store.attempts(*id).unwrap().len(), 1);
    }
    server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.token_requests, 1, "one token serves every connection");
        assert!(s.accepted.values().all(|n| *n == 1) && s.accepted.len() == 12);
        assert!(
            (2..=4).contains(&s.most_in_flight),
            "{} at once",
            s.most_in_flight
        );
    });
}

#[test]
fn a_429_to_one_connection_stops_them_all() {
    let server = TestServer::start();
    server.with(|s| s.script.push_back(Behaviour::TooMany(120)));
    let mut sub = submitter(&server, "kind = \"none\"", "connections = 4");
    let (mut store, ids) = store_with(8);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(
        (report.sent, report.deferred, report.waiting),
        (3, 1, 5),
        "the messages already on their way are answered; no more are sent"
    );
    let untried = ids
        .iter()
        .filter(|id| store.attempts(**id).unwrap().is_empty())
        .count();
    assert_eq!(untried, 4);
    server.with(|s| assert_eq!(s.write_requests, 4));
}

#[test]
fn es384_and_hs384_assertions_verify() {
    for (alg, key_line, decoding) in [
        (
            "ES384",
            format!("private_key_file = \"{}/test-es384-private.pem\"", keys()),
            jsonwebtoken::DecodingKey::from_ec_pem(
                &std::fs::read(format!("{}/test-es384-public.pem", keys())).unwrap(),
            )
            .unwrap(),
        ),
        (
            "HS384",
            format!("secret_file = \"{}/test-hs384-secret\"", keys()),
            jsonwebtoken::DecodingKey::from_secret(
                &std::fs::read(format!("{}/test-hs384-secret", keys())).unwrap(),
            ),
        ),
    ] {
        let server = TestServer::start();
        server.with(|s| {
            s.jwt = Some(JwtCheck {
                key: decoding,
                algorithm: if alg == "ES384" {
                    jsonwebtoken::Algorithm::ES384
                } else {
                    jsonwebtoken::Algorithm::HS384
                },
                client_id: "c".into(),
                key_id: "k".into(),
            })
        });
        let auth = format!(
            "kind = \"jwt\"\ntoken_url = \"{}\"\nclient_id = \"c\"\nkey_id = \"k\"\nalgorithm = \"{alg}\"\n{key_line}",
            server.token_url()
        );
        let mut sub = submitter(&server, &auth, "");
        let (mut store, ids) = store_with(1);
        sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        assert_eq!(state(&store, ids[0]), VisitState::Submitted, "{alg}");
        server.with(|s| assert!(s.problems.is_empty(), "{alg}: {:?}", s.problems));
    }
}

#[test]
fn bearer_token_from_a_file() {
    let server = TestServer::start();
    server.with(|s| s.bearer = Some("static-token-123".into()));
    let token_file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("token-{}", Uuid::new_v4()));
    // The right token is sent; a wrong one is refused.
    for (token, expected) in [
        ("static-token-123\n", VisitState::Submitted),
        ("wrong", VisitState::Failed),
    ] {
        std::fs::write(&token_file, token).unwrap();
        let auth = format!(
            "kind = \"bearer\"\ntoken_file = \"{}\"",
            token_file.display()
        );
        let mut sub = submitter(&server, &auth, "");
        let (mut store, ids) = store_with(1);
        sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        assert_eq!(state(&store, ids[0]), expected, "token {token:?}");
    }
}

#[test]
fn a_400_with_an_operation_outcome_fails_and_names_the_field() {
    let server = TestServer::start();
    server.with(|s| s.script.push_back(Behaviour::BadRequest));
    let mut sub = submitter(&server, "kind = \"none\"", "");
    let visit = Uuid::new_v4();
    let message = message_for(&example("adult-flu"), &settings(), now(), visit).unwrap();
    let parcel = vaxentry::submit::Parcel {
        visit,
        bundle_id: &message.bundle_id,
        message: &message.json,
    };
    match sub.send(&parcel, &|| true) {
        Outcome::Rejected { status, issues, .. } => {
            assert_eq!(status, 400);
            assert_eq!(
                issues[0].field,
                Some(vaxentry::record::FieldRef::dose(0, FieldId::Lot))
            );
            assert!(issues[0].text.contains("Lot number is not valid"));
        }
        other => panic!("{other:?}"),
    }
    server.with(|s| s.script.push_back(Behaviour::BadRequest));
    let (mut store, ids) = store_with(1);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(report.failed, 1);
    assert_eq!(state(&store, ids[0]), VisitState::Failed);
    let outbox = store.outbox(10).unwrap();
    assert!(
        outbox[0]
            .last_outcome
            .contains("rejected (HTTP 400): Lot number is not valid"),
        "{}",
        outbox[0].last_outcome
    );
    assert!(
        store
            .response_body(ids[0])
            .unwrap()
            .unwrap()
            .contains("OperationOutcome")
    );
}

#[test]
fn a_401_gets_a_new_token_once_and_retries() {
    let server = TestServer::start();
    let auth = jwt_rs384(&server);
    server.with(|s| s.script.push_back(Behaviour::Unauthorized));
    let mut sub = submitter(&server, &auth, "");
    let (mut store, ids) = store_with(1);
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(state(&store, ids[0]), VisitState::Submitted);
    server.with(|s| {
        assert_eq!(s.token_requests, 2);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    });
    // Two 401s in a row: the credentials are refused, and the user is told.
    server.with(|s| {
        s.script
            .extend([Behaviour::Unauthorized, Behaviour::Unauthorized])
    });
    let (mut store, ids) = store_with(1);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(report.failed, 1);
    assert_eq!(state(&store, ids[0]), VisitState::Failed);
    assert!(
        report
            .problem
            .unwrap()
            .contains("check the endpoint's credentials")
    );
}

#[test]
fn a_429_waits_as_long_as_retry_after_says() {
    let server = TestServer::start();
    server.with(|s| s.script.push_back(Behaviour::TooMany(120)));
    let mut sub = submitter(&server, "kind = \"none\"", "");
    let (mut store, ids) = store_with(2);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(
        (report.sent, report.deferred, report.waiting),
        (0, 1, 2),
        "a 429 ends the pass"
    );
    let row = store
        .outbox(10)
        .unwrap()
        .into_iter()
        .find(|r| r.row.id == ids[0])
        .unwrap();
    assert_eq!(
        row.next_attempt_at
            .map(vaxentry::store::rows::stored_time)
            .as_deref(),
        Some("2026-11-25T20:32:00.000Z"),
        "now + 120 s, in UTC"
    );
    // Not due yet: nothing is sent.
    sub.clock = Clock::Fixed(now() + chrono::Duration::seconds(60));
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(
        report.sent, 1,
        "only the other record, which was never tried"
    );
    sub.clock = Clock::Fixed(now() + chrono::Duration::seconds(121));
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(report.sent, 1);
}

#[test]
fn server_errors_timeouts_drops_and_garbage_are_retried_with_the_same_bundle() {
    for behaviour in [
        Behaviour::ServerError,
        Behaviour::Slow(Duration::from_millis(500)),
        Behaviour::Drop,
        Behaviour::Garbage,
    ] {
        let server = TestServer::start();
        // A connection closed without an answer is tried once more at once, on a new
        // one (as a kept-alive connection the server closed would be): two drops
        // make one failed attempt.
        let times = if behaviour == Behaviour::Drop { 4 } else { 2 };
        server.with(|s| s.script.extend(vec![behaviour.clone(); times]));
        let mut sub = submitter(&server, "kind = \"none\"", "");
        let (mut store, ids) = store_with(1);
        let bundle_id = store.get(ids[0]).unwrap().unwrap().bundle_id.unwrap();
        sync_until_done(&mut store, &mut sub, 5);
        assert_eq!(
            state(&store, ids[0]),
            VisitState::Submitted,
            "{behaviour:?}"
        );
        let attempts = store.attempts(ids[0]).unwrap();
        assert_eq!(attempts.len(), 3, "{behaviour:?}: {attempts:?}");
        assert!(
            attempts.iter().all(|a| a.bundle_id == bundle_id),
            "every retry resends the same Bundle.id"
        );
        assert_eq!(
            attempts
                .iter()
                .filter(|a| a.outcome == AttemptOutcome::Retry)
                .count(),
            2
        );
        server.with(|s| assert!(s.accepted.contains_key(&bundle_id)));
    }
}

#[test]
fn records_that_keep_failing_are_marked_failed_after_max_attempts() {
    let server = TestServer::start();
    server.with(|s| s.default = Some(Behaviour::ServerError));
    let mut sub = submitter(&server, "kind = \"none\"", "max_attempts = 3");
    let (mut store, ids) = store_with(1);
    for _ in 0..3 {
        sync(&mut store, &mut sub, true, &mut |_, _| {}).unwrap();
    }
    assert_eq!(state(&store, ids[0]), VisitState::Failed);
    assert!(
        store.outbox(1).unwrap()[0]
            .last_outcome
            .starts_with("gave up after 3 tries")
    );
    // Retry now puts it back in the queue.
    assert_eq!(store.retry_now(Some(ids[0]), now()).unwrap(), 1);
    assert_eq!(state(&store, ids[0]), VisitState::Queued);
}

#[test]
fn fault_run_500_records_each_submitted_exactly_once_by_bundle_id() {
    let server = TestServer::start();
    let auth = jwt_rs384(&server);
    server.with(|s| s.faults = Some((0x9e37_79b9_7f4a_7c15, 12)));
    let mut sub = submitter(&server, &auth, "max_attempts = 1000");
    let (mut store, ids) = store_with(500);
    sync_until_done(&mut store, &mut sub, 400);
    let mut bundle_ids = std::collections::HashSet::new();
    let mut total_attempts = 0;
    for id in &ids {
        let stored = store.get(*id).unwrap().unwrap();
        assert_eq!(stored.row.state, VisitState::Submitted);
        let bundle_id = stored.bundle_id.unwrap();
        assert!(bundle_ids.insert(bundle_id.clone()));
        let attempts = store.attempts(*id).unwrap();
        assert_eq!(
            attempts
                .iter()
                .filter(|a| a.outcome == AttemptOutcome::Submitted)
                .count(),
            1,
            "submitted exactly once"
        );
        assert_eq!(attempts.last().unwrap().outcome, AttemptOutcome::Submitted);
        assert!(
            attempts.iter().all(|a| a.bundle_id == bundle_id),
            "never sent as a different message"
        );
        total_attempts += attempts.len();
    }
    server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let accepted: std::collections::HashSet<_> = s.accepted.keys().cloned().collect();
        assert_eq!(accepted, bundle_ids, "the receiver holds exactly the 500 messages, by Bundle.id");
        let duplicates: usize = s.accepted.values().map(|n| n - 1).sum();
        eprintln!(
            "fault run: 500 records, {} write requests, {total_attempts} attempts logged, {} token requests, {duplicates} duplicate deliveries de-duplicated by Bundle.id",
            s.write_requests, s.token_requests
        );
        assert!(s.write_requests >= total_attempts, "every logged attempt reached the server or failed on the way");
    });
}

#[test]
fn server_down_then_up_sends_everything_that_waited() {
    let server = TestServer::start();
    let mut sub = submitter(&server, "kind = \"none\"", "");
    let (mut store, ids) = store_with(20);
    server.down();
    let report = sync(&mut store, &mut sub, true, &mut |_, _| {}).unwrap();
    assert_eq!(
        (report.sent, report.deferred, report.waiting),
        (0, 1, 20),
        "the pass stops at the first refused connection"
    );
    let problem = report.problem.unwrap();
    assert!(
        problem.contains("cannot connect") || problem.contains("connection"),
        "a plain reason: {problem}"
    );
    server.up();
    sync_until_done(&mut store, &mut sub, 5);
    for id in &ids {
        assert_eq!(state(&store, *id), VisitState::Submitted);
    }
    assert_eq!(server.with(|s| s.accepted.len()), 20);
}

#[test]
fn resubmitting_sends_a_new_message_and_says_so() {
    let server = TestServer::start();
    let mut sub = submitter(&server, "kind = \"none\"", "");
    let (mut store, ids) = store_with(1);
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    let first = store.get(ids[0]).unwrap().unwrap().bundle_id.unwrap();
    // A submitted record is not sent again by a sync.
    assert_eq!(
        sync(&mut store, &mut sub, true, &mut |_, _| {})
            .unwrap()
            .sent,
        0
    );
    let stored = store.get(ids[0]).unwrap().unwrap();
    let visit = stored.visit().unwrap();
    let seq = store.message_seq(ids[0]).unwrap();
    let message = vaxentry::fhir::message_sent_again(
        &visit,
        &settings(),
        now(),
        ids[0],
        &vaxentry::fhir::Correction {
            sending: seq + 1,
            ..Default::default()
        },
    )
    .unwrap();
    store.resubmit(ids[0], &message, seq + 1, now()).unwrap();
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    let second = store.get(ids[0]).unwrap().unwrap().bundle_id.unwrap();
    assert_ne!(first, second);
    assert_eq!(server.with(|s| s.accepted.len()), 2);

    // A new message about the same record: the message ids are new, the Patient and
    // the Immunizations keep their ids and identifiers, so the receiver updates them.
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let (before, after) = (
        json(stored.bundle_json.as_deref().unwrap()),
        json(&message.json),
    );
    let entry = |b: &serde_json::Value, i: usize| b["entry"][i]["resource"].clone();
    assert_ne!(
        entry(&before, 0)["id"],
        entry(&after, 0)["id"],
        "MessageHeader.id"
    );
    assert_eq!(
        entry(&before, 1)["id"],
        entry(&after, 1)["id"],
        "Patient.id"
    );
    assert_eq!(
        entry(&before, 2)["id"],
        entry(&after, 2)["id"],
        "Immunization.id"
    );
    assert_eq!(
        entry(&before, 2)["identifier"],
        entry(&after, 2)["identifier"],
        "Immunization.identifier"
    );
    assert_eq!(
        entry(&before, 0)["focus"],
        entry(&after, 0)["focus"],
        "the header points at the same Immunizations"
    );
    // Both messages are kept: the one sent first is version 1, byte for byte.
    let versions = store.versions(ids[0]).unwrap();
    assert_eq!(versions.len(), 2, "{versions:#?}");
    assert_eq!(versions[0].why, vaxentry::store::versions::Reason::Saved);
    assert_eq!(Some(&versions[0].bundle_json), stored.bundle_json.as_ref());
    assert_eq!(
        versions[1].why,
        vaxentry::store::versions::Reason::SentAgain
    );
    assert_eq!(versions[1].bundle_json, message.json);
    assert_eq!(versions[1].bundle_id, second);
    assert!(!versions[1].author.user.is_empty());
}

#[test]
fn the_form_keeps_working_while_a_submission_hangs() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use vaxentry::tui::app::{App, update};
    use vaxentry::tui::msg::Action;
    let server = TestServer::start();
    server.with(|s| s.script.push_back(Behaviour::Slow(Duration::from_secs(3))));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-hang-{}", Uuid::new_v4()));
    {
        let mut store = Store::open(&dir).unwrap();
        let visit = example("adult-flu");
        let id = Uuid::new_v4();
        let message = message_for(&visit, &settings(), now(), id).unwrap();
        store.save(id, &visit, &message, now()).unwrap();
        store.queue(id, now()).unwrap();
    }
    let toml = format!(
        "[endpoint]\nkind = \"fhir\"\nbase_url = \"{}\"\nrequest_timeout_secs = 10\n",
        server.base_url()
    );
    let worker = vaxentry::tui::sync::Worker::spawn(
        dir.clone(),
        endpoint_of(&toml),
        clock(),
        "urn:vaxentry:mrn".into(),
    );
    // Wait until the request is at the server, which holds it.
    while server.with(|s| s.write_requests) == 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut app = App::new(now(), settings(), (120, 40), true);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    for _ in 0..200 {
        update(
            &mut app,
            Action::Edit(tui_input::InputRequest::InsertChar('a')).into(),
        );
        terminal
            .draw(|f| {
                vaxentry::tui::view::draw(f, &app);
            })
            .unwrap();
    }
    assert_eq!(
        app.form.visit.patient.get(FieldId::Mrn).len(),
        200,
        "every key was handled"
    );
    assert!(
        worker.reports.try_recv().is_err(),
        "...while the submission was still hanging"
    );
    let report = worker
        .reports
        .recv_timeout(Duration::from_secs(20))
        .expect("the sender reports when the answer comes");
    assert_eq!(report.result.unwrap().sent, 1);
    worker.stop();
}

// Hostile servers: nothing is marked sent that was not taken, nothing panics.

fn raw(status: u16, headers: &str, body: &[u8]) -> Behaviour {
    Behaviour::Raw {
        status,
        headers: headers.into(),
        body: body.to_vec(),
        accepts: false,
    }
}

#[test]
fn a_redirect_is_never_followed_and_never_counts_as_sent() {
    for status in [301, 302, 303, 307, 308] {
        let server = TestServer::start();
        let elsewhere = TestServer::start();
        let location = format!("Location: {}/fhir/other\r\n", elsewhere.base_url());
        server.with(|s| s.script.push_back(raw(status, &location, b"")));
        let mut sub = submitter(&server, "kind = \"none\"", "");
        let (mut store, ids) = store_with(1);
        let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        assert_eq!((report.sent, report.failed), (0, 1), "{status}");
        assert_eq!(state(&store, ids[0]), VisitState::Failed, "{status}");
        assert_eq!(
            elsewhere.with(|s| s.write_requests),
            0,
            "{status}: nothing went elsewhere"
        );
        let detail = &store.attempts(ids[0]).unwrap()[0].detail;
        assert!(
            detail.contains("redirect") && detail.contains("/fhir/other"),
            "{detail}"
        );
    }
}

#[test]
fn a_2xx_that_reports_an_error_fails_and_a_cut_answer_is_resent_with_the_same_ids() {
    let server = TestServer::start();
    let error = br#"{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing", "diagnostics": "Patient not matched", "expression": ["Bundle.entry[1].resource.identifier"]}]}"#;
    let info = br#"{"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational", "diagnostics": "queued"}]}"#;
    server.with(|s| {
        s.script.extend([
            raw(200, "", error),
            Behaviour::Cut,
            Behaviour::Raw {
                status: 200,
                headers: String::new(),
                body: info.to_vec(),
                accepts: true,
            },
        ])
    });
    let mut sub = submitter(&server, "kind = \"none\"", "");
    let (mut store, ids) = store_with(2);
    sync_until_done(&mut store, &mut sub, 4);
    assert_eq!(
        state(&store, ids[0]),
        VisitState::Failed,
        "200 with an error"
    );
    let first = store.attempts(ids[0]).unwrap();
    assert!(first[0].detail.contains("Patient not matched"), "{first:?}");
    assert_eq!(state(&store, ids[1]), VisitState::Submitted);
    let second = store.attempts(ids[1]).unwrap();
    assert_eq!(second.len(), 2, "cut, then resent: {second:?}");
    assert_eq!(second[0].outcome, AttemptOutcome::Retry);
    assert_eq!(second[0].bundle_id, second[1].bundle_id, "the same ids");
    assert!(!second[1].detail.contains("()"), "{:?}", second[1]);
}

#[test]
fn permanent_failures_are_not_retried_however_their_body_is_written() {
    let big = vec![b'x'; 2 * 1024 * 1024];
    let binary = vec![0xff, 0xfe, 0x00, 0x9f, 0x80];
    for (status, body) in [
        (400, big.clone()),
        (400, binary.clone()),
        (422, b"{\"half".to_vec()),
        (501, b"".to_vec()),
    ] {
        let server = TestServer::start();
        server.with(|s| s.script.push_back(raw(status, "", &body)));
        let mut sub = submitter(&server, "kind = \"none\"", "");
        let (mut store, ids) = store_with(1);
        let report = sync(&mut store, &mut sub, true, &mut |_, _| {}).unwrap();
        assert_eq!(
            (report.sent, report.failed),
            (0, 1),
            "{status} {} bytes",
            body.len()
        );
        assert_eq!(state(&store, ids[0]), VisitState::Failed);
        assert_eq!(store.attempts(ids[0]).unwrap().len(), 1, "tried once");
    }
}

#[test]
fn absurd_retry_after_values_wait_at_most_a_day_and_nothing_panics() {
    for value in [
        "10000000000000",
        "99999999999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let server = TestServer::start();
        server.with(|s| {
            s.script
                .push_back(raw(429, &format!("Retry-After: {value}\r\n"), b""))
        });
        let mut sub = submitter(&server, "kind = \"none\"", "");
        let (mut store, ids) = store_with(1);
        let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        assert_eq!(report.deferred, 1, "{value}");
        let row = store
            .outbox(10)
            .unwrap()
            .into_iter()
            .find(|r| r.row.id == ids[0])
            .unwrap();
        let wait = row.next_attempt_at.unwrap() - now().to_utc();
        assert!(wait <= chrono::Duration::hours(24), "{value}: {wait}");
        // The next pass neither panics nor sends early; a day later it sends.
        sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        sub.clock = Clock::Fixed(now() + chrono::Duration::hours(24));
        let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        assert_eq!(report.sent, 1, "{value}");
    }
}

#[test]
fn tokens_with_short_or_odd_lifetimes_are_still_sent_with_their_request() {
    for expires in ["0", "10", "-1", "18446744073709551615", "\"300\"", "1.5"] {
        let server = TestServer::start();
        let auth = jwt_rs384(&server);
        server.with(|s| {
            s.token_answer = Some(format!(
                "{{\"access_token\": \"{{token}}\", \"expires_in\": {expires}}}"
            ))
        });
        let mut sub = submitter(&server, &auth, "");
        let (mut store, _) = store_with(2);
        let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        assert_eq!(report.sent, 2, "expires_in {expires}: {:?}", report.problem);
        server.with(|s| assert!(s.problems.is_empty(), "{expires}: {:?}", s.problems));
    }
}

#[test]
fn tokens_that_cannot_go_in_a_header_are_never_sent() {
    for answer in [
        "{\"access_token\": \"\"}".to_string(),
        "{\"access_token\": \"ab\\r\\nX-Injected: 1\"}".to_string(),
        format!("{{\"access_token\": \"{}\"}}", "t".repeat(20_000)),
    ] {
        let server = TestServer::start();
        let auth = jwt_rs384(&server);
        server.with(|s| s.token_answer = Some(answer.clone()));
        let mut sub = submitter(&server, &auth, "");
        let (mut store, ids) = store_with(1);
        let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
        assert_eq!(report.sent, 0);
        assert_eq!(
            state(&store, ids[0]),
            VisitState::Queued,
            "kept to try again"
        );
        assert_eq!(
            server.with(|s| s.write_requests),
            0,
            "no request went out with it"
        );
    }
}

/// Two senders (the form and a cron `sync`): a claim that lapses passes to the other
/// sender, and the first may then neither send nor record.
#[test]
fn one_sender_at_a_time_even_when_a_claim_lapses() {
    use vaxentry::store::outbox::{After, Recorded};
    let (mut store, ids) = store_with(1);
    let lease = Duration::from_secs(65);
    let claimed = store.claim_due(now(), lease, 10, false, "form").unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_due(now(), lease, 10, false, "cron")
            .unwrap()
            .is_empty(),
        "held"
    );
    // The form stalls (a slow token endpoint) past its lease; cron takes the visit.
    let later = now() + chrono::Duration::seconds(66);
    let taken = store.claim_due(later, lease, 10, false, "cron").unwrap();
    assert_eq!(
        taken.len(),
        1,
        "a lapsed claim passes on, within a lease not a batch"
    );
    assert!(
        !store.renew_claim(ids[0], "form", later, lease).unwrap(),
        "the form must not send"
    );
    let attempt = |claimer| Recorded {
        id: ids[0],
        claimer,
        bundle_id: &taken[0].bundle_id,
        now: later,
        http_status: Some(200),
        outcome: AttemptOutcome::Submitted,
        detail: "accepted (HTTP 200)",
        response_body: None,
    };
    assert!(
        !store
            .record_attempt(&attempt("form"), After::Submitted)
            .unwrap(),
        "nor record"
    );
    assert!(
        store
            .record_attempt(&attempt("cron"), After::Submitted)
            .unwrap()
    );
    assert_eq!(store.attempts(ids[0]).unwrap().len(), 1);
    assert_eq!(state(&store, ids[0]), VisitState::Submitted);
}

#[test]
fn voiding_sends_the_doses_as_entered_in_error_under_their_identifiers() {
    use vaxentry::corrections;
    let server = TestServer::start();
    let mut sub = submitter(&server, "kind = \"none\"", "");
    let (mut store, ids) = store_with(1);
    let id = ids[0];
    // Not sent yet: nothing to void.
    let err = corrections::plan_void(&store, id, None).unwrap_err();
    assert!(err.to_string().contains("wait until it is sent"), "{err}");
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    let sent = store.get(id).unwrap().unwrap();
    let err = corrections::plan_void(&store, id, Some(1)).unwrap_err();
    assert!(err.to_string().contains("no dose 2"), "{err}");

    let plan = corrections::plan_void(&store, id, Some(0)).unwrap();
    assert_eq!(corrections::describe(&plan.doses), "dose 1 (CVX 140)");
    corrections::void(&mut store, id, &plan, now(), &settings()).unwrap();
    assert_eq!(
        store.get(id).unwrap().unwrap().row.state,
        VisitState::Queued
    );
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(server.with(|s| s.accepted.len()), 2, "a second message");

    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let first = json(sent.bundle_json.as_deref().unwrap());
    let voided = store.get(id).unwrap().unwrap();
    let second = json(voided.bundle_json.as_deref().unwrap());
    let immunization = |b: &serde_json::Value| b["entry"][2]["resource"].clone();
    assert_eq!(immunization(&second)["status"], "entered-in-error");
    assert_eq!(
        immunization(&first)["identifier"],
        immunization(&second)["identifier"]
    );
    assert_ne!(first["id"], second["id"], "a new message");
    // Kept locally, marked; no longer a dose the patient has; both messages kept.
    let record = voided.visit().unwrap();
    assert_eq!(record.doses[0].get(FieldId::Status), "entered-in-error");
    assert!(store.doses_of("MRN-00000").unwrap().is_empty());
    let versions = store.versions(id).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].why, vaxentry::store::versions::Reason::Voided);
    assert_eq!(Some(&versions[0].bundle_json), sent.bundle_json.as_ref());
    // Once is enough.
    let err = corrections::plan_void(&store, id, None).unwrap_err();
    assert!(err.to_string().contains("voided already"), "{err}");
}

/// A visit's whole life at the receiver: sent, amended, then a dose voided. Three
/// messages arrive, each once, with new Bundle.ids and one identifier per dose across
/// all three.
#[test]
fn new_then_amended_then_voided_arrive_with_one_identifier_per_dose() {
    use vaxentry::corrections;
    let server = TestServer::start();
    let mut sub = submitter(&server, "kind = \"none\"", "");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-life-{}", Uuid::new_v4()));
    let mut store = Store::open(&dir).unwrap();
    let mut visit = example("child-four-doses");
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &message, now()).unwrap();
    store.queue(id, now()).unwrap();
    sync_until_done(&mut store, &mut sub, 3);
    // Amended: a lot number corrected, as the form sends it.
    visit.doses[2].set(FieldId::Lot, "CORRECTED1");
    let correction = corrections::correction_of(&store.get(id).unwrap().unwrap(), true).unwrap();
    let amendment =
        vaxentry::fhir::message_sent_again(&visit, &settings(), now(), id, &correction).unwrap();
    assert_eq!(
        corrections::amend(
            &mut store,
            id,
            &visit,
            &amendment,
            correction.sending,
            now(),
            &settings()
        )
        .unwrap(),
        corrections::Amended::Version(2)
    );
    sync_until_done(&mut store, &mut sub, 3);
    // Dose 2 voided.
    let plan = corrections::plan_void(&store, id, Some(1)).unwrap();
    corrections::void(&mut store, id, &plan, now(), &settings()).unwrap();
    sync_until_done(&mut store, &mut sub, 3);

    let received = server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(s.accepted.values().all(|n| *n == 1), "each message once");
        s.received.clone()
    });
    assert_eq!(received.len(), 3);
    let bundle_ids: std::collections::HashSet<_> =
        received.iter().map(|b| b["id"].to_string()).collect();
    assert_eq!(bundle_ids.len(), 3, "three messages");
    let doses = |b: &serde_json::Value| -> Vec<serde_json::Value> {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == "Immunization")
            .cloned()
            .collect()
    };
    let identifiers = |b: &serde_json::Value| -> Vec<serde_json::Value> {
        doses(b).iter().map(|d| d["identifier"].clone()).collect()
    };
    let first = identifiers(&received[0]);
    assert_eq!(first.len(), 4);
    // Each correction carries only the dose it changed, under that dose's identifier.
    assert_eq!(identifiers(&received[1]), [first[2].clone()]);
    assert_eq!(identifiers(&received[2]), [first[1].clone()]);
    assert_eq!(doses(&received[1])[0]["lotNumber"], "CORRECTED1");
    assert_eq!(doses(&received[2])[0]["status"], "entered-in-error");
    let versions = store.versions(id).unwrap();
    let whys: Vec<_> = versions.iter().map(|v| v.why).collect();
    assert_eq!(
        whys,
        [
            vaxentry::store::versions::Reason::Saved,
            vaxentry::store::versions::Reason::Amended,
            vaxentry::store::versions::Reason::Voided
        ]
    );
}

/// Slow, single-use tokens and eight connections: the first sender's claims lapse
/// while it waits its turn for a token, and a second sender takes those visits. Each
/// claim is renewed right before its POST, so the first sends nothing the second
/// took: every visit goes once, none is marked failed, and each report counts what
/// its sender sent.
#[test]
fn a_sender_that_waited_for_a_token_sends_nothing_another_took() {
    let server = TestServer::start();
    let auth = jwt_rs384(&server);
    server.with(|s| {
        s.token_delay = Some(Duration::from_millis(950));
        s.single_use_tokens = true;
        s.token_answer = Some("{\"access_token\": \"{token}\", \"expires_in\": 0}".into());
    });
    // A claim lasts two request timeouts and 5 s: 7 s, while eight tokens take 7.6 s.
    let extra = "connections = 8\nrequest_timeout_secs = 1\nconnect_timeout_secs = 1\n";
    let mut first = submitter(&server, &auth, extra);
    let mut second = submitter(&server, &auth, extra);
    // Time passes for this test: both senders read one running clock.
    let clock = common::clock().running();
    (first.clock, second.clock) = (clock, clock);
    let (mut store, ids) = store_with(8);
    let dir = store.path().parent().unwrap().to_path_buf();
    let later = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(7200));
        let mut store = Store::open(&dir).unwrap();
        sync(&mut store, &mut second, false, &mut |_, _| {}).unwrap()
    });
    let report = sync(&mut store, &mut first, false, &mut |_, _| {}).unwrap();
    let other = later.join().unwrap();
    assert_eq!(report.failed + other.failed, 0, "{report:?} {other:?}");
    assert_eq!(report.sent + other.sent, 8, "{report:?} {other:?}");
    assert!(
        other.sent > 0,
        "the second sender took the lapsed claims: {other:?}"
    );
    server.with(|s| {
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.accepted.len(), 8);
        assert!(s.accepted.values().all(|n| *n == 1), "{:?}", s.accepted);
    });
    for id in ids {
        assert_eq!(state(&store, id), VisitState::Submitted);
    }
}

/// Everything kept about a visit's attempts, as the database holds it.
fn kept_text(store: &Store, id: Uuid) -> String {
    let attempts = store.attempts(id).unwrap();
    let rows = store.outbox(10).unwrap();
    format!(
        "{:?} {:?} {:?}",
        attempts,
        rows.iter().map(|r| &r.last_outcome).collect::<Vec<_>>(),
        store.response_body(id).unwrap()
    )
}

/// A server that echoes the Authorization header into its answer, or a token
/// endpoint that echoes the request (the signed client assertion): neither secret is
/// kept, shown or reported.
#[test]
fn secrets_a_server_echoes_are_never_kept_or_shown() {
    let server = TestServer::start();
    server.with(|s| {
        s.bearer = Some("static-token-123456".into());
        s.script.push_back(Behaviour::EchoHeaders);
    });
    let token_file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("token-{}", Uuid::new_v4()));
    std::fs::write(&token_file, "static-token-123456").unwrap();
    let auth = format!(
        "kind = \"bearer\"\ntoken_file = \"{}\"",
        token_file.display()
    );
    let mut sub = submitter(&server, &auth, "");
    let (mut store, ids) = store_with(1);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(state(&store, ids[0]), VisitState::Failed);
    let kept = kept_text(&store, ids[0]);
    assert!(kept.contains("bad request"), "{kept}");
    assert!(!kept.contains("static-token-123456"), "{kept}");
    assert!(!format!("{report:?}").contains("static-token-123456"));

    let server = TestServer::start();
    let auth = jwt_rs384(&server);
    server.with(|s| s.token_echo = true);
    let mut sub = submitter(&server, &auth, "");
    let (mut store, ids) = store_with(1);
    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    assert_eq!(state(&store, ids[0]), VisitState::Failed);
    let kept = format!("{} {report:?}", kept_text(&store, ids[0]));
    assert!(kept.contains("invalid_request"), "{kept}");
    assert!(!kept.contains("eyJ"), "no JWT part is kept: {kept}");
}

/// How one pass ends for a visit whose message got `answer`.
fn one_pass(kind: &str, answer: Behaviour) -> (VisitState, String) {
    let server = TestServer::start();
    server.with(|s| s.script.push_back(answer));
    let toml = format!(
        "[endpoint]\n{kind}\nbase_url = \"{}/fhir\"\nrequest_timeout_secs = 2\n",
        server.base_url()
    );
    let mut sub = submitter_of(&toml);
    let (mut store, ids) = store_with(1);
    sync(&mut store, &mut sub, false, &mut |_, _| {}).unwrap();
    let attempts = store.attempts(ids[0]).unwrap();
    (state(&store, ids[0]), attempts[0].detail.clone())
}

/// Answers that do not confirm delivery are never taken for it, whichever protocol
/// sent the message: the receiver's refusal fails the visit, with its reason; an
/// answer that may not come from the receiver at all sends it again.
#[test]
fn answers_that_do_not_confirm_delivery_never_count_as_sent() {
    let redox = "kind = \"redox\"\ndestination_slug = \"d\"";
    let message = "kind = \"fhir\"";
    let transaction = "kind = \"fhir\"\nmode = \"transaction\"";
    let json = |value: serde_json::Value| value.to_string().into_bytes();
    let bom = |value: serde_json::Value| format!("\u{feff}{value}").into_bytes();
    let error = serde_json::json!({"resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "diagnostics": "Lot number unknown"}]});
    let conflict = serde_json::json!({"resourceType": "Bundle", "type": "transaction-response",
        "entry": [{"response": {"status": "201"}}, {"response": {"status": "409 Conflict"}}]});
    let batch = serde_json::json!({"resourceType": "Bundle", "type": "batch-response",
        "entry": [{"response": {"status": "201"}}, {"response": {"status": "400", "outcome": error}}]});
    let short = serde_json::json!({"resourceType": "Bundle", "type": "transaction-response",
        "entry": [{"response": {"status": "201"}}]});
    let response = |code: &str| {
        serde_json::json!({"resourceType": "Bundle", "type": "message", "entry": [
            {"fullUrl": "urn:uuid:r", "resource": {"resourceType": "MessageHeader",
                "response": {"code": code, "details": {"reference": "urn:uuid:oo"}}}},
            {"fullUrl": "urn:uuid:oo", "resource": error}]})
    };
    let html = || Behaviour::Raw {
        status: 200,
        headers: "Content-Type: text/html\r\n".into(),
        body: b"<html><body>Sign in</body></html>".to_vec(),
        accepts: false,
    };
    let cases: Vec<(&str, Behaviour, VisitState, &str)> = vec![
        (
            redox,
            raw(200, "", &bom(error.clone())),
            VisitState::Failed,
            "Lot number unknown",
        ),
        (
            redox,
            raw(
                200,
                "",
                error
                    .to_string()
                    .replace("\"error\"", "\"ERROR\"")
                    .as_bytes(),
            ),
            VisitState::Failed,
            "Lot number unknown",
        ),
        (
            redox,
            raw(
                200,
                "",
                &json(serde_json::json!({"resourceType": "OperationOutcome",
                "issue": {"severity": "error", "diagnostics": "Lot number unknown"}})),
            ),
            VisitState::Failed,
            "Lot number unknown",
        ),
        (redox, html(), VisitState::Queued, "web page"),
        (
            message,
            raw(200, "", &json(response("fatal-error"))),
            VisitState::Failed,
            "Lot number unknown",
        ),
        (
            message,
            raw(200, "", &json(response("transient-error"))),
            VisitState::Queued,
            "transient-error",
        ),
        (message, html(), VisitState::Queued, "web page"),
        (
            transaction,
            raw(200, "", &bom(conflict)),
            VisitState::Failed,
            "409 Conflict",
        ),
        (
            transaction,
            raw(200, "", &json(batch)),
            VisitState::Failed,
            "Lot number unknown",
        ),
        (
            transaction,
            raw(200, "", &json(short)),
            VisitState::Failed,
            "answers 1 of the",
        ),
        (
            transaction,
            raw(200, "", b""),
            VisitState::Queued,
            "no body",
        ),
        (transaction, html(), VisitState::Queued, "web page"),
        (
            transaction,
            raw(
                200,
                "",
                &json(serde_json::json!({"resourceType": "Bundle", "type": "searchset"})),
            ),
            VisitState::Failed,
            "searchset",
        ),
    ];
    for (kind, answer, expected, why) in cases {
        let shown = format!("{kind} / {answer:?}");
        let (state, detail) = one_pass(kind, answer);
        assert_eq!(state, expected, "{shown}: {detail}");
        assert!(detail.contains(why), "{shown}: {detail}");
    }
}
