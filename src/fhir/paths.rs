//! Where each form field goes in the bundle: one table, read both ways. The builder
//! writes every field's value at its path ([`write()`]); a receiver's
//! OperationOutcome expression (`Bundle.entry[3].resource.lotNumber`) is traced back
//! to the form field through the same rows ([`field_of`]). Sending one more field is
//! one more row.
//!
//! A path is dot-separated elements. `name[0]` is the first element of a list,
//! `name[+]` a new one appended, and `name[AP]` the element a [`Discriminator`]
//! recognises (created from its template when missing).

use super::settings::BundleSettings;
use crate::codes::{Code, TableId, ndc, table};
use crate::record::values::Value;
use crate::record::{FieldId, FieldRef};
use serde_json::{Map, Value as Json, json};

const NDC_SYSTEM: &str = "http://hl7.org/fhir/sid/ndc";
use super::NPI_SYSTEM;
const PERFORMER_FUNCTION: &str = "http://terminology.hl7.org/CodeSystem/v2-0443";
const US_CORE_RACE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";
const US_CORE_ETHNICITY: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity";
const MOTHERS_MAIDEN_NAME: &str =
    "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName";

/// The resource a field is written into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Patient,
    Immunization,
}

/// How a field's value is written as FHIR JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A string: text, a date or dateTime, or a code's code; a boolean; a number.
    Primitive,
    /// Names separated by commas (not spaces: "Mary Ann" is one name), as a list.
    Names,
    /// One string in a list.
    OneItemList,
    /// A CodeableConcept with the code's coding, and its display as `text` when asked.
    Concept { text: bool },
    /// An Identifier with this system.
    Identifier(&'static str),
    /// A Reference to an organisation by its code (MVX), with its display.
    OrganizationByCode,
    /// A Quantity in mL.
    Millilitres,
    /// The inside of a US Core race or ethnicity extension: the OMB category and text.
    OmbCategory,
    /// The NDC coding: the NDC the dose reports (the unit of use), 5-4-2, with CDC's
    /// product name.
    NdcCoding,
    /// One `education` entry per VIS: CDC's fully encoded string as the document
    /// type, CDC's page, the edition and the day it was given.
    Education,
    /// Written inside another field's element (the VIS edition and the day it was
    /// given go into each `education` entry): the row is here so that an answer's
    /// expression finds the field.
    WithinEducation,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct FieldPath {
    pub field: FieldId,
    pub resource: Resource,
    pub path: &'static str,
    pub shape: Shape,
    /// The field alone makes its element: `false` for a country, which is written
    /// only into an address that has something else in it.
    pub alone: bool,
}

const fn row(field: FieldId, resource: Resource, path: &'static str, shape: Shape) -> FieldPath {
    FieldPath {
        field,
        resource,
        path,
        shape,
        alone: true,
    }
}

use FieldId as F;
use Resource::{Immunization as Imm, Patient as Pat};
use Shape::*;

/// The fields kept here and never sent: the patient's CDSi condition, which only the
/// forecast weighs (sending it is for another day).
pub const NOT_SENT: [FieldId; 1] = [FieldId::Condition];

/// Every field that is sent, in the order its elements are written.
pub static FIELD_PATHS: [FieldPath; 44] = [
    row(F::Mrn, Pat, "identifier[mrn].value", Primitive),
    row(F::Family, Pat, "name[official].family", Primitive),
    row(F::Given, Pat, "name[official].given", Names),
    row(F::BirthDate, Pat, "birthDate", Primitive),
    row(F::Gender, Pat, "gender", Primitive),
    row(F::Phone, Pat, "telecom[phone].value", Primitive),
    row(F::AddressLine, Pat, "address[0].line", OneItemList),
    row(F::City, Pat, "address[0].city", Primitive),
    row(F::State, Pat, "address[0].state", Primitive),
    row(F::PostalCode, Pat, "address[0].postalCode", Primitive),
    FieldPath {
        alone: false,
        ..row(F::Country, Pat, "address[0].country", Primitive)
    },
    row(F::Race, Pat, "extension[race]", OmbCategory),
    row(F::Ethnicity, Pat, "extension[ethnicity]", OmbCategory),
    row(
        F::MothersMaidenName,
        Pat,
        "extension[maiden].valueString",
        Primitive,
    ),
    FieldPath {
        alone: false,
        ..row(F::PhoneUse, Pat, "telecom[phone].use", Primitive)
    },
    row(F::BirthOrder, Pat, "multipleBirthInteger", Primitive),
    row(
        F::GuardianRelationship,
        Pat,
        "contact[0].relationship[0]",
        Concept { text: false },
    ),
    row(F::GuardianFamily, Pat, "contact[0].name.family", Primitive),
    row(F::GuardianGiven, Pat, "contact[0].name.given", Names),
    row(
        F::GuardianPhone,
        Pat,
        "contact[0].telecom[phone].value",
        Primitive,
    ),
    row(F::Status, Imm, "status", Primitive),
    row(
        F::StatusReason,
        Imm,
        "statusReason",
        Concept { text: false },
    ),
    row(F::Vaccine, Imm, "vaccineCode", Concept { text: true }),
    row(F::Ndc, Imm, "vaccineCode.coding[ndc]", NdcCoding),
    row(F::Administered, Imm, "occurrenceDateTime", Primitive),
    row(F::PrimarySource, Imm, "primarySource", Primitive),
    row(
        F::ReportOrigin,
        Imm,
        "reportOrigin",
        Concept { text: false },
    ),
    row(F::Location, Imm, "location.display", Primitive),
    row(F::Manufacturer, Imm, "manufacturer", OrganizationByCode),
    row(F::Lot, Imm, "lotNumber", Primitive),
    row(F::Expiration, Imm, "expirationDate", Primitive),
    row(F::Site, Imm, "site", Concept { text: false }),
    row(F::Route, Imm, "route", Concept { text: false }),
    row(F::Amount, Imm, "doseQuantity", Millilitres),
    row(F::Performer, Imm, "performer[AP].actor.display", Primitive),
    row(
        F::PerformerNpi,
        Imm,
        "performer[AP].actor.identifier",
        Identifier(NPI_SYSTEM),
    ),
    row(F::Orderer, Imm, "performer[OP].actor.display", Primitive),
    row(F::Note, Imm, "note[+].text", Primitive),
    row(F::Vis, Imm, "education", Education),
    row(
        F::VisEdition,
        Imm,
        "education[0].publicationDate",
        WithinEducation,
    ),
    row(
        F::VisPresented,
        Imm,
        "education[0].presentationDate",
        WithinEducation,
    ),
    row(
        F::Eligibility,
        Imm,
        "programEligibility[+]",
        Concept { text: false },
    ),
    row(F::Funding, Imm, "fundingSource", Concept { text: false }),
    row(
        F::DoseNumber,
        Imm,
        "protocolApplied[0].doseNumberPositiveInt",
        Primitive,
    ),
];

/// A list element told apart by what it holds.
pub struct Discriminator {
    pub name: &'static str,
    /// The list it is found in.
    pub list: &'static str,
    /// Where in the element, and what it must say there.
    pub pointer: &'static str,
    pub equals: Equals,
    /// A new element of this kind, before the field's value is written into it.
    pub template: fn(&BundleSettings) -> Json,
}

/// What a discriminating element says.
#[derive(Clone, Copy, Debug)]
pub enum Equals {
    Text(&'static str),
    /// The clinic's MRN system (a setting).
    MrnSystem,
}

impl Equals {
    fn text(self, settings: Option<&BundleSettings>) -> Option<&str> {
        match (self, settings) {
            (Equals::Text(t), _) => Some(t),
            (Equals::MrnSystem, Some(s)) => Some(&s.mrn_system),
            (Equals::MrnSystem, None) => None,
        }
    }

    /// Whether an element says this at `pointer`.
    fn matches(self, element: &Json, pointer: &str, settings: Option<&BundleSettings>) -> bool {
        let said = element.pointer(pointer).and_then(Json::as_str);
        said.is_some() && said == self.text(settings)
    }
}

fn performer_function(code: &str, display: &str) -> Json {
    json!({"function": {"coding": [{"system": PERFORMER_FUNCTION, "code": code, "display": display}]}})
}

pub static DISCRIMINATORS: [Discriminator; 8] = [
    Discriminator {
        name: "mrn",
        list: "identifier",
        pointer: "/system",
        equals: Equals::MrnSystem,
        // Typed as a medical record number (v2-0203 MR), so a receiver knows what it is.
        template: |s| {
            json!({
                "type": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                    "code": "MR",
                    "display": "Medical record number"
                }]},
                "system": s.mrn_system
            })
        },
    },
    Discriminator {
        name: "official",
        list: "name",
        pointer: "/use",
        equals: Equals::Text("official"),
        template: |_| json!({"use": "official"}),
    },
    Discriminator {
        name: "phone",
        list: "telecom",
        pointer: "/system",
        equals: Equals::Text("phone"),
        template: |_| json!({"system": "phone"}),
    },
    Discriminator {
        name: "race",
        list: "extension",
        pointer: "/url",
        equals: Equals::Text(US_CORE_RACE),
        template: |_| json!({"url": US_CORE_RACE}),
    },
    Discriminator {
        name: "ethnicity",
        list: "extension",
        pointer: "/url",
        equals: Equals::Text(US_CORE_ETHNICITY),
        template: |_| json!({"url": US_CORE_ETHNICITY}),
    },
    Discriminator {
        name: "maiden",
        list: "extension",
        pointer: "/url",
        equals: Equals::Text(MOTHERS_MAIDEN_NAME),
        template: |_| json!({"url": MOTHERS_MAIDEN_NAME}),
    },
    Discriminator {
        name: "AP",
        list: "performer",
        pointer: "/function/coding/0/code",
        equals: Equals::Text("AP"),
        template: |_| performer_function("AP", "Administering Provider"),
    },
    Discriminator {
        name: "OP",
        list: "performer",
        pointer: "/function/coding/0/code",
        equals: Equals::Text("OP"),
        template: |_| performer_function("OP", "Ordering Provider"),
    },
];

