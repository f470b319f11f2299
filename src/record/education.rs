//! The Vaccine Information Statements a dose is given with: those named in its VIS
//! field (see `vis_field`), or by default those CDC maps to its vaccine; each at the
//! edition named, or the one current on the dose day; given on the VIS-given date, or
//! the dose day. And what can be wrong with them.

use super::fields::FieldId;
use super::finding::{FieldRef, Finding, Rule, Severity, finding};
use super::values::{DoseContext, Value, Values};
pub use super::vis_field::VisGiven;
use crate::codes::vis::{self, Document, MULTI_PEDIATRIC};
use chrono::NaiveDate;

/// The VIS a dose is given with, each with its edition and the day it was given.
/// Empty when the dose has no vaccine, or its vaccine has no VIS and none is named.
pub fn resolve(dose: &Values, ctx: DoseContext) -> Vec<VisGiven> {
    if ctx.not_done || ctx.in_error {
        return Vec::new();
    }
    let named = match dose.get(FieldId::Vis) {
        Value::Vis(list) => list.clone(),
        _ => Vec::new(),
    };
    let edition_field = dose.date(FieldId::VisEdition);
    let typed =
        !named.is_empty() || edition_field.is_some() || dose.date(FieldId::VisPresented).is_some();
    // A historical record has a VIS only if one was typed.
    if !ctx.given_here && !typed {
        return Vec::new();
    }
    let day = dose.date(FieldId::Administered);
    let presented = dose.date(FieldId::VisPresented).or(day);
    let list = if named.is_empty() {
        let cvx = dose.code(FieldId::Vaccine).map(|c| c.code.as_str());
        usual_set(cvx.unwrap_or_default(), edition_field)
            .into_iter()
            .map(|document| VisGiven {
                document,
                edition: None,
                own_edition: false,
                presented: None,
            })
            .collect()
    } else {
        named
    };
    list.into_iter()
        .filter_map(|mut g| {
            g.edition = g
                .edition
                .or(edition_field)
                .or_else(|| day.and_then(|d| g.document.edition_on(d)).map(|e| e.date));
            g.presented = presented;
            g.edition.map(|_| g)
        })
        .collect()
}

/// The VIS a dose as typed is given with: for the form, which shows them before the
/// visit is interpreted, and for the station's habits.
pub fn of_dose(dose: &super::Fields, now: crate::clock::ClinicTime) -> Vec<VisGiven> {
    let fields = [
        FieldId::Vaccine,
        FieldId::Administered,
        FieldId::Vis,
        FieldId::VisEdition,
        FieldId::VisPresented,
    ];
    let (values, _) = super::values::parse_fields(dose, fields.into_iter(), now, true);
    resolve(&values, DoseContext::of(dose))
}

/// CDC's VIS for `cvx` when none is named: one per component, or the Multi Pediatric
/// VIS alone when an edition is given that is one of its editions but not one of
/// each component's (a record file written before several VIS could be named).
fn usual_set(cvx: &str, edition: Option<NaiveDate>) -> Vec<&'static Document> {
    let each = vis::usual(cvx);
    let fits = |docs: &[&Document]| {
        edition.is_none_or(|date| docs.iter().all(|d| d.edition(date).is_some()))
    };
    if !fits(&each) && vis::multi_pediatric_covers(cvx) {
        let multi: Vec<&Document> = vis::for_vaccine(cvx)
            .into_iter()
            .filter(|d| d.key == MULTI_PEDIATRIC)
            .collect();
        if fits(&multi) {
            return multi;
        }
    }
    each
}

