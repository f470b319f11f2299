//! Record files: a visit as JSON, with the catalogue's field keys, so visits can be
//! written, read, checked and imported outside the form.
//!
//! ```json
//! { "format": "vaxentry-record/1",
//!   "patient": { "mrn": "A123", "family": "Lindqvist", ... },
//!   "doses": [ { "status": "completed", "vaccine": "140", ... } ] }
//! ```
//! Every value is a string holding exactly what staff would type.

use super::fields::{FieldId, Section};
use super::visit::{Fields, Visit};
use serde_json::{Map, Value};

pub const FORMAT: &str = "vaxentry-record/1";

/// Largest text file read: a record file, a config file or a key (far more than any
/// real one; /dev/zero or a log file given by mistake is refused, not read).
pub const MOST_BYTES: u64 = 1024 * 1024;

/// Reads a small text file: a regular file (not a FIFO, a device or a folder) of at
/// most `most` bytes, UTF-8. Each failure says what the file is and what to do.
pub fn read_text(path: &std::path::Path, most: u64) -> Result<String, String> {
    String::from_utf8(read_bytes(path, most)?).map_err(|_| "it is not UTF-8 text".to_string())
}

/// The same for a file that need not be text (a shared secret).
pub fn read_bytes(path: &std::path::Path, most: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file (a folder, a device or a pipe); give a file".into());
    }
    if meta.len() > most {
        return Err(format!(
            "it is {} bytes; at most {most} are read, so check this is the right file",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(most + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > most {
        return Err(format!("it grew past {most} bytes while being read"));
    }
    Ok(bytes)
}

/// Walks JSON and fails on a key repeated within one object.
struct NoRepeatedKeys;

impl<'de> serde::Deserialize<'de> for NoRepeatedKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoRepeatedKeysVisitor)
    }
}

struct NoRepeatedKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoRepeatedKeysVisitor {
    type Value = NoRepeatedKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<NoRepeatedKeys, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "the key \"{key}\" appears twice in one object; keep one"
                )));
            }
            map.next_value::<NoRepeatedKeys>()?;
        }
        Ok(NoRepeatedKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<NoRepeatedKeys, A::Error> {
        while seq.next_element::<NoRepeatedKeys>()?.is_some() {}
        Ok(NoRepeatedKeys)
    }

    fn visit_bool<E>(self, _: bool) -> Result<NoRepeatedKeys, E> {
        Ok(NoRepeatedKeys)
    }

    fn visit_i64<E>(self, _: i64) -> Result<NoRepeatedKeys, E> {
        Ok(NoRepeatedKeys)
    }

    fn visit_u64<E>(self, _: u64) -> Result<NoRepeatedKeys, E> {
        Ok(NoRepeatedKeys)
    }

    fn visit_f64<E>(self, _: f64) -> Result<NoRepeatedKeys, E> {
        Ok(NoRepeatedKeys)
    }

    fn visit_str<E>(self, _: &str) -> Result<NoRepeatedKeys, E> {
        Ok(NoRepeatedKeys)
    }

    fn visit_unit<E>(self) -> Result<NoRepeatedKeys, E> {
        Ok(NoRepeatedKeys)
    }
}

/// What is wrong with a record file, naming the place in it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordFileError {
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Shape(String),
}