/// The NDC coding in `vaccineCode.coding` is found by its system.
static NDC: Discriminator = Discriminator {
    name: "ndc",
    list: "coding",
    pointer: "/system",
    equals: Equals::Text(NDC_SYSTEM),
    template: |_| json!({"system": NDC_SYSTEM}),
};

fn discriminator(name: &str) -> Option<&'static Discriminator> {
    DISCRIMINATORS
        .iter()
        .chain(std::iter::once(&NDC))
        .find(|d| d.name == name)
}

/// One step of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    /// An element of the list under this key: `[0]`, `[+]`, `[AP]`.
    Item(&'a str, &'a str),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    path.split('.')
        .map(|part| match part.split_once('[') {
            Some((name, rest)) => Step::Item(name, rest.trim_end_matches(']')),
            None => Step::Key(part),
        })
        .collect()
}

/// The JSON a field's value is written as.
fn shaped(value: &Value, shape: Shape, field: FieldId) -> Option<Json> {
    let coding = |code: &Code| {
        let system = table_of(field).map_or("", |t| table(t).system_of(code));
        json!({"system": system, "code": code.code, "display": code.display})
    };
    Some(match (shape, value) {
        (_, Value::Empty) => return None,
        (Primitive, Value::Text(t)) => json!(t),
        (Primitive, Value::Code(c)) => json!(c.code),
        (Primitive, Value::Date(d)) => json!(d.format("%Y-%m-%d").to_string()),
        (Primitive, Value::DateTime(t)) => json!(t.to_fhir()),
        (Primitive, Value::Bool(b)) => json!(b),
        (Primitive, Value::Count(n)) => json!(n),
        (Primitive, Value::Amount(a)) => json!(a),
        (Names, Value::Text(t)) => json!(
            t.split(',')
                .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
        ),
        (OneItemList, Value::Text(t)) => json!([t]),
        (Concept { text }, Value::Code(c)) => {
            let mut codings = vec![coding(c)];
            codings.extend(
                c.also
                    .iter()
                    .map(|a| json!({"system": a.system, "code": a.code, "display": a.display})),
            );
            let mut concept = json!({"coding": codings});
            if text {
                concept["text"] = json!(c.display);
            }
            concept
        }
        (Identifier(system), Value::Text(t)) => json!({"system": system, "value": t}),
        (OrganizationByCode, Value::Code(c)) => json!({
            "identifier": {"system": table(TableId::Mvx).system, "value": c.code},
            "display": c.display
        }),
        (Millilitres, Value::Amount(ml)) => json!({
            "value": ml, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"
        }),
        (OmbCategory, Value::Code(c)) => json!({"extension": [
            {"url": "ombCategory", "valueCoding": coding(c)},
            {"url": "text", "valueString": c.display}
        ]}),
        (NdcCoding, Value::Text(digits)) => match ndc::find(digits) {
            Some(package) => {
                let reported = package.reported();
                json!({"code": reported.ndc, "display": reported.name})
            }
            None => json!({"code": ndc::dashed(digits)}),
        },
        (Education, Value::Vis(list)) if !list.is_empty() => json!(
            list.iter()
                .map(|given| {
                    let doc = given.document;
                    let mut entry = Map::new();
                    let edition = given.edition.and_then(|d| doc.edition(d));
                    if let Some(edition) = edition {
                        entry.insert("documentType".into(), json!(edition.encoded));
                    }
                    if let Some(url) = &doc.url {
                        entry.insert("reference".into(), json!(url));
                    }
                    if let Some(date) = given.edition {
                        entry.insert(
                            "publicationDate".into(),
                            json!(date.format("%Y-%m-%d").to_string()),
                        );
                    }
                    if let Some(date) = given.presented {
                        entry.insert(
                            "presentationDate".into(),
                            json!(date.format("%Y-%m-%d").to_string()),
                        );
                    }
                    Json::Object(entry)
                })
                .collect::<Vec<_>>()
        ),
        _ => return None,
    })
}

