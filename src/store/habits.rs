//! How this station gives each vaccine: the amount, route and site of the last dose of
//! it given here, so choosing the vaccine fills them in (the user overtypes them at
//! will). Kept per station (`[clinic] station`), since rooms differ.

use super::{Store, stamp};
use crate::clock::ClinicTime;
use crate::codes::{TableId, table};
use crate::record::values::DoseContext;
use crate::record::{FieldId, Visit};
use anyhow::Result;
use rusqlite::{Connection, params};

/// How a vaccine was last given at this station; empty where it was not recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Habit {
    /// The CVX code.
    pub vaccine: String,
    pub amount: String,
    pub route: String,
    pub site: String,
}

/// Records how the doses of `visit` given here were given (a value left empty keeps
/// the one recorded before).
pub(super) fn record(
    conn: &Connection,
    station: &str,
    visit: &Visit,
    now: ClinicTime,
) -> Result<()> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO dose_habits (station, vaccine, amount, route, site, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (station, vaccine) DO UPDATE SET
            amount = COALESCE(NULLIF(?3, ''), amount),
            route = COALESCE(NULLIF(?4, ''), route),
            site = COALESCE(NULLIF(?5, ''), site),
            updated_at = ?6",
    )?;
    for dose in &visit.doses {
        let ctx = DoseContext::of(dose);
        if !ctx.given_here || ctx.not_done || ctx.in_error {
            continue;
        }
        let Some(vaccine) = table(TableId::Cvx).get(dose.get(FieldId::Vaccine).trim()) else {
            continue;
        };
        let [amount, route, site] =
            [FieldId::Amount, FieldId::Route, FieldId::Site].map(|f| dose.get(f).trim());
        if [amount, route, site].iter().all(|v| v.is_empty()) {
            continue;
        }
        upsert.execute(params![
            station,
            vaccine.code,
            amount,
            route,
            site,
            stamp(now)
        ])?;
    }
    Ok(())
}

impl Store {
    /// How this station last gave each vaccine.
    pub fn habits(&self) -> super::Result<Vec<Habit>> {
        let result = (|| -> Result<Vec<Habit>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT vaccine, amount, route, site FROM dose_habits WHERE station = ?1",
            )?;
            let rows = stmt.query_map([&self.author.station], |r| {
                Ok(Habit {
                    vaccine: r.get("vaccine")?,
                    amount: r.get("amount")?,
                    route: r.get("route")?,
                    site: r.get("site")?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })();
        self.checked(result)
    }
}