/// What is wrong with a dose's VIS: a document that is not for its vaccine, a
/// component left out, an edition CDC never published, published after the dose, or
/// replaced before it.
pub fn check(out: &mut Vec<Finding>, i: usize, dose: &Values, given: &[VisGiven]) {
    let Some(vaccine) = dose.code(FieldId::Vaccine) else {
        return;
    };
    let for_vaccine = vis::for_vaccine(&vaccine.code);
    let day = dose.date(FieldId::Administered);
    let named = matches!(dose.get(FieldId::Vis), Value::Vis(list) if !list.is_empty());
    for g in given {
        let doc = g.document;
        if !for_vaccine.is_empty() && !for_vaccine.iter().any(|d| d.key == doc.key) {
            let theirs: Vec<&str> = vis::usual(&vaccine.code)
                .iter()
                .map(|d| d.key.as_str())
                .collect();
            out.push(finding(
                FieldRef::dose(i, FieldId::Vis),
                Severity::Error,
                Rule::VisNotForVaccine,
                format!(
                    "VIS given: {} is not a VIS for CVX {}; its VIS: {} ({})",
                    doc.key,
                    vaccine.code,
                    if theirs.is_empty() {
                        "none current".to_string()
                    } else {
                        theirs.join(", ")
                    },
                    vaccine.display
                ),
            ));
            continue;
        }
        let Some(edition) = g.edition else { continue };
        let field = if g.own_edition {
            FieldId::Vis
        } else {
            FieldId::VisEdition
        };
        let label = field.spec().label;
        if doc.edition(edition).is_none() {
            out.push(finding(
                FieldRef::dose(i, field),
                Severity::Error,
                Rule::VisEditionUnknown,
                format!(
                    "{label}: {edition} is not an edition of the {}; CDC's editions are {}. Check the date printed at the foot of the VIS, or clear it for the current one",
                    doc.said_name(),
                    doc.editions_said()
                ),
            ));
            continue;
        }
        let Some(day) = day else { continue };
        if edition > day {
            out.push(finding(
                FieldRef::dose(i, field),
                Severity::Error,
                Rule::VisEditionUnknown,
                format!(
                    "{label}: the {edition} edition of the {} came out after the dose ({day}); check both dates",
                    doc.said_name()
                ),
            ));
        } else if let Some(newer) = doc.replaced_by(edition, day) {
            out.push(finding(
                FieldRef::dose(i, field),
                Severity::Warning,
                Rule::VisEditionReplaced,
                format!(
                    "{label}: the {edition} edition of the {} was replaced by the {} edition before this dose ({day}); give the current one",
                    doc.said_name(),
                    newer.date
                ),
            ));
        }
    }
    if named {
        check_components(out, i, &vaccine.code, &vaccine.display, given);
    }
}

/// A combination vaccine named with some of its VIS but not all (and not the Multi
/// Pediatric VIS, which stands for them all).
fn check_components(
    out: &mut Vec<Finding>,
    i: usize,
    cvx: &str,
    display: &str,
    given: &[VisGiven],
) {
    let has = |key: &str| given.iter().any(|g| g.document.key == key);
    if has(MULTI_PEDIATRIC) && vis::multi_pediatric_covers(cvx) {
        return;
    }
    let missing: Vec<&str> = vis::usual(cvx)
        .iter()
        .map(|d| d.key.as_str())
        .filter(|key| !has(key))
        .collect();
    if missing.is_empty() {
        return;
    }
    let alternative = if vis::multi_pediatric_covers(cvx) {
        ", or type multi for the Multi Pediatric VIS alone"
    } else {
        ""
    };
    out.push(finding(
        FieldRef::dose(i, FieldId::Vis),
        Severity::Warning,
        Rule::VisMissing,
        format!(
            "VIS given: add {}{alternative} (CVX {cvx}, {display}, has a VIS per component)",
            missing.join(", ")
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn an_old_edition_given_for_a_combination_reads_as_the_multi_pediatric_vis() {
        let multi = usual_set("110", Some(day("2021-10-15")));
        assert_eq!(multi.len(), 1);
        assert_eq!(multi[0].key, MULTI_PEDIATRIC);
        assert_eq!(usual_set("110", None).len(), 3);
        // An edition that fits neither keeps the usual set (and its error).
        assert_eq!(usual_set("110", Some(day("2024-01-31"))).len(), 3);
    }
}
