//! Every validation rule: one case where it fires and one where it does not.

mod common;

use common::*;
use vaxentry::record::{FieldId, FieldRef, Rule, Rules, Severity, Visit, validate};

fn fires(visit: &Visit, rule: Rule, at: FieldRef) -> bool {
    validate(visit, now(), Rules::default())
        .iter()
        .any(|f| f.rule == rule && f.at == at)
}

fn base() -> Visit {
    example("adult-flu")
}

fn p(field: FieldId) -> FieldRef {
    FieldRef::patient(field)
}

fn d(field: FieldId) -> FieldRef {
    FieldRef::dose(0, field)
}

/// Sets one field of the base visit and checks `rule` fires at that field; then
/// with `ok` it must not.
fn check(field: FieldRef, bad: &str, ok: &str, rule: Rule) {
    let set = |value: &str| {
        let mut v = base();
        match field.dose {
            None => v.patient.set(field.field, value),
            Some(i) => v.doses[i].set(field.field, value),
        }
        v
    };
    assert!(
        fires(&set(bad), rule, field),
        "{rule:?} should fire for {field:?} = {bad:?}: {:#?}",
        validate(&set(bad), now(), Rules::default())
    );
    assert!(
        !fires(&set(ok), rule, field),
        "{rule:?} should not fire for {field:?} = {ok:?}"
    );
}

