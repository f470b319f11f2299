//! The lot inventory: each lot of each vaccine this clinic has given from (recorded by
//! every saved dose given here) or added by hand when a shipment arrives, with its
//! maker, expiry and NDC, until it is retired. Shared by every station that uses the
//! data folder, and kept across sessions.

use super::rows::StoredTime;
use super::{Store, stamp};
use crate::clock::ClinicTime;
use crate::record::identity::lot_key;
use crate::record::parse::{parse_amount, parse_expiry, parse_ndc};
use crate::record::values::DoseContext;
use crate::record::{FieldId, Visit};
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

/// One lot.
#[derive(Clone, Debug, PartialEq)]
pub struct Lot {
    /// The CVX code.
    pub vaccine: String,
    pub lot: String,
    /// The MVX code.
    pub manufacturer: String,
    /// YYYY-MM-DD, or empty when not known.
    pub expiration: String,
    /// The 11-digit NDC, or empty.
    pub ndc: String,
    /// The volume of one dose in mL (`0.5`), or empty when not known.
    pub dose_ml: String,
    pub last_used: DateTime<Utc>,
    pub retired: bool,
}

impl Lot {
    /// Whether it had expired by `day` (YYYY-MM-DD): its expiry is before it. A lot of
    /// unknown expiry has not.
    pub fn expired_on(&self, day: &str) -> bool {
        !self.expiration.is_empty() && self.expiration.as_str() < day
    }

    /// Whether a dose can be given from it on `day`: on hand and not expired.
    pub fn usable_on(&self, day: &str) -> bool {
        !self.retired && !self.expired_on(day)
    }
}

impl From<&Lot> for crate::record::stock::OnHand {
    fn from(lot: &Lot) -> Self {
        crate::record::stock::OnHand {
            vaccine: lot.vaccine.clone(),
            lot: lot.lot.clone(),
            expiration: chrono::NaiveDate::parse_from_str(&lot.expiration, "%Y-%m-%d").ok(),
            retired: lot.retired,
        }
    }
}

/// Records the lots of the doses of `visit` given here (not doses given elsewhere,
/// nor ones not given). A lot the inventory has is only marked used: a save never
/// blanks or changes its maker, expiry, NDC or dose volume, nor puts a retired lot
/// back on hand (only `lots` does); what it lacks (an NDC, a volume) is filled in. A lot it does not have is
/// added, and only with its maker and expiry, so every lot on hand can be checked.
pub(super) fn record_used(conn: &Connection, visit: &Visit, now: ClinicTime) -> Result<()> {
    for dose in &visit.doses {
        let ctx = DoseContext::of(dose);
        let lot = lot_key(dose.get(FieldId::Lot));
        if lot.is_empty() || !ctx.given_here || ctx.not_done || ctx.in_error {
            continue;
        }
        let vaccine = dose.get(FieldId::Vaccine).trim();
        let manufacturer = dose.get(FieldId::Manufacturer).trim();
        let expiration = parse_expiry(dose.get(FieldId::Expiration), now.date_naive())
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        // As the NDC is kept (11 digits), so one lot has one NDC however typed.
        let ndc = parse_ndc(dose.get(FieldId::Ndc)).unwrap_or_default();
        let dose_ml = parse_amount(dose.get(FieldId::Amount))
            .ok()
            .filter(|ml| *ml > 0.0)
            .map(|ml| ml.to_string())
            .unwrap_or_default();
        let used = conn.execute(
            "UPDATE lots SET last_used = ?3,
                 manufacturer = CASE WHEN manufacturer = '' THEN ?4 ELSE manufacturer END,
                 expiration = CASE WHEN expiration = '' THEN ?5 ELSE expiration END,
                 ndc = CASE WHEN ndc = '' THEN ?6 ELSE ndc END,
                 dose_ml = CASE WHEN dose_ml = '' THEN ?7 ELSE dose_ml END
             WHERE vaccine = ?1 AND lot = ?2",
            params![
                vaccine,
                lot,
                stamp(now),
                manufacturer,
                expiration,
                ndc,
                dose_ml
            ],
        )?;
        if used == 0 && !manufacturer.is_empty() && !expiration.is_empty() {
            conn.execute(
                "INSERT INTO lots (vaccine, lot, manufacturer, expiration, ndc, dose_ml, last_used, retired_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
                params![vaccine, lot, manufacturer, expiration, ndc, dose_ml, stamp(now)],
            )?;
        }
    }
    Ok(())
}

/// Adds a lot, or updates every fact of it and puts it back on hand: what `lots add`
/// does when a shipment arrives, the one place that changes a lot. An NDC or volume
/// not given keeps the one known.
fn upsert(conn: &Connection, lot: &Lot, now: ClinicTime) -> Result<()> {
    conn.execute(
        "INSERT INTO lots (vaccine, lot, manufacturer, expiration, ndc, dose_ml, last_used, retired_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)
         ON CONFLICT(vaccine, lot) DO UPDATE SET manufacturer = ?3, expiration = ?4,
             ndc = CASE WHEN ?5 = '' THEN lots.ndc ELSE ?5 END,
             dose_ml = CASE WHEN ?6 = '' THEN lots.dose_ml ELSE ?6 END,
             last_used = ?7, retired_at = NULL",
        params![
            lot.vaccine,
            lot.lot,
            lot.manufacturer,
            lot.expiration,
            lot.ndc,
            lot.dose_ml,
            stamp(now)
        ],
    )?;
    Ok(())
}

impl Store {
    /// The lots on hand (with `retired`, every lot), of one vaccine or all: soonest
    /// expiry first (unknown expiry last), then by vaccine and lot.
    pub fn lots(&self, vaccine: Option<&str>, retired: bool) -> super::Result<Vec<Lot>> {
        let result = (|| -> Result<Vec<Lot>> {
            let mut stmt = self.conn.prepare(
                "SELECT vaccine, lot, manufacturer, expiration, ndc, dose_ml, last_used, retired_at IS NOT NULL AS retired
                 FROM lots WHERE (?1 IS NULL OR vaccine = ?1) AND (?2 OR retired_at IS NULL)
                 ORDER BY expiration = '', expiration, vaccine, lot",
            )?;
            let lots = stmt
                .query_map(params![vaccine, retired], |r| {
                    Ok(Lot {
                        vaccine: r.get("vaccine")?,
                        lot: r.get("lot")?,
                        manufacturer: r.get("manufacturer")?,
                        expiration: r.get("expiration")?,
                        ndc: r.get("ndc")?,
                        dose_ml: r.get("dose_ml")?,
                        last_used: r.get::<_, StoredTime>("last_used")?.0,
                        retired: r.get("retired")?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(lots)
        })();
        self.checked(result)
    }

    /// Adds a lot to the inventory (a shipment arrived), or updates it; on hand again
    /// if it had been retired. The values are checked by the caller.
    pub fn add_lot(&mut self, lot: &Lot, now: ClinicTime) -> super::Result<()> {
        let result = upsert(&self.conn, lot, now);
        self.checked(result)
    }

    /// Takes a lot off hand (used up, expired, recalled); it stays known. Returns
    /// whether there was such a lot on hand.
    pub fn retire_lot(&mut self, vaccine: &str, lot: &str, now: ClinicTime) -> super::Result<bool> {
        let result = self.conn.execute(
            "UPDATE lots SET retired_at = ?3 WHERE vaccine = ?1 AND lot = ?2 AND retired_at IS NULL",
            params![vaccine, lot, stamp(now)],
        );
        result
            .map(|changed| changed > 0)
            .map_err(|e| super::Error::in_file(&self.path(), e.into()))
    }
}
