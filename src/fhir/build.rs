//! Visit -> FHIR R4 message Bundle (Redox `Immunization-New`). Pure and deterministic
//! given the time and an id source.

use super::model::*;
use crate::clock::ClinicTime;
use crate::codes::{Code, TableId, table};
use crate::record::values::{DoseContext, Expectation, Value, Values};
use crate::record::{FieldId, Finding, Severity, Visit, interpret};
use uuid::Uuid;

pub const EVENT_SYSTEM: &str = "urn:redox:event-type";
pub const EVENT_CODE: &str = "Immunization-New";
pub const CVX_URI: &str = "http://hl7.org/fhir/sid/cvx";
pub const CVX_OID: &str = "urn:oid:2.16.840.1.113883.6.59";
const NDC_SYSTEM: &str = "http://hl7.org/fhir/sid/ndc";
const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
const PERFORMER_FUNCTION: &str = "http://terminology.hl7.org/CodeSystem/v2-0443";
const US_CORE_PATIENT: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient";
const US_CORE_IMMUNIZATION: &str =
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-immunization";
const US_CORE_RACE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";
const US_CORE_ETHNICITY: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity";
/// CDC's index of current Vaccine Information Statements: Immunization.education needs
/// a document type or reference, and the edition date identifies the statement.
const VIS_REFERENCE: &str = "https://www.cdc.gov/vaccines/hcp/current-vis/";

/// Which CVX system URI the bundle uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CvxSystem {
    /// `http://hl7.org/fhir/sid/cvx` (HL7, US Core).
    Uri,
    /// `urn:oid:2.16.840.1.113883.6.59` (as in Redox's examples).
    Oid,
}

/// What the bundle takes from configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleSettings {
    pub source_name: Option<String>,
    pub source_endpoint: String,
    pub mrn_system: String,
    pub immunization_id_system: String,
    pub cvx_system: CvxSystem,
}

/// Where new resource ids come from.
pub trait IdSource {
    fn next_id(&mut self) -> Uuid;
}

/// Random version-4 UUIDs.
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&mut self) -> Uuid {
        Uuid::new_v4()
    }
}

/// Ids derived from one base id (a visit's): building the same visit's message again
/// gives the same Bundle.id, MessageHeader.id and resource ids.
pub struct DerivedIds {
    base: Uuid,
    next: u32,
}

impl DerivedIds {
    pub fn new(base: Uuid) -> DerivedIds {
        DerivedIds { base, next: 0 }
    }
}

impl IdSource for DerivedIds {
    fn next_id(&mut self) -> Uuid {
        self.next += 1;
        Uuid::new_v5(&self.base, &self.next.to_be_bytes())
    }
}

/// 00000000-0000-0000-0000-000000000001, ...2, ...: for tests.
pub struct SequentialIds(pub u128);

impl IdSource for SequentialIds {
    fn next_id(&mut self) -> Uuid {
        self.0 += 1;
        Uuid::from_u128(self.0)
    }
}

/// A visit that cannot become a bundle.
#[derive(Debug, thiserror::Error)]
#[error("the visit has {} error(s); fix them before it can be sent", .0.len())]
pub struct InvalidVisit(pub Vec<Finding>);

/// Builds the message bundle for a visit, or lists the errors that prevent it.
pub fn build_bundle(
    visit: &Visit,
    settings: &BundleSettings,
    now: ClinicTime,
    ids: &mut dyn IdSource,
) -> Result<Bundle, InvalidVisit> {
    let interpreted = interpret(visit, now);
    if interpreted.has_errors() {
        let errors = interpreted
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        return Err(InvalidVisit(errors));
    }
    let timestamp = now.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
    let bundle_id = ids.next_id();
    let header_id = ids.next_id();
    let patient_id = ids.next_id();
    let patient_url = urn(patient_id);
    let immunizations: Vec<(Uuid, Immunization)> = interpreted
        .doses
        .iter()
        .map(|(dose, ctx)| {
            let id = ids.next_id();
            (
                id,
                immunization(id, dose, *ctx, &patient_url, &timestamp, settings),
            )
        })
        .collect();

    let header = MessageHeader {
        id: header_id.to_string(),
        event_coding: Coding {
            system: EVENT_SYSTEM.into(),
            code: EVENT_CODE.into(),
            display: None,
        },
        source: MessageSource {
            name: settings.source_name.clone(),
            software: "vaxentry",
            version: env!("CARGO_PKG_VERSION"),
            endpoint: settings.source_endpoint.clone(),
        },
        focus: immunizations
            .iter()
            .map(|(id, _)| Reference {
                reference: Some(urn(*id)),
                ..Reference::default()
            })
            .collect(),
    };
    let mut entry = vec![
        Entry {
            full_url: urn(header_id),
            resource: Resource::MessageHeader(header),
        },
        Entry {
            full_url: patient_url,
            resource: Resource::Patient(patient(patient_id, &interpreted.patient, settings)),
        },
    ];
    entry.extend(immunizations.into_iter().map(|(id, imm)| Entry {
        full_url: urn(id),
        resource: Resource::Immunization(Box::new(imm)),
    }));
    Ok(Bundle {
        resource_type: "Bundle",
        id: bundle_id.to_string(),
        identifier: Identifier {
            system: "urn:ietf:rfc:3986".into(),
            value: urn(bundle_id),
        },
        kind: "message",
        timestamp,
        entry,
    })
}

