//! The checks that read CDC's tables (NDC, VIS, funding), each one way it fires and
//! one way it does not, and what a dose given with them sends.

mod common;

use common::*;
use serde_json::Value;
use vaxentry::fhir::{SequentialIds, build_bundle};
use vaxentry::record::{FieldId, FieldRef, Finding, Rule, Rules, Severity, Visit, validate};

/// The adult flu example: CVX 140 by PMC, given 2026-10-01.
fn flu() -> Visit {
    example("adult-flu")
}

fn with(mut visit: Visit, fields: &[(FieldId, &str)]) -> Visit {
    for (field, value) in fields {
        visit.doses[0].set(*field, *value);
    }
    visit
}

fn found(visit: &Visit, rule: Rule) -> Option<Finding> {
    validate(visit, now(), Rules::default())
        .into_iter()
        .find(|f| f.rule == rule)
}

fn immunization(visit: &Visit) -> Value {
    let bundle = build_bundle(visit, &settings(), now(), &mut SequentialIds(0)).expect("valid");
    bundle.json["entry"][2]["resource"].clone()
}

#[test]
fn an_ndc_of_another_vaccine_is_an_error_on_the_ndc() {
    let shingrix = with(flu(), &[(FieldId::Ndc, "58160-0823-11")]);
    let f = found(&shingrix, Rule::NdcOtherVaccine).expect("Shingrix is not flu");
    assert_eq!(
        (f.at, f.severity),
        (FieldRef::dose(0, FieldId::Ndc), Severity::Error)
    );
    assert!(
        f.message.contains("Shingrix") && f.message.contains("CVX 187"),
        "{}",
        f.message
    );
    assert!(found(&flu(), Rule::NdcOtherVaccine).is_none());
    // Engerix-B is CVX 43 or 44, by the dose.
    let engerix = |cvx| {
        with(
            flu(),
            &[
                (FieldId::Vaccine, cvx),
                (FieldId::Manufacturer, "SKB"),
                (FieldId::Ndc, "58160-0821-11"),
            ],
        )
    };
    assert!(found(&engerix("43"), Rule::NdcOtherVaccine).is_none());
    assert!(found(&engerix("44"), Rule::NdcOtherVaccine).is_none());
}

#[test]
fn an_unknown_ndc_warns() {
    let invented = with(flu(), &[(FieldId::Ndc, "12345-6789-01")]);
    let f = found(&invented, Rule::NdcUnknown).expect("not CDC's");
    assert_eq!(f.severity, Severity::Warning);
    assert!(found(&flu(), Rule::NdcUnknown).is_none());
}

#[test]
fn an_ndc_off_the_market_on_the_dose_day_warns() {
    // The 2024-25 Fluzone pack, its marketing ended 2025-06-30.
    let old = with(flu(), &[(FieldId::Ndc, "49281-0424-50")]);
    let f = found(&old, Rule::NdcNotMarketed).expect("off the market");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message.contains("2025-06-30") && f.message.contains("2026-10-01"),
        "{}",
        f.message
    );
    let in_season = with(old, &[(FieldId::Administered, "2024-10-01 10:00")]);
    assert!(found(&in_season, Rule::NdcNotMarketed).is_none());
}

#[test]
fn an_ndc_is_typed_any_way_it_is_printed_and_sent_as_its_unit_of_use() {
    for typed in ["49281-0425-50", "49281042550", "49281-425-50"] {
        let visit = with(flu(), &[(FieldId::Ndc, typed)]);
        let ndc = &immunization(&visit)["vaccineCode"]["coding"][1];
        assert_eq!(ndc["system"], "http://hl7.org/fhir/sid/ndc", "{typed}");
        assert_eq!(
            ndc["code"], "49281-0425-88",
            "{typed}: the syringe in the carton"
        );
    }
    // Ten digits without dashes: the one configuration that is a vaccine's.
    let ten = with(flu(), &[(FieldId::Ndc, "4928142550")]);
    assert!(found(&ten, Rule::Unreadable).is_none());
    let nothing = with(flu(), &[(FieldId::Ndc, "9999999999")]);
    let f = found(&nothing, Rule::Unreadable).expect("no configuration is known");
    assert!(f.message.contains("dashes"), "{}", f.message);
}

#[test]
fn a_vis_not_for_the_vaccine_is_an_error() {
    let hep_a = with(flu(), &[(FieldId::Vis, "hepatitis-a")]);
    let f = found(&hep_a, Rule::VisNotForVaccine).expect("not a flu VIS");
    assert_eq!((f.at.field, f.severity), (FieldId::Vis, Severity::Error));
    assert!(f.message.contains("influenza-inactivated"), "{}", f.message);
    let flu_vis = with(flu(), &[(FieldId::Vis, "influenza-inactivated")]);
    assert!(found(&flu_vis, Rule::VisNotForVaccine).is_none());
}

