//! Golden bundles for the example visits, each checked against the official FHIR R4
//! JSON schema and the message rules; and generated visits checked the same way.

mod common;

use common::*;
use proptest::prelude::*;
use vaxentry::codes::{TableId, table};
use vaxentry::fhir::{SequentialIds, build_bundle, message_problems, to_json};
use vaxentry::record::{FieldId, Fields, Visit};

fn golden(visit: &Visit, settings: &vaxentry::fhir::BundleSettings) -> String {
    let bundle =
        build_bundle(visit, settings, now(), &mut SequentialIds(0)).expect("example is valid");
    to_json(&bundle)
}

fn assert_valid_message(json: &str) {
    let value: serde_json::Value = serde_json::from_str(json).expect("bundle is JSON");
    let errors = schema_errors(&value);
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    let problems = message_problems(&value);
    assert!(problems.is_empty(), "message problems: {problems:#?}");
}

#[test]
fn golden_bundles_match_and_are_valid() {
    for name in EXAMPLES {
        let json = golden(&example(name), &settings());
        assert_valid_message(&json);
        insta::assert_snapshot!(format!("bundle-{name}"), json);
    }
}

/// With the clinic configured: its Organization (with its identifier) is the message's
/// `responsible`, and the Location named as the clinic carries the facility identifier.
#[test]
fn golden_bundle_with_the_clinic_and_its_identifiers() {
    let config = vaxentry::config::Config::parse(
        "[source]\nname = \"Riverside Family Clinic\"\n[clinic]\norganization_identifier = \"urn:oid:2.16.840.1.113883.3.1234|RFC\"\nfacility_identifier = \"urn:oid:2.16.840.1.113883.3.1234.5|RFC-MAIN\"\n",
    )
    .unwrap();
    let json = golden(&example("adult-flu"), &config.bundle_settings());
    assert_valid_message(&json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entries = value["entry"].as_array().unwrap();
    let of = |kind: &str| {
        entries
            .iter()
            .find(|e| e["resource"]["resourceType"] == kind)
            .unwrap_or_else(|| panic!("a {kind} entry"))
    };
    let (practitioner, location, organization) =
        (of("Practitioner"), of("Location"), of("Organization"));
    let immunization = &of("Immunization")["resource"];
    assert_eq!(
        immunization["performer"][0]["actor"]["reference"],
        practitioner["fullUrl"]
    );
    assert_eq!(immunization["location"]["reference"], location["fullUrl"]);
    assert_eq!(
        entries[0]["resource"]["responsible"]["reference"],
        organization["fullUrl"]
    );
    assert_eq!(
        location["resource"]["managingOrganization"]["reference"],
        organization["fullUrl"]
    );
    assert_eq!(
        practitioner["resource"]["identifier"][0]["value"],
        "1234567893"
    );
    insta::assert_snapshot!("bundle-clinic-resources", json);
}

/// The clinic's staff and places: a vaccinator on the list goes with their name in
/// parts and their NPI however the name was typed; one who is not goes as text
/// (never split at a guess); a listed place gets its identifier whatever its case and
/// spacing.
#[test]
fn golden_bundle_with_the_clinics_staff_and_places() {
    let settings = vaxentry::config::Config::parse(
        "[source]\nname = \"Harbor Health Clinic\"\n[clinic]\nfacility_identifier = \"urn:oid:2.16.840.1.113883.3.1234.5|HHC\"\n[[clinic.staff]]\nprefix = \"Dr.\"\ngiven = \"Maya\"\nfamily = \"Chen\"\nsuffix = \"MD\"\nnpi = \"1234567893\"\n[[clinic.locations]]\nname = \"Harbor Health Annex\"\nidentifier = \"urn:oid:2.16.840.1.113883.3.1234.5|HHA\"\n",
    )
    .unwrap()
    .bundle_settings();
    let mut visit = example("adult-flu");
    visit.doses[0].set(FieldId::Performer, "maya chen");
    visit.doses[0].set(FieldId::PerformerNpi, "");
    visit.doses[0].set(FieldId::Orderer, "Dana Whitfield RN");
    visit.doses[0].set(FieldId::Location, "harbor  health clinic");
    let mut second = visit.doses[0].clone();
    second.set(FieldId::Vaccine, "115");
    second.set(FieldId::Ndc, "");
    second.set(FieldId::Lot, "TD7781");
    second.set(FieldId::Location, "HARBOR HEALTH ANNEX");
    visit.doses.push(second);
    let json = golden(&visit, &settings);
    assert_valid_message(&json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let of = |kind: &str| -> Vec<serde_json::Value> {
        value["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"].clone())
            .filter(|r| r["resourceType"] == kind)
            .collect()
    };
    let people = of("Practitioner");
    assert_eq!(people.len(), 2, "one per person, however often named");
    assert_eq!(
        people[0]["name"][0],
        serde_json::json!({"text": "Dr. Maya Chen, MD", "family": "Chen", "given": ["Maya"], "prefix": ["Dr."], "suffix": ["MD"]})
    );
    assert_eq!(people[0]["identifier"][0]["value"], "1234567893");
    assert_eq!(
        people[1]["name"][0],
        serde_json::json!({"text": "Dana Whitfield RN"})
    );
    let places = of("Location");
    assert_eq!(places.len(), 2);
    assert_eq!(places[0]["name"], "Harbor Health Clinic");
    assert_eq!(places[0]["identifier"][0]["value"], "HHC");
    assert_eq!(places[1]["identifier"][0]["value"], "HHA");
    insta::assert_snapshot!("bundle-staff-and-places", json);
}

/// A patient's Patient.id follows the person (their MRN and its system), not the
/// visit: every visit of one patient sends the same Patient.id.
#[test]
fn a_patient_has_one_id_across_visits() {
    let patient_id = |visit: &Visit, id: u128| {
        let message =
            vaxentry::fhir::message_for(visit, &settings(), now(), uuid::Uuid::from_u128(id))
                .unwrap();
        let json: serde_json::Value = serde_json::from_str(&message.json).unwrap();
        json["entry"][1]["resource"]["id"].clone()
    };
    let visit = example("adult-flu");
    assert_eq!(patient_id(&visit, 1), patient_id(&visit, 2));
    let mut other = visit.clone();
    other.patient.set(FieldId::Mrn, "MRN-000001");
    assert_ne!(patient_id(&visit, 1), patient_id(&other, 1));
    let mut elsewhere = settings();
    elsewhere.mrn_system = "urn:oid:9.9".into();
    let message =
        vaxentry::fhir::message_for(&visit, &elsewhere, now(), uuid::Uuid::from_u128(1)).unwrap();
    assert!(
        !message
            .json
            .contains(patient_id(&visit, 1).as_str().unwrap()),
        "another clinic's MRN is another person"
    );
}

/// The transactions sent to a FHIR server without messaging (`mode = "transaction"`):
/// a first message with the clinic configured (every resource has an identifier to
/// match it by, and each is created only if the server has none by it), and the
/// child's four doses sent again, as an amendment is (each dose replaced by its
/// identifier; performers without an NPI are named only in words).
#[test]
fn golden_transactions_are_valid_and_conditional() {
    let clinic = vaxentry::config::Config::parse(
        "[source]\nname = \"Riverside Family Clinic\"\n[clinic]\norganization_identifier = \"urn:oid:2.16.840.1.113883.3.1234|RFC\"\nfacility_identifier = \"urn:oid:2.16.840.1.113883.3.1234.5|RFC-MAIN\"\n",
    )
    .unwrap()
    .bundle_settings();
    use vaxentry::fhir::transaction::{Sending, transaction_of};
    for (name, example_name, settings, sending) in [
        (
            "bundle-transaction-clinic",
            "adult-flu",
            clinic,
            Sending::First,
        ),
        (
            "bundle-transaction-sent-again",
            "child-four-doses",
            settings(),
            Sending::Again,
        ),
    ] {
        let message: serde_json::Value =
            serde_json::from_str(&golden(&example(example_name), &settings)).unwrap();
        let transaction = transaction_of(&message, sending).unwrap();
        let errors = schema_errors(&transaction);
        assert!(errors.is_empty(), "{name}: schema errors: {errors:#?}");
        for entry in transaction["entry"].as_array().unwrap() {
            let request = &entry["request"];
            let conditional = request["method"] == "PUT"
                && request["url"].as_str().unwrap().contains("?identifier=")
                || request["method"] == "POST"
                    && request["ifNoneExist"]
                        .as_str()
                        .is_some_and(|c| c.starts_with("identifier="));
            assert!(conditional, "{name}: {request}");
        }
        insta::assert_snapshot!(name, format!("{transaction:#}\n"));
    }
}

#[test]
fn generation_is_deterministic_given_clock_and_ids() {
    let visit = example("child-four-doses");
    assert_eq!(golden(&visit, &settings()), golden(&visit, &settings()));
}

#[test]
fn focus_lists_every_immunization_in_order() {
    let json = golden(&example("child-four-doses"), &settings());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let focus: Vec<&str> = v["entry"][0]["resource"]["focus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reference"].as_str().unwrap())
        .collect();
    let immunizations: Vec<&str> = v["entry"].as_array().unwrap()[2..]
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Immunization")
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    assert_eq!(focus, immunizations);
    assert_eq!(focus.len(), 4);
    assert_eq!(v["entry"][1]["resource"]["resourceType"], "Patient");
}

