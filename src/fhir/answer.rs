//! Reading a receiver's answer: the one reader every protocol's answers go through.
//! It says whether the answer confirms the message was taken, asks for it to be sent
//! again (with the same ids), or refuses it with the receiver's issues, each named by
//! the form field it points at.
//!
//! What confirms depends on what was sent:
//! - a transaction: only a `transaction-response` with one entry for each entry sent,
//!   each 2xx;
//! - a message to `$process-message`: a response message whose MessageHeader says
//!   `ok` (about the message sent, when it says which), an OperationOutcome without
//!   errors, or no body at all (an asynchronous receiver's 202);
//! - a message to Redox `$write`: any FHIR JSON without an error (Redox documents no
//!   body of its own), or none.
//!
//! A web page, text that is not JSON, or an empty answer to a transaction confirms
//! nothing: a proxy or a sign-in page may have answered, so it is sent again. Any
//! answer may start with a byte-order mark (.NET and IIS servers send one), write a
//! severity in capitals, or give one issue where a list belongs.

use super::paths::{Resource, entry_kind, field_of};
use crate::record::FieldRef;
use crate::untrusted::plain;
use serde_json::Value as Json;

/// How serious an issue is (FHIR's issue-severity).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl Severity {
    /// Read without regard to case; an unknown or missing severity is an error, so an
    /// answer is never taken as a confirmation by what it failed to say.
    pub fn read(text: Option<&str>) -> Severity {
        match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
            Some("fatal") => Severity::Fatal,
            Some("warning") => Severity::Warning,
            Some("information") => Severity::Information,
            _ => Severity::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// One issue the receiver raised.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub text: String,
    pub expression: Vec<String>,
    /// The form field the expression points at, when it can be told.
    pub field: Option<FieldRef>,
}

impl Issue {
    /// An error or fatal issue: the message was not taken.
    pub fn is_error(&self) -> bool {
        matches!(self.severity, Severity::Error | Severity::Fatal)
    }

    fn error(text: String, expression: Vec<String>) -> Issue {
        Issue {
            severity: Severity::Error,
            text: plain(&text),
            expression,
            field: None,
        }
    }
}

/// What the message was sent as, which decides what confirms it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentAs {
    /// A message to Redox `Immunization/$write`.
    RedoxWrite,
    /// A message to a FHIR server's `$process-message`.
    Message,
    /// A transaction made from the message.
    Transaction,
}

/// What an answer of HTTP 2xx says.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The receiver took the message.
    Confirmed,
    /// Nothing confirms the message was taken; it may be sent again with the same ids.
    SendAgain(String),
    /// The receiver did not take it (why, and its issues).
    Refused { reason: String, issues: Vec<Issue> },
}

/// The body without a byte-order mark or surrounding space.
fn text_of(body: &str) -> &str {
    body.trim_start_matches('\u{feff}').trim()
}

