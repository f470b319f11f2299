//! What an answer means for the outbox: submitted, rejected (with the receiver's
//! issues), credentials refused, or try again later (with the server's Retry-After
//! when it gives one). The HTTP status decides first; the body of a 2xx is read by
//! `fhir::answer`, the one reader of receivers' answers, which says whether it
//! confirms the message was taken.

use crate::clock::ClinicTime;
pub use crate::fhir::answer::{Issue, SentAs, Severity};
use crate::fhir::answer::{Verdict, issues, read_success};
use crate::untrusted::plain;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// 2xx that confirms the endpoint has the message.
    Submitted { status: u16, body: String },
    /// The endpoint did not take the message (a 4xx other than 401/403, a 501, or a
    /// 2xx that refuses it): sending it again will not help.
    Rejected {
        status: u16,
        /// Why, in a few words: the first error, or what was wrong with the answer.
        why: String,
        issues: Vec<Issue>,
        body: String,
    },
    /// 401/403 even with a fresh token.
    CredentialsRefused { status: u16, body: String },
    /// 3xx: a message is never sent on to another address, so it was not delivered.
    Redirected {
        status: u16,
        location: Option<String>,
    },
    /// The stored message could not be made into what the endpoint takes (a damaged
    /// record): nothing was sent, and sending it again will not help.
    NotSent(String),
    /// Another sender holds the visit now (this one's claim lapsed while it waited):
    /// nothing was sent, and nothing is recorded.
    ClaimLost,
    /// 408, 429, 5xx, timeouts, resets, DNS and connection errors, and a 2xx that does
    /// not confirm the message was taken.
    TryLater {
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl Outcome {
    /// A short reason for the attempts log and the outbox.
    pub fn reason(&self) -> String {
        match self {
            Outcome::Submitted { status, .. } => format!("accepted (HTTP {status})"),
            Outcome::Rejected { status, why, .. } if why.is_empty() => {
                format!("rejected (HTTP {status})")
            }
            Outcome::Rejected { status, why, .. } => format!("rejected (HTTP {status}): {why}"),
            Outcome::CredentialsRefused { status, .. } => {
                format!("credentials refused (HTTP {status}): check the endpoint's credentials")
            }
            Outcome::Redirected { status, location } => format!(
                "not delivered: the endpoint answered HTTP {status}, a redirect to {}; messages are never sent on to another address, so check base_url",
                location.as_deref().unwrap_or("an address it did not give")
            ),
            Outcome::NotSent(why) => format!("not sent: {why}"),
            Outcome::ClaimLost => "not sent: another sender has the visit now".into(),
            Outcome::TryLater { reason, .. } => reason.clone(),
        }
    }
}

/// An answer's body as it was read.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Text(String),
    /// Cut off, too large, or not text: why, in words.
    Unreadable(String),
}

/// The longest wait a server can ask for; a retry is due within a day whatever it says.
pub const LONGEST_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Sorts an answer to `sent` (the bundle sent, as `sent_as`); `now` dates a
/// `Retry-After` given as an HTTP date. An answer is "submitted" only when it confirms
/// the endpoint took the message (see `fhir::answer`); a 2xx whose body was cut off, or
/// that confirms nothing, is tried again with the same ids.
pub fn classify(
    status: u16,
    headers: &Headers,
    body: Body,
    sent: Option<&str>,
    sent_as: SentAs,
    now: ClinicTime,
) -> Outcome {
    let text = match (status, &body) {
        (200..=299, Body::Text(t)) => t,
        (200..=299, Body::Unreadable(why)) => {
            return Outcome::TryLater {
                status: Some(status),
                reason: plain(&format!(
                    "the answer (HTTP {status}) could not be read ({why}); it is sent again with the same ids"
                )),
                retry_after: None,
            };
        }
        _ => return classify_failure(status, headers, body, sent, now),
    };
    match read_success(sent_as, headers.content_type.as_deref(), text, sent) {
        Verdict::Confirmed => Outcome::Submitted {
            status,
            body: text.clone(),
        },
        Verdict::SendAgain(reason) => Outcome::TryLater {
            status: Some(status),
            reason: plain(&format!("HTTP {status}, but {reason}")),
            retry_after: None,
        },
        Verdict::Refused { reason, issues } => Outcome::Rejected {
            status,
            why: plain(&reason),
            issues,
            body: text.clone(),
        },
    }
}

