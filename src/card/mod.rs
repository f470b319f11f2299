//! SMART Health Cards (smarthealth.cards; HL7's `smart-health-cards-and-links`): a
//! patient's immunizations held here, as a signed credential they carry away as a QR
//! code or a file, which phones and verifier apps check without calling anyone.
//!
//! The card is a FHIR `collection` Bundle, minimal as the specification asks (a
//! Patient with name and birth date; per dose its status, CVX, patient, date, lot and
//! the performing organization's name; `resource:N` references, no ids, meta, text or
//! coding displays), in a W3C verifiable credential, compressed and signed
//! ([`jws`]), and drawn as one QR code of version 22 at most ([`qr`]): a patient
//! with more doses than fit gets the most recent ones, and is told so.

pub mod files;
pub mod jws;
pub mod key;
pub mod qr;

use crate::clock::ClinicTime;
use crate::codes::{TableId, table};
use crate::record::parse::{parse_date, parse_datetime};
use crate::record::values::DoseContext;
use crate::record::{FieldId, Fields, Visit};
use chrono::NaiveDate;
use key::IssuerKey;
use serde_json::{Value, json};

/// What to say when no issuer is set.
pub const NO_ISSUER: &str = "issuing SMART Health Cards is off: set [card] issuer = \"https://…\" in the config, the address where this clinic publishes its public keys (README, \"SMART Health Cards\")";

/// The most characters a card's JWS may have to fit one QR code.
pub const MOST_JWS: usize = 1195;

/// One dose as a card states it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CardDose {
    pub given_on: NaiveDate,
    pub cvx: String,
    pub lot: String,
    /// The organization that gave it (none for a dose recorded from elsewhere).
    pub performer: Option<String>,
}

/// The doses of `visit` a card may state: given (not refused, not entered in error),
/// with a CVX code and a date; those given here name `organization`.
pub fn card_doses(visit: &Visit, organization: &str, now: ClinicTime) -> Vec<CardDose> {
    visit
        .doses
        .iter()
        .filter_map(|dose| {
            let ctx = DoseContext::of(dose);
            let completed = dose
                .get(FieldId::Status)
                .trim()
                .eq_ignore_ascii_case("completed");
            if ctx.not_done || ctx.in_error || !completed {
                return None;
            }
            let cvx = table(TableId::Cvx).get(dose.get(FieldId::Vaccine).trim())?;
            let given_on = parse_datetime(dose.get(FieldId::Administered), now)
                .ok()?
                .date();
            let performer = match (ctx.given_here, organization.trim()) {
                (true, "") => {
                    Some(dose.get(FieldId::Location).trim().to_string()).filter(|l| !l.is_empty())
                }
                (true, name) => Some(name.to_string()),
                (false, _) => None,
            };
            Some(CardDose {
                given_on,
                cvx: cvx.code.clone(),
                lot: dose.get(FieldId::Lot).trim().to_string(),
                performer,
            })
        })
        .collect()
}

/// Whose doses go on a card: every dose of a patient held here, or one visit's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    Patient(String),
    Visit(uuid::Uuid),
}

/// The patient and their doses held here that a card may state (see [`card_doses`]).
pub fn held(
    store: &crate::store::Store,
    which: &Held,
    organization: &str,
    now: ClinicTime,
) -> Result<(Fields, Vec<CardDose>), String> {
    let read = |id| {
        store
            .get(id)
            .map_err(|e| e.to_string())?
            .and_then(|stored| stored.visit().ok())
            .ok_or_else(|| format!("visit {id} is not in the database"))
    };
    match which {
        Held::Visit(id) => {
            let visit = read(*id)?;
            let doses = card_doses(&visit, organization, now);
            Ok((visit.patient, doses))
        }
        Held::Patient(mrn) => {
            let patient = store
                .patient(mrn)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no patient with MRN {mrn} is stored here"))?;
            let mut visits: Vec<uuid::Uuid> = store
                .doses_of(mrn)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|d| d.visit)
                .collect();
            visits.sort();
            visits.dedup();
            let mut doses = Vec::new();
            for id in visits {
                doses.extend(card_doses(&read(id)?, organization, now));
            }
            Ok((patient, doses))
        }
    }
}

/// Issues a card of the doses `which` names, held in `store`, signed with the issuer's
/// key kept in its data folder (made on first use).
pub fn issue_held(
    store: &crate::store::Store,
    which: &Held,
    issuer: &Issuer,
    now: ClinicTime,
) -> Result<Card, String> {
    let (patient, doses) = held(store, which, &issuer.organization, now)?;
    let key = IssuerKey::load_or_make(store.data_dir()).map_err(|e| format!("{e:#}"))?;
    issue(&patient, doses, issuer, &key, now)
}

