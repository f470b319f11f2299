//! A dose's product and stock checked against CDC's tables: the NDC against the
//! vaccine, its maker and its marketing dates (the NDC crosswalk), and the funding
//! source against the patient's VFC eligibility (CDC's links between the two).

use super::fields::FieldId;
use super::finding::{FieldRef, Finding, Rule, Severity, finding};
use super::values::{DoseContext, Values};
use crate::codes::{TableId, ndc, table};

/// The NDC: a vaccine's own, made by the maker named, on the market on the day.
pub fn check_ndc(out: &mut Vec<Finding>, i: usize, dose: &Values, ctx: DoseContext) {
    let Some(digits) = dose.text(FieldId::Ndc) else {
        return;
    };
    if ctx.in_error {
        return;
    }
    let at = FieldRef::dose(i, FieldId::Ndc);
    let shown = ndc::dashed(digits);
    let Some(package) = ndc::find(digits) else {
        out.push(finding(
            at,
            Severity::Warning,
            Rule::NdcUnknown,
            format!(
                "NDC: {shown} is not in CDC's list of vaccine NDCs; check it against the package, or clear it"
            ),
        ));
        return;
    };
    if let Some(vaccine) = dose.code(FieldId::Vaccine)
        && !package.cvx.is_empty()
        && !package.is_vaccine(&vaccine.code)
    {
        let cvx = table(TableId::Cvx);
        let theirs: Vec<String> = package
            .cvx
            .iter()
            .map(|c| match cvx.get(c) {
                Some(code) => format!("CVX {} ({})", code.code, code.display),
                None => format!("CVX {c}"),
            })
            .collect();
        out.push(finding(
            at,
            Severity::Error,
            Rule::NdcOtherVaccine,
            format!(
                "NDC: {shown} is {}, {}, not CVX {} ({}); check the vaccine and the package",
                package.name,
                theirs.join(" or "),
                vaccine.code,
                vaccine.display
            ),
        ));
    }
    if let Some(maker) = dose.code(FieldId::Manufacturer)
        && !package.mvx.is_empty()
        && !package.mvx.contains(&maker.code)
    {
        out.push(finding(
            FieldRef::dose(i, FieldId::Manufacturer),
            Severity::Warning,
            Rule::ManufacturerMismatch,
            format!(
                "Manufacturer: NDC {shown} ({}) is made by {}, not {} ({}); check the maker",
                package.name,
                package.mvx.join(", "),
                maker.code,
                maker.display
            ),
        ));
    }
    if let Some(day) = dose.date(FieldId::Administered)
        && !package.marketed_on(day)
    {
        let from = package.start.map_or("?".into(), |d| d.to_string());
        let to = package.end.map_or("now".into(), |d| d.to_string());
        out.push(finding(
            at,
            Severity::Warning,
            Rule::NdcNotMarketed,
            format!(
                "NDC: {shown} ({}) was on the market from {from} to {to}, not on {day}; check the package in hand",
                package.name
            ),
        ));
    }
}

/// The funding source goes with the VFC eligibility, by CDC's links: private funds
/// with V01 (not eligible), VFC stock with V02-V05. VFC stock for a patient who is
/// not eligible is an error; other mismatches are worth a look.
pub fn check_funding(out: &mut Vec<Finding>, i: usize, dose: &Values) {
    let (Some(funding), Some(eligibility)) =
        (dose.code(FieldId::Funding), dose.code(FieldId::Eligibility))
    else {
        return;
    };
    let funding_table = table(TableId::Funding);
    // CDC links some eligibility codes to no funding (V06, V07): nothing to check.
    let linked = funding_table
        .entries
        .iter()
        .any(|f| f.eligibility.contains(&eligibility.code));
    if funding.eligibility.is_empty() || !linked || funding.eligibility.contains(&eligibility.code)
    {
        return;
    }
    let vfc_stock_for_ineligible = funding.code == "VXC51" && eligibility.code == "V01";
    let goes_with: Vec<&str> = funding
        .eligibility
        .iter()
        .map(String::as_str)
        .filter(|c| table(TableId::Eligibility).get(c).is_some())
        .collect();
    let (severity, advice) = if vfc_stock_for_ineligible {
        (
            Severity::Error,
            "VFC vaccine is only for VFC-eligible patients; pick the stock the dose came from, or correct the eligibility",
        )
    } else {
        (
            Severity::Warning,
            "check the stock the dose came from and the patient's eligibility",
        )
    };
    out.push(finding(
        FieldRef::dose(i, FieldId::Funding),
        severity,
        Rule::FundingEligibility,
        format!(
            "Funding: {} ({}) goes with VFC eligibility {}, and this dose says {} ({}); {advice}",
            funding.display,
            funding.code,
            goes_with.join(", "),
            eligibility.code,
            eligibility.display
        ),
    ));
}

/// A lot as the inventory knows it, for [`check_lots`].
#[derive(Clone, Debug, PartialEq)]
pub struct OnHand {
    /// The CVX code.
    pub vaccine: String,
    /// As kept: upper case, no spaces (see `identity::lot_key`).
    pub lot: String,
    pub expiration: Option<chrono::NaiveDate>,
    pub retired: bool,
}

/// A dose given here from a lot the inventory has expired (on the day given) or
/// retired (used up, recalled) is an error on its lot: it cannot have been given from
/// stock that was not there.
pub fn check_lots(
    visit: &super::Visit,
    inventory: &[OnHand],
    now: crate::clock::ClinicTime,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, dose) in visit.doses.iter().enumerate() {
        let ctx = DoseContext::of(dose);
        if !ctx.given_here || ctx.not_done || ctx.in_error {
            continue;
        }
        let key = super::identity::lot_key(dose.get(FieldId::Lot));
        let vaccine = dose.get(FieldId::Vaccine).trim();
        let cvx = |code: &str| table(TableId::Cvx).get(code).map(|c| c.code.as_str());
        let Some(lot) = inventory
            .iter()
            .find(|l| l.lot == key && cvx(&l.vaccine).is_some() && cvx(&l.vaccine) == cvx(vaccine))
        else {
            continue;
        };
        let day = super::parse::parse_datetime(dose.get(FieldId::Administered), now)
            .map(|d| d.date())
            .unwrap_or(now.date_naive());
        let shown = dose.get(FieldId::Lot).trim();
        let why = if lot.retired {
            Some(format!(
                "Lot number: lot {shown} was taken off hand (used up or recalled); pick a lot on hand, or put it back with `vaxentry lots add` if it is still there"
            ))
        } else {
            lot.expiration.filter(|e| *e < day).map(|e| {
                format!("Lot number: lot {shown} expired on {e}, before {day}; pick a lot on hand that has not expired, and do not give expired vaccine")
            })
        };
        if let Some(message) = why {
            out.push(finding(
                FieldRef::dose(i, FieldId::Lot),
                Severity::Error,
                Rule::LotNotOnHand,
                message,
            ));
        }
    }
    out
}
