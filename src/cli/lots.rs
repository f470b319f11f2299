//! `vaxentry lots`: the lot inventory from the shell: what is on hand (soonest expiry
//! first, expired lots marked), and adding or retiring a lot.

use super::UNREADABLE;
use crate::clock::ClinicTime;
use crate::codes::{TableId, ndc, table};
use crate::record::identity::lot_key;
use crate::record::parse::{parse_amount, parse_expiry, parse_ndc};
use crate::store::Store;
use crate::store::lots::Lot;
use anyhow::{Result, bail};
use serde_json::json;
use std::process::ExitCode;

/// The largest single dose a vaccine comes in, in mL (oral rotavirus and typhoid
/// are 2 mL; 5 mL leaves room without taking a vial's whole volume for a dose).
const MOST_ML: f64 = 5.0;

/// Lists the lots on hand (every lot with `all`), of one vaccine or of all.
pub fn list(
    store: &Store,
    vaccine: Option<&str>,
    all: bool,
    as_json: bool,
    now: ClinicTime,
) -> ExitCode {
    let vaccine = match vaccine.map(known_vaccine).transpose() {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let lots = match store.lots(vaccine.as_deref(), all) {
        Ok(lots) => lots,
        Err(e) => return fail(&e),
    };
    let today = now.date_naive().to_string();
    let expired = |lot: &Lot| lot.expired_on(&today);
    if as_json {
        let rows: Vec<_> = lots
            .iter()
            .map(|l| {
                json!({"vaccine": l.vaccine, "lot": l.lot, "manufacturer": l.manufacturer,
                       "expiration": l.expiration, "ndc": ndc::dashed(&l.ndc), "dose_ml": l.dose_ml,
                       "expired": expired(l),
                       "retired": l.retired,
                       "last_used": crate::store::rows::stored_time(l.last_used)})
            })
            .collect();
        out!("{}", serde_json::Value::Array(rows));
        return ExitCode::SUCCESS;
    }
    if lots.is_empty() {
        err!("no lots on hand; saved doses given here add theirs, or `vaxentry lots add`");
        return ExitCode::SUCCESS;
    }
    let cvx = table(TableId::Cvx);
    out!(
        "{:<4} {:<30}  {:<14} {:<4} {:<10} {:<13} {:<5}",
        "CVX",
        "vaccine",
        "lot",
        "MVX",
        "expires",
        "NDC",
        "mL"
    );
    for l in &lots {
        let mark = match (l.retired, expired(l)) {
            (true, _) => "retired",
            (false, true) => "EXPIRED",
            (false, false) => "",
        };
        let name: String = cvx
            .get(&l.vaccine)
            .map(|c| c.display.chars().take(30).collect())
            .unwrap_or_default();
        out!(
            "{:<4} {:<30}  {:<14} {:<4} {:<10} {:<13} {:<5} {mark}",
            l.vaccine,
            name,
            l.lot,
            l.manufacturer,
            if l.expiration.is_empty() {
                "-"
            } else {
                &l.expiration
            },
            ndc::dashed(&l.ndc),
            if l.dose_ml.is_empty() {
                "-"
            } else {
                &l.dose_ml
            }
        );
    }
    ExitCode::SUCCESS
}

/// What `lots add` was given, as typed.
pub struct NewLot<'a> {
    pub vaccine: &'a str,
    pub lot: &'a str,
    pub manufacturer: &'a str,
    pub expires: &'a str,
    pub ndc: Option<&'a str>,
    pub ml: Option<&'a str>,
}

/// Adds a lot (a shipment arrived), after checking each value.
pub fn add(store: &mut Store, new: &NewLot, now: ClinicTime) -> ExitCode {
    let lot = (|| -> Result<Lot> {
        // One lot is one row, however it is typed: upper case, without spaces.
        let lot = lot_key(new.lot);
        if lot.is_empty()
            || lot
                .chars()
                .any(|c| c.is_control() || crate::record::parse::is_bidi_control(c))
        {
            bail!(
                "the lot number is empty or has control characters; give it as printed on the box"
            );
        }
        let manufacturer = new.manufacturer.trim().to_uppercase();
        if table(TableId::Mvx).get(&manufacturer).is_none() {
            bail!(
                "'{}' is not a known MVX code; see `vaxentry codes mvx`",
                new.manufacturer
            );
        }
        let expiration = parse_expiry(new.expires, now.date_naive())
            .map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
        if expiration < now.date_naive() {
            bail!(
                "--expires: lot {lot} expired on {expiration}; only a lot that can still be given goes on hand"
            );
        }
        let ndc = match new.ndc {
            Some(ndc) => parse_ndc(ndc).map_err(|e| anyhow::anyhow!("--ndc: {e}"))?,
            None => String::new(),
        };
        let dose_ml = match new.ml {
            Some(ml) => match parse_amount(ml) {
                Ok(v) if v > 0.0 && v <= MOST_ML => v.to_string(),
                _ => bail!("--ml: '{ml}' is not the volume of one dose; give it in mL, e.g. 0.5"),
            },
            None => String::new(),
        };
        Ok(Lot {
            vaccine: known_vaccine(new.vaccine)?,
            lot,
            manufacturer,
            expiration: expiration.to_string(),
            ndc,
            dose_ml,
            last_used: now.to_utc(),
            retired: false,
        })
    })();
    match lot.and_then(|lot| Ok(store.add_lot(&lot, now).map(|()| lot)?)) {
        Ok(lot) => {
            let volume = match lot.dose_ml.as_str() {
                "" => String::new(),
                ml => format!(", {ml} mL a dose"),
            };
            out!(
                "lot {} of CVX {} on hand, expires {}{volume}",
                lot.lot,
                lot.vaccine,
                lot.expiration
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Takes a lot off hand.
pub fn retire(store: &mut Store, vaccine: &str, lot: &str, now: ClinicTime) -> ExitCode {
    let retired = known_vaccine(vaccine).and_then(|v| Ok(store.retire_lot(&v, lot.trim(), now)?));
    match retired {
        Ok(true) => {
            out!("lot {} of CVX {} retired", lot.trim(), vaccine.trim());
            ExitCode::SUCCESS
        }
        Ok(false) => {
            err!(
                "vaxentry: no lot {} of CVX {} is on hand; see `vaxentry lots`",
                lot.trim(),
                vaccine.trim()
            );
            ExitCode::from(1)
        }
        Err(e) => fail(&e),
    }
}

fn known_vaccine(code: &str) -> Result<String> {
    let code = code.trim();
    match table(TableId::Cvx).get(code) {
        Some(c) => Ok(c.code.clone()),
        None => bail!("'{code}' is not a known CVX code; see `vaxentry codes cvx`"),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    err!("vaxentry lots: {e:#}");
    ExitCode::from(UNREADABLE)
}
