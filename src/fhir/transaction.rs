//! A visit's message as a FHIR `transaction` Bundle, for servers without messaging
//! (`[endpoint] mode = "transaction"`). The message stays the record; the transaction
//! is made from it when it is sent, the same way every time, so a retry sends the
//! same transaction. Every write is conditional on a stable identifier, so sending it
//! twice changes nothing the second time:
//! - the Patient: in a visit's first message, a conditional create (`ifNoneExist:
//!   identifier=…`), so a patient the server knows is used as it is; in a message sent
//!   again (an amendment corrects the name or birth date), a conditional update (`PUT
//!   Patient?identifier=…`), so the server's Patient is corrected too;
//! - each Immunization: in a visit's first message, a conditional create like the
//!   Patient, so sending it again leaves the dose (and its version) as it is; in a
//!   message sent again (an amendment, a void), a conditional update (`PUT
//!   Immunization?identifier=…`) that replaces the dose the server has;
//! - a Practitioner, Location or Organization with an identifier (NPI, facility or
//!   clinic identifier): a conditional create. One without an identifier cannot be
//!   matched, so it is left out and the references to it keep their display text.
//!
//! References stay the entries' `urn:uuid` full URLs, which the server resolves.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value as Json, json};

/// What a search value's URL may not hold as it is. `|` separates a token's system
/// from its value, and `:` and `/` are common in systems, so they stay.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A token search value `system|value` with FHIR's escapes: `\`, `|`, `,` and `$` in
/// either part are preceded by `\`.
pub fn token(system: &str, value: &str) -> String {
    let escape = |part: &str| {
        let mut out = String::with_capacity(part.len());
        for c in part.chars() {
            if matches!(c, '\\' | '|' | ',' | '$') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    format!("{}|{}", escape(system), escape(value))
}

/// [`token`], ready for a URL's query.
pub fn token_query(system: &str, value: &str) -> String {
    utf8_percent_encode(&token(system, value), QUERY_VALUE).to_string()
}

/// A resource's first identifier with both a system and a value.
pub fn first_identifier(resource: &Json) -> Option<(&str, &str)> {
    let identifiers = match &resource["identifier"] {
        Json::Array(list) => list.iter().collect::<Vec<_>>(),
        single @ Json::Object(_) => vec![single],
        _ => Vec::new(),
    };
    identifiers.into_iter().find_map(|i| {
        let system = i["system"].as_str().filter(|s| !s.is_empty())?;
        let value = i["value"].as_str().filter(|v| !v.is_empty())?;
        Some((system, value))
    })
}

/// Why a message cannot be made a transaction (only a damaged stored message).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("the stored message cannot be sent as a transaction: {0}")]
pub struct NotATransaction(String);

/// Whether a message is a visit's first, whose doses the server may not have yet, or
/// one sent again, which replaces them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sending {
    First,
    Again,
}

impl Sending {
    /// Which message `bundle_id` is of visit `visit`.
    pub fn of(visit: uuid::Uuid, bundle_id: &str) -> Sending {
        if super::ids::is_first_message(visit, bundle_id) {
            Sending::First
        } else {
            Sending::Again
        }
    }
}

/// The transaction for a message bundle: the same id and timestamp, every entry but
/// the MessageHeader (and the resources that cannot be matched), each with its
/// conditional request.
pub fn transaction_of(message: &Json, sending: Sending) -> Result<Json, NotATransaction> {
    let wrong = |why: &str| NotATransaction(why.to_string());
    let entries = message["entry"]
        .as_array()
        .ok_or_else(|| wrong("it has no entries"))?;
    // Full URL -> the display its references keep, for each entry left out.
    let mut left_out: Map<String, Json> = Map::new();
    let mut kept = Vec::new();
    for entry in entries {
        let resource = &entry["resource"];
        let kind = resource["resourceType"].as_str().unwrap_or_default();
        let full_url = entry["fullUrl"].as_str().unwrap_or_default();
        let request = match (kind, first_identifier(resource)) {
            ("MessageHeader", _) => None,
            ("Patient" | "Immunization", Some((system, value))) if sending == Sending::Again => {
                Some(json!({
                    "method": "PUT",
                    "url": format!("{kind}?identifier={}", token_query(system, value)),
                }))
            }
            (
                "Patient" | "Immunization" | "Practitioner" | "Location" | "Organization",
                Some((system, value)),
            ) => Some(json!({
                "method": "POST",
                "url": kind,
                "ifNoneExist": format!("identifier={}", token_query(system, value)),
            })),
            ("Patient" | "Immunization", None) => {
                return Err(wrong(&format!(
                    "its {kind} has no identifier to match it by"
                )));
            }
            ("Practitioner" | "Location" | "Organization", None) => None,
            (other, _) => return Err(wrong(&format!("it holds a {other:?} entry"))),
        };
        match request {
            Some(request) => kept.push((full_url, resource, request)),
            None if kind != "MessageHeader" => {
                left_out.insert(full_url.to_string(), display_of(resource));
            }
            None => {}
        }
    }
    let entry: Vec<Json> = kept
        .into_iter()
        .map(|(full_url, resource, request)| {
            let mut resource = resource.clone();
            if let Some(object) = resource.as_object_mut() {
                // The server names what it stores; the identifier says which it is.
                object.shift_remove("id");
            }
            keep_display_only(&mut resource, &left_out);
            json!({"fullUrl": full_url, "resource": resource, "request": request})
        })
        .collect();
    let mut bundle = Map::new();
    bundle.insert("resourceType".into(), json!("Bundle"));
    for key in ["id", "identifier"] {
        if let Some(value) = message.get(key) {
            bundle.insert(key.into(), value.clone());
        }
    }
    bundle.insert("type".into(), json!("transaction"));
    if let Some(timestamp) = message.get("timestamp") {
        bundle.insert("timestamp".into(), timestamp.clone());
    }
    bundle.insert("entry".into(), Json::Array(entry));
    Ok(Json::Object(bundle))
}

/// A resource's name for a reference's display.
fn display_of(resource: &Json) -> Json {
    resource["name"]
        .as_str()
        .or_else(|| resource["name"][0]["text"].as_str())
        .map_or(Json::Null, |name| json!(name))
}

/// Every reference to an entry left out keeps only what it says in words (its display,
/// and its identifier when it has one).
fn keep_display_only(value: &mut Json, left_out: &Map<String, Json>) {
    match value {
        Json::Object(object) => {
            let target = object
                .get("reference")
                .and_then(Json::as_str)
                .and_then(|r| left_out.get(r))
                .cloned();
            if let Some(display) = target {
                object.shift_remove("reference");
                if !object.contains_key("display") && !display.is_null() {
                    object.insert("display".into(), display);
                }
            }
            object
                .values_mut()
                .for_each(|v| keep_display_only(v, left_out));
        }
        Json::Array(items) => items
            .iter_mut()
            .for_each(|v| keep_display_only(v, left_out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Json {
        json!({
            "resourceType": "Bundle", "id": "b1", "type": "message",
            "timestamp": "2026-11-25T15:30:00-05:00",
            "entry": [
                {"fullUrl": "urn:uuid:h", "resource": {"resourceType": "MessageHeader", "id": "h"}},
                {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p",
                    "identifier": [{"system": "urn:oid:1.2", "value": "MRN 1,2"}]}},
                {"fullUrl": "urn:uuid:i", "resource": {"resourceType": "Immunization", "id": "i",
                    "identifier": [{"system": "urn:oid:1.3", "value": "d-1"}],
                    "patient": {"reference": "urn:uuid:p"},
                    "performer": [{"actor": {"reference": "urn:uuid:pr", "display": "Ann Lee"}},
                                  {"actor": {"reference": "urn:uuid:np", "display": "Bo Chan"}}],
                    "location": {"reference": "urn:uuid:l"}}},
                {"fullUrl": "urn:uuid:pr", "resource": {"resourceType": "Practitioner", "id": "pr",
                    "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}]}},
                {"fullUrl": "urn:uuid:np", "resource": {"resourceType": "Practitioner", "id": "np",
                    "name": [{"text": "Bo Chan"}]}},
                {"fullUrl": "urn:uuid:l", "resource": {"resourceType": "Location", "id": "l",
                    "name": "Main St clinic"}},
            ]
        })
    }

    #[test]
    fn each_entry_is_written_on_its_identifier() {
        let tx = transaction_of(&message(), Sending::Again).unwrap();
        assert_eq!(tx["type"], "transaction");
        assert_eq!(tx["id"], "b1");
        assert_eq!(tx["timestamp"], "2026-11-25T15:30:00-05:00");
        let entries = tx["entry"].as_array().unwrap();
        let kinds: Vec<_> = entries
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["Patient", "Immunization", "Practitioner"]);
        // Sent again (an amendment), the Patient and the doses replace the server's.
        assert_eq!(
            entries[0]["request"],
            json!({"method": "PUT", "url": "Patient?identifier=urn:oid:1.2|MRN%201%5C,2"})
        );
        assert_eq!(
            entries[1]["request"],
            json!({"method": "PUT", "url": "Immunization?identifier=urn:oid:1.3|d-1"})
        );
        assert_eq!(
            entries[2]["request"]["ifNoneExist"],
            "identifier=http://hl7.org/fhir/sid/us-npi|1234567893"
        );
        assert!(entries.iter().all(|e| e["resource"].get("id").is_none()));
        // A first message creates its Patient and doses only if the server has none
        // by that identifier.
        let first = transaction_of(&message(), Sending::First).unwrap();
        assert_eq!(
            first["entry"][0]["request"],
            json!({"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:oid:1.2|MRN%201%5C,2"})
        );
        assert_eq!(
            first["entry"][1]["request"],
            json!({"method": "POST", "url": "Immunization", "ifNoneExist": "identifier=urn:oid:1.3|d-1"})
        );
        // References between kept entries stay; to left-out ones, only words remain.
        let immunization = &entries[1]["resource"];
        assert_eq!(immunization["patient"]["reference"], "urn:uuid:p");
        assert_eq!(
            immunization["performer"][0]["actor"]["reference"],
            "urn:uuid:pr"
        );
        assert_eq!(
            immunization["performer"][1]["actor"],
            json!({"display": "Bo Chan"})
        );
        assert_eq!(
            immunization["location"],
            json!({"display": "Main St clinic"})
        );
    }

    #[test]
    fn search_values_are_escaped_for_fhir_and_for_the_url() {
        assert_eq!(token_query("urn:oid:1.2", "A-1"), "urn:oid:1.2|A-1");
        assert_eq!(token_query("s", "a|b,c$d\\e"), "s|a%5C|b%5C,c%5C$d%5C%5Ce");
        assert_eq!(token_query("s", "a b&c=d#e+f"), "s|a%20b%26c%3Dd%23e%2Bf");
    }

    #[test]
    fn a_damaged_message_is_an_error_not_a_guess() {
        assert!(transaction_of(&json!({"resourceType": "Bundle"}), Sending::First).is_err());
        let mut no_mrn = message();
        no_mrn["entry"][1]["resource"]
            .as_object_mut()
            .unwrap()
            .remove("identifier");
        let err = transaction_of(&no_mrn, Sending::First).unwrap_err();
        assert!(
            err.to_string().contains("Patient has no identifier"),
            "{err}"
        );
        let mut odd = message();
        odd["entry"][1]["resource"]["resourceType"] = json!("Observation");
        assert!(transaction_of(&odd, Sending::First).is_err());
    }
}
