//! What an answer means: submitted, rejected (with the OperationOutcome's issues,
//! mapped to form fields where the FHIRPath says which), credentials refused, or try
//! again later (with the server's Retry-After when it gives one).

use crate::clock::ClinicTime;
use crate::fhir::paths::{Resource, entry_kind, field_of};
use crate::record::FieldRef;
use serde_json::Value as Json;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// 2xx: the endpoint has the message.
    Submitted { status: u16, body: String },
    /// 400/422 and other client errors: sending it again will not help.
    Rejected {
        status: u16,
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
    /// 408, 429, 5xx, timeouts, resets, DNS and connection errors.
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
            Outcome::Rejected { status, issues, .. } => {
                match issues.iter().find(|i| i.is_error()).or(issues.first()) {
                    Some(issue) => format!("rejected (HTTP {status}): {}", issue.text),
                    None => format!("rejected (HTTP {status})"),
                }
            }
            Outcome::CredentialsRefused { status, .. } => {
                format!("credentials refused (HTTP {status}): check the endpoint's credentials")
            }
            Outcome::Redirected { status, location } => format!(
                "not delivered: the endpoint answered HTTP {status}, a redirect to {}; messages are never sent on to another address, so check base_url",
                location.as_deref().unwrap_or("an address it did not give")
            ),
            Outcome::NotSent(why) => format!("not sent: {why}"),
            Outcome::TryLater { reason, .. } => reason.clone(),
        }
    }
}

/// One issue of an OperationOutcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub severity: String,
    pub text: String,
    pub expression: Vec<String>,
    /// The form field the expression points at, when it can be told.
    pub field: Option<FieldRef>,
}

impl Issue {
    /// An error or fatal issue: the message was not taken.
    pub fn is_error(&self) -> bool {
        matches!(self.severity.as_str(), "error" | "fatal")
    }
}

/// Classifies an HTTP answer (after any token refresh).
/// An answer's body as it was read.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Text(String),
    /// Cut off, too large, or not text: why, in words.
    Unreadable(String),
}

/// The longest wait a server can ask for; a retry is due within a day whatever it says.
pub const LONGEST_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Sorts an answer to `sent` (when a bundle was sent); `now` dates a `Retry-After`
/// given as an HTTP date. An answer is "submitted" only when the endpoint took the
/// message: a 2xx whose OperationOutcome reports an error is a rejection, and a 2xx
/// whose body was cut off is tried again with the same ids.
pub fn classify(
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
    match (status, &body) {
        (200..=299, Body::Unreadable(why)) => Outcome::TryLater {
            status: Some(status),
            reason: plain(&format!(
                "the answer (HTTP {status}) could not be read ({why}); it is sent again with the same ids"
            )),
            retry_after: None,
        },
        (200..=299, Body::Text(t)) => {
            let issues = operation_outcome_issues(t, sent);
            if issues.iter().any(Issue::is_error) {
                Outcome::Rejected {
                    status,
                    issues,
                    body: text,
                }
            } else {
                Outcome::Submitted { status, body: text }
            }
        }
        (300..=399, _) => Outcome::Redirected {
            status,
            location: headers.location.as_deref().map(plain),
        },
        (401 | 403, _) => Outcome::CredentialsRefused { status, body: text },
        (408 | 429 | 500 | 502..=599, _) => Outcome::TryLater {
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
        _ => Outcome::Rejected {
            status,
            issues: operation_outcome_issues(&text, sent),
            body: text,
        },
    }
}

/// The answer's headers that matter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Headers {
    pub retry_after: Option<String>,
    pub location: Option<String>,
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

/// Text from a server made safe to show and log: no control characters (terminal
/// escapes) or bidi overrides, one line, at most 300 characters.
pub fn plain(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !crate::record::parse::is_bidi_control(*c))
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let one_line = words.join(" ");
    match one_line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// The issues of an OperationOutcome body (any other body gives none), each named by
/// form field when its expression points at one. `sent` is the bundle the answer is
/// about, which tells list elements apart (`performer[1]`).
///
/// A transaction-response Bundle gives the issues of each entry the server did not
/// take: its outcome's, or one naming the entry and its status.
pub fn operation_outcome_issues(body: &str, sent: Option<&str>) -> Vec<Issue> {
    let Ok(value) = serde_json::from_str::<Json>(body) else {
        return Vec::new();
    };
    let sent: Option<Json> = sent.and_then(|s| serde_json::from_str(s).ok());
    match value["resourceType"].as_str() {
        Some("OperationOutcome") => outcome_issues(&value, sent.as_ref(), None),
        Some("Bundle") if value["type"] == "transaction-response" => {
            entry_issues(&value, sent.as_ref())
        }
        _ => Vec::new(),
    }
}

/// The issues of the entries of a transaction-response whose status is not 2xx.
fn entry_issues(response: &Json, sent: Option<&Json>) -> Vec<Issue> {
    let entries = response["entry"].as_array().map_or(&[][..], Vec::as_slice);
    let mut issues = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let status = entry["response"]["status"].as_str().unwrap_or_default();
        if status.trim_start().starts_with('2') {
            continue;
        }
        let outcome = &entry["response"]["outcome"];
        let found = outcome_issues(outcome, sent, Some(index));
        if found.iter().any(Issue::is_error) {
            issues.extend(found);
            continue;
        }
        issues.extend(found);
        let what = sent
            .and_then(|s| s["entry"].as_array())
            .map_or_else(|| format!("entry {}", index + 1), |e| entry_name(e, index));
        issues.push(Issue {
            severity: "error".into(),
            text: plain(&format!(
                "the server did not take {what} ({})",
                if status.is_empty() {
                    "no status given"
                } else {
                    status
                }
            )),
            expression: vec![format!("Bundle.entry[{index}]")],
            field: None,
        });
    }
    issues
}