/// Reads a record file's text into a visit. A UTF-8 byte order mark at the start is
/// passed over; a key that appears twice in one object is refused (JSON readers
/// disagree on which one counts).
pub fn from_json(text: &str) -> Result<Visit, RecordFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let syntax = |e: serde_json::Error| RecordFileError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    serde_json::from_str::<NoRepeatedKeys>(text).map_err(syntax)?;
    let value: Value = serde_json::from_str(text).map_err(syntax)?;
    let shape = |m: String| RecordFileError::Shape(m);
    let Value::Object(top) = value else {
        return Err(shape(
            "the file must be a JSON object with \"patient\" and \"doses\"".into(),
        ));
    };
    for key in top.keys() {
        if !["format", "patient", "doses"].contains(&key.as_str()) {
            return Err(shape(format!(
                "unknown key \"{key}\" at the top level; only \"format\", \"patient\" and \"doses\" are allowed"
            )));
        }
    }
    match top.get("format") {
        None => {}
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => {
            return Err(shape(format!(
                "\"format\" is {other}; this version reads \"{FORMAT}\""
            )));
        }
    }
    let patient = match top.get("patient") {
        Some(Value::Object(map)) => read_fields(map, Section::Patient, "patient")?,
        Some(_) => {
            return Err(shape(
                "\"patient\" must be an object of field: \"text\" pairs".into(),
            ));
        }
        None => return Err(shape("\"patient\" is missing".into())),
    };
    let doses = match top.get("doses") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => read_fields(map, Section::Dose, &format!("doses[{i}]")),
                _ => Err(shape(format!(
                    "doses[{i}] must be an object of field: \"text\" pairs"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(shape("\"doses\" must be a list of dose objects".into())),
        None => return Err(shape("\"doses\" is missing".into())),
    };
    Ok(Visit { patient, doses })
}

fn read_fields(
    map: &Map<String, Value>,
    section: Section,
    path: &str,
) -> Result<Fields, RecordFileError> {
    let mut fields = Fields::default();
    for (key, value) in map {
        let Some(id) = FieldId::from_key(section, key) else {
            let known: Vec<&str> = FieldId::of(section).map(|f| f.spec().key).collect();
            return Err(RecordFileError::Shape(format!(
                "{path}.{key} is not a known field; the fields are: {}",
                known.join(", ")
            )));
        };
        match value {
            Value::String(s) => fields.set(id, s.clone()),
            Value::Null => {}
            other => {
                return Err(RecordFileError::Shape(format!(
                    "{path}.{key} must be text in quotes, e.g. \"{}\", not {other}",
                    other.to_string().trim_matches('"')
                )));
            }
        }
    }
    Ok(fields)
}

/// The order a record file lists fields in, fixed by the format: the same record is
/// always the same text, and so keeps its record key (`identity::record_key`), in
/// whatever order the form shows the fields.
const FILE_ORDER: [FieldId; crate::record::fields::FIELD_COUNT] = {
    use FieldId::*;
    [
        Mrn,
        Family,
        Given,
        BirthDate,
        Gender,
        Phone,
        AddressLine,
        City,
        State,
        PostalCode,
        Country,
        Race,
        Ethnicity,
        PhoneUse,
        MothersMaidenName,
        BirthOrder,
        GuardianFamily,
        GuardianGiven,
        GuardianRelationship,
        GuardianPhone,
        Condition,
        Vaccine,
        Status,
        StatusReason,
        Administered,
        Lot,
        Manufacturer,
        Expiration,
        Ndc,
        Amount,
        Site,
        Route,
        Performer,
        PerformerNpi,
        Orderer,
        Location,
        Funding,
        Eligibility,
        Vis,
        VisEdition,
        VisPresented,
        PrimarySource,
        ReportOrigin,
        DoseNumber,
        Note,
    ]
};

/// Writes a visit as a record file (non-empty fields only, in the file's order).
pub fn to_json(visit: &Visit) -> String {
    let section = |fields: &Fields, s: Section| -> Value {
        Value::Object(
            FILE_ORDER
                .iter()
                .copied()
                .filter(|id| id.spec().section == s)
                .filter(|id| !fields.get(*id).is_empty())
                .map(|id| {
                    (
                        id.spec().key.to_string(),
                        Value::String(fields.get(id).to_string()),
                    )
                })
                .collect(),
        )
    };
    let mut top = Map::new();
    top.insert("format".into(), Value::String(FORMAT.into()));
    top.insert("patient".into(), section(&visit.patient, Section::Patient));
    top.insert(
        "doses".into(),
        Value::Array(
            visit
                .doses
                .iter()
                .map(|d| section(d, Section::Dose))
                .collect(),
        ),
    );
    // A Value always prints: `{:#}` is serde_json's pretty form.
    format!("{:#}\n", Value::Object(top))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("[]", "JSON object"),
            (
                "{\"patient\": {}, \"doses\": [], \"extra\": 1}",
                "\"extra\"",
            ),
            ("{\"doses\": []}", "\"patient\" is missing"),
            (
                "{\"patient\": {\"mrn\": 12}, \"doses\": []}",
                "patient.mrn must be text",
            ),
            (
                "{\"patient\": {\"lot\": \"x\"}, \"doses\": []}",
                "patient.lot is not a known field",
            ),
            (
                "{\"patient\": {}, \"doses\": [{\"vaccine\": true}]}",
                "doses[0].vaccine must be text",
            ),
            (
                "{\"patient\": {}, \"doses\": [3]}",
                "doses[0] must be an object",
            ),
            (
                "{\"patient\": {}, \"doses\": {}}",
                "\"doses\" must be a list",
            ),
            (
                "{\"format\": \"other/9\", \"patient\": {}, \"doses\": []}",
                "this version reads",
            ),
        ];
        for (text, want) in cases {
            let err = from_json(text).expect_err(text).to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        let err = from_json("{\n  \"patient\": ,\n}").unwrap_err();
        assert!(
            matches!(err, RecordFileError::Syntax { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn the_file_order_names_every_field_once_and_keeps_record_keys() {
        let mut named: Vec<FieldId> = FILE_ORDER.to_vec();
        named.sort();
        named.dedup();
        assert_eq!(
            named.len(),
            crate::record::FIELDS.len(),
            "every field, once"
        );
        // A record file written before the form's order changed reads back to the
        // same text, so it is recognised when imported again.
        let text = "{\n  \"format\": \"vaxentry-record/1\",\n  \"patient\": {\n    \"mrn\": \"M-1\"\n  },\n  \"doses\": [\n    {\n      \"vaccine\": \"140\",\n      \"lot\": \"L1\",\n      \"primary_source\": \"yes\",\n      \"note\": \"n\"\n    }\n  ]\n}\n";
        assert_eq!(to_json(&from_json(text).unwrap()), text);
    }

    #[test]
    fn nulls_are_empty_fields() {
        let visit = from_json("{\"patient\": {\"mrn\": null}, \"doses\": []}").unwrap();
        assert_eq!(visit.patient.get(FieldId::Mrn), "");
    }
}