fn urn(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

fn text(values: &Values, id: FieldId) -> Option<String> {
    values.text(id).map(str::to_string)
}

fn coding(table_id: TableId, code: &Code) -> Coding {
    let t = table(table_id);
    Coding {
        system: t.system_of(code).to_string(),
        code: code.code.clone(),
        display: Some(code.display.clone()),
    }
}

fn patient(id: Uuid, p: &Values, settings: &BundleSettings) -> Patient {
    let mut extension = Vec::new();
    for (field, table_id, url) in [
        (FieldId::Race, TableId::Race, US_CORE_RACE),
        (FieldId::Ethnicity, TableId::Ethnicity, US_CORE_ETHNICITY),
    ] {
        if let Some(code) = p.code(field) {
            extension.push(Extension {
                url: url.into(),
                value_coding: None,
                value_string: None,
                extension: vec![
                    Extension {
                        url: "ombCategory".into(),
                        value_coding: Some(coding(table_id, code)),
                        value_string: None,
                        extension: vec![],
                    },
                    Extension {
                        url: "text".into(),
                        value_coding: None,
                        value_string: Some(code.display.clone()),
                        extension: vec![],
                    },
                ],
            });
        }
    }
    let address = Address {
        line: text(p, FieldId::AddressLine).into_iter().collect(),
        city: text(p, FieldId::City),
        state: p.code(FieldId::State).map(|c| c.code.clone()),
        postal_code: text(p, FieldId::PostalCode),
        country: text(p, FieldId::Country),
    };
    let has_address = !address.line.is_empty()
        || address.city.is_some()
        || address.state.is_some()
        || address.postal_code.is_some();
    Patient {
        id: id.to_string(),
        meta: Meta {
            profile: vec![US_CORE_PATIENT],
        },
        extension,
        identifier: vec![Identifier {
            system: settings.mrn_system.clone(),
            value: text(p, FieldId::Mrn).unwrap_or_default(),
        }],
        name: vec![HumanName {
            usage: "official",
            family: text(p, FieldId::Family).unwrap_or_default(),
            given: p
                .text(FieldId::Given)
                .map(|g| g.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
        }],
        telecom: text(p, FieldId::Phone)
            .map(|value| ContactPoint {
                system: "phone",
                value,
            })
            .into_iter()
            .collect(),
        gender: p
            .code(FieldId::Gender)
            .map(|c| c.code.clone())
            .unwrap_or_default(),
        birth_date: p
            .date(FieldId::BirthDate)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        address: if has_address { vec![address] } else { vec![] },
    }
}

fn immunization(
    id: Uuid,
    raw: &Values,
    ctx: DoseContext,
    patient_url: &str,
    recorded: &str,
    settings: &BundleSettings,
) -> Immunization {
    // Fields that do not apply to this dose (e.g. lot on a dose not given) are left out.
    let empty = Value::Empty;
    let d = |field: FieldId| -> &Value {
        match ctx.expectation(field.spec()) {
            Expectation::NotExpected => &empty,
            Expectation::Expected(_) => raw.get(field),
        }
    };
    let txt = |field: FieldId| match d(field) {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    };
    let code = |field: FieldId| match d(field) {
        Value::Code(c) => Some(*c),
        _ => None,
    };
    let date = |field: FieldId| match d(field) {
        Value::Date(x) => Some(x.to_string()),
        _ => None,
    };
    let cc = |field: FieldId, t: TableId| {
        code(field).map(|c| CodeableConcept {
            coding: vec![coding(t, c)],
            text: None,
        })
    };

    let vaccine = code(FieldId::Vaccine);
    let mut vaccine_codings: Vec<Coding> = vaccine
        .map(|c| Coding {
            system: match settings.cvx_system {
                CvxSystem::Uri => CVX_URI.into(),
                CvxSystem::Oid => CVX_OID.into(),
            },
            code: c.code.clone(),
            display: Some(c.display.clone()),
        })
        .into_iter()
        .collect();
    if let Some(ndc) = txt(FieldId::Ndc) {
        vaccine_codings.push(Coding {
            system: NDC_SYSTEM.into(),
            code: ndc,
            display: None,
        });
    }
    let mut performer = Vec::new();
    if let Some(name) = txt(FieldId::Performer) {
        let npi = txt(FieldId::PerformerNpi).map(|value| Identifier {
            system: NPI_SYSTEM.into(),
            value,
        });
        performer.push(performer_entry(
            "AP",
            "Administering Provider",
            Reference {
                identifier: npi,
                display: Some(name),
                ..Reference::default()
            },
        ));
    }
    if let Some(name) = txt(FieldId::Orderer) {
        performer.push(performer_entry(
            "OP",
            "Ordering Provider",
            Reference {
                display: Some(name),
                ..Reference::default()
            },
        ));
    }
    let education = if date(FieldId::VisEdition).is_some() || date(FieldId::VisPresented).is_some()
    {
        vec![Education {
            reference: VIS_REFERENCE,
            publication_date: date(FieldId::VisEdition),
            presentation_date: date(FieldId::VisPresented),
        }]
    } else {
        vec![]
    };
    Immunization {
        id: id.to_string(),
        meta: Meta {
            profile: vec![US_CORE_IMMUNIZATION],
        },
        identifier: vec![Identifier {
            system: settings.immunization_id_system.clone(),
            value: id.to_string(),
        }],
        status: code(FieldId::Status)
            .map(|c| c.code.clone())
            .unwrap_or_else(|| "completed".into()),
        status_reason: cc(FieldId::StatusReason, TableId::StatusReason),
        vaccine_code: CodeableConcept {
            coding: vaccine_codings,
            text: vaccine.map(|c| c.display.clone()),
        },
        patient: Reference {
            reference: Some(patient_url.to_string()),
            ..Reference::default()
        },
        occurrence_date_time: match d(FieldId::Administered) {
            Value::DateTime(t) => t.to_fhir(),
            _ => String::new(),
        },
        recorded: recorded.to_string(),
        primary_source: ctx.given_here,
        report_origin: cc(FieldId::ReportOrigin, TableId::ReportOrigin),
        location: txt(FieldId::Location).map(|name| Reference {
            display: Some(name),
            ..Reference::default()
        }),
        manufacturer: code(FieldId::Manufacturer).map(|m| Reference {
            identifier: Some(Identifier {
                system: table(TableId::Mvx).system.clone(),
                value: m.code.clone(),
            }),
            display: Some(m.display.clone()),
            ..Reference::default()
        }),
        lot_number: txt(FieldId::Lot),
        expiration_date: date(FieldId::Expiration),
        site: cc(FieldId::Site, TableId::Site),
        route: cc(FieldId::Route, TableId::Route),
        dose_quantity: match d(FieldId::Amount) {
            Value::Amount(ml) => Some(Quantity {
                value: *ml,
                unit: "mL",
                system: "http://unitsofmeasure.org",
                code: "mL",
            }),
            _ => None,
        },
        performer,
        note: txt(FieldId::Note)
            .map(|text| Annotation { text })
            .into_iter()
            .collect(),
        education,
        program_eligibility: cc(FieldId::Eligibility, TableId::Eligibility)
            .into_iter()
            .collect(),
        funding_source: cc(FieldId::Funding, TableId::Funding),
        protocol_applied: match d(FieldId::DoseNumber) {
            Value::Count(n) => vec![ProtocolApplied {
                dose_number_positive_int: *n,
            }],
            _ => vec![],
        },
    }
}

fn performer_entry(code: &str, display: &str, actor: Reference) -> Performer {
    Performer {
        function: CodeableConcept {
            coding: vec![Coding {
                system: PERFORMER_FUNCTION.into(),
                code: code.into(),
                display: Some(display.into()),
            }],
            text: None,
        },
        actor,
    }
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
    let bundle = build_bundle(visit, settings, now, &mut DerivedIds::new(visit_id))?;
    Ok(Message {
        bundle_id: bundle.id.clone(),
        json: to_json(&bundle),
    })
}

/// The bundle as the exact JSON that is shown, stored and sent.
pub fn to_json(bundle: &Bundle) -> String {
    let mut text = serde_json::to_string_pretty(bundle).unwrap_or_default();
    text.push('\n');
    text
}