#[test]
fn the_examples_have_no_errors() {
    for name in EXAMPLES {
        let errors: Vec<_> = validate(&example(name), now(), Rules::default())
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn required_fields() {
    check(p(FieldId::Mrn), "", "A1", Rule::Required);
    check(p(FieldId::Family), " ", "Lee", Rule::Required);
    check(p(FieldId::BirthDate), "", "t-400", Rule::Required);
    check(p(FieldId::Gender), "", "male", Rule::Required);
    check(d(FieldId::Vaccine), "", "140", Rule::Required);
    check(d(FieldId::Administered), "", "now", Rule::Required);
    check(d(FieldId::Lot), "", "AB12", Rule::Required);
}

#[test]
fn reason_is_required_only_when_not_done() {
    let mut v = base();
    v.doses[0].set(FieldId::Status, "not-done");
    assert!(fires(&v, Rule::Required, d(FieldId::StatusReason)));
    // A dose not given needs no lot.
    assert!(!fires(&v, Rule::Required, d(FieldId::Lot)));
    v.doses[0].set(FieldId::StatusReason, "PATOBJ");
    assert!(!fires(&v, Rule::Required, d(FieldId::StatusReason)));
    assert!(!fires(&base(), Rule::Required, d(FieldId::StatusReason)));
}

#[test]
fn lot_is_not_required_for_historical_records() {
    let mut v = base();
    v.doses[0].set(FieldId::Lot, "");
    assert!(fires(&v, Rule::Required, d(FieldId::Lot)));
    v.doses[0].set(FieldId::PrimarySource, "no");
    assert!(!fires(&v, Rule::Required, d(FieldId::Lot)));
}

#[test]
fn recommended_fields_warn() {
    check(p(FieldId::Given), "", "Astrid", Rule::Recommended);
    check(d(FieldId::Manufacturer), "", "PMC", Rule::Recommended);
    check(d(FieldId::Site), "", "LA", Rule::Recommended);
    // US Core (us-core-5): the unit-of-use NDC for a dose given here.
    check(d(FieldId::Ndc), "", "49281-0425-50", Rule::Recommended);
    let mut from_a_card = base();
    from_a_card.doses[0].set(FieldId::PrimarySource, "no");
    from_a_card.doses[0].set(FieldId::Ndc, "");
    assert!(
        !fires(&from_a_card, Rule::Recommended, d(FieldId::Ndc)),
        "a historical record seldom has the NDC"
    );
    let mut oral = base();
    oral.doses[0].set(FieldId::Route, "PO");
    oral.doses[0].set(FieldId::Site, "");
    assert!(
        !fires(&oral, Rule::Recommended, d(FieldId::Site)),
        "no site is expected for an oral dose"
    );
    let mut historical = base();
    historical.doses[0].set(FieldId::PrimarySource, "no");
    assert!(fires(
        &historical,
        Rule::Recommended,
        d(FieldId::ReportOrigin)
    ));
    historical.doses[0].set(FieldId::ReportOrigin, "school");
    assert!(!fires(
        &historical,
        Rule::Recommended,
        d(FieldId::ReportOrigin)
    ));
}

#[test]
fn given_only_fields_warn_when_not_done() {
    let mut v = base();
    v.doses[0].set(FieldId::Status, "not-done");
    v.doses[0].set(FieldId::StatusReason, "OSTOCK");
    for field in [FieldId::Lot, FieldId::Site, FieldId::Route, FieldId::Amount] {
        assert!(fires(&v, Rule::NotExpected, d(field)), "{field:?}");
        let findings = validate(&v, now(), Rules::default());
        let f = findings.iter().find(|f| f.at == d(field)).unwrap();
        assert_eq!(f.severity, Severity::Warning);
    }
    assert!(!fires(&base(), Rule::NotExpected, d(FieldId::Lot)));
    check(d(FieldId::StatusReason), "PATOBJ", "", Rule::NotExpected);
}

#[test]
fn unreadable_values() {
    check(
        p(FieldId::BirthDate),
        "13/45/1990",
        "12/31/1990",
        Rule::Unreadable,
    );
    check(
        d(FieldId::Administered),
        "25:99",
        "t 9:30a",
        Rule::Unreadable,
    );
    check(
        d(FieldId::Expiration),
        "next year",
        "t+200",
        Rule::Unreadable,
    );
    check(
        d(FieldId::Vaccine),
        "4242",
        "flu".replace("flu", "141").as_str(),
        Rule::Unreadable,
    );
    check(p(FieldId::Gender), "f?", "female", Rule::Unreadable);
    check(d(FieldId::Amount), "half", "0.5 mL", Rule::Unreadable);
    check(d(FieldId::Ndc), "12345", "49281-0425-50", Rule::Unreadable);
    check(d(FieldId::PrimarySource), "perhaps", "n", Rule::Unreadable);
    check(d(FieldId::DoseNumber), "0", "2", Rule::Unreadable);
    check(p(FieldId::Country), "USA", "CA", Rule::Unreadable);
    check(p(FieldId::State), "ZZ", "ma", Rule::Unreadable);
    check(d(FieldId::Note), "bad\u{7}bell", "fine", Rule::Unreadable);
}

#[test]
fn us_postal_codes_and_phones() {
    check(
        p(FieldId::PostalCode),
        "1234",
        "01101-2345",
        Rule::Unreadable,
    );
    check(
        p(FieldId::Phone),
        "555-0142",
        "413 555 0142",
        Rule::Unreadable,
    );
    let mut abroad = base();
    abroad.patient.set(FieldId::Country, "GB");
    abroad.patient.set(FieldId::PostalCode, "SW1A 1AA");
    abroad.patient.set(FieldId::Phone, "+44 20 7946 0958");
    assert!(!fires(&abroad, Rule::Unreadable, p(FieldId::PostalCode)));
    assert!(!fires(&abroad, Rule::Unreadable, p(FieldId::Phone)));
}

#[test]
fn names_have_no_digits() {
    check(
        p(FieldId::Family),
        "Sm1th",
        "O'Brien-Łukasz",
        Rule::Unreadable,
    );
    check(p(FieldId::Given), "R2 D2", "Thảo Chloë", Rule::Unreadable);
    check(
        d(FieldId::Performer),
        "Nurse 7",
        "Jordan Okafor",
        Rule::Unreadable,
    );
}

#[test]
fn npi_check_digit() {
    check(
        d(FieldId::PerformerNpi),
        "1234567890",
        "1234567893",
        Rule::Unreadable,
    );
}

#[test]
fn birth_date_limits() {
    check(p(FieldId::BirthDate), "t+1", "t", Rule::BirthInFuture);
    check(
        p(FieldId::BirthDate),
        "01/01/1900",
        "11/26/1901",
        Rule::BirthTooLongAgo,
    );
}

#[test]
fn administered_limits() {
    check(d(FieldId::Administered), "t+1", "t", Rule::GivenInFuture);
    check(
        d(FieldId::Administered),
        "15:50",
        "15:34",
        Rule::GivenInFuture,
    );
    check(
        d(FieldId::Administered),
        "03/13/1987",
        "03/14/1987",
        Rule::GivenBeforeBirth,
    );
}

#[test]
fn expired_product_is_an_error() {
    check(
        d(FieldId::Expiration),
        "09/30/2026",
        "10/01/2026",
        Rule::ExpiredProduct,
    );
    let findings = {
        let mut v = base();
        v.doses[0].set(FieldId::Expiration, "09/30/2026");
        validate(&v, now(), Rules::default())
    };
    let f = findings
        .iter()
        .find(|f| f.rule == Rule::ExpiredProduct)
        .unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("expired"));
}

#[test]
fn inactive_vaccine_warns_only_when_given_here() {
    check(d(FieldId::Vaccine), "16", "140", Rule::InactiveVaccine);
    let mut historical = base();
    historical.doses[0].set(FieldId::PrimarySource, "no");
    historical.doses[0].set(FieldId::Vaccine, "16");
    assert!(!fires(
        &historical,
        Rule::InactiveVaccine,
        d(FieldId::Vaccine)
    ));
}

#[test]
fn dose_amount_range() {
    check(d(FieldId::Amount), "0", "0.1", Rule::AmountOutOfRange);
    check(d(FieldId::Amount), "10.5", "10", Rule::AmountOutOfRange);
    check(d(FieldId::Amount), "-1", "2", Rule::AmountOutOfRange);
}

#[test]
fn same_vaccine_twice_on_one_day_warns() {
    let mut v = base();
    v.doses.push(v.doses[0].clone());
    assert!(fires(
        &v,
        Rule::DuplicateVaccine,
        FieldRef::dose(1, FieldId::Vaccine)
    ));
    assert!(!fires(
        &v,
        Rule::DuplicateVaccine,
        FieldRef::dose(0, FieldId::Vaccine)
    ));
    v.doses[1].set(FieldId::Vaccine, "115");
    assert!(!fires(
        &v,
        Rule::DuplicateVaccine,
        FieldRef::dose(1, FieldId::Vaccine)
    ));
    // A series from a card: same vaccine, different days.
    assert!(!fires(
        &example("historical"),
        Rule::DuplicateVaccine,
        FieldRef::dose(1, FieldId::Vaccine)
    ));
}

#[test]
fn vis_is_given_before_the_dose() {
    check(
        d(FieldId::VisPresented),
        "10/02/2026",
        "10/01/2026",
        Rule::VisPresentedAfterDose,
    );
}

#[test]
fn a_visit_needs_a_dose() {
    let mut v = base();
    v.doses.clear();
    assert!(
        validate(&v, now(), Rules::default())
            .iter()
            .any(|f| f.rule == Rule::NoDoses && f.severity == Severity::Error)
    );
    assert!(
        !validate(&base(), now(), Rules::default())
            .iter()
            .any(|f| f.rule == Rule::NoDoses)
    );
}

#[test]
fn messages_name_the_field_and_say_what_to_do() {
    let mut v = base();
    v.patient.set(FieldId::BirthDate, "31/12/1990");
    let f = validate(&v, now(), Rules::default())
        .into_iter()
        .find(|f| f.at == p(FieldId::BirthDate))
        .unwrap();
    assert!(f.message.starts_with("Birth date:"), "{}", f.message);
    assert!(
        f.message.contains("MM/DD/YYYY") || f.message.contains("month"),
        "{}",
        f.message
    );
}

#[test]
fn a_non_us_vaccine_warns_only_when_given_here() {
    check(d(FieldId::Vaccine), "190", "140", Rule::NonUsVaccine);
    let mut abroad = base();
    abroad.doses[0].set(FieldId::Vaccine, "510");
    abroad.doses[0].set(FieldId::PrimarySource, "no");
    assert!(
        !fires(&abroad, Rule::NonUsVaccine, d(FieldId::Vaccine)),
        "a dose given abroad is what the non-US codes are for"
    );
}

#[test]
fn a_code_no_longer_in_use_warns() {
    check(d(FieldId::Eligibility), "V06", "V07", Rule::InactiveCode);
}

#[test]
fn a_dose_entered_in_error_asks_for_nothing_more() {
    let mut v = base();
    v.doses[0].set(FieldId::Status, "entered-in-error");
    v.doses[0].set(FieldId::Lot, "");
    assert!(!fires(&v, Rule::Required, d(FieldId::Lot)));
    let mut given = base();
    given.doses[0].set(FieldId::Lot, "");
    assert!(
        fires(&given, Rule::Required, d(FieldId::Lot)),
        "given here, the lot is needed"
    );
}

#[test]
fn a_product_outside_its_licensed_ages_is_an_error_given_here_and_a_warning_from_a_record() {
    // The base patient was born in 1987: 39 years old on the dose day.
    let at = d(FieldId::Vaccine);
    let with = |cvx: &str, given_here: &str| {
        let mut v = base();
        v.doses[0].set(FieldId::Vaccine, cvx);
        v.doses[0].set(FieldId::Manufacturer, "PFR");
        v.doses[0].set(FieldId::PrimarySource, given_here);
        v
    };
    let found = |v: &Visit| {
        validate(v, now(), Rules::default())
            .into_iter()
            .find(|f| f.rule == Rule::AgeOutOfRange && f.at == at)
    };
    let here = found(&with("308", "yes")).expect("308 is for 6 months to 4 years");
    assert_eq!(here.severity, Severity::Error);
    assert!(
        here.message.contains("6 months–4 years") && here.message.contains("39 years old"),
        "{}",
        here.message
    );
    let record = found(&with("308", "no")).expect("a record is checked too");
    assert_eq!(record.severity, Severity::Warning);
    assert!(
        found(&with("309", "yes")).is_none(),
        "309 is for 12 years and over"
    );
}

#[test]
fn a_manufacturer_that_does_not_make_the_vaccine_warns() {
    check(
        d(FieldId::Manufacturer),
        "MSP",
        "PMC",
        Rule::ManufacturerMismatch,
    );
}

#[test]
fn an_mrn_stored_for_another_patient_warns() {
    let known = base().patient;
    assert!(vaxentry::record::check_known_patient(&known, &known, now()).is_none());
    let mut same = known.clone();
    same.set(FieldId::Family, "  LINDQVIST ");
    same.set(FieldId::BirthDate, "1987-03-14");
    assert!(
        vaxentry::record::check_known_patient(&same, &known, now()).is_none(),
        "case, spacing and date format do not count"
    );
    let mut only_the_mrn = vaxentry::record::Fields::default();
    only_the_mrn.set(FieldId::Mrn, known.get(FieldId::Mrn));
    assert!(
        vaxentry::record::check_known_patient(&only_the_mrn, &known, now()).is_none(),
        "nothing typed to compare yet"
    );
    for (field, other) in [
        (FieldId::Family, "Smith"),
        (FieldId::Given, "Bob"),
        (FieldId::BirthDate, "01/01/1960"),
        (FieldId::Gender, "male"),
    ] {
        let mut typed = known.clone();
        typed.set(field, other);
        let f = vaxentry::record::check_known_patient(&typed, &known, now())
            .unwrap_or_else(|| panic!("{field:?} differs"));
        assert_eq!(
            (f.rule, f.severity, f.at),
            (Rule::MrnConflict, Severity::Warning, p(FieldId::Mrn))
        );
    }
}

#[test]
fn values_longer_than_a_field_holds_are_errors() {
    check(
        p(FieldId::Family),
        &"L".repeat(101),
        &"L".repeat(100),
        Rule::TooLong,
    );
    check(
        d(FieldId::Note),
        &"n".repeat(2001),
        &"n".repeat(2000),
        Rule::TooLong,
    );
}

#[test]
fn names_with_direction_marks_are_refused() {
    check(
        p(FieldId::Family),
        "Lind\u{202E}qvist",
        "Lindqvist",
        Rule::Unreadable,
    );
}

#[test]
fn the_clinic_can_require_the_vaccinators_npi_for_doses_given_here() {
    let require = Rules { require_npi: true };
    let fires_with = |v: &Visit, rules: Rules| {
        validate(v, now(), rules)
            .iter()
            .any(|f| f.rule == Rule::NpiRequired && f.at == d(FieldId::PerformerNpi))
    };
    let mut without = base();
    without.doses[0].set(FieldId::PerformerNpi, "");
    assert!(fires_with(&without, require), "given here, no NPI");
    assert!(!fires_with(&base(), require), "given here, with the NPI");
    assert!(
        !fires_with(&without, Rules::default()),
        "not required by default"
    );
    assert!(
        !fires_with(&example("historical"), require),
        "a historical dose was not given by this clinic"
    );
    assert!(
        !fires_with(&example("not-done-refusal"), require),
        "nor a dose not given"
    );
    // And no message is made without it.
    let mut settings = settings();
    settings.rules = require;
    let err =
        vaxentry::fhir::message_for(&without, &settings, now(), uuid::Uuid::new_v4()).unwrap_err();
    assert!(err.0.iter().any(|f| f.rule == Rule::NpiRequired));
}

#[test]
fn patient_matching_fields_are_checked_as_the_others() {
    check(p(FieldId::BirthOrder), "0", "2", Rule::Unreadable);
    check(p(FieldId::PhoneUse), "fax", "mobile", Rule::Unreadable);
    check(
        p(FieldId::MothersMaidenName),
        "Berg2",
        "Berg",
        Rule::Unreadable,
    );
    check(
        p(FieldId::GuardianPhone),
        "555",
        "(413) 555-0143",
        Rule::Unreadable,
    );
    check(
        p(FieldId::GuardianRelationship),
        "aunt?",
        "MTH",
        Rule::Unreadable,
    );
    // A guardian's details need the guardian's name.
    let mut v = base();
    v.patient.set(FieldId::GuardianRelationship, "MTH");
    assert!(fires(
        &v,
        Rule::GuardianWithoutName,
        p(FieldId::GuardianFamily)
    ));
    v.patient.set(FieldId::GuardianFamily, "Lindqvist");
    assert!(!fires(
        &v,
        Rule::GuardianWithoutName,
        p(FieldId::GuardianFamily)
    ));
}