#[test]
fn fields_that_do_not_apply_are_left_out() {
    let mut visit = example("not-done-refusal");
    visit.doses[0].set(FieldId::Lot, "SHOULD-NOT-APPEAR");
    let json = golden(&visit, &settings());
    assert!(!json.contains("SHOULD-NOT-APPEAR"));
    assert!(json.contains("\"status\": \"not-done\""));
    assert!(json.contains("PATOBJ"));
}

#[test]
fn invalid_visit_gives_its_errors_not_a_bundle() {
    let mut visit = example("adult-flu");
    visit.patient.set(FieldId::BirthDate, "02/30/1990");
    let err = build_bundle(&visit, &settings(), now(), &mut SequentialIds(0)).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].at.field, FieldId::BirthDate);
}

fn codes_of(id: TableId, active_only: bool) -> Vec<String> {
    table(id)
        .entries
        .iter()
        .filter(|c| c.active || !active_only)
        .map(|c| c.code.clone())
        .collect()
}

/// US vaccines licensed for the generated patient (born 2000) at every age the
/// generated doses fall on (18 to 26), with a maker that makes each.
fn vaccines_for_young_adults() -> Vec<(String, String)> {
    let birth = chrono::NaiveDate::from_ymd_opt(2000, 1, 2).unwrap();
    let (first, last) = (
        chrono::NaiveDate::from_ymd_opt(2018, 1, 1).unwrap(),
        now().date_naive(),
    );
    table(TableId::Cvx)
        .entries
        .iter()
        .filter(|c| c.active && !c.non_us)
        .filter_map(|c| {
            let product = vaxentry::codes::products::product(&c.code);
            let fits = product
                .and_then(|p| p.ages)
                .is_none_or(|a| a.fits(birth, first) && a.fits(birth, last));
            let maker = product
                .and_then(|p| p.makers.first().cloned())
                .unwrap_or_else(|| "UNK".into());
            fits.then(|| (c.code.clone(), maker))
        })
        .collect()
}