/// Reads a 2xx answer. `content_type` is the answer's header; `sent` is what was sent.
pub fn read_success(
    sent_as: SentAs,
    content_type: Option<&str>,
    body: &str,
    sent: Option<&str>,
) -> Verdict {
    let text = text_of(body);
    let html = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"))
        || text.starts_with('<');
    if html {
        return Verdict::SendAgain(
            "the answer is a web page, not FHIR (a proxy or a sign-in page answered?), so the server may never have seen the message; it is sent again with the same ids".into(),
        );
    }
    if text.is_empty() {
        return match sent_as {
            SentAs::Transaction => Verdict::SendAgain(
                "the server answered with no body; only a transaction-response confirms each dose, so it is sent again with the same ids".into(),
            ),
            SentAs::RedoxWrite | SentAs::Message => Verdict::Confirmed,
        };
    }
    let Ok(answer) = serde_json::from_str::<Json>(text) else {
        return Verdict::SendAgain(
            "the answer is not JSON, so it does not confirm the message was taken; it is sent again with the same ids".into(),
        );
    };
    let sent: Option<Json> = sent.and_then(|s| serde_json::from_str(s).ok());
    let sent = sent.as_ref();
    let kind = answer["resourceType"].as_str().unwrap_or_default();
    let bundle_type = answer["type"].as_str().unwrap_or_default();
    match (sent_as, kind, bundle_type) {
        (_, "OperationOutcome", _) => {
            let issues = outcome_issues(&answer, sent, None);
            match (refusal(&issues), sent_as) {
                (Some(reason), _) => Verdict::Refused { reason, issues },
                (None, SentAs::Transaction) => Verdict::Refused {
                    reason: "the server answered the transaction with an OperationOutcome, not a transaction-response, so it did not say each dose was written; check that base_url is the FHIR server's base".into(),
                    issues,
                },
                (None, _) => Verdict::Confirmed,
            }
        }
        (SentAs::Transaction, "Bundle", "transaction-response" | "batch-response") => {
            read_transaction_response(&answer, sent)
        }
        (SentAs::Transaction, _, _) => Verdict::Refused {
            reason: format!(
                "the server answered the transaction with {}, not a transaction-response, so it did not say each dose was written",
                what_it_is(kind, bundle_type)
            ),
            issues: Vec::new(),
        },
        (_, "Bundle", "message") => read_response_message(sent_as, &answer, sent),
        (SentAs::RedoxWrite, _, _) => Verdict::Confirmed,
        (SentAs::Message, _, _) => Verdict::Refused {
            reason: format!(
                "the server answered the message with {}, not a response message, so it did not say it took it; check that base_url is the FHIR server's base",
                what_it_is(kind, bundle_type)
            ),
            issues: Vec::new(),
        },
    }
}

/// "a searchset Bundle", "a Patient", "JSON that is not FHIR".
fn what_it_is(kind: &str, bundle_type: &str) -> String {
    match (kind, bundle_type) {
        ("", _) => "JSON that is not FHIR".into(),
        ("Bundle", "") => "a Bundle of no type".into(),
        ("Bundle", t) => format!("a {} Bundle", plain(t)),
        (k, _) => format!("a {}", plain(k)),
    }
}

/// The reason the issues refuse the message: its first error, or `None`.
fn refusal(issues: &[Issue]) -> Option<String> {
    issues.iter().find(|i| i.is_error()).map(|i| i.text.clone())
}

/// A transaction-response confirms only when it answers each entry sent, one for one,
/// each with a 2xx status; a batch-response means the server did not apply it as one
/// transaction.
fn read_transaction_response(answer: &Json, sent: Option<&Json>) -> Verdict {
    let Some(entries) = answer["entry"].as_array() else {
        return Verdict::Refused {
            reason: "the transaction-response has no list of entries, so it did not say each dose was written".into(),
            issues: Vec::new(),
        };
    };
    let issues = entry_issues(entries, sent);
    if let Some(reason) = refusal(&issues) {
        return Verdict::Refused { reason, issues };
    }
    if answer["type"] == "batch-response" {
        return Verdict::Refused {
            reason: "the server answered with a batch-response: it did not apply the transaction as one, so it cannot confirm the visit whole".into(),
            issues,
        };
    }
    let sent_count = sent.and_then(|s| s["entry"].as_array()).map(Vec::len);
    match sent_count {
        Some(count) if count != entries.len() => Verdict::Refused {
            reason: format!(
                "the transaction-response answers {} of the {count} entries sent, so it did not say each dose was written",
                entries.len()
            ),
            issues,
        },
        _ => Verdict::Confirmed,
    }
}