fn table_of(field: FieldId) -> Option<TableId> {
    match field.spec().kind {
        crate::record::Kind::Coded(t) => Some(t),
        _ => None,
    }
}

/// Writes a field's value into a resource at the row's path. Nothing is written for
/// an empty value, nor for a field that does not make its element alone when the
/// element is not there.
pub fn write(resource: &mut Json, row: &FieldPath, value: &Value, settings: &BundleSettings) {
    let Some(new) = shaped(value, row.shape, row.field) else {
        return;
    };
    let steps = steps(row.path);
    let mut here = resource;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        here = match *step {
            Step::Key(key) => {
                let Some(object) = here.as_object_mut() else {
                    return;
                };
                if last {
                    merge_into(object, key, new);
                    return;
                }
                if !object.contains_key(key) && !row.alone {
                    return;
                }
                let Some(next) = entry(object, key, json!({})) else {
                    return;
                };
                next
            }
            Step::Item(key, which) => {
                let Some(object) = here.as_object_mut() else {
                    return;
                };
                if !object.contains_key(key) && !row.alone {
                    return;
                }
                let Some(list) = entry(object, key, json!([])).and_then(Json::as_array_mut) else {
                    return;
                };
                let index = match which {
                    "+" => None,
                    "0" => (!list.is_empty()).then_some(0),
                    name => discriminator(name).and_then(|d| {
                        list.iter()
                            .position(|e| d.equals.matches(e, d.pointer, Some(settings)))
                    }),
                };
                let index = match index {
                    Some(i) => i,
                    None => {
                        let start = discriminator(which).map(|d| (d.template)(settings));
                        match start {
                            Some(start) => list.push(start),
                            // A new plain element: the value itself, or an object to fill.
                            None if last => {
                                list.push(new);
                                return;
                            }
                            None => list.push(json!({})),
                        }
                        list.len() - 1
                    }
                };
                if last {
                    merge(&mut list[index], new);
                    return;
                }
                &mut list[index]
            }
        };
    }
}

