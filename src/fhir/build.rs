//! Visit -> FHIR R4 message Bundle (Redox `Immunization-New`). Pure and deterministic
//! given the time and an id source.

use super::ids::DerivedIds;
use super::ids::IdSource;
use super::paths::{FIELD_PATHS, FieldPath, Resource, write};
use super::settings::BundleSettings;
use crate::clock::ClinicTime;
use crate::record::values::{DoseContext, Expectation, Values};
use crate::record::{Finding, Severity, Visit, interpret};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

pub const EVENT_SYSTEM: &str = "urn:redox:event-type";
pub const EVENT_CODE: &str = "Immunization-New";
const US_CORE_PATIENT: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient";
const US_CORE_IMMUNIZATION: &str =
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-immunization";

/// A visit that cannot become a bundle.
#[derive(Debug, thiserror::Error)]
#[error("the visit has {} error(s); fix them before it can be sent", .0.len())]
pub struct InvalidVisit(pub Vec<Finding>);

/// A message bundle, as the JSON that is shown, stored and sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    pub id: String,
    pub json: Json,
}

/// FHIR's element order, in which each resource's elements are written.
const PATIENT_ORDER: [&str; 12] = [
    "resourceType",
    "id",
    "meta",
    "extension",
    "identifier",
    "name",
    "telecom",
    "gender",
    "birthDate",
    "address",
    "multipleBirthInteger",
    "contact",
];
const IMMUNIZATION_ORDER: [&str; 26] = [
    "resourceType",
    "id",
    "meta",
    "identifier",
    "status",
    "statusReason",
    "vaccineCode",
    "patient",
    "occurrenceDateTime",
    "recorded",
    "primarySource",
    "reportOrigin",
    "location",
    "manufacturer",
    "lotNumber",
    "expirationDate",
    "site",
    "route",
    "doseQuantity",
    "performer",
    "note",
    "education",
    "programEligibility",
    "fundingSource",
    "reaction",
    "protocolApplied",
];

/// Builds the message bundle for a visit, or lists the errors that prevent it.
pub fn build_bundle(
    visit: &Visit,
    settings: &BundleSettings,
    now: ClinicTime,
    ids: &mut dyn IdSource,
) -> Result<Bundle, InvalidVisit> {
    let interpreted = interpret(visit, now, settings.rules);
    if interpreted.has_errors() {
        let errors = interpreted
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        return Err(InvalidVisit(errors));
    }
    let timestamp = now.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
    // The message's ids first, then the record's (see MESSAGE_IDS).
    let bundle_id = ids.next_id();
    let header_id = ids.next_id();
    // The record's first id stays taken, so the Immunizations' ids never move.
    let _ = ids.next_id();
    let mrn = interpreted
        .patient
        .text(crate::record::FieldId::Mrn)
        .unwrap_or_default();
    let patient_id = super::ids::patient_id(&settings.mrn_system, mrn);
    let patient_url = urn(patient_id);
    let mut immunizations: Vec<(Uuid, Json)> = interpreted
        .doses
        .iter()
        .map(|(dose, ctx)| {
            let id = ids.next_id();
            let resource = immunization(id, dose, *ctx, &patient_url, &timestamp, settings);
            (id, resource)
        })
        .collect();
    let referenced = super::references::link(&mut immunizations, settings, ids);
    let mut source = Map::new();
    if let Some(name) = &settings.source_name {
        source.insert("name".into(), json!(name));
    }
    source.insert("software".into(), json!("vaxentry"));
    source.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    source.insert("endpoint".into(), json!(settings.source_endpoint));
    let mut header = json!({
        "resourceType": "MessageHeader",
        "id": header_id.to_string(),
        "eventCoding": {"system": EVENT_SYSTEM, "code": EVENT_CODE},
        "source": source,
    });
    if let Some(org) = referenced.organization {
        header["responsible"] = json!({"reference": urn(org)});
    }
    header["focus"] = json!(
        immunizations
            .iter()
            .map(|(id, _)| json!({"reference": urn(*id)}))
            .collect::<Vec<_>>()
    );
    let mut entry = vec![
        json!({"fullUrl": urn(header_id), "resource": header}),
        json!({
            "fullUrl": patient_url,
            "resource": patient(patient_id, &interpreted.patient, settings),
        }),
    ];
    entry.extend(
        immunizations
            .into_iter()
            .chain(referenced.entries)
            .map(|(id, resource)| json!({"fullUrl": urn(id), "resource": resource})),
    );
    Ok(Bundle {
        id: bundle_id.to_string(),
        json: json!({
            "resourceType": "Bundle",
            "id": bundle_id.to_string(),
            "identifier": {"system": "urn:ietf:rfc:3986", "value": urn(bundle_id)},
            "type": "message",
            "timestamp": timestamp,
            "entry": entry,
        }),
    })
}