/// A response message (`$process-message`, synchronous): its MessageHeader's
/// `response.code` says ok, try again (`transient-error`) or refused (`fatal-error`,
/// with the OperationOutcome its `details` point at).
fn read_response_message(sent_as: SentAs, answer: &Json, sent: Option<&Json>) -> Verdict {
    let entries = answer["entry"].as_array().map_or(&[][..], Vec::as_slice);
    let header = entries
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "MessageHeader");
    let response = header.map(|h| &h["response"]).filter(|r| r.is_object());
    let Some(response) = response else {
        return match sent_as {
            SentAs::RedoxWrite => Verdict::Confirmed,
            _ => Verdict::Refused {
                reason: "the server answered with a message that is not a response to this one, so it did not say it took it".into(),
                issues: Vec::new(),
            },
        };
    };
    let sent_header = sent
        .and_then(|s| s["entry"].as_array())
        .and_then(|e| e.first())
        .and_then(|e| e["resource"]["id"].as_str());
    let answers = response["identifier"].as_str();
    if let (Some(ours), Some(theirs)) = (sent_header, answers)
        && ours != theirs.trim()
    {
        return Verdict::SendAgain(format!(
            "the response is about another message ({}), not this one; it is sent again with the same ids",
            plain(theirs)
        ));
    }
    let issues = response_issues(response, entries, sent);
    match response["code"].as_str().map(str::trim) {
        Some("ok") => match refusal(&issues) {
            Some(reason) => Verdict::Refused { reason, issues },
            None => Verdict::Confirmed,
        },
        Some("transient-error") => Verdict::SendAgain(format!(
            "the receiver had a passing problem (transient-error){}; it is sent again with the same ids",
            refusal(&issues)
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )),
        Some("fatal-error") => Verdict::Refused {
            reason: refusal(&issues).unwrap_or_else(|| {
                "the receiver refused the message (fatal-error) without saying why".into()
            }),
            issues,
        },
        other => Verdict::SendAgain(format!(
            "the response's code {} is not one FHIR knows, so it does not confirm the message was taken; it is sent again with the same ids",
            plain(&format!("{:?}", other.unwrap_or("(none)")))
        )),
    }
}

/// The issues of the OperationOutcome a response's `details` point at (contained in
/// the response message).
fn response_issues(response: &Json, entries: &[Json], sent: Option<&Json>) -> Vec<Issue> {
    let Some(reference) = response["details"]["reference"].as_str() else {
        return Vec::new();
    };
    entries
        .iter()
        .find(|e| {
            e["fullUrl"].as_str() == Some(reference)
                || e["resource"]["resourceType"]
                    .as_str()
                    .zip(e["resource"]["id"].as_str())
                    .is_some_and(|(kind, id)| reference.ends_with(&format!("{kind}/{id}")))
        })
        .map(|e| outcome_issues(&e["resource"], sent, None))
        .unwrap_or_default()
}