/// Sorts an answer that is not a 2xx.
pub fn classify_failure(
    status: u16,
    headers: &Headers,
    body: Body,
    sent: Option<&str>,
    now: ClinicTime,
) -> Outcome {
    let text = match &body {
        Body::Text(t) => t.clone(),
        Body::Unreadable(why) => format!("(the answer could not be read: {why})"),
    };
    match status {
        300..=399 => Outcome::Redirected {
            status,
            location: headers.location.as_deref().map(plain),
        },
        401 | 403 => Outcome::CredentialsRefused { status, body: text },
        408 | 429 | 500 | 502..=599 => Outcome::TryLater {
            status: Some(status),
            reason: match status {
                408 => "the server timed out (HTTP 408)".to_string(),
                429 => "the server asked to slow down (HTTP 429)".to_string(),
                s => format!("the server had a problem (HTTP {s})"),
            },
            retry_after: headers
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, now)),
        },
        _ => {
            let issues = issues(&text, sent);
            Outcome::Rejected {
                status,
                why: issues
                    .iter()
                    .find(|i| i.is_error())
                    .or(issues.first())
                    .map(|i| i.text.clone())
                    .unwrap_or_default(),
                issues,
                body: text,
            }
        }
    }
}

/// The answer's headers that matter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Headers {
    pub retry_after: Option<String>,
    pub location: Option<String>,
    pub content_type: Option<String>,
}