prop_compose! {
    fn name()(s in "[A-Za-zÀ-ÿ' -]{0,12}[A-Za-zÀ-ÿ]", n in 0usize..3) -> String {
        if n == 0 { format!("Łukasz {s}") } else { s }
    }
}

prop_compose! {
    fn dose()(
        (vaccine, mvx) in proptest::sample::select(vaccines_for_young_adults()),
        site in proptest::sample::select(codes_of(TableId::Site, false)),
        route in proptest::sample::select(codes_of(TableId::Route, false)),
        not_done in proptest::bool::weighted(0.2),
        historical in proptest::bool::weighted(0.2),
        lot in "[A-Z0-9]{4,10}",
        // The patient was born in 2000, so every dose falls after birth.
        days_ago in 0i64..3000,
        amount in proptest::sample::select(vec!["0.1", "0.25", "0.5", "1", "2"]),
        dose_number in proptest::option::of(1u32..6),
        note in proptest::option::of("[a-zA-Z0-9 .,]{1,40}"),
        performer in proptest::option::of(name()),
    ) -> Fields {
        let given = now().date_naive() - chrono::Duration::days(days_ago);
        let mut d = Fields::default()
            .with(FieldId::Status, if not_done { "not-done" } else { "completed" })
            .with(FieldId::Vaccine, &vaccine)
            .with(FieldId::Administered, &given.format("%m/%d/%Y").to_string())
            .with(FieldId::PrimarySource, if historical { "no" } else { "yes" });
        if not_done {
            d.set(FieldId::StatusReason, "MEDPREC");
        } else {
            d = d.with(FieldId::Manufacturer, &mvx).with(FieldId::Lot, &lot).with(FieldId::Site, &site)
                .with(FieldId::Route, &route).with(FieldId::Amount, amount)
                .with(FieldId::Expiration, &(given + chrono::Duration::days(90)).to_string());
            if historical { d.set(FieldId::ReportOrigin, "recall"); }
        }
        if let Some(n) = dose_number { d.set(FieldId::DoseNumber, n.to_string()); }
        if let Some(n) = note { d.set(FieldId::Note, n); }
        if let Some(p) = performer { d.set(FieldId::Performer, p); }
        d
    }
}

