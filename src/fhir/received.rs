//! Records that came from elsewhere: a FHIR Bundle (a `message` such as Redox's
//! `$write` and vaxentry's own export, a `transaction` or `batch`, a `collection` or
//! `searchset`) read into visits, one per Patient and date, through the same table of
//! paths the builder writes ([`super::paths`]). What cannot be read is reported with
//! its path and left out, never guessed.

use super::paths::{FIELD_PATHS, Resource, read, text_of};
use super::settings::BundleSettings;
use crate::record::{FieldId, Fields, Kind, Visit};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The Bundle types a record can come in.
const KINDS: [&str; 5] = ["message", "transaction", "batch", "collection", "searchset"];

/// Elements read other than through the table (or that say nothing about the
/// dose): not reported as left out.
const READ_APART: [&str; 9] = [
    "resourceType",
    "id",
    "meta",
    "text",
    "identifier",
    "patient",
    "recorded",
    "performer",
    "location",
];

/// A visit read from a bundle: its doses' identifiers (`system|value`), and the key
/// that tells it apart when the same bundle comes again.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedVisit {
    pub visit: Visit,
    pub identifiers: Vec<Option<String>>,
    pub key: String,
}

/// What a bundle held.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    pub visits: Vec<ReceivedVisit>,
    /// What was left out, each with its path and why.
    pub left_out: Vec<String>,
}

/// Reads a bundle's Immunizations with their Patients into visits.
pub fn read_bundle(text: &str, settings: &BundleSettings) -> Result<Read, String> {
    let bundle: Json = serde_json::from_str(text).map_err(|e| format!("not a JSON bundle: {e}"))?;
    read_parsed(&bundle, text, settings)
}

/// [`read_bundle`] of a bundle already parsed from `text`.
pub fn read_parsed(bundle: &Json, text: &str, settings: &BundleSettings) -> Result<Read, String> {
    if bundle.get("resourceType").and_then(Json::as_str) != Some("Bundle") {
        return Err("not a FHIR Bundle: resourceType is not \"Bundle\"".into());
    }
    let kind = bundle.get("type").and_then(Json::as_str).unwrap_or("");
    if !KINDS.contains(&kind) {
        return Err(format!(
            "a Bundle of type \"{kind}\" holds no records to receive; a message, transaction, batch, collection or searchset does"
        ));
    }
    let bundle_key = bundle
        .get("id")
        .or_else(|| bundle.pointer("/identifier/value"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("sha256:{:x}", Sha256::digest(text.as_bytes())));
    let entries: Vec<&Json> = bundle
        .get("entry")
        .and_then(Json::as_array)
        .map(|e| e.iter().collect())
        .unwrap_or_default();
    let resource = |i: usize| entries.get(i).and_then(|e| e.get("resource"));
    // A reference, as another entry's fullUrl or as Type/id.
    let find = |reference: &str| {
        entries.iter().position(|e| {
            let r = e.get("resource");
            e.get("fullUrl").and_then(Json::as_str) == Some(reference)
                || r.is_some_and(|r| {
                    let (t, id) = (r.get("resourceType"), r.get("id"));
                    matches!((t.and_then(Json::as_str), id.and_then(Json::as_str)),
                        (Some(t), Some(id)) if reference == format!("{t}/{id}"))
                })
        })
    };
    let mut left_out = Vec::new();
    let mut visits: Vec<ReceivedVisit> = Vec::new();
    for i in 0..entries.len() {
        let Some(imm) = resource(i).filter(|r| r["resourceType"] == "Immunization") else {
            continue;
        };
        let at = format!("Bundle.entry[{i}].resource");
        let patient_at = imm.pointer("/patient/reference").and_then(Json::as_str);
        let Some(p) = patient_at.and_then(find) else {
            left_out.push(format!(
                "{at}.patient: the Patient it names is not in the bundle; the dose is left out"
            ));
            continue;
        };
        let patient_json = resource(p).unwrap_or(&Json::Null);
        let patient_path = format!("Bundle.entry[{p}].resource");
        let patient = fields_of(
            patient_json,
            Resource::Patient,
            settings,
            &patient_path,
            &mut left_out,
        );
        let mrn = patient.get(FieldId::Mrn).trim().to_string();
        if mrn.is_empty() {
            left_out.push(format!(
                "{patient_path}.identifier: the Patient has no MRN, so its doses cannot be kept under a patient; they are left out"
            ));
            continue;
        }
        let mut dose = fields_of(imm, Resource::Immunization, settings, &at, &mut left_out);
        for (field, reference, named) in [
            (
                FieldId::Performer,
                "/performer/0/actor/reference",
                "/name/0/text",
            ),
            (FieldId::Location, "/location/reference", "/name"),
        ] {
            if dose.get(field).is_empty()
                && let Some(name) = imm
                    .pointer(reference)
                    .and_then(Json::as_str)
                    .and_then(find)
                    .and_then(|r| resource(r)?.pointer(named)?.as_str())
            {
                dose.set(field, name);
            }
        }
        let day = dose
            .get(FieldId::Administered)
            .get(..10)
            .unwrap_or("")
            .to_string();
        let identifier = imm.pointer("/identifier/0").and_then(|id| {
            Some(format!(
                "{}|{}",
                id.get("system").and_then(Json::as_str).unwrap_or(""),
                id.get("value")?.as_str()?
            ))
        });
        let key = format!("{bundle_key}|{mrn}|{day}");
        match visits.iter_mut().find(|v| v.key == key) {
            Some(v) => {
                v.visit.doses.push(dose);
                v.identifiers.push(identifier);
            }
            None => visits.push(ReceivedVisit {
                visit: Visit {
                    patient,
                    doses: vec![dose],
                },
                identifiers: vec![identifier],
                key,
            }),
        }
    }
    Ok(Read { visits, left_out })
}

/// The fields of `resource` that the table maps, and what of it is left out.
fn fields_of(
    resource: &Json,
    kind: Resource,
    settings: &BundleSettings,
    at: &str,
    left_out: &mut Vec<String>,
) -> Fields {
    let mut fields = Fields::default();
    let rows = FIELD_PATHS.iter().filter(|r| r.resource == kind);
    for row in rows.clone() {
        let Some(json) = read(resource, row, settings) else {
            continue;
        };
        match text_of(json, row) {
            Ok(text) if !text.trim().is_empty() => {
                // Another system's text, shown here: one plain line (no terminal
                // escapes, no bidi overrides), and no longer than the field holds.
                let most = match row.field.spec().kind {
                    Kind::Text | Kind::Name => row.field.max_len(),
                    _ => 4096,
                };
                let plain = crate::untrusted::plain_within(&text, most);
                if plain.chars().count() > most {
                    left_out.push(format!(
                        "{at}.{}: longer than the {most} characters the field holds; cut",
                        row.path
                    ));
                }
                fields.set(row.field, plain)
            }
            Ok(_) => {}
            Err(why) => left_out.push(format!("{at}.{}: {why}", row.path)),
        }
    }
    let mapped: Vec<&str> = rows
        .map(|r| r.path.split(['.', '[']).next().unwrap_or(""))
        .collect();
    if let Some(object) = resource.as_object() {
        for key in object.keys() {
            if !mapped.contains(&key.as_str()) && !READ_APART.contains(&key.as_str()) {
                left_out.push(format!("{at}.{key}: not read"));
            }
        }
    }
    fields
}