/// Entry `index` of a bundle vaxentry sent, in words: "the patient", "dose 2
/// (Influenza, injectable)", "the Practitioner".
fn entry_name(entries: &[Json], index: usize) -> String {
    let resource = &entries.get(index).unwrap_or(&Json::Null)["resource"];
    match (
        entry_kind(entries, index),
        resource["resourceType"].as_str(),
    ) {
        (Some((Resource::Patient, _)), _) => "the patient".into(),
        (Some((Resource::Immunization, dose)), _) => {
            match resource["vaccineCode"]["coding"][0]["display"].as_str() {
                Some(vaccine) => format!("dose {} ({vaccine})", dose + 1),
                None => format!("dose {}", dose + 1),
            }
        }
        (None, Some(other)) => format!("the {other}"),
        (None, None) => format!("entry {}", index + 1),
    }
}

/// The issues of an OperationOutcome. Within a transaction-response entry
/// (`entry`), an expression that starts at the resource is read as that entry's.
fn outcome_issues(value: &Json, sent: Option<&Json>, entry: Option<usize>) -> Vec<Issue> {
    if value["resourceType"] != "OperationOutcome" {
        return Vec::new();
    }
    value["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let expression: Vec<String> = i["expression"]
                .as_array()
                .or_else(|| i["location"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str().map(str::to_string))
                .map(|e| match entry {
                    Some(index) if !e.starts_with("Bundle.") => match e.split_once('.') {
                        Some((_, path)) => format!("Bundle.entry[{index}].resource.{path}"),
                        None => format!("Bundle.entry[{index}].resource"),
                    },
                    _ => e,
                })
                .collect();
            let text = i["diagnostics"]
                .as_str()
                .or_else(|| i["details"]["text"].as_str())
                .or_else(|| i["code"].as_str())
                .unwrap_or("no details given")
                .to_string();
            Issue {
                severity: i["severity"].as_str().unwrap_or("error").to_string(),
                field: expression.iter().find_map(|e| field_of(e, sent)),
                text: plain(&text),
                expression: expression.iter().map(|e| plain(e)).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FieldId;

    use crate::clock::test_now as now;

    /// Classifies an answer with no headers.
    fn answer(status: u16, body: &str) -> Outcome {
        classify(
            status,
            &Headers::default(),
            Body::Text(body.into()),
            None,
            now(),
        )
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
        match classify(429, &headers, Body::Text(String::new()), None, now()) {
            Outcome::TryLater { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_2xx_is_submitted_only_when_the_endpoint_took_the_message() {
        let error = r#"{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": "no"}]}"#;
        let info = r#"{"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational", "diagnostics": "stored"}]}"#;
        assert!(matches!(
            answer(200, error),
            Outcome::Rejected { status: 200, .. }
        ));
        assert!(matches!(answer(200, info), Outcome::Submitted { .. }));
        assert!(matches!(answer(204, ""), Outcome::Submitted { .. }));
        let cut = classify(
            200,
            &Headers::default(),
            Body::Unreadable("it was cut off".into()),
            None,
            now(),
        );
        assert!(matches!(cut, Outcome::TryLater { .. }), "{cut:?}");
    }

    #[test]
    fn redirects_and_permanent_failures_are_not_retried() {
        for status in [301, 302, 303, 307, 308] {
            let headers = Headers {
                location: Some("http://elsewhere.example/\u{1b}[31mfhir".into()),
                ..Headers::default()
            };
            match classify(status, &headers, Body::Text(String::new()), None, now()) {
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
            let outcome = classify(
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

    #[test]
    fn operation_outcome_issues_map_to_fields() {
        let body = r#"{"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "required", "diagnostics": "Lot number is required", "expression": ["Bundle.entry[3].resource.lotNumber"]},
            {"severity": "error", "code": "value", "details": {"text": "Bad birth date"}, "expression": ["Patient.birthDate"]},
            {"severity": "warning", "code": "informational", "location": ["Bundle.entry[1].resource.name[0].given[1]"]},
            {"severity": "error", "code": "processing"}
        ]}"#;
        let issues = operation_outcome_issues(body, None);
        assert_eq!(issues.len(), 4);
        assert_eq!(issues[0].field, Some(FieldRef::dose(1, FieldId::Lot)));
        assert_eq!(issues[0].text, "Lot number is required");
        assert_eq!(issues[1].field, Some(FieldRef::patient(FieldId::BirthDate)));
        assert_eq!(issues[1].text, "Bad birth date");
        assert_eq!(issues[2].field, Some(FieldRef::patient(FieldId::Given)));
        assert_eq!(issues[3].field, None);
        assert_eq!(issues[3].text, "processing");
        assert!(operation_outcome_issues("not json", None).is_empty());
        assert!(operation_outcome_issues("{\"resourceType\": \"Bundle\"}", None).is_empty());
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
        ) {
            let body = if error_issue {
                format!(r#"{{"resourceType": "OperationOutcome", "issue": [{{"severity": "fatal", "diagnostics": {}}}]}}"#, serde_json::json!(body))
            } else {
                body
            };
            let headers = Headers { retry_after, location };
            let answer = if readable { Body::Text(body) } else { Body::Unreadable(body) };
            let outcome = classify(status, &headers, answer, None, now());
            let submitted = matches!(outcome, Outcome::Submitted { .. });
            proptest::prop_assert!(!(submitted && (300..400).contains(&status)));
            proptest::prop_assert!(!(submitted && error_issue));
            proptest::prop_assert!(!submitted || readable);
            if let Outcome::TryLater { retry_after: Some(wait), .. } = outcome {
                proptest::prop_assert!(wait <= LONGEST_WAIT);
            }
            let _ = outcome.reason();
        }
    }
}