fn urn(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

/// Writes the rows of `resource` kind whose field `applies` says should go in.
fn write_fields(
    into: &mut Json,
    kind: Resource,
    values: &Values,
    applies: impl Fn(&FieldPath) -> bool,
    settings: &BundleSettings,
) {
    for row in FIELD_PATHS
        .iter()
        .filter(|r| r.resource == kind && applies(r))
    {
        write(into, row, values.get(row.field), settings);
    }
}

/// Puts an object's keys in `order` (keys not listed go last, as they were).
fn in_order(resource: Json, order: &[&str]) -> Json {
    let Json::Object(object) = resource else {
        return resource;
    };
    let mut entries: Vec<(String, Json)> = object.into_iter().collect();
    entries.sort_by_key(|(key, _)| order.iter().position(|k| k == key).unwrap_or(order.len()));
    Json::Object(entries.into_iter().collect())
}

fn patient(id: Uuid, values: &Values, settings: &BundleSettings) -> Json {
    let mut resource = json!({
        "resourceType": "Patient",
        "id": id.to_string(),
        "meta": {"profile": [US_CORE_PATIENT]},
    });
    write_fields(&mut resource, Resource::Patient, values, |_| true, settings);
    in_order(resource, &PATIENT_ORDER)
}

fn immunization(
    id: Uuid,
    values: &Values,
    ctx: DoseContext,
    patient_url: &str,
    recorded: &str,
    settings: &BundleSettings,
) -> Json {
    let mut resource = json!({
        "resourceType": "Immunization",
        "id": id.to_string(),
        "meta": {"profile": [US_CORE_IMMUNIZATION]},
        "identifier": [{"system": settings.immunization_id_system, "value": id.to_string()}],
        "patient": {"reference": patient_url},
        "recorded": recorded,
    });
    // Fields that do not apply to this dose (e.g. lot on a dose not given) are left out.
    let applies = |row: &FieldPath| ctx.expectation(row.field.spec()) != Expectation::NotExpected;
    write_fields(
        &mut resource,
        Resource::Immunization,
        values,
        applies,
        settings,
    );
    in_order(resource, &IMMUNIZATION_ORDER)
}

/// A visit's message: the exact JSON that is shown, stored and sent, and its id.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub bundle_id: String,
    pub json: String,
}

/// Builds the message of visit `visit_id` as of `now`. The ids derive from the visit
/// id, so the same visit always makes the same message ids.
pub fn message_for(
    visit: &Visit,
    settings: &BundleSettings,
    now: ClinicTime,
    visit_id: Uuid,
) -> Result<Message, InvalidVisit> {
    message_with(visit, settings, now, DerivedIds::new(visit_id))
}

fn message_with(
    visit: &Visit,
    settings: &BundleSettings,
    now: ClinicTime,
    mut ids: DerivedIds,
) -> Result<Message, InvalidVisit> {
    let bundle = build_bundle(visit, settings, now, &mut ids)?;
    Ok(Message {
        json: to_json(&bundle),
        bundle_id: bundle.id,
    })
}

/// The bundle as the exact JSON that is shown, stored and sent. (A JSON value always
/// prints; `{:#}` is serde_json's pretty form.)
pub fn to_json(bundle: &Bundle) -> String {
    format!("{:#}\n", bundle.json)
}