/// The element at a row's path in a resource another system wrote: `[0]` and `[+]`
/// are the first element, a discriminator the element it recognises (for the
/// official name, the MRN and the phone, the first element when none says so).
pub fn read<'j>(
    resource: &'j Json,
    row: &FieldPath,
    settings: &BundleSettings,
) -> Option<&'j Json> {
    let mut here = resource;
    for step in steps(row.path) {
        here = match step {
            Step::Key(key) => here.get(key)?,
            Step::Item(key, which) => {
                let list = here.get(key)?.as_array()?;
                match which {
                    "0" | "+" => list.first()?,
                    name => {
                        let d = discriminator(name)?;
                        let found = list
                            .iter()
                            .find(|e| d.equals.matches(e, d.pointer, Some(settings)));
                        match (found, name) {
                            (Some(e), _) => e,
                            (None, "official" | "mrn" | "phone") => list.first()?,
                            (None, _) => return None,
                        }
                    }
                }
            }
        };
    }
    Some(here)
}

/// A field's value as the form writes it, from the JSON at its path; `Err` says why
/// an element that is there cannot be read (a code of no table vaxentry knows).
pub fn text_of(json: &Json, row: &FieldPath) -> Result<String, String> {
    let code_in = |coding: &Json| -> Option<String> {
        let t = table_of(row.field)?;
        table(t)
            .get(coding.get("code")?.as_str()?)
            .map(|c| c.code.clone())
    };
    let unknown = || Err(format!("{json} is not one vaxentry knows"));
    match row.shape {
        Primitive => match json {
            Json::String(s) => Ok(s.clone()),
            Json::Bool(true) => Ok("yes".into()),
            Json::Bool(false) => Ok("no".into()),
            Json::Number(n) => Ok(n.to_string()),
            _ => unknown(),
        },
        Names => match json.as_array() {
            Some(names) => Ok(names
                .iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(", ")),
            None => unknown(),
        },
        OneItemList => json
            .as_array()
            .and_then(|l| l.first())
            .and_then(Json::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("{json} is not a list of text")),
        Concept { .. } => json
            .get("coding")
            .and_then(Json::as_array)
            .and_then(|codings| codings.iter().find_map(code_in))
            .map_or_else(unknown, Ok),
        Identifier(system) => match json.get("system").and_then(Json::as_str) {
            Some(s) if s == system => json
                .get("value")
                .and_then(Json::as_str)
                .map(str::to_string)
                .map_or_else(unknown, Ok),
            _ => unknown(),
        },
        OrganizationByCode => {
            let mvx = table(TableId::Mvx);
            let by_code = json.pointer("/identifier/value").and_then(Json::as_str);
            by_code
                .and_then(|c| mvx.get(c))
                .map(|c| c.code.clone())
                .map_or_else(unknown, Ok)
        }
        Millilitres => json
            .get("value")
            .and_then(Json::as_f64)
            .map(|v| v.to_string())
            .map_or_else(unknown, Ok),
        OmbCategory => json
            .get("extension")
            .and_then(Json::as_array)
            .and_then(|parts| {
                parts
                    .iter()
                    .filter(|p| p.get("url").and_then(Json::as_str) == Some("ombCategory"))
                    .find_map(|p| p.get("valueCoding").and_then(code_in))
            })
            .map_or_else(unknown, Ok),
        NdcCoding => json
            .get("code")
            .and_then(Json::as_str)
            .map(|c| c.replace('-', ""))
            .map_or_else(unknown, Ok),
        // Each VIS by CDC's fully encoded string, which names its edition too.
        Education => {
            let entries = json.as_array().map(Vec::as_slice).unwrap_or_default();
            let encoded: Vec<&str> = entries
                .iter()
                .filter_map(|e| e.get("documentType").and_then(Json::as_str))
                .collect();
            match encoded
                .iter()
                .find(|e| crate::codes::vis::by_encoded(e).is_none())
            {
                Some(unknown) => Err(format!(
                    "{unknown} is no VIS edition CDC lists (by its fully encoded string)"
                )),
                None if encoded.len() < entries.len() => {
                    Err("a VIS without CDC's fully encoded string is not read".into())
                }
                None => Ok(encoded.join(", ")),
            }
        }
        // The encoded strings name the editions; the day they were given is read.
        WithinEducation => match (row.field, json.as_str()) {
            (FieldId::VisPresented, Some(day)) => Ok(day.to_string()),
            _ => Ok(String::new()),
        },
    }
}