/// Every issue an answer holds, whatever its status: an OperationOutcome's, those of
/// the entries of a transaction- or batch-response that were not taken, or those a
/// response message's details give. `sent` is what was sent, which names entries and
/// tells list elements apart.
pub fn issues(body: &str, sent: Option<&str>) -> Vec<Issue> {
    let Ok(answer) = serde_json::from_str::<Json>(text_of(body)) else {
        return Vec::new();
    };
    let sent: Option<Json> = sent.and_then(|s| serde_json::from_str(s).ok());
    let sent = sent.as_ref();
    match (answer["resourceType"].as_str(), answer["type"].as_str()) {
        (Some("OperationOutcome"), _) => outcome_issues(&answer, sent, None),
        (Some("Bundle"), Some("transaction-response" | "batch-response")) => answer["entry"]
            .as_array()
            .map(|entries| entry_issues(entries, sent))
            .unwrap_or_default(),
        (Some("Bundle"), Some("message")) => {
            let entries = answer["entry"].as_array().map_or(&[][..], Vec::as_slice);
            entries
                .iter()
                .map(|e| &e["resource"]["response"])
                .find(|r| r.is_object())
                .map(|response| response_issues(response, entries, sent))
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// The issues of the entries of a transaction- or batch-response whose status is not
/// 2xx.
fn entry_issues(entries: &[Json], sent: Option<&Json>) -> Vec<Issue> {
    let mut issues = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let status = entry["response"]["status"].as_str().unwrap_or_default();
        if status.trim_start().starts_with('2') {
            continue;
        }
        let found = outcome_issues(&entry["response"]["outcome"], sent, Some(index));
        let named = found.iter().any(Issue::is_error);
        issues.extend(found);
        if named {
            continue;
        }
        let what = sent
            .and_then(|s| s["entry"].as_array())
            .map_or_else(|| format!("entry {}", index + 1), |e| entry_name(e, index));
        issues.push(Issue::error(
            format!(
                "the server did not take {what} ({})",
                if status.trim().is_empty() {
                    "no status given"
                } else {
                    status
                }
            ),
            vec![format!("Bundle.entry[{index}]")],
        ));
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

/// The issues of an OperationOutcome (one `issue` object is read as a list of one).
/// Within a transaction-response entry (`entry`), an expression that starts at the
/// resource is read as that entry's.
fn outcome_issues(value: &Json, sent: Option<&Json>, entry: Option<usize>) -> Vec<Issue> {
    if value["resourceType"] != "OperationOutcome" {
        return Vec::new();
    }
    let listed: Vec<&Json> = match &value["issue"] {
        Json::Array(list) => list.iter().collect(),
        one @ Json::Object(_) => vec![one],
        _ => Vec::new(),
    };
    listed
        .into_iter()
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
                .or_else(|| i["details"]["coding"][0]["display"].as_str())
                .or_else(|| i["code"].as_str())
                .unwrap_or("no details given");
            Issue {
                severity: Severity::read(i["severity"].as_str()),
                field: expression.iter().find_map(|e| field_of(e, sent)),
                text: plain(text),
                expression: expression.iter().map(|e| plain(e)).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FieldId;

    #[test]
    fn severities_are_read_without_regard_to_case() {
        assert_eq!(Severity::read(Some("ERROR")), Severity::Error);
        assert_eq!(Severity::read(Some(" Fatal ")), Severity::Fatal);
        assert_eq!(Severity::read(Some("Information")), Severity::Information);
        assert_eq!(Severity::read(Some("odd")), Severity::Error);
        assert_eq!(Severity::read(None), Severity::Error);
    }

    #[test]
    fn operation_outcome_issues_map_to_fields() {
        let body = r#"{"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "required", "diagnostics": "Lot number is required", "expression": ["Bundle.entry[3].resource.lotNumber"]},
            {"severity": "error", "code": "value", "details": {"text": "Bad birth date"}, "expression": ["Patient.birthDate"]},
            {"severity": "warning", "code": "informational", "location": ["Bundle.entry[1].resource.name[0].given[1]"]},
            {"severity": "error", "code": "processing"}
        ]}"#;
        let found = issues(body, None);
        assert_eq!(found.len(), 4);
        assert_eq!(found[0].field, Some(FieldRef::dose(1, FieldId::Lot)));
        assert_eq!(found[0].text, "Lot number is required");
        assert_eq!(found[1].field, Some(FieldRef::patient(FieldId::BirthDate)));
        assert_eq!(found[1].text, "Bad birth date");
        assert_eq!(found[2].field, Some(FieldRef::patient(FieldId::Given)));
        assert_eq!(found[3].field, None);
        assert_eq!(found[3].text, "processing");
        assert!(issues("not json", None).is_empty());
        assert!(issues("{\"resourceType\": \"Bundle\"}", None).is_empty());
        let one = "\u{feff}{\"resourceType\": \"OperationOutcome\", \"issue\": {\"severity\": \"ERROR\", \"diagnostics\": \"no\"}}";
        let found = issues(one, None);
        assert_eq!(found.len(), 1);
        assert!(found[0].is_error());
    }
}
