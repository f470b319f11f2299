//! Receiving records: FHIR Bundles of every kind read into received visits, one per
//! Patient and date; the same bundle again makes nothing new; an entered-in-error
//! dose voids the one received before; this station's own records are recognised;
//! what cannot be read is named with its path; received visits are never sent.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use uuid::Uuid;
use vaxentry::fhir::message_for;
use vaxentry::fhir::received::read_bundle;
use vaxentry::record::FieldId;
use vaxentry::record::identity::dose_keys;
use vaxentry::store::received::Kept;
use vaxentry::store::{Store, VisitState};

fn tempdir() -> PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-receive-{}", Uuid::new_v4()))
}

/// The message vaxentry makes for an example, as another station would export it.
fn exported(name: &str) -> String {
    message_for(&example(name), &settings(), now(), Uuid::new_v4())
        .unwrap()
        .json
}

fn receive(store: &mut Store, text: &str) -> Vec<Kept> {
    let read = read_bundle(text, &settings()).unwrap();
    assert!(read.left_out.is_empty(), "{:#?}", read.left_out);
    read.visits
        .iter()
        .map(|v| store.receive(v, text, "file test.json", now()).unwrap())
        .collect()
}

/// What a registry matches doses by: patient, vaccine, day, lot.
fn doses_of(visit: &vaxentry::record::Visit) -> Vec<String> {
    let mut keys: Vec<String> = dose_keys(visit, now())
        .into_iter()
        .map(|(_, k)| format!("{} {} {} {}", k.mrn, k.vaccine, k.given_on, k.lot))
        .collect();
    keys.sort();
    keys
}

#[test]
fn bundles_exported_on_one_station_are_received_on_another_with_the_same_doses() {
    let mut store = Store::open(&tempdir()).unwrap();
    for name in EXAMPLES {
        let kept = receive(&mut store, &exported(name));
        let mut received = Vec::new();
        for k in &kept {
            let Kept::New(id) = k else {
                panic!("{name}: {k:?}")
            };
            let stored = store.get(*id).unwrap().unwrap();
            assert_eq!(stored.row.state, VisitState::Received);
            received.extend(doses_of(&stored.visit().unwrap()));
        }
        received.sort();
        assert_eq!(received, doses_of(&example(name)), "{name}");
    }
    // The patient and their doses are found as a returning patient's.
    let patient = store.patient("MRN-004211").unwrap().unwrap();
    assert_eq!(patient.get(FieldId::Family), "Lindqvist");
    assert_eq!(store.doses_of("MRN-118832").unwrap().len(), 4);
    // Never sent from here.
    let any = store.list(&Default::default()).unwrap()[0].id;
    let refused = store.queue(any, now()).unwrap_err().to_string();
    assert!(refused.contains("received from elsewhere"), "{refused}");
}

#[test]
fn the_same_bundle_again_makes_nothing_new_and_one_of_ours_is_recognised() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let text = exported("child-four-doses");
    let first = receive(&mut store, &text);
    let again = receive(&mut store, &text);
    let [Kept::New(id)] = first.as_slice() else {
        panic!("{first:?}")
    };
    assert_eq!(again, [Kept::Known(*id)]);
    // The same doses in another bundle (new Bundle.id): known by their identifiers.
    let mut other: Value = serde_json::from_str(&text).unwrap();
    other["id"] = json!(Uuid::new_v4().to_string());
    assert_eq!(receive(&mut store, &other.to_string()), [Kept::Known(*id)]);
    assert_eq!(store.count().unwrap(), 1);
    // A visit saved here, sent out and coming back: recognised, not doubled.
    let visit = example("adult-flu");
    let own_id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), own_id).unwrap();
    store.save(own_id, &visit, &message, now()).unwrap();
    assert_eq!(receive(&mut store, &message.json), [Kept::Own(own_id)]);
    assert_eq!(store.count().unwrap(), 2);
}

#[test]
fn a_dose_received_as_entered_in_error_voids_the_one_received_before() {
    let mut store = Store::open(&tempdir()).unwrap();
    let text = exported("child-four-doses");
    let kept = receive(&mut store, &text);
    let [Kept::New(id)] = kept.as_slice() else {
        panic!("{kept:?}")
    };
    let mut void: Value = serde_json::from_str(&text).unwrap();
    void["id"] = json!(Uuid::new_v4().to_string());
    for entry in void["entry"].as_array_mut().unwrap() {
        // Hib entered in error; the others come again as they were.
        if entry["resource"]["resourceType"] == "Immunization"
            && entry["resource"]["vaccineCode"]["coding"][0]["code"] == "48"
        {
            entry["resource"]["status"] = json!("entered-in-error");
        }
    }
    assert_eq!(receive(&mut store, &void.to_string()), [Kept::Voided(1)]);
    let stored = store.get(*id).unwrap().unwrap().visit().unwrap();
    let statuses: Vec<&str> = stored
        .doses
        .iter()
        .map(|d| d.get(FieldId::Status))
        .collect();
    assert_eq!(
        statuses,
        ["completed", "entered-in-error", "completed", "completed"]
    );
    assert_eq!(store.doses_of("MRN-118832").unwrap().len(), 3);
    assert_eq!(
        store.versions(*id).unwrap().len(),
        2,
        "received, then voided"
    );
    // Again: nothing more to void.
    assert_eq!(receive(&mut store, &void.to_string()), [Kept::Known(*id)]);
}

