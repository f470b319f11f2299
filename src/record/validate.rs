//! Validation: every rule a visit is checked against, run on every keystroke. Each
//! finding (see `finding`) blocks save and submit if it is an error.

use super::fields::{FIELDS, FieldId, Need, Section};
use super::finding::finding;
pub use super::finding::{FieldRef, Finding, Rule, Severity};
use super::values::{DoseContext, Expectation, Value, Values, parse_fields};
use super::visit::{Fields, Visit};
use crate::clock::ClinicTime;
use crate::codes::{TableId, products, table};
use chrono::{Duration, Months};

/// The clinic's own rules, beyond those every visit follows (from the config).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// A dose given here needs the vaccinator's NPI (`[clinic] require_npi`; some
    /// state registries refuse doses without it).
    pub require_npi: bool,
}

/// A visit whose fields have been parsed, with everything found wrong with it.
#[derive(Clone, Debug)]
pub struct Interpreted {
    pub patient: Values,
    pub doses: Vec<(Values, DoseContext)>,
    pub findings: Vec<Finding>,
}

impl Interpreted {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Checks a visit; `now` is the current local time.
pub fn validate(visit: &Visit, now: ClinicTime, rules: Rules) -> Vec<Finding> {
    interpret(visit, now, rules).findings
}

/// Parses and checks a visit.
pub fn interpret(visit: &Visit, now: ClinicTime, rules: Rules) -> Interpreted {
    let mut out = Vec::new();
    let country = visit.patient.get(FieldId::Country).trim();
    let us = country.is_empty() || country.eq_ignore_ascii_case("US");

    let (patient, problems) = parse_fields(&visit.patient, FieldId::of(Section::Patient), now, us);
    report_parse_problems(&mut out, problems, None);
    for id in FieldId::of(Section::Patient) {
        check_presence(
            &mut out,
            FieldRef::patient(id),
            visit.patient.get(id),
            Expectation::Expected(id.spec().need),
            "",
        );
    }
    check_birth_date(&mut out, &patient, now);
    check_guardian(&mut out, &visit.patient);

    if visit.doses.is_empty() {
        out.push(finding(
            FieldRef::patient(FieldId::Mrn),
            Severity::Error,
            Rule::NoDoses,
            "Doses: the visit has no doses; add one".to_string(),
        ));
    }
    let mut doses = Vec::with_capacity(visit.doses.len());
    for (i, dose) in visit.doses.iter().enumerate() {
        let ctx = DoseContext::of(dose);
        let (mut values, problems) = parse_fields(dose, FieldId::of(Section::Dose), now, us);
        report_parse_problems(&mut out, problems, Some(i));
        let why_not = if ctx.not_done {
            "when the dose was not given"
        } else if ctx.given_here {
            "when the dose was given here"
        } else {
            "for a historical record"
        };
        for id in FieldId::of(Section::Dose) {
            let mut expectation = ctx.expectation(id.spec());
            if id == FieldId::Site && siteless(dose.get(FieldId::Route)) {
                expectation = Expectation::Expected(Need::Optional);
            }
            check_presence(
                &mut out,
                FieldRef::dose(i, id),
                dose.get(id),
                expectation,
                why_not,
            );
        }
        if rules.require_npi
            && ctx.given_here
            && !ctx.not_done
            && dose.get(FieldId::PerformerNpi).trim().is_empty()
        {
            out.push(finding(
                FieldRef::dose(i, FieldId::PerformerNpi),
                Severity::Error,
                Rule::NpiRequired,
                "Given by NPI: this clinic sends the vaccinator's NPI with every dose given here ([clinic] require_npi); fill in their 10-digit NPI".to_string(),
            ));
        }
        let vis = super::education::resolve(&values, ctx);
        super::education::check(&mut out, i, &values, &vis);
        values.set(FieldId::Vis, Value::Vis(vis));
        check_dose(&mut out, i, &values, ctx, &patient, now);
        super::stock::check_ndc(&mut out, i, &values, ctx);
        super::stock::check_funding(&mut out, i, &values);
        check_duplicate_vaccine(&mut out, i, &values, &doses);
        doses.push((values, ctx));
    }
    out.sort_by_key(|f| (f.severity, f.at.dose.map_or(0, |d| d + 1), f.at.field));
    Interpreted {
        patient,
        doses,
        findings: out,
    }
}

/// Routes with no injection site to record (oral drops, nasal spray).
const SITELESS_ROUTES: [&str; 2] = ["PO", "NASINHL"];

/// Whether a dose given by `route` (as typed) has no site to record.
pub fn siteless(route: &str) -> bool {
    crate::codes::table(crate::codes::TableId::Route)
        .get(route.trim())
        .is_some_and(|r| SITELESS_ROUTES.contains(&r.code.as_str()))
}

fn report_parse_problems(
    out: &mut Vec<Finding>,
    problems: Vec<(FieldId, String)>,
    dose: Option<usize>,
) {
    for (field, message) in problems {
        let at = FieldRef { dose, field };
        out.push(finding(
            at,
            Severity::Error,
            Rule::Unreadable,
            format!("{}: {message}", field.spec().label),
        ));
    }
}

fn check_presence(
    out: &mut Vec<Finding>,
    at: FieldRef,
    raw: &str,
    expectation: Expectation,
    why_not: &str,
) {
    let label = at.field.spec().label;
    let length = raw.chars().count();
    let most = at.field.max_len();
    if length > most {
        out.push(finding(
            at,
            Severity::Error,
            Rule::TooLong,
            format!("{label} is {length} characters long; it holds at most {most}, so shorten it"),
        ));
    }
    let empty = raw.trim().is_empty();
    match expectation {
        Expectation::Expected(Need::Required) if empty => {
            out.push(finding(
                at,
                Severity::Error,
                Rule::Required,
                format!("{label} is required; fill it in"),
            ));
        }
        Expectation::Expected(Need::Recommended) if empty => {
            out.push(finding(
                at,
                Severity::Warning,
                Rule::Recommended,
                format!("{label} is empty; registries expect it, so fill it in if you can"),
            ));
        }
        Expectation::NotExpected if !empty => {
            out.push(finding(at, Severity::Warning, Rule::NotExpected, format!("{label} is not used {why_not}; it will not be sent, so clear it or check the status")));
        }
        _ => {}
    }
}

/// A guardian's details need the guardian's family name, which names them.
fn check_guardian(out: &mut Vec<Finding>, patient: &Fields) {
    let given = [
        FieldId::GuardianGiven,
        FieldId::GuardianRelationship,
        FieldId::GuardianPhone,
    ]
    .iter()
    .any(|f| !patient.get(*f).trim().is_empty());
    if given && patient.get(FieldId::GuardianFamily).trim().is_empty() {
        out.push(finding(
            FieldRef::patient(FieldId::GuardianFamily),
            Severity::Error,
            Rule::GuardianWithoutName,
            "Guardian family: the guardian's other details need their family name; type it, or clear the others".to_string(),
        ));
    }
}

fn check_birth_date(out: &mut Vec<Finding>, patient: &Values, now: ClinicTime) {
    let Some(birth) = patient.date(FieldId::BirthDate) else {
        return;
    };
    let today = now.date_naive();
    let at = FieldRef::patient(FieldId::BirthDate);
    if birth > today {
        out.push(finding(
            at,
            Severity::Error,
            Rule::BirthInFuture,
            format!("Birth date {birth} is in the future; check the year"),
        ));
    } else if today
        .checked_sub_months(Months::new(125 * 12))
        .is_some_and(|limit| birth < limit)
    {
        out.push(finding(
            at,
            Severity::Error,
            Rule::BirthTooLongAgo,
            format!("Birth date {birth} is more than 125 years ago; check the year"),
        ));
    }
}

fn check_dose(
    out: &mut Vec<Finding>,
    i: usize,
    dose: &Values,
    ctx: DoseContext,
    patient: &Values,
    now: ClinicTime,
) {
    let today = now.date_naive();
    if let Value::DateTime(given) = dose.get(FieldId::Administered) {
        let at = FieldRef::dose(i, FieldId::Administered);
        let in_future = match given {
            super::parse::EnteredDateTime::Date(d) => *d > today,
            super::parse::EnteredDateTime::At(t) => *t > now + Duration::minutes(5),
        };
        if in_future {
            out.push(finding(at, Severity::Error, Rule::GivenInFuture, format!("Administered {} is in the future; a dose can only be recorded after it is given", given.to_display())));
        }
        if let Some(birth) = patient
            .date(FieldId::BirthDate)
            .filter(|b| given.date() < *b)
        {
            out.push(finding(
                at,
                Severity::Error,
                Rule::GivenBeforeBirth,
                format!(
                    "Administered {} is before the birth date {birth}; check both dates",
                    given.date()
                ),
            ));
        }
        let expires = dose.date(FieldId::Expiration).filter(|_| !ctx.not_done);
        if let Some(expires) = expires.filter(|e| *e < given.date()) {
            out.push(finding(FieldRef::dose(i, FieldId::Expiration), Severity::Error, Rule::ExpiredProduct, format!("Expiration date: the product expired on {expires}, before it was given on {}; check the date, and do not give expired vaccine", given.date())));
        }
        if let Some(presented) = dose
            .date(FieldId::VisPresented)
            .filter(|p| *p > given.date() && !ctx.not_done)
        {
            out.push(finding(FieldRef::dose(i, FieldId::VisPresented), Severity::Warning, Rule::VisPresentedAfterDose, format!("VIS given on: the VIS was given on {presented}, after the dose; the VIS is given before vaccinating")));
        }
    }
    if let Some(code) = dose
        .code(FieldId::Vaccine)
        .filter(|c| !c.active && ctx.given_here && !ctx.not_done)
    {
        out.push(finding(FieldRef::dose(i, FieldId::Vaccine), Severity::Warning, Rule::InactiveVaccine, format!("Vaccine: CVX {} ({}) is inactive: it is no longer given in the US; pick the current product unless this is an old record", code.code, code.display)));
    }
    check_product(out, i, dose, ctx, patient);
    if let Some(code) = dose
        .code(FieldId::Vaccine)
        .filter(|c| c.non_us && ctx.given_here && !ctx.not_done)
    {
        out.push(finding(FieldRef::dose(i, FieldId::Vaccine), Severity::Warning, Rule::NonUsVaccine, format!("Vaccine: CVX {} ({}) is not a US product: check the vaccine, or set Given here to no if the dose was given abroad", code.code, code.display)));
    }
    // Other coded fields: a code CDC no longer uses (the vaccine has its own rule).
    for spec in FIELDS
        .iter()
        .filter(|f| f.section == Section::Dose && f.id != FieldId::Vaccine)
    {
        if let Some(code) = dose.code(spec.id).filter(|c| !c.active) {
            out.push(finding(
                FieldRef::dose(i, spec.id),
                Severity::Warning,
                Rule::InactiveCode,
                format!(
                    "{}: {} ({}) is no longer in use; pick a current code",
                    spec.label, code.code, code.display
                ),
            ));
        }
    }
    if let Value::Amount(ml) = dose.get(FieldId::Amount)
        && !(*ml > 0.0 && *ml <= 10.0)
    {
        out.push(finding(FieldRef::dose(i, FieldId::Amount), Severity::Error, Rule::AmountOutOfRange, format!("Dose (mL): a dose of {ml} mL is not possible; type the amount in mL, more than 0 and at most 10 (most doses are 0.5)")));
    }
}

/// The product fits the patient's age on the day, and the manufacturer makes it.
fn check_product(
    out: &mut Vec<Finding>,
    i: usize,
    dose: &Values,
    ctx: DoseContext,
    patient: &Values,
) {
    let Some(vaccine) = dose.code(FieldId::Vaccine) else {
        return;
    };
    let Some(product) = products::product(&vaccine.code) else {
        return;
    };
    if ctx.not_done || ctx.in_error {
        return;
    }
    let dates = (
        patient.date(FieldId::BirthDate),
        dose.date(FieldId::Administered),
    );
    // A dose dated before the birth has its own error, and no age to compare.
    if let (Some(ages), (Some(birth), Some(on))) = (product.ages, dates)
        && on >= birth
        && !ages.fits(birth, on)
    {
        // Given here it is a mistake to fix; on an old record it is worth a look.
        let severity = if ctx.given_here {
            Severity::Error
        } else {
            Severity::Warning
        };
        let what = if ctx.given_here {
            "pick the product for their age"
        } else {
            "check the record"
        };
        out.push(finding(
            FieldRef::dose(i, FieldId::Vaccine),
            severity,
            Rule::AgeOutOfRange,
            format!(
                "Vaccine: CVX {} ({}) is for ages {}; the patient was {} on {on}; {what}",
                vaccine.code,
                vaccine.display,
                ages.label(),
                products::age_text(birth, on)
            ),
        ));
    }
    if let Some(maker) = dose.code(FieldId::Manufacturer)
        && !product.makers.is_empty()
        && !product.makers.contains(&maker.code)
    {
        let mvx = table(TableId::Mvx);
        let makers: Vec<String> = product
            .makers
            .iter()
            .map(|m| match mvx.get(m) {
                Some(c) => format!("{} {}", c.code, c.display),
                None => m.clone(),
            })
            .collect();
        out.push(finding(
            FieldRef::dose(i, FieldId::Manufacturer),
            Severity::Warning,
            Rule::ManufacturerMismatch,
            format!(
                "Manufacturer: {} ({}) does not make CVX {} ({}); it is made by {}",
                maker.code,
                maker.display,
                vaccine.code,
                vaccine.display,
                makers.join(", ")
            ),
        ));
    }
}

/// The patient typed against the one stored under the same MRN: a different name,
/// birth date or gender is worth a look before a dose lands on the wrong person.
pub fn check_known_patient(patient: &Fields, known: &Fields, now: ClinicTime) -> Option<Finding> {
    let words = |f: &Fields, id: FieldId| {
        f.get(id)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    // Only an MRN typed so far: nothing to compare yet (the form offers F7 instead).
    if [
        FieldId::Family,
        FieldId::Given,
        FieldId::BirthDate,
        FieldId::Gender,
    ]
    .iter()
    .all(|f| patient.get(*f).trim().is_empty())
    {
        return None;
    }
    let today = now.date_naive();
    let birth = |f: &Fields| super::parse::parse_date(f.get(FieldId::BirthDate), today).ok();
    let differs = words(patient, FieldId::Family) != words(known, FieldId::Family)
        || words(patient, FieldId::Given) != words(known, FieldId::Given)
        || birth(patient) != birth(known)
        || words(patient, FieldId::Gender) != words(known, FieldId::Gender);
    if !differs {
        return None;
    }
    let who = |f: &Fields| {
        let born =
            birth(f).map_or_else(|| f.get(FieldId::BirthDate).to_string(), |d| d.to_string());
        format!(
            "{}, {} ({}, born {born})",
            f.get(FieldId::Family).trim(),
            f.get(FieldId::Given).trim(),
            f.get(FieldId::Gender).trim()
        )
    };
    Some(finding(
        FieldRef::patient(FieldId::Mrn),
        Severity::Warning,
        Rule::MrnConflict,
        format!(
            "MRN: {} is stored for {}, not {}; check the MRN, or press F7 to use the stored patient",
            patient.get(FieldId::Mrn).trim(),
            who(known),
            who(patient)
        ),
    ))
}

fn check_duplicate_vaccine(
    out: &mut Vec<Finding>,
    i: usize,
    dose: &Values,
    earlier: &[(Values, DoseContext)],
) {
    let Some(code) = dose.code(FieldId::Vaccine) else {
        return;
    };
    // A series recorded from a card repeats a vaccine on different dates; only the same
    // vaccine on the same day looks like a double entry.
    let same_day = |d: &Values| match (
        d.date(FieldId::Administered),
        dose.date(FieldId::Administered),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    if let Some(first) = earlier.iter().position(|(d, _)| {
        d.code(FieldId::Vaccine)
            .is_some_and(|c| c.code == code.code)
            && same_day(d)
    }) {
        out.push(finding(FieldRef::dose(i, FieldId::Vaccine), Severity::Warning, Rule::DuplicateVaccine, format!("Vaccine: dose {} is also CVX {} ({}) on the same day; check this is not the same dose entered twice", first + 1, code.code, code.display)));
    }
}