/// `Retry-After`: seconds, or an HTTP date; at most [`LONGEST_WAIT`].
pub fn parse_retry_after(value: &str, now: ClinicTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // However many digits: more than a day is a day.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(LONGEST_WAIT));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.signed_duration_since(now);
    Some(wait.to_std().unwrap_or(Duration::ZERO).min(LONGEST_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::clock::test_now as now;

    /// Classifies an answer to a Redox `$write` with no headers.
    fn answer(status: u16, body: &str) -> Outcome {
        answer_to(SentAs::RedoxWrite, status, body, None)
    }

    fn answer_to(sent_as: SentAs, status: u16, body: &str, sent: Option<&str>) -> Outcome {
        classify(
            status,
            &Headers::default(),
            Body::Text(body.into()),
            sent,
            sent_as,
            now(),
        )
    }

    fn submitted(outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::Submitted { .. })
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(
            answer(200, "{}"),
            Outcome::Submitted { status: 200, .. }
        ));
        assert!(matches!(answer(201, ""), Outcome::Submitted { .. }));
        assert!(matches!(
            answer(400, ""),
            Outcome::Rejected { status: 400, .. }
        ));
        assert!(matches!(answer(422, ""), Outcome::Rejected { .. }));
        assert!(matches!(
            answer(401, ""),
            Outcome::CredentialsRefused { .. }
        ));
        assert!(matches!(
            answer(403, ""),
            Outcome::CredentialsRefused { .. }
        ));
        for s in [408, 429, 500, 502, 503] {
            assert!(matches!(answer(s, ""), Outcome::TryLater { .. }), "{s}");
        }
        let headers = Headers {
            retry_after: Some("7".into()),
            ..Headers::default()
        };
        match classify_failure(429, &headers, Body::Text(String::new()), None, now()) {
            Outcome::TryLater { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)))
            }
            other => panic!("{other:?}"),
        }
    }

    const ERROR: &str = r#"{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": "no"}]}"#;
    const INFO: &str = r#"{"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational", "diagnostics": "stored"}]}"#;

    #[test]
    fn a_2xx_is_submitted_only_when_the_endpoint_took_the_message() {
        assert!(matches!(
            answer(200, ERROR),
            Outcome::Rejected { status: 200, .. }
        ));
        assert!(submitted(&answer(200, INFO)));
        assert!(submitted(&answer(204, "")));
        let cut = classify(
            200,
            &Headers::default(),
            Body::Unreadable("it was cut off".into()),
            None,
            SentAs::RedoxWrite,
            now(),
        );
        assert!(matches!(cut, Outcome::TryLater { .. }), "{cut:?}");
    }

    #[test]
    fn a_redox_rejection_is_read_however_it_is_written() {
        // A BOM, a severity in capitals, one issue object instead of a list.
        for body in [
            format!("\u{feff}{ERROR}"),
            ERROR.replace("\"error\"", "\"ERROR\""),
            r#"{"resourceType": "OperationOutcome", "issue": {"severity": "Error", "diagnostics": "no"}}"#.to_string(),
        ] {
            let outcome = answer(200, &body);
            assert!(
                matches!(outcome, Outcome::Rejected { status: 200, .. }),
                "{body}: {outcome:?}"
            );
        }
    }

    #[test]
    fn a_web_page_or_text_in_a_2xx_is_sent_again() {
        let page = "<html><body>Please sign in</body></html>";
        for sent_as in [SentAs::RedoxWrite, SentAs::Message, SentAs::Transaction] {
            let outcome = answer_to(sent_as, 200, page, None);
            assert!(
                matches!(
                    outcome,
                    Outcome::TryLater {
                        status: Some(200),
                        ..
                    }
                ),
                "{sent_as:?}: {outcome:?}"
            );
            let outcome = answer_to(sent_as, 200, "OK", None);
            assert!(matches!(outcome, Outcome::TryLater { .. }), "{outcome:?}");
        }
        let headers = Headers {
            content_type: Some("text/html; charset=utf-8".into()),
            ..Headers::default()
        };
        let outcome = classify(
            200,
            &headers,
            Body::Text("{}".into()),
            None,
            SentAs::RedoxWrite,
            now(),
        );
        assert!(matches!(outcome, Outcome::TryLater { .. }), "{outcome:?}");
    }

    fn response_message(code: &str, details: bool) -> String {
        let mut header = json!({"resourceType": "MessageHeader", "id": "r1",
            "response": {"identifier": "h1", "code": code}});
        let mut entry = vec![json!({"fullUrl": "urn:uuid:r1", "resource": header.clone()})];
        if details {
            header["response"]["details"] = json!({"reference": "urn:uuid:oo"});
            entry[0]["resource"] = header;
            entry.push(json!({"fullUrl": "urn:uuid:oo", "resource": serde_json::from_str::<serde_json::Value>(ERROR).unwrap()}));
        }
        json!({"resourceType": "Bundle", "type": "message", "entry": entry}).to_string()
    }

    const SENT_MESSAGE: &str = r#"{"resourceType": "Bundle", "type": "message", "entry": [{"resource": {"resourceType": "MessageHeader", "id": "h1"}}]}"#;

    #[test]
    fn a_response_message_is_read_by_its_code() {
        let read = |body: &str| answer_to(SentAs::Message, 200, body, Some(SENT_MESSAGE));
        assert!(submitted(&read(&response_message("ok", false))));
        let fatal = read(&response_message("fatal-error", true));
        match &fatal {
            Outcome::Rejected { why, issues, .. } => {
                assert_eq!(why, "no");
                assert!(issues[0].is_error());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read(&response_message("fatal-error", false)),
            Outcome::Rejected { .. }
        ));
        assert!(matches!(
            read(&response_message("transient-error", false)),
            Outcome::TryLater { .. }
        ));
        let about_another = response_message("ok", false).replace("\"h1\"", "\"h9\"");
        assert!(matches!(read(&about_another), Outcome::TryLater { .. }));
        assert!(matches!(
            read(r#"{"resourceType": "Bundle", "type": "searchset", "entry": []}"#),
            Outcome::Rejected { .. }
        ));
        assert!(submitted(&answer_to(SentAs::Message, 202, "", None)));
    }

    const SENT_TRANSACTION: &str = r#"{"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient"}}, {"resource": {"resourceType": "Immunization", "vaccineCode": {"coding": [{"display": "Influenza"}]}}}]}"#;

    fn transaction_response(kind: &str, statuses: &[&str]) -> String {
        let entry: Vec<_> = statuses
            .iter()
            .map(|s| json!({"response": {"status": s}}))
            .collect();
        json!({"resourceType": "Bundle", "type": kind, "entry": entry}).to_string()
    }

    #[test]
    fn a_transaction_is_confirmed_only_entry_by_entry() {
        let read = |body: &str| answer_to(SentAs::Transaction, 200, body, Some(SENT_TRANSACTION));
        let whole = transaction_response("transaction-response", &["201 Created", "200 OK"]);
        assert!(submitted(&read(&whole)));
        assert!(submitted(&read(&format!("\u{feff}{whole}"))));
        let refused =
            transaction_response("transaction-response", &["201 Created", "409 Conflict"]);
        for body in [refused.clone(), format!("\u{feff}{refused}")] {
            match read(&body) {
                Outcome::Rejected { why, .. } => {
                    assert!(why.contains("dose 1 (Influenza)"), "{why}")
                }
                other => panic!("{other:?}"),
            }
        }
        for not_confirming in [
            transaction_response("batch-response", &["201 Created", "400 Bad Request"]),
            transaction_response("batch-response", &["201 Created", "200 OK"]),
            transaction_response("transaction-response", &["201 Created"]),
            transaction_response("transaction-response", &[]),
            r#"{"resourceType": "Bundle", "type": "transaction-response"}"#.into(),
            r#"{"resourceType": "Bundle", "type": "transaction-response", "entry": {"response": {"status": "200"}}}"#.into(),
            INFO.into(),
            r#"{"resourceType": "Bundle", "type": "searchset", "total": 0}"#.into(),
        ] {
            let outcome = read(&not_confirming);
            assert!(
                matches!(outcome, Outcome::Rejected { status: 200, .. }),
                "{not_confirming}: {outcome:?}"
            );
        }
        for again in ["", "   ", "<html>proxy</html>"] {
            let outcome = read(again);
            assert!(
                matches!(outcome, Outcome::TryLater { .. }),
                "{again:?}: {outcome:?}"
            );
        }
    }

    #[test]
    fn redirects_and_permanent_failures_are_not_retried() {
        for status in [301, 302, 303, 307, 308] {
            let headers = Headers {
                location: Some("http://elsewhere.example/\u{1b}[31mfhir".into()),
                ..Headers::default()
            };
            match classify_failure(status, &headers, Body::Text(String::new()), None, now()) {
                Outcome::Redirected { location, .. } => {
                    assert_eq!(
                        location.as_deref(),
                        Some("http://elsewhere.example/[31mfhir"),
                        "no escape codes"
                    );
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        assert!(matches!(
            answer(501, ""),
            Outcome::Rejected { status: 501, .. }
        ));
        for why in [
            "it is larger than 1 MB",
            "it is not UTF-8 text",
            "it was cut off",
        ] {
            let outcome = classify_failure(
                400,
                &Headers::default(),
                Body::Unreadable(why.into()),
                None,
                now(),
            );
            assert!(
                matches!(outcome, Outcome::Rejected { status: 400, .. }),
                "{why}: {outcome:?}"
            );
        }
    }

    #[test]
    fn waits_the_server_asks_for_are_capped_at_a_day() {
        let day = Some(LONGEST_WAIT);
        assert_eq!(parse_retry_after("10000000000000", now()), day);
        assert_eq!(parse_retry_after("99999999999999999999999999", now()), day);
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now()),
            day
        );
        assert_eq!(parse_retry_after("-5", now()), None);
        assert_eq!(parse_retry_after("1.5", now()), None);
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(
            parse_retry_after("120", now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now()), None);
    }

    /// A body a hostile or careless server might send: one of the shapes receivers use,
    /// with an error somewhere or not, a BOM or not, severities in any case.
    fn hostile_body() -> impl proptest::strategy::Strategy<Value = (String, bool)> {
        use proptest::prelude::*;
        let severity = prop_oneof![
            Just("error"),
            Just("ERROR"),
            Just("Fatal"),
            Just("warning"),
            Just("information"),
            Just("")
        ];
        let status = prop_oneof![
            Just("200 OK"),
            Just("201"),
            Just("400 Bad Request"),
            Just("409"),
            Just("")
        ];
        (
            0..7u8,
            severity,
            proptest::collection::vec(status, 0..4),
            any::<bool>(),
            ".{0,40}",
        )
            .prop_map(|(shape, severity, statuses, bom, noise)| {
                let error = matches!(severity.to_ascii_lowercase().as_str(), "error" | "fatal" | "");
                let outcome = json!({"resourceType": "OperationOutcome",
                    "issue": [{"severity": severity, "diagnostics": noise}]});
                let entries: Vec<_> = statuses
                    .iter()
                    .map(|s| json!({"response": {"status": s, "outcome": outcome}}))
                    .collect();
                let body = match shape {
                    0 => outcome.to_string(),
                    1 => json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries}).to_string(),
                    2 => json!({"resourceType": "Bundle", "type": "batch-response", "entry": entries}).to_string(),
                    3 => json!({"resourceType": "Bundle", "type": "message", "entry": [
                        {"fullUrl": "urn:uuid:oo", "resource": outcome},
                        {"resource": {"resourceType": "MessageHeader", "response": {"code": noise, "details": {"reference": "urn:uuid:oo"}}}}]}).to_string(),
                    4 => format!("<html>{noise}</html>"),
                    5 => noise.clone(),
                    _ => json!({"resourceType": "Bundle", "type": "searchset", "entry": []}).to_string(),
                };
                let body = if bom { format!("\u{feff}{body}") } else { body };
                (body, error && shape == 0)
            })
    }

    proptest::proptest! {
        /// Whatever a server answers: no panic, and a redirect or a 2xx that reports an
        /// error is never counted as submitted.
        #[test]
        fn no_answer_is_mistaken_for_a_delivery(
            status in 100u16..600,
            retry_after in proptest::option::of(".{0,40}"),
            location in proptest::option::of(".{0,80}"),
            body in ".{0,200}",
            readable in proptest::bool::ANY,
            error_issue in proptest::bool::ANY,
            bom in proptest::bool::ANY,
        ) {
            let body = if error_issue {
                format!(r#"{{"resourceType": "OperationOutcome", "issue": [{{"severity": "fatal", "diagnostics": {}}}]}}"#, serde_json::json!(body))
            } else {
                body
            };
            let body = if bom { format!("\u{feff}{body}") } else { body };
            let headers = Headers { retry_after, location, content_type: None };
            let answer = if readable { Body::Text(body) } else { Body::Unreadable(body) };
            for sent_as in [SentAs::RedoxWrite, SentAs::Message, SentAs::Transaction] {
                let outcome = classify(status, &headers, answer.clone(), None, sent_as, now());
                let submitted = submitted(&outcome);
                proptest::prop_assert!(!(submitted && (300..400).contains(&status)));
                proptest::prop_assert!(!(submitted && error_issue));
                proptest::prop_assert!(!submitted || readable);
                if let Outcome::TryLater { retry_after: Some(wait), .. } = outcome {
                    proptest::prop_assert!(wait <= LONGEST_WAIT);
                }
                let _ = outcome.reason();
            }
        }

        /// The reader's rules hold for every shape: a transaction is confirmed only by a
        /// transaction-response with a 2xx for each entry sent; an OperationOutcome
        /// with an error is never a confirmation; a web page or plain text never is.
        #[test]
        fn the_reader_confirms_only_what_confirms((body, has_error) in hostile_body()) {
            for sent_as in [SentAs::RedoxWrite, SentAs::Message, SentAs::Transaction] {
                let outcome = answer_to(sent_as, 200, &body, Some(SENT_TRANSACTION));
                let text = body.trim_start_matches('\u{feff}').trim();
                if submitted(&outcome) {
                    proptest::prop_assert!(!has_error);
                    proptest::prop_assert!(!text.starts_with('<'));
                    // An empty answer confirms a message (an asynchronous 202), never
                    // a transaction; anything else must be JSON.
                    proptest::prop_assert!(
                        (text.is_empty() && sent_as != SentAs::Transaction)
                            || serde_json::from_str::<serde_json::Value>(text).is_ok()
                    );
                    if sent_as == SentAs::Transaction {
                        let value: serde_json::Value = serde_json::from_str(text).unwrap();
                        proptest::prop_assert_eq!(&value["type"], "transaction-response");
                        let entries = value["entry"].as_array().unwrap();
                        proptest::prop_assert_eq!(entries.len(), 2);
                        for e in entries {
                            proptest::prop_assert!(e["response"]["status"].as_str().unwrap().starts_with('2'));
                        }
                    }
                }
            }
        }
    }
}