/// A hand-made searchset as a FHIR server answers a search: references as Type/id,
/// the performer as a Practitioner reference, two dates for one patient.
#[test]
fn every_kind_of_bundle_is_read_and_what_cannot_be_is_named_with_its_path() {
    let message: Value = serde_json::from_str(&exported("adult-flu")).unwrap();
    for kind in ["transaction", "batch", "collection", "searchset"] {
        let mut other = message.clone();
        other["type"] = json!(kind);
        let read = read_bundle(&other.to_string(), &settings()).unwrap();
        assert_eq!(read.visits.len(), 1, "{kind}");
        assert_eq!(read.visits[0].visit.doses[0].get(FieldId::Vaccine), "140");
    }
    let searchset = json!({
        "resourceType": "Bundle", "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1",
                "identifier": [{"system": "urn:oid:9.9.9", "value": "EXT-77"}],
                "name": [{"family": "Quint", "given": ["Ola"]}], "birthDate": "2019-04-02",
                "gender": "female", "photo": [{"url": "x"}]}},
            {"resource": {"resourceType": "Practitioner", "id": "dr",
                "name": [{"text": "Ines Baptiste"}]}},
            {"resource": {"resourceType": "Immunization", "id": "i1", "status": "completed",
                "identifier": [{"system": "urn:oid:9.9.8", "value": "A1"}],
                "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
                "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": "2020-05-01",
                "primarySource": false, "lotNumber": "M1",
                "performer": [{"actor": {"reference": "Practitioner/dr"}}],
                "reaction": [{"detail": {"display": "rash"}}]}},
            {"resource": {"resourceType": "Immunization", "id": "i2", "status": "completed",
                "vaccineCode": {"coding": [{"system": "urn:other", "code": "XYZ"}]},
                "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": "2021-05-01"}},
            {"resource": {"resourceType": "Immunization", "id": "i3", "status": "completed",
                "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "21"}]},
                "patient": {"reference": "Patient/nobody"}, "occurrenceDateTime": "2021-05-01"}}
        ]
    });
    let read = read_bundle(&searchset.to_string(), &settings()).unwrap();
    assert_eq!(read.visits.len(), 2, "one per date");
    let first = &read.visits[0];
    assert_eq!(first.visit.patient.get(FieldId::Mrn), "EXT-77");
    assert_eq!(first.visit.patient.get(FieldId::Given), "Ola");
    let dose = &first.visit.doses[0];
    assert_eq!(
        [
            FieldId::Vaccine,
            FieldId::PrimarySource,
            FieldId::Lot,
            FieldId::Performer
        ]
        .map(|f| dose.get(f).to_string()),
        ["03", "no", "M1", "Ines Baptiste"]
    );
    assert_eq!(first.identifiers, [Some("urn:oid:9.9.8|A1".to_string())]);
    assert_eq!(read.visits[1].visit.doses[0].get(FieldId::Vaccine), "");
    let said = read.left_out.join("\n");
    for path in [
        "Bundle.entry[0].resource.photo: not read",
        "Bundle.entry[2].resource.reaction: not read",
        "Bundle.entry[3].resource.vaccineCode",
        "Bundle.entry[4].resource.patient: the Patient it names is not in the bundle",
    ] {
        assert!(said.contains(path), "{path}:\n{said}");
    }
}

#[test]
fn what_is_not_a_record_is_refused_with_the_reason() {
    let no_mrn = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "name": [{"family": "X"}]}},
        {"resource": {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
            "patient": {"reference": "urn:uuid:1"}, "occurrenceDateTime": "2020-05-01"}}]});
    let read = read_bundle(&no_mrn.to_string(), &settings()).unwrap();
    assert!(read.visits.is_empty());
    assert!(
        read.left_out[0].contains("has no MRN"),
        "{:?}",
        read.left_out
    );
    // Control characters in a name are kept out; a huge one is cut to what the field
    // holds, and said.
    let mut hostile: Value = serde_json::from_str(&exported("adult-flu")).unwrap();
    for entry in hostile["entry"].as_array_mut().unwrap() {
        if entry["resource"]["resourceType"] == "Patient" {
            entry["resource"]["name"][0]["family"] = json!("Lind\u{1b}[2Jqvist\u{202e}");
            entry["resource"]["name"][0]["given"] = json!(["A".repeat(100_000)]);
        }
    }
    let read = read_bundle(&hostile.to_string(), &settings()).unwrap();
    let patient = &read.visits[0].visit.patient;
    assert_eq!(patient.get(FieldId::Family), "Lind[2Jqvist");
    assert!(patient.get(FieldId::Given).chars().count() <= 101);
    assert!(
        read.left_out.iter().any(|l| l.contains("cut")),
        "{:?}",
        read.left_out
    );
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(read_bundle(&nested, &settings()).is_err());
    for (text, says) in [
        (r#"{"resourceType": "Patient"}"#, "not a FHIR Bundle"),
        (
            r#"{"resourceType": "Bundle", "type": "history"}"#,
            "holds no records",
        ),
        ("not json", "not a JSON bundle"),
    ] {
        let e = read_bundle(text, &settings()).unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}