/// The value under `key`, inserted in its place when missing.
fn entry<'a>(object: &'a mut Map<String, Json>, key: &str, empty: Json) -> Option<&'a mut Json> {
    if !object.contains_key(key) {
        insert_in_order(object, key, empty);
    }
    object.get_mut(key)
}

/// Merges objects key by key; anything else replaces what was there.
fn merge(into: &mut Json, new: Json) {
    match (into.as_object_mut(), new) {
        (Some(object), Json::Object(new)) => {
            for (key, value) in new {
                merge_into(object, &key, value);
            }
        }
        (_, new) => *into = new,
    }
}

fn merge_into(object: &mut Map<String, Json>, key: &str, value: Json) {
    match object.get_mut(key) {
        Some(existing) => merge(existing, value),
        None => insert_in_order(object, key, value),
    }
}

/// Keys that go before others when both are in one object (FHIR's element order):
/// a Reference's identifier before its display.
const GOES_BEFORE: [(&str, &str); 1] = [("identifier", "display")];

fn insert_in_order(object: &mut Map<String, Json>, key: &str, value: Json) {
    let before = GOES_BEFORE
        .iter()
        .filter(|(k, _)| *k == key)
        .find_map(|(_, other)| object.keys().position(|k| k == other));
    match before {
        Some(index) => {
            object.shift_insert(index, key.to_string(), value);
        }
        None => {
            object.insert(key.to_string(), value);
        }
    }
}

/// The form field an OperationOutcome expression points at, for bundles vaxentry
/// built. With the bundle that was sent (a message or a transaction), an entry is what
/// it holds: the Patient, or the Immunization of dose n (the n+1st Immunization), and
/// list indexes are read the same way (`performer[1]` is the ordering provider when
/// that is what it holds). Without it, entry 1 is the Patient and entry 2 + n dose n,
/// as in a message.
pub fn field_of(expression: &str, bundle: Option<&Json>) -> Option<FieldRef> {
    let (entry, resource, path) = match expression.strip_prefix("Bundle.entry[") {
        Some(rest) => {
            let (index, rest) = rest.split_once(']')?;
            let index: usize = index.parse().ok()?;
            let path = rest.strip_prefix(".resource")?.trim_start_matches('.');
            let (resource, dose) = match bundle.and_then(|b| b["entry"].as_array()) {
                Some(entries) => match entry_kind(entries, index) {
                    Some(kind) => kind,
                    None => return referenced_field(entries, index, path),
                },
                None if index == 1 => (Pat, 0),
                None => (Imm, index.saturating_sub(2)),
            };
            (Some((index, dose)), resource, path)
        }
        None => match expression.split_once('.') {
            Some(("Patient", path)) => (None, Pat, path),
            Some(("Immunization", path)) => (None, Imm, path),
            _ => return None,
        },
    };
    let json = match (bundle, entry) {
        (Some(b), Some((e, _))) => b.pointer(&format!("/entry/{e}/resource")),
        _ => None,
    };
    let wanted = named_steps(path, json);
    let best = FIELD_PATHS
        .iter()
        .filter(|r| r.resource == resource)
        .filter_map(|r| {
            let row_steps: Vec<(String, Option<String>)> = steps(r.path)
                .iter()
                .map(|s| match *s {
                    Step::Key(k) => (k.to_string(), None),
                    Step::Item(k, which) => (
                        k.to_string(),
                        discriminator(which).map(|d| d.name.to_string()),
                    ),
                })
                .collect();
            let shared = row_steps
                .iter()
                .zip(&wanted)
                .take_while(|((rn, rd), (wn, wd))| {
                    same_element(rn, wn) && (rd.is_none() || wd.is_none() || rd == wd)
                })
                .count();
            let whole = shared == row_steps.len().min(wanted.len());
            (shared > 0 && whole).then_some((shared, row_steps.len() == shared, r.field))
        })
        // Most steps shared; then the row that ends where the expression does; then
        // the first row (a performer is the one who gave the dose).
        .min_by_key(|(shared, exact, _)| (std::cmp::Reverse(*shared), !*exact))
        .map(|(_, _, field)| field)?;
    Some(match resource {
        Pat => FieldRef::patient(best),
        Imm => FieldRef::dose(entry.map_or(0, |(_, dose)| dose), best),
    })
}

