//! What an answer means: submitted, rejected (with the OperationOutcome's issues,
//! mapped to form fields where the FHIRPath says which), credentials refused, or try
//! again later (with the server's Retry-After when it gives one).

use crate::clock::ClinicTime;
use crate::fhir::paths::field_of;
use crate::record::FieldRef;
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
            Outcome::Rejected { status, issues, .. } => match issues.first() {
                Some(issue) => format!("rejected (HTTP {status}): {}", issue.text),
                None => format!("rejected (HTTP {status})"),
            },
            Outcome::CredentialsRefused { status, .. } => {
                format!("credentials refused (HTTP {status}): check the endpoint's credentials")
            }
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

/// Classifies an HTTP answer (after any token refresh).
/// Sorts an answer to `sent` (when a bundle was sent); `now` dates a `Retry-After`
/// given as an HTTP date.
pub fn classify(
    status: u16,
    retry_after: Option<&str>,
    body: String,
    sent: Option<&str>,
    now: ClinicTime,
) -> Outcome {
    match status {
        200..=299 => Outcome::Submitted { status, body },
        401 | 403 => Outcome::CredentialsRefused { status, body },
        408 | 429 | 500..=599 => Outcome::TryLater {
            status: Some(status),
            reason: match status {
                408 => "the server timed out (HTTP 408)".to_string(),
                429 => "the server asked to slow down (HTTP 429)".to_string(),
                s => format!("the server had a problem (HTTP {s})"),
            },
            retry_after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
        _ => Outcome::Rejected {
            status,
            issues: operation_outcome_issues(&body, sent),
            body,
        },
    }
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: ClinicTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.signed_duration_since(now);
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The issues of an OperationOutcome body (any other body gives none), each named by
/// form field when its expression points at one. `sent` is the bundle the answer is
/// about, which tells list elements apart (`performer[1]`).
pub fn operation_outcome_issues(body: &str, sent: Option<&str>) -> Vec<Issue> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    if value["resourceType"] != "OperationOutcome" {
        return Vec::new();
    }
    let sent: Option<serde_json::Value> = sent.and_then(|s| serde_json::from_str(s).ok());
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
                .collect();
            let text = i["diagnostics"]
                .as_str()
                .or_else(|| i["details"]["text"].as_str())
                .or_else(|| i["code"].as_str())
                .unwrap_or("no details given")
                .to_string();
            Issue {
                severity: i["severity"].as_str().unwrap_or("error").to_string(),
                field: expression.iter().find_map(|e| field_of(e, sent.as_ref())),
                text,
                expression,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FieldId;

    fn now() -> ClinicTime {
        crate::clock::Clock::fixed("2026-11-25T15:30:00-05:00", chrono_tz::Tz::UTC)
            .unwrap()
            .now()
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(
            classify(200, None, "{}".into(), None, now()),
            Outcome::Submitted { status: 200, .. }
        ));
        assert!(matches!(
            classify(201, None, String::new(), None, now()),
            Outcome::Submitted { .. }
        ));
        assert!(matches!(
            classify(400, None, String::new(), None, now()),
            Outcome::Rejected { status: 400, .. }
        ));
        assert!(matches!(
            classify(422, None, String::new(), None, now()),
            Outcome::Rejected { .. }
        ));
        assert!(matches!(
            classify(401, None, String::new(), None, now()),
            Outcome::CredentialsRefused { .. }
        ));
        assert!(matches!(
            classify(403, None, String::new(), None, now()),
            Outcome::CredentialsRefused { .. }
        ));
        for s in [408, 429, 500, 502, 503] {
            assert!(
                matches!(
                    classify(s, None, String::new(), None, now()),
                    Outcome::TryLater { .. }
                ),
                "{s}"
            );
        }
        match classify(429, Some("7"), String::new(), None, now()) {
            Outcome::TryLater { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)))
            }
            other => panic!("{other:?}"),
        }
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
}