prop_compose! {
    fn visit()(
        family in name(),
        given in proptest::option::of(name()),
        gender in proptest::sample::select(codes_of(TableId::Gender, false)),
        race in proptest::option::of(proptest::sample::select(codes_of(TableId::Race, false))),
        ethnicity in proptest::option::of(proptest::sample::select(codes_of(TableId::Ethnicity, false))),
        zip in proptest::option::of("[0-9]{5}"),
        doses in proptest::collection::vec(dose(), 1..5),
    ) -> Visit {
        let mut patient = Fields::default()
            .with(FieldId::Mrn, "MRN-1")
            .with(FieldId::Family, &family)
            .with(FieldId::BirthDate, "01/02/2000")
            .with(FieldId::Gender, &gender)
            .with(FieldId::Country, "US");
        if let Some(g) = given { patient.set(FieldId::Given, g); }
        if let Some(r) = race { patient.set(FieldId::Race, r); }
        if let Some(e) = ethnicity { patient.set(FieldId::Ethnicity, e); }
        if let Some(z) = zip { patient.set(FieldId::PostalCode, z); }
        Visit { patient, doses }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn generated_visits_make_schema_valid_messages(visit in visit()) {
        match build_bundle(&visit, &settings(), now(), &mut SequentialIds(0)) {
            Ok(bundle) => assert_valid_message(&to_json(&bundle)),
            Err(invalid) => prop_assert!(false, "generated visit rejected: {:?}", invalid.0),
        }
    }
}

#[test]
fn the_schema_check_rejects_broken_bundles() {
    let json = golden(&example("adult-flu"), &settings());
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["entry"][2]["resource"]["lotNumbr"] = "X".into();
    assert!(
        !schema_errors(&value).is_empty(),
        "an unknown element must fail the schema"
    );
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["entry"][2]["resource"]["primarySource"] = "yes".into();
    assert!(
        !schema_errors(&value).is_empty(),
        "a string where a boolean belongs must fail"
    );
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["entry"][0]["resource"]["focus"][0]["reference"] = "urn:uuid:nowhere".into();
    assert!(
        !message_problems(&value).is_empty(),
        "a dangling focus must fail the message rules"
    );
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["entry"].as_array_mut().unwrap().swap(0, 1);
    assert!(
        !message_problems(&value).is_empty(),
        "the MessageHeader must come first"
    );
}

/// Golden bundle: a live intranasal flu dose (LAIV, CVX 111): route NASINHL with the NCI
/// Thesaurus nasal route beside it, no site.
#[test]
fn golden_intranasal_dose() {
    let mut visit = example("adult-flu");
    let dose = &mut visit.doses[0];
    dose.set(FieldId::Vaccine, "111");
    dose.set(FieldId::Ndc, "");
    dose.set(FieldId::Manufacturer, "MED");
    dose.set(FieldId::Amount, "0.2");
    dose.set(FieldId::Site, "");
    dose.set(FieldId::Route, "NASINHL");
    let json = golden(&visit, &settings());
    assert_valid_message(&json);
    assert!(json.contains("\"code\": \"NASINHL\"") && json.contains("\"code\": \"C38284\""));
    insta::assert_snapshot!("bundle-intranasal", json);
}

/// Golden bundle: two doses on a day the clocks change (New York, 2026-11-01, when
/// 02:00 EDT becomes 01:00 EST): each gets that moment's offset.
#[test]
fn golden_doses_on_a_dst_change_day() {
    let mut visit = example("adult-flu");
    visit.doses[0].set(FieldId::Administered, "2026-11-01 00:30");
    visit.doses[0].set(FieldId::VisPresented, "2026-11-01");
    let mut second = visit.doses[0].clone();
    second.set(FieldId::Vaccine, "115");
    second.set(FieldId::Ndc, "");
    second.set(FieldId::Lot, "TD7781");
    second.set(FieldId::Administered, "2026-11-01 03:00");
    second.set(FieldId::Site, "RA");
    second.set(FieldId::VisEdition, "");
    visit.doses.push(second);
    let json = golden(&visit, &settings());
    assert_valid_message(&json);
    assert!(json.contains("\"occurrenceDateTime\": \"2026-11-01T00:30:00-04:00\""));
    assert!(json.contains("\"occurrenceDateTime\": \"2026-11-01T03:00:00-05:00\""));
    insta::assert_snapshot!("bundle-dst-change-day", json);
}

/// A correction and a void of a sent visit: new Bundle and MessageHeader ids, the same
/// Patient and Immunization ids and identifiers as the first message, `recorded` as
/// the first message said it, and only the doses that changed.
#[test]
fn golden_amended_and_voided_bundles() {
    use vaxentry::fhir::{Correction, message_for, message_sent_again};
    let id = uuid::Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef);
    let later = now() + chrono::Duration::days(2);
    let mut visit = example("child-four-doses");
    let first = message_for(&visit, &settings(), now(), id).unwrap();
    let sent = visit.clone();
    visit.doses[2].set(FieldId::Lot, "CORRECTED1");
    let correction = |sending: u32, before: &vaxentry::record::Visit, last: &str| {
        Correction::after(Some(last), sending - 1, Some(before.clone()))
    };
    let amended = message_sent_again(
        &visit,
        &settings(),
        later,
        id,
        &correction(1, &sent, &first.json),
    )
    .unwrap();
    let amended_record = visit.clone();
    visit.doses[1].set(FieldId::Status, "entered-in-error");
    let voided = message_sent_again(
        &visit,
        &settings(),
        later,
        id,
        &correction(2, &amended_record, &amended.json),
    )
    .unwrap();
    let json =
        |m: &vaxentry::fhir::Message| serde_json::from_str::<serde_json::Value>(&m.json).unwrap();
    let (first, amended_json, voided_json) = (json(&first), json(&amended), json(&voided));
    let records = |b: &serde_json::Value| -> Vec<serde_json::Value> {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == "Patient" || r["resourceType"] == "Immunization")
            .cloned()
            .collect()
    };
    let ids = |r: &serde_json::Value| (r["id"].clone(), r["identifier"].clone());
    for (name, later_json, dose) in [("amended", &amended_json, 2), ("voided", &voided_json, 1)] {
        assert_ne!(later_json["id"], first["id"], "{name}: a new message");
        let sent_again = records(later_json);
        let first_records = records(&first);
        assert_eq!(
            sent_again.len(),
            2,
            "{name}: the Patient and the one dose changed"
        );
        assert_eq!(
            ids(&sent_again[0]),
            ids(&first_records[0]),
            "{name}: the same Patient"
        );
        assert_eq!(
            ids(&sent_again[1]),
            ids(&first_records[1 + dose]),
            "{name}: that dose"
        );
        assert_eq!(
            sent_again[1]["recorded"], first_records[1]["recorded"],
            "{name}: recorded when first captured"
        );
        assert_eq!(
            later_json["entry"][0]["resource"]["focus"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_valid_message(&later_json.to_string());
    }
    assert_eq!(records(&voided_json)[1]["status"], "entered-in-error");
    insta::assert_snapshot!("bundle-amended", amended.json);
    insta::assert_snapshot!("bundle-voided-dose", voided.json);
}

/// What an endpoint holds under a visit's identifiers came from that visit (an
/// amendment reads its own doses back and must not call them duplicates).
#[test]
fn a_visits_own_identifiers_are_told_from_anothers() {
    let visit = example("child-four-doses");
    let (mine, other) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let message = vaxentry::fhir::message_for(&visit, &settings(), now(), mine).unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&message.json).unwrap();
    let identifiers: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Immunization")
        .map(|e| e["resource"]["identifier"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(identifiers.len(), 4);
    for id in identifiers {
        assert!(vaxentry::fhir::is_record_id(mine, id), "{id}");
        assert!(!vaxentry::fhir::is_record_id(other, id), "{id}");
    }
    assert!(
        !vaxentry::fhir::is_record_id(mine, message.bundle_id.as_str()),
        "a message id"
    );
    assert!(!vaxentry::fhir::is_record_id(mine, "not a uuid"));
}