/// What entry `index` of a sent bundle holds: the Patient, or the Immunization of
/// dose n; `None` for anything else (the MessageHeader, a Practitioner, ...).
pub fn entry_kind(entries: &[Json], index: usize) -> Option<(Resource, usize)> {
    let kind = |e: &Json| e["resource"]["resourceType"].as_str().map(str::to_string);
    match kind(entries.get(index)?)?.as_str() {
        "Patient" => Some((Pat, 0)),
        "Immunization" => Some((
            Imm,
            entries[..index]
                .iter()
                .filter(|e| kind(e).as_deref() == Some("Immunization"))
                .count(),
        )),
        _ => None,
    }
}

/// An entry the doses point at: for a Practitioner, the vaccinator (its NPI, for an
/// identifier) or the orderer of the first dose that names it; for a Location, that
/// dose's place. `None` for the rest (the clinic's Organization is configuration).
fn referenced_field(entries: &[Json], index: usize, path: &str) -> Option<FieldRef> {
    let entry = entries.get(index)?;
    let url = entry["fullUrl"].as_str()?;
    let kind = entry["resource"]["resourceType"].as_str()?;
    let doses = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Immunization");
    for (dose, immunization) in doses.enumerate() {
        if kind == "Location" && immunization["location"]["reference"] == url {
            return Some(FieldRef::dose(dose, F::Location));
        }
        let performer = immunization["performer"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| kind == "Practitioner" && p["actor"]["reference"] == url);
        if let Some(performer) = performer {
            let ordering = performer["function"]["coding"][0]["code"] == "OP";
            let field = match (ordering, path.starts_with("identifier")) {
                (true, _) => F::Orderer,
                (false, true) => F::PerformerNpi,
                (false, false) => F::Performer,
            };
            return Some(FieldRef::dose(dose, field));
        }
    }
    None
}

/// The dot-separated parts of an expression; dots inside quotes or brackets (a URL
/// in `where(url='...')`) do not separate.
fn expression_parts(path: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in path.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => depth -= 1,
            '.' if !quoted && depth == 0 => {
                parts.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&path[start..]);
    parts
}

/// Whether two element names are the same element: `occurrence` is
/// `occurrenceDateTime` (a choice of type), but `status` is not `statusReason`.
fn same_element(a: &str, b: &str) -> bool {
    const TYPES: [&str; 8] = [
        "DateTime",
        "String",
        "Boolean",
        "Integer",
        "PositiveInt",
        "Date",
        "Quantity",
        "Reference",
    ];
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.strip_prefix(short)
        .is_some_and(|rest| rest.is_empty() || TYPES.contains(&rest))
}