/// Who issues the card: `[card] issuer`, and the clinic's name for the doses given
/// here.
#[derive(Clone, Debug)]
pub struct Issuer {
    pub url: String,
    pub organization: String,
}

/// An issued card.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub jws: String,
    /// The `shc:/` string the QR code holds.
    pub numeric: String,
    pub matrix: qr::Matrix,
    /// The patient's name as on the card, and their birth date.
    pub name: String,
    pub birth_date: NaiveDate,
    /// The doses on the card, oldest first.
    pub doses: Vec<CardDose>,
    /// How many older doses did not fit.
    pub left_out: usize,
}

/// What a card holds, in words: the patient, the doses, and those that did not fit.
pub fn described(card: &Card) -> String {
    let cvx = table(TableId::Cvx);
    let doses: Vec<String> = card
        .doses
        .iter()
        .map(|d| {
            let name = cvx
                .get(&d.cvx)
                .map_or(d.cvx.as_str(), |c| c.display.as_str());
            format!("{} {name}", d.given_on)
        })
        .collect();
    let left_out = match card.left_out {
        0 => String::new(),
        1 => "; 1 older dose did not fit on one QR code".into(),
        n => format!("; {n} older doses did not fit on one QR code"),
    };
    format!(
        "SMART Health Card for {} (born {}): {} dose(s): {}{left_out}",
        card.name,
        card.birth_date,
        card.doses.len(),
        doses.join(", ")
    )
}

/// Issues a card of `doses` for `patient`: the most recent doses that fit one QR
/// code. An error says why there is no card.
pub fn issue(
    patient: &Fields,
    mut doses: Vec<CardDose>,
    issuer: &Issuer,
    key: &IssuerKey,
    now: ClinicTime,
) -> Result<Card, String> {
    let family = patient.get(FieldId::Family).trim();
    let given: Vec<&str> = patient.get(FieldId::Given).split_whitespace().collect();
    let birth_date = parse_date(patient.get(FieldId::BirthDate), now.date_naive())
        .map_err(|_| "the patient has no birth date to put on the card".to_string())?;
    if family.is_empty() {
        return Err("the patient has no family name to put on the card".into());
    }
    doses.sort();
    doses.dedup();
    if doses.is_empty() {
        return Err("no doses given to this patient are held here to put on a card".into());
    }
    let mut name = json!({ "family": family });
    if !given.is_empty() {
        name["given"] = json!(given);
    }
    for skip in 0..doses.len() {
        let on_card = &doses[skip..];
        let payload = credential(&name, birth_date, on_card, issuer, now);
        let jws = jws::sign(payload.to_string().as_bytes(), &key.signing);
        if jws.len() > MOST_JWS {
            continue;
        }
        let numeric = qr::numeric(&jws);
        let Ok(matrix) = qr::matrix(&numeric) else {
            continue;
        };
        return Ok(Card {
            jws,
            numeric,
            matrix,
            name: format!("{} {family}", given.join(" ")).trim().to_string(),
            birth_date,
            doses: on_card.to_vec(),
            left_out: skip,
        });
    }
    Err("not even the most recent dose fits one QR code (a very long name or lot?)".into())
}

/// The credential: the minimal Bundle in a verifiable credential.
fn credential(
    name: &Value,
    birth_date: NaiveDate,
    doses: &[CardDose],
    issuer: &Issuer,
    now: ClinicTime,
) -> Value {
    let mut entries = vec![json!({
        "fullUrl": "resource:0",
        "resource": {"resourceType": "Patient", "name": [name], "birthDate": birth_date.to_string()}
    })];
    for (i, dose) in doses.iter().enumerate() {
        let mut immunization = json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": dose.cvx}]},
            "patient": {"reference": "resource:0"},
            "occurrenceDateTime": dose.given_on.to_string(),
        });
        if let Some(performer) = &dose.performer {
            immunization["performer"] = json!([{"actor": {"display": performer}}]);
        }
        if !dose.lot.is_empty() {
            immunization["lotNumber"] = json!(dose.lot);
        }
        entries.push(json!({"fullUrl": format!("resource:{}", i + 1), "resource": immunization}));
    }
    json!({
        "iss": issuer.url,
        "nbf": now.timestamp(),
        "vc": {
            "type": ["https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization"],
            "credentialSubject": {
                "fhirVersion": "4.0.1",
                "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": entries}
            }
        }
    })
}