#[test]
fn an_edition_cdc_never_published_is_an_error_and_a_replaced_one_warns() {
    let invented = with(flu(), &[(FieldId::VisEdition, "2023-08-06")]);
    let f = found(&invented, Rule::VisEditionUnknown).expect("not an edition");
    assert_eq!(
        (f.at.field, f.severity),
        (FieldId::VisEdition, Severity::Error)
    );
    assert!(
        f.message.contains("2021-08-06 and 2025-01-31"),
        "{}",
        f.message
    );
    let replaced = with(flu(), &[(FieldId::VisEdition, "2021-08-06")]);
    let f = found(&replaced, Rule::VisEditionReplaced).expect("replaced on 2025-01-31");
    assert_eq!(f.severity, Severity::Warning);
    assert!(found(&replaced, Rule::VisEditionUnknown).is_none());
    let current = with(flu(), &[(FieldId::VisEdition, "2025-01-31")]);
    assert!(found(&current, Rule::VisEditionReplaced).is_none());
    assert!(found(&current, Rule::VisEditionUnknown).is_none());
    // An edition named with its VIS is checked at the VIS field.
    let own = with(flu(), &[(FieldId::Vis, "influenza-inactivated@2023-08-06")]);
    assert_eq!(
        found(&own, Rule::VisEditionUnknown).unwrap().at.field,
        FieldId::Vis
    );
    // An edition that came out after the dose cannot have been given.
    let later = with(current, &[(FieldId::Administered, "2024-12-01 10:00")]);
    assert!(
        found(&later, Rule::VisEditionUnknown)
            .unwrap()
            .message
            .contains("after the dose")
    );
}

#[test]
fn a_combination_vaccine_named_with_some_of_its_vis_warns() {
    let child = example("child-four-doses");
    assert!(
        found(&child, Rule::VisMissing).is_none(),
        "CDC's by default"
    );
    let partly = with(child.clone(), &[(FieldId::Vis, "dtap, polio")]);
    let f = found(&partly, Rule::VisMissing).expect("no Hep B VIS");
    assert!(
        f.message
            .starts_with("VIS given: add hepatitis-b, or type multi"),
        "{}",
        f.message
    );
    for whole in ["dtap, hepatitis-b, polio", "multi-pediatric", "multi"] {
        assert!(
            found(
                &with(child.clone(), &[(FieldId::Vis, whole)]),
                Rule::VisMissing
            )
            .is_none(),
            "{whole}"
        );
    }
}

#[test]
fn funding_goes_with_the_vfc_eligibility_by_cdcs_links() {
    let private_vfc = with(
        flu(),
        &[(FieldId::Funding, "PHC70"), (FieldId::Eligibility, "V02")],
    );
    let f = found(&private_vfc, Rule::FundingEligibility).expect("private funds go with V01");
    assert_eq!(
        (f.at.field, f.severity),
        (FieldId::Funding, Severity::Warning)
    );
    assert!(
        found(&flu(), Rule::FundingEligibility).is_none(),
        "PHC70 with V01"
    );
    let vfc_for_insured = with(
        flu(),
        &[(FieldId::Funding, "VXC51"), (FieldId::Eligibility, "V01")],
    );
    assert_eq!(
        found(&vfc_for_insured, Rule::FundingEligibility)
            .unwrap()
            .severity,
        Severity::Error
    );
    let vfc = with(
        flu(),
        &[(FieldId::Funding, "VXC51"), (FieldId::Eligibility, "V03")],
    );
    assert!(found(&vfc, Rule::FundingEligibility).is_none());
    // The values used before CDC's codes still read, and are sent as CDC's.
    let old = with(flu(), &[(FieldId::Funding, "private")]);
    assert!(found(&old, Rule::Unreadable).is_none());
    let sent = &immunization(&old)["fundingSource"]["coding"];
    assert_eq!(sent[0]["system"], "urn:oid:2.16.840.1.114222.4.5.274");
    assert_eq!(sent[0]["code"], "PHC70");
    assert_eq!(sent[1]["code"], "private", "FHIR's own code beside it");
}

#[test]
fn a_dose_before_the_birth_says_only_that() {
    let early = with(flu(), &[(FieldId::Administered, "1987-03-01 10:00")]);
    let findings = validate(&early, now(), Rules::default());
    assert!(findings.iter().any(|f| f.rule == Rule::GivenBeforeBirth));
    assert!(
        !findings.iter().any(|f| f.rule == Rule::AgeOutOfRange),
        "{findings:#?}"
    );
}

#[test]
fn each_vis_is_one_education_entry_with_cdcs_string_page_edition_and_day() {
    let child = example("child-four-doses");
    let bundle = build_bundle(&child, &settings(), now(), &mut SequentialIds(0)).unwrap();
    let dtap_hepb_ipv = &bundle.json["entry"][2]["resource"]["education"];
    let types: Vec<&str> = dtap_hepb_ipv
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["documentType"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 3, "DTaP, Hep B and Polio: {dtap_hepb_ipv:#}");
    for entry in dtap_hepb_ipv.as_array().unwrap() {
        assert!(
            entry["reference"]
                .as_str()
                .unwrap()
                .starts_with("https://www.cdc.gov/")
        );
        assert_eq!(entry["presentationDate"], "2026-11-24");
    }
    let multi = with(child, &[(FieldId::Vis, "multi-pediatric")]);
    let education = &immunization(&multi)["education"];
    assert_eq!(education.as_array().unwrap().len(), 1);
    assert_eq!(education[0]["documentType"], "253088698300026411230724");
    assert_eq!(education[0]["publicationDate"], "2023-07-24");
    // An old record file's one edition for a combination: the Multi Pediatric VIS.
    let old = with(
        example("child-four-doses"),
        &[(FieldId::VisEdition, "2021-10-15")],
    );
    let education = &immunization(&old)["education"];
    assert_eq!(education[0]["documentType"], "253088698300026411211015");
}