/// An expression's steps as (element, what the list element is): indexes become the
/// discriminator the element matches in `resource`, when it is known.
fn named_steps(path: &str, resource: Option<&Json>) -> Vec<(String, Option<String>)> {
    let mut here = resource;
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for part in expression_parts(path) {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        // `extension.where(url='...')` says which element of the list is meant.
        if let Some(condition) = part.strip_prefix("where(") {
            let said = condition.split('\'').nth(1).unwrap_or_default();
            if let Some((list, label)) = out.last_mut() {
                let known = DISCRIMINATORS
                    .iter()
                    .chain(std::iter::once(&NDC))
                    .find(|d| d.list == list.as_str() && d.equals.text(None) == Some(said));
                // A condition on no element vaxentry writes matches no field.
                *label = Some(known.map_or("?", |d| d.name).to_string());
            }
            continue;
        }
        // Other functions are not elements.
        if name.contains('(') {
            break;
        }
        let list = here.and_then(|h| h.get(name));
        let element = match index {
            Some(i) => list.and_then(|l| l.get(i)),
            None => list,
        };
        let what = element.and_then(|e| {
            DISCRIMINATORS
                .iter()
                .chain(std::iter::once(&NDC))
                .filter(|d| d.list == name)
                .find(|d| d.equals.matches(e, d.pointer, None))
                .map(|d| d.name.to_string())
        });
        out.push((name.to_string(), what));
        here = element;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{SequentialIds, build_bundle};
    use crate::record::{FIELDS, Fields, Visit};

    fn settings() -> BundleSettings {
        BundleSettings {
            source_name: None,
            source_endpoint: "urn:vaxentry:local".into(),
            mrn_system: "urn:oid:1.2.3".into(),
            immunization_id_system: "urn:oid:1.2.4".into(),
            clinic: None,
            organization_identifier: None,
            directory: Default::default(),
            rules: crate::record::Rules::default(),
            card_issuer: None,
        }
    }

    /// A visit with every field filled: a dose given here, a historical one and one
    /// not given, so each field applies somewhere.
    fn every_field() -> Visit {
        let patient = Fields::default()
            .with(F::Mrn, "MRN-1")
            .with(F::Family, "Lindqvist")
            .with(F::Given, "Astrid Maria")
            .with(F::BirthDate, "1987-03-14")
            .with(F::Gender, "female")
            .with(F::Phone, "(413) 555-0142")
            .with(F::AddressLine, "12 Harbour Road")
            .with(F::City, "Springfield")
            .with(F::State, "MA")
            .with(F::PostalCode, "01101")
            .with(F::Country, "US")
            .with(F::Race, "2106-3")
            .with(F::Ethnicity, "2186-5")
            .with(F::PhoneUse, "home")
            .with(F::MothersMaidenName, "Berg")
            .with(F::BirthOrder, "2")
            .with(F::GuardianFamily, "Lindqvist")
            .with(F::GuardianGiven, "Karin")
            .with(F::GuardianRelationship, "MTH")
            .with(F::GuardianPhone, "(413) 555-0143");
        let given_here = Fields::default()
            .with(F::Vaccine, "140")
            .with(F::Status, "completed")
            .with(F::Administered, "2026-10-01 14:05")
            .with(F::Lot, "UT8291AA")
            .with(F::Manufacturer, "PMC")
            .with(F::Expiration, "2027-06-30")
            .with(F::Ndc, "49281-0424-50")
            .with(F::Amount, "0.5")
            .with(F::Site, "LA")
            .with(F::Route, "IM")
            .with(F::Performer, "Jordan Okafor")
            .with(F::PerformerNpi, "1234567893")
            .with(F::Orderer, "Sam Lee")
            .with(F::Location, "Riverside Family Clinic")
            .with(F::Funding, "private")
            .with(F::Eligibility, "V01")
            .with(F::VisEdition, "2021-08-06")
            .with(F::VisPresented, "2026-10-01")
            .with(F::PrimarySource, "yes")
            .with(F::DoseNumber, "1")
            .with(F::Note, "tolerated well");
        let historical = Fields::default()
            .with(F::Vaccine, "03")
            .with(F::Status, "completed")
            .with(F::Administered, "2019-04-01")
            .with(F::PrimarySource, "no")
            .with(F::ReportOrigin, "record");
        let not_done = Fields::default()
            .with(F::Vaccine, "115")
            .with(F::Status, "not-done")
            .with(F::StatusReason, "PATOBJ")
            .with(F::Administered, "2026-11-20")
            .with(F::PrimarySource, "yes");
        Visit {
            patient,
            doses: vec![given_here, historical, not_done],
        }
    }

    fn now() -> crate::clock::ClinicTime {
        crate::clock::Clock::fixed("2026-11-25T15:30:00-05:00", chrono_tz::America::New_York)
            .unwrap()
            .now()
    }

    /// Where a row's value landed in a resource, as an expression with list indexes.
    fn landed(resource: &Json, row: &FieldPath) -> Option<String> {
        let mut here = resource;
        let mut out = String::new();
        for step in steps(row.path) {
            match step {
                Step::Key(key) => {
                    here = here.get(key)?;
                    out.push_str(&format!(".{key}"));
                }
                Step::Item(key, which) => {
                    let list = here.get(key)?.as_array()?;
                    let index = match discriminator(which) {
                        Some(d) => list
                            .iter()
                            .position(|e| d.equals.matches(e, d.pointer, Some(&settings())))?,
                        None => 0,
                    };
                    here = list.get(index)?;
                    out.push_str(&format!(".{key}[{index}]"));
                }
            }
        }
        Some(out)
    }

    #[test]
    fn every_field_is_sent_and_every_sent_field_maps_back_to_its_field() {
        let visit = every_field();
        let bundle = build_bundle(&visit, &settings(), now(), &mut SequentialIds(0))
            .unwrap_or_else(|e| panic!("{:#?}", e.0));
        let entries = bundle.json["entry"].as_array().unwrap();
        for spec in &FIELDS {
            let rows: Vec<_> = FIELD_PATHS.iter().filter(|r| r.field == spec.id).collect();
            if NOT_SENT.contains(&spec.id) {
                assert!(rows.is_empty(), "{} is never sent", spec.key);
                continue;
            }
            assert_eq!(rows.len(), 1, "{} needs exactly one row", spec.key);
            let row = rows[0];
            // The first entry of the row's kind that holds the value.
            let found = entries.iter().enumerate().find_map(|(i, e)| {
                let kind = e["resource"]["resourceType"].as_str()?;
                let wanted = match row.resource {
                    Resource::Patient => "Patient",
                    Resource::Immunization => "Immunization",
                };
                (kind == wanted)
                    .then(|| landed(&e["resource"], row))
                    .flatten()
                    .map(|path| (i, format!("Bundle.entry[{i}].resource{path}")))
            });
            let (entry, expression) = found
                .unwrap_or_else(|| panic!("{} is not in the bundle at {}", spec.key, row.path));
            let expected = match row.resource {
                Resource::Patient => FieldRef::patient(spec.id),
                Resource::Immunization => FieldRef::dose(entry - 2, spec.id),
            };
            assert_eq!(
                field_of(&expression, Some(&bundle.json)),
                Some(expected),
                "{expression}"
            );
        }
    }

    /// The resources the doses point at are named by the dose field they came from.
    #[test]
    fn expressions_into_a_practitioner_or_a_location_find_the_doses_field() {
        let mut visit = every_field();
        let second = visit.doses[0].clone();
        visit.doses.push(second);
        visit.doses[1].set(F::Performer, "Kim Osei");
        visit.doses[1].set(F::PerformerNpi, "");
        let bundle = build_bundle(&visit, &settings(), now(), &mut SequentialIds(0))
            .unwrap_or_else(|e| panic!("{:#?}", e.0));
        let entries = bundle.json["entry"].as_array().unwrap();
        let index_of = |kind: &str, name: &str| {
            entries
                .iter()
                .position(|e| {
                    e["resource"]["resourceType"] == kind
                        && e["resource"].to_string().contains(name)
                })
                .unwrap_or_else(|| panic!("{kind} {name}"))
        };
        let at = |index: usize, path: &str| {
            field_of(
                &format!("Bundle.entry[{index}].resource.{path}"),
                Some(&bundle.json),
            )
        };
        let performer = visit.doses[0].get(F::Performer).to_string();
        let vaccinator = index_of("Practitioner", &performer);
        assert_eq!(
            at(vaccinator, "identifier[0].value"),
            Some(FieldRef::dose(0, F::PerformerNpi))
        );
        assert_eq!(
            at(vaccinator, "name[0].family"),
            Some(FieldRef::dose(0, F::Performer))
        );
        assert_eq!(
            at(index_of("Practitioner", "Kim Osei"), "name[0]"),
            Some(FieldRef::dose(1, F::Performer))
        );
        let orderer = visit.doses[0].get(F::Orderer).to_string();
        assert_eq!(
            at(index_of("Practitioner", &orderer), "name[0].text"),
            Some(FieldRef::dose(0, F::Orderer))
        );
        let place = visit.doses[0].get(F::Location).to_string();
        assert_eq!(
            at(index_of("Location", &place), "name"),
            Some(FieldRef::dose(0, F::Location))
        );
    }

    #[test]
    fn expressions_without_the_bundle_still_find_their_field() {
        let cases = [
            (
                "Immunization.statusReason",
                Some(FieldRef::dose(0, F::StatusReason)),
            ),
            ("Immunization.status", Some(FieldRef::dose(0, F::Status))),
            (
                "Immunization.occurrence",
                Some(FieldRef::dose(0, F::Administered)),
            ),
            (
                "Immunization.occurrenceDateTime",
                Some(FieldRef::dose(0, F::Administered)),
            ),
            (
                "Bundle.entry[3].resource.lotNumber",
                Some(FieldRef::dose(1, F::Lot)),
            ),
            (
                "Patient.name[0].given[1]",
                Some(FieldRef::patient(F::Given)),
            ),
            (
                "Immunization.vaccineCode",
                Some(FieldRef::dose(0, F::Vaccine)),
            ),
            (
                "Immunization.performer",
                Some(FieldRef::dose(0, F::Performer)),
            ),
            (
                "Patient.extension.where(url='http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity').extension[0]",
                Some(FieldRef::patient(F::Ethnicity)),
            ),
            ("Patient.extension.where(url='x')", None),
            ("Observation.value", None),
        ];
        for (expression, want) in cases {
            assert_eq!(field_of(expression, None), want, "{expression}");
        }
    }
}
